"""The launcher's command line (`run_live_dashboard.py --operator NAME`) with a real desk, in a browser:
the numbers refresh, a position opens, Flatten all is confirmed, done, and the account halts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import (
    CHART,
    ROOT,
    Browser,
    assert_clean,
    banner,
    free_port,
    needs_chromium,
    open_page,
    settle,
    tile,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]


@pytest.mark.timeout(600)
async def test_browser_launcher_flatten_changes_state_and_positions(browser: Browser, tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run_live_dashboard.py"), "-p", str(port), "-r", "2", "--state",
         str(tmp_path), "--operator", "bob"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        assert line.startswith(f"Dashboard: http://127.0.0.1:{port}"), line
        page = await browser.page()
        await open_page(page, f"http://127.0.0.1:{port}")
        await page.locator(CHART).first.wait_for(timeout=60_000)

        # Auto-refresh: the desk moves the numbers, the page follows without a reload.
        equity = await tile(page, "equity")
        await wait_until(lambda: tile(page, "equity"), lambda v: v != equity, timeout=60, what="equity tile")

        # Wait for the desk to hold a position, then flatten from the Controls page.
        positions = page.get_by_text("Positions (0)")
        deadline = time.monotonic() + 90
        while await positions.count() and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        assert not await positions.count(), "the desk opened no position within 90 s"
        await settle(page)
        state_before = await banner(page)

        await page.get_by_role("link", name="Controls").click()
        await page.get_by_role("button", name="Flatten all").click()
        await page.get_by_text("Confirm: Flatten all: close every position at market:").wait_for(
            timeout=30_000
        )
        await page.get_by_role("button", name="Confirm").click()
        await page.get_by_text("flatten_all by bob: done: ").wait_for(timeout=60_000)

        await page.get_by_role("link", name="Overview").click()
        await page.get_by_text("Positions (0)").wait_for(timeout=30_000)
        state_after = await wait_until(
            lambda: banner(page), lambda t: "HALTED" in t and "PAUSED" in t, timeout=30, what="banner"
        )
        assert state_after != state_before and "HALTED" in state_after and "PAUSED" in state_after
        await assert_clean(page)
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
