"""``AlpacaStream``: the ``VenueStream`` over alpaca-py's ``TradingStream`` (``trade_updates``).

It runs the SDK's own connection loop (``_run_forever``: connect, authenticate, listen,
reconnect after a drop with a jittered backoff of 0.5 s growing to 30 s) as a task on the
desk's event loop, so its messages reach the books without a thread hop. Two SDK hooks are
taken over, because the SDK tells no one when it (re)connects and parses every message into
a pydantic model first: ``_dispatch`` hands the raw message to ``wire.update_from_json`` and
on to the venue broker, and reports the ``listening`` acknowledgement (the stream is up);
``close`` reports the connection lost. Keepalive pings detect a silent connection within
``ping_timeout`` seconds. Stopping is cancelling the task: the SDK's ``stop()`` would wait up
to 5 s for its receive timeout.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

from trading.broker.alpaca.wire import update_from_json
from trading.broker.venue.facts import VenueUpdate

with warnings.catch_warnings():
    # alpaca-py 0.44's stream module imports websockets.legacy, deprecated in websockets 14.
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.trading.stream import TradingStream

__all__ = ["AlpacaStream"]

logger = logging.getLogger(__name__)


class _HookedStream(TradingStream):
    """The SDK's stream with its message dispatch and its close reported to the owner."""

    def __init__(self, owner: AlpacaStream, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = owner

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        self._owner.dispatch(msg)

    async def close(self) -> None:
        self._owner.set_listening(False)
        await super().close()


class AlpacaStream:
    def __init__(
        self,
        key_id: str,
        secret_key: str,
        *,
        paper: bool,
        url: str | None = None,
        ping_interval: float = 5.0,
        ping_timeout: float = 10.0,
    ) -> None:
        self._sdk = _HookedStream(
            self,
            key_id,
            secret_key,
            paper=paper,
            raw_data=True,
            url_override=url,
            websocket_params={
                "ping_interval": ping_interval,
                "ping_timeout": ping_timeout,
                "max_queue": 1024,
            },
        )
        self._endpoint = url or ("paper" if paper else "live")
        self._on_update: Callable[[VenueUpdate], None] = _ignore_update
        self._on_connected: Callable[[bool], None] = _ignore_state
        self._listening = False
        self.messages = self.bad_messages = 0

    async def run(
        self, on_update: Callable[[VenueUpdate], None], on_connected: Callable[[bool], None]
    ) -> None:
        """The SDK's connection loop on this event loop, until cancelled."""
        self.bind(on_update, on_connected)
        self._sdk.subscribe_trade_updates(_unused_handler)  # the SDK connects only once subscribed
        try:
            await self._sdk._run_forever()
        finally:
            self.set_listening(False)
            await self._sdk.close()

    def bind(self, on_update: Callable[[VenueUpdate], None], on_connected: Callable[[bool], None]) -> None:
        """Where messages and connection changes go (``run`` binds them)."""
        self._on_update = on_update
        self._on_connected = on_connected

    def dispatch(self, msg: dict[str, Any]) -> None:
        """One message as the SDK received it (JSON already decoded)."""
        stream = msg.get("stream")
        if stream == "trade_updates":
            self.messages += 1
            try:
                update = update_from_json(msg["data"])
            except (KeyError, TypeError, ValueError) as exc:  # one bad message must not stop the stream
                self.bad_messages += 1
                logger.warning("alpaca trade update not understood (%r): %.300s", exc, msg)
                return
            self._on_update(update)
        elif stream == "listening":
            streams = (msg.get("data") or {}).get("streams") or ()
            self.set_listening("trade_updates" in streams)

    def set_listening(self, listening: bool) -> None:
        if listening != self._listening:
            self._listening = listening
            self._on_connected(listening)

    def __repr__(self) -> str:
        return f"AlpacaStream({self._endpoint}, listening={self._listening}, messages={self.messages})"


async def _unused_handler(update: Any) -> None:  # pragma: no cover - dispatch is ours
    return None


def _ignore_update(update: VenueUpdate) -> None:
    return None


def _ignore_state(up: bool) -> None:
    return None
