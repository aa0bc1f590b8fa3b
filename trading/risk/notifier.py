"""Alert delivery: the log, and a webhook posting JSON to a configured URL.

``WebhookNotifier`` posts from its own thread through a bounded queue, so an alert raised
inside a fill handler never waits on the network; ``flush()`` waits for the queue to empty
and ``close()`` stops the thread.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from trading.model import AlertRaised, Severity

__all__ = ["CompositeNotifier", "LogNotifier", "Notifier", "WebhookNotifier", "WebhookStatistics"]

logger = logging.getLogger(__name__)

_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_LOG_LEVEL = {
    Severity.INFO: logging.INFO,
    Severity.WARNING: logging.WARNING,
    Severity.CRITICAL: logging.ERROR,
}


@runtime_checkable
class Notifier(Protocol):
    def notify(self, alert: AlertRaised) -> None:
        """Deliver ``alert``; must not block and must not raise."""
        ...

    def close(self) -> None: ...


class LogNotifier:
    """Writes every alert to the log at a level matching its severity."""

    def __init__(self) -> None:
        self.sent = 0

    def notify(self, alert: AlertRaised) -> None:
        self.sent += 1
        logger.log(
            _LOG_LEVEL[alert.severity], "ALERT [%s] %s: %s", alert.severity.value, alert.rule, alert.message
        )

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"LogNotifier(sent={self.sent})"


@dataclass(frozen=True, slots=True)
class WebhookStatistics:
    queued: int
    sent: int
    failed: int
    dropped: int


class WebhookNotifier:
    """POSTs ``{"ts", "severity", "rule", "message", "account"}`` as JSON to ``url``."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 2.0,
        min_severity: Severity = Severity.WARNING,
        max_queue: int = 1000,
        account: str = "default",
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url must start with http:// or https://, got {url!r}")
        self.url = url
        self._timeout = timeout_s
        self._min_rank = _RANK[min_severity]
        self._account = account
        self._queue: queue.Queue[AlertRaised | None] = queue.Queue(maxsize=max_queue)
        self._sent = self._failed = self._dropped = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="risk-webhook", daemon=True)
        self._thread.start()

    def notify(self, alert: AlertRaised) -> None:
        if self._closed or _RANK[alert.severity] < self._min_rank:
            return
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self._dropped += 1
            logger.warning("webhook queue full, alert dropped: %s", alert.message)

    def _run(self) -> None:
        while True:
            alert = self._queue.get()
            try:
                if alert is None:
                    return
                self._post(alert)
            finally:
                self._queue.task_done()

    def _post(self, alert: AlertRaised) -> None:
        body = json.dumps(
            {
                "ts": alert.ts.isoformat(),
                "severity": alert.severity.value,
                "rule": alert.rule,
                "message": alert.message,
                "account": self._account,
            }
        ).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                response.read()
            self._sent += 1
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self._failed += 1
            logger.warning("webhook %s failed for alert %r: %s", self.url, alert.message, exc)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued alert was attempted; False on timeout."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)

    def statistics(self) -> WebhookStatistics:
        return WebhookStatistics(self._queue.qsize(), self._sent, self._failed, self._dropped)

    def __repr__(self) -> str:
        counts = f"sent={self._sent}, failed={self._failed}, dropped={self._dropped}"
        return f"WebhookNotifier({self.url!r}, {counts})"


class CompositeNotifier:
    """Fans an alert out to several notifiers; one failing does not stop the others."""

    def __init__(self, notifiers: Iterable[Notifier]) -> None:
        self.notifiers = tuple(notifiers)

    def notify(self, alert: AlertRaised) -> None:
        for notifier in self.notifiers:
            try:
                notifier.notify(alert)
            except Exception:  # a notifier must never break enforcement: log and go on
                logger.exception("notifier %r failed", notifier)

    def close(self) -> None:
        for notifier in self.notifiers:
            notifier.close()

    def __repr__(self) -> str:
        return f"CompositeNotifier({list(self.notifiers)!r})"
