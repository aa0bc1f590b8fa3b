"""RiskConfigReader: reads and validates the risk file on a worker thread, with a time limit.

The desk's event loop must never wait on a config file: a huge file, a slow disk or a YAML
construct that takes long to parse would freeze trading. The reader does the work that can
take time (read the bytes, hash them, parse, validate) on a daemon thread of its own; the
caller waits at most ``timeout`` seconds (``read_async`` without blocking the loop), and the
parser itself gives up at the same deadline, so the thread ends soon after its caller stopped
waiting. One read at a time: while a previous read is still running, a new one is refused.

The result is a value (``ReadOutcome``): a validated ``RiskConfig``, a ``ConfigError`` with a
one-line message, or "unchanged" (the file was touched but its bytes are the same). Only the
caller swaps a config in.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from trading._yaml import read_config_bytes
from trading.errors import ConfigError
from trading.risk.config import ConfigWatcher, RiskConfig, risk_config_from_bytes

__all__ = ["ReadOutcome", "RiskConfigReader"]

logger = logging.getLogger(__name__)

_MESSAGE_LIMIT = 400  # characters of an error line kept for the log, the alert and the dashboard


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    """What one read found: ``config`` (valid and new), ``error`` (refused), or neither (unchanged)."""

    config: RiskConfig | None = None
    error: ConfigError | None = None

    @property
    def changed(self) -> bool:
        return self.config is not None or self.error is not None


class RiskConfigReader:
    """Reads ``path`` off the caller's thread; ``moved()`` is the cheap check for the loop."""

    def __init__(self, path: str | Path, *, timeout: float = 2.0) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.path = Path(path)
        self.timeout = timeout
        self._watcher = ConfigWatcher(self.path)
        self._worker: threading.Thread | None = None
        self._pending: Future[ReadOutcome] | None = None
        self.reads = 0
        self.timeouts = 0

    def moved(self) -> bool:
        """True when the file's mtime, size or inode changed since the last call (one ``stat``)."""
        return self._watcher.moved()

    def read(self, *, force: bool = False) -> ReadOutcome:
        """Read and validate, waiting at most ``timeout`` seconds. ``force``: validate even when
        the bytes are the ones seen last (a reload asked for, or the tamper lock's reset)."""
        try:
            future = self._submit(force, None)
        except ConfigError as exc:
            return ReadOutcome(error=exc)
        try:
            return future.result(timeout=self.timeout)
        except TimeoutError:
            return self._timed_out()

    async def read_async(self, *, force: bool = False) -> ReadOutcome:
        """``read`` for the event loop: the loop keeps running while the worker reads."""
        loop = asyncio.get_running_loop()
        finished = asyncio.Event()

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(finished.set)
            except RuntimeError:  # the loop has closed since: nobody is waiting any more
                pass

        try:
            future = self._submit(force, wake)
        except ConfigError as exc:
            return ReadOutcome(error=exc)
        try:
            await asyncio.wait_for(finished.wait(), self.timeout)
        except TimeoutError:
            return self._timed_out()
        return future.result()

    def _submit(self, force: bool, wake: Callable[[], None] | None) -> Future[ReadOutcome]:
        # Busy while the previous read has no outcome yet (its thread may live a moment longer
        # after handing its outcome over: that read is finished).
        busy = self._pending
        if busy is not None and not busy.done():
            raise ConfigError(
                f"{self.path}: the previous read has not finished (over {self.timeout:g} s): "
                "refused, the running rules stay",
                path=self.path,
            )
        future: Future[ReadOutcome] = Future()
        deadline = time.monotonic() + self.timeout
        thread = threading.Thread(
            target=self._work, args=(future, force, deadline, wake), name="risk-config-reader", daemon=True
        )
        self._worker = thread
        self._pending = future
        self.reads += 1
        thread.start()
        return future

    def _work(
        self, future: Future[ReadOutcome], force: bool, deadline: float, wake: Callable[[], None] | None
    ) -> None:
        try:
            outcome = self._read_now(force, deadline)
        except ConfigError as exc:
            outcome = ReadOutcome(error=_bounded(exc))
        except Exception as exc:  # a hostile file must cost a refused reload, never the desk
            outcome = ReadOutcome(
                error=ConfigError(
                    f"{self.path}: cannot read config file: {type(exc).__name__}: {str(exc)[:200]}",
                    path=self.path,
                )
            )
        future.set_result(outcome)
        if wake is not None:
            wake()

    def _read_now(self, force: bool, deadline: float) -> ReadOutcome:
        data = read_config_bytes(self.path)
        if not self._watcher.new_content(data) and not force:
            return ReadOutcome()  # touched, same bytes
        return ReadOutcome(config=risk_config_from_bytes(data, self.path, deadline=deadline))

    def _timed_out(self) -> ReadOutcome:
        self.timeouts += 1
        logger.warning("reading %s took over %g s: the reload is refused", self.path, self.timeout)
        return ReadOutcome(
            error=ConfigError(
                f"{self.path}: not read and validated within {self.timeout:g} s (a config file takes "
                "milliseconds): refused, the running rules stay",
                path=self.path,
            )
        )

    def __repr__(self) -> str:
        busy = self._pending is not None and not self._pending.done()
        return (
            f"RiskConfigReader({str(self.path)!r}, reads={self.reads}, timeouts={self.timeouts}, busy={busy})"
        )


def _bounded(exc: ConfigError) -> ConfigError:
    """``exc`` with its message cut to one bounded line (it goes to the log, an alert, the dashboard)."""
    text = str(exc)
    line = text.splitlines()[0] if text else text
    if line == text and len(text) <= _MESSAGE_LIMIT:
        return exc
    short = line if len(line) <= _MESSAGE_LIMIT else f"{line[: _MESSAGE_LIMIT - 3]}..."
    return ConfigError(short, path=exc.path, field=exc.field, value=exc.value, allowed=exc.allowed)
