"""``PaperBroker``: a simulated venue that matches working orders against every price.

Orders are matched on the *next* price after they are submitted (see ``_matching`` for the
fill prices). Within one step markets fill first, then triggered stops, then limits, each
in submission order; a fill cancels its OCO siblings in the same step, so when one bar
reaches both legs of a bracket the stop (worst case) wins. The events of a step are
published after the matching is done, then the ``MarketDataUpdated`` itself, so a
subscriber sees positions that already include the fills of that price and may submit
or cancel orders from its handler safely. Partial fills happen only when a reduce-only
order is larger than the position it reduces (the rest is cancelled); volume is not
modelled.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from trading.broker._matching import SymbolBook, limit_fill_price, stop_fill_price
from trading.broker._paper_exits import PaperExits
from trading.broker._state import STATE_VERSION, order_from_dict, order_to_dict
from trading.broker.base import AccountState, PreTradeCheck
from trading.bus import EventBus
from trading.clock import Clock
from trading.errors import BrokerStateError, UnknownInstrumentError
from trading.model import (
    AccountUpdated,
    Event,
    Instrument,
    MarketDataUpdated,
    Order,
    OrderFilled,
    OrderStatus,
    Position,
)

__all__ = ["PaperBroker"]

logger = logging.getLogger(__name__)

_EPS = 1e-9
_INF = math.inf


class PaperBroker(PaperExits):
    """A paper account over ``instruments``; implements the ``Broker`` protocol.

    ``buying_power`` is ``equity * buying_power_multiple`` minus the gross exposure of the
    open positions at their last prices, floored at zero.
    """

    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        instruments: Iterable[Instrument],
        *,
        starting_balance: float = 100_000.0,
        slippage_ticks: int = 0,
        buying_power_multiple: float = 4.0,
        keep_closed_orders: int = 10_000,
    ) -> None:
        instruments = tuple(instruments)
        if not instruments:
            raise ValueError("PaperBroker needs at least one instrument")
        if not (math.isfinite(starting_balance) and starting_balance > 0):
            raise ValueError(f"starting_balance must be a finite number > 0, got {starting_balance!r}")
        if isinstance(slippage_ticks, bool) or not isinstance(slippage_ticks, int) or slippage_ticks < 0:
            raise ValueError(f"slippage_ticks must be an int >= 0, got {slippage_ticks!r}")
        if not (math.isfinite(buying_power_multiple) and buying_power_multiple > 0):
            raise ValueError(f"buying_power_multiple must be > 0, got {buying_power_multiple!r}")
        by_symbol: dict[str, Instrument] = {}
        for inst in instruments:
            if inst.symbol in by_symbol:
                raise ValueError(f"instrument {inst.symbol!r} is given twice")
            by_symbol[inst.symbol] = inst
        super().__init__(bus, clock, by_symbol, starting_balance, buying_power_multiple)
        self._slippage_ticks = slippage_ticks
        self._keep_closed = keep_closed_orders
        self._books: dict[str, SymbolBook] = {s: SymbolBook(s) for s in by_symbol}
        self._closed: OrderedDict[str, Order] = OrderedDict()
        self._last: dict[str, float] = {}
        self._unknown_symbols: set[str] = set()
        self._ticks = 0
        self._bad_ticks = 0

    # --- queries -------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise UnknownInstrumentError(symbol) from None

    def get_order(self, order_id: str) -> Order | None:
        return self._open.get(order_id) or self._closed.get(order_id)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self._open.values() if symbol is None or o.symbol == symbol]

    def positions(self) -> dict[str, Position]:
        return self._ledger.open_positions()

    def account(self) -> AccountState:
        return self._ledger.account()

    def last_price(self, symbol: str) -> float | None:
        return self._last.get(symbol)

    def add_pre_trade_check(self, check: PreTradeCheck) -> None:
        if not callable(check):
            raise TypeError(f"a pre-trade check must be callable, got {check!r}")
        self._checks.append(check)

    # --- market data ---------------------------------------------------------------

    def on_market_data(self, event: MarketDataUpdated) -> None:
        """Match working orders against ``event``, publish the resulting events, then ``event``."""
        symbol = event.symbol
        book = self._books.get(symbol)
        price = event.price
        if book is None or not 0.0 < price < _INF:
            self._skip_tick(event, book is None)
            return
        self._ticks += 1
        self._last[symbol] = price
        pos = self._ledger.positions.get(symbol)
        if pos is not None:
            pos.last_price = price
        if book._live:
            low = price if event.low is None else event.low
            high = price if event.high is None else event.high
            markets, stops, limits, fresh = book.collect(low, high)
            if markets or stops or limits:
                events = self._execute(event, low, high, markets, stops, limits, fresh)
                for out in events:
                    self._bus.publish(out)
        self._bus.publish(event)

    def _skip_tick(self, event: MarketDataUpdated, unknown: bool) -> None:
        if unknown:
            if event.symbol not in self._unknown_symbols:
                self._unknown_symbols.add(event.symbol)
                logger.warning(
                    "market data for %r, which is not an instrument of this broker: not matched", event.symbol
                )
            self._bus.publish(event)
            return
        self._bad_ticks += 1
        logger.warning("dropped market data with an invalid price: %r", event)

    def _execute(
        self,
        tick: MarketDataUpdated,
        low: float,
        high: float,
        markets: list[Order],
        stops: list[Order],
        limits: list[Order],
        fresh: set[str],
    ) -> list[Event]:
        inst = self._instruments[tick.symbol]
        slip = self._slippage_ticks * inst.tick_size
        now = self._clock.now()
        events: list[Event] = []
        start = tick.price if tick.open is None else tick.open
        for order in markets:
            if order.is_open:
                self._fill(order, start + order.side.sign * slip, inst, now, events)
        for order in stops:
            if order.is_open:
                self._fill(
                    order, stop_fill_price(order, tick, low, high) + order.side.sign * slip, inst, now, events
                )
        for order in limits:
            if order.is_open:
                just = order.order_id in fresh
                self._fill(
                    order, limit_fill_price(order, tick, low, high, just_triggered=just), inst, now, events
                )
        if any(type(e) is OrderFilled for e in events):
            acct = self._ledger.account()
            events.append(
                AccountUpdated(
                    ts=now,
                    cash=acct.cash,
                    equity=acct.equity,
                    buying_power=acct.buying_power,
                    realized_pnl=acct.realized_pnl,
                    unrealized_pnl=acct.unrealized_pnl,
                )
            )
        return events

    def _fill(self, order: Order, price: float, inst: Instrument, now: datetime, events: list[Event]) -> None:
        price = max(inst.round_price(price), inst.tick_size)
        qty = order.remaining
        if order.reduce_only:
            pos = self._ledger.positions.get(order.symbol)
            reducible = abs(pos.quantity) if pos is not None and pos.side is order.side.opposite else 0.0
            if reducible <= _EPS:
                self._cancel(
                    order, "reduce-only order: the position is already flat or on the same side", now, events
                )
                return
            qty = min(qty, reducible)
        realized, commission, position_events = self._ledger.apply_fill(
            order.symbol, order.side, qty, price, strategy=order.strategy, now=now
        )
        filled_before = order.filled_quantity
        order.filled_quantity = filled_before + qty
        order.avg_fill_price = (
            (order.avg_fill_price or 0.0) * filled_before + price * qty
        ) / order.filled_quantity
        complete = order.remaining <= _EPS
        order.transition(OrderStatus.FILLED if complete else OrderStatus.PARTIALLY_FILLED, now)
        self._fills += 1
        events.append(
            OrderFilled(
                ts=now,
                order_id=order.order_id,
                symbol=order.symbol,
                strategy=order.strategy,
                side=order.side,
                quantity=qty,
                price=price,
                commission=commission,
                filled_quantity=order.filled_quantity,
                order_quantity=order.quantity,
                role=order.role,
                fill_id=self._fill_ids(),
                transaction_id=order.transaction_id,
            )
        )
        events.extend(position_events)
        logger.debug("filled %r at %s (realized %.2f)", order, price, realized)
        if complete:
            self._retire(order)
        else:
            self._cancel(
                order, "reduce-only order clipped to the position; the rest is cancelled", now, events
            )
        if order.oco_group is not None:
            for sibling_id in tuple(self._oco.get(order.oco_group, ())):
                sibling = self._open.get(sibling_id)
                if sibling is not None:
                    self._cancel(sibling, f"OCO sibling {order.order_id} filled", now, events)

    # --- book keeping hooks used by PaperOps and PaperExits ---------------------------------------------

    def _index(self, order: Order) -> None:
        self._books[order.symbol].add(order)

    def _unindex(self, order: Order) -> None:
        self._books[order.symbol].remove(order.order_id)

    def _retire(self, order: Order) -> None:
        self._open.pop(order.order_id, None)
        self._books[order.symbol].remove(order.order_id)
        if order.oco_group is not None:
            group = self._oco.get(order.oco_group)
            if group is not None:
                group.discard(order.order_id)
                if not group:
                    del self._oco[order.oco_group]
        self._closed[order.order_id] = order
        while len(self._closed) > self._keep_closed:
            self._closed.popitem(last=False)

    def _known_order(self, order_id: str) -> bool:
        return order_id in self._open or order_id in self._closed

    # --- persistence ---------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """The account as JSON-able data: cash, P&L, commissions, positions, open orders, last prices."""
        state = {"version": STATE_VERSION, **self._ledger.export()}
        state["open_orders"] = [order_to_dict(o) for o in self._open.values()]
        state["last_prices"] = dict(self._last)
        return state

    def restore_state(self, state: dict[str, Any]) -> None:
        """Replace the account with ``state`` (from ``export_state``); all or nothing.

        No events are published: subscribers read ``positions()``/``open_orders()`` after a restore.
        """
        if not isinstance(state, dict):
            raise BrokerStateError(f"state must be an object, got {type(state).__name__}")
        if state.get("version") != STATE_VERSION:
            raise BrokerStateError(
                f"state.version is {state.get('version')!r}; this broker reads {STATE_VERSION}"
            )
        starting, realized, commissions, positions = self._ledger.read(state)
        raw_orders = state.get("open_orders", [])
        if not isinstance(raw_orders, list):
            raise BrokerStateError(f"state.open_orders: expected a list, got {type(raw_orders).__name__}")
        orders: dict[str, Order] = {}
        for i, raw in enumerate(raw_orders):
            order = order_from_dict(raw, f"state.open_orders[{i}]")
            if order.symbol not in self._instruments:
                raise BrokerStateError(f"state.open_orders[{i}]: unknown symbol {order.symbol!r}")
            if order.order_id in orders:
                raise BrokerStateError(f"state.open_orders[{i}]: order id {order.order_id!r} appears twice")
            orders[order.order_id] = order
        last = state.get("last_prices", {})
        if not isinstance(last, dict) or any(
            s not in self._instruments or isinstance(p, bool) or not isinstance(p, (int, float))
            for s, p in last.items()
        ):
            raise BrokerStateError(f"state.last_prices must map known symbols to prices, got {last!r}")
        self._ledger.replace(starting, realized, commissions, positions)
        self._books = {s: SymbolBook(s) for s in self._instruments}
        self._open.clear()
        self._oco.clear()
        self._last = {s: float(p) for s, p in last.items()}
        for order in orders.values():
            self._open[order.order_id] = order
            if order.oco_group is not None:
                self._oco.setdefault(order.oco_group, set()).add(order.order_id)
            self._index(order)
        logger.info(
            "restored paper account: %d positions, %d open orders", len(self.positions()), len(orders)
        )

    # --- observability -------------------------------------------------------------

    def __repr__(self) -> str:
        acct = self._ledger.account()
        return (
            f"PaperBroker(instruments={len(self._instruments)}, open_orders={len(self._open)}, "
            f"positions={len(self.positions())}, equity={acct.equity:.2f}, ticks={self._ticks})"
        )
