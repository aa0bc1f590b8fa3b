"""TradeManager.restore after a crash at any moment.

Each crash state is built the way a crash leaves it: a real flow runs on a real PaperBroker
whose orders and fills are written to SQLite before anyone hears of them (as the journal
does); at the crash moment the trade manager stops hearing events while the broker's steps
go on being recorded; then a restart builds a new bus, a new broker restored from the old
one's state and a new TradeManager on the same database, and restores.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import (
    Instrument,
    MarketDataUpdated,
    Order,
    OrderEvent,
    OrderFilled,
    OrderRole,
    OrderSide,
    OrderType,
    Recommendation,
    Transaction,
    TransactionClosed,
    TransactionOpened,
    TransactionStatus,
)
from trading.storage import (
    ActivityLog,
    Database,
    FillRepository,
    OrderHistoryRepository,
    OrderRepository,
    TransactionRepository,
)
from trading.trades import OrderHistory, TradeManager, TradeReconciliation, TransactionRepair

WAITING, OPENED, CLOSED, CANCELLED = (
    TransactionStatus.WAITING,
    TransactionStatus.OPENED,
    TransactionStatus.CLOSED,
    TransactionStatus.CANCELLED,
)
ES = Instrument(symbol="ES", tick_size=0.25, multiplier=50.0, commission=2.0)


class DeskProcess:
    """The trade side of one desk process on a shared database: a bus, a broker (restored
    from ``state`` when given), every order state and fill written to the database before
    the trade manager hears of it, and the trade manager."""

    def __init__(
        self,
        db: Database,
        clock: TestClock,
        *,
        state: dict[str, Any] | None = None,
        activity: ActivityLog | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = EventBus()
        self.broker = PaperBroker(self.bus, clock, [ES])
        if state is not None:
            self.broker.restore_state(state)
        self.orders = OrderRepository(db)
        self.fills = FillRepository(db)
        self.bus.subscribe(OrderEvent, self._record)  # first subscriber: rows before the manager hears
        self.repo = TransactionRepository(db)
        self.manager = TradeManager(self.broker, self.bus, clock, self.repo, activity=activity)
        self.history = OrderHistoryRepository(db)

    def _record(self, event: OrderEvent) -> None:
        order = self.broker.get_order(event.order_id)
        if order is not None:
            self.orders.upsert(order)
        if isinstance(event, OrderFilled):
            self.fills.add(event)

    def tick(self, price: float) -> None:
        self.clock.advance(1)
        self.broker.on_market_data(MarketDataUpdated(ts=self.clock.now(), symbol="ES", price=price))

    def crash(self) -> None:
        """The process dies here for the trade manager: it hears nothing more, while the
        broker's steps that follow are committed (the broker died a little later)."""
        self.manager.close()

    def restart(
        self, *, state: dict[str, Any] | None = None, activity: ActivityLog | None = None
    ) -> DeskProcess:
        """A new process on the same database, its broker restored to this broker's state."""
        self.manager.close()
        return DeskProcess(self.db, self.clock, state=state or self.broker.export_state(), activity=activity)

    def stored(self, transaction_id: str) -> Transaction:
        txn = self.repo.get(transaction_id)
        assert txn is not None
        return txn


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def db(tmp_path: Path, clock: TestClock) -> Iterator[Database]:
    database = Database(tmp_path / "desk.db", clock=clock)
    yield database
    database.close()


@pytest.fixture
def desk(db: Database, clock: TestClock) -> DeskProcess:
    return DeskProcess(db, clock)


def buy_es(qty: float = 2, **kwargs: Any) -> Recommendation:
    return Recommendation("ES", OrderSide.BUY, qty, **kwargs)


def opened(desk: DeskProcess, qty: float = 2, strategy: str = "ma") -> Transaction:
    """An OPENED transaction (entry filled at 5000, TP 5010 / SL 4990 working), seen live."""
    desk.tick(5000.0)
    [txn] = desk.manager.process(strategy, [buy_es(qty, take_profit=5010.0, stop_loss=4990.0)])
    desk.tick(5000.0)
    assert desk.stored(txn.transaction_id).status is OPENED
    return desk.stored(txn.transaction_id)


def legs(desk: DeskProcess) -> dict[OrderRole, Order]:
    return {o.role: o for o in desk.broker.open_orders()}


# --- WAITING -----------------------------------------------------------------------


