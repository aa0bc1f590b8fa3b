"""Faults a test plans ahead: REST errors and stalls, refused auth, rejected orders, stream drops.

Every entry counts down as it fires, so "the next 3 calls answer 429" is one call. The plan is
read by the REST layer, the engine and the stream hub from the server's thread while the test
thread adds to it, hence the lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from tests.fakes.alpaca.errors import ApiRefusal

__all__ = ["FaultPlan", "FaultStatistics", "OrderRejection", "RestFault"]


@dataclass(frozen=True, slots=True)
class RestFault:
    """An HTTP answer given instead of the real one, to calls matching ``methods`` / ``path_prefix``."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a stall); 0 answers at once
    methods: frozenset[str] | None = None
    path_prefix: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


@dataclass(frozen=True, slots=True)
class OrderRejection:
    reason: str
    via: Literal["http", "stream"]  # refused by the POST itself, or accepted then ``rejected`` on the stream


class FaultStatistics(NamedTuple):
    rest_faults_fired: int
    stalls_fired: int
    auth_refusals_fired: int
    rejections_fired: int
    stream_auth_refusals_fired: int
    stream_drops_fired: int


@dataclass
class _Planned:
    fault: Any
    remaining: int


def _methods(methods: tuple[str, ...] | None) -> frozenset[str] | None:
    return None if methods is None else frozenset(m.upper() for m in methods)


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rest: list[_Planned] = []
        self._stalls: list[_Planned] = []
        self._auth_refusals = 0
        self._rejections: list[_Planned] = []
        self._stream_auth_refusals = 0
        self._drops: list[_Planned] = []
        self._fired = dict.fromkeys(FaultStatistics._fields, 0)

    def __repr__(self) -> str:
        return f"FaultPlan({self.statistics()})"

    # -- planning (test thread) --------------------------------------------------------

    def rate_limit(
        self,
        calls: int = 1,
        *,
        retry_after: int | None = None,
        methods: tuple[str, ...] | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """The next ``calls`` matching REST calls answer 429 with Alpaca's rate-limit headers.
        Alpaca documents X-RateLimit-* headers and no Retry-After; pass ``retry_after`` to add one."""
        headers = {
            "X-RateLimit-Limit": "200",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + 60),
        }
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        refusal = ApiRefusal.rate_limited()
        self.fail_rest(
            calls, refusal.status, refusal.body, headers=headers, methods=methods, path_prefix=path_prefix
        )

    def fail_rest(
        self,
        calls: int,
        status: int,
        body: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        methods: tuple[str, ...] | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """The next ``calls`` matching REST calls answer ``status`` with ``body`` (e.g. 504, 500)."""
        fault = RestFault(status, body, dict(headers or {}), 0.0, _methods(methods), path_prefix)
        with self._lock:
            self._rest.append(_Planned(fault, calls))

    def stall_rest(
        self,
        seconds: float,
        calls: int = 1,
        *,
        methods: tuple[str, ...] | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """The next ``calls`` matching REST calls wait ``seconds`` before being answered."""
        fault = RestFault(200, {}, {}, seconds, _methods(methods), path_prefix)
        with self._lock:
            self._stalls.append(_Planned(fault, calls))

    def refuse_rest_auth(self, calls: int = 1) -> None:
        """The next ``calls`` REST calls answer 403 "forbidden." even with the right keys."""
        with self._lock:
            self._auth_refusals += calls

    def reject_orders(
        self, reason: str, count: int = 1, *, via: Literal["http", "stream"] = "stream"
    ) -> None:
        """The next ``count`` submitted orders (REST or hand-placed) are rejected with ``reason``."""
        with self._lock:
            self._rejections.append(_Planned(OrderRejection(reason, via), count))

    def refuse_stream_auth(self, count: int = 1) -> None:
        """The next ``count`` stream authentications answer ``unauthorized``."""
        with self._lock:
            self._stream_auth_refusals += count

    def drop_stream_after(self, event: str | None = None, count: int = 1) -> None:
        """Close every stream connection right after delivering the next ``count`` events named
        ``event`` (any event when None); events published after it are lost to those clients."""
        with self._lock:
            self._drops.append(_Planned(event, count))

    # -- firing (server thread) --------------------------------------------------------

    def take_rest_fault(self, method: str, path: str) -> RestFault | None:
        return self._take_matching(self._rest, method, path, "rest_faults_fired")

    def take_stall(self, method: str, path: str) -> float:
        fault = self._take_matching(self._stalls, method, path, "stalls_fired")
        return 0.0 if fault is None else fault.delay

    def _take_matching(
        self, planned: list[_Planned], method: str, path: str, counter: str
    ) -> RestFault | None:
        with self._lock:
            for entry in planned:
                if entry.fault.matches(method, path):
                    self._spend(planned, entry, counter)
                    return entry.fault
        return None

    def take_rest_auth_refusal(self) -> bool:
        with self._lock:
            if not self._auth_refusals:
                return False
            self._auth_refusals -= 1
            self._fired["auth_refusals_fired"] += 1
            return True

    def take_rejection(self) -> OrderRejection | None:
        with self._lock:
            if not self._rejections:
                return None
            entry = self._rejections[0]
            self._spend(self._rejections, entry, "rejections_fired")
            return entry.fault

    def take_stream_auth_refusal(self) -> bool:
        with self._lock:
            if not self._stream_auth_refusals:
                return False
            self._stream_auth_refusals -= 1
            self._fired["stream_auth_refusals_fired"] += 1
            return True

    def take_drop_after(self, event: str) -> bool:
        with self._lock:
            for entry in self._drops:
                if entry.fault is None or entry.fault == event:
                    self._spend(self._drops, entry, "stream_drops_fired")
                    return True
        return False

    def _spend(self, planned: list[_Planned], entry: _Planned, counter: str) -> None:
        entry.remaining -= 1
        if entry.remaining <= 0:
            planned.remove(entry)
        self._fired[counter] += 1

    def clear(self) -> None:
        with self._lock:
            self._rest.clear()
            self._stalls.clear()
            self._auth_refusals = 0
            self._rejections.clear()
            self._stream_auth_refusals = 0
            self._drops.clear()

    def statistics(self) -> FaultStatistics:
        with self._lock:
            return FaultStatistics(**self._fired)
