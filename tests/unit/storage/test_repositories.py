from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trading.model import Order, OrderFilled, OrderRole, OrderSide, OrderStatus, OrderType
from trading.signals.jobs import JobRecord, JobStore
from trading.storage import (
    AuditRepository,
    CommandRepository,
    Database,
    FillRepository,
    JobRepository,
    KeyValueRepository,
    LockoutRepository,
    OrderHistoryRepository,
    OrderRepository,
    ViolationRepository,
)

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _job(task_id: str, *, status: str = "PENDING", lane: str = "strategies", minutes: int = 0) -> JobRecord:
    return JobRecord(
        task_id=task_id,
        name="ma_cross",
        lane=lane,
        status=status,
        created_at=T0 + timedelta(minutes=minutes),
        details={"symbols": ["ES"], "at": T0},
    )


# --- orders and fills ------------------------------------------------------------


def test_order_repository_upsert_twice_keeps_latest_state(db: Database) -> None:
    # Arrange
    repo = OrderRepository(db)
    order = Order(symbol="ES", side=OrderSide.BUY, quantity=2, order_type=OrderType.LIMIT, price=5000.25)
    order.created_at = T0
    repo.upsert(order)
    # Act
    order.transition(OrderStatus.ACCEPTED, T0 + timedelta(seconds=1))
    repo.upsert(order)
    # Assert
    row = repo.get(order.order_id)
    assert row is not None
    assert (row["status"], row["price"], row["updated_at"]) == (
        "ACCEPTED",
        5000.25,
        T0 + timedelta(seconds=1),
    )
    assert row["created_at"].tzinfo is not None
    assert [r["order_id"] for r in repo.recent()] == [order.order_id]


def test_order_repository_naive_datetime_is_refused(db: Database) -> None:
    order = Order(symbol="ES", side=OrderSide.BUY, quantity=1)
    order.created_at = datetime(2026, 1, 5, 14, 30)
    with pytest.raises(ValueError, match=r"order\.created_at must be timezone-aware"):
        OrderRepository(db).upsert(order)


def test_fill_repository_for_order_returns_fills_in_order(db: Database) -> None:
    # Arrange
    repo = FillRepository(db)
    for i, qty in enumerate((1.0, 2.0)):
        repo.add(
            OrderFilled(
                ts=T0 + timedelta(seconds=i),
                order_id="O-1",
                symbol="ES",
                side=OrderSide.SELL,
                quantity=qty,
                price=5000.0 + i,
                role=OrderRole.TAKE_PROFIT,
                fill_id=f"F-{i}",
                transaction_id="T-1",
            )
        )
    # Act
    fills = repo.for_order("O-1")
    # Assert
    assert [(f["fill_id"], f["quantity"], f["price"], f["role"]) for f in fills] == [
        ("F-0", 1.0, 5000.0, "TAKE_PROFIT"),
        ("F-1", 2.0, 5001.0, "TAKE_PROFIT"),
    ]
    assert fills[1]["ts"] == T0 + timedelta(seconds=1)


def test_order_history_repository_reads_one_transactions_orders_and_fills(db: Database) -> None:
    # Arrange: an entry and its take-profit for T-1 (one partial fill, then the rest), and
    # another transaction's order and fill that must not appear
    orders, fills = OrderRepository(db), FillRepository(db)
    entry = Order(symbol="ES", side=OrderSide.BUY, quantity=2, transaction_id="T-1", order_id="O-1")
    tp = Order(
        symbol="ES",
        side=OrderSide.SELL,
        quantity=2,
        order_type=OrderType.LIMIT,
        price=5010.0,
        role=OrderRole.TAKE_PROFIT,
        transaction_id="T-1",
        order_id="O-2",
    )
    other = Order(symbol="ES", side=OrderSide.BUY, quantity=1, transaction_id="T-2", order_id="O-3")
    for i, order in enumerate((entry, tp, other)):
        order.created_at = T0 + timedelta(seconds=i)
        orders.upsert(order)
    tp.transition(OrderStatus.ACCEPTED)
    tp.transition(OrderStatus.PARTIALLY_FILLED)
    tp.filled_quantity, tp.avg_fill_price = 1.0, 5010.0
    orders.upsert(tp)
    for i, (order_id, qty, role) in enumerate(
        (("O-1", 2.0, OrderRole.ENTRY), ("O-3", 1.0, OrderRole.ENTRY), ("O-2", 1.0, OrderRole.TAKE_PROFIT))
    ):
        fills.add(
            OrderFilled(
                ts=T0 + timedelta(seconds=10 + i),
                order_id=order_id,
                symbol="ES",
                side=OrderSide.BUY if role is OrderRole.ENTRY else OrderSide.SELL,
                quantity=qty,
                price=5000.0 + i,
                commission=2.5,
                role=role,
                fill_id=f"F-{i}",
                transaction_id="T-2" if order_id == "O-3" else "T-1",
            )
        )
    history = OrderHistoryRepository(db)
    # Act
    got_orders = history.orders_for("T-1")
    got_fills = history.fills_for("T-1")
    # Assert
    assert [(o.order_id, o.role, o.status, o.filled_quantity, o.avg_fill_price) for o in got_orders] == [
        ("O-1", OrderRole.ENTRY, OrderStatus.NEW, 0.0, None),
        ("O-2", OrderRole.TAKE_PROFIT, OrderStatus.PARTIALLY_FILLED, 1.0, 5010.0),
    ]
    assert [(f.fill_id, f.order_id, f.side, f.quantity, f.price, f.role) for f in got_fills] == [
        ("F-0", "O-1", OrderSide.BUY, 2.0, 5000.0, OrderRole.ENTRY),
        ("F-2", "O-2", OrderSide.SELL, 1.0, 5002.0, OrderRole.TAKE_PROFIT),
    ]
    assert (got_fills[1].commission, got_fills[1].ts) == (2.5, T0 + timedelta(seconds=12))
    assert history.orders_for("T-unknown") == [] and history.fills_for("T-unknown") == []


