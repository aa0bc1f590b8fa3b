"""A whole desk on a TestClock: seeded, deterministic, in a temporary state directory."""

from __future__ import annotations

import logging
from datetime import timedelta

import numpy as np
import pytest

from trading.clock import TestClock
from trading.memory import StateManager
from trading.model import OrderSide, Recommendation, RuleViolated, TradingState
from trading.signals.strategies import MarketView, Strategy
from trading.snapshot import SNAPSHOT_KEY, Snapshot
from trading.storage import ActivityLog, Database, JobRepository

from .conftest import START


@pytest.mark.slow
async def test_desk_ten_simulated_minutes_trades_publishes_and_a_rule_acts(make_desk):
    desk = make_desk()
    violations: list[RuleViolated] = []
    desk.bus.subscribe(RuleViolated, violations.append)

    await desk.run_simulated(600)
    snap = desk.snapshot()
    await desk.shutdown()

    closed = [t for t in snap.transactions if t.status == "CLOSED"]
    assert closed, "no trade closed in ten simulated minutes"
    assert sum(s.trades for s in snap.strategies) == len({t.transaction_id for t in closed})
    enforced = [v for v in violations if not v.shadow]
    assert enforced, "no risk rule acted in ten simulated minutes"
    assert enforced[0].ts - START < timedelta(minutes=9)
    assert {v.rule for v in snap.violations} >= {v.rule for v in enforced}
    assert len(snap.equity_curve) > 100
    assert snap.account.equity == pytest.approx(desk.broker.account().equity)
    # a second StateManager on the same file reads what the desk published
    reader = StateManager(desk.state_dir.state_file)
    assert reader.load()
    published = reader.get(SNAPSHOT_KEY)
    assert isinstance(published, Snapshot)
    assert published.taken_at == desk.clock.now()
    np.testing.assert_array_equal(published.equity_curve.values, desk.snapshots.equity.series().values)
    reader.close()
    # every risk sweep and strategy pass is a job record in SQLite
    db = Database(desk.state_dir.database)
    jobs = JobRepository(db)
    assert jobs.count(lane="risk") == 600
    assert jobs.count(lane="strategies") > 0
    assert jobs.count(status="FAILED") == 0
    assert ActivityLog(db).count(search="opened") >= len(closed)
    db.close()


@pytest.mark.slow
async def test_desk_same_seed_twice_gives_the_same_trades(make_desk):
    first, second = make_desk(state="a"), make_desk(state="b")

    await first.run_simulated(300)
    await second.run_simulated(300)
    a, b = first.snapshot(), second.snapshot()
    await first.shutdown()
    await second.shutdown()

    assert [(t.symbol, t.side, t.entry_price, t.exit_price) for t in a.transactions] == [
        (t.symbol, t.side, t.entry_price, t.exit_price) for t in b.transactions
    ]
    np.testing.assert_array_equal(a.equity_curve.values, b.equity_curve.values)


async def test_desk_snapshot_has_every_section_the_dashboard_reads(make_desk):
    desk = make_desk()

    await desk.run_simulated(120)
    snap = desk.snapshot()
    await desk.shutdown()

    assert snap.trading_state in {s.value for s in TradingState}
    assert {lane.lane for lane in snap.lanes} == {"strategies", "risk"}
    assert {r.rule for r in snap.rules} >= {"daily_realized_loss", "trailing_drawdown", "max_contracts"}
    assert set(snap.prices) == {"ES", "AAPL", "EURUSD", "NQ"}
    assert {s.name for s in snap.strategies} == {"ma_es", "ma_fx", "revert_aapl", "revert_nq"}
    assert snap.next_reset is not None and snap.next_reset > snap.taken_at
    assert set(snap.lane_history["risk"]) == {"queued", "running", "completed", "failed"}
    assert snap.account.starting_balance == 100_000


