"""The crash test of issue 11: the real desk process, SIGKILLed at random moments, restarted
between kills; after each kill and restart the books are checked from the SQLite rows alone,
with our own SQL (never the project's repositories):

- the positions table is the signed sum of the fills, symbol by symbol;
- the account's cash is the starting balance plus the realized P&L minus the commissions of
  every fill (exact: ``Decimal`` from the journal's text columns), and its totals are those sums;
- no order holds fills beyond its quantity, and its fills add up to its filled quantity (an
  order filled again after a restart would break both);
- a transaction left OPENED without a position by a kill is repaired by the next start's
  reconciliation (and at the final clean stop there is none);
- every enforced locking violation of the trading day has its lockout row, or an operator's
  unlock after it; at most one violation row per latching rule per trading day;
- the snapshot published at a clean stop agrees with the journal (positions, cash).

The desk runs the shipped config with a fast clock and a test risk file with a tight daily
loss limit and a tight trailing drawdown, so that fills and breaches come quickly (and, after an
operator's unlock, fills again).
The kill moments come from a seeded RNG: some during the start (restore, reconciliation), some
while it trades, some right after a fill is committed; every tenth stop is a SIGTERM.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY

from ._desk_run import heartbeat, rows, start_desk, stop, wait_for, write_configs

SEED = 20261124
CYCLES = 34  # every tenth a SIGTERM: 31 SIGKILLs
SPEED = 600  # simulated seconds per real second: a trading day in under 2.5 minutes of uptime
START = "2026-11-24T15:30:00-06:00"  # 90 simulated minutes before the 17:00 Chicago reset
STARTING_BALANCE = Decimal(100000)
EPS = 1e-9
CHICAGO = ZoneInfo("America/Chicago")
LATCHING = ("daily_realized_loss", "trailing_drawdown", "daily_realized_profit_target")
LOCKING = ("lock", "flatten_and_lock")
UNLOCKS = 2


def _trading_day(ts: datetime) -> date:
    """The futures day a moment belongs to: days end at 17:00 Chicago."""
    return (ts.astimezone(CHICAGO) - timedelta(hours=17)).date()


def _at(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@dataclass
class Tally:
    kills: int = 0
    terms: int = 0
    starts_seen: int = 0  # restarts that got as far as trading (reconciled)
    after_fill: int = 0  # kills right after a fill was committed
    in_start: int = 0  # kills before the desk's first heartbeat
    repaired_zombies: int = 0
    unlocks: int = 0
    pending_zombies: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


def _fill_count(db: Path) -> int:
    """Fills committed so far (0 before the database exists)."""
    try:
        with rows(db) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM fills").fetchone()[0])
    except sqlite3.Error:  # no database yet, or no schema yet: no fills
        return 0


@dataclass(frozen=True)
class Rows:
    """The journal's rows an at-rest check reads, from one read transaction each."""

    account: list[tuple[str, str, str]]
    positions: dict[str, float]
    fills: list[tuple[str, str, str, float, str | None, str]]
    orders: dict[str, tuple[float, float, str]]
    opened: list[tuple[str, str]]
    violations: list[tuple[str, str, str, int]]
    lockouts: list[tuple[str, str | None]]
    unlocks: list[datetime]
    latest: list[datetime]

    @classmethod
    def read(cls, db: Path) -> Rows:
        with rows(db) as conn:
            q = conn.execute
            return cls(
                account=q("SELECT starting_balance, realized_pnl, commissions FROM account").fetchall(),
                positions={s: v for s, v in q("SELECT symbol, quantity FROM positions") if abs(v) > EPS},
                fills=q(
                    "SELECT order_id, symbol, side, quantity, realized_pnl, commission_exact FROM fills"
                ).fetchall(),
                orders={
                    o: (a, f, st)
                    for o, a, f, st in q("SELECT order_id, quantity, filled_quantity, status FROM orders")
                },
                opened=q(
                    "SELECT transaction_id, symbol FROM transactions WHERE status = 'OPENED'"
                ).fetchall(),
                violations=q("SELECT ts, rule, action, shadow FROM violations ORDER BY id").fetchall(),
                lockouts=q("SELECT scope, until FROM lockouts").fetchall(),
                unlocks=[_at(t) for (t,) in q("SELECT ts FROM audit WHERE action = 'unlock'")],
                latest=[
                    _at(t)
                    for (t,) in q("SELECT MAX(ts) FROM fills UNION ALL SELECT MAX(updated_at) FROM orders")
                    if t
                ],
            )


