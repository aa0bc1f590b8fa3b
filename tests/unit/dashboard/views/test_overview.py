"""views/overview.py under AppTest against a real state directory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from trading.snapshot import DiscrepancyView, HeadroomView, ReconciliationView

from ..conftest import (
    DeskState,
    build_snapshot,
    chart_figure,
    frame,
    glance,
    run_page,
    write_heartbeat,
    write_snapshot,
)


def test_overview_running_desk_shows_state_metrics_and_tables(desk_state_dir: DeskState) -> None:
    at = run_page("overview")

    assert not at.exception
    assert at.markdown[0].value.startswith("**Trading state:** :green[**ACTIVE**]")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cash"] == "\\$98,765.43"
    tiles = glance(at)
    assert tiles["equity"] == f"${desk_state_dir.snapshot.account.equity:,.2f}"
    assert tiles["daily_pnl"] == "+$125.50"
    positions = frame(at, "symbol", "avg_price")
    assert list(positions["symbol"]) == ["ESZ6", "NQZ6"]
    assert list(frame(at, "order_id")["order_id"]) == ["O-17", "O-18"]
    assert not at.warning


def test_overview_headroom_strip_shows_the_snapshot_headroom(desk_state_dir: DeskState) -> None:
    at = run_page("overview")

    tiles = glance(at)
    assert (tiles["daily_loss_left"], tiles["contracts"]) == ("$590.00", "3 / 6")
    room = desk_state_dir.snapshot.headroom
    assert room is not None and room.drawdown_distance is not None
    assert tiles["drawdown"] == f"${room.drawdown_distance:,.2f}"
    assert (tiles["allowed"], tiles["lockout"], tiles["reset"]) == (
        "ESZ6 0 · NQZ6 0",
        "until reset",
        "3h 00m 00s",
    )


def test_overview_timed_lockout_counts_down_on_the_desk_clock(desk_state_dir: DeskState) -> None:
    # Arrange: the desk's clock is a day ahead of the wall clock (a simulated desk)
    ahead = datetime.now(UTC) + timedelta(days=1)
    snap = build_snapshot(ahead)
    room = snap.headroom
    assert room is not None
    room = replace(
        room, lockout_until=ahead + timedelta(seconds=120), lockout_reason="cooldown_after_loss: loss"
    )
    write_snapshot(desk_state_dir.state_dir, replace(snap, headroom=room))

    at = run_page("overview")

    assert glance(at)["lockout"] == "2m 00s left"


def test_overview_daily_pnl_adds_up_on_screen(desk_state_dir: DeskState) -> None:
    at = run_page("overview")

    today = next(m.value for m in at.markdown if m.value.startswith("**Today:**"))
    assert today == (
        "**Today:** realized :green[+\\$254.75] - commissions \\$42.00 + unrealized :red[-\\$87.25] "
        "= **:green[+\\$125.50]**"
    )


def test_overview_buying_power_explains_how_it_is_computed(desk_state_dir: DeskState) -> None:
    at = run_page("overview")

    power = next(m for m in at.metric if m.label == "Buying power")
    assert power.proto.help.startswith("equity x the broker's buying-power multiple - the gross exposure")
    assert "\\$1,023,665.00 now" in power.proto.help


def test_overview_no_headroom_in_snapshot_shows_account_tiles_only(desk_state_dir: DeskState) -> None:
    write_snapshot(desk_state_dir.state_dir, replace(desk_state_dir.snapshot, headroom=None))

    at = run_page("overview")

    assert not at.exception and set(glance(at)) == {"equity", "daily_pnl"}


def test_overview_headroom_without_limits_says_so(desk_state_dir: DeskState) -> None:
    now = desk_state_dir.snapshot.taken_at
    bare = HeadroomView(
        measured_at=now,
        daily_loss_limit=None,
        daily_loss_used=0.0,
        daily_loss_left=None,
        drawdown_floor=None,
        drawdown_distance=None,
        drawdown_max=None,
        equity=100_000.0,
        contracts_used=0.0,
        contracts_limit=None,
        reset_at=now + timedelta(hours=1),
        locked=False,
        lockout_until=None,
        lockout_reason="",
    )
    write_snapshot(desk_state_dir.state_dir, replace(desk_state_dir.snapshot, headroom=bare))

    tiles = glance(run_page("overview"))

    assert (tiles["daily_loss_left"], tiles["drawdown"], tiles["allowed"], tiles["lockout"]) == (
        "no limit",
        "no floor",
        "no limit",
        "none",
    )


def test_overview_equity_and_daily_charts_contain_snapshot_data(desk_state_dir: DeskState) -> None:
    at = run_page("overview")

    charts = at.get("plotly_chart")
    equity, daily = chart_figure(charts[0]), chart_figure(charts[1])
    assert np.allclose(equity["data"][0]["y"], desk_state_dir.snapshot.equity_curve.values)
    assert np.allclose(daily["data"][0]["y"], desk_state_dir.snapshot.daily_pnl.values)


def test_overview_new_snapshot_shown_on_rerun(desk_state_dir: DeskState) -> None:
    at = run_page("overview")
    newer = build_snapshot(
        datetime.now(UTC), equity_shift=12_345.0, trading_state="HALTED", state_reason="daily loss limit hit"
    )

    write_snapshot(desk_state_dir.state_dir, newer)
    at.run()

    assert glance(at)["equity"] == f"${newer.account.equity:,.2f}"
    assert at.markdown[0].value.startswith("**Trading state:** :red[**HALTED**]: daily loss limit hit")


def test_overview_stale_heartbeat_says_stale_not_active(desk_state_dir: DeskState) -> None:
    write_heartbeat(
        desk_state_dir.state_dir, (datetime.now(UTC) - timedelta(minutes=5)).timestamp(), pid=4242
    )

    at = run_page("overview")

    assert not at.exception
    assert at.markdown[0].value == "**Trading state:** :gray[**STALE**]: last known ACTIVE"
    assert (
        "desk not running: last heard from 5m 0" in at.warning[0].value and "pid 4242" in at.warning[0].value
    )
    assert at.markdown[1].value.startswith(":red[updated ")
    assert at.get("plotly_chart")  # the last snapshot is still shown


def test_overview_missing_state_says_desk_not_running(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DESK_STATE_DIR", str(tmp_path))

    at = run_page("overview")

    assert not at.exception
    assert (
        at.warning[0].value == f"desk not running: no desk has written state directory {tmp_path.name!r} yet"
    )
    assert str(tmp_path) not in " ".join(e.value for e in [*at.warning, *at.markdown, *at.caption])
    assert not at.get("plotly_chart") and not at.metric


def test_overview_last_start_panel_shows_the_repairs_with_their_reasons(desk_state_dir: DeskState) -> None:
    # Arrange: a snapshot whose desk repaired a transaction at its start
    snap = build_snapshot(datetime.now(UTC))
    restart = ReconciliationView(
        at=snap.taken_at,
        broker="paper broker",
        working_orders=2,
        positions=1,
        cash=98_765.43,
        transactions=1,
        risk="risk: trading day 2026-01-05, daily net -12.00, ACTIVE, 0 lockouts",
        discrepancies=(
            DiscrepancyView(
                "transaction T-1 (ma_es ESZ6)",
                "stored as OPENED",
                "OPENED -> CLOSED",
                "reconciled: no position",
            ),
        ),
    )
    write_snapshot(desk_state_dir.state_dir, replace(snap, reconciliation=restart))
    # Act
    at = run_page("overview")
    # Assert
    assert not at.exception
    assert [e.label for e in at.expander] == ["Last start: 1 discrepancy repaired or reported"]
    table = frame(at, "what", "repair", "reason")
    assert table.to_dict("records") == [
        {
            "what": "transaction T-1 (ma_es ESZ6)",
            "found": "stored as OPENED",
            "repair": "OPENED -> CLOSED",
            "reason": "reconciled: no position",
        }
    ]
    summary = next(m.value for m in at.markdown if "rebuilt its books" in m.value)
    assert "2 working order(s), 1 position(s), cash \\$98,765.43, 1 active transaction(s)" in summary
    assert "risk: trading day 2026-01-05" in [c.value for c in at.caption][-1]


def test_overview_degraded_desk_says_storage_failing(desk_state_dir: DeskState) -> None:
    snap = build_snapshot(datetime.now(UTC))
    write_snapshot(
        desk_state_dir.state_dir, replace(snap, storage_problem="journal write failed: disk I/O error")
    )

    at = run_page("overview")

    assert [e.value for e in at.error] == [
        "Storage failing: journal write failed: disk I/O error. The desk's journal holds what it could not "
        "write and retries; the account stays HALTED (no new entries) until it can write again."
    ]
