"""Position P&L against hand-computed examples."""

from __future__ import annotations

import pytest

from trading.model import OrderSide, Position

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def test_position_open_and_add_averages_the_price() -> None:
    pos = Position(symbol="ES", multiplier=50)
    pos.apply_fill(BUY, 2, 5000.0)
    pos.apply_fill(BUY, 1, 5003.0)
    # (2*5000 + 1*5003) / 3 = 5001
    assert pos.quantity == 3
    assert pos.avg_price == pytest.approx(5001.0)
    assert pos.unrealized_pnl(5002.0) == pytest.approx((5002 - 5001) * 3 * 50)  # 150


def test_position_partial_close_realizes_with_multiplier_and_keeps_average() -> None:
    pos = Position(symbol="ES", multiplier=50)
    pos.apply_fill(BUY, 3, 5000.0, commission=6.0)
    realized = pos.apply_fill(SELL, 1, 5010.0, commission=2.0)
    assert realized == pytest.approx(10 * 1 * 50)  # 500
    assert pos.quantity == 2
    assert pos.avg_price == 5000.0
    assert pos.realized_pnl == pytest.approx(500.0)
    assert pos.commissions == pytest.approx(8.0)


def test_position_short_close_at_a_loss_realizes_negative() -> None:
    pos = Position(symbol="CL", multiplier=1000)
    pos.apply_fill(SELL, 2, 70.00)
    realized = pos.apply_fill(BUY, 2, 70.25)
    assert realized == pytest.approx(-0.25 * 2 * 1000)  # -500
    assert pos.is_flat and pos.avg_price == 0.0 and pos.side is None


def test_position_flip_realizes_the_closed_part_and_opens_rest_at_fill() -> None:
    pos = Position(symbol="AAPL", multiplier=1)
    pos.apply_fill(BUY, 100, 190.00)
    realized = pos.apply_fill(SELL, 150, 191.50)
    assert realized == pytest.approx(1.5 * 100)  # 150 on the 100 closed
    assert pos.quantity == -50
    assert pos.avg_price == 191.50
    assert pos.side is SELL
    assert pos.unrealized_pnl(190.50) == pytest.approx((190.50 - 191.50) * -50)  # +50


def test_position_unrealized_uses_last_price_and_is_zero_when_flat() -> None:
    pos = Position(symbol="ES", multiplier=50)
    assert pos.unrealized_pnl() == 0.0
    pos.apply_fill(SELL, 1, 5000.0)
    pos.last_price = 4990.0
    assert pos.unrealized_pnl() == pytest.approx(500.0)
