"""SnapshotBuilder: the fields the dashboard's clock, P&L breakdown and headroom strip read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trading.desk._snapshot_builder import typical_stops
from trading.model import OrderSide, Transaction


def _txn(symbol: str, entry: float | None, stop: float | None) -> Transaction:
    return Transaction(
        transaction_id=f"T-{symbol}-{entry}-{stop}",
        strategy="s",
        symbol=symbol,
        side=OrderSide.BUY,
        quantity=1,
        entry_price=entry,
        stop_loss=stop,
    )


def test_typical_stops_median_distance_per_symbol_skipping_unknown() -> None:
    txns = [_txn("ES", 5000.0, 4994.0), _txn("ES", 5010.0, 5018.0), _txn("ES", 5000.0, 4990.0)]
    txns += [_txn("NQ", None, 17_990.0), _txn("NQ", 18_000.0, None)]

    assert typical_stops(txns) == {"ES": 8.0}


async def test_snapshot_publishes_exchange_zone_clock_speed_and_headroom(make_desk) -> None:
    desk = make_desk()
    await desk.run_simulated(300)

    snap = desk.snapshot()

    assert snap.timezone == "America/Chicago" and snap.clock_speed == 1.0
    room = snap.headroom
    assert room is not None
    assert (room.daily_loss_limit, room.contracts_limit) == (2500.0, 6.0)
    assert room.reset_at == snap.next_reset
    assert [s.symbol for s in room.symbols] == sorted(i.symbol for i in desk.config.instruments)
    assert room.equity == pytest.approx(snap.account.equity, abs=0.01)


async def test_snapshot_daily_pnl_adds_up_from_gross_commissions_and_unrealized(make_desk) -> None:
    desk = make_desk()
    await desk.run_simulated(600)

    acct = desk.snapshot().account

    assert acct.daily_commissions > 0
    total = acct.daily_realized_gross - acct.daily_commissions + acct.unrealized_pnl
    assert total == pytest.approx(acct.daily_pnl, abs=0.01)
    assert acct.daily_realized_pnl == pytest.approx(acct.daily_realized_gross - acct.daily_commissions)


async def test_snapshot_gross_exposure_is_positions_at_last_price(make_desk) -> None:
    desk = make_desk()
    await desk.run_simulated(600)

    snap = desk.snapshot()

    multipliers = {i.symbol: i.multiplier for i in desk.config.instruments}
    expected = sum(
        abs(p.quantity) * (p.last_price or p.avg_price) * multipliers[p.symbol] for p in snap.positions
    )
    assert snap.account.gross_exposure == pytest.approx(expected)


async def test_snapshot_clock_speed_of_scaled_clock(make_desk) -> None:
    from trading.clock import ScaledClock

    desk = make_desk(clock=ScaledClock(10, start=datetime(2026, 11, 24, 15, 0, tzinfo=UTC)))

    assert desk.snapshot().clock_speed == 10.0
