"""PaperBroker matching against a bar's range: property tests over random bars and orders.

Each example opens a position, rests random orders (market, limit, stop, stop-limit, on
ES and AAPL) and a bracket (a reduce-only take-profit limit and stop-loss stop in one OCO
group) against that position, sends one to three bars (``low <= open, close <= high``, every
price on the tick grid, some bars without an open), then flattens. After every bar, every
order's fate is checked against the bar it saw: fill or no fill, fill price, quantity, the
OCO group; the account is recounted from the fill events in exact ``Decimal``.

Not asserted here: which bracket leg wins on a bar that *opens* through one of its legs
(the broker is changing so that a bar opening through the take-profit fills it at the open).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.broker.conftest import AAPL, ES, Recorder
from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import (
    Instrument,
    MarketDataUpdated,
    Order,
    OrderFilled,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionEvent,
    to_money,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
START = Decimal(100_000)
BASE = {"ES": 20_000, "AAPL": 19_000}  # ticks: ES 5000.00, AAPL 190.00
INSTRUMENTS = {"ES": ES, "AAPL": AAPL}
KINDS = [OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT]


def _price(inst: Instrument, ticks: int) -> float:
    return inst.round_price(ticks * inst.tick_size)


@dataclass(frozen=True)
class Bar:
    open: float | None  # None: a bar known only by its range and close
    high: float
    low: float
    close: float

    @property
    def start(self) -> float:
        """Where the bar begins: its open, else its close (what the broker uses for a market)."""
        return self.close if self.open is None else self.open


@dataclass(frozen=True)
class Before:
    """An order as it stood when a bar arrived."""

    order: Order
    triggered: bool
    remaining: float


@st.composite
def bars(draw: st.DrawFn, inst: Instrument) -> Bar:
    base = BASE[inst.symbol]
    open_t = base + draw(st.integers(-12, 12))
    close_t = base + draw(st.integers(-12, 12))
    low_t = min(open_t, close_t) - draw(st.integers(0, 8))
    high_t = max(open_t, close_t) + draw(st.integers(0, 8))
    with_open = draw(st.booleans() | st.just(True))  # mostly bars with an open
    return Bar(
        open=_price(inst, open_t) if with_open else None,
        high=_price(inst, high_t),
        low=_price(inst, low_t),
        close=_price(inst, close_t),
    )


@st.composite
def resting_orders(draw: st.DrawFn) -> list[Order]:
    orders = []
    for _ in range(draw(st.integers(0, 8))):
        inst = INSTRUMENTS[draw(st.sampled_from(sorted(INSTRUMENTS)))]
        kind = draw(st.sampled_from(KINDS))
        base = BASE[inst.symbol]
        price = _price(inst, base + draw(st.integers(-14, 14)))
        stop = _price(inst, base + draw(st.integers(-14, 14)))
        orders.append(
            Order(
                symbol=inst.symbol,
                side=draw(st.sampled_from([BUY, SELL])),
                quantity=draw(st.integers(1, 5)),
                order_type=kind,
                price=price if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
                stop_price=stop if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None,
            )
        )
    return orders


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[OrderSide, int, int, int, list[Order], list[Bar], list[Bar]]:
    side = draw(st.sampled_from([BUY, SELL]))
    qty = draw(st.integers(1, 4))
    tp_ticks = draw(st.integers(1, 12))
    sl_ticks = draw(st.integers(1, 12))
    others = draw(resting_orders())
    n = draw(st.integers(1, 3))
    es_bars = draw(st.lists(bars(ES), min_size=n, max_size=n))
    aapl_bars = draw(st.lists(bars(AAPL), min_size=n, max_size=n))
    return side, qty, tp_ticks, sl_ticks, others, es_bars, aapl_bars


def _send(broker: PaperBroker, clock: TestClock, symbol: str, bar: Bar) -> None:
    clock.advance(5)
    broker.on_market_data(
        MarketDataUpdated(
            ts=clock.now(), symbol=symbol, price=bar.close, open=bar.open, high=bar.high, low=bar.low
        )
    )


def _stop_reached(order: Order, bar: Bar) -> bool:
    stop = order.stop_price
    assert stop is not None
    return bar.high >= stop if order.side is BUY else bar.low <= stop


def _limit_reached(order: Order, bar: Bar) -> bool:
    limit = order.price
    assert limit is not None
    return bar.low <= limit if order.side is BUY else bar.high >= limit


def _reached(before: Before, bar: Bar) -> bool:
    """Whether ``bar`` reaches the order as it stood before the bar."""
    order = before.order
    kind = order.order_type
    if kind is OrderType.MARKET or (kind is OrderType.STOP and before.triggered):
        return True
    if kind is OrderType.STOP:
        return _stop_reached(order, bar)
    if kind is OrderType.LIMIT:
        return _limit_reached(order, bar)
    return (before.triggered or _stop_reached(order, bar)) and _limit_reached(order, bar)


def _expected_price(before: Before, bar: Bar) -> float | None:
    """The exact fill price for a bar with an open (no slippage), or None where only bounds are checked."""
    order, start = before.order, bar.open
    if start is None:
        return None
    better = min if order.side is BUY else max
    worse = max if order.side is BUY else min
    kind = order.order_type
    if kind is OrderType.MARKET or (kind is OrderType.STOP and before.triggered):
        return start
    if kind is OrderType.STOP:
        assert order.stop_price is not None
        return worse(order.stop_price, start)
    assert order.price is not None
    if kind is OrderType.STOP_LIMIT and not before.triggered:
        assert order.stop_price is not None
        start = worse(order.stop_price, start)  # a limit born in this bar starts from its trigger
    return better(order.price, start)


def _check_order(before: Before, bar: Bar, fills: list[OrderFilled], oco_or_reduce: bool) -> None:
    order = before.order
    reached = _reached(before, bar)
    assert len(fills) <= 1, f"{order!r} filled {len(fills)} times on one bar"
    if not fills:
        if reached and not oco_or_reduce:
            raise AssertionError(f"{order!r} was reached by {bar} and did not fill")
        if not reached:
            assert order.is_open or oco_or_reduce, f"{order!r} closed by a bar that did not reach it"
        if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and order.is_open:
            assert order.triggered == (before.triggered or _stop_reached(order, bar)), (order, bar)
        return
    [fill] = fills
    assert reached, f"{order!r} filled at {fill.price} by {bar}, which does not reach it"
    assert 0 < fill.quantity <= before.remaining
    assert bar.low <= fill.price <= bar.high, f"{order!r} filled at {fill.price} outside {bar}"
    if order.price is not None:  # never worse than its limit
        assert fill.price <= order.price if order.side is BUY else fill.price >= order.price
    expected = _expected_price(before, bar)
    if expected is not None:
        assert fill.price == expected, f"{order!r} filled at {fill.price}, expected {expected} on {bar}"
    if not oco_or_reduce:
        assert fill.quantity == before.remaining and order.status is OrderStatus.FILLED


def _opens_through(leg: Order, bar: Bar) -> bool:
    """Whether ``bar`` opens at or beyond a stop's trigger (a sell stop at or below it)."""
    if bar.open is None:
        return False
    level = leg.stop_price
    assert level is not None
    return bar.open >= level if leg.side is BUY else bar.open <= level


