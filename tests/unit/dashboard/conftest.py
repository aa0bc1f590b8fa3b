"""Fixtures for the dashboard tests: state directories as a desk leaves them.

- ``real_desk_dir``: written by a real desk (``trading.desk.Desk`` from config/desk.yaml,
  seed 7) run for 15 simulated minutes on a TestClock: deterministic, with trades,
  violations, lockouts, jobs and activity. ``test_real_desk.py`` runs every page on it.
- ``desk_state_dir``: a controlled state with exact, known values (a 120-job table for
  paging, a lockout ending in 50 minutes, a rule at 105 %, a shadow hit) for the
  assertions on formatting, colours, countdowns and paging that need known inputs.
  It is written with the same StateManager and repositories the desk uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from trading.memory import StateManager
from trading.signals.jobs import JobRecord
from trading.snapshot import (
    SNAPSHOT_KEY,
    AccountView,
    HeadroomView,
    LaneView,
    LockoutView,
    OrderView,
    PositionView,
    RuleView,
    Series,
    Snapshot,
    StrategyView,
    SymbolHeadroomView,
    ViolationView,
)
from trading.state_dir import Heartbeat, StateDir
from trading.storage import (
    ActivityLog,
    AuditRepository,
    CommandRepository,
    Database,
    JobRepository,
    ViolationRepository,
)

ROOT = Path(__file__).resolve().parents[3]
APP = ROOT / "dashboard" / "app.py"
VIEWS = ROOT / "dashboard" / "views"


@dataclass(frozen=True)
class DeskState:
    """What the fixture wrote, so tests can assert the dashboard shows it."""

    state_dir: Path
    snapshot: Snapshot
    job_ids: tuple[str, ...]
    activity_messages: tuple[str, ...]


def build_snapshot(
    now: datetime,
    *,
    equity_shift: float = 0.0,
    trading_state: str = "ACTIVE",
    state_reason: str = "",
    points: int = 600,
) -> Snapshot:
    """A snapshot with known values (see the module docstring)."""
    rng = np.random.default_rng(7)
    times = now.timestamp() - np.arange(points, 0, -1, dtype=np.float64) * 5.0
    equity = 100_000.0 + np.cumsum(rng.normal(0, 25, points)) + equity_shift
    day0 = (now - timedelta(days=4)).replace(hour=0, minute=0, second=0, microsecond=0)
    daily_t = np.array([(day0 + timedelta(days=i)).timestamp() for i in range(5)])
    daily_v = np.array([320.5, -140.25, 75.0, -410.0, 212.75])
    lane_hist = {
        lane: {
            "queued": Series(times[-60:], rng.integers(0, 8, 60).astype(np.float64)),
            "completed_per_s": Series(times[-60:], rng.uniform(0, 4, 60)),
        }
        for lane in ("strategies", "risk")
    }
    return Snapshot(
        taken_at=now,
        heartbeat=now.timestamp(),
        desk_pid=os.getpid(),
        started_at=now - timedelta(hours=2),
        trading_state=trading_state,
        state_reason=state_reason,
        paused=False,
        account=AccountView(
            cash=98_765.43,
            equity=float(equity[-1]),
            buying_power=190_000.0,
            realized_pnl=1_234.5,
            unrealized_pnl=-87.25,
            commissions=42.0,
            starting_balance=100_000.0,
            daily_realized_pnl=212.75,
            daily_pnl=125.5,
            daily_realized_gross=254.75,
            daily_commissions=42.0,
            gross_exposure=1_023_665.0,
        ),
        equity_curve=Series(times, equity),
        daily_pnl=Series(daily_t, daily_v),
        positions=(
            PositionView(
                symbol="ESZ6",
                quantity=2.0,
                avg_price=6012.25,
                last_price=6015.5,
                unrealized_pnl=325.0,
                realized_pnl=0.0,
                strategies=("ma_fast",),
            ),
            PositionView(
                symbol="NQZ6",
                quantity=-1.0,
                avg_price=21050.0,
                last_price=21070.0,
                unrealized_pnl=-412.25,
                realized_pnl=150.0,
                strategies=("meanrev",),
            ),
        ),
        open_orders=(
            OrderView(
                order_id="O-17",
                symbol="ESZ6",
                side="SELL",
                quantity=2.0,
                filled_quantity=0.0,
                order_type="LIMIT",
                price=6030.0,
                stop_price=None,
                status="ACCEPTED",
                strategy="ma_fast",
                role="TAKE_PROFIT",
                created_at=now - timedelta(minutes=3),
            ),
            OrderView(
                order_id="O-18",
                symbol="ESZ6",
                side="SELL",
                quantity=2.0,
                filled_quantity=0.0,
                order_type="STOP",
                price=None,
                stop_price=5990.0,
                status="ACCEPTED",
                strategy="ma_fast",
                role="STOP_LOSS",
                created_at=now - timedelta(minutes=3),
            ),
        ),
        strategies=(
            StrategyView(
                name="ma_fast",
                trades=12,
                wins=7,
                losses=5,
                realized_pnl=880.0,
                open_transactions=1,
                runs=340,
                failures=2,
                mean_run_ms=1.8,
            ),
            StrategyView(
                name="meanrev",
                trades=9,
                wins=4,
                losses=5,
                realized_pnl=-210.0,
                open_transactions=1,
                runs=338,
                failures=0,
                mean_run_ms=2.4,
            ),
        ),
        rules=(
            RuleView(
                rule="daily_loss",
                kind="daily_loss",
                enabled=True,
                mode="enforce",
                action="halt",
                value=410.0,
                limit=1000.0,
                used=0.41,
                status="ok",
                unit="USD",
            ),
            RuleView(
                rule="max_position",
                kind="max_position",
                enabled=True,
                mode="enforce",
                action="reduce",
                value=2.0,
                limit=2.5,
                used=0.8,
                status="warning",
                unit="contracts",
            ),
            RuleView(
                rule="trades_per_day",
                kind="trade_count",
                enabled=True,
                mode="enforce",
                action="lockout",
                value=21.0,
                limit=20.0,
                used=1.05,
                status="breached",
            ),
            RuleView(
                rule="drawdown_shadow",
                kind="trailing_drawdown",
                enabled=True,
                mode="shadow",
                action="halt",
                value=900.0,
                limit=1500.0,
                used=0.6,
                status="ok",
                unit="USD",
            ),
        ),
        lockouts=(
            LockoutView(
                scope="strategy:meanrev",
                rule="trades_per_day",
                reason="21 trades today, limit 20",
                started_at=now - timedelta(minutes=10),
                until=now + timedelta(minutes=50),
            ),
            LockoutView(
                scope="account",
                rule="daily_loss",
                reason="test lockout to the reset",
                started_at=now - timedelta(minutes=5),
                until=None,
            ),
        ),
        violations=(
            ViolationView(
                ts=now - timedelta(minutes=1),
                rule="drawdown_shadow",
                message="would halt: drawdown 900",
                action="halt",
                severity="WARNING",
                shadow=True,
                symbol=None,
            ),
            ViolationView(
                ts=now - timedelta(minutes=10),
                rule="trades_per_day",
                message="21 trades, limit 20",
                action="lockout",
                severity="CRITICAL",
                shadow=False,
                symbol=None,
            ),
        ),
        lanes=(
            LaneView(
                lane="strategies",
                workers=4,
                queued=3,
                running=2,
                max_queue=100,
                submitted=700,
                completed=690,
                failed=2,
                timeouts=1,
                cancelled=0,
                dropped=0,
                p50_wait_ms=0.4,
                p99_wait_ms=3.1,
                p50_run_ms=1.9,
                p99_run_ms=12.0,
            ),
            LaneView(
                lane="risk",
                workers=2,
                queued=0,
                running=1,
                max_queue=100,
                submitted=120,
                completed=118,
                failed=1,
                timeouts=0,
                cancelled=0,
                dropped=0,
            ),
        ),
        lane_history=lane_hist,
        next_reset=now + timedelta(hours=3),
        prices={"ESZ6": 6015.5, "NQZ6": 21070.0},
        timezone="America/Chicago",
        clock_speed=1.0,
        headroom=HeadroomView(
            measured_at=now,
            daily_loss_limit=1000.0,
            daily_loss_used=410.0,
            daily_loss_left=590.0,
            drawdown_floor=97_000.0,
            drawdown_distance=float(equity[-1]) - 97_000.0,
            drawdown_max=3000.0,
            equity=float(equity[-1]),
            contracts_used=3.0,
            contracts_limit=6.0,
            reset_at=now + timedelta(hours=3),
            locked=True,
            lockout_until=None,
            lockout_reason="daily_loss: test lockout to the reset",
            symbols=(
                SymbolHeadroomView(
                    symbol="ESZ6",
                    held=2.0,
                    contracts_allowed=0.0,
                    bound_by="account locked by daily_loss",
                    risk_per_contract=304.0,
                    stop_distance=6.0,
                    stop_source="recent trades",
                ),
                SymbolHeadroomView(
                    symbol="NQZ6",
                    held=-1.0,
                    contracts_allowed=0.0,
                    bound_by="account locked by daily_loss",
                    risk_per_contract=None,
                    stop_distance=None,
                ),
            ),
        ),
    )


def write_heartbeat(state_dir: Path, ts: float, pid: int | None = None) -> None:
    """A heartbeat written at epoch ``ts`` by ``pid`` (default: this process), as the desk writes it."""
    Heartbeat(
        pid=pid or os.getpid(),
        ts=ts,
        started_at=datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
        sim_time=datetime(2026, 1, 5, 12, 30, tzinfo=UTC),
        trading_state="ACTIVE",
    ).write(StateDir(state_dir).heartbeat)


def write_snapshot(state_dir: Path, snapshot: Snapshot) -> None:
    with StateManager(StateDir(state_dir).state_file) as manager:
        manager.set(SNAPSHOT_KEY, snapshot)


SWEEP_ACTION = {
    "action": "close_position",
    "rule": "unrealized_loss",
    "symbol": "ESZ6",
    "result": "closing order O-99",
}


def write_database(state_dir: Path, now: datetime) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Known rows: 120 jobs (risk and strategy lanes), 130 activity lines, violations, three risk
    actions (one taken by the newest risk sweep, one on an event, one by an operator), one command."""
    job_ids: list[str] = []
    messages: list[str] = []
    with Database(StateDir(state_dir).database) as db:
        jobs = JobRepository(db)
        for i in range(120):
            lane = "risk" if i % 2 else "strategies"
            status = "FAILED" if i % 10 == 3 else "COMPLETED"
            created = now - timedelta(seconds=600 - i * 5)
            details = {}
            if lane == "risk":
                details = {
                    "actions": [f"checked rule daily_loss #{i}", {"flatten": "ESZ6", "qty": 2}],
                    "value_before": 100_000.0 + i,
                    "value_after": 99_950.0 + i,
                }
                if i == 119:  # the newest sweep took an action itself (as RiskSweep records it)
                    details["actions"].append(SWEEP_ACTION | {"ts": created.isoformat()})
            job = JobRecord(
                task_id=f"task-{i:04d}",
                name="risk_sweep" if lane == "risk" else "strategy:ma_fast",
                lane=lane,
                status=status,
                created_at=created,
                started_at=created,
                finished_at=created + timedelta(milliseconds=12),
                duration_ms=12.0 + i,
                attempts=1,
                result_summary="ok" if status == "COMPLETED" else "",
                error_class="ZeroDivisionError" if status == "FAILED" else "",
                error_message="division by zero" if status == "FAILED" else "",
                details=details,
            )
            jobs.record(job)
            job_ids.append(job.task_id)
        log = ActivityLog(db)
        log.start()
        try:
            for i in range(130):
                level = "WARNING" if i % 13 == 0 else "INFO"
                message = f"fill {i} ESZ6 @ {6000 + i}" if i % 2 else f"tick batch {i}"
                log.log_activity(level, "broker" if i % 2 else "feed", message, n=i)
                messages.append(message)
            log.flush()
        finally:
            log.close()
        violations = ViolationRepository(db)
        for i in range(3):
            violations.add(
                ts=now - timedelta(minutes=i),
                rule="trades_per_day",
                message=f"violation {i}",
                action="lockout",
                severity="CRITICAL",
                shadow=i == 2,
                symbol=None,
                values={"value": 21 + i},
                event="RuleViolated",
            )
        audit = AuditRepository(db)
        audit.add(
            ts=now - timedelta(minutes=3),
            action="lock",
            rule="cooldown_after_loss",
            reason="losing trade -679.00 on ESZ6",
            result="account REDUCING until later",
        )
        audit.add(
            ts=now - timedelta(seconds=600 - 119 * 5),
            action=SWEEP_ACTION["action"],
            rule=SWEEP_ACTION["rule"],
            reason="open loss 712.50 > 700",
            result=SWEEP_ACTION["result"],
            symbol="ESZ6",
        )
        audit.add(
            ts=now - timedelta(minutes=1), action="pause", rule="operator:alice", reason="news", result="ok"
        )
        CommandRepository(db).submit("pause", {}, "fixture")
    return tuple(job_ids), tuple(messages)