def test_restore_waiting_entry_filled_while_away_opens_at_fill_price_and_sends_oco(
    desk: DeskProcess,
) -> None:
    # Arrange: the entry fills at 5001 after the trade manager died
    desk.tick(5000.0)
    [txn] = desk.manager.process("ma", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    desk.crash()
    desk.tick(5001.0)
    again = desk.restart()
    seen: list[TransactionOpened] = []
    again.bus.subscribe(TransactionOpened, seen.append)
    # Act
    result = again.manager.restore(again.history)
    # Assert
    assert result.repairs == (
        TransactionRepair(
            txn.transaction_id,
            "ma",
            "ES",
            WAITING,
            OPENED,
            f"reconciled: entry order {txn.entry_order_id} FILLED; protection sent",
        ),
    )
    now = again.stored(txn.transaction_id)
    assert (now.status, now.quantity, now.entry_price, now.commissions) == (OPENED, 2.0, 5001.0, 4.0)
    tp, sl = legs(again)[OrderRole.TAKE_PROFIT], legs(again)[OrderRole.STOP_LOSS]
    assert (tp.price, sl.stop_price, tp.quantity, sl.quantity) == (5010.0, 4990.0, 2.0, 2.0)
    assert tp.oco_group is not None and tp.oco_group == sl.oco_group
    assert (now.tp_order_id, now.sl_order_id) == (tp.order_id, sl.order_id)
    assert [(e.transaction_id, e.entry_price) for e in seen] == [(txn.transaction_id, 5001.0)]
    assert [t.status for t in result.active] == [OPENED]


def test_restore_waiting_entry_partly_filled_then_cancelled_opens_with_the_part_at_the_average(
    desk: DeskProcess,
) -> None:
    # Arrange: a limit entry for 3; after the trade manager died a venue filled 2 of it
    # (1 at 4990, 1 at 4991: fills the paper broker cannot make, written as the journal
    # would) and cancelled the rest; the broker holds the 2
    desk.tick(5000.0)
    [txn] = desk.manager.process(
        "ma",
        [buy_es(3, entry_type=OrderType.LIMIT, entry_price=4990.0, take_profit=5010.0, stop_loss=4980.0)],
    )
    desk.crash()
    assert txn.entry_order_id is not None
    for n, price in enumerate((4990.0, 4991.0)):
        desk.fills.add(
            OrderFilled(
                ts=desk.clock.now(),
                order_id=txn.entry_order_id,
                symbol="ES",
                strategy="ma",
                side=OrderSide.BUY,
                quantity=1.0,
                price=price,
                commission=2.0,
                filled_quantity=n + 1.0,
                order_quantity=3.0,
                role=OrderRole.ENTRY,
                fill_id=f"F-venue-{n}",
                transaction_id=txn.transaction_id,
            )
        )
    desk.broker.cancel(txn.entry_order_id, "venue: rest cancelled")
    desk.broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=2, strategy="ma"), check=False)
    desk.tick(4990.5)
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    # Assert
    [repair] = result.repairs
    assert (repair.before, repair.after, repair.reason) == (
        WAITING,
        OPENED,
        f"reconciled: entry order {txn.entry_order_id} CANCELLED after 2 of 3 filled; protection sent",
    )
    now = again.stored(txn.transaction_id)
    assert (now.status, now.quantity, now.entry_price, now.commissions) == (OPENED, 2.0, 4990.5, 4.0)
    assert sorted((o.role.value, o.quantity) for o in again.broker.open_orders()) == [
        ("STOP_LOSS", 2.0),
        ("TAKE_PROFIT", 2.0),
    ]


def test_restore_waiting_entry_cancelled_unfilled_cancels_with_its_status_and_reason(
    desk: DeskProcess,
) -> None:
    # Arrange: an operator cancels the working entry at the broker after the manager died
    desk.tick(5000.0)
    [txn] = desk.manager.process("ma", [buy_es(entry_type=OrderType.LIMIT, entry_price=4990.0)])
    desk.crash()
    assert txn.entry_order_id is not None
    desk.broker.cancel(txn.entry_order_id, "operator")
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    # Assert
    reason = f"reconciled: entry order {txn.entry_order_id} CANCELLED: operator"
    assert [(r.before, r.after, r.reason) for r in result.repairs] == [(WAITING, CANCELLED, reason)]
    now = again.stored(txn.transaction_id)
    assert (now.status, now.reason) == (CANCELLED, reason)
    assert again.manager.active() == [] and again.broker.open_orders() == []