# --- jobs ------------------------------------------------------------------------


def test_job_repository_is_a_job_store_and_round_trips_records(db: Database) -> None:
    # Arrange
    repo = JobRepository(db)
    job = _job("t-1")
    # Act
    repo.record(job)
    repo.record(job.with_status("COMPLETED", finished_at=T0 + timedelta(seconds=2), duration_ms=12.5))
    # Assert
    assert isinstance(repo, JobStore)
    got = repo.get("t-1")
    assert got is not None
    assert (got.status, got.duration_ms, got.finished_at) == ("COMPLETED", 12.5, T0 + timedelta(seconds=2))
    assert got.details == {"symbols": ["ES"], "at": "2026-01-05T14:30:00.000000+00:00"}
    assert repo.get("missing") is None


def test_job_repository_unfinished_returns_pending_and_running_of_lane(db: Database) -> None:
    # Arrange
    repo = JobRepository(db)
    for task_id, status, lane in [
        ("a", "PENDING", "strategies"),
        ("b", "RUNNING", "strategies"),
        ("c", "COMPLETED", "strategies"),
        ("d", "RUNNING", "risk"),
    ]:
        repo.record(_job(task_id, status=status, lane=lane))
    # Act
    unfinished = repo.unfinished("strategies")
    # Assert
    assert sorted(j.task_id for j in unfinished) == ["a", "b"]


def test_job_repository_list_and_count_filter_newest_first(db: Database) -> None:
    # Arrange
    repo = JobRepository(db)
    for i in range(5):
        repo.record(_job(f"t{i}", status="FAILED" if i % 2 else "COMPLETED", minutes=i))
    # Act
    failed = repo.list(status="FAILED")
    page = repo.list(limit=2, offset=1)
    # Assert
    assert [j.task_id for j in failed] == ["t3", "t1"]
    assert [j.task_id for j in page] == ["t3", "t2"]
    assert (repo.count(), repo.count(status="FAILED"), repo.count(lane="risk")) == (5, 2, 0)


def test_job_repository_list_bad_limit_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match=r"limit must be an int in 1\.\.100000, got 0"):
        JobRepository(db).list(limit=0)


# --- risk records ----------------------------------------------------------------


def test_violation_repository_add_returns_id_and_recent_is_newest_first(db: Database) -> None:
    # Arrange
    repo = ViolationRepository(db)
    common = {"message": "loss limit", "action": "flatten", "symbol": None, "event": "PositionClosed"}
    # Act
    first = repo.add(
        ts=T0, rule="daily_loss", severity="CRITICAL", shadow=False, values={"pnl": -510.0}, **common
    )
    second = repo.add(ts=T0, rule="max_trades", severity="WARNING", shadow=True, values={}, **common)
    # Assert
    assert second == first + 1
    rows = repo.recent()
    assert [(r["rule"], r["shadow"], r["values"]) for r in rows] == [
        ("max_trades", True, {}),
        ("daily_loss", False, {"pnl": -510.0}),
    ]
    assert repo.count() == 2
    assert repo.recent(limit=1, offset=1)[0]["id"] == first