@pytest.fixture
def desk_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DeskState]:
    """A state directory with a fresh heartbeat, a snapshot and a database; the env points the app at it."""
    now = datetime.now(UTC)
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    snapshot = build_snapshot(now)
    write_snapshot(state_dir, snapshot)
    job_ids, messages = write_database(state_dir, now)
    write_heartbeat(state_dir, now.timestamp())
    monkeypatch.setenv("DESK_STATE_DIR", str(state_dir))
    monkeypatch.setenv("DASHBOARD_REFRESH_SECONDS", "2")
    yield DeskState(state_dir, snapshot, job_ids, messages)


@pytest.fixture(autouse=True)
def _fresh_reader_cache() -> Iterator[None]:
    """Each test gets its own DeskReader: clear Streamlit's resource cache around it, closing readers."""
    yield
    from dashboard.session import get_reader

    get_reader.clear()


def chart_figure(chart: object) -> dict:
    """The Plotly figure of an AppTest ``plotly_chart`` element, numeric arrays decoded."""
    import base64
    import json

    def decode(node: object) -> object:
        if isinstance(node, dict):
            if "bdata" in node and "dtype" in node:
                return np.frombuffer(base64.b64decode(node["bdata"]), dtype=np.dtype(node["dtype"])).tolist()
            return {k: decode(v) for k, v in node.items()}
        if isinstance(node, list):
            return [decode(v) for v in node]
        return node

    return decode(json.loads(chart.proto.spec))  # type: ignore[attr-defined]


