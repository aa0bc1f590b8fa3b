"""Commands from the dashboard: polled from the ``commands`` table, each run exactly once.

``claim`` moves a command from pending to running atomically in the database, so a
command is executed once even if two pollers (or a restarted desk) see it. A command
that was claimed by a desk that then died stays "running"; on start the desk marks
those failed, with the reason, rather than guessing whether they took effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from trading.broker.base import Broker
from trading.risk import RiskManager
from trading.storage import ActivityLog, CommandRepository, KeyValueRepository

__all__ = ["COMMAND_KINDS", "PAUSE_KEY", "CommandProcessor", "DeskCommands", "restore_pause"]

logger = logging.getLogger(__name__)

PAUSE_KEY = "risk_paused"
COMMAND_KINDS = ("flatten_all", "close_position", "pause", "resume", "unlock", "reload_risk_config")

Handler = Callable[[dict[str, Any], str], str]


class CommandProcessor:
    """Runs pending commands through ``handlers`` (kind -> fn(args, requested_by) -> result text)."""

    def __init__(
        self,
        commands: CommandRepository,
        handlers: dict[str, Handler],
        *,
        activity: ActivityLog | None = None,
    ) -> None:
        unknown = set(handlers) - set(COMMAND_KINDS)
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
        kind, args, who = cmd["kind"], cmd.get("args") or {}, cmd.get("requested_by") or "unknown"
        handler = self._handlers.get(kind)
        if handler is None:
            self._finish(cmd, "failed", f"unknown command {kind!r}; allowed: {', '.join(COMMAND_KINDS)}")
            return
        if not isinstance(args, dict):
            self._finish(cmd, "failed", f"malformed arguments {args!r}: expected a mapping")
            return
        try:
            result = handler(args, who)
        except (KeyError, ValueError, TypeError) as exc:
            self._finish(cmd, "failed", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a command must never stop the desk; the reason is recorded
            logger.exception("command %s (%s) failed", cmd["id"], kind)
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

    def handlers(self) -> dict[str, Handler]:
        return {kind: getattr(self, kind) for kind in COMMAND_KINDS}

    def _set_paused(self, paused: bool, reason: str, who: str) -> None:
        if paused:
            self._risk.pause(reason, who=who)
        else:
            self._risk.resume(reason, who=who)
        self._kv.put(PAUSE_KEY, {"paused": paused, "reason": reason, "who": who})

    def flatten_all(self, args: dict[str, Any], who: str) -> str:
        """The kill switch: flatten, and (unless ``pause`` is false) pause new entries until resumed."""
        reason = str(args.get("reason") or "flatten requested")
        result = self._risk.flatten(reason, who=who)
        if args.get("pause", True):
            self._set_paused(True, f"after flatten: {reason}", who)
            result += "; new entries paused until resume"
        return result

    def close_position(self, args: dict[str, Any], who: str) -> str:
        symbol = args["symbol"]
        if symbol not in self._broker.positions():
            raise ValueError(f"no open position in {symbol!r}")
        order = self._broker.close_position(symbol, reason=f"closed by {who}")
        return f"closing {symbol}: {order.order_id if order else 'nothing to close'}"

    def pause(self, args: dict[str, Any], who: str) -> str:
        self._set_paused(True, str(args.get("reason") or "paused"), who)
        return "new entries paused"

    def resume(self, args: dict[str, Any], who: str) -> str:
        self._set_paused(False, str(args.get("reason") or "resumed"), who)
        return "new entries resumed"

    def unlock(self, args: dict[str, Any], who: str) -> str:
        reason = str(args.get("reason") or "").strip()
        if not reason:
            raise ValueError("unlock needs a reason")
        scope = str(args.get("scope") or "account")
        done = self._risk.unlock(scope, reason, who=who)
        return f"{scope} unlocked" if done else f"no lockout on {scope}"

    def reload_risk_config(self, args: dict[str, Any], who: str) -> str:
        if not self._risk.reload_config():
            raise ValueError("risk config refused; the running rules stay (see the log for the reason)")
        return "risk config reloaded"
