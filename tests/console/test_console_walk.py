"""The console as a new user meets it: `vigil demo`, `vigil users add`, `vigil console` (each a process of its
own, as typed in a shell), then Chromium at the queue the console names, worked through with the keyboard
alone: log in, start, open the evidence, choose a reason, confirm, and the next item loads until none is left."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.console.conftest import PASSWORD, SCREENSHOTS
from tests.servers import free_port

pytestmark = pytest.mark.browser

VIGIL = [sys.executable, "-m", "vigil"]


def vigil(env: dict, *args: str, timeout: float = 600) -> str:
    result = subprocess.run([*VIGIL, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"vigil {' '.join(args)}: {result.stderr[-2000:]}"
    return result.stdout


@pytest.fixture
def served(tmp_path):
    """After `vigil demo` and `vigil users add`: a `vigil console` process, its start URL and the demo's flags."""
    env = {**os.environ, "VIGIL_DATA_DIR": str(tmp_path / "data")}
    env.pop("VIGIL_ELASTICSEARCH_URL", None)  # the demo's embedded defaults, as on a clean clone
    demo = vigil(env, "demo")
    flagged = re.findall(r"^      id ([0-9a-f]{32})$", demo, re.MULTILINE)
    assert len(flagged) == 6, demo
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    assert "added walker (analyst)" in vigil(env, "users", "add", "walker", "--role", "analyst",
                                             "--password-file", str(password))
    port = free_port()
    log = (tmp_path / "console.log").open("w+")
    process = subprocess.Popen([*VIGIL, "console", "--port", str(port)], env=env, stdout=log,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()
            time.sleep(0.2)
        printed = Path(log.name).read_text()
        start = re.search(r"start reviewing: (http://\S+) \((\d+) flagged items? awaiting review\)", printed)
        assert start and start.group(2) == "6", printed
        yield start.group(1), flagged, env
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_from_the_demo_to_a_worked_queue_with_the_keyboard_alone(browser, served):
    url, flagged, env = served
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(url)
        assert "/login" in page.url  # the link the console printed, behind the login
        # Chromium applies autofocus at its next rendering step, which can come after the load event on a
        # busy machine: wait for it, as a person would see the caret before typing.
        expect(page.locator("input[name=name]")).to_be_focused()
        page.keyboard.type("walker")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/queues/flagged$"))
        assert page.locator("#items tbody tr").count() == 6
        page.screenshot(path=str(SCREENSHOTS / "walk-queue.png"), full_page=True)

        with page.expect_navigation():
            page.keyboard.press("s")
        decided = []
        for n in range(6):
            assert re.search(r"/documents/[0-9a-f]{32}", page.url), page.url
            doc_id = page.url.split("/documents/")[1].split("?")[0]
            assert doc_id in flagged and doc_id not in decided
            page.keyboard.press("o")  # the evidence, collapsed until opened
            assert page.locator("#flagged-evidence").get_attribute("open") is not None
            if n == 0:
                page.screenshot(path=str(SCREENSHOTS / "walk-document.png"), full_page=True)
            page.keyboard.press("r")
            page.keyboard.press("ArrowDown")  # the first reason of the policy
            assert page.locator("#reason").input_value() != ""
            page.keyboard.press("Escape")
            with page.expect_navigation():  # the decision, then the next item
                page.keyboard.press("c")
            decided.append(doc_id)
        assert "/queues/flagged" in page.url
        assert "No more unclaimed items" in page.locator("#notice").inner_text()
        assert page.locator("#empty").count() == 1
    finally:
        context.close()

    assert sorted(decided) == sorted(flagged)
    for doc_id in flagged:
        shown = json.loads(vigil(env, "show", doc_id, "--json"))
        assert [(r["reviewer"], r["decision"]) for r in shown["reviews"]] == [("walker", "confirmed")]
