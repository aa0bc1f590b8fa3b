"""``VenueSettings``: what every venue adapter's section of ``desk.yaml`` ``broker:`` shares.

An adapter's own settings model extends it (``AlpacaSettings``: ``paper``, ``allow_live``,
endpoints). Frozen, typed, unknown keys refused, validated when the desk config is loaded.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from trading.config_types import Number, Whole

__all__ = ["VenueSettings"]


class VenueSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    # Seconds between reconciliation polls (account, positions, orders, marks).
    poll_interval: Number = Field(default=2.0, gt=0, le=300)
    # Seconds the order stream may be down before the desk is blind (BrokerBlind: REDUCING, alert).
    blind_after: Number = Field(default=10.0, gt=0, le=3600)
    # Seconds one HTTP request may take before it counts as unanswered (and is retried).
    request_timeout: Number = Field(default=10.0, gt=0, le=120)
    # Attempts of one request on a rate limit (HTTP 429), a server error or no answer.
    request_attempts: Whole = Field(default=6, ge=1, le=100)
    # Backoff before the second attempt, doubling up to retry_max (seconds, with jitter).
    retry_initial: Number = Field(default=0.25, gt=0, le=60)
    retry_max: Number = Field(default=5.0, gt=0, le=600)
    # Seconds a flatten attempt waits for the venue to confirm cancels and closes.
    flatten_settle: Number = Field(default=3.0, gt=0, le=120)
    # Seconds of orders read back before the last reconciliation (fills the stream missed).
    lookback: Number = Field(default=300.0, gt=0, le=7 * 86_400)
