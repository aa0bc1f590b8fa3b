"""TradeManager against the real PaperBroker, EventBus and a SQLite file."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.errors import OrderError, UnknownInstrumentError
from trading.model import (
    Instrument,
    MarketDataUpdated,
    Order,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderType,
    Recommendation,
    TransactionClosed,
    TransactionOpened,
    TransactionStatus,
)
from trading.storage import ActivityLog, Database, OrderHistoryRepository, TransactionRepository
from trading.trades import TradeManager

WAITING, OPENED, CLOSED, CANCELLED = (
    TransactionStatus.WAITING,
    TransactionStatus.OPENED,
    TransactionStatus.CLOSED,
    TransactionStatus.CANCELLED,
)


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def broker(bus: EventBus, clock: TestClock) -> PaperBroker:
    return PaperBroker(
        bus,
        clock,
        [
            Instrument(symbol="ES", tick_size=0.25, multiplier=50.0),
            Instrument(symbol="NQ", tick_size=0.25, multiplier=20.0),
        ],
    )


@pytest.fixture
def db(tmp_path: Path, clock: TestClock) -> Iterator[Database]:
    database = Database(tmp_path / "desk.db", clock=clock)
    yield database
    database.close()


@pytest.fixture
def repo(db: Database) -> TransactionRepository:
    return TransactionRepository(db)


@pytest.fixture
def manager(
    broker: PaperBroker, bus: EventBus, clock: TestClock, repo: TransactionRepository
) -> TradeManager:
    return TradeManager(broker, bus, clock, repo)


def tick(broker: PaperBroker, clock: TestClock, price: float, symbol: str = "ES") -> None:
    clock.advance(1)
    broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol=symbol, price=price))


def buy_es(qty: float = 2, **kwargs: object) -> Recommendation:
    return Recommendation("ES", OrderSide.BUY, qty, **kwargs)  # type: ignore[arg-type]


# --- the WAITING -> OPENED -> OCO flow -------------------------------------------


def test_trade_manager_market_entry_fills_opens_and_sends_oco_pair(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository, bus: EventBus
) -> None:
    # Arrange
    opened: list[TransactionOpened] = []
    bus.subscribe(TransactionOpened, opened.append)
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    assert txn.status is WAITING and broker.open_orders() != []
    # Act
    tick(broker, clock, 5001.0)
    # Assert
    [now] = manager.active()
    assert (now.status, now.entry_price) == (OPENED, 5001.0)
    legs = {o.role: o for o in broker.open_orders()}
    tp, sl = legs[OrderRole.TAKE_PROFIT], legs[OrderRole.STOP_LOSS]
    assert (tp.order_type, tp.price, tp.side, tp.quantity) == (OrderType.LIMIT, 5010.0, OrderSide.SELL, 2.0)
    assert (sl.order_type, sl.stop_price) == (OrderType.STOP, 4990.0)
    assert tp.oco_group is not None and tp.oco_group == sl.oco_group
    assert (tp.transaction_id, tp.strategy, tp.reduce_only) == (txn.transaction_id, "ma", True)
    assert repo.get(txn.transaction_id) == now
    assert [e.transaction_id for e in opened] == [txn.transaction_id]


def test_trade_manager_take_profit_fill_closes_with_hand_computed_pnl(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository, bus: EventBus
) -> None:
    # Arrange
    closed: list[TransactionClosed] = []
    bus.subscribe(TransactionClosed, closed.append)
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    tick(broker, clock, 5001.0)
    # Act
    tick(broker, clock, 5010.0)
    # Assert: (5010 - 5001) points x 2 contracts x 50 = 900
    stored = repo.get(txn.transaction_id)
    assert stored is not None
    assert (stored.status, stored.exit_price, stored.realized_pnl) == (CLOSED, 5010.0, 900.0)
    assert manager.active() == [] and broker.open_orders() == [] and broker.positions() == {}
    assert [(e.transaction_id, e.realized_pnl) for e in closed] == [(txn.transaction_id, 900.0)]


def test_trade_manager_stop_loss_fill_closes_short_with_loss(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository
) -> None:
    # Arrange
    tick(broker, clock, 18000.0, "NQ")
    [txn] = manager.process(
        "mr", [Recommendation("NQ", OrderSide.SELL, 1, take_profit=17950.0, stop_loss=18020.0)]
    )
    tick(broker, clock, 18000.0, "NQ")
    # Act
    tick(broker, clock, 18030.0, "NQ")  # gaps through the stop: fills at the gap price
    # Assert: (18000 - 18030) x 1 x 20 = -600
    stored = repo.get(txn.transaction_id)
    assert stored is not None
    assert (stored.status, stored.exit_price, stored.realized_pnl) == (CLOSED, 18030.0, -600.0)
    assert broker.open_orders() == []


def test_trade_manager_tp_sl_updated_while_waiting_are_sent_at_fill(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository
) -> None:
    # Arrange: a limit entry that rests below the market
    tick(broker, clock, 5000.0)
    [txn] = manager.process(
        "ma", [buy_es(entry_type=OrderType.LIMIT, entry_price=4995.0, take_profit=5005.0, stop_loss=4985.0)]
    )
    # Act
    manager.update_stop_loss(txn.transaction_id, 4980.0)
    manager.update_take_profit(txn.transaction_id, 5020.0)
    only_entry = [o.role for o in broker.open_orders()]
    tick(broker, clock, 4994.0)
    # Assert
    assert only_entry == [OrderRole.ENTRY]
    legs = {o.role: o for o in broker.open_orders()}
    assert (legs[OrderRole.TAKE_PROFIT].price, legs[OrderRole.STOP_LOSS].stop_price) == (5020.0, 4980.0)
    stored = repo.get(txn.transaction_id)
    assert stored is not None and (stored.status, stored.take_profit, stored.stop_loss) == (
        OPENED,
        5020.0,
        4980.0,
    )


def test_trade_manager_update_stop_loss_while_opened_modifies_live_leg(
    manager: TradeManager, broker: PaperBroker, clock: TestClock
) -> None:
    # Arrange
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    tick(broker, clock, 5000.0)
    sl_id = manager.active()[0].sl_order_id
    # Act
    updated = manager.update_stop_loss(txn.transaction_id, 4995.0)
    # Assert
    sl = broker.get_order(sl_id or "")
    assert sl is not None and (sl.stop_price, sl.status) == (4995.0, OrderStatus.ACCEPTED)
    assert (updated.stop_loss, updated.sl_order_id) == (4995.0, sl_id)


def test_trade_manager_stop_loss_added_while_opened_sends_new_oco_pair(
    manager: TradeManager, broker: PaperBroker, clock: TestClock
) -> None:
    # Arrange: opened with a take-profit only
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(take_profit=5010.0)])
    tick(broker, clock, 5000.0)
    # Act
    manager.update_stop_loss(txn.transaction_id, 4990.0)
    # Assert
    legs = broker.open_orders()
    assert sorted(o.role.value for o in legs) == ["STOP_LOSS", "TAKE_PROFIT"]
    assert legs[0].oco_group == legs[1].oco_group is not None


def test_trade_manager_stop_loss_on_wrong_side_is_refused_and_nothing_changes(
    manager: TradeManager, broker: PaperBroker, clock: TestClock
) -> None:
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    tick(broker, clock, 5000.0)
    with pytest.raises(
        OrderError, match="the stop_loss of a BUY must be below the entry price 5000, got 5005"
    ):
        manager.update_stop_loss(txn.transaction_id, 5005.0)
    assert manager.active()[0].stop_loss == 4990.0


def test_trade_manager_stop_loss_off_tick_is_refused_and_nothing_changes(
    manager: TradeManager, broker: PaperBroker, clock: TestClock
) -> None:
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    tick(broker, clock, 5000.0)
    with pytest.raises(OrderError, match=r"stop loss 4995\.1 is not a multiple of the ES tick size 0\.25"):
        manager.update_stop_loss(txn.transaction_id, 4995.1)
    assert manager.active()[0].stop_loss == 4990.0
    [sl] = [o for o in broker.open_orders() if o.stop_price is not None]
    assert sl.stop_price == 4990.0


# --- refusals ----------------------------------------------------------------------


def test_trade_manager_entry_denied_by_pre_trade_check_cancels_with_reason(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository
) -> None:
    # Arrange
    broker.add_pre_trade_check(lambda order: ("halted", "account is HALTED"))
    tick(broker, clock, 5000.0)
    # Act
    [txn] = manager.process("ma", [buy_es(take_profit=5010.0)])
    # Assert
    assert txn.status is CANCELLED
    assert "denied by halted: account is HALTED" in txn.reason
    assert repo.active() == [] and manager.active() == []


def test_trade_manager_bad_recommendation_in_batch_submits_nothing(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository
) -> None:
    # Arrange: bad input is a programming error: it raises before anything of the pass is sent
    tick(broker, clock, 5000.0)
    good = buy_es(take_profit=5010.0)
    bad = Recommendation("NQ", OrderSide.BUY, 1)
    # Act / Assert
    with pytest.raises(UnknownInstrumentError, match="unknown symbol 'CL'"):
        manager.process("ma", [bad, Recommendation("CL", OrderSide.BUY, 1)])
    with pytest.raises(OrderError, match="ES: recommendation of strategy 'mr' passed by 'ma'"):
        manager.process("ma", [good, buy_es(strategy="mr")])
    with pytest.raises(TypeError, match="recommendations must be Recommendation objects, got dict"):
        manager.process("ma", [good, {"symbol": "ES"}])  # type: ignore[list-item]
    assert repo.recent() == [] and broker.open_orders() == []
    assert manager.statistics().rejected == 0


def test_trade_manager_stop_passed_by_price_rejects_that_one_and_keeps_the_others(
    broker: PaperBroker,
    bus: EventBus,
    clock: TestClock,
    repo: TransactionRepository,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Arrange: the strategy set its SELL stop at 4999 from a bar close of 4998; ES now trades at 5000
    tick(broker, clock, 5000.0)
    tick(broker, clock, 18000.0, "NQ")
    stale = Recommendation("ES", OrderSide.SELL, 1, take_profit=4990.0, stop_loss=4999.0)
    fine = Recommendation("NQ", OrderSide.BUY, 1, take_profit=18050.0, stop_loss=17950.0)
    caplog.set_level(logging.WARNING, logger="trading.trades")
    with ActivityLog(db, clock=clock) as activity:
        manager = TradeManager(broker, bus, clock, repo, activity=activity)
        # Act
        outcome = manager.run_pass("mr", [stale, fine])
        activity.flush()
        rows = activity.recent(search="rejected")
    # Assert
    reason = "ES: the stop_loss of a SELL must be above the entry price 5000, got 4999"
    assert [(r.recommendation, r.reason) for r in outcome.rejected] == [(stale, reason)]
    assert outcome.rejected[0].describe() == f"SELL 1 ES: {reason}"
    assert [(t.symbol, t.status) for t in outcome.created] == [("NQ", WAITING)]
    assert [t.symbol for t in repo.recent()] == ["NQ"]
    assert [o.symbol for o in broker.open_orders()] == ["NQ"]
    assert caplog.messages == [f"rejected SELL 1 ES for strategy 'mr': {reason}"]
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert [(r["level"], r["source"], r["message"]) for r in rows] == [
        ("WARNING", "trade_manager", f"rejected SELL 1 ES for strategy 'mr': {reason}")
    ]
    stats = manager.statistics()
    assert (stats.passes, stats.recommendations, stats.rejected, stats.submitted) == (1, 2, 1, 1)


def test_trade_manager_take_profit_passed_by_price_is_rejected_and_process_returns_the_rest(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository
) -> None:
    # Arrange: the market is at 5000, so a BUY take-profit of 4995 has already been passed
    tick(broker, clock, 5000.0)
    good = buy_es(take_profit=5010.0)
    passed = Recommendation("ES", OrderSide.BUY, 1, take_profit=4995.0)
    # Act
    created = manager.process("ma", [passed, good])
    # Assert
    assert [(t.symbol, t.quantity, t.take_profit) for t in created] == [("ES", 2.0, 5010.0)]
    assert [t.transaction_id for t in repo.recent()] == [created[0].transaction_id]
    assert manager.statistics().rejected == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": 0}, "quantity must be a finite number > 0, got 0"),
        ({"quantity": -1}, "quantity must be a finite number > 0, got -1"),
        ({"entry_type": OrderType.LIMIT}, "a LIMIT entry needs an entry_price"),
        ({"side": "HOLD"}, "side must be one of BUY, SELL, got 'HOLD'"),
        (
            {"entry_price": 5000.0, "take_profit": 4990.0},
            "take_profit of a BUY must be above the entry price 5000",
        ),
        (
            {"take_profit": 4990.0, "stop_loss": 5000.0},
            r"take_profit \(4990\) must be above the stop_loss \(5000\)",
        ),
    ],
)
def test_recommendation_bad_input_is_refused_with_reason(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"symbol": "ES", "side": OrderSide.BUY, "quantity": 1, **kwargs}
    with pytest.raises(OrderError, match=message):
        Recommendation(**fields)  # type: ignore[arg-type]


def test_trade_manager_close_and_adjust_on_waiting_are_refused_with_why(
    manager: TradeManager, broker: PaperBroker, clock: TestClock
) -> None:
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(entry_type=OrderType.LIMIT, entry_price=4990.0)])
    with pytest.raises(
        OrderError, match=f"cannot close it: transaction {txn.transaction_id} is WAITING; only OPENED allowed"
    ):
        manager.close_position(txn.transaction_id)
    with pytest.raises(OrderError, match=r"cannot adjust its quantity: .* is WAITING; only OPENED allowed"):
        manager.adjust_quantity(txn.transaction_id, 1)
    with pytest.raises(OrderError, match="unknown transaction 'T-nope'"):
        manager.update_take_profit("T-nope", 5000.0)


# --- duplicates and the pass lock --------------------------------------------------


def test_trade_manager_duplicate_symbol_same_strategy_skipped_with_warning(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    tick(broker, clock, 5000.0)
    [first] = manager.process("ma", [buy_es()])
    caplog.set_level(logging.WARNING, logger="trading.trades")
    # Act
    second = manager.process("ma", [buy_es(1)], use_case="other")
    other_strategy = manager.process("mr", [buy_es(1)])
    # Assert
    assert second == []
    assert len(other_strategy) == 1
    assert caplog.messages == [
        f"skipped BUY 1 ES for strategy 'ma': it already has WAITING transaction {first.transaction_id} on ES"
    ]
    assert manager.statistics().duplicates == 1


def test_trade_manager_many_threads_same_recommendation_one_transaction(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository
) -> None:
    # Arrange: different use cases, so the pass locks do not serialise them: only the database guard does
    tick(broker, clock, 5000.0)
    barrier = threading.Barrier(10)
    results: list[int] = []

    def run(n: int) -> None:
        barrier.wait()
        results.append(len(manager.process("ma", [buy_es()], use_case=f"uc{n}")))

    # Act
    threads = [threading.Thread(target=run, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Assert
    assert sorted(results) == [0] * 9 + [1]
    assert len(repo.active("ma")) == 1
    assert len(broker.open_orders()) == 1


def test_trade_manager_concurrent_pass_same_key_is_skipped_with_info(
    broker: PaperBroker,
    bus: EventBus,
    clock: TestClock,
    repo: TransactionRepository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Arrange: a pre-trade check that holds the first pass inside the broker until released
    manager = TradeManager(broker, bus, clock, repo, lock_timeout=0.05)
    inside, release = threading.Event(), threading.Event()

    def slow_check(order: Order) -> None:
        if order.symbol == "ES":
            inside.set()
            release.wait(10)

    broker.add_pre_trade_check(slow_check)
    tick(broker, clock, 5000.0)
    first: list[int] = []
    holder = threading.Thread(target=lambda: first.append(len(manager.process("ma", [buy_es()]))))
    holder.start()
    assert inside.wait(10)
    caplog.set_level(logging.INFO, logger="trading.trades")
    # Act
    skipped = manager.process("ma", [Recommendation("NQ", OrderSide.BUY, 1)])
    other_use_case = manager.process("ma", [Recommendation("NQ", OrderSide.BUY, 1)], use_case="hedge")
    release.set()
    holder.join()
    # Assert
    assert skipped == [] and len(other_use_case) == 1 and first == [1]
    assert (
        "pass of strategy 'ma' (use case 'default') skipped: another pass still holds its lock after 0.05s"
        in caplog.messages
    )
    assert manager.statistics().skipped_passes == 1


def test_trade_manager_failed_pass_releases_lock(
    manager: TradeManager, broker: PaperBroker, clock: TestClock
) -> None:
    tick(broker, clock, 5000.0)
    with pytest.raises(UnknownInstrumentError):
        manager.process("ma", [Recommendation("CL", OrderSide.BUY, 1)])
    assert len(manager.process("ma", [buy_es()])) == 1


# --- closing, resizing, cancelling, flatten, restore ------------------------------


def test_trade_manager_close_position_cancels_legs_and_closes_at_exit_fill(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository
) -> None:
    # Arrange
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    tick(broker, clock, 5000.0)
    # Act
    exit_order = manager.close_position(txn.transaction_id, "signal reversed")
    legs_after_close = broker.open_orders()
    tick(broker, clock, 4998.0)
    # Assert: (4998 - 5000) x 2 x 50 = -200
    assert exit_order.role is OrderRole.EXIT and [o.role for o in legs_after_close] == [OrderRole.EXIT]
    stored = repo.get(txn.transaction_id)
    assert stored is not None and (stored.status, stored.exit_price, stored.realized_pnl) == (
        CLOSED,
        4998.0,
        -200.0,
    )


def test_trade_manager_adjust_quantity_down_realizes_part_and_resizes_legs(
    manager: TradeManager, broker: PaperBroker, clock: TestClock
) -> None:
    # Arrange
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(3, take_profit=5010.0, stop_loss=4990.0)])
    tick(broker, clock, 5000.0)
    # Act
    manager.adjust_quantity(txn.transaction_id, 1)
    tick(broker, clock, 5004.0)
    # Assert: 2 contracts out at 5004: 4 x 2 x 50 = 400
    [now] = manager.active()
    assert (now.quantity, now.realized_pnl, now.status) == (1.0, 400.0, OPENED)
    assert sorted(o.quantity for o in broker.open_orders()) == [1.0, 1.0]


def test_trade_manager_risk_flatten_closes_transaction(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository
) -> None:
    # Arrange
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    tick(broker, clock, 5000.0)
    # Act
    broker.flatten_all("daily loss limit")
    tick(broker, clock, 4996.0)
    # Assert: (4996 - 5000) x 2 x 50 = -400
    stored = repo.get(txn.transaction_id)
    assert stored is not None
    assert (stored.status, stored.exit_price, stored.realized_pnl) == (CLOSED, 4996.0, -400.0)
    assert manager.active() == [] and broker.open_orders() == []


def test_trade_manager_cancel_waiting_cancels_entry(
    manager: TradeManager, broker: PaperBroker, clock: TestClock, repo: TransactionRepository
) -> None:
    tick(broker, clock, 5000.0)
    [txn] = manager.process("ma", [buy_es(entry_type=OrderType.LIMIT, entry_price=4990.0)])
    assert manager.cancel(txn.transaction_id, "stale signal")
    stored = repo.get(txn.transaction_id)
    assert stored is not None and stored.status is CANCELLED and "stale signal" in stored.reason
    assert broker.open_orders() == []


def test_trade_manager_restore_picks_up_active_transactions(
    manager: TradeManager,
    broker: PaperBroker,
    bus: EventBus,
    clock: TestClock,
    repo: TransactionRepository,
    db: Database,
) -> None:
    # Arrange: one WAITING entry at the broker; a second manager starts on the same database
    tick(broker, clock, 5000.0)
    [txn] = manager.process(
        "ma", [buy_es(entry_type=OrderType.LIMIT, entry_price=4995.0, take_profit=5005.0)]
    )
    manager.close()  # the first manager stops handling broker events
    fresh = TradeManager(broker, bus, clock, repo)
    # Act
    restored = fresh.restore(OrderHistoryRepository(db)).restored
    tick(broker, clock, 4994.0)
    # Assert
    assert [t.transaction_id for t in restored] == [txn.transaction_id]
    [now] = fresh.active()
    assert now.status is OPENED and [o.role for o in broker.open_orders()] == [OrderRole.TAKE_PROFIT]


def test_trade_manager_activity_log_records_lifecycle(
    broker: PaperBroker, bus: EventBus, clock: TestClock, repo: TransactionRepository, db: Database
) -> None:
    # Arrange
    with ActivityLog(db, clock=clock) as activity:
        manager = TradeManager(broker, bus, clock, repo, activity=activity)
        tick(broker, clock, 5000.0)
        [txn] = manager.process("ma", [buy_es(take_profit=5010.0)])
        # Act
        tick(broker, clock, 5000.0)
        tick(broker, clock, 5011.0)
        activity.flush()
        # Assert
        assert [r["message"].split(":")[0] for r in activity.recent(search=txn.transaction_id)] == [
            f"transaction {txn.transaction_id} CLOSED (TAKE_PROFIT filled)",
            f"transaction {txn.transaction_id} OPENED",
        ]


def test_trade_manager_repr_and_statistics(
    manager: TradeManager, broker: PaperBroker, clock: TestClock
) -> None:
    tick(broker, clock, 5000.0)
    manager.process("ma", [buy_es()])
    tick(broker, clock, 5000.0)
    stats = manager.statistics()
    assert (stats.passes, stats.submitted, stats.opened, stats.active) == (1, 1, 1, 1)
    assert repr(manager) == "TradeManager(active=1, opened=1, closed=0, duplicates=0, skipped_passes=0)"
