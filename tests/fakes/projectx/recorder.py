"""Every REST request the fake received, for tests to assert what a client sent.

Secrets are never kept: the ``apiKey`` of a login body is replaced by ``"***"`` and a request
is recorded with the ``jti`` of the session token it presented (``token_id``), not the token.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["RecordedRequest", "RequestLog", "redacted"]

SECRET_FIELDS = ("apiKey", "password", "verifyKey")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str  # as the client sent it (the API's routes are case-insensitive)
    query: dict[str, str]
    body: Any  # the parsed JSON body with secrets redacted; None when there was none
    token_id: str | None  # jti of the bearer token presented, None without a known token
    status: int  # the HTTP status the fake answered
    error_code: int | None  # the body's errorCode when it had one

    @property
    def succeeded(self) -> bool:
        return self.status == 200 and self.error_code in (None, 0)


def redacted(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    return {key: ("***" if key in SECRET_FIELDS else value) for key, value in body.items()}


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

    def matching(self, path: str, method: str = "POST") -> list[RecordedRequest]:
        """Requests to ``path`` (compared case-insensitively, as the API routes them)."""
        wanted = path.lower()
        return [r for r in self.all() if r.method == method.upper() and r.path.lower() == wanted]

    def paths(self) -> list[str]:
        return [r.path for r in self.all()]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
