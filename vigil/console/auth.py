"""Console accounts, roles, server-side sessions, CSRF tokens and login throttling.

Passwords are kept as Argon2 hashes. A session is a random id in an HttpOnly, SameSite=Strict cookie; the
database keeps only a keyed hash of it (so a copy of console.sqlite logs nobody in) with the session's
CSRF token, which every form and every JSON POST must send back."""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from streams.config import VigilSettings
from streams.files import write_atomically
from vigil.console.db import ConsoleDB

ROLES = ("analyst", "operator", "admin")  # each can do what the ones before it can
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_CHARS = 10

Clock = Callable[[], float]


class AccountError(ValueError):
    """A name, role or password that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool = False
    created_at: str = ""

    def has_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: float


def secret_key(settings: VigilSettings) -> bytes:
    """The console's key (created, readable by its owner alone, on first use)."""
    path = Path(settings.console.secret_key_file or settings.data_dir / "console-secret")
    if not path.exists():
        write_atomically(path, secrets.token_hex(32).encode("ascii"), private=True)
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise AccountError(f"the console secret key {path} is shorter than 32 characters: delete it to make a new one")
    return key


def tokens_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class Accounts:
    """The console's users (`vigil users add/list/disable`)."""

    def __init__(self, db: ConsoleDB, hasher: PasswordHasher | None = None):
        self.db = db
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    def add(self, name: str, role: str, password: str) -> User:
        if not NAME_PATTERN.match(name):
            raise AccountError(f"{name!r} is not a usable account name: letters, digits and . _ @ -, at most 64, "
                               "starting with a letter or digit")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        password_hash = self.hasher.hash(password)

        def insert(conn):
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccountError(f"an account {name!r} exists already (`vigil users list`)")
            conn.execute("INSERT INTO users VALUES (?, ?, ?, 0, ?)", (name, password_hash, role, created))
        self.db.write(insert)
        return User(name, role, False, created)

    def get(self, name: str) -> User | None:
        rows = self.db.read("SELECT name, role, disabled, created_at FROM users WHERE name = ?", (name,))
        return User(rows[0][0], rows[0][1], bool(rows[0][2]), rows[0][3]) if rows else None

    def list(self) -> list[User]:
        return [User(name, role, bool(disabled), created) for name, role, disabled, created in
                self.db.read("SELECT name, role, disabled, created_at FROM users ORDER BY name")]

    def disable(self, name: str) -> None:
        """No more logins, and every session of the account ends now."""
        def update(conn):
            if not conn.execute("UPDATE users SET disabled = 1 WHERE name = ?", (name,)).rowcount:
                raise AccountError(f"no account {name!r} (`vigil users list`)")
            conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
        self.db.write(update)

    def verify(self, name: str, password: str) -> User | None:
        """The user if the password is theirs and the account is enabled; else None (in about the same time)."""
        rows = self.db.read("SELECT password_hash FROM users WHERE name = ? AND disabled = 0", (name,))
        if not rows:
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
            try:  # as long as a real check, so that timing does not tell which names exist
                self.hasher.verify(self._dummy_hash, password)
            except VerificationError:
                pass
            return None
        stored = rows[0][0]
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if self.hasher.check_needs_rehash(stored):
            rehashed = self.hasher.hash(password)
            self.db.write(lambda conn: conn.execute("UPDATE users SET password_hash = ? WHERE name = ?",
                                                    (rehashed, name)))
        return self.get(name)


class Sessions:
    def __init__(self, db: ConsoleDB, key: bytes, lifetime_s: float, clock: Clock = time.time):
        self.db = db
        self.key = key
        self.lifetime_s = lifetime_s
        self.clock = clock

    def _hash(self, session_id: str) -> str:
        return hmac.new(self.key, session_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def create(self, user: User, address: str = "") -> str:
        """A new session for the user; returns the id for the cookie (kept nowhere else)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()

        def insert(conn):
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)", (
                self._hash(session_id), user.name, secrets.token_urlsafe(32), now, now + self.lifetime_s, address))
        self.db.write(insert)
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        """The session, if it exists, has not expired and its account is enabled."""
        if not session_id or len(session_id) > 200:
            return None
        rows = self.db.read(
            "SELECT u.name, u.role, u.disabled, u.created_at, s.csrf, s.expires_at FROM sessions s "
            "JOIN users u ON u.name = s.user WHERE s.id_hash = ?", (self._hash(session_id),))
        if not rows:
            return None
        name, role, disabled, created, csrf, expires_at = rows[0]
        if disabled or expires_at < self.clock():
            return None
        return Session(User(name, role, bool(disabled), created), csrf, expires_at)

    def end(self, session_id: str | None) -> None:
        if session_id:
            self.db.write(lambda conn: conn.execute("DELETE FROM sessions WHERE id_hash = ?",
                                                    (self._hash(session_id),)))


class LoginThrottle:
    """At most `attempts` failed logins per account and address in a sliding window; then refused."""

    def __init__(self, db: ConsoleDB, attempts: int, window_s: float, clock: Clock = time.time):
        self.db = db
        self.attempts = attempts
        self.window_s = window_s
        self.clock = clock

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until a login for the account from the address may be tried again (0: now)."""
        since = self.clock() - self.window_s
        rows = self.db.read("SELECT at FROM login_failures WHERE user = ? AND address = ? AND at >= ? "
                            "ORDER BY at DESC LIMIT ?", (user, address, since, self.attempts))
        if len(rows) < self.attempts:
            return 0.0
        return max(0.0, rows[-1][0] + self.window_s - self.clock())

    def failed(self, user: str, address: str) -> None:
        now = self.clock()

        def insert(conn):
            conn.execute("DELETE FROM login_failures WHERE at < ?", (now - self.window_s,))
            conn.execute("INSERT INTO login_failures VALUES (?, ?, ?)", (user, address, now))
        self.db.write(insert)

    def succeeded(self, user: str, address: str) -> None:
        self.db.write(lambda conn: conn.execute("DELETE FROM login_failures WHERE user = ? AND address = ?",
                                                (user, address)))


def read_password_file(path: str | os.PathLike) -> str:
    """The file's first line (a password file from a secrets manager often ends in a newline)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return lines[0] if lines else ""
