"""``DailyLossRoom``: a daily loss rule says how much room it has left, exactly.

Every rule that caps today's loss (``daily_realized_loss``, ``daily_loss`` on either basis,
``daily_trailing_loss``) implements it, so the rules that measure room left by others (the
per-trade risk rule, the Risk page's headroom) read each one the same way, however the rule
counts its loss. A new daily loss rule implements ``loss_room`` and is counted everywhere.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

__all__ = ["DailyLossRoom"]


@runtime_checkable
class DailyLossRoom(Protocol):
    def loss_room(self) -> tuple[Decimal, Decimal]:
        """(limit, loss counted now): both exact, the loss >= 0 once the day is losing (it may
        be negative on a winning day for a realized measure: room grows with profit)."""
        ...
