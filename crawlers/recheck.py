"""Re-checking flagged URLs: is the page still up? The time a page went offline is recorded on its
document; the share of flagged pages taken down (the removal rate) is a figure analysts report.

One polite GET per URL with the crawler's user agent, robots.txt obeyed, the same address guard as
crawling (every redirect hop checked). 404, 410 and 451 (removed for legal reasons) and a host that no
longer resolves count as offline; timeouts and server errors are "unknown" and never flip a page.
"""
from __future__ import annotations

import socket
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from crawlers.addresses import addresses_of, refused_address
from crawlers.sources import load_sources
from streams.schemas import utcnow

OFFLINE_STATUSES = {404, 410, 451}


@dataclass
class Check:
    status: str  # online, offline or unknown
    http_status: int | None
    detail: str = ""


class _Refused(Exception):
    pass


def guard(url: str, allow_private: bool) -> None:
    """The crawler's address policy (crawlers/addresses.py), on addresses resolved now (a DNS failure is not
    remembered: it says nothing about the next page); a host that does not resolve is offline."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = addresses_of(host)
    except socket.gaierror as exc:
        raise socket.gaierror(f"{host} does not resolve: {exc}") from None
    except UnicodeError as exc:
        raise _Refused(f"{host!r} is not a valid host name ({exc}); not checked") from None
    refused = refused_address(host, allow_private, addresses)
    if refused:
        raise _Refused(f"{host} resolves to {refused[0]} ({refused[1]}); not checked")


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        guard(newurl, self.allow_private)  # every hop, like the crawler's address guard
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Rechecker:
    def __init__(self, user_agent: str, timeout_s: float = 15.0):
        self.user_agent, self.timeout_s = user_agent, timeout_s
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}

    def allowed_by_robots(self, url: str, allow_private: bool) -> bool:
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self._robots:
            parser = urllib.robotparser.RobotFileParser()
            try:
                guard(root, allow_private)
                request = urllib.request.Request(root + "/robots.txt", headers={"User-Agent": self.user_agent})
                with self._opener(allow_private).open(request, timeout=self.timeout_s) as response:
                    parser.parse(response.read(512 * 1024).decode("utf-8", "replace").splitlines())
            except (urllib.error.URLError, OSError, _Refused):
                parser.parse([])  # no robots.txt: everything allowed
            self._robots[root] = parser
        return self._robots[root].can_fetch(self.user_agent, url)

    def _opener(self, allow_private: bool):
        return urllib.request.build_opener(_GuardedRedirects(allow_private))

    def check(self, url: str, allow_private: bool = False) -> Check:
        try:
            guard(url, allow_private)
        except socket.gaierror as exc:
            return Check("offline", None, str(exc))
        except _Refused as exc:
            return Check("unknown", None, str(exc))
        if not self.allowed_by_robots(url, allow_private):
            return Check("unknown", None, "robots.txt disallows it now")
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with self._opener(allow_private).open(request, timeout=self.timeout_s) as response:
                response.read(64 * 1024)
                return Check("online", response.status)
        except urllib.error.HTTPError as exc:
            return Check("offline" if exc.code in OFFLINE_STATUSES else "unknown", exc.code, exc.reason)
        except _Refused as exc:
            return Check("unknown", None, str(exc))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, socket.gaierror):
                return Check("offline", None, f"host does not resolve: {reason}")
            return Check("unknown", None, str(reason))


def private_sources(sources_file: Path) -> set[str]:
    """The sources that allow private addresses (local test sites); none when there is no sources file."""
    if not sources_file.exists():
        return set()
    return {s.id for s in load_sources(sources_file).values() if s.allow_private_addresses}


def recheck_flagged(store, rechecker: Rechecker, checked_before, limit: int, allow_private: set[str]) -> dict:
    """Check flagged documents' URLs; record each outcome on its document. Returns the counts."""
    counts = {"checked": 0, "online": 0, "offline": 0, "newly_offline": 0, "unknown": 0}
    for doc in store.to_recheck(checked_before, limit):
        result = rechecker.check(doc["url"], allow_private=doc["source"] in allow_private)
        previous = doc["availability"] or {}
        now = utcnow().isoformat()
        status = previous.get("status", "unknown") if result.status == "unknown" else result.status
        availability = {"status": status, "checked_at": now, "http_status": result.http_status,
                        "offline_since": previous.get("offline_since") or (now if status == "offline" else None)}
        store.record_availability(doc["id"], availability)
        counts["checked"] += 1
        counts[result.status] += 1
        counts["newly_offline"] += int(status == "offline" and previous.get("status") != "offline")
    return counts
