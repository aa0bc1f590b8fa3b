"""The dashboard in a real browser (Playwright driving Debian's chromium).

Never `playwright install`: we launch /usr/bin/chromium. The test with the desk saves
docs/screenshot.png, the picture the README shows (with UPDATE_SCREENSHOT=1: `make screenshot`).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scripts.run_live_dashboard import DashboardRunner
from tests.unit.dashboard.conftest import build_snapshot, write_database, write_heartbeat, write_snapshot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

playwright_api = pytest.importorskip("playwright.async_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = ROOT / "docs" / "screenshot.png"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip
CHART = "[data-testid=stPlotlyChart] .js-plotly-plot"


def _desk_available() -> bool:
    if not (ROOT / "scripts" / "run_executor.py").exists():
        return False
    try:
        return hasattr(importlib.import_module("trading.desk"), "Desk")
    except ImportError:
        return False


needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
needs_desk = pytest.mark.skipif(
    not _desk_available(), reason="the desk process (scripts/run_executor.py) is not there yet"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def page() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1500, "height": 1100})
            yield await context.new_page()
            await context.close()
        finally:
            await browser.close()


async def metric_value(page: object, label: str) -> str:
    metric = page.locator("[data-testid=stMetric]", has_text=label).first  # type: ignore[attr-defined]
    return (await metric.locator("[data-testid=stMetricValue]").inner_text()).strip()


async def trading_state(page: object) -> str:
    banner = page.locator("[data-testid=stMarkdownContainer]", has_text="Trading state:").first  # type: ignore[attr-defined]
    return (await banner.inner_text()).strip()


async def settle(page: object) -> None:
    """Wait until no rerun is in flight: no status widget and no stale (faded) element, twice in a row."""
    quiet = 0
    deadline = time.monotonic() + 30
    while quiet < 2 and time.monotonic() < deadline:
        busy = await page.locator("[data-testid=stStatusWidget], [data-stale=true]").count()  # type: ignore[attr-defined]
        quiet = 0 if busy else quiet + 1
        await asyncio.sleep(0.2)


async def wait_for_change(page: object, label: str, before: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await metric_value(page, label)
        if value != before:
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"metric {label!r} still {before!r} after {timeout:.0f} s")


@pytest.fixture
def attached_runner(tmp_path: Path) -> Iterator[DashboardRunner]:
    now = datetime.now(UTC)
    write_snapshot(tmp_path, build_snapshot(now))
    write_database(tmp_path, now)
    write_heartbeat(tmp_path, now.timestamp())
    runner = DashboardRunner(port=free_port(), refresh_interval=2, state_dir=tmp_path, executor=False)
    assert runner.start()
    yield runner
    runner.stop()


@needs_chromium
async def test_browser_autorefresh_shows_new_snapshot(
    attached_runner: DashboardRunner, page: object, tmp_path: Path
) -> None:
    await page.goto(attached_runner.url)  # type: ignore[attr-defined]
    await page.locator(CHART).first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    before = await metric_value(page, "Equity")

    newer = build_snapshot(datetime.now(UTC), equity_shift=7_777.0)
    write_snapshot(tmp_path, newer)
    write_heartbeat(tmp_path, time.time())
    after = await wait_for_change(page, "Equity", before, timeout=30)

    assert after == f"{newer.account.equity:,.2f}"
    await settle(page)
    await page.screenshot(path=str(tmp_path / "attached.png"), full_page=True)  # type: ignore[attr-defined]


@needs_chromium
@needs_desk
async def test_browser_launcher_flatten_changes_state_and_positions(page: object, tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run_live_dashboard.py"), "-p", str(port), "-r", "2", "--state",
         str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        assert line.startswith(f"Dashboard: http://127.0.0.1:{port}"), line
        await page.goto(f"http://127.0.0.1:{port}")  # type: ignore[attr-defined]
        await page.locator(CHART).first.wait_for(timeout=60_000)  # type: ignore[attr-defined]

        # Auto-refresh: the desk moves the numbers, the page follows without a reload.
        equity = await metric_value(page, "Equity")
        await wait_for_change(page, "Equity", equity, timeout=60)

        # Wait for the desk to hold a position, then flatten from the Controls page.
        positions = page.get_by_text("Positions (0)")  # type: ignore[attr-defined]
        deadline = time.monotonic() + 90
        while await positions.count() and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        assert not await positions.count(), "the desk opened no position within 90 s"
        await settle(page)
        shot = tmp_path / "overview.png"
        await page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
        assert shot.stat().st_size > 10_000
        if os.environ.get("UPDATE_SCREENSHOT") == "1":  # `make screenshot`: refresh the README's picture
            shutil.copyfile(shot, SCREENSHOT)
        state_before = await trading_state(page)

        await page.get_by_role("link", name="Controls").click()  # type: ignore[attr-defined]
        await page.get_by_role("button", name="Flatten all").click()  # type: ignore[attr-defined]
        await page.get_by_role("button", name="Confirm").click()  # type: ignore[attr-defined]
        await page.get_by_text("flatten_all sent to the desk").wait_for(timeout=30_000)  # type: ignore[attr-defined]

        await page.get_by_role("link", name="Overview").click()  # type: ignore[attr-defined]
        await page.get_by_text("Positions (0)").wait_for(timeout=30_000)  # type: ignore[attr-defined]
        state_after = await trading_state(page)
        assert state_after != state_before and "HALTED" in state_after and "PAUSED" in state_after
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    assert code == 0
