"""Faults a test plans ahead: REST errors, rate limits and stalls, rejected orders, and hub
refusals and drops.

Every entry counts down as it fires, so "the next 3 calls answer 429" is one call. The plan
is read by the REST layer, the engine and the user hub from the server's thread while the
test thread adds to it, hence the lock. Token expiry is not planned here: the test forces it
at the moment it wants with ``FakeProjectX.expire_tokens()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from tests.fakes.projectx.errors import ErrorCode

__all__ = ["FaultPlan", "FaultStatistics", "HubDrop", "OrderRejection", "RestFault"]

EventFilter = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class RestFault:
    """An answer given instead of the real one to calls whose path starts with ``path_prefix``
    (compared case-insensitively; None matches every call)."""

    status: int
    body: dict[str, Any] | None
    headers: dict[str, str]
    delay: float  # seconds to wait before answering (a stall); 0 answers at once
    path_prefix: str | None

    def matches(self, path: str) -> bool:
        return self.path_prefix is None or path.lower().startswith(self.path_prefix.lower())


@dataclass(frozen=True, slots=True)
class OrderRejection:
    error_code: int
    message: str | None
    via: Literal["rest", "hub"]  # refused by /api/Order/place, or accepted then status 5 on the hub


@dataclass(frozen=True, slots=True)
class HubDrop:
    """Close the hub connections right after delivering the next event that matches."""

    target: str | None  # GatewayUserOrder / ...Position / ...Trade / ...Account; None: any
    when: EventFilter | None  # a test on the event's ``data``; None: any

    def matches(self, target: str, data: dict[str, Any]) -> bool:
        if self.target is not None and self.target != target:
            return False
        return self.when is None or self.when(data)


class FaultStatistics(NamedTuple):
    rest_faults_fired: int
    stalls_fired: int
    rejections_fired: int
    hub_refusals_fired: int
    hub_drops_fired: int


@dataclass
class _Planned:
    fault: Any
    remaining: int


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rest: list[_Planned] = []
        self._stalls: list[_Planned] = []
        self._rejections: list[_Planned] = []
        self._hub_refusals: list[_Planned] = []
        self._drops: list[_Planned] = []
        self._fired = dict.fromkeys(FaultStatistics._fields, 0)

    def __repr__(self) -> str:
        return f"FaultPlan({self.statistics()})"

    # -- planning (test thread) --------------------------------------------------------

    def rate_limit(
        self, calls: int = 1, *, path_prefix: str | None = None, retry_after: int | None = None
    ) -> None:
        """The next ``calls`` matching REST calls answer 429 with an empty body. The gateway
        documents the limits (200 requests / 60 s; 50 / 30 s for bars) but no headers; pass
        ``retry_after`` to add a ``Retry-After`` header."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        self.fail_rest(calls, 429, None, headers=headers, path_prefix=path_prefix)

    def fail_rest(
        self,
        calls: int,
        status: int,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """The next ``calls`` matching REST calls answer ``status`` with ``body`` (e.g. 500, 503)."""
        fault = RestFault(status, body, dict(headers or {}), 0.0, path_prefix)
        with self._lock:
            self._rest.append(_Planned(fault, calls))

    def stall_rest(self, seconds: float, calls: int = 1, *, path_prefix: str | None = None) -> None:
        """The next ``calls`` matching REST calls wait ``seconds`` before being answered."""
        fault = RestFault(200, None, {}, seconds, path_prefix)
        with self._lock:
            self._stalls.append(_Planned(fault, calls))

    def reject_orders(
        self,
        count: int = 1,
        *,
        error_code: int = ErrorCode.PLACE_ORDER_REJECTED,
        message: str | None = "Order rejected by the risk system.",
        via: Literal["rest", "hub"] = "rest",
    ) -> None:
        """The next ``count`` placed orders (API or by hand) are rejected: by ``/api/Order/place``
        (``success: false``) or, ``via="hub"``, accepted and then published with status 5."""
        with self._lock:
            self._rejections.append(_Planned(OrderRejection(error_code, message, via), count))

    def refuse_hub(self, count: int = 1, *, status: int = 503) -> None:
        """The next ``count`` hub negotiations or websocket connections answer ``status``."""
        with self._lock:
            self._hub_refusals.append(_Planned(status, count))

    def drop_hub_after(
        self, target: str | None = None, *, when: EventFilter | None = None, count: int = 1
    ) -> None:
        """Close every hub connection right after delivering the next ``count`` events that match
        (``target`` and the ``when`` test on the event's data); later events are lost to them."""
        with self._lock:
            self._drops.append(_Planned(HubDrop(target, when), count))

    # -- firing (server thread) --------------------------------------------------------

    def take_rest_fault(self, path: str) -> RestFault | None:
        return self._take_matching(self._rest, path, "rest_faults_fired")

    def take_stall(self, path: str) -> float:
        fault = self._take_matching(self._stalls, path, "stalls_fired")
        return 0.0 if fault is None else fault.delay

    def take_rejection(self) -> OrderRejection | None:
        with self._lock:
            if not self._rejections:
                return None
            entry = self._rejections[0]
            self._spend(self._rejections, entry, "rejections_fired")
            return entry.fault

    def take_hub_refusal(self) -> int | None:
        with self._lock:
            if not self._hub_refusals:
                return None
            entry = self._hub_refusals[0]
            self._spend(self._hub_refusals, entry, "hub_refusals_fired")
            return entry.fault

    def take_drop_after(self, target: str, data: dict[str, Any]) -> bool:
        with self._lock:
            for entry in self._drops:
                if entry.fault.matches(target, data):
                    self._spend(self._drops, entry, "hub_drops_fired")
                    return True
        return False

    def _take_matching(self, planned: list[_Planned], path: str, counter: str) -> RestFault | None:
        with self._lock:
            for entry in planned:
                if entry.fault.matches(path):
                    self._spend(planned, entry, counter)
                    return entry.fault
        return None

    def _spend(self, planned: list[_Planned], entry: _Planned, counter: str) -> None:
        entry.remaining -= 1
        if entry.remaining <= 0:
            planned.remove(entry)
        self._fired[counter] += 1

    def clear(self) -> None:
        with self._lock:
            for planned in (self._rest, self._stalls, self._rejections, self._hub_refusals, self._drops):
                planned.clear()

    def statistics(self) -> FaultStatistics:
        with self._lock:
            return FaultStatistics(**self._fired)
