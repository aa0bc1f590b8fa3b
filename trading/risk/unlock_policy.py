"""The manual unlock policy: may an operator end a lockout before its time?

A lockout made by an enforced *loss* rule (a rule class with ``loss_lockout = True``: the
daily realized loss, the trailing drawdown, a weekly loss) is what protects a trader from the
next loss on a bad day, so ending it early is the risk file's decision, not the trader's
(``manual_unlock`` at the top of risk.yaml):

- ``never`` (the default): refused; the lockout ends at its time (most: the daily reset),
- ``with_reason``: allowed with a reason of at least ``MIN_REASON`` characters, a sentence
  rather than "ok", recorded in the audit with the unlock,
- ``always``: allowed like any other unlock (the command's reason is still required).

Every other lockout (a cooldown, a lock set by a non-loss rule) and an operator's pause stay
unlockable whatever the policy. A refusal is a value: the sentence says which lockout, which
setting refused it and when the lock ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from trading.risk.types import Lockout

__all__ = ["MANUAL_UNLOCK", "MIN_REASON", "ManualUnlock", "UnlockOutcome", "unlock_note", "unlock_refusal"]

ManualUnlock = Literal["never", "with_reason", "always"]
MANUAL_UNLOCK: tuple[ManualUnlock, ...] = ("never", "with_reason", "always")  # strictest first
MIN_REASON = 20  # characters of a with_reason unlock's reason (stripped)


@dataclass(frozen=True, slots=True)
class UnlockOutcome:
    """What an operator's unlock did: the lockout it ended (None: none), or why it was refused.
    True when a lockout ended."""

    ended: Lockout | None = None
    refused: str | None = None

    def __bool__(self) -> bool:
        return self.ended is not None


def unlock_note(*, policy: ManualUnlock, loss_lockout: bool) -> str:
    """What an operator may do about a lockout, said before they try (the dashboard shows it)."""
    if not loss_lockout or policy == "always":
        return "an operator may unlock (with a reason)"
    if policy == "with_reason":
        return (
            f"an operator may unlock with a reason of at least {MIN_REASON} characters "
            "(manual_unlock: with_reason)"
        )
    return "kept until it ends: no manual unlock (manual_unlock: never)"


def unlock_refusal(
    lock: Lockout,
    *,
    policy: ManualUnlock,
    loss_lockout: bool,
    reason: str,
    ends: datetime,
    timezone: str,
) -> str | None:
    """Why ``lock`` may not be ended by an operator now; None when it may.

    ``loss_lockout``: the rule that made it is a loss rule; ``ends``: when the lock ends by
    itself (its ``until``, else the next daily reset), shown in ``timezone``."""
    if not loss_lockout or policy == "always":
        return None
    given = reason.strip()
    if policy == "with_reason" and len(given) >= MIN_REASON:
        return None
    if policy == "with_reason":
        why = (
            f"manual_unlock: with_reason needs a reason of at least {MIN_REASON} characters "
            f"(this one has {len(given)})"
        )
    else:
        why = "manual_unlock: never (risk.yaml)"
    local = ends.astimezone(ZoneInfo(timezone))
    when = "at the daily reset" if lock.until is None else "at its end"
    return (
        f"unlock refused: the {lock.scope} lockout by the loss rule {lock.rule} ({lock.reason}) "
        f"is kept by {why}; it ends {when}, {local:%Y-%m-%d %H:%M} {timezone}"
    )
