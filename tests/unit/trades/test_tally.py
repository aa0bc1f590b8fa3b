"""FillTally: a transaction's stored fills replayed with the live path's arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trading.model import OrderRole, OrderSide
from trading.storage import FillRecord
from trading.trades._tally import tally_fills

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _fill(n: int, role: OrderRole, qty: float, price: float, commission: float = 0.0) -> FillRecord:
    return FillRecord(
        fill_id=f"F-{n}",
        order_id=f"O-{n}",
        transaction_id="T-1",
        symbol="ES",
        side=OrderSide.BUY if role is OrderRole.ENTRY else OrderSide.SELL,
        quantity=qty,
        price=price,
        commission=commission,
        role=role,
        ts=T0 + timedelta(seconds=n),
    )


def test_tally_entry_reduce_add_take_profit_replays_live_pnl_and_averages() -> None:
    # Arrange: long 2 @ 5000 and 5001, reduce 1 @ 5004, add 1 @ 5002, take profit 2 @ 5010
    fills = [
        _fill(0, OrderRole.ENTRY, 1, 5000.0, 1.0),
        _fill(1, OrderRole.ENTRY, 1, 5001.0, 1.0),
        _fill(2, OrderRole.EXIT, 1, 5004.0, 1.0),
        _fill(3, OrderRole.ENTRY, 1, 5002.0, 1.0),
        _fill(4, OrderRole.TAKE_PROFIT, 2, 5010.0, 2.0),
    ]
    # Act
    tally = tally_fills(fills, side=OrderSide.BUY, multiplier=50.0)
    # Assert: average 5000.5; reduce realizes 3.5 x 1 x 50 = 175; add -> (5000.5 + 5002) / 2
    # = 5001.25; TP realizes 8.75 x 2 x 50 = 875
    assert (tally.entry_quantity, tally.exit_quantity, tally.open_quantity) == (3.0, 3.0, 0.0)
    assert tally.entry_price == pytest.approx(5001.25)
    assert tally.realized_pnl == pytest.approx(175.0 + 875.0)
    assert tally.exit_price == pytest.approx((5004.0 + 2 * 5010.0) / 3)
    assert (tally.commissions, tally.last_exit_role, tally.is_closed) == (6.0, OrderRole.TAKE_PROFIT, True)
    assert (tally.last_entry_at, tally.last_exit_at) == (T0 + timedelta(seconds=3), T0 + timedelta(seconds=4))


def test_tally_short_stop_loss_realizes_a_loss() -> None:
    fills = [_fill(0, OrderRole.ENTRY, 1, 18000.0), _fill(1, OrderRole.STOP_LOSS, 1, 18030.0)]
    tally = tally_fills(fills, side=OrderSide.SELL, multiplier=20.0)
    assert (tally.realized_pnl, tally.exit_price, tally.is_closed) == (-600.0, 18030.0, True)


def test_tally_without_exits_is_open_and_without_fills_is_empty() -> None:
    opened = tally_fills([_fill(0, OrderRole.ENTRY, 2, 5000.0)], side=OrderSide.BUY, multiplier=50.0)
    empty = tally_fills([], side=OrderSide.BUY, multiplier=50.0)
    assert (opened.open_quantity, opened.exit_price, opened.is_closed) == (2.0, None, False)
    assert (empty.entry_quantity, empty.entry_price, empty.is_closed) == (0.0, None, False)
