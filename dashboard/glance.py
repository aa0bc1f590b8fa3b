"""The Overview's at-a-glance strip: equity, today's P&L and the risk headroom, as tiles.

``strip_tiles`` turns a snapshot into tiles (label, value, a line below, a tooltip, a tone);
``strip_html`` lays them out as a grid that wraps: one or two rows on a desktop, two tiles a
row on a phone, so state, equity, daily P&L and headroom fit the first screen. Each tile
carries ``data-tile="<key>"`` for tests. ``daily_breakdown`` makes today's P&L add up on
screen: the figure shown is the sum of its rounded parts. Pure: no ``st.*`` calls.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.desk_clock import DeskClock
from dashboard.money import Tone, money, pnl, pnl_tone, quantity
from dashboard.rule_meaning import rule_tone
from trading.snapshot import AccountView, HeadroomView, RuleView, Snapshot

__all__ = ["STRIP_CSS", "DailyBreakdown", "Tile", "daily_breakdown", "strip_html", "strip_tiles"]

_WARN_USED = 0.8  # without the rule's own status: the risk config's default warning threshold
_COLOURS = {
    Tone.GOOD: "#2e7d32",
    Tone.BAD: "#c62828",
    Tone.WARN: "#b26a00",
    Tone.NEUTRAL: "inherit",
    Tone.INFO: "#1565c0",
}


@dataclass(frozen=True, slots=True)
class Tile:
    key: str
    label: str
    value: str
    tone: Tone = Tone.NEUTRAL
    sub: str = ""
    help: str = ""


@dataclass(frozen=True, slots=True)
class DailyBreakdown:
    """Today's P&L in cents: ``total`` is exactly ``realized - commissions + unrealized``."""

    realized: float  # gross, before commissions
    commissions: float
    unrealized: float

    @property
    def total(self) -> float:
        return round(self.realized - self.commissions + self.unrealized, 2)

    def equation(self) -> str:
        return (
            f"realized {pnl(self.realized)} - commissions {money(self.commissions)} "
            f"+ unrealized {pnl(self.unrealized)} = {pnl(self.total)}"
        )


def daily_breakdown(account: AccountView) -> DailyBreakdown:
    return DailyBreakdown(
        realized=round(account.daily_realized_gross, 2),
        commissions=round(account.daily_commissions, 2),
        unrealized=round(account.unrealized_pnl, 2),
    )


def _used_tone(used: float, rules: tuple[RuleView, ...] = (), kind: str = "") -> Tone:
    """The tone the Risk page gives the most-used enforced rule of ``kind`` (so both pages agree),
    else amber from the default warning threshold and red at the limit; plain instead of green."""
    mine = [r for r in rules if r.kind == kind and r.enabled and r.mode == "enforce" and r.status != "error"]
    if mine:
        tone = rule_tone(max(mine, key=lambda r: r.used))
        return Tone.NEUTRAL if tone is Tone.GOOD else tone
    if used >= 1.0 - 1e-9:
        return Tone.BAD
    return Tone.WARN if used >= _WARN_USED else Tone.NEUTRAL


def strip_tiles(snapshot: Snapshot, clock: DeskClock) -> tuple[Tile, ...]:
    acct = snapshot.account
    day = daily_breakdown(acct)
    since_start = acct.equity - acct.starting_balance
    tiles = [
        Tile(
            "equity",
            "Equity",
            money(acct.equity),
            Tone.NEUTRAL,
            f"{pnl(since_start)} since start",
            f"cash {money(acct.cash)} + unrealized {pnl(acct.unrealized_pnl)}; "
            f"starting balance {money(acct.starting_balance)}",
        ),
        Tile(
            "daily_pnl",
            "Daily P&L",
            pnl(day.total),
            pnl_tone(day.total),
            "net of commissions",
            day.equation(),
        ),
    ]
    room = snapshot.headroom
    if room is not None:
        tiles += _headroom_tiles(room, snapshot.rules, clock)
    return tuple(tiles)


def _headroom_tiles(room: HeadroomView, rules: tuple[RuleView, ...], clock: DeskClock) -> list[Tile]:
    return [
        _daily_loss_tile(room, rules),
        _drawdown_tile(room, rules),
        _contracts_tile(room, rules),
        _allowed_tile(room),
        _lockout_tile(room, clock),
        Tile(
            "reset",
            "Daily reset in",
            clock.countdown(room.reset_at),
            Tone.NEUTRAL,
            f"at {clock.local(room.reset_at, seconds=False)}",
            f"{clock.utc(room.reset_at)}; daily counters and reset-long lockouts end then",
        ),
    ]


def _daily_loss_tile(room: HeadroomView, rules: tuple[RuleView, ...]) -> Tile:
    if room.daily_loss_limit is None or room.daily_loss_left is None:
        return Tile(
            "daily_loss_left", "Daily loss left", "no limit", Tone.NEUTRAL, "no daily loss rule enforced"
        )
    limit = room.daily_loss_limit
    return Tile(
        "daily_loss_left",
        "Daily loss left",
        money(room.daily_loss_left),
        _used_tone(room.daily_loss_used / limit if limit > 0 else 1.0, rules, "daily_realized_loss"),
        f"of {money(limit)} · lost {money(room.daily_loss_used)}",
        "the daily realized loss limit minus today's realized loss (net of commissions when the rule "
        "counts them); at zero the account is flattened and locked until the reset",
    )


