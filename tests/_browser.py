"""Headless Chromium for tests that look at maps and pages as a person would.

Drives Debian's ``/usr/bin/chromium`` through playwright's Python package (``playwright
install`` is never needed: the browser comes from apt, ``tests/install.sh`` installs it).
One browser per test module (``browser_fixture``), one fresh context per page, so pages
cannot share state. Every page records what a tester needs:

* ``log.requests``: every request the page made (URL);
* ``log.blocked``: requests that would have left the machine — in ``offline=True`` mode (the
  default) anything that is not ``file:``, ``data:``, ``blob:``, ``about:`` or a loopback
  server is aborted as if the network were unplugged, and recorded here;
* ``log.console_errors`` / ``log.page_errors``: console ``error`` messages and uncaught
  exceptions (``log.errors`` joins both, without the "Failed to load resource" lines caused
  by the blocking itself);
* ``log.dialogs``: ``alert``/``confirm``/``prompt`` texts (dismissed at once) — an injected
  script shows up here.

Usage in a test module::

    from _browser import browser_fixture, serve

    browser = browser_fixture()  # module-scoped fixture; skips when Chromium is absent

    def test_map(browser, tmp_path):
        with browser.open(tmp_path / "map.html") as (page, log):
            page.wait_for_selector(".leaflet-interactive")
            browser.screenshot(page, "map")
        assert log.blocked == [] and log.errors == []

``serve(folder)`` runs a loopback ``http.server`` for pages that must come from a server.
Screenshots go to ``tests/artifacts/`` (git-ignored; CI keeps them as artefacts).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LAUNCH_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome-error:")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def skip_reason() -> str | None:
    """Return why browser tests cannot run here, or ``None`` when they can."""
    if not CHROMIUM.is_file():
        return (
            f"{CHROMIUM} not found: browser tests need Debian's chromium and fonts-noto-cjk "
            "(`sudo apt-get install -y chromium fonts-noto-cjk`, done by tests/install.sh)"
        )
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is missing: pip install -e '.[test]'"
    return None


def is_local(url: str) -> bool:
    """Return whether ``url`` stays on this machine (file/data/blob or a loopback server)."""
    if url.startswith(LOCAL_SCHEMES):
        return True
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


@dataclass
class PageLog:
    """What one page did: requests, blocked requests, console errors, exceptions, dialogs."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    _blocked_errors: list[str] = field(default_factory=list)

    @property
    def outgoing(self) -> list[str]:
        """Requests that would have left the machine (blocked or not)."""
        return [u for u in self.requests if not is_local(u)]

    @property
    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions, minus load failures of blocked requests."""
        return [e for e in self.console_errors if e not in self._blocked_errors] + list(
            self.page_errors
        )


class Browser:
    """A running headless Chromium; open pages with :meth:`open`."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    @contextlib.contextmanager
    def open(
        self,
        target: str | Path,
        *,
        offline: bool = True,
        viewport: tuple[int, int] = (1000, 700),
        timeout_ms: float = 15_000,
    ) -> Iterator[tuple[Any, PageLog]]:
        """Open a file path or URL in a fresh context; yield ``(page, log)``.

        With ``offline=True`` every non-local request is aborted and listed in
        ``log.blocked``. The page is loaded (``load`` event) before it is yielded.
        """
        url = target.resolve().as_uri() if isinstance(target, Path) else target
        log = PageLog()
        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            service_workers="block",
            locale="zh-CN",
        )
        context.set_default_timeout(timeout_ms)

        def route(route: Any) -> None:
            request_url = route.request.url
            if offline and not is_local(request_url):
                log.blocked.append(request_url)
                route.abort("internetdisconnected")
            else:
                route.continue_()

        def console(message: Any) -> None:
            if message.type == "error":
                text = message.text
                log.console_errors.append(text)
                location = (message.location or {}).get("url", "")
                if "Failed to load resource" in text and location in log.blocked:
                    log._blocked_errors.append(text)

        def dialog(d: Any) -> None:
            log.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        context.route("**/*", route)
        page = context.new_page()
        page.on("request", lambda r: log.requests.append(r.url))
        page.on("console", console)
        page.on("pageerror", lambda e: log.page_errors.append(str(e)))
        page.on("dialog", dialog)
        try:
            page.goto(url, wait_until="load")
            yield page, log
        finally:
            context.close()

    @staticmethod
    def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
        """Save a PNG of ``page`` to ``tests/artifacts/<name>.png`` and return its path."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


@contextlib.contextmanager
def launch() -> Iterator[Browser]:
    """Start headless Chromium (skips the calling test when it cannot run here)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional test dependency

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(LAUNCH_ARGS)
        )
        try:
            yield Browser(chromium)
        finally:
            chromium.close()


def browser_fixture(scope: str = "module") -> Callable[..., Any]:
    """Return a pytest fixture yielding one :class:`Browser` per ``scope`` (default module)."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def browser() -> Iterator[Browser]:
        with launch() as b:
            yield b

    return browser  # type: ignore[no-any-return]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Keep test output clean."""


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free loopback port; yield the base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