def test_violation_repository_unknown_severity_is_refused(db: Database) -> None:
    with pytest.raises(
        ValueError, match=r"severity must be one of \['CRITICAL', 'INFO', 'WARNING'\], got 'FATAL'"
    ):
        ViolationRepository(db).add(
            ts=T0,
            rule="r",
            message="m",
            action="a",
            severity="FATAL",
            shadow=False,
            symbol=None,
            values={},
            event="e",
        )
    assert ViolationRepository(db).count() == 0


def test_lockout_repository_save_replace_remove(db: Database) -> None:
    # Arrange
    repo = LockoutRepository(db)
    repo.save(scope="account", rule="daily_loss", reason="limit hit", started_at=T0, until=None)
    # Act
    repo.save(scope="ES", rule="cooldown", reason="3 losses", started_at=T0, until=T0 + timedelta(minutes=30))
    repo.save(scope="account", rule="daily_loss", reason="limit hit again", started_at=T0, until=None)
    repo.remove("ES")
    # Assert
    assert repo.all() == [
        {
            "scope": "account",
            "rule": "daily_loss",
            "reason": "limit hit again",
            "started_at": T0,
            "until": None,
        }
    ]


def test_audit_repository_records_actions_newest_first(db: Database) -> None:
    repo = AuditRepository(db)
    repo.add(ts=T0, action="flatten_all", rule="daily_loss", reason="limit", result="2 orders")
    repo.add(ts=T0, action="unlock", rule="", reason="operator", result="ok", symbol="ES")
    assert [(r["action"], r["symbol"]) for r in repo.recent()] == [("unlock", "ES"), ("flatten_all", None)]


# --- commands and key-values -----------------------------------------------------


def test_command_repository_lifecycle_pending_running_done(db: Database) -> None:
    # Arrange
    repo = CommandRepository(db)
    command_id = repo.submit("flatten", {"reason": "manual"}, requested_by="dashboard")
    # Act
    claimed = repo.claim(command_id)
    again = repo.claim(command_id)
    repo.finish(command_id, "done", "2 positions closed")
    # Assert
    assert (claimed, again) == (True, False)
    row = repo.get(command_id)
    assert row is not None
    assert (row["status"], row["result"], row["args"]) == ("done", "2 positions closed", {"reason": "manual"})
    assert repo.pending() == []
    assert [r["id"] for r in repo.recent()] == [command_id]


def test_command_repository_finish_bad_status_and_twice_are_refused(db: Database) -> None:
    repo = CommandRepository(db)
    command_id = repo.submit("pause", {}, requested_by="dashboard")
    with pytest.raises(ValueError, match=r"status must be one of \['done', 'failed'\], got 'ok'"):
        repo.finish(command_id, "ok", "")
    repo.finish(command_id, "failed", "desk stopping")
    with pytest.raises(KeyError, match="is already failed"):
        repo.finish(command_id, "done", "")
    with pytest.raises(KeyError, match="does not exist"):
        repo.finish(999, "done", "")


def test_command_repository_claim_many_threads_exactly_one_wins(db: Database) -> None:
    # Arrange
    repo = CommandRepository(db)
    command_id = repo.submit("flatten", {}, requested_by="dashboard")
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        wins.append(repo.claim(command_id))

    # Act
    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Assert
    assert sorted(wins) == [False] * 7 + [True]


def test_command_repository_claim_two_processes_exactly_one_wins(db: Database, db_path: Path) -> None:
    # Arrange
    repo = CommandRepository(db)
    ids = [repo.submit("pause", {"n": i}, requested_by="test") for i in range(50)]
    code = (
        "import sys\nfrom trading.storage import Database, CommandRepository\n"
        f"db = Database({str(db_path)!r})\nrepo = CommandRepository(db)\n"
        f"won = [i for i in {ids!r} if repo.claim(i)]\nprint(','.join(map(str, won)))\ndb.close()\n"
    )
    # Act
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    # Assert
    won = [int(x) for out in outputs for x in out.split(",") if x]
    assert sorted(won) == ids
    assert [p.returncode for p in procs] == [0, 0]


def test_key_value_repository_put_get_replace(db: Database) -> None:
    repo = KeyValueRepository(db)
    repo.put("paper.account", {"cash": 100_000.0, "positions": {"ES": 1}})
    repo.put("paper.account", {"cash": 99_000.0, "positions": {}})
    assert repo.get("paper.account") == {"cash": 99_000.0, "positions": {}}
    assert repo.get("missing") is None


def test_key_value_repository_non_dict_value_is_refused(db: Database) -> None:
    with pytest.raises(TypeError, match="value for key 'k' must be a dict, got list"):
        KeyValueRepository(db).put("k", [1, 2])  # type: ignore[arg-type]
