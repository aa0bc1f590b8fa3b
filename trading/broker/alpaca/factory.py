"""``build_alpaca_broker``: the registry's factory for ``broker: {kind: alpaca}``.

Keys come from the environment only (``APCA_API_KEY_ID``, ``APCA_API_SECRET_KEY``) and go
straight to the SDK objects: they are never logged, never in an error message, never in the
journal, the state file or a snapshot. A live endpoint (``paper: false``) needs two
consents: ``allow_live: true`` in the config (checked when it loads) and the process started
with ``--allow-live`` (checked here).
"""

from __future__ import annotations

from trading.broker.alpaca.client import AlpacaClient
from trading.broker.alpaca.config import KEY_ID_VARIABLE, SECRET_KEY_VARIABLE, AlpacaSettings
from trading.broker.alpaca.stream import AlpacaStream
from trading.broker.registry import BrokerContext
from trading.broker.venue.broker import VenueBroker
from trading.broker.venue.config import VenueSettings
from trading.errors import ConfigError

__all__ = ["build_alpaca_broker"]


def build_alpaca_broker(settings: VenueSettings, context: BrokerContext) -> VenueBroker:
    if not isinstance(settings, AlpacaSettings):
        raise TypeError(f"alpaca needs AlpacaSettings, got {type(settings).__name__}")
    if not settings.paper and not context.allow_live:
        raise ConfigError(
            "broker.paper is false (a live Alpaca account): the desk must be started with --allow-live",
            field="broker.paper",
            value=False,
        )
    key_id, secret = context.credentials("alpaca", "the API keys", KEY_ID_VARIABLE, SECRET_KEY_VARIABLE)
    client = AlpacaClient(
        key_id, secret, paper=settings.paper, url=settings.url, timeout=settings.request_timeout
    )
    ping = min(5.0, settings.blind_after / 2)
    stream = AlpacaStream(
        key_id,
        secret,
        paper=settings.paper,
        url=settings.stream_url,
        ping_interval=ping,
        ping_timeout=min(2 * ping, settings.blind_after),
    )
    return context.venue_broker(settings, client, stream)
