"""Commands from the dashboard: polled from the ``commands`` table, each run exactly once.

The protocol (names, arguments, validation) is ``trading.commands``, shared with the
dashboard: a claimed row is parsed again here, so a row written around the dashboard
with bad arguments fails with the message the dashboard would have shown, and each
handler receives its typed command.

``claim`` moves a command from pending to running atomically in the database, so a
command is executed once even if two pollers (or a restarted desk) see it. A command
that was claimed by a desk that then died stays "running"; on start the desk marks
those failed, with the reason, rather than guessing whether they took effect.

Before anything else the requester is checked (``gate``: ``DeskCommands.requester_refusal``,
over the desk's ``DeskOperators``): a row whose ``requested_by`` is not one of this desk's
operators is marked failed with the refusal, logged and audited, and does nothing.

A command is reported done only once its effect is durable: an unlock, pause, resume or
flatten is written to the database (the lockout change, the audit row, the rules' state)
before its handler returns, so a restart after "done" never undoes it. A handler that has to
wait (a risk file reload, read and validated off the event loop) returns an awaitable: the
command stays "running" until it completes, and the loop goes on meanwhile (``join`` waits).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from trading.broker.base import Broker
from trading.clock import Clock
from trading.commands import (
    ClosePosition,
    CommandKind,
    FlattenAll,
    Pause,
    ReloadRiskConfig,
    Requester,
    Resume,
    Unlock,
    parse_command,
)
from trading.desk.operators import DeskOperators
from trading.errors import ConfigError
from trading.risk import RiskManager
from trading.storage import ActivityLog, CommandRepository, KeyValueRepository

__all__ = ["PAUSE_KEY", "CommandProcessor", "DeskCommands", "restore_pause"]

logger = logging.getLogger(__name__)

PAUSE_KEY = "risk_paused"

# fn(command, requested_by) -> result text (or an awaitable of it); the processor passes each
# handler the command class of its kind (``FlattenAll`` to the flatten_all handler, ...).
Handler = Callable[[Any, str], str | Awaitable[str]]
# fn(command row) -> why its requester may not command this desk (audited), or None
Gate = Callable[[dict[str, Any]], str | None]


class CommandProcessor:
    """Runs pending commands through ``handlers`` (kind -> fn(command, requested_by) -> result text)."""

    def __init__(
        self,
        commands: CommandRepository,
        handlers: Mapping[CommandKind, Handler],
        *,
        activity: ActivityLog | None = None,
        gate: Gate | None = None,
    ) -> None:
        unknown = set(handlers) - set(CommandKind)
        if unknown:
            raise ValueError(f"handlers for unknown command kinds {sorted(unknown)}")
        self._commands = commands
        self._handlers = handlers
        self._activity = activity
        self._gate = gate
        self._runner: asyncio.Task[None] | None = None  # completing an awaitable handler's command
        self._backlog: deque[dict[str, Any]] = deque()  # claimed, waiting behind it
        self.executed = 0
        self.failed = 0

    def fail_interrupted(self) -> int:
        """Mark commands left 'running' by a previous desk as failed; returns how many."""
        count = 0
        for cmd in self._commands.recent(limit=1000):
            if cmd["status"] == "running":
                self._commands.finish(cmd["id"], "failed", "desk stopped while executing; check the account")
                count += 1
        return count

    def poll(self) -> int:
        """Run every pending command once, in order; returns how many this call claimed. While a
        command is completing (an awaitable handler's), the ones claimed after it wait their turn."""
        ran = 0
        for cmd in self._commands.pending():
            if not self._commands.claim(cmd["id"]):
                continue  # someone else took it
            ran += 1
            if self._backlog or self._runner is not None:
                self._backlog.append(cmd)
                continue
            waiting = self._run(cmd)
            if waiting is not None:
                self._wait(cmd, waiting)
        return ran

    def _run(self, cmd: dict[str, Any]) -> Awaitable[str] | None:
        """Run ``cmd``'s handler; its awaitable result when it has to wait, else None (finished)."""
        who = cmd.get("requested_by") or "unknown"
        refusal = self._gate(cmd) if self._gate is not None else None
        if refusal is not None:  # not one of this desk's operators: nothing runs
            self._finish(cmd, "failed", refusal)
            return None
        try:
            command = parse_command(cmd["kind"], cmd.get("args"))
        except ConfigError as exc:  # the message the dashboard shows for the same input
            self._finish(cmd, "failed", str(exc))
            return None
        handler = self._handlers.get(command.kind)
        if handler is None:
            self._finish(cmd, "failed", f"command {command.kind.value!r} has no handler on this desk")
            return None
        try:
            result = handler(command, who)
        except Exception as exc:  # a command must never stop the desk; the reason is recorded
            self._failed(cmd, exc)
            return None
        if inspect.isawaitable(result):
            return result
        self._finish(cmd, "done", result)
        return None

    def _wait(self, cmd: dict[str, Any], waiting: Awaitable[str]) -> None:
        """Complete ``cmd`` and then the backlog, in order, on the event loop (or here, when
        polled outside one)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # polled outside an event loop: complete it here
            asyncio.run(self._complete(cmd, waiting))
            return
        self._runner = loop.create_task(self._complete(cmd, waiting), name=f"command-{cmd['id']}")

    async def _complete(self, cmd: dict[str, Any], waiting: Awaitable[str]) -> None:
        try:
            self._settle(cmd, await _outcome(waiting))
            while self._backlog:
                cmd = self._backlog.popleft()
                later = self._run(cmd)
                if later is not None:
                    self._settle(cmd, await _outcome(later))
        finally:
            self._runner = None

    def _settle(self, cmd: dict[str, Any], outcome: str | BaseException) -> None:
        if isinstance(outcome, BaseException):
            self._failed(cmd, outcome)
        else:
            self._finish(cmd, "done", outcome)

    def _failed(self, cmd: dict[str, Any], exc: BaseException) -> None:
        if not isinstance(
            exc, KeyError | ValueError | TypeError
        ):  # not a refusal: a fault, with its traceback
            logger.error("command %s (%s) failed", cmd["id"], cmd["kind"], exc_info=exc)
        self._finish(cmd, "failed", f"{type(exc).__name__}: {exc}")

    async def join(self) -> None:
        """Wait until the commands still completing (and those waiting behind them) are finished."""
        while self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)

    def _finish(self, cmd: dict[str, Any], status: str, result: str) -> None:
        self._commands.finish(cmd["id"], status, result)
        if status == "done":
            self.executed += 1
        else:
            self.failed += 1
        level = "INFO" if status == "done" else "WARNING"
        logger.log(
            logging.INFO if status == "done" else logging.WARNING,
            "command %s %s by %s: %s (%s)",
            cmd["id"],
            cmd["kind"],
            cmd.get("requested_by"),
            status,
            result,
        )
        if self._activity is not None:
            self._activity.log_activity(
                level,
                "commands",
                f"{cmd['kind']} by {cmd.get('requested_by')}: {status}: {result}",
                command_id=cmd["id"],
                kind=cmd["kind"],
                args=cmd.get("args"),
                status=status,
            )

    def __repr__(self) -> str:
        return f"CommandProcessor(executed={self.executed}, failed={self.failed})"


async def _outcome(result: Awaitable[str]) -> str | BaseException:
    """The handler's result text, or the exception it raised (returned, to be recorded)."""
    try:
        return await result
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # recorded as the command's failure by the caller
        return exc


def restore_pause(risk: RiskManager, kv: KeyValueRepository) -> None:
    """An operator's pause survives a restart: it is kept in the key-value table."""
    saved = kv.get(PAUSE_KEY)
    if saved and saved.get("paused"):
        risk.pause(
            f"{saved.get('reason', '')} (restored after restart)", who=str(saved.get("who", "unknown"))
        )


class DeskCommands:
    """What each dashboard command does to the desk; every method returns the result text."""

    def __init__(
        self,
        broker: Broker,
        risk: RiskManager,
        kv: KeyValueRepository,
        *,
        operators: DeskOperators,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._broker = broker
        self._risk = risk
        self._kv = kv
        self.operators = operators

    def requester_refusal(self, row: dict[str, Any]) -> str | None:
        """Why the requester of the command ``row`` may not command this desk (written to the
        audit before this returns), or None when they may."""
        requester = Requester.of_row(row)
        refusal = self.operators.refusal(requester.name)
        if refusal is None:
            return None
        args = row.get("args")
        reason = args.get("reason") if isinstance(args, dict) else None
        with self._risk.recorder.unit(durable=True):
            self._risk.recorder.audit(
                {
                    "ts": self._clock.now(),
                    "action": f"refused {row.get('kind')}",
                    "rule": f"requester:{requester.describe()}",
                    "reason": str(reason or ""),
                    "result": refusal,
                    "symbol": None,
                }
            )
        return refusal

    def handlers(self) -> dict[CommandKind, Handler]:
        return {kind: getattr(self, kind.value) for kind in CommandKind}

    def _set_paused(self, paused: bool, reason: str, who: str) -> None:
        """The pause flag first (a restart restores it), then the risk manager's change, written
        with its audit row and the rules' state before it returns: a crash between the two
        leaves the account paused (a pause) or the operator's resume kept (a resume)."""
        self._kv.put(PAUSE_KEY, {"paused": paused, "reason": reason, "who": who})
        if paused:
            self._risk.pause(reason, who=who)
        else:
            self._risk.resume(reason, who=who)

    def flatten_all(self, command: FlattenAll, who: str) -> str:
        """The kill switch: flatten, and (unless ``pause`` is false) pause new entries until resumed."""
        reason = command.reason or "flatten requested"
        result = self._risk.flatten(reason, who=who)
        if command.pause:
            self._set_paused(True, f"after flatten: {reason}", who)
            result += "; new entries paused until resume"
        return result

    def close_position(self, command: ClosePosition, who: str) -> str:
        symbol = command.symbol
        if symbol not in self._broker.positions():
            raise ValueError(f"no open position in {symbol!r}")
        order = self._broker.close_position(symbol, reason=f"closed by {who}")
        return f"closing {symbol}: {order.order_id if order else 'nothing to close'}"

    def pause(self, command: Pause, who: str) -> str:
        self._set_paused(True, command.reason or "paused", who)
        return "new entries paused"

    def resume(self, command: Resume, who: str) -> str:
        self._set_paused(False, command.reason or "resumed", who)
        return "new entries resumed"

    def unlock(self, command: Unlock, who: str) -> str:
        outcome = self._risk.unlock(command.scope, command.reason, who=who)
        if outcome.refused is not None:  # risk.yaml's manual_unlock keeps a loss rule's lockout
            raise ValueError(outcome.refused)
        return f"{command.scope} unlocked" if outcome else f"no lockout on {command.scope}"

    async def reload_risk_config(self, command: ReloadRiskConfig, who: str) -> str:
        """Read and validate the risk file off the event loop (with its time limit), then swap."""
        if not await self._risk.reload_config_async():
            raise ValueError("risk config refused; the running rules stay (see the log for the reason)")
        return "risk config reloaded"