class Account:
    """The account recounted from fill and position events alone."""

    def __init__(self) -> None:
        self.quantity: dict[str, float] = defaultdict(float)
        self.cash_flow = Decimal(0)  # what the fills paid and received, exact
        self.commissions = Decimal(0)
        self.realized = Decimal(0)

    def take(self, events: list) -> None:
        for e in events:
            if isinstance(e, OrderFilled):
                inst = INSTRUMENTS[e.symbol]
                self.quantity[e.symbol] += e.side.sign * e.quantity
                value = to_money(e.price) * to_money(e.quantity) * to_money(inst.multiplier)
                self.cash_flow -= e.side.sign * value
                self.commissions += e.commission
            elif isinstance(e, PositionEvent):
                self.realized += e.realized_delta


def _check_account(broker: PaperBroker, account: Account) -> None:
    acct = broker.account()
    assert acct.cash == START + account.realized - account.commissions
    assert (acct.realized_pnl, acct.commissions) == (account.realized, account.commissions)
    held = {s: p.quantity for s, p in broker.positions().items()}
    assert held == {s: q for s, q in account.quantity.items() if q != 0}


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_paper_matching_random_bars_fill_within_the_rules_and_books_recount_exactly(scenario) -> None:
    side, qty, tp_ticks, sl_ticks, others, es_bars, aapl_bars = scenario
    bus, clock = EventBus(), TestClock(datetime(2026, 1, 5, 15, 0, tzinfo=UTC))
    broker = PaperBroker(bus, clock, [ES, AAPL], starting_balance=START)
    recorder = Recorder(bus)
    account = Account()
    entry = _price(ES, BASE["ES"])
    # Arrange: a position in ES at 5000, its bracket, and the other orders resting
    broker.submit(Order(symbol="ES", side=side, quantity=qty))
    _send(broker, clock, "ES", Bar(open=entry, high=entry, low=entry, close=entry))
    for symbol in ("AAPL", "ES"):  # a last price for each symbol
        price = _price(INSTRUMENTS[symbol], BASE[symbol])
        _send(broker, clock, symbol, Bar(open=None, high=price, low=price, close=price))
    profit = side.sign
    tp = Order(
        symbol="ES",
        side=side.opposite,
        quantity=qty,
        order_type=OrderType.LIMIT,
        price=_price(ES, BASE["ES"] + profit * tp_ticks),
        role=OrderRole.TAKE_PROFIT,
        reduce_only=True,
    )
    sl = Order(
        symbol="ES",
        side=side.opposite,
        quantity=qty,
        order_type=OrderType.STOP,
        stop_price=_price(ES, BASE["ES"] - profit * sl_ticks),
        role=OrderRole.STOP_LOSS,
        reduce_only=True,
    )
    broker.submit_oco([tp, sl])
    for order in others:
        broker.submit(order)
    everything = [tp, sl, *others]
    assert all(o.status is OrderStatus.ACCEPTED for o in everything)
    account.take(recorder.events)
    _check_account(broker, account)

    # Act / Assert: bar by bar, each order's fate is what the bar it saw allows
    for es_bar, aapl_bar in zip(es_bars, aapl_bars, strict=True):
        for symbol, bar in (("ES", es_bar), ("AAPL", aapl_bar)):
            working = [
                Before(o, o.triggered, o.remaining) for o in everything if o.is_open and o.symbol == symbol
            ]
            held = broker.positions().get(symbol)
            covered = held is not None and held.quantity == side.sign * qty  # the bracket's whole position
            recorder.clear()
            _send(broker, clock, symbol, bar)
            fills: dict[str, list[OrderFilled]] = defaultdict(list)
            for e in recorder.of(OrderFilled):
                fills[e.order_id].append(e)
            assert set(fills) <= {b.order.order_id for b in working}, "a closed order filled"
            for before in working:
                special = before.order in (tp, sl)
                _check_order(before, bar, fills[before.order.order_id], special)
            if symbol == "ES":
                _check_bracket(tp, sl, bar, working, fills, covered=covered)
            account.take(recorder.events)
            _check_account(broker, account)

    # Flatten: every position closed, the books hold exactly what the fills paid and received
    recorder.clear()
    broker.flatten_all("end of the example")
    for symbol in ("ES", "AAPL"):
        price = _price(INSTRUMENTS[symbol], BASE[symbol])
        _send(broker, clock, symbol, Bar(open=price, high=price, low=price, close=price))
    account.take(recorder.events)
    _check_account(broker, account)
    assert broker.positions() == {} and broker.open_orders() == []
    assert account.realized == account.cash_flow
    assert broker.account().cash == START + account.cash_flow - account.commissions
    for order in everything:
        assert order.filled_quantity <= order.quantity
        assert not order.is_open