def run_page(name: str):  # -> AppTest
    """Run one view file alone (as AppTest), the way ``st.navigation`` would run it."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(VIEWS / f"{name}.py"), default_timeout=30).run()


@pytest.fixture(scope="session")
def real_desk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state directory written by a real, seeded desk: 15 simulated minutes on a TestClock."""
    import asyncio

    from trading.clock import TestClock
    from trading.desk import Desk

    state_dir = tmp_path_factory.mktemp("real_desk")

    async def run() -> None:
        clock = TestClock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
        desk = Desk.from_files(ROOT / "config" / "desk.yaml", state_dir=state_dir, clock=clock)
        try:
            await desk.run_simulated(900)
        finally:
            await desk.shutdown()

    asyncio.run(run())
    return state_dir


def load_snapshot(state_dir: Path) -> Snapshot:
    with StateManager(StateDir(state_dir).state_file) as manager:
        manager.load()
        snapshot = manager.get(SNAPSHOT_KEY)
    assert isinstance(snapshot, Snapshot)
    return snapshot


def glance(at) -> dict[str, str]:  # at: AppTest
    """The Overview strip's tiles as ``{key: value text}`` (from the ``st.html`` element)."""
    import html
    import re

    found: dict[str, str] = {}
    for element in at.get("html"):
        for key, value in re.findall(
            r'data-tile="(\w+)"[^>]*>.*?class="glance-value"[^>]*>([^<]*)<', element.proto.body
        ):
            found[key] = html.unescape(value)
    return found


