"""``ConfigReloads``: the risk file's hot reload, from "did it change?" to "may it run?".

It holds the file's ``RiskConfigReader`` (read and validated off the event loop, with a time
limit) and the ``TamperLock``. ``due_read`` says whether the watched file needs reading (its
content moved, or the lock's reset has passed); ``judge`` decides what a read found: an invalid
file or a loosening edit the lock holds is refused (counted, alerted, and kept as ``status`` for
the dashboard), a valid one is handed back for the ``RiskManager`` to swap in. The manager owns
the swap; this object owns the decision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from trading.clock import Clock
from trading.errors import ConfigError
from trading.risk.config import RiskConfig
from trading.risk.config_reader import ReadOutcome, RiskConfigReader
from trading.risk.tamper_lock import TamperLock

__all__ = ["ConfigReloads"]

logger = logging.getLogger(__name__)

_STATUS_LIMIT = 800  # characters of a refused reload's reason kept


class ConfigReloads:
    def __init__(
        self, path: Path | None, *, clock: Clock, timeout: float, alert: Callable[[str], None]
    ) -> None:
        self.path = path
        self._clock = clock
        self._timeout = timeout
        self._alert = alert  # a refusal's WARNING alert (the enforcer's notifier)
        self._reader = None if path is None else RiskConfigReader(path, timeout=timeout)
        self.tamper_lock = TamperLock()
        self.status = ""  # why the last change of the risk file was refused; "" when none was
        self.failures = 0

    def reader_for(self, path: str | Path | None) -> tuple[Path, RiskConfigReader]:
        """The reader of ``path`` (default: the watched file's own)."""
        source = Path(path) if path is not None else self.path
        if source is None:
            raise ConfigError("reload_config needs a path: this RiskManager was built without config_path")
        if self._reader is not None and source == self.path:
            return source, self._reader
        return source, RiskConfigReader(source, timeout=self._timeout)

    def due_read(self) -> tuple[RiskConfigReader, bool] | None:
        """The watched file's reader and whether its read is forced (the tamper lock's reset
        passed), or None when there is nothing to read (stat polled; no file watched)."""
        if self._reader is None:
            return None
        due = self.tamper_lock.due(self._clock.now())
        if not self._reader.moved() and not due:
            return None
        return self._reader, due

    def judge(self, outcome: ReadOutcome, running: RiskConfig, *, next_reset: datetime) -> RiskConfig | None:
        """The config to swap in, or None: nothing new (touched, same content) or refused."""
        if outcome.error is not None:
            self.failures += 1
            self._refuse(f"risk config reload refused: {outcome.error}")
            logger.error("risk config reload refused, the running rules stay: %s", outcome.error)
            return None
        cfg = outcome.config
        if cfg is None:
            return None
        held = self.tamper_lock.review(
            running, cfg, now=self._clock.now(), next_reset=next_reset, zone=running.reset.timezone
        )
        if held is not None:
            self.failures += 1
            self._refuse(held)
            logger.warning("%s (the running rules stay)", held)
            return None
        self.status = ""
        return cfg

    def _refuse(self, message: str) -> None:
        if len(message) > _STATUS_LIMIT:  # it goes to an alert, the activity log and the dashboard
            message = f"{message[: _STATUS_LIMIT - 3]}..."
        self.status = message
        self._alert(message)

    def __repr__(self) -> str:
        return f"ConfigReloads({self.path}, failures={self.failures}, status={self.status!r})"
