"""Resting orders of one symbol, indexed so a tick touches only the orders it reaches.

Each (side, kind) has its own heap keyed by the trigger price, best first:
buy limits highest first, sell limits lowest first, buy stops lowest first, sell stops
highest first. A tick looks at four heap tops; only orders the price range reaches are
popped. Cancels and modifies are lazy: ``_live`` maps an order id to the sequence number
of its one valid entry, anything else popped is stale and dropped; the heaps are rebuilt
when stale entries outnumber live ones.

Fill prices (``low``/``high`` are the bar's range, both the price for a tick; ``open`` the
bar's first price when known):

- market, and a stop once triggered: the next price (``open`` for a bar, else ``price``),
  or for a stop the first price at or beyond the trigger, so a gap fills at the gap price;
  slippage in ticks then goes against the taker;
- limit: the limit or better, never better than the range allows (a bar entirely through
  a buy limit fills at its high: the worst price consistent with the bar).
"""

from __future__ import annotations

import itertools
from heapq import heapify, heappop, heappush

from trading.model import MarketDataUpdated, Order, OrderSide, OrderType

__all__ = ["Reached", "SymbolBook", "limit_fill_price", "stop_fill_price"]

_Entry = tuple[float, int, Order]
# What one price range reaches: markets, triggered stops, limits, ids of stop-limits it triggered.
Reached = tuple[list[Order], list[Order], list[Order], set[str]]


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def stop_fill_price(order: Order, tick: MarketDataUpdated, low: float, high: float) -> float:
    """The first price at or beyond a triggered stop (before slippage)."""
    stop = order.stop_price
    assert stop is not None  # validated at submit
    if tick.open is not None:
        return max(stop, tick.open) if order.side is OrderSide.BUY else min(stop, tick.open)
    return _clamp(stop, low, high)


def limit_fill_price(
    order: Order, tick: MarketDataUpdated, low: float, high: float, *, just_triggered: bool
) -> float:
    """A limit's fill: the limit or better, within the range. A stop-limit triggered in this
    same step starts from its stop, not from the bar's open."""
    limit = order.price
    assert limit is not None  # validated at submit
    start = tick.open
    if just_triggered:
        start = stop_fill_price(order, tick, low, high)
    if start is not None:
        return min(limit, start) if order.side is OrderSide.BUY else max(limit, start)
    return _clamp(limit, low, high)


class SymbolBook:
    """The working orders of one symbol; ``collect`` pops what a price range reaches."""

    __slots__ = (
        "_live",
        "_seq",
        "_stale",
        "buy_limits",
        "buy_stops",
        "markets",
        "sell_limits",
        "sell_stops",
        "symbol",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.markets: list[tuple[int, Order]] = []
        self.buy_limits: list[_Entry] = []  # key -limit
        self.sell_limits: list[_Entry] = []  # key limit
        self.buy_stops: list[_Entry] = []  # key stop
        self.sell_stops: list[_Entry] = []  # key -stop
        self._live: dict[str, int] = {}
        self._seq = itertools.count()
        self._stale = 0

    def __len__(self) -> int:
        return len(self._live)

    @property
    def stale(self) -> int:
        return self._stale

    def add(self, order: Order) -> None:
        """Index a working order (again, after a modify: the old entry goes stale)."""
        if order.order_id in self._live:
            self._stale += 1
        seq = next(self._seq)
        self._live[order.order_id] = seq
        kind = order.order_type
        buy = order.side is OrderSide.BUY
        if kind is OrderType.MARKET or (kind is OrderType.STOP and order.triggered):
            self.markets.append((seq, order))
        elif kind is OrderType.LIMIT or (kind is OrderType.STOP_LIMIT and order.triggered):
            price = order.price
            assert price is not None
            heappush(self.buy_limits if buy else self.sell_limits, (-price if buy else price, seq, order))
        else:
            stop = order.stop_price
            assert stop is not None
            heappush(self.buy_stops if buy else self.sell_stops, (stop if buy else -stop, seq, order))
        if self._stale > 64 and self._stale > len(self._live):
            self._compact()

    def remove(self, order_id: str) -> bool:
        if self._live.pop(order_id, None) is None:
            return False
        self._stale += 1
        return True

    def collect(self, low: float, high: float) -> Reached | None:
        """Pop what ``[low, high]`` reaches: (markets, triggered stops, limits), each in priority
        order, and the ids of the stop-limits triggered by this range; None when no order is
        to be filled.

        A triggered stop-limit goes into its limit heap, so it is in ``limits`` when the same
        range also reaches its limit. Triggered orders are marked ``triggered``.
        """
        live = self._live
        if not live:
            return None
        markets: list[Order] = []
        if self.markets:
            for seq, order in self.markets:
                if live.get(order.order_id) == seq:
                    del live[order.order_id]
                    markets.append(order)
                else:
                    self._stale -= 1
            self.markets.clear()
        popped = self._pop(self.buy_stops, high) + self._pop(self.sell_stops, -low)
        stops: list[Order] = []
        fresh: set[str] = set()
        if popped:
            popped.sort(key=_first)
            for _, order in popped:
                order.triggered = True
                if order.order_type is OrderType.STOP_LIMIT:
                    fresh.add(order.order_id)
                    self.add(order)
                else:
                    stops.append(order)
        popped = self._pop(self.buy_limits, -low) + self._pop(self.sell_limits, high)
        if len(popped) > 1:
            popped.sort(key=_first)
        if not (markets or stops or popped):
            return None
        return markets, stops, [order for _, order in popped], fresh

    def _pop(self, heap: list[_Entry], bound: float) -> list[tuple[int, Order]]:
        """Pop live entries whose key is <= ``bound`` (keys are signed so that holds for every heap)."""
        out: list[tuple[int, Order]] = []
        live = self._live
        while heap and heap[0][0] <= bound + 1e-12:
            _, seq, order = heappop(heap)
            if live.get(order.order_id) == seq:
                del live[order.order_id]
                out.append((seq, order))
            else:
                self._stale -= 1
        return out

    def _compact(self) -> None:
        live = self._live
        self.markets = [e for e in self.markets if live.get(e[1].order_id) == e[0]]
        for heap in (self.buy_limits, self.sell_limits, self.buy_stops, self.sell_stops):
            heap[:] = [e for e in heap if live.get(e[2].order_id) == e[1]]
            heapify(heap)
        self._stale = 0

    def __repr__(self) -> str:
        return f"SymbolBook({self.symbol}, live={len(self._live)}, stale={self._stale})"


def _first(entry: tuple[int, Order]) -> int:
    return entry[0]