def _drawdown_tile(room: HeadroomView, rules: tuple[RuleView, ...]) -> Tile:
    if room.drawdown_floor is None or room.drawdown_distance is None:
        return Tile(
            "drawdown", "Above drawdown floor", "no floor", Tone.NEUTRAL, "no trailing drawdown enforced"
        )
    full = room.drawdown_max or 0.0
    used = 1.0 - room.drawdown_distance / full if full > 0 else 1.0
    return Tile(
        "drawdown",
        "Above drawdown floor",
        money(room.drawdown_distance),
        _used_tone(used, rules, "trailing_drawdown"),
        f"floor {money(room.drawdown_floor)}",
        "equity minus the trailing drawdown floor (high-water mark minus the allowed drawdown); "
        "at zero the account is flattened and locked",
    )


def _contracts_tile(room: HeadroomView, rules: tuple[RuleView, ...]) -> Tile:
    if room.contracts_limit is None:
        return Tile(
            "contracts", "Contracts", quantity(room.contracts_used), Tone.NEUTRAL, "no max_contracts rule"
        )
    limit = room.contracts_limit
    return Tile(
        "contracts",
        "Contracts used / limit",
        f"{quantity(room.contracts_used)} / {quantity(limit)}",
        _used_tone(room.contracts_used / limit if limit > 0 else 1.0, rules, "max_contracts"),
        "open contracts the limit counts",
    )


def _allowed_tile(room: HeadroomView) -> Tile:
    bounded = [s for s in room.symbols if s.contracts_allowed is not None]
    if not bounded:
        return Tile(
            "allowed", "Most contracts now", "no limit", Tone.NEUTRAL, "no enforced limit bounds a new entry"
        )
    value = " · ".join(f"{s.symbol} {quantity(s.contracts_allowed or 0.0)}" for s in bounded)
    lines = [f"{s.symbol}: {quantity(s.contracts_allowed or 0.0)} ({s.bound_by})" for s in bounded]
    stops = [
        f"{s.symbol} {money(s.risk_per_contract)} a contract ({s.stop_source})"
        for s in bounded
        if s.risk_per_contract is not None
    ]
    tone = Tone.BAD if all(s.contracts_allowed == 0 for s in bounded) else Tone.NEUTRAL
    sub = "per new entry, by the tightest limit"
    help_text = "; ".join(lines)
    if stops:
        help_text += ". Loss of one contract at the typical stop: " + "; ".join(stops)
    return Tile("allowed", "Most contracts now", value, tone, sub, help_text)


def _lockout_tile(room: HeadroomView, clock: DeskClock) -> Tile:
    if not room.locked:
        return Tile("lockout", "Lockout", "none", Tone.GOOD, "new entries allowed")
    if room.lockout_until is None:
        return Tile(
            "lockout",
            "Lockout",
            "until reset",
            Tone.BAD,
            f"in {clock.countdown(room.reset_at)}",
            room.lockout_reason,
        )
    return Tile(
        "lockout",
        "Lockout",
        f"{clock.countdown(room.lockout_until)} left",
        Tone.BAD,
        f"until {clock.local(room.lockout_until)}",
        f"{room.lockout_reason} (ends {clock.utc(room.lockout_until)})",
    )


STRIP_CSS = """
<style>
.glance-strip { display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr));
  gap: 0.5rem; margin: 0.25rem 0 0.75rem 0; }
.glance-tile { border: 1px solid rgba(128,128,128,0.3); border-radius: 0.5rem; padding: 0.4rem 0.6rem;
  min-width: 0; }
.glance-tile[data-tile="allowed"] { grid-column: span 2; }
.glance-tile[data-tile="allowed"] .glance-value { white-space: normal; font-size: 1.1rem; }
.glance-label { font-size: 0.8rem; opacity: 0.75; }
.glance-value { font-size: 1.35rem; font-weight: 600; line-height: 1.3; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.glance-sub { font-size: 0.75rem; opacity: 0.75; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
@media (max-width: 640px) {
  .glance-strip { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.35rem; }
  .glance-value { font-size: 1.1rem; }
}
</style>
"""


def strip_html(tiles: Iterable[Tile]) -> str:
    """The tiles as one grid; the tooltip (``title``) holds the explanation."""
    parts = []
    for tile in tiles:
        colour = _COLOURS[tile.tone]
        parts.append(
            f'<div class="glance-tile" data-tile="{tile.key}" data-tone="{tile.tone.name.lower()}" '
            f'title="{html.escape(tile.help)}">'
            f'<div class="glance-label">{html.escape(tile.label)}</div>'
            f'<div class="glance-value" style="color: {colour}">{html.escape(tile.value)}</div>'
            f'<div class="glance-sub">{html.escape(tile.sub)}</div></div>'
        )
    return f'{STRIP_CSS}<div class="glance-strip">{"".join(parts)}</div>'
