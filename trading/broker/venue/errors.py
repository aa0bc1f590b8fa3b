"""``VenueError``: a venue refused or did not answer a request, and what may be done about it."""

from __future__ import annotations

from enum import Enum, unique

from trading.errors import TradingError

__all__ = ["VenueError", "VenueErrorKind"]


@unique
class VenueErrorKind(Enum):
    """What a failed request means for the caller."""

    TRANSIENT = "transient"  # rate limited, server error: the request was not done; retry
    AMBIGUOUS = "ambiguous"  # no answer (timeout, connection lost): it may have been done
    REFUSED = "refused"  # the venue refused it for good (invalid, insufficient quantity...)
    DUPLICATE = "duplicate"  # the client order id is already known: an earlier attempt got through
    NOT_FOUND = "not_found"
    NOT_OPEN = "not_open"  # the order is already filled, cancelled... (a cancel or replace came late)
    AUTH = "auth"  # the keys were refused


class VenueError(TradingError):
    """A request to a venue failed. ``kind`` says whether to retry; ``status`` is the HTTP
    status when there was one; ``retry_after`` seconds when the venue said how long to wait.
    The message never holds credentials."""

    def __init__(
        self,
        message: str,
        *,
        kind: VenueErrorKind,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in (VenueErrorKind.TRANSIENT, VenueErrorKind.AMBIGUOUS)

    def __repr__(self) -> str:
        return f"VenueError({self.kind.value}, status={self.status}, {str(self)!r})"
