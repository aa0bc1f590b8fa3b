"""Browser fixtures and page helpers: Playwright driving Debian's chromium (never `playwright install`).

Every wait is on a page condition with a generous deadline (a loaded 2-core machine runs the
desk, Streamlit and chromium together); no assertion rests on a fixed sleep. Every test ends
with ``assert_clean``: no Streamlit exception block on the page.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from scripts.run_live_dashboard import DashboardRunner
from tests.unit.dashboard.conftest import build_snapshot, write_database, write_heartbeat, write_snapshot
from trading.state_dir import Heartbeat, StateDir

playwright_api = pytest.importorskip("playwright.async_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1500, "height": 1100}
PHONE = {"width": 390, "height": 844}
PAGES = {  # url path -> menu title
    "": "Overview",
    "risk": "Risk",
    "executor": "Executor",
    "jobs": "Jobs",
    "activity": "Activity log",
    "controls": "Controls",
}
CHART = "[data-testid=stPlotlyChart] .js-plotly-plot"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOT") == "1"

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- browser -------------------------------------------------------------------------


class Browser:
    """One chromium for a test; ``page(viewport)`` opens a fresh context (a first visitor)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._contexts: list[Any] = []

    async def page(self, viewport: dict[str, int] | None = None, **options: Any) -> Any:
        """``options``: more of Playwright's context options (``ignore_https_errors=True`` for a
        self-signed certificate)."""
        context = await self._browser.new_context(viewport=viewport or DESKTOP, **options)
        self._contexts.append(context)
        return await context.new_page()

    async def close_page(self, page: Any) -> None:
        """Close a visitor's tab: its session stops refreshing (a loaded machine feels every one)."""
        context = page.context
        if context in self._contexts:
            self._contexts.remove(context)
        await context.close()

    async def close(self) -> None:
        for context in self._contexts:
            await context.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        opened = Browser(chromium)
        try:
            yield opened
        finally:
            await opened.close()
            await chromium.close()


# --- waiting on the page -------------------------------------------------------------


async def wait_until(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *, timeout: float, what: str
) -> T:
    """Poll ``probe`` until ``accept`` takes its value; AssertionError naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    value = await probe()
    while not accept(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {timeout:.0f} s")
        await asyncio.sleep(0.25)
        value = await probe()
    return value


async def text_of(page: Any, selector: str) -> str:
    found = page.locator(selector).first
    return (await found.inner_text()).strip() if await found.count() else ""


async def banner(page: Any) -> str:
    return await text_of(page, "[data-testid=stMarkdownContainer]:has-text('Trading state:')")


async def desk_time(page: Any) -> str:
    return await text_of(page, "[data-testid=stCaptionContainer]:has-text('desk time')")


async def tile(page: Any, key: str) -> str:
    return await text_of(page, f'[data-tile="{key}"] .glance-value')


async def refresh_count(page: Any) -> int:
    caption = await text_of(
        page, "[data-testid=stSidebar] [data-testid=stCaptionContainer]:has-text('refresh #')"
    )
    return int(caption.rsplit("#", 1)[1]) if "#" in caption else -1


async def open_page(page: Any, url: str, *, timeout: float = 90.0) -> None:
    """Go to ``url`` and wait until the app drew its banner (Streamlit runs the script on connect)."""
    await page.goto(url, timeout=timeout * 1000)
    await page.get_by_text("Trading state:").first.wait_for(timeout=timeout * 1000)


async def settle(page: Any, timeout: float = 30.0) -> None:
    """Wait until no rerun is in flight: no status widget, no faded element, twice in a row."""
    quiet = 0
    deadline = time.monotonic() + timeout
    while quiet < 2 and time.monotonic() < deadline:
        busy = await page.locator("[data-testid=stStatusWidget], [data-stale=true]").count()
        quiet = 0 if busy else quiet + 1
        await asyncio.sleep(0.2)


async def assert_clean(page: Any) -> None:
    """No Streamlit exception block anywhere on the page."""
    blocks = page.locator("[data-testid=stException]")
    assert await blocks.count() == 0, await blocks.first.inner_text()


async def page_text(page: Any) -> str:
    return str(await page.locator("body").inner_text())


# --- a desk left by a fixture (attached dashboard, no desk process) -------------------


class HeartbeatWriter:
    """Keeps a state directory's heartbeat fresh, as a running desk would, until stopped."""

    def __init__(self, state_dir: Path) -> None:
        self._path = StateDir(state_dir).heartbeat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-heartbeat", daemon=True)

    def _run(self) -> None:
        now = datetime.now(UTC)
        while not self._stop.wait(0.5):
            Heartbeat.stamped(
                pid=os.getpid(), started_at=now, sim_time=datetime.now(UTC), trading_state="ACTIVE"
            ).write(self._path)

    def __enter__(self) -> HeartbeatWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def attached(tmp_path: Path) -> Iterator[DashboardRunner]:
    """A dashboard (no desk) on a state directory with known contents and a fresh heartbeat."""
    now = datetime.now(UTC)
    write_snapshot(tmp_path, build_snapshot(now))
    write_database(tmp_path, now)
    write_heartbeat(tmp_path, now.timestamp())
    runner = DashboardRunner(port=free_port(), refresh_interval=2, state_dir=tmp_path, executor=False)
    with HeartbeatWriter(tmp_path):
        assert runner.start()
        try:
            yield runner
        finally:
            runner.stop()
