"""Every REST request the fake received, for tests to assert what a client sent.

Secrets are never kept: a request is recorded with the key id it presented, not the secret.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["RecordedRequest", "RequestLog"]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any  # the parsed JSON body, None when there was none
    key_id: str | None
    status: int  # the status the fake answered


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    def __repr__(self) -> str:
        return f"RequestLog({len(self)} requests)"

    def __len__(self) -> int:
        with self._lock:
            return len(self._requests)

    def append(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def matching(self, method: str, path: str) -> list[RecordedRequest]:
        """Requests with this method whose path equals ``path`` or, when it ends with '*', starts with it."""
        prefix = path[:-1] if path.endswith("*") else None
        return [
            r
            for r in self.all()
            if r.method == method.upper()
            and (r.path.startswith(prefix) if prefix is not None else r.path == path)
        ]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
