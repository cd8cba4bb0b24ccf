"""The helpers every backend and stage shares: atomic files, SQLite transactions, context-managed stores,
the one address policy, and the crawler settings Vigil's settings control."""
import os
import sqlite3
import stat

import pytest

from crawlers.addresses import NEVER, refused_address
from crawlers.process import from_vigil, scrapy_settings
from crawlers.recheck import Rechecker
from streams import sqlite_db
from streams.config import VigilSettings
from streams.errors import TransientError
from streams.files import write_atomically
from streams.stores import SearchQuery, open_store
from streams.transports import open_transport


def test_an_atomic_write_replaces_the_whole_file_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "deep" / "thresholds.json"
    write_atomically(target, "first")
    write_atomically(target, b"second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["thresholds.json"]


def test_atomic_writes_follow_the_umask_unless_private(tmp_path):
    previous = os.umask(0o022)
    try:
        write_atomically(tmp_path / "shared", "x")
        write_atomically(tmp_path / "private", "x", private=True)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600


def test_a_failed_atomic_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "selection.json"
    write_atomically(target, "old")
    monkeypatch.setattr("os.replace", lambda *_: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["selection.json"]


def test_a_transaction_commits_or_rolls_back(tmp_path):
    conn = sqlite_db.connect(tmp_path / "db.sqlite", "CREATE TABLE IF NOT EXISTS t (x INTEGER);")
    with sqlite_db.transaction(conn, "test db") as tx:
        tx.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(ZeroDivisionError), sqlite_db.transaction(conn, "test db") as tx:
        tx.execute("INSERT INTO t VALUES (2)")
        raise ZeroDivisionError("the statements after the insert failed")
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_a_busy_database_is_a_transient_error_naming_it(tmp_path):
    path = tmp_path / "db.sqlite"
    holder = sqlite_db.connect(path, "CREATE TABLE IF NOT EXISTS t (x INTEGER);")
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    with pytest.raises(TransientError, match="embedded store .* busy"), \
            sqlite_db.transaction(waiter, f"embedded store {path}"):
        pass
    holder.execute("ROLLBACK")


def test_stores_and_transports_close_when_their_block_ends(tmp_path):
    settings = VigilSettings(data_dir=tmp_path)
    with open_store(settings) as store, open_transport(settings) as transport:
        transport.ensure_topics(["t"])
        assert store.search(SearchQuery()).total == 0
    with pytest.raises(sqlite3.ProgrammingError):  # the embedded store's connection is closed
        store.get("0" * 32)


@pytest.mark.parametrize("host, allow_private, refused", [
    ("127.0.0.1", False, ("127.0.0.1", "loopback")), ("127.0.0.1", True, None),
    ("169.254.169.254", True, ("169.254.169.254", NEVER)), ("fe80::1", True, ("fe80::1", NEVER)),
    ("93.184.216.34", False, None),
])
def test_one_address_policy(host, allow_private, refused):
    assert refused_address(host, allow_private) == refused


def test_the_rechecker_applies_the_crawlers_address_policy():
    checked = Rechecker("VigilBot/test", timeout_s=1).check("http://169.254.169.254/latest/meta-data/",
                                                            allow_private=True)
    assert checked.status == "unknown" and NEVER in checked.detail  # never fetched, never flips a page


def test_vigils_settings_reach_scrapy_by_scrapys_names(tmp_path):
    settings = VigilSettings.model_validate({"data_dir": str(tmp_path), "log_level": "WARNING", "crawler": {
        "user_agent": "Bot/3", "obey_robots": False, "max_response_bytes": 4096, "download_timeout_s": 7}})
    expected = {"USER_AGENT": "Bot/3", "ROBOTSTXT_OBEY": False, "DOWNLOAD_MAXSIZE": 4096, "DOWNLOAD_WARNSIZE": 2048,
                "DOWNLOAD_TIMEOUT": 7, "VIGIL_ROBOTSTXT_TIMEOUT": 10.0, "VIGIL_MAX_REQUESTS": 10_000,
                "VIGIL_MAX_LINKS_PER_PAGE": 1000, "LOG_LEVEL": "WARNING", "VIGIL_FETCH_IMAGES": True,
                "VIGIL_MAX_IMAGE_BYTES": 4 * 1024 * 1024, "VIGIL_MAX_IMAGES_PER_PAGE": 20,
                "VIGIL_MAX_IMAGE_PIXELS": 50_000_000}
    assert from_vigil(settings) == expected
    scrapy = scrapy_settings(settings)
    assert {name: scrapy[name] for name in expected} == expected
