"""Headroom: how much room the enforced limits leave right now, read from the engine's rules.

``measure_headroom`` reads (never changes) the engine's rules, P&L tracker and lockouts, and
the broker's instruments and working orders; ``RiskManager.headroom()`` calls it. Only rules
that are enabled and in ``enforce`` mode count: a shadow rule binds nothing.

- daily loss left: each daily loss rule's limit minus the loss it counts so far (``DailyLossRoom``:
  ``daily_realized_loss``, ``daily_loss`` realized or net, ``daily_trailing_loss``); the tightest wins;
- drawdown floor and distance: the ``trailing_drawdown`` floor and the equity above it;
- contracts used / limit: what ``max_contracts`` counts against its limit;
- largest profit still compliant today: the ``consistency`` rule's ``p * P / (1 - p)`` (P the
  profit before today); the tightest instance wins;
- lockout: the account's lockout (a cooldown has an end; ``None`` means until the reset);
- per symbol, the most contracts a new entry may take now: the smallest of the room under
  ``max_contracts`` and ``max_contracts_per_instrument``, 0 for a symbol ``symbol_blocks``
  blocks or that has a lockout, 0 for every symbol while the account is locked, paused or
  not ACTIVE, and the loss room (the smaller of daily loss left and drawdown distance)
  divided by the loss of one contract at the symbol's typical stop (the stop's price
  distance times the multiplier, plus a round turn of commission). Session hours are not
  reflected: asking ``session_hours`` would move its own session bookkeeping.

Headroom is shown, not decided on: its amounts are floats, converted from the rules' exact
``Decimal`` values here (the rules themselves decide exactly).

The typical stop's distance comes from the caller (``stops``: the desk passes what its recent
trades used), else from the working stop-loss order of the symbol's open position (its
distance from the average price); with neither, the loss room gives no bound for that symbol
(``risk_per_contract`` is None).

Seam for per-trade risk: a rule that caps one trade's size implements ``ContractBound``
(``contracts_allowed(symbol, risk_per_contract)``); every enforced rule that does is asked,
and its answer bounds that symbol like the limits above. No change here is needed to add one:
``risk_per_trade`` (the loss at the typical stop strictly below the room, and its ``max_loss``)
and ``symbol_groups`` (the room left in the symbol's groups over its weight) do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from trading.model import Instrument, Order, OrderRole, TradingState
from trading.risk.engine import RiskEngine
from trading.risk.rules.base import Rule
from trading.risk.rules.consistency import Consistency
from trading.risk.rules.loss_room import DailyLossRoom
from trading.risk.rules.max_contracts import MaxContracts
from trading.risk.rules.max_contracts_per_instrument import MaxContractsPerInstrument
from trading.risk.rules.symbol_blocks import SymbolBlocks
from trading.risk.rules.trailing_drawdown import TrailingDrawdown

__all__ = ["ContractBound", "Headroom", "SymbolHeadroom", "measure_headroom"]

_EPS = 1e-9
R = TypeVar("R", bound=Rule)


@runtime_checkable
class ContractBound(Protocol):
    """A rule that caps the size of one new trade (a per-trade risk rule, say).

    ``contracts_allowed`` returns the most contracts of ``symbol`` a new entry may take now,
    or None when the rule does not bound it; ``risk_per_contract`` is the loss of one
    contract at the typical stop (None when no stop is known)."""

    def contracts_allowed(self, symbol: str, risk_per_contract: float | None) -> float | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolHeadroom:
    """One symbol's room for a new entry (mirrored by ``trading.snapshot.SymbolHeadroomView``)."""

    symbol: str
    held: float  # signed open quantity
    contracts_allowed: float | None  # most contracts a new entry may take now; None: nothing bounds it
    bound_by: str  # what sets ``contracts_allowed``, in words
    risk_per_contract: float | None  # loss of one contract at the typical stop, round-turn commission in
    stop_distance: float | None  # the typical stop's distance in price
    stop_source: str  # "recent trades", "working stop" or "" (none known)


@dataclass(frozen=True, slots=True, kw_only=True)
class Headroom:
    """The room the enforced limits leave now (mirrored by ``trading.snapshot.HeadroomView``).

    Money in account currency; ``None`` where no enforced rule sets that limit.
    """

    measured_at: datetime
    daily_loss_limit: float | None
    daily_loss_used: float  # the loss the tightest daily loss rule counts (>= 0)
    daily_loss_left: float | None  # limit - used, floored at 0
    drawdown_floor: float | None
    drawdown_distance: float | None  # equity above the floor (negative: below it)
    drawdown_max: float | None  # the distance at the high-water mark: the rule's full room
    equity: float
    contracts_used: float  # what max_contracts counts now (every open contract when it has no rule)
    contracts_limit: float | None
    reset_at: datetime
    locked: bool  # the account has a lockout now (a cooldown included)
    lockout_until: datetime | None  # its end; None while locked: until the daily reset
    lockout_reason: str
    symbols: tuple[SymbolHeadroom, ...] = ()
    # the largest realized profit today that keeps the best day within the consistency rule's share
    max_compliant_profit_today: float | None = None


