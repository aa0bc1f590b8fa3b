"""The project's exceptions: one root, specific subclasses with structured attributes.

A risk denial is *not* an exception (it is an ``OrderDenied`` event or a value);
exceptions are for bad input and bugs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TradingError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(TradingError, ValueError):
    """A configuration file or value is invalid.

    The message names the file, the field, the bad value and what is allowed.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        field: str | None = None,
        value: Any = None,
        allowed: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = None if path is None else Path(path)
        self.field = field
        self.value = value
        self.allowed = allowed


class InvalidStateTransition(TradingError):
    """A lifecycle was asked to make a move its transition table does not allow."""

    def __init__(self, kind: str, current: Any, target: Any) -> None:
        current_name = getattr(current, "name", current)
        target_name = getattr(target, "name", target)
        super().__init__(f"invalid {kind} transition {current_name} -> {target_name}")
        self.kind = kind
        self.current = current
        self.target = target


# --- state store -----------------------------------------------------------------


class StateError(TradingError):
    """A problem with the persisted state file; carries the path."""

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else Path(path)


class StateCorruptError(StateError):
    """A state file failed its header or checksum validation and no backup could replace it."""


class StateVersionError(StateError):
    """A state file was written by a newer format version than this code understands."""


class UnsafeStateError(StateError):
    """A state file asked the unpickler for a type outside the allow-list; nothing was executed."""


class StateLockTimeout(StateError, TimeoutError):
    """The cross-process lock on the state file could not be taken in time."""


class StateSerializationError(StateError, TypeError):
    """A value cannot be stored (it cannot be pickled)."""


class InconsistentStateError(StateError):
    """The state directory's database and state file do not belong together (one is
    missing or empty while the other holds an account, or the database holds another
    account's books); carries both paths. The desk refuses to start rather than begin a
    fresh account over old books."""

    def __init__(self, message: str, *, database: str | Path, state_file: str | Path) -> None:
        super().__init__(message, path=database)
        self.database = Path(database)
        self.state_file = Path(state_file)


# --- trading --------------------------------------------------------------------


class OrderError(TradingError, ValueError):
    """An order request is malformed (unknown symbol, bad quantity, missing price...)."""


class UnknownInstrumentError(OrderError, KeyError):
    """A symbol that no configured instrument has."""

    def __init__(self, symbol: str) -> None:
        ValueError.__init__(self, f"unknown symbol {symbol!r}")
        self.symbol = symbol

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class BrokerStateError(TradingError, ValueError):
    """A saved broker state cannot be restored (unknown symbol, bad field, wrong version)."""


class FeedDataError(TradingError, ValueError):
    """A market data file holds a malformed row; names the file and the line number."""

    def __init__(self, message: str, *, path: str | Path, line: int | None = None) -> None:
        where = f"{path}" if line is None else f"{path} line {line}"
        super().__init__(f"{where}: {message}")
        self.path = Path(path)
        self.line = line


class StorageError(TradingError):
    """The database could not complete an operation after retries."""


class DeskAlreadyRunning(TradingError):
    """A second desk was started on a state directory that already has a live desk."""

    def __init__(self, state_dir: str | Path, pid: int | None = None) -> None:
        who = f" (pid {pid})" if pid else ""
        super().__init__(
            f"another desk{who} already runs on state directory {state_dir}: one desk per state directory"
        )
        self.state_dir = Path(state_dir)
        self.pid = pid
