"""Validation of one submit: every bad argument is named with its value and what is allowed."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Collection
from typing import Any

from trading.signals._errors import InvalidTaskError, InvalidTaskTypeError


def check_submit(
    name: Any,
    fn: Any,
    *,
    timeout: Any,
    priority: Any,
    key: Any,
    lane: Any,
    retries: Any,
    lanes: Collection[str],
) -> None:
    """Raise ``InvalidTaskError`` (a ``ValueError``) or ``InvalidTaskTypeError`` (a ``TypeError``)."""
    if not isinstance(name, str) or not name:
        raise InvalidTaskTypeError(
            f"submit_task: name must be a non-empty str, got {name!r}",
            field="name",
            value=name,
            allowed="non-empty str",
        )
    if not callable(fn):
        raise InvalidTaskTypeError(
            f"submit_task({name!r}): fn must be callable (an async function or a plain callable), "
            f"got {type(fn).__name__} {fn!r}",
            field="fn",
            value=fn,
            allowed="a callable",
        )
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise InvalidTaskTypeError(
                f"submit_task({name!r}): timeout must be a number of seconds or None, got {timeout!r}",
                field="timeout",
                value=timeout,
                allowed="a positive number of seconds, or None for the default",
            )
        if not math.isfinite(timeout) or timeout <= 0:
            raise InvalidTaskError(
                f"submit_task({name!r}): timeout must be a finite number of seconds > 0, got {timeout!r}",
                field="timeout",
                value=timeout,
                allowed="a positive number of seconds, or None for the default",
            )
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidTaskTypeError(
            f"submit_task({name!r}): priority must be an int (lower runs first), "
            f"got {type(priority).__name__} {priority!r}",
            field="priority",
            value=priority,
            allowed="an int; lower runs first",
        )
    if key is not None and not isinstance(key, str):
        raise InvalidTaskTypeError(
            f"submit_task({name!r}): key must be a str or None, got {key!r}",
            field="key",
            value=key,
            allowed="str or None",
        )
    if lane not in lanes:
        raise InvalidTaskError(
            f"submit_task({name!r}): unknown lane {lane!r}; lanes: {', '.join(sorted(lanes))}",
            field="lane",
            value=lane,
            allowed=", ".join(sorted(lanes)),
        )
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidTaskError(
            f"submit_task({name!r}): retries must be an int >= 0, got {retries!r}",
            field="retries",
            value=retries,
            allowed="an int >= 0",
        )


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """True for ``async def`` functions, partials of them and objects with an ``async def __call__``."""
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004  (we want the bound __call__, not callable())
    return call is not None and not inspect.isroutine(fn) and inspect.iscoroutinefunction(call)
