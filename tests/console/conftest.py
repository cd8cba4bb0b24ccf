"""The review console under test: served by uvicorn in a thread on a free loopback port over a store filled
with classified documents (embedded and the Elasticsearch-API test server), and Debian's chromium driven by
Playwright (installed with apt-get when missing and we are root; the tests skip, saying why, otherwise)."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from streams.config import VigilSettings
from streams.stores import Store, open_store
from tests.servers import free_port
from vigil.console.auth import Accounts
from vigil.console.db import ConsoleDB, console_db_path

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "console"
PASSWORD = "correct horse battery staple"
ACCOUNTS = {"alice": "analyst", "bob": "analyst", "olga": "operator", "ada": "admin"}


def _install_chromium() -> str | None:
    """None once /usr/bin/chromium exists; else why it cannot be had."""
    if CHROMIUM.exists():
        return None
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return f"{CHROMIUM} is missing and only root can install it (apt-get install -y chromium)"
    if not shutil.which("apt-get"):
        return f"{CHROMIUM} is missing and there is no apt-get to install Debian's chromium package"
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "install", "-y", "-q", "chromium"], ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "chromium"]):
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=900, env=environment)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(command)} failed: {exc}"
        if CHROMIUM.exists():
            return None
    return f"apt-get could not install chromium: {(result.stderr or result.stdout)[-500:]}"


@pytest.fixture(scope="session")
def browser():
    reason = _install_chromium()
    if reason:
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        # As root, chromium runs only without its sandbox; the pages are our own, on loopback.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class RunningConsole:
    url: str
    settings: VigilSettings
    store: Store  # the test's own connection to the console's store
    app: object

    @property
    def state(self):
        return self.app.state.console  # type: ignore[attr-defined]

    def add(self, *docs) -> list[str]:
        assert all(error is None for error in self.store.upsert(list(docs)))
        self.store.refresh()
        return [doc.document.id for doc in docs]


def console_settings(data_dir: Path) -> VigilSettings:
    run = f"c{uuid.uuid4().hex[:10]}"
    return VigilSettings.model_validate({
        "data_dir": str(data_dir),
        "topics": {"raw": f"{run}.raw", "classified": f"{run}.classified", "reviews": f"{run}.reviews",
                   "dlq": f"{run}.dlq", "partitions": 1},
        "elasticsearch": {"alias": run, "plain_json": True},
        "stage": {"poll_timeout_s": 0.2},
        "console": {"daily_limit": 3},
    })


@pytest.fixture(scope="module", params=["embedded", "elasticsearch"])
def console(request, tmp_path_factory):
    """The console served over each store, with the accounts of ACCOUNTS (password PASSWORD)."""
    import uvicorn

    from vigil.console.app import create_app

    settings = console_settings(tmp_path_factory.mktemp("console"))
    if request.param == "elasticsearch":
        settings.elasticsearch.url = request.getfixturevalue("elasticsearch_url")
    store = open_store(settings)
    store.setup()
    db = ConsoleDB(console_db_path(settings))
    accounts = Accounts(db)
    for name, role in ACCOUNTS.items():
        accounts.add(name, role, PASSWORD)
    db.close()
    app = create_app(settings, publish_queued=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the console did not start")
        time.sleep(0.02)
    try:
        yield RunningConsole(f"http://127.0.0.1:{port}", settings, store, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
