from datetime import UTC, date, datetime

from trading.model import MarketDataUpdated, PositionChanged, PositionClosed, PositionOpened
from trading.risk import PnLTracker

TS = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)


def _tracker():
    return PnLTracker(cash=100_000.0, trading_day=date(2026, 1, 6), multiplier=lambda s: 50.0)


def test_pnl_tracker_realized_unrealized_and_equity_follow_events():
    pnl = _tracker()
    pnl.on_position(
        PositionOpened(ts=TS, symbol="ES", quantity=2, avg_price=5000, realized_pnl=0, commission=4)
    )
    pnl.on_market(MarketDataUpdated(ts=TS, symbol="ES", price=5010))
    assert pnl.unrealized == 1000.0 and pnl.equity == 100_996.0
    pnl.on_position(
        PositionChanged(
            ts=TS,
            symbol="ES",
            quantity=1,
            avg_price=5000,
            realized_pnl=500,
            realized_delta=500,
            commission=2,
            last_price=5010,
        )
    )
    assert pnl.daily_realized == 500 and pnl.daily_commissions == 6 and pnl.daily_net == 494
    assert pnl.unrealized == 500.0 and pnl.symbols["ES"].realized_today == 500
    pnl.on_position(
        PositionClosed(
            ts=TS,
            symbol="ES",
            quantity=0,
            avg_price=5000,
            realized_pnl=300,
            realized_delta=-200,
            commission=2,
            last_price=4996,
        )
    )
    assert pnl.unrealized == 0.0 and pnl.daily_net == 292 and pnl.equity == 100_292.0
    assert pnl.daily_closed_trades == 1 and pnl.open_positions() == []


def test_pnl_tracker_reset_day_keeps_history_and_zeroes_today():
    pnl = _tracker()
    pnl.on_position(
        PositionClosed(
            ts=TS,
            symbol="ES",
            quantity=0,
            avg_price=5000,
            realized_pnl=-100,
            realized_delta=-100,
            commission=4,
        )
    )
    finished = pnl.reset_day(date(2026, 1, 7))
    assert finished.net == -104 and pnl.daily_net == 0 and pnl.trading_day == date(2026, 1, 7)
    assert [(d.day, d.net) for d in pnl.history()] == [(date(2026, 1, 6), -104), (date(2026, 1, 7), 0)]
    assert pnl.cash == 99_896.0  # cash is not a daily counter