def _check_bracket(
    tp: Order,
    sl: Order,
    bar: Bar,
    working: list[Before],
    fills: dict[str, list[OrderFilled]],
    *,
    covered: bool,
) -> None:
    """At most one leg ever fills, and a fill closes the other. When no other ES order fills on
    the bar, a leg's fill cancels a working sibling as its OCO sibling; and on a bar that
    reaches both legs and opens between them, the stop-loss (worst case) fills; on a bar that
    opens through the take-profit while the position is still the bracket's (``covered``: another
    order may have closed it, and a reduce-only leg then cannot fill), the take-profit fills
    first, at the open."""
    legs = {tp.order_id, sl.order_id}
    assert sum(1 for leg in (tp, sl) if leg.filled_quantity > 0) <= 1
    both_working = {b.order.order_id for b in working} >= legs
    alone = not any(fills[i] for i in fills if i not in legs)
    if fills[tp.order_id] or fills[sl.order_id]:
        filled, other = (tp, sl) if fills[tp.order_id] else (sl, tp)
        assert not other.is_open
        if both_working and alone:
            assert other.status is OrderStatus.CANCELLED
            assert other.reason == f"OCO sibling {filled.order_id} filled"
    if (
        covered
        and both_working
        and alone
        and _limit_reached(tp, bar)
        and _stop_reached(sl, bar)
        and not (_opens_through(sl, bar) or (bar.open is not None and _limit_crossed_at_open(tp, bar.open)))
    ):
        assert (sl.status, tp.status) == (OrderStatus.FILLED, OrderStatus.CANCELLED), bar
    if covered and both_working and alone and bar.open is not None and _limit_crossed_at_open(tp, bar.open):
        assert (tp.status, sl.status) == (OrderStatus.FILLED, OrderStatus.CANCELLED), bar
        assert [f.price for f in fills[tp.order_id]] == [bar.open], bar


def _limit_crossed_at_open(limit: Order, open_price: float) -> bool:
    """The bar opened at or through a limit order's price (a sell at or above, a buy at or below)."""
    assert limit.price is not None
    return open_price <= limit.price if limit.side is BUY else open_price >= limit.price