def _check_money(r: Rows, bad: list[str], where: str) -> None:
    """Positions == signed sum of fills; cash == start + realized - commissions, exactly."""
    counted: dict[str, float] = {}
    for _, symbol, side, qty, _, _ in r.fills:
        counted[symbol] = counted.get(symbol, 0.0) + (qty if side == "BUY" else -qty)
    counted = {s: q for s, q in counted.items() if abs(q) > EPS}
    if counted.keys() != r.positions.keys() or any(abs(counted[s] - r.positions[s]) > 1e-6 for s in counted):
        bad.append(f"{where}: positions {r.positions} != fills {counted}")
    if len(r.account) != 1:
        bad.append(f"{where}: {len(r.account)} account rows")
    start, realized, commissions = (Decimal(v) for v in r.account[0])
    realized_sum = sum((Decimal(f[4]) for f in r.fills if f[4] is not None), Decimal(0))
    commission_sum = sum((Decimal(f[5]) for f in r.fills), Decimal(0))
    if start != STARTING_BALANCE or (realized, commissions) != (realized_sum, commission_sum):
        bad.append(
            f"{where}: account {start}/{realized}/{commissions} != fills {realized_sum}/{commission_sum}"
        )
    if start + realized - commissions != STARTING_BALANCE + realized_sum - commission_sum:
        bad.append(f"{where}: cash {start + realized - commissions} != the fills' count")


def _check_orders(r: Rows, bad: list[str], where: str) -> None:
    """No order filled beyond its quantity; its fills add up to its filled quantity."""
    per_order: dict[str, float] = {}
    for order_id, _, _, qty, _, _ in r.fills:
        per_order[order_id] = per_order.get(order_id, 0.0) + qty
    for order_id, filled in per_order.items():
        quantity, filled_quantity, status = r.orders.get(order_id, (0.0, 0.0, "UNKNOWN"))
        if filled > quantity + 1e-6:
            bad.append(f"{where}: order {order_id} ({status}) filled {filled:g} of {quantity:g}")
        if abs(filled - filled_quantity) > 1e-6:
            bad.append(f"{where}: order {order_id} fills {filled:g} != filled_quantity {filled_quantity:g}")


def _check_risk(r: Rows, bad: list[str], where: str) -> None:
    """Locking violations of the day are locked out (or unlocked); latches fire once a day."""
    if r.latest:
        today = _trading_day(max(r.latest))
        locked = any(scope == "account" and until is None for scope, until in r.lockouts)
        for ts, rule, action, shadow in r.violations:
            at = _at(ts)
            if shadow or action not in LOCKING or _trading_day(at) != today:
                continue
            if not locked and not any(u >= at for u in r.unlocks):
                bad.append(f"{where}: {rule} ({action}) at {ts} has no lockout row and no unlock after it")
    seen: dict[tuple[str, date], int] = {}
    for ts, rule, _, _ in r.violations:
        if rule in LATCHING:
            key = (rule, _trading_day(_at(ts)))
            seen[key] = seen.get(key, 0) + 1
    bad.extend(
        f"{where}: {rule} fired {count} times on trading day {day}"
        for (rule, day), count in seen.items()
        if count > 1
    )


