"""The dashboard in a real browser over a state directory with known contents (no desk process):
auto-refresh, the close-position picker, the headroom strip's numbers, the phone's first screen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scripts.run_live_dashboard import DashboardRunner
from tests.unit.dashboard.conftest import build_snapshot, write_snapshot
from trading.snapshot import PositionView, Snapshot

from .conftest import (
    CHART,
    PHONE,
    Browser,
    assert_clean,
    banner,
    needs_chromium,
    open_page,
    settle,
    text_of,
    tile,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]


def _dollars(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


async def test_browser_autorefresh_shows_new_snapshot(
    attached: DashboardRunner, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.page()
    await open_page(page, attached.url)
    await page.locator(CHART).first.wait_for(timeout=60_000)
    before = await tile(page, "equity")

    newer = build_snapshot(datetime.now(UTC), equity_shift=7_777.0)
    write_snapshot(tmp_path, newer)
    after = await wait_until(
        lambda: tile(page, "equity"), lambda v: v != before, timeout=30, what="equity tile"
    )

    assert after == _dollars(newer.account.equity)
    await assert_clean(page)


async def test_browser_headroom_strip_numbers_match_the_snapshot(
    attached: DashboardRunner, browser: Browser, tmp_path: Path
) -> None:
    # Arrange: a snapshot with room left (no lockout) and known figures
    snap = build_snapshot(datetime.now(UTC))
    assert snap.headroom is not None
    room = replace(
        snap.headroom,
        locked=False,
        lockout_until=None,
        lockout_reason="",
        symbols=tuple(
            replace(s, contracts_allowed=n, bound_by="test")
            for s, n in zip(snap.headroom.symbols, (3.0, 1.0), strict=True)
        ),
    )
    snap = replace(snap, headroom=room)
    write_snapshot(tmp_path, snap)
    page = await browser.page()

    # Act
    await open_page(page, attached.url)
    await wait_until(lambda: tile(page, "lockout"), lambda v: v == "none", timeout=30, what="lockout tile")

    # Assert: every figure as the snapshot has it
    acct = snap.account
    daily = (
        round(acct.daily_realized_gross, 2) - round(acct.daily_commissions, 2) + round(acct.unrealized_pnl, 2)
    )
    assert room.daily_loss_left is not None and room.drawdown_distance is not None
    expected = {
        "equity": _dollars(acct.equity),
        "daily_pnl": f"+{_dollars(daily)}",
        "daily_loss_left": _dollars(room.daily_loss_left),
        "drawdown": _dollars(room.drawdown_distance),
        "contracts": f"{room.contracts_used:g} / {room.contracts_limit:g}",
        "allowed": "ESZ6 3 · NQZ6 1",
        "lockout": "none",
    }
    shown = {key: await tile(page, key) for key in expected}
    assert shown == expected
    assert (await tile(page, "reset")).startswith(("2h 59m", "3h 00m"))
    assert "floor $97,000.00" in await text_of(page, '[data-tile="drawdown"]')
    await assert_clean(page)


async def test_browser_close_picker_when_the_chosen_position_disappears(
    attached: DashboardRunner, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.page()
    await open_page(page, f"{attached.url}/controls")
    picker = page.locator("[data-testid=stSelectbox]", has_text="position").first
    close = page.get_by_role("button", name="Close position")
    await picker.wait_for(timeout=30_000)
    assert await close.is_disabled()  # nothing chosen: nothing to close

    # choose NQZ6
    await picker.click()
    await page.get_by_role("option", name="NQZ6", exact=True).click()
    await wait_until(close.is_enabled, bool, timeout=30, what="close button enabled after a choice")

    # NQZ6 hits its stop and YMZ6 opens after the page loaded
    snap: Snapshot = build_snapshot(datetime.now(UTC))
    opened = PositionView(
        symbol="YMZ6",
        quantity=3.0,
        avg_price=44_000.0,
        last_price=44_010.0,
        unrealized_pnl=150.0,
        realized_pnl=0.0,
    )
    kept = tuple(p for p in snap.positions if p.symbol != "NQZ6")
    write_snapshot(tmp_path, replace(snap, positions=(*kept, opened)))

    gone = page.get_by_text("NQZ6 is no longer open: it closed after you chose it. Nothing to close.")
    await gone.wait_for(timeout=30_000)
    assert await close.is_disabled()
    chosen = await page.get_by_role("combobox", name="position").input_value()
    assert chosen == "NQZ6"  # never switched to ESZ6

    # the position opened after the page loaded is offered, without a reload
    await picker.click()
    await page.get_by_role("option", name="YMZ6", exact=True).wait_for(timeout=30_000)
    await page.get_by_role("option", name="ESZ6", exact=True).click()
    await page.get_by_text("ESZ6: long 2 @ 6,012.25").wait_for(timeout=30_000)
    await wait_until(close.is_enabled, bool, timeout=30, what="close button enabled for ESZ6")
    await close.click()
    confirm = page.get_by_text("Confirm: Close ESZ6: sell 2 ESZ6 at market, the whole long position of 2")
    await confirm.wait_for(timeout=30_000)
    await assert_clean(page)


async def test_browser_phone_first_screen_shows_state_equity_pnl_and_headroom(
    attached: DashboardRunner, browser: Browser
) -> None:
    page = await browser.page(PHONE)
    await open_page(page, attached.url)
    await page.locator('[data-tile="reset"]').wait_for(timeout=30_000)
    await settle(page)

    first_screen = {"banner": page.get_by_text("Trading state:").first}
    for key in (
        "equity",
        "daily_pnl",
        "daily_loss_left",
        "drawdown",
        "contracts",
        "allowed",
        "lockout",
        "reset",
    ):
        first_screen[key] = page.locator(f'[data-tile="{key}"]')
    for name, element in first_screen.items():
        box = await element.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (name, box)
    assert "ACTIVE" in await banner(page)
    await assert_clean(page)
