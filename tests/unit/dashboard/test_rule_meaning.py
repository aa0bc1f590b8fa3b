"""rule_meaning.py: enforced limits by urgency, shadow and profit rules neutral, cooldowns as time left."""

from __future__ import annotations

import pytest

from dashboard.money import Tone
from dashboard.rule_meaning import in_usage_chart, rule_status_text, rule_tone
from trading.snapshot import RuleView


def _rule(kind: str = "daily_realized_loss", **kw) -> RuleView:
    base = {
        "rule": kind,
        "kind": kind,
        "enabled": True,
        "mode": "enforce",
        "action": "flatten_and_lock",
        "value": 500.0,
        "limit": 1000.0,
        "used": 0.5,
        "status": "ok",
        "unit": "$",
    }
    return RuleView(**{**base, **kw})


@pytest.mark.parametrize(
    ("rule", "tone", "text"),
    [
        (_rule(), Tone.GOOD, "ok"),
        (_rule(status="warning"), Tone.WARN, "near limit"),
        (_rule(status="breached"), Tone.BAD, "limit reached"),
        (_rule(mode="shadow", status="breached"), Tone.NEUTRAL, "would act (shadow)"),
        (_rule("daily_realized_profit_target", status="breached"), Tone.NEUTRAL, "target reached"),
        (_rule("cooldown_after_loss", value=112.0, limit=120.0, unit="s"), Tone.BAD, "cooldown 1m 52s left"),
        (_rule("cooldown_after_loss", value=0.0, limit=120.0, unit="s"), Tone.GOOD, "no cooldown"),
        (_rule(enabled=False, status="breached"), Tone.NEUTRAL, "disabled"),
        (_rule(status="error"), Tone.BAD, "error"),
    ],
)
def test_rule_tone_and_words_by_meaning(rule: RuleView, tone: Tone, text: str) -> None:
    assert (rule_tone(rule), rule_status_text(rule)) == (tone, text)


def test_usage_chart_takes_limits_only() -> None:
    assert in_usage_chart(_rule())
    assert not in_usage_chart(_rule("cooldown_after_loss", unit="s"))
    assert not in_usage_chart(_rule("session_hours", limit=0.0))
    assert not in_usage_chart(_rule(status="error"))