def _has_books(db: Path) -> bool:
    """True once the journal's schema exists (a kill early in the first start leaves no database
    file, or one still without its tables: the schema is created in one transaction)."""
    if not db.exists():
        return False
    with rows(db) as conn:
        return (
            conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account'").fetchone()
            is not None
        )


def _check_books(db: Path, tally: Tally, where: str, *, zombies_allowed: bool) -> dict[str, int]:
    """Every invariant that holds at rest; failures are collected with ``where``."""
    if not _has_books(db):
        return {}  # killed before the journal existed
    r = Rows.read(db)
    if not r.account:
        return {}  # killed before its first account row
    _check_money(r, tally.failures, where)
    _check_orders(r, tally.failures, where)
    zombies = {t for t, symbol in r.opened if symbol not in r.positions}
    if zombies and not zombies_allowed:
        tally.failures.append(f"{where}: OPENED without a position: {sorted(zombies)}")
    tally.pending_zombies |= zombies  # the next start's reconciliation repairs them
    _check_risk(r, tally.failures, where)
    return {"fills": len(r.fills), "orders": len(r.orders), "violations": len(r.violations)}


def _check_repaired(db: Path, tally: Tally, where: str) -> None:
    """After a start has reconciled: every transaction a kill left OPENED without a position is
    no longer OPENED (a transaction never reopens, so this read races nothing)."""
    if not tally.pending_zombies:
        return
    with rows(db) as conn:
        still = {
            t
            for t, status in conn.execute("SELECT transaction_id, status FROM transactions")
            if t in tally.pending_zombies and status == "OPENED"
        }
    if still:
        tally.failures.append(f"{where}: still OPENED without a position after the restart: {sorted(still)}")
    tally.repaired_zombies += len(tally.pending_zombies - still)
    tally.pending_zombies = set()


def _check_snapshot(state: Path, db: Path, tally: Tally, where: str) -> None:
    """At a clean stop the last snapshot was published after the last journal step."""
    reader = StateManager(state / "state.pkl")
    snap = reader.get(SNAPSHOT_KEY)
    reader.close()
    with rows(db) as conn:
        start, realized, commissions = conn.execute(
            "SELECT starting_balance, realized_pnl, commissions FROM account"
        ).fetchone()
        positions = {s: q for s, q in conn.execute("SELECT symbol, quantity FROM positions") if abs(q) > EPS}
    cash = Decimal(start) + Decimal(realized) - Decimal(commissions)
    shown = {p.symbol: p.quantity for p in snap.positions}
    if shown != positions or abs(Decimal(repr(snap.account.cash)) - cash) > Decimal("0.000001"):
        tally.failures.append(
            f"{where}: snapshot positions {shown} cash {snap.account.cash} != journal {positions} {cash}"
        )
    books = () if snap.reconciliation is None else snap.reconciliation.discrepancies
    if snap.reconciliation is None or any(not d.subject.startswith("transaction ") for d in books):
        tally.failures.append(f"{where}: the start's report found book discrepancies: {snap.reconciliation}")


def _unlock(db: Path, tally: Tally) -> None:
    """After an account lockout until the reset, an operator unlocks it (a command row, our own
    SQL), twice in the run: the account trades again, and a restart must neither re-fire the
    breach nor lock it again."""
    if tally.unlocks >= UNLOCKS:
        return
    with sqlite3.connect(db, timeout=10) as conn:
        if conn.execute("SELECT COUNT(*) FROM lockouts WHERE scope = 'account' AND until IS NULL").fetchone()[
            0
        ]:
            conn.execute(
                "INSERT INTO commands (kind, args, requested_by, status, result, created_at) "
                "VALUES ('unlock', ?, 'crash-test', 'pending', '', ?)",
                (
                    json.dumps({"scope": "account", "reason": "crash test: trade on"}),
                    datetime.now(UTC).isoformat(),
                ),
            )
            tally.unlocks += 1
    conn.close()


