"""The executor's bad-input errors (subclasses of the project root ``TradingError``)."""

from __future__ import annotations

from typing import Any

from trading.errors import TradingError

__all__ = ["InvalidTaskError", "InvalidTaskTypeError"]


class InvalidTaskError(TradingError, ValueError):
    """A submit with a bad value (timeout, lane, retries, name); nothing was queued.

    Carries the argument's name (``field``), the bad ``value`` and what is ``allowed``.
    """

    def __init__(self, message: str, *, field: str, value: Any, allowed: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.allowed = allowed


class InvalidTaskTypeError(InvalidTaskError, TypeError):
    """A submit with an argument of the wrong type (a non-callable, a non-int priority...)."""
