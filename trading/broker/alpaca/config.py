"""``AlpacaSettings``: the ``broker:`` section of ``desk.yaml`` for ``kind: alpaca``.

    broker:
      kind: alpaca
      paper: true          # the paper endpoint; false is a live account (see allow_live)
      allow_live: false    # a live account also needs run_executor.py --allow-live
      url: null            # REST base URL override (a proxy, or the tests' fake server)
      stream_url: null     # trade_updates websocket URL override

The API keys are never in this file: ``APCA_API_KEY_ID`` and ``APCA_API_SECRET_KEY`` come
from the environment. Plus the settings every venue shares (``VenueSettings``: polling,
blindness limit, request timeout and retries, flatten settling, lookback).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trading.broker.venue.config import VenueSettings
from trading.config_types import Flag

__all__ = ["KEY_ID_VARIABLE", "SECRET_KEY_VARIABLE", "AlpacaSettings"]

KEY_ID_VARIABLE = "APCA_API_KEY_ID"
SECRET_KEY_VARIABLE = "APCA_API_SECRET_KEY"


class AlpacaSettings(VenueSettings):
    kind: Literal["alpaca"] = "alpaca"
    paper: Flag = True
    allow_live: Flag = False
    url: str | None = Field(default=None, min_length=1, pattern=r"^https?://")
    stream_url: str | None = Field(default=None, min_length=1, pattern=r"^wss?://")

    @model_validator(mode="after")
    def _live_needs_consent(self) -> AlpacaSettings:
        if not self.paper and not self.allow_live:
            raise ValueError(
                "paper: false trades a live account: set allow_live: true here and start the desk "
                "with --allow-live, or keep paper: true"
            )
        return self