def test_restore_waiting_entry_unknown_to_broker_and_history_cancels_as_unknown(
    desk: DeskProcess,
) -> None:
    # Arrange: the process died between storing the transaction and submitting its entry
    txn = Transaction(
        transaction_id="T-lost",
        strategy="ma",
        symbol="ES",
        side=OrderSide.BUY,
        quantity=1.0,
        entry_order_id="O-never-sent",
        created_at=desk.clock.now(),
    )
    desk.repo.create(txn)
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    # Assert
    assert [(r.transaction_id, r.after, r.reason) for r in result.repairs] == [
        ("T-lost", CANCELLED, "reconciled: entry order unknown")
    ]
    assert (again.stored("T-lost").status, again.stored("T-lost").reason) == (
        CANCELLED,
        "reconciled: entry order unknown",
    )


def test_restore_waiting_entry_still_working_stays_waiting_and_its_later_fill_opens(
    desk: DeskProcess,
) -> None:
    # Arrange
    desk.tick(5000.0)
    [txn] = desk.manager.process(
        "ma", [buy_es(entry_type=OrderType.LIMIT, entry_price=4995.0, take_profit=5005.0)]
    )
    desk.crash()
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    again.tick(4994.0)
    # Assert
    assert result.repairs == () and [t.status for t in result.restored] == [WAITING]
    now = again.stored(txn.transaction_id)
    assert (now.status, now.entry_price) == (OPENED, 4994.0)
    assert [o.role for o in again.broker.open_orders()] == [OrderRole.TAKE_PROFIT]


