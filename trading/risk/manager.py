"""RiskManager: wires the bus, the broker, the trackers, the engine and enforcement.

``start()`` subscribes to every broker event type (trackers see each event before the
rules), installs ``engine.check`` as the broker's pre-trade check and restores what a restart
keeps: today's P&L counters recounted from the journal's fills (``fills``), the lockouts and
every rule's latches, timers and marks from the store.

Act first, write after: a violation is enforced (closing orders go out), published as
``RuleViolated``, and only then are its rows (the violation with the event that caused it,
the lockouts and audit rows of its enforcement, every rule's state) handed to the store as one
record, written off the loop in one transaction. An operator's pause, resume, unlock or
flatten is written before the call returns. What the venue and the storage say about the
account (blind, stale marks, the books unwritable) restricts trading through the
``AccountConditions`` it holds.

The account's starting balance (the trailing drawdown's start) comes from the broker,
``broker.account().starting_balance``: the desk owns the account, not the risk config.

A changed risk file is read and validated off the event loop (``RiskConfigReader``, with a
time limit); the loop only swaps in a validated config, and only when the ``TamperLock``
agrees (a loosening edit waits for the daily reset): the manager holds that decision as
``ConfigReloads``. ``config_status`` says why the last change was refused, for the dashboard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from trading.broker.base import Broker
from trading.bus import EventBus
from trading.clock import Clock
from trading.errors import StateError
from trading.model import (
    AccountUpdated,
    Event,
    FillRecord,
    MarketDataUpdated,
    OrderAccepted,
    OrderCancelled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderModified,
    OrderRejected,
    OrderSubmitted,
    PositionChanged,
    PositionClosed,
    PositionEvent,
    PositionOpened,
    RuleViolated,
    Severity,
    TradingState,
)
from trading.risk._building import build_rules, default_notifier, is_loss_rule, rule_state
from trading.risk._persist import export_risk_state, import_risk_state
from trading.risk.actions import Action
from trading.risk.amounts import show_amount
from trading.risk.conditions import AccountConditions
from trading.risk.config import RiskConfig
from trading.risk.config_reader import ReadOutcome
from trading.risk.config_reloads import ConfigReloads
from trading.risk.enforcement import Enforcer
from trading.risk.engine import RiskEngine
from trading.risk.headroom import Headroom, measure_headroom
from trading.risk.lockouts import LockoutManager
from trading.risk.loosening import limit_fields
from trading.risk.notifier import Notifier
from trading.risk.pnl import PnLTracker
from trading.risk.recorder import RiskRecorder, RiskStore
from trading.risk.reset import ResetScheduler
from trading.risk.rules.base import RuleContext
from trading.risk.sweep import RiskSweep
from trading.risk.tamper_lock import TamperLock
from trading.risk.timers import TimerManager
from trading.risk.types import (
    LimitWarning,
    Lockout,
    RecountFills,
    RiskStatistics,
    RuleStatus,
    Violation,
    ViolationRecord,
)
from trading.risk.unlock_policy import UnlockOutcome, unlock_note, unlock_refusal

__all__ = ["FillSource", "RiskManager"]

logger = logging.getLogger(__name__)

_ORDER_EVENTS = (
    OrderSubmitted,
    OrderAccepted,
    OrderFilled,
    OrderCancelled,
    OrderRejected,
    OrderDenied,
    OrderExpired,
    OrderModified,
)
_POSITION_EVENTS = (PositionOpened, PositionChanged, PositionClosed)
_OTHER_EVENTS: tuple[type[Event], ...] = (*_ORDER_EVENTS, AccountUpdated)
_HISTORY_DAYS = 31  # finished days of P&L recounted from the journal at start (the daily chart)


class FillSource(Protocol):
    """What ``trading.storage.JournalReader`` provides: the fills as the journal committed them."""

    def fills(self, *, since: datetime | None = None) -> Sequence[FillRecord]: ...


class RiskManager:
    def __init__(
        self,
        bus: EventBus,
        broker: Broker,
        clock: Clock,
        cfg: RiskConfig,
        *,
        store: RiskStore | None = None,
        fills: FillSource | None = None,
        notifier: Notifier | None = None,
        account: str = "default",
        config_path: str | Path | None = None,
        reload_timeout: float = 2.0,
    ) -> None:
        self._bus, self._broker, self._clock = bus, broker, clock
        self.config = cfg
        self.account = account
        self._store = store
        self._fills = fills
        self.config_path = None if config_path is None else Path(config_path)
        self.reloading = ConfigReloads(  # the risk file's hot reload and its tamper lock
            self.config_path,
            clock=clock,
            timeout=reload_timeout,
            alert=lambda message: self.enforcer.alert(Severity.WARNING, message, "config"),
        )
        self._owns_notifier = notifier is None
        self.notifier = notifier if notifier is not None else default_notifier(cfg, account)
        self.reset = ResetScheduler(clock, at=cfg.reset.time, timezone=cfg.reset.timezone)
        books = broker.account()
        self.pnl = PnLTracker(
            cash=books.cash,
            trading_day=self.reset.trading_day(clock.now()),
            multiplier=lambda symbol: broker.instrument(symbol).multiplier,
            total_realized=books.realized_pnl,
            total_commissions=books.commissions,
        )
        self.timers = TimerManager(clock)
        self.recorder = RiskRecorder(store, clock, states=self._rule_states)
        self._lockouts = LockoutManager(
            bus, clock, recorder=self.recorder, loss_rule=lambda rule: is_loss_rule(self.config, rule)
        )
        self.enforcer = Enforcer(
            bus, broker, clock, self._lockouts, recorder=self.recorder, notifier=self.notifier
        )
        self.engine = RiskEngine(
            bus,
            clock,
            pnl=self.pnl,
            lockouts=self._lockouts,
            timers=self.timers,
            reset=self.reset,
            warning_threshold=cfg.warning_threshold,
            sink=self._on_violation,
            on_warning=self._on_warning,
        )
        self.engine.set_rules(build_rules(cfg, self._context(), {}))
        self.conditions = AccountConditions(self.engine, self.enforcer)  # blind, stale marks, storage
        self._sweep = RiskSweep(
            clock,
            self.engine,
            self.enforcer,
            self.pnl,
            self.recorder,
            account=account,
            reload_if_changed=self.check_config_changed,
        )
        self._started = False
        self.reloads = 0

    def _context(self) -> RuleContext:
        return RuleContext(
            clock=self._clock,
            pnl=self.pnl,
            timers=self.timers,
            reset=self.reset,
            starting_balance=self._broker.account().starting_balance,
            open_orders=self._broker.open_orders,
            positions=self._broker.positions,
            instrument=self._broker.instrument,
            peers=lambda: self.engine.rules,
        )

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe, install the pre-trade check, seed positions and restore what a restart keeps
        (today's counters from the journal, lockouts and rule states from the store). Idempotent."""
        if self._started:
            return
        self._started = True
        self.pnl.seed(
            {s: (p.quantity, p.avg_price, p.last_price) for s, p in self._broker.positions().items()}
        )
        with self.recorder.unit():  # what the restore changes is one record, with the restored states
            counted, today = self._recount()
            restored = self._restore(today)
        self._load_recent_violations()
        for kind, handler in self._subscriptions():
            self._bus.subscribe(kind, handler)
        self._broker.add_pre_trade_check(self.engine.check)
        self.engine.refresh_state()
        self.tamper_lock.arm()
        self._log_enforced()
        logger.info(
            "risk manager started for %s: %d rules, %d fills of today recounted (daily net %s), "
            "%d lockouts restored, state %s",
            self.account,
            len(self.engine.rules),
            counted,
            f"{self.pnl.daily_net:,.2f}",
            len(restored),
            self.engine.state.value,
        )

    def _recount(self) -> tuple[int, RecountFills | None]:
        """Today's P&L counters (and the daily history) from the journal's fills: the truth,
        never a saved blob that may be behind it. Returns (fills of today counted, the window's
        fills by trading day, for the rules that count them)."""
        if self._fills is None:
            return 0, None
        now = self._clock.now()
        last_reset = self.reset.previous_reset(now)
        fills = self._fills.fills(since=last_reset - timedelta(days=_HISTORY_DAYS))
        counted = self.pnl.recount(fills, self.reset.trading_day)
        today: list[FillRecord] = []
        finished: dict[date, list[FillRecord]] = {}
        for fill in fills:
            if fill.ts >= last_reset:
                today.append(fill)
            else:
                finished.setdefault(self.reset.trading_day(fill.ts), []).append(fill)
        return counted, RecountFills(today, dict(sorted(finished.items())))

    def _restore(self, today: RecountFills | None) -> list[Lockout]:
        """Rule states, then lockouts, from the store; then the rules that count fills recount them."""
        now = self._clock.now()
        store = self._store
        restored: list[Lockout] = []
        if store is not None:
            self.engine.restore_rule_states(store.saved_rule_states(), self.reset.trading_day(now))
            restored = self._lockouts.restore(
                store.lockout_rows(),
                lambda rule: rule_state(self.config, rule),
                last_reset=self.reset.previous_reset(now),
            )
        if today is not None:
            for rule in self.engine.rules.values():
                rule.recount(today, now)
        return restored

    def _log_enforced(self) -> None:
        """One WARNING line at start: what is enforced (rule, limits, action), what only shadows."""
        cfg = self.config
        enforced = [
            f"{name} ({', '.join(f'{k} {_show(v)}' for k, v in limit_fields(rule).items())} -> {rule.action})"
            for name, rule in cfg.enforced_rules().items()
        ]
        shadow = ", ".join(cfg.shadow_rules()) or "none"
        if not enforced:
            logger.warning(
                "risk for %s: NO rule is enforced (allow_no_enforced_rules): the desk trades without a risk "
                "limit; shadow: %s",
                self.account,
                shadow,
            )
            return
        logger.warning(
            "risk for %s: %d rule(s) enforced: %s; shadow (record only): %s; tamper lock %s",
            self.account,
            len(enforced),
            "; ".join(enforced),
            shadow,
            "on" if cfg.tamper_lock else "OFF",
        )

    def stop(self) -> None:
        """Write the rule states, unsubscribe and close the notifier this manager built. (The
        broker keeps its check.)"""
        if self._started:
            self._started = False
            self._save_states_at_stop()
            for kind, handler in self._subscriptions():
                self._bus.unsubscribe(kind, handler)
        if self._owns_notifier:
            self.notifier.close()

    def _subscriptions(self) -> list[tuple[type[Event], Callable[[Any], None]]]:
        """What ``start`` subscribes and ``stop`` unsubscribes, in this order."""
        return [
            (MarketDataUpdated, self._on_market),
            *((kind, self._on_position) for kind in _POSITION_EVENTS),
            *((kind, self.engine.on_event) for kind in _OTHER_EVENTS),
            *self.conditions.handlers().items(),
        ]

    def _save_states_at_stop(self) -> None:
        try:
            self.recorder.save_states()
            self.recorder.flush()
        except Exception:  # stopping goes on; the states of the last record or sweep stay
            logger.exception("the rule states could not be written at stop")

    close = stop

    # --- event handlers ------------------------------------------------------------------

    def _on_market(self, event: MarketDataUpdated) -> None:
        self.pnl.on_market(event)
        engine = self.engine
        if event.ts >= self.reset.next_reset:
            with self.recorder.unit():  # the reset's lockout ends and the re-armed latches: one record
                engine.housekeeping(event.ts)
        engine.on_event(event)

    def _on_position(self, event: PositionEvent) -> None:
        self.pnl.on_position(event)
        if type(event) is PositionClosed:
            self.enforcer.position_closed(event.symbol, all_flat=not self.pnl.open_positions())
        else:
            self.enforcer.position_changed(event.symbol)
        self.engine.housekeeping(event.ts)
        self.engine.on_event(event)
        # The distance to every limit (the warnings) is measured by the sweep, off this path:
        # measuring 20 rules costs ~0.4 ms, and the subscribers after this one wait for it.

    def _on_violation(self, violation: Violation, event: Event | None) -> None:
        with self.recorder.unit():  # written after: the orders and events go out first
            # a denial was the pre-trade check's verdict: nothing to enforce on the account
            if not violation.shadow and violation.remedy.action is not Action.DENY:
                self.enforcer.enforce(violation)
                self.engine.refresh_state()
            record = violation.record()
            self._bus.publish(
                RuleViolated(
                    ts=record.ts,
                    rule=record.rule,
                    message=record.message,
                    action=record.action,
                    severity=record.severity,
                    shadow=record.shadow,
                    symbol=record.symbol,
                    values=dict(record.values),
                )
            )
            self.recorder.violation(
                {
                    "ts": record.ts,
                    "rule": record.rule,
                    "message": record.message,
                    "action": record.action,
                    "severity": record.severity.value,
                    "shadow": record.shadow,
                    "symbol": record.symbol,
                    "values": record.plain_values(),
                    "event": repr(event) if event is not None else "risk sweep",
                }
            )

    def _on_warning(self, warning: LimitWarning) -> None:
        self.enforcer.alert(Severity.WARNING, warning.message, warning.rule)

    # --- reading ---------------------------------------------------------------------------

    @property
    def state(self) -> TradingState:
        return self.engine.state

    @property
    def state_reason(self) -> str:
        return self.engine.state_reason

    @property
    def paused(self) -> bool:
        return self.engine.paused

    @property
    def next_reset(self) -> datetime:
        return self.reset.next_reset

    def rule_status(self) -> list[RuleStatus]:
        return self.engine.rule_status()

    def lockouts(self) -> list[Lockout]:
        return self._lockouts.all()

    def unlock_note(self, lock: Lockout) -> str:
        """What an operator may do about ``lock`` under risk.yaml's ``manual_unlock``."""
        cfg = self.config
        return unlock_note(policy=cfg.manual_unlock, loss_lockout=is_loss_rule(cfg, lock.rule))

    def headroom(self, symbols: Iterable[str] = (), *, stops: Mapping[str, float] | None = None) -> Headroom:
        """The room the enforced limits leave now, for ``symbols`` and every symbol held;
        ``stops``: each symbol's typical stop distance in price (``trading.risk.headroom``)."""
        broker = self._broker
        return measure_headroom(
            self.engine,
            broker.instrument,
            broker.open_orders,
            now=self._clock.now(),
            symbols=symbols,
            stops=stops,
        )

    def recent_violations(self, limit: int = 50) -> list[ViolationRecord]:
        """Newest first, from memory (the database's recent rows are loaded once at start)."""
        recent = self.engine.recent
        return [recent[-1 - i] for i in range(min(limit, len(recent)))]

    def _load_recent_violations(self) -> None:
        """Start with the violations recorded before a restart, so the dashboard keeps them."""
        if self._store is None:
            return
        rows = self._store.recent_violations(self.engine.recent.maxlen or 500)
        self.engine.recent.extendleft(
            ViolationRecord(
                ts=row["ts"],
                rule=row["rule"],
                message=row["message"],
                action=row["action"],
                severity=Severity(row["severity"]),
                shadow=bool(row["shadow"]),
                symbol=row["symbol"],
                values=dict(row["values"] or {}),
            )
            for row in rows  # newest first: extendleft leaves the oldest at the left
        )

    # --- operator actions --------------------------------------------------------------------

    # Each is written (its lockout change, its audit row and every rule's state) before it
    # returns; a store that cannot write raises, so the caller does not report it done.

    def pause(self, reason: str, who: str = "dashboard") -> None:
        """HALTED until ``resume``: no new orders; cancels and flattening still work."""
        with self.recorder.unit(durable=True):
            self.engine.set_paused(True, f"paused by {who}: {reason}")
            self._operator("pause", reason, who, f"state {self.state.value}")

    def resume(self, reason: str, who: str = "dashboard") -> None:
        with self.recorder.unit(durable=True):
            self.engine.set_paused(False, "")
            self._operator("resume", reason, who, f"state {self.state.value}")

    def unlock(self, scope: str = "account", reason: str = "", who: str = "dashboard") -> UnlockOutcome:
        """End the lockout on ``scope`` (the outcome is true when one ended). Refused, and the
        refusal audited, when risk.yaml's ``manual_unlock`` keeps a loss rule's lockout."""
        refusal = self.unlock_refusal(scope, reason)
        with self.recorder.unit(durable=True):
            if refusal is not None:
                self._operator("unlock", reason, who, refusal)
                return UnlockOutcome(refused=refusal)
            ended = self._lockouts.unlock(scope, f"unlocked by {who}: {reason}")
            self.engine.refresh_state()
            self._operator("unlock", reason, who, f"{scope} unlocked" if ended else f"{scope} had no lockout")
        return UnlockOutcome(ended=ended)

    def unlock_refusal(self, scope: str, reason: str) -> str | None:
        """Why an operator's unlock of ``scope`` with ``reason`` is refused now (risk.yaml's
        ``manual_unlock`` over a loss rule's lockout, ``trading.risk.unlock_policy``); None when
        it is allowed, or when there is no lockout to end."""
        lock = self._lockouts.get(scope)
        if lock is None:
            return None
        return unlock_refusal(
            lock,
            policy=self.config.manual_unlock,
            loss_lockout=is_loss_rule(self.config, lock.rule),
            reason=reason,
            ends=lock.until or self.reset.next_reset,
            timezone=self.reset.timezone,
        )

    def flatten(self, reason: str, who: str = "dashboard") -> str:
        """Flatten now on an operator's request (audited like a rule's flatten)."""
        with self.recorder.unit(durable=True):
            return self.enforcer.flatten(f"operator:{who}", reason)

    def _operator(self, action: str, reason: str, who: str, result: str) -> None:
        logger.warning("operator %s by %s: %s -> %s", action, who, reason, result)
        self.recorder.audit(
            {
                "ts": self._clock.now(),
                "action": action,
                "rule": f"operator:{who}",
                "reason": reason,
                "result": result,
                "symbol": None,
            }
        )

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every risk record handed to the store so far is written; True when done."""
        return self.recorder.flush(timeout)

    # --- configuration -------------------------------------------------------------------------

    def reload_config(self, path: str | Path | None = None) -> bool:
        """Read ``path`` (default: the configured path) again and swap it in. An invalid file, or
        one the tamper lock holds, is refused and logged, and the running rules stay. The caller
        waits at most the reload time limit (``reload_config_async`` does not block the loop)."""
        source, reader = self.reloading.reader_for(path)
        return self._offer(reader.read(force=True), source)

    async def reload_config_async(self, path: str | Path | None = None) -> bool:
        """``reload_config`` for the event loop: the file is read and validated on a worker
        thread while the loop runs on; only the swap happens here."""
        source, reader = self.reloading.reader_for(path)
        return self._offer(await reader.read_async(force=True), source)

    def check_config_changed(self) -> bool:
        """Reload when the file's content changed (stat polled, then read and hashed off this thread),
        or when the tamper lock's reset has passed. True if a new config was swapped in.

        A refused file is not retried until it changes again (or, held by the lock, until the reset)."""
        due = self.reloading.due_read()
        return due is not None and self._offer(due[0].read(force=due[1]), due[0].path)

    async def poll_config(self) -> bool:
        """``check_config_changed`` for the event loop: the file is read and validated on a worker
        thread while the loop runs on; only the swap happens here."""
        due = self.reloading.due_read()
        return due is not None and self._offer(await due[0].read_async(force=due[1]), due[0].path)

    def _offer(self, outcome: ReadOutcome, source: Path) -> bool:
        """Swap in what a read found, if it is valid and the tamper lock agrees."""
        cfg = self.reloading.judge(outcome, self.config, next_reset=self.reset.next_reset)
        if cfg is None:
            return False
        self.apply_config(cfg)
        logger.warning("risk config reloaded from %s: %d rules", source, len(cfg.rules))
        return True

    @property
    def tamper_lock(self) -> TamperLock:
        return self.reloading.tamper_lock

    @property
    def config_status(self) -> str:
        """Why the last change of the risk file was refused, for the dashboard; "" when none was."""
        return self.reloading.status

    def apply_config(self, cfg: RiskConfig) -> None:
        """Swap in a validated config; rules whose settings did not change keep their state.
        (No tamper lock here: ``reload_config`` and the sweep go through it.)"""
        same_reset = cfg.reset == self.config.reset
        if not same_reset:
            self.reset = self.engine.reset = ResetScheduler(
                self._clock, at=cfg.reset.time, timezone=cfg.reset.timezone
            )
        keep = self.engine.rules if same_reset else {}
        self.engine.set_rules(build_rules(cfg, self._context(), keep))
        self.engine.warning_threshold = cfg.warning_threshold
        self.config = cfg
        self.reloads += 1

    # --- the periodic sweep ------------------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """Today's counters and every rule's state as one JSON-able dict: a view for people
        (the desk publishes it beside its snapshot). A restart does not read it back."""
        return export_risk_state(self.pnl, self.engine)

    def _rule_states(self, names: Collection[str] | None) -> tuple[date, dict[str, dict[str, Any]]]:
        return self.pnl.trading_day, self.engine.rule_states(names)

    def restore_state(self, state: dict[str, Any]) -> bool:
        """Import the rule states of a version-1 saved risk state (a database written before the
        ``rule_state`` table), after ``start()``; True when it was saved today. Its P&L counters
        are not taken (the journal's fills are the truth). The imported states are written to
        the store at once.

        A saved state of the wrong shape (written around the desk, or damaged) raises
        ``StateError``: a daily latch forgotten would fire the day's breach again."""
        try:
            same_day = import_risk_state(self.engine, state, self.reset.trading_day(self._clock.now()))
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:
            raise StateError(
                f"the saved risk state (version 1: rule latches and marks) cannot be imported: "
                f"{type(exc).__name__}: {str(exc)[:160]}; fix or delete the saved state to start the "
                "rules afresh"
            ) from None
        self.recorder.save_states()
        self.engine.refresh_state()
        return same_day

    async def sweep_job(self) -> dict[str, Any]:
        """The risk lane's job: ``executor.submit_task("risk_sweep", rm.sweep_job, lane="risk", key=...)``.
        A changed risk file is read off the loop first (``poll_config``)."""
        reloaded = await self.poll_config()
        return self._sweep.run(reloaded=reloaded)

    def sweep(self) -> dict[str, Any]:
        return self._sweep.run()

    @property
    def sweeps(self) -> int:
        return self._sweep.runs

    # --- observability -----------------------------------------------------------------------------

    def statistics(self) -> RiskStatistics:
        engine, enforcer = self.engine, self.enforcer
        return RiskStatistics(
            state=engine.state.value,
            rules=len(engine.rules),
            events=engine.events,
            checks=engine.checks,
            denials=engine.denials,
            violations=engine.violations,
            shadow_violations=engine.shadow_violations,
            rule_faults=engine.faults,
            enforcement_actions=enforcer.actions,
            enforcement_suppressed=enforcer.suppressed,
            warnings=engine.warnings,
            lockouts=len(self._lockouts),
            reloads=self.reloads,
            reload_failures=self.reloading.failures,
            sweeps=self._sweep.runs,
        )

    def __repr__(self) -> str:
        return (
            f"RiskManager(account={self.account!r}, state={self.state.value}, "
            f"rules={len(self.engine.rules)}, "
            f"lockouts={len(self._lockouts)}, daily_net={self.pnl.daily_net:.2f})"
        )


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        return show_amount(value)  # an exact money limit: 2500, 1000.1
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # 2500.0 -> 2500; 9999999.0 -> 9999999 (not 1e+07)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(map(str, value)) + "]"
    if hasattr(value, "model_dump"):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.model_dump().items()) + "}"
    return str(value)
