"""Commands from the dashboard: polled from the ``commands`` table, each run exactly once.

The protocol (names, arguments, validation) is ``trading.commands``, shared with the
dashboard: a claimed row is parsed again here, so a row written around the dashboard
with bad arguments fails with the message the dashboard would have shown, and each
handler receives its typed command.

``claim`` moves a command from pending to running atomically in the database, so a
command is executed once even if two pollers (or a restarted desk) see it. A command
that was claimed by a desk that then died stays "running"; on start the desk marks
those failed, with the reason, rather than guessing whether they took effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from trading.broker.base import Broker
from trading.commands import (
    ClosePosition,
    CommandKind,
    FlattenAll,
    Pause,
    ReloadRiskConfig,
    Resume,
    Unlock,
    parse_command,
)
from trading.errors import ConfigError
from trading.risk import RiskManager
from trading.storage import ActivityLog, CommandRepository, KeyValueRepository

__all__ = ["PAUSE_KEY", "CommandProcessor", "DeskCommands", "restore_pause"]

logger = logging.getLogger(__name__)

PAUSE_KEY = "risk_paused"

# fn(command, requested_by) -> result text; the processor passes each handler the command
# class of its kind (``FlattenAll`` to the flatten_all handler, ...).
Handler = Callable[[Any, str], str]


class CommandProcessor:
    """Runs pending commands through ``handlers`` (kind -> fn(command, requested_by) -> result text)."""

    def __init__(
        self,
        commands: CommandRepository,
        handlers: Mapping[CommandKind, Handler],
        *,
        activity: ActivityLog | None = None,
    ) -> None:
        unknown = set(handlers) - set(CommandKind)
        if unknown:
            raise ValueError(f"handlers for unknown command kinds {sorted(unknown)}")
        self._commands = commands
        self._handlers = handlers
        self._activity = activity
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
        """Run every pending command once; returns how many this call ran."""
        ran = 0
        for cmd in self._commands.pending():
            if not self._commands.claim(cmd["id"]):
                continue  # someone else took it
            ran += 1
            self._run(cmd)
        return ran

    def _run(self, cmd: dict[str, Any]) -> None:
        who = cmd.get("requested_by") or "unknown"
        try:
            command = parse_command(cmd["kind"], cmd.get("args"))
        except ConfigError as exc:  # the message the dashboard shows for the same input
            self._finish(cmd, "failed", str(exc))
            return
        handler = self._handlers.get(command.kind)
        if handler is None:
            self._finish(cmd, "failed", f"command {command.kind.value!r} has no handler on this desk")
            return
        try:
            result = handler(command, who)
        except (KeyError, ValueError, TypeError) as exc:
            self._finish(cmd, "failed", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a command must never stop the desk; the reason is recorded
            logger.exception("command %s (%s) failed", cmd["id"], command.kind.value)
            self._finish(cmd, "failed", f"{type(exc).__name__}: {exc}")
        else:
            self._finish(cmd, "done", result)

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


def restore_pause(risk: RiskManager, kv: KeyValueRepository) -> None:
    """An operator's pause survives a restart: it is kept in the key-value table."""
    saved = kv.get(PAUSE_KEY)
    if saved and saved.get("paused"):
        risk.pause(
            f"{saved.get('reason', '')} (restored after restart)", who=str(saved.get("who", "unknown"))
        )


class DeskCommands:
    """What each dashboard command does to the desk; every method returns the result text."""

    def __init__(self, broker: Broker, risk: RiskManager, kv: KeyValueRepository) -> None:
        self._broker = broker
        self._risk = risk
        self._kv = kv

    def handlers(self) -> dict[CommandKind, Handler]:
        return {kind: getattr(self, kind.value) for kind in CommandKind}

    def _set_paused(self, paused: bool, reason: str, who: str) -> None:
        if paused:
            self._risk.pause(reason, who=who)
        else:
            self._risk.resume(reason, who=who)
        self._kv.put(PAUSE_KEY, {"paused": paused, "reason": reason, "who": who})

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
        done = self._risk.unlock(command.scope, command.reason, who=who)
        return f"{command.scope} unlocked" if done else f"no lockout on {command.scope}"

    def reload_risk_config(self, command: ReloadRiskConfig, who: str) -> str:
        if not self._risk.reload_config():
            raise ValueError("risk config refused; the running rules stay (see the log for the reason)")
        return "risk config reloaded"
