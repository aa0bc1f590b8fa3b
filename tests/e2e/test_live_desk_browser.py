"""The dashboard in a real browser over a live desk, both started by the launcher (DashboardRunner).

One launcher serves the module (starting a desk costs seconds on a loaded machine); each test
leaves it running and ACTIVE-capable. The deep-link test runs first, on the freshly started
server, then again after a Streamlit restart. `make screenshot` (UPDATE_SCREENSHOT=1) refreshes
docs/screenshot-overview.png and docs/screenshot-risk.png from the screenshot test.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.run_live_dashboard import DashboardRunner

from .conftest import (
    CHART,
    PAGES,
    ROOT,
    UPDATE_SCREENSHOTS,
    Browser,
    assert_clean,
    banner,
    desk_time,
    free_port,
    needs_chromium,
    open_page,
    page_text,
    refresh_count,
    settle,
    text_of,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]

OPERATOR = "alice"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardRunner]:
    """The launcher with a desk (config/desk.yaml, 10x clock) and Streamlit, refresh 2 s.

    ``unhealthy_after`` is long so a desk stopped on purpose (SIGSTOP) is not restarted under the test.
    """
    state = tmp_path_factory.mktemp("live_desk") / "data"  # the sidebar names it as `make run`'s
    runner = DashboardRunner(
        port=free_port(),
        refresh_interval=2,
        state_dir=state,
        executor=True,
        operator=OPERATOR,
        unhealthy_after=120.0,
        startup_timeout=120.0,
    )
    assert runner.start(), runner.get_status().problem
    try:
        yield runner
    finally:
        runner.stop()


def _pid(runner: DashboardRunner, child: str) -> int:
    pid = runner.get_status().pids[child]
    assert pid is not None, f"{child} is not running"
    return pid


async def _check_whole_app(browser: Browser, url: str) -> None:
    """A first visitor opening ``url`` directly gets the whole app: the menu with every page's
    title, the refresh slider, and numbers that change with the auto-refresh."""
    page = await browser.page()
    await open_page(page, url)
    nav = page.locator("[data-testid=stSidebarNav] a")
    titles = await wait_until(
        nav.all_inner_texts, lambda t: len(t) == len(PAGES), timeout=30, what=f"menu of {url}"
    )
    assert [t.strip().splitlines()[-1] for t in titles] == list(PAGES.values()), url  # after the icon
    slider = page.locator("[data-testid=stSidebar] [data-testid=stSlider]")
    await wait_until(slider.count, lambda n: n == 1, timeout=30, what=f"refresh slider of {url}")
    first_time = await wait_until(lambda: desk_time(page), lambda t: "desk time" in t, timeout=45, what=url)
    first_count = await refresh_count(page)
    await wait_until(
        lambda: desk_time(page), lambda t: t != first_time and "desk time" in t, timeout=45, what=url
    )
    await wait_until(
        lambda: refresh_count(page), lambda n: n > first_count, timeout=45, what=f"refreshes of {url}"
    )
    await assert_clean(page)
    await browser.close_page(page)


@pytest.mark.timeout(900)
async def test_live_deep_link_to_every_page_after_start_and_streamlit_restart(
    live: DashboardRunner, browser: Browser
) -> None:
    for path in PAGES:
        await _check_whole_app(browser, f"{live.url}/{path}")

    old = _pid(live, "streamlit")
    os.kill(old, signal.SIGKILL)  # the launcher restarts it: a fresh server, the first visitor deep-links
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = live.get_status()
        health = status.health.get("streamlit")
        if status.pids.get("streamlit") not in (None, old) and health is not None and health.ok:
            break
        time.sleep(0.25)
    else:
        raise AssertionError(f"streamlit not restarted and healthy within 60 s: {live.get_status()}")

    for path in PAGES:
        await _check_whole_app(browser, f"{live.url}/{path}")


@pytest.mark.timeout(600)
async def test_live_screenshots_of_overview_and_risk_show_no_machine_path(
    live: DashboardRunner, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.page()
    await open_page(page, live.url)
    await page.locator(CHART).first.wait_for(timeout=60_000)
    if UPDATE_SCREENSHOTS:  # the README's pictures: wait for a closed trade and an open position
        realized = page.locator(
            "[data-testid=stMetric]:has-text('Realized since start') [data-testid=stMetricValue]"
        )
        await wait_until(
            realized.inner_text, lambda t: t.strip() != "$0.00", timeout=300, what="a closed trade"
        )
        await wait_until(
            lambda: text_of(page, "h3:has-text('Positions (')"),
            lambda t: t not in ("", "Positions (0)"),
            timeout=300,
            what="a position held by the desk",
        )
    shots = {}
    for name, path in (("overview", ""), ("risk", "risk")):
        if path:
            await open_page(page, f"{live.url}/{path}")
            await page.locator(CHART).first.wait_for(timeout=60_000)
        await settle(page)
        text = await page_text(page)
        for machine_path in (str(live.state_dir), str(ROOT), "/tmp/", str(Path.home())):
            assert machine_path not in text, (name, machine_path)
        shots[name] = tmp_path / f"{name}.png"
        await page.screenshot(path=str(shots[name]), full_page=True)
        assert shots[name].stat().st_size > 10_000
        await assert_clean(page)
    if UPDATE_SCREENSHOTS:  # `make screenshot`: refresh the README's pictures
        for name, shot in shots.items():
            shutil.copyfile(shot, ROOT / "docs" / f"screenshot-{name}.png")


async def test_live_command_status_follows_through_to_done(live: DashboardRunner, browser: Browser) -> None:
    page = await browser.page()
    await open_page(page, f"{live.url}/controls")
    await page.get_by_role("textbox", name="pause / resume reason (optional)").fill("browser test")

    for button, result in (("Pause", "new entries paused"), ("Resume", "new entries resumed")):
        await page.get_by_role("button", name=button, exact=True).click()
        await page.get_by_text("Confirm: ").first.wait_for(timeout=30_000)
        await page.get_by_role("button", name="Confirm:").click()
        done = page.get_by_text(f"(reason: browser test) by {OPERATOR}: done: {result}")
        await done.wait_for(timeout=60_000)
    await assert_clean(page)


async def test_live_stale_banner_when_the_desk_is_stopped(live: DashboardRunner, browser: Browser) -> None:
    page = await browser.page()
    await open_page(page, live.url)
    await wait_until(lambda: banner(page), lambda t: "STALE" not in t, timeout=30, what="banner before")
    desk = _pid(live, "desk")

    os.kill(desk, signal.SIGSTOP)  # the desk hangs: no heartbeat, no new numbers
    try:
        stale = await wait_until(
            lambda: banner(page), lambda t: "STALE" in t, timeout=60, what="STALE banner"
        )
        colour = await page.locator(
            "[data-testid=stMarkdownContainer]:has-text('Trading state:') span"
        ).evaluate_all("spans => spans.map(s => getComputedStyle(s).color)")
        warning = await text_of(page, "[data-testid=stAlert]:has-text('desk not running')")
    finally:
        os.kill(desk, signal.SIGCONT)

    assert stale.startswith("Trading state: STALE: last known ")
    assert colour and all(c not in ("rgb(33, 195, 84)", "rgb(21, 130, 55)") for c in colour)  # no green
    assert "desk not running: last heard from " in warning
    await wait_until(
        lambda: banner(page), lambda t: "STALE" not in t, timeout=60, what="banner after SIGCONT"
    )
    await assert_clean(page)