def measure_headroom(
    engine: RiskEngine,
    instrument: Callable[[str], Instrument],
    open_orders: Callable[[str | None], Sequence[Order]],
    *,
    now: datetime,
    symbols: Iterable[str] = (),
    stops: Mapping[str, float] | None = None,
) -> Headroom:
    """The headroom now; ``symbols`` are reported (plus every symbol held), ``stops`` maps a
    symbol to its typical stop distance in price (see the module docstring)."""
    rules = [r for r in engine.rules.values() if r.config.enabled and not r.shadow]
    pnl = engine.pnl
    loss_limit, loss_used = _daily_loss(rules, float(pnl.daily_realized), float(pnl.daily_commissions))
    loss_left = None if loss_limit is None else max(0.0, loss_limit - loss_used)
    floor, distance, full = _drawdown(rules, pnl.equity, float(pnl.cash))
    counted = _of(rules, MaxContracts)
    contracts_limit = min((r.config.limit for r in counted), default=None)
    if counted:
        tightest = min(counted, key=lambda r: r.config.limit)
        used = _counted_contracts(engine, tightest)
    else:
        used = pnl.total_contracts()
    account = engine.lockouts.get("account")
    if account is not None and account.until is not None and account.until <= now:
        account = None  # ended; the engine's housekeeping drops it on its next pass
    room = _loss_room(loss_left, distance)
    blocked = _blocked_reason(engine, None if account is None else account.rule)
    held = {s.symbol: s.quantity for s in pnl.open_positions()}
    names = sorted(set(symbols) | set(held))
    per_symbol = tuple(
        _symbol_headroom(
            name,
            held.get(name, 0.0),
            rules=rules,
            engine=engine,
            instrument=instrument,
            open_orders=open_orders,
            stop=(stops or {}).get(name),
            room=room,
            blocked=blocked,
            now=now,
        )
        for name in names
    )
    return Headroom(
        measured_at=now,
        daily_loss_limit=loss_limit,
        daily_loss_used=loss_used,
        daily_loss_left=loss_left,
        drawdown_floor=floor,
        drawdown_distance=distance,
        drawdown_max=full,
        equity=pnl.equity,
        contracts_used=used,
        contracts_limit=contracts_limit,
        reset_at=engine.reset.next_reset,
        locked=account is not None,
        lockout_until=None if account is None else account.until,
        lockout_reason="" if account is None else f"{account.rule}: {account.reason}",
        symbols=per_symbol,
        max_compliant_profit_today=min(
            (float(r.max_profit_today) for r in _of(rules, Consistency)), default=None
        ),
    )


def _of(rules: Iterable[Rule], kind: type[R]) -> list[R]:
    return [r for r in rules if isinstance(r, kind)]


def _daily_loss(rules: list[Rule], realized: float, commissions: float) -> tuple[float | None, float]:
    """(limit, loss counted) of the daily loss rule with the least room (every ``DailyLossRoom``:
    realized, net or trailing from today's peak); (None, net loss) without one."""
    best: tuple[float | None, float] = (None, max(0.0, commissions - realized))
    for rule in rules:
        if not isinstance(rule, DailyLossRoom):
            continue
        exact_limit, exact_used = rule.loss_room()
        limit, loss = float(exact_limit), max(0.0, float(exact_used))
        if best[0] is None or limit - loss < best[0] - best[1]:
            best = (limit, loss)
    return best


def _drawdown(
    rules: list[Rule], equity: float, cash: float
) -> tuple[float | None, float | None, float | None]:
    """(floor, equity above it, room at the high-water mark) of the trailing drawdown rule
    closest to its floor."""
    found: tuple[float | None, float | None, float | None] = (None, None, None)
    for rule in _of(rules, TrailingDrawdown):
        counted = equity if rule.config.include_unrealized else cash
        floor = float(rule.floor)
        distance = counted - floor
        if found[1] is None or distance < found[1]:
            found = (floor, distance, float(rule.high_water) - floor)
    return found


def _counted_contracts(engine: RiskEngine, rule: MaxContracts) -> float:
    symbols = rule.config.symbols
    return sum(abs(s.quantity) for s in engine.pnl.open_positions() if not symbols or s.symbol in symbols)


def _loss_room(loss_left: float | None, distance: float | None) -> float | None:
    known = [v for v in (loss_left, distance) if v is not None]
    return max(0.0, min(known)) if known else None