def frame(at, *columns: str):  # -> pandas.DataFrame
    """The first table on the page with all of ``columns`` (a read-only ``st.dataframe`` has no key)."""
    for element in at.dataframe:
        if set(columns) <= set(element.value.columns):
            return element.value
    raise AssertionError(f"no table with columns {columns}")


# --- users file (a login required) -----------------------------------------------------

PASSWORDS = {"alice": "alice-Pa55word", "bob": "bob-Pa55word"}  # alice: operator, bob: viewer


def write_users(path: Path) -> Path:
    """A users file with alice (operator) and bob (viewer); bcrypt cost 4 (fast in tests)."""
    import bcrypt

    from trading.users import Role, UserEntry, UsersFile, save_users

    users = UsersFile.new()
    for username, role in (("alice", Role.OPERATOR), ("bob", Role.VIEWER)):
        hashed = bcrypt.hashpw(PASSWORDS[username].encode(), bcrypt.gensalt(rounds=4)).decode()
        users = users.with_user(username, UserEntry(name=username.title(), password=hashed, roles=(role,)))
    return save_users(path, users)


@pytest.fixture
def users_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard requires a login: DASHBOARD_USERS_FILE names a file with alice and bob."""
    path = write_users(tmp_path / "users.yaml")
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
    return path