def test_restore_waiting_entry_filled_then_flattened_closes_without_sending_legs(
    desk: DeskProcess,
) -> None:
    # Arrange: the entry fills at 5001 and a risk flatten closes the position at 4999, both
    # after the trade manager died
    desk.tick(5000.0)
    [txn] = desk.manager.process("ma", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    desk.crash()
    desk.tick(5001.0)
    desk.broker.flatten_all("daily loss limit")
    desk.tick(4999.0)
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    # Assert: (4999 - 5001) x 2 x 50 = -200
    assert [(r.before, r.after, r.reason) for r in result.repairs] == [
        (WAITING, CLOSED, f"reconciled: entry order {txn.entry_order_id} FILLED; no position")
    ]
    now = again.stored(txn.transaction_id)
    assert (now.status, now.reason, now.exit_price, now.realized_pnl) == (
        CLOSED,
        "reconciled: no position",
        4999.0,
        -200.0,
    )
    assert again.broker.open_orders() == []


# --- OPENED ------------------------------------------------------------------------


def test_restore_opened_exit_fills_cover_quantity_closes_with_pnl_from_the_fills(
    desk: DeskProcess,
) -> None:
    # Arrange: long 3 at 5000; a reduction to 2 is sent, then the manager dies; the reduction
    # fills at 5004, the take-profit at 5010 (clipped to the 2 left), the price moves on to 5020
    txn = opened(desk, 3)
    desk.manager.adjust_quantity(txn.transaction_id, 2)
    desk.crash()
    desk.tick(5004.0)
    desk.tick(5010.0)
    desk.tick(5020.0)
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    # Assert: 4 x 1 x 50 + 10 x 2 x 50 = 1200; exit at (5004 + 2 x 5010) / 3 = 5008;
    # commissions 2 x (3 + 1 + 2)
    assert [(r.before, r.after, r.reason) for r in result.repairs] == [
        (OPENED, CLOSED, "reconciled: TAKE_PROFIT filled")
    ]
    now = again.stored(txn.transaction_id)
    assert (now.status, now.exit_price, now.commissions) == (CLOSED, 5008.0, 12.0)
    assert now.realized_pnl == pytest.approx(1200.0)
    assert again.manager.active() == [] and again.broker.open_orders() == []


def test_restore_opened_reduction_filled_while_away_follows_the_fills_and_tp_later_closes(
    desk: DeskProcess,
) -> None:
    # Arrange: long 3 at 5000; a reduction to 2 is sent, the manager dies, it fills at 5004
    txn = opened(desk, 3)
    desk.manager.adjust_quantity(txn.transaction_id, 2)
    desk.crash()
    desk.tick(5004.0)
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    after_restore = again.stored(txn.transaction_id)
    leg_sizes = sorted(o.quantity for o in again.broker.open_orders())
    again.tick(5010.0)
    # Assert: 4 x 1 x 50 = 200 realized by the reduction; the TP then 10 x 2 x 50 = 1000
    assert [(r.before, r.after, r.reason) for r in result.repairs] == [
        (OPENED, OPENED, "reconciled: quantity 3 -> 2 from the fills")
    ]
    assert (after_restore.quantity, after_restore.realized_pnl, after_restore.commissions) == (
        2.0,
        200.0,
        8.0,
    )
    assert leg_sizes == [2.0, 2.0]
    closed = again.stored(txn.transaction_id)
    assert (closed.status, closed.realized_pnl) == (CLOSED, 1200.0)
    assert closed.exit_price == pytest.approx((5004.0 + 2 * 5010.0) / 3)


def test_restore_opened_without_position_closes_as_no_position_and_cancels_its_orders(
    desk: DeskProcess,
) -> None:
    # Arrange: the zombie of issue 11: the broker comes back with the legs but without the
    # position (an older account was restored)
    txn = opened(desk)
    desk.crash()
    state = desk.broker.export_state()
    state["positions"] = []
    again = desk.restart(state=state)
    # Act
    result = again.manager.restore(again.history)
    # Assert: priced at the restarted broker's last price 5000: no P&L
    assert [(r.before, r.after, r.reason) for r in result.repairs] == [
        (OPENED, CLOSED, "reconciled: no position")
    ]
    now = again.stored(txn.transaction_id)
    assert (now.status, now.reason, now.exit_price, now.realized_pnl) == (
        CLOSED,
        "reconciled: no position",
        5000.0,
        0.0,
    )
    assert again.broker.open_orders() == []
    assert {again.orders.get(oid)["status"] for oid in (txn.tp_order_id, txn.sl_order_id)} == {"CANCELLED"}


def test_restore_opened_legs_gone_sends_protection_again(desk: DeskProcess) -> None:
    # Arrange: both legs are cancelled at the broker after the manager died
    txn = opened(desk)
    desk.crash()
    for order_id in (txn.tp_order_id, txn.sl_order_id):
        assert order_id is not None
        desk.broker.cancel(order_id, "operator")
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    # Assert
    assert [(r.before, r.after, r.reason) for r in result.repairs] == [
        (OPENED, OPENED, "reconciled: protection sent again")
    ]
    now = again.stored(txn.transaction_id)
    assert {now.tp_order_id, now.sl_order_id} == {o.order_id for o in again.broker.open_orders()}
    assert now.tp_order_id != txn.tp_order_id


def test_restore_opened_legs_working_links_them_and_a_later_fill_closes(desk: DeskProcess) -> None:
    # Arrange
    txn = opened(desk)
    desk.crash()
    again = desk.restart()
    closed: list[TransactionClosed] = []
    again.bus.subscribe(TransactionClosed, closed.append)
    # Act
    result = again.manager.restore(again.history)
    again.tick(5010.0)
    # Assert: (5010 - 5000) x 2 x 50 = 1000
    assert result.repairs == ()
    now = again.stored(txn.transaction_id)
    assert (now.status, now.exit_price, now.realized_pnl, now.reason) == (
        CLOSED,
        5010.0,
        1000.0,
        "TAKE_PROFIT filled",
    )
    assert [(e.transaction_id, e.realized_pnl) for e in closed] == [(txn.transaction_id, 1000.0)]
    assert again.broker.open_orders() == []


def test_restore_opened_close_working_links_it_without_new_legs_and_its_fill_closes(
    desk: DeskProcess,
) -> None:
    # Arrange: a close was sent (legs cancelled), then the manager died before its fill
    txn = opened(desk)
    desk.manager.close_position(txn.transaction_id, "signal reversed")
    desk.crash()
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    again.tick(4998.0)
    # Assert: (4998 - 5000) x 2 x 50 = -200
    assert result.repairs == ()
    now = again.stored(txn.transaction_id)
    assert (now.status, now.exit_price, now.realized_pnl) == (CLOSED, 4998.0, -200.0)
    assert again.broker.open_orders() == [] and again.broker.positions() == {}


@pytest.mark.parametrize("heard_the_cancels", [True, False], ids=["cancels-heard", "cancels-unheard"])
def test_restore_opened_risk_flatten_working_sends_no_legs_and_its_fill_closes(
    desk: DeskProcess, heard_the_cancels: bool
) -> None:
    # Arrange: a risk flatten cancelled the legs and sent its exit (no transaction's order);
    # the desk died before the exit filled (the crash test's zombie: legs sent again at the
    # restart outlived the position, and the transaction stayed OPENED without one)
    txn = opened(desk)
    if not heard_the_cancels:
        desk.crash()
    [exit_order] = desk.broker.flatten_all("trailing_drawdown: floor reached")
    desk.crash()
    again = desk.restart()
    # Act
    result = again.manager.restore(again.history)
    again.tick(4998.0)
    # Assert: closed by the flatten's fill as it would have been live, (4998 - 5000) x 2 x 50
    now = again.stored(txn.transaction_id)
    assert (now.status, now.exit_price, now.realized_pnl) == (CLOSED, 4998.0, -200.0)
    assert again.broker.open_orders() == [] and again.broker.positions() == {}
    assert exit_order.transaction_id is None and result.repairs == ()


# --- the restore as a whole ----------------------------------------------------------


def test_restore_twice_changes_nothing_the_second_time(desk: DeskProcess) -> None:
    # Arrange: "a" filled while away, "b" lost its legs, "c" still waits for its limit
    b = opened(desk, 1, strategy="b")
    [a] = desk.manager.process("a", [buy_es(take_profit=5010.0, stop_loss=4990.0)])
    [c] = desk.manager.process(
        "c", [buy_es(1, entry_type=OrderType.LIMIT, entry_price=4980.0, stop_loss=4970.0)]
    )
    desk.crash()
    desk.tick(5000.0)
    for order_id in (b.tp_order_id, b.sl_order_id):
        assert order_id is not None
        desk.broker.cancel(order_id, "operator")
    first = desk.restart()
    repaired = first.manager.restore(first.history)
    assert {r.transaction_id for r in repaired.repairs} == {a.transaction_id, b.transaction_id}
    rows = {t.transaction_id: t for t in first.repo.active()}
    working = sorted(o.order_id for o in first.broker.open_orders())
    # Act
    same_manager = first.manager.restore(first.history)
    second = first.restart()
    again = second.manager.restore(second.history)
    # Assert
    assert same_manager == TradeReconciliation()
    assert again.repairs == ()
    assert {t.transaction_id: t for t in again.restored} == rows
    assert {t.transaction_id: t for t in second.repo.active()} == rows
    assert sorted(o.order_id for o in second.broker.open_orders()) == working
    assert c.transaction_id in rows and rows[c.transaction_id].status is WAITING


def test_restore_reconciled_closed_is_never_reopened(desk: DeskProcess) -> None:
    # Arrange: a zombie closed by the first restart
    txn = opened(desk)
    desk.crash()
    state = desk.broker.export_state()
    state["positions"] = []
    first = desk.restart(state=state)
    first.manager.restore(first.history)
    # Act: prices through the old legs, another restart, and a new pass of the same strategy
    first.tick(4989.0)
    first.tick(5011.0)
    second = first.restart()
    again = second.manager.restore(second.history)
    second.tick(5000.0)
    [fresh] = second.manager.process("ma", [buy_es(take_profit=5010.0)])
    # Assert
    assert again == TradeReconciliation()
    stored = second.stored(txn.transaction_id)
    assert (stored.status, stored.reason) == (CLOSED, "reconciled: no position")
    assert [t.transaction_id for t in second.manager.active()] == [fresh.transaction_id]


def test_restore_repair_is_logged_at_warning_and_in_the_activity_log(
    desk: DeskProcess, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    desk.repo.create(
        Transaction(
            transaction_id="T-lost",
            strategy="ma",
            symbol="ES",
            side=OrderSide.BUY,
            quantity=1.0,
            entry_order_id="O-never-sent",
        )
    )
    line = "transaction T-lost (ma ES) WAITING -> CANCELLED: reconciled: entry order unknown"
    with ActivityLog(db, clock=desk.clock) as activity:
        again = desk.restart(activity=activity)
        # Act
        with caplog.at_level(logging.WARNING, logger="trading.trades"):
            again.manager.restore(again.history)
        activity.flush()
        rows = activity.recent(level="WARNING")
    # Assert
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("WARNING", line)]
    assert [(r["level"], r["source"], r["message"]) for r in rows] == [("WARNING", "reconcile", line)]
    assert rows[0]["details"] == {"transaction_id": "T-lost", "before": "WAITING", "after": "CANCELLED"}


def test_restore_refuses_what_is_not_an_order_history(desk: DeskProcess) -> None:
    assert isinstance(desk.history, OrderHistory)
    with pytest.raises(TypeError, match="history must be an OrderHistory, got dict"):
        desk.manager.restore({})  # type: ignore[arg-type]