def _blocked_reason(engine: RiskEngine, locked_by: str | None) -> str:
    """Why no new entry may be opened on the account now ("" when they may)."""
    if engine.paused:
        return f"paused: {engine.pause_reason or engine.state_reason}".rstrip(": ")
    if locked_by is not None:
        return f"account locked by {locked_by}"
    if engine.state is not TradingState.ACTIVE:
        return f"trading {engine.state.value}: {engine.state_reason}".rstrip(": ")
    return ""


def _stop(
    symbol: str,
    avg_price: float | None,
    given: float | None,
    open_orders: Callable[[str | None], Sequence[Order]],
) -> tuple[float | None, str]:
    """(distance, source) of the symbol's typical stop: the caller's, else the open position's
    working stop-loss order measured from the average price."""
    if given is not None and given > 0:
        return float(given), "recent trades"
    if avg_price is not None:
        for order in open_orders(symbol):
            if order.role is OrderRole.STOP_LOSS and order.stop_price is not None:
                return abs(float(order.stop_price) - avg_price), "working stop"
    return None, ""


def _symbol_headroom(
    symbol: str,
    held: float,
    *,
    rules: list[Rule],
    engine: RiskEngine,
    instrument: Callable[[str], Instrument],
    open_orders: Callable[[str | None], Sequence[Order]],
    stop: float | None,
    room: float | None,
    blocked: str,
    now: datetime,
) -> SymbolHeadroom:
    entry = engine.pnl.symbols.get(symbol)
    avg_price = entry.avg_price if entry is not None and held else None
    distance, source = _stop(symbol, avg_price, stop, open_orders)
    risk = None
    if distance is not None:
        inst = instrument(symbol)
        risk = distance * float(inst.multiplier) + 2.0 * float(inst.commission)
    bounds = _count_bounds(symbol, held, rules, engine, open_orders)
    reason = blocked or _symbol_blocked(rules, engine, symbol, now)
    if reason:
        bounds.append((0.0, reason))
    if room is not None and risk is not None and risk > _EPS:
        bounds.append((room / risk, f"loss room {room:,.2f} at {risk:,.2f} a contract ({source})"))
    for rule in rules:
        if isinstance(rule, ContractBound):  # the per-trade risk seam (module docstring)
            allowed = rule.contracts_allowed(symbol, risk)
            if allowed is not None:
                bounds.append((allowed, rule.name))
    allowed_now: float | None = None
    why = "no enforced limit"
    if bounds:
        value, why = min(bounds, key=lambda bound: bound[0])
        allowed_now = float(max(0, math.floor(value + _EPS)))
    return SymbolHeadroom(
        symbol=symbol,
        held=held,
        contracts_allowed=allowed_now,
        bound_by=why,
        risk_per_contract=risk,
        stop_distance=distance,
        stop_source=source,
    )


def _count_bounds(
    symbol: str,
    held: float,
    rules: list[Rule],
    engine: RiskEngine,
    open_orders: Callable[[str | None], Sequence[Order]],
) -> list[tuple[float, str]]:
    """The room under the contract-count limits; working entry orders count as if filled,
    as the rules' pre-trade checks count them."""
    bounds: list[tuple[float, str]] = []
    for rule in _of(rules, MaxContracts):
        counted = rule.config.symbols
        if counted and symbol not in counted:
            continue
        used = _counted_contracts(engine, rule) + sum(
            _working_entries(open_orders, s) for s in (counted or _symbols_with_orders(open_orders))
        )
        bounds.append((rule.config.limit - used, f"{rule.name} {rule.config.limit:g} ({used:g} in use)"))
    working = _working_entries(open_orders, symbol)
    for per in _of(rules, MaxContractsPerInstrument):
        limit = per.limit_for(symbol)
        used = abs(held) + working
        bounds.append((limit - used, f"{per.name} {limit:g} for {symbol} ({used:g} in use)"))
    return bounds


def _working_entries(open_orders: Callable[[str | None], Sequence[Order]], symbol: str) -> float:
    return sum(float(o.remaining) for o in open_orders(symbol) if o.role is OrderRole.ENTRY)


def _symbols_with_orders(open_orders: Callable[[str | None], Sequence[Order]]) -> set[str]:
    return {o.symbol for o in open_orders(None) if o.role is OrderRole.ENTRY}


def _symbol_blocked(rules: list[Rule], engine: RiskEngine, symbol: str, now: datetime) -> str:
    lock = engine.lockouts.get(symbol)
    if lock is not None and (lock.until is None or lock.until > now):
        return f"{symbol} locked"
    for rule in _of(rules, SymbolBlocks):
        if symbol in rule.config.symbols:
            return f"{symbol} blocked by {rule.name}"
    return ""
