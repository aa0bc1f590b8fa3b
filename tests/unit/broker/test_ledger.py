"""The paper ledger's money is exact: property tests over random fill sequences."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trading.broker._ledger import Ledger
from trading.model import Instrument, OrderSide, PositionClosed, PositionEvent, to_money

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
INSTRUMENTS = {
    i.symbol: i
    for i in (
        Instrument(symbol="ES", tick_size=0.25, multiplier=50, commission=2.05),
        Instrument(symbol="AAPL", tick_size=0.01, multiplier=1, commission=0.005, asset_class="STOCK"),
        Instrument(symbol="EURUSD", tick_size=0.00001, multiplier=100_000, commission=0.7),
        Instrument(symbol="CL", tick_size=0.01, multiplier=1000, commission=1.5),
    )
}
START = Decimal("100000.00")

# (symbol, side, quantity, price in ticks): quantities in halves, so their float sums are exact
fills = st.lists(
    st.tuples(
        st.sampled_from(sorted(INSTRUMENTS)),
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(min_value=1, max_value=12).map(lambda n: n / 2),
        st.integers(min_value=1, max_value=2_000_000),
    ),
    min_size=1,
    max_size=60,
)


def _ledger() -> Ledger:
    return Ledger(INSTRUMENTS, starting_balance=START, buying_power_multiple=4.0)


@settings(max_examples=300, deadline=None)
@given(fills)
def test_ledger_random_fills_keep_cash_and_positions_exact(sequence) -> None:
    ledger = _ledger()
    realized_sum = commission_sum = Decimal(0)
    signed: dict[str, float] = {}
    cash_flow: dict[str, Decimal] = {}
    for symbol, side, qty, ticks in sequence:
        inst = INSTRUMENTS[symbol]
        price = inst.round_price(ticks * inst.tick_size)
        realized, commission, events = ledger.apply_fill(symbol, side, qty, price, strategy="s", now=NOW)
        realized_sum += realized
        commission_sum += commission
        signed[symbol] = signed.get(symbol, 0.0) + side.sign * qty
        value = to_money(price) * to_money(qty) * to_money(inst.multiplier)
        cash_flow[symbol] = cash_flow.get(symbol, Decimal(0)) - side.sign * value
        assert sum((e.realized_delta for e in events), Decimal(0)) == realized
        assert all(isinstance(e.realized_pnl, Decimal) for e in events)

        acct = ledger.account()
        assert acct.cash == START + realized_sum - commission_sum
        assert (acct.realized_pnl, acct.commissions) == (realized_sum, commission_sum)
        pos = ledger.positions[symbol]
        assert pos.quantity == signed[symbol]
        # what the position realized is exactly its cash flows plus the open quantity at cost
        direction = 1 if pos.quantity > 0 else -1
        assert pos.realized_pnl == cash_flow[symbol] + direction * pos.cost_basis
    assert sum((p.realized_pnl for p in ledger.positions.values()), Decimal(0)) == realized_sum
    assert sum((p.commissions for p in ledger.positions.values()), Decimal(0)) == commission_sum


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(INSTRUMENTS)),
    st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
    st.integers(min_value=1, max_value=40).map(lambda n: n / 2),
    st.integers(min_value=1, max_value=2_000_000),
    st.integers(min_value=1, max_value=2_000_000),
)
def test_ledger_round_trip_realizes_exactly_exit_minus_entry(
    symbol, side, qty, entry_ticks, exit_ticks
) -> None:
    inst = INSTRUMENTS[symbol]
    entry = inst.round_price(entry_ticks * inst.tick_size)
    exit_ = inst.round_price(exit_ticks * inst.tick_size)
    ledger = _ledger()

    ledger.apply_fill(symbol, side, qty, entry, strategy="s", now=NOW)
    realized, _, events = ledger.apply_fill(symbol, side.opposite, qty, exit_, strategy="s", now=NOW)

    expected = (to_money(exit_) - to_money(entry)) * to_money(qty) * to_money(inst.multiplier) * side.sign
    assert realized == expected
    assert [type(e) for e in events] == [PositionClosed]
    assert ledger.positions[symbol].realized_pnl == expected


def test_ledger_flip_closes_at_cost_and_opens_the_rest_at_the_fill() -> None:
    ledger = _ledger()
    ledger.apply_fill("ES", OrderSide.BUY, 1, 5000.25, strategy="s", now=NOW)
    ledger.apply_fill("ES", OrderSide.BUY, 2, 5001.0, strategy="s", now=NOW)

    realized, commission, events = ledger.apply_fill("ES", OrderSide.SELL, 5, 5002.5, strategy="s", now=NOW)

    # closes 3 bought for 5000.25 + 2 x 5001.00 at 5002.50: (15007.50 - 15002.25) x 50
    assert realized == Decimal("262.5")
    assert commission == Decimal("10.25")
    closed, opened = events
    assert isinstance(closed, PositionEvent) and (closed.realized_delta, closed.commission) == (
        realized,
        commission,
    )
    assert (opened.quantity, opened.avg_price, opened.realized_delta) == (-2.0, 5002.5, Decimal(0))
    assert ledger.positions["ES"].cost_basis == Decimal("5002.5") * 2 * 50
