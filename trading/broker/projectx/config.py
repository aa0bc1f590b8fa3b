"""``ProjectXSettings``: the ``broker:`` section of ``desk.yaml`` for ``kind: projectx``.

    broker:
      kind: projectx
      account: 50KTC-V2-1234567     # the account to guard: its name, or its numeric id
      allow_live: false             # an account the platform flags live (not simulated/evaluation)
                                    # also needs run_executor.py --allow-live
      api_url: https://api.topstepx.com             # the firm's gateway (REST)
      hub_url: https://rtc.topstepx.com/hubs/user   # its realtime user hub
      market_hub: true              # marks (open P&L) from the realtime market hub's quotes
      market_hub_url: null          # default: hub_url's /hubs/user as /hubs/market
      mark_stale_after: 30          # seconds without a quote for a symbol held before its mark
                                    # is reported stale (status, a WARNING; no state change)
      contracts: {}                 # symbol -> contract id, e.g. {ES: CON.F.US.EP.H26}; unlisted
                                    # symbols trade their front month (the active contract)
      token_renew_before: 3600      # seconds before the session token expires that it is renewed
      hub_silence: 30               # seconds without any hub message (events or pings) before the
                                    # hub counts as dead and is reconnected (our own watchdog)

The user name and API key are never in this file: ``PROJECTX_USERNAME`` and ``PROJECTX_API_KEY``
come from the environment. Plus the settings every venue shares (``VenueSettings``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from trading.broker.venue.config import VenueSettings
from trading.config_types import Flag, Number

__all__ = ["API_KEY_VARIABLE", "USER_NAME_VARIABLE", "ProjectXSettings"]

USER_NAME_VARIABLE = "PROJECTX_USERNAME"
API_KEY_VARIABLE = "PROJECTX_API_KEY"


class ProjectXSettings(VenueSettings):
    kind: Literal["projectx"] = "projectx"
    # The account to guard: its name as the platform shows it, or its id (checked at start).
    account: Annotated[str, Field(min_length=1)] | Annotated[int, Field(gt=0)]
    allow_live: Flag = False
    api_url: str = Field(default="https://api.topstepx.com", min_length=1, pattern=r"^https?://")
    hub_url: str = Field(default="https://rtc.topstepx.com/hubs/user", min_length=1, pattern=r"^https?://")
    contracts: dict[str, str] = Field(default_factory=dict)
    token_renew_before: Number = Field(default=3600.0, gt=0, le=86_400)
    hub_silence: Number = Field(default=30.0, gt=0, le=3600)
    market_hub: Flag = True
    market_hub_url: str | None = Field(default=None, min_length=1, pattern=r"^https?://")
    mark_stale_after: Number = Field(default=30.0, gt=0, le=3600)

    @property
    def market_url(self) -> str:
        """The market hub: ``market_hub_url``, else ``hub_url`` with its last part ``market``."""
        if self.market_hub_url is not None:
            return self.market_hub_url
        return self.hub_url.rstrip("/").rsplit("/", 1)[0] + "/market"
