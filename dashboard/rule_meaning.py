"""What a rule's standing means to a trader: its colour, its words, whether it is a limit.

An enforced limit reads by urgency: green, amber near the limit, red at it. A shadow-mode
rule only records what it would have done and a profit rule marks a good day, so both stay
neutral (grey), never a red "breached". A cooldown's figure is time left, not a share of a
limit: it is urgent while it runs and is shown as a countdown, not as a bar. Pure: no ``st.*``.
"""

from __future__ import annotations

from dashboard.desk_clock import format_duration
from dashboard.money import Tone
from trading.snapshot import RuleView

__all__ = ["PROFIT_KINDS", "RULE_ERROR", "TIMER_KINDS", "in_usage_chart", "rule_status_text", "rule_tone"]

RULE_ERROR = "error"  # a rule whose measurement raised: its row has no numbers, the message in detail
PROFIT_KINDS = frozenset({"daily_realized_profit_target", "unrealized_profit"})
TIMER_KINDS = frozenset({"cooldown_after_loss"})  # value: seconds of cooldown left
# Rules whose measure is no distance to a limit (a calendar, a list of blocked symbols).
_NO_LIMIT_KINDS = frozenset({"session_hours", "symbol_blocks"})
_PLAIN = {"breached": "limit reached", "warning": "near limit", "ok": "ok"}
_PROFIT = {"breached": "target reached", "warning": "near target", "ok": "ok"}


def _neutral(rule: RuleView) -> bool:
    return rule.mode == "shadow" or rule.kind in PROFIT_KINDS


def rule_tone(rule: RuleView) -> Tone:
    if rule.status == RULE_ERROR:
        return Tone.BAD
    if not rule.enabled or _neutral(rule):
        return Tone.NEUTRAL
    if rule.kind in TIMER_KINDS:
        return Tone.BAD if rule.value > 0 else Tone.GOOD
    if rule.status == "breached":
        return Tone.BAD
    return Tone.WARN if rule.status == "warning" else Tone.GOOD


def rule_status_text(rule: RuleView) -> str:
    if rule.status == RULE_ERROR:
        return RULE_ERROR
    if not rule.enabled:
        return "disabled"
    if rule.kind in TIMER_KINDS:
        text = f"cooldown {format_duration(rule.value)} left" if rule.value > 0 else "no cooldown"
    elif rule.kind in PROFIT_KINDS:
        text = _PROFIT.get(rule.status, rule.status)
    else:
        text = _PLAIN.get(rule.status, rule.status)
    if rule.mode == "shadow":
        return "would act (shadow)" if rule.status == "breached" else f"{text} (shadow)"
    return text


def in_usage_chart(rule: RuleView) -> bool:
    """Enabled, measured, and a distance to a limit (no cooldown timer, no calendar)."""
    return (
        rule.enabled
        and rule.status != RULE_ERROR
        and rule.limit > 0
        and rule.kind not in TIMER_KINDS
        and rule.kind not in _NO_LIMIT_KINDS
    )
