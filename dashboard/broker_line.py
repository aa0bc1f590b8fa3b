"""Which account the desk guards, and whether it can see it: one line under the state banner.

The snapshot's ``extra["broker"]`` is the broker's status: ``{"kind": "paper"}`` for the
embedded paper broker, or a venue adapter's status (``trading.broker.venue.VenueBroker.status``:
kind, account, connected, blind, down_since, reason, flattening; a venue with a market-data hub
adds ``market_hub``, ``marks`` and ``stale_marks``). A venue the desk cannot see is a risk state
(the account is REDUCING until it is seen again): that is a warning, not a caption. So is a
position whose mark is stale: its open P&L is measured on an old price. Pure: no ``st.*``
calls; ``dashboard.session`` draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.money import Tone

__all__ = ["BrokerLine", "broker_line"]


@dataclass(frozen=True, slots=True)
class BrokerLine:
    text: str  # "paper broker (simulated account)", "guarding alpaca account PA1 · connected"
    tone: Tone
    warning: str = ""  # a sentence for the operator while the venue cannot be observed

    def markdown(self) -> str:
        return f"**Broker:** :{self.tone.value}[{self.text}]"


def broker_line(extra: Mapping[str, Any]) -> BrokerLine:
    """The line for a snapshot's ``extra`` (an older snapshot without a broker entry: paper)."""
    status = extra.get("broker")
    if not isinstance(status, Mapping) or status.get("kind", "paper") == "paper":
        return BrokerLine("paper broker (simulated account)", Tone.NEUTRAL)
    kind = str(status.get("kind"))
    account = str(status.get("account") or "(account not named)")
    guarding = f"guarding {kind} account {account}"
    if status.get("blind"):
        since = status.get("down_since") or "unknown time"
        reason = status.get("reason") or "connection lost"
        return BrokerLine(
            f"{guarding} · BLIND",
            Tone.BAD,
            warning=(
                f"The desk cannot see {kind} account {account} (since {since}: {reason}); "
                "the account is REDUCING (no new entries from the desk) until it is seen again."
            ),
        )
    if status.get("flattening"):
        return BrokerLine(f"{guarding} · flattening until the venue confirms flat", Tone.WARN)
    if not status.get("connected", True):
        return BrokerLine(f"{guarding} · reconnecting ({status.get('reason') or 'stream down'})", Tone.WARN)
    stale = status.get("stale_marks")
    if stale:
        return BrokerLine(
            f"{guarding} · connected · stale marks: {', '.join(stale)}",
            Tone.WARN,
            warning=_stale(status, stale),
        )
    return BrokerLine(f"{guarding} · connected", Tone.GOOD)


def _stale(status: Mapping[str, Any], stale: list[str]) -> str:
    marks = status.get("marks") or {}
    ages = []
    for symbol in stale:
        age = (marks.get(symbol) or {}).get("age")
        ages.append(f"{symbol} (no quote yet)" if age is None else f"{symbol} ({age:.0f} s old)")
    hub = status.get("market_hub") or {}
    why = "" if hub.get("connected", True) else f"; the market hub is down: {hub.get('reason') or 'unknown'}"
    return (
        f"Open P&L of {', '.join(ages)} is measured on a stale mark{why}. "
        "Open-loss limits act on the last mark until quotes come again."
    )
