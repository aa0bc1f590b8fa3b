"""EventBus: publish/subscribe keyed by event type.

Delivery rules:
- Every subscriber of an event's type or of one of its base classes is called,
  in the order the subscriptions were made (``Event`` subscribers see everything).
- Delivery is breadth-first: an event published while another is being delivered
  (a risk rule flattening in reaction to a fill, say) is queued and delivered once
  the current event has reached every subscriber. Every subscriber therefore sees
  events in one global order.
- A plain function is called inline. A coroutine function subscriber gets its
  coroutine started as a task on the running loop, in subscription order;
  ``await bus.drain()`` waits for those tasks.
- A subscriber that raises is logged with the event and counted; delivery to the
  others goes on.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from trading.model.events import Event

__all__ = ["BusStatistics", "EventBus", "Handler"]

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None] | Callable[[Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class BusStatistics:
    published: int
    delivered: int
    subscriber_errors: int
    pending_tasks: int
    events_by_type: dict[str, int]
    errors_by_subscriber: dict[str, int]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[type[Event], list[tuple[int, Handler]]] = {}
        self._seq = 0
        self._dispatch_cache: dict[type[Event], tuple[Handler, ...]] = {}
        self._queue: deque[Event] = deque()
        self._delivering = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._published = 0
        self._delivered = 0
        self._errors = 0
        self._by_type: Counter[type[Event]] = Counter()
        self._errors_by_subscriber: Counter[str] = Counter()

    # --- subscription ------------------------------------------------------------

    def subscribe(self, event_type: type[E], handler: Callable[[E], Any]) -> None:
        """Call ``handler(event)`` for every published ``event_type`` (and its subclasses)."""
        if not (isinstance(event_type, type) and issubclass(event_type, Event)):
            raise TypeError(f"event_type must be an Event subclass, got {event_type!r}")
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {handler!r}")
        self._seq += 1
        self._subscribers.setdefault(event_type, []).append((self._seq, handler))
        self._dispatch_cache.clear()

    def unsubscribe(self, event_type: type[Event], handler: Callable[[Any], Any]) -> None:
        handlers = self._subscribers.get(event_type, [])
        for entry in handlers:
            if entry[1] == handler:
                handlers.remove(entry)
                self._dispatch_cache.clear()
                return

    def subscribers(self, event_type: type[Event]) -> tuple[Handler, ...]:
        cached = self._dispatch_cache.get(event_type)
        if cached is None:
            found: list[tuple[int, Handler]] = []
            for klass in event_type.__mro__:
                found.extend(self._subscribers.get(klass, ()))
            found.sort(key=lambda entry: entry[0])
            cached = self._dispatch_cache[event_type] = tuple(h for _, h in found)
        return cached

    # --- publishing --------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to its subscribers (queued if a delivery is under way)."""
        self._published += 1
        self._queue.append(event)
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._queue:
                self._deliver(self._queue.popleft())
        finally:
            self._delivering = False

    def _deliver(self, event: Event) -> None:
        kind = type(event)
        self._by_type[kind] += 1
        handlers = self.subscribers(kind)
        self._delivered += len(handlers)
        for handler in handlers:
            try:
                result = handler(event)
                # async def, or a callable returning a coroutine (None, the common case, skips the check)
                if result is not None and inspect.isawaitable(result):
                    self._start_task(handler, event, result)
            except Exception:
                self._record_error(handler, event)

    def _start_task(self, handler: Handler, event: Event, awaitable: Awaitable[None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # never started: close it so no "never awaited" warning leaks
            raise RuntimeError(
                f"coroutine subscriber {_name(handler)} needs a running event loop; publish from async code"
            ) from None
        task: asyncio.Task[None] = loop.create_task(_await(awaitable))
        self._tasks.add(task)
        task.add_done_callback(functools.partial(self._task_done, handler=handler, event=event))

    def _task_done(self, task: asyncio.Task[None], *, handler: Handler, event: Event) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._errors += 1
            self._errors_by_subscriber[_name(handler)] += 1
            logger.error("subscriber %s failed on %r", _name(handler), event, exc_info=exc)

    def _record_error(self, handler: Handler, event: Event) -> None:
        self._errors += 1
        self._errors_by_subscriber[_name(handler)] += 1
        logger.exception("subscriber %s failed on %r", _name(handler), event)

    async def drain(self) -> None:
        """Wait until every task started for a coroutine subscriber has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- observability -----------------------------------------------------------

    def statistics(self) -> BusStatistics:
        return BusStatistics(
            published=self._published,
            delivered=self._delivered,
            subscriber_errors=self._errors,
            pending_tasks=len(self._tasks),
            events_by_type={kind.__name__: n for kind, n in self._by_type.items()},
            errors_by_subscriber=dict(self._errors_by_subscriber),
        )

    def __repr__(self) -> str:
        n = sum(len(v) for v in self._subscribers.values())
        return f"EventBus(types={len(self._subscribers)}, subscribers={n}, published={self._published})"


async def _await(awaitable: Awaitable[None]) -> None:
    await awaitable


def _name(handler: Handler) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
