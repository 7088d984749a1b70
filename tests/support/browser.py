"""A real browser for tests of what a person sees: Debian's headless Chromium driven by Playwright.

`Browser.open(width=1280, height=900)` launches /usr/bin/chromium (never a browser Playwright downloads:
`playwright install` is not used) with the flags it needs here as root on a machine with no outside
network, and yields one page in a fresh profile; everything is closed on exit. From the page's start the
harness records what a test asserts on afterwards: every request the page made (`requests`, the URL of each,
the page itself included), every console message of type error (`console_errors`) and every uncaught
exception (`page_errors`). `goto(url)` navigates and waits for the load event; `screenshot(path)` saves
the whole page as PNG.

Without chromium (or Playwright) the test fails under CI (CI set), where .ci/run installs chromium with
apt-get, and skips elsewhere with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Request

CHROMIUM = Path(os.environ.get("OPSUITE_TEST_CHROMIUM", "/usr/bin/chromium"))
# As root, headless, and quiet on a closed network: without the background-networking flags Chromium
# keeps opening connections of its own (updates, sync, field trials) that the machine refuses.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
TIMEOUT_MS = 30_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"under CI the browser tests must run: {reason}")
    pytest.skip(reason)


def _chromium() -> str:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        hint = f" (a chromium is on PATH at {found}; set OPSUITE_TEST_CHROMIUM to use it)" if found else ""
        _unavailable(
            f"browser tests need Chromium at {CHROMIUM}{hint}: .ci/run installs it, "
            "or run `apt-get install chromium`"
        )
    return str(CHROMIUM)


class Browser:
    def __init__(self, page: Page):
        self.page = page
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    @classmethod
    @contextlib.contextmanager
    def open(cls, *, width: int = 1280, height: int = 900) -> Iterator[Browser]:
        executable = _chromium()
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as error:
            _unavailable(f"browser tests need Playwright ({error}): `make install` installs the dev extra")
        with sync_playwright() as playwright:
            # launch() gives Chromium a fresh, temporary --user-data-dir of its own and removes it on close.
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True, args=list(FLAGS), timeout=TIMEOUT_MS
            )
            try:
                context = chromium.new_context(viewport={"width": width, "height": height})
                context.set_default_timeout(TIMEOUT_MS)
                yield cls(context.new_page())
                context.close()
            finally:
                chromium.close()

    def goto(self, url: str) -> None:
        response = self.page.goto(url, wait_until="load")
        assert response is None or response.ok, f"{url}: HTTP {response.status}"

    def screenshot(self, path: Path) -> Path:
        self.page.screenshot(path=str(path), full_page=True)
        return path
