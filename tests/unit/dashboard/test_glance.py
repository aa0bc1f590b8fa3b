"""glance.py: the Overview strip's tiles from a snapshot (values, tones, tooltips)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dashboard.desk_clock import DeskClock
from dashboard.glance import daily_breakdown, strip_html, strip_tiles
from dashboard.money import Tone
from trading.snapshot import RuleView

from .conftest import build_snapshot

NOW = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)


def _tiles(**headroom):  # -> dict[str, Tile]
    snap = build_snapshot(NOW)
    assert snap.headroom is not None
    snap = replace(snap, headroom=replace(snap.headroom, **headroom))
    return {t.key: t for t in strip_tiles(snap, DeskClock.of(snap, wall_now=snap.heartbeat))}


def test_glance_daily_breakdown_total_is_the_sum_of_the_shown_parts() -> None:
    acct = replace(
        build_snapshot(NOW).account,
        daily_realized_gross=2955.004,
        daily_commissions=207.004,
        unrealized_pnl=0.004,
    )

    day = daily_breakdown(acct)

    assert (day.realized, day.commissions, day.unrealized, day.total) == (2955.0, 207.0, 0.0, 2748.0)
    assert day.equation() == "realized +$2,955.00 - commissions $207.00 + unrealized $0.00 = +$2,748.00"


def test_glance_daily_loss_tile_turns_amber_then_red_as_the_limit_is_used() -> None:
    assert _tiles(daily_loss_used=410.0, daily_loss_left=590.0)["daily_loss_left"].tone is Tone.NEUTRAL
    assert _tiles(daily_loss_used=850.0, daily_loss_left=150.0)["daily_loss_left"].tone is Tone.WARN
    assert _tiles(daily_loss_used=1000.0, daily_loss_left=0.0)["daily_loss_left"].tone is Tone.BAD


def test_glance_tile_takes_the_tone_the_risk_page_gives_the_rule() -> None:
    snap = build_snapshot(NOW)
    warned = RuleView(
        rule="daily_realized_loss",
        kind="daily_realized_loss",
        enabled=True,
        mode="enforce",
        action="flatten_and_lock",
        value=500.0,
        limit=1000.0,
        used=0.5,
        status="warning",  # a rule whose own warning threshold is 50 %
        unit="$",
    )
    snap = replace(snap, rules=(*snap.rules, warned))

    tiles = {t.key: t for t in strip_tiles(snap, DeskClock.of(snap, wall_now=snap.heartbeat))}

    assert tiles["daily_loss_left"].tone is Tone.WARN


def test_glance_lockout_tile_counts_down_a_cooldown() -> None:
    tile = _tiles(lockout_until=NOW + timedelta(seconds=112), lockout_reason="cooldown_after_loss: loss")[
        "lockout"
    ]

    assert (tile.value, tile.sub, tile.tone) == ("1m 52s left", "until 09:01:52 CST", Tone.BAD)


def test_glance_no_lockout_is_green_none() -> None:
    tile = _tiles(locked=False, lockout_until=None, lockout_reason="")["lockout"]

    assert (tile.value, tile.tone) == ("none", Tone.GOOD)


def test_glance_most_contracts_tooltip_names_the_binding_limit_and_stop_risk() -> None:
    tile = _tiles()["allowed"]

    assert tile.value == "ESZ6 0 · NQZ6 0" and tile.tone is Tone.BAD
    assert tile.help == (
        "ESZ6: 0 (account locked by daily_loss); NQZ6: 0 (account locked by daily_loss). "
        "Loss of one contract at the typical stop: ESZ6 $304.00 a contract (recent trades)"
    )


def test_glance_html_escapes_and_tags_each_tile() -> None:
    snap = build_snapshot(NOW)
    tiles = strip_tiles(snap, DeskClock.of(snap, wall_now=snap.heartbeat))

    page = strip_html(tiles)

    assert page.count('class="glance-tile"') == len(tiles) == 8
    assert 'data-tile="daily_pnl" data-tone="good"' in page and "&amp;" not in page.split("<style>")[0]