@pytest.mark.slow
@pytest.mark.timeout(900)  # 31 kills and starts: about 100 s alone, 300 s and more beside busy processes
def test_books_crash_sigkill_at_random_moments_never_loses_or_repeats(tmp_path: Path) -> None:
    # Arrange
    rng = random.Random(SEED)
    config = write_configs(
        tmp_path / "config",
        desk={"clock": {"speed": SPEED, "start": START}},
        risk={"manual_unlock": "always"},  # the operator's unlocks of a loss lockout are allowed
        rules={
            "daily_realized_loss": {"limit": 150},
            "trailing_drawdown": {"max_drawdown": 400, "stop_trailing_at_start": False},
        },
    )
    state = tmp_path / "state"
    db = state / "desk.db"
    tally = Tally()
    figures: dict[str, int] = {}
    startup = 1.5  # seconds from spawn to the first heartbeat: the shortest start seen so far
    started = time.monotonic()
    with (tmp_path / "desk.err").open("w") as err:
        for n in range(1, CYCLES + 1):
            # Act: start, then stop at a moment chosen by the RNG
            proc = start_desk(config, state, err, "--operator", "crash-test")
            spawned = time.monotonic()
            try:
                plan = rng.random()
                clean = n % 10 == 0
                if plan < 0.35 and not clean:  # during the start: its second half restores and reconciles
                    time.sleep(rng.uniform(0.5, 1.0) * startup)
                    reconciled = (heartbeat(state) or {}).get("pid") == proc.pid
                else:
                    wait_for(
                        lambda p=proc: (heartbeat(state) or {}).get("pid") == p.pid,
                        60,
                        "the desk's heartbeat",
                        every=0.01,
                    )
                    startup = min(startup, time.monotonic() - spawned)
                    reconciled = True
                    if plan < 0.65:
                        time.sleep(rng.uniform(0.0, 1.5))
                    else:  # right after the next fill is committed
                        before = _fill_count(db)
                        deadline = time.monotonic() + 3.0
                        while _fill_count(db) == before and time.monotonic() < deadline:
                            time.sleep(0.005)
                        tally.after_fill += _fill_count(db) > before
                if reconciled:
                    tally.starts_seen += 1
                    _check_repaired(db, tally, f"start {n}")
                    _unlock(db, tally)
                if clean:
                    proc.send_signal(signal.SIGTERM)
                    assert proc.wait(timeout=60) == 0, f"stop {n}: SIGTERM did not exit 0"
                    tally.terms += 1
                else:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=30)
                    tally.kills += 1
                    tally.in_start += not reconciled
            finally:
                stop(proc)
            # Assert (collected): the books at rest
            figures = _check_books(db, tally, f"after stop {n}", zombies_allowed=not clean) or figures
            if clean:
                _check_snapshot(state, db, tally, f"clean stop {n}")
        # Act: a last start, a clean stop
        proc = start_desk(config, state, err, "--operator", "crash-test")
        try:
            wait_for(lambda: (heartbeat(state) or {}).get("pid") == proc.pid, 60, "the last desk's heartbeat")
            _check_repaired(db, tally, "last start")
            time.sleep(1.0)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
        finally:
            stop(proc)
    # Assert
    figures = _check_books(db, tally, "at the end", zombies_allowed=False)
    _check_snapshot(state, db, tally, "at the end")
    elapsed = time.monotonic() - started
    print(
        f"\nbooks crash test: {tally.kills} SIGKILLs ({tally.in_start} during a start, {tally.after_fill} right "
        f"after a fill), {tally.terms + 1} SIGTERMs, {tally.starts_seen} starts reconciled, "
        f"{tally.repaired_zombies} zombie transactions repaired, {tally.unlocks} unlocks; "
        f"{figures['fills']} fills, {figures['orders']} orders, {figures['violations']} violations; "
        f"{elapsed:.0f} s"
    )
    assert code == 0
    assert tally.kills >= 30
    assert figures["fills"] > 0
    assert not tally.failures, "\n".join(tally.failures[:40])