async def test_desk_restart_restores_account_transactions_and_lockouts(make_desk):
    clock = TestClock(START)
    desk = make_desk(clock=clock, rules={"daily_realized_loss": {"limit": 40}})
    await desk.run_simulated(900)
    before = desk.snapshot()
    active_before = {t.transaction_id for t in desk.trade_manager.active()}
    await desk.shutdown()
    assert before.lockouts, "the tiny daily loss limit should have locked the account"

    again = make_desk(clock=TestClock(clock.now()), rules={"daily_realized_loss": {"limit": 40}})
    after = again.snapshot()

    assert after.account.cash == pytest.approx(before.account.cash)
    assert after.account.realized_pnl == pytest.approx(before.account.realized_pnl)
    assert [(p.symbol, p.quantity, p.avg_price) for p in after.positions] == [
        (p.symbol, p.quantity, p.avg_price) for p in before.positions
    ]
    assert {t.transaction_id for t in again.trade_manager.active()} == active_before
    assert [(lk.scope, lk.rule) for lk in after.lockouts] == [(lk.scope, lk.rule) for lk in before.lockouts]
    assert after.trading_state == before.trading_state
    assert [(v.ts, v.rule) for v in after.violations] == [(v.ts, v.rule) for v in before.violations]
    # a restart never resets a daily loss or a trailing drawdown's high-water mark
    assert after.account.daily_realized_pnl == pytest.approx(before.account.daily_realized_pnl)
    assert again.risk.pnl.daily_closed_trades == desk.risk.pnl.daily_closed_trades
    rules_before = {r.rule: r.value for r in before.rules}
    rules_after = {r.rule: r.value for r in after.rules}
    assert rules_after["daily_realized_loss"] == pytest.approx(rules_before["daily_realized_loss"])
    assert rules_after["trade_frequency_limit"] == rules_before["trade_frequency_limit"]
    hwm = next(r for r in desk.risk.engine.rules.values() if r.kind == "trailing_drawdown").high_water
    assert (
        next(r for r in again.risk.engine.rules.values() if r.kind == "trailing_drawdown").high_water == hwm
    )
    assert len(after.equity_curve) >= len(before.equity_curve)
    assert {t.transaction_id for t in after.transactions} >= {
        t.transaction_id for t in before.transactions[:5]
    }
    await again.shutdown()


async def test_desk_shutdown_stops_new_entries_and_saves_a_final_snapshot(make_desk):
    desk = make_desk()
    await desk.run_simulated(60)

    await desk.shutdown()

    assert desk.submit_strategy_passes() == 0
    reader = StateManager(desk.state_dir.state_file)
    reader.load()
    assert reader.get(SNAPSHOT_KEY).taken_at == desk.clock.now()
    reader.close()
    assert not desk.parts.lock.is_locked


async def test_desk_not_active_submits_no_strategy_passes(make_desk):
    desk = make_desk()
    await desk.run_simulated(300)
    assert desk.submit_strategy_passes() == 4  # ACTIVE: one pass per strategy

    desk.risk.pause("lunch", who="test")

    assert desk.submit_strategy_passes() == 0  # every entry would be denied
    await desk.executor.join()
    await desk.shutdown()


class _FixedRecommendations(Strategy):
    """A strategy that recommends the same trades on every pass."""

    kind = "fixed"

    def __init__(self, name: str, recommendations: list[Recommendation]) -> None:
        super().__init__(name, [r.symbol for r in recommendations], 1)
        self.recommendations = recommendations

    @property
    def warmup(self) -> int:
        return 0

    def signal(self, *args: object) -> Recommendation | None:
        return None

    def evaluate(self, market: MarketView) -> list[Recommendation]:
        return list(self.recommendations)


async def test_desk_strategy_pass_stop_passed_by_price_rejects_it_and_keeps_the_others(make_desk, caplog):
    # Arrange: a strategy whose ES stop the price has already passed, beside a sound NQ entry
    desk = make_desk()
    await desk.run_simulated(5)
    es, nq = desk.broker.last_price("ES"), desk.broker.last_price("NQ")
    assert es is not None and nq is not None
    stale = Recommendation("ES", OrderSide.SELL, 1, stop_loss=es - 1.0, strategy="fixed")
    sound = Recommendation("NQ", OrderSide.BUY, 1, take_profit=nq + 50.0, stop_loss=nq - 50.0)
    desk.strategies = (_FixedRecommendations("fixed", [stale, sound]),)
    caplog.set_level(logging.WARNING)
    caplog.clear()  # the start's WARNING listing the enforced rules is not this test's subject
    # Act
    assert desk.submit_strategy_passes() == 1
    await desk.executor.join()
    await desk.shutdown()
    # Assert: the job completed, names the rejection and its reason, and the NQ entry went out
    db = Database(desk.state_dir.database)
    [job] = JobRepository(db).list(name="strategy:fixed")
    db.close()
    reason = f"ES: the stop_loss of a SELL must be above the entry price {es:g}, got {es - 1.0:g}"
    assert job.status == "COMPLETED"
    assert job.result_summary.startswith("1 entry: BUY 1 NQ (")
    assert f"1 rejected: SELL 1 ES: {reason}" in job.result_summary
    assert job.details["rejected"] == [{"symbol": "ES", "side": "SELL", "quantity": 1.0, "reason": reason}]
    assert [t.symbol for t in desk.trade_manager.active("fixed")] == ["NQ"]
    assert desk.trade_manager.statistics().rejected == 1
    assert [r.levelname for r in caplog.records if r.name.startswith("trading")] == ["WARNING"]
    assert not any(r.exc_info for r in caplog.records)
