"""Browser tests: the app served by a real HTTP server in a thread, driven in Debian's Chromium.

One browser for the whole run; each test gets fresh browser contexts (cookies) and fails on
any JavaScript error or console error (a CSP violation included).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from core.extensions import limiter

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, live_server, db_session):
    """Open pages in new contexts (own cookies); every page is checked for JS and console errors."""
    limiter.reset()
    contexts, errors = [], []

    def open_(viewport=(1280, 900)):
        context = browser.new_context(base_url=live_server, locale="zh-CN",
                                      viewport={"width": viewport[0], "height": viewport[1]})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"page error on {page.url}: {exc}"))
        page.on("console", lambda msg: errors.append(f"console {msg.type} on {page.url}: {msg.text}")
                if msg.type == "error" and not _document_status(page, msg) else None)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert errors == [], "\n".join(errors)


def _document_status(page, msg) -> bool:
    # Chromium logs the page's own 4xx status (422 for a form with messages, 403 for a refused
    # page) as a console error; that is the answer the test asked for, not a broken page. A
    # script, style or image failing to load is still an error.
    return msg.location.get("url") == page.url and msg.text.startswith(
        "Failed to load resource: the server responded with a status of 4")


def sign_in(page, username: str, password: str = "correct horse battery") -> None:
    """Sign in by keyboard: type, Tab to the password, Enter to submit."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
