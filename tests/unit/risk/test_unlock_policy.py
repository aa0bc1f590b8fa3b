"""The manual unlock policy (risk.yaml ``manual_unlock``) over loss rules' lockouts: refused
under ``never`` with when the lock ends, allowed under ``with_reason`` with a real reason and
under ``always``; other lockouts and pauses stay unlockable; every refusal audited."""

from __future__ import annotations

from typing import Any

import pytest

from trading.errors import ConfigError
from trading.model import OrderSide, TradingState
from trading.risk import MIN_REASON, RULES, parse_risk_config
from trading.risk.loosening import loosenings
from trading.storage import AuditRepository

from .conftest import repositories

LOSS = {"daily_realized_loss": {"limit": 500}}
ENDS = "it ends at the daily reset, 2026-01-06 17:00 America/Chicago"
LONG_REASON = "news spike reviewed with the risk desk, size halved"


def _cfg(policy: str | None, rules: dict[str, Any] | None = None) -> Any:
    top: dict[str, Any] = {"rules": rules or LOSS}
    if policy is not None:
        top["manual_unlock"] = policy
    return parse_risk_config(top)


def _lose(desk, points: float = 15.0) -> None:
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 5000.0 - points)


def _last_audit(db) -> dict[str, Any]:
    return AuditRepository(db).recent(limit=1)[0]


def test_unlock_policy_default_is_never():
    assert _cfg(None).manual_unlock == "never"


def test_unlock_policy_loss_rules_declare_their_lockouts():
    assert {kind for kind, rule in RULES.items() if rule.loss_lockout} >= {
        "daily_realized_loss",
        "trailing_drawdown",
    }
    assert not RULES["cooldown_after_loss"].loss_lockout


def test_unlock_policy_never_refuses_daily_loss_unlock_and_says_when_it_ends(make_desk, db):
    desk = make_desk(_cfg(None), **repositories(db))
    _lose(desk)

    outcome = desk.rm.unlock("account", reason=LONG_REASON, who="alice")

    assert not outcome and outcome.ended is None
    assert outcome.refused == (
        "unlock refused: the account lockout by the loss rule daily_realized_loss "
        "(daily realized loss -754.00 <= -500.00) is kept by manual_unlock: never (risk.yaml); " + ENDS
    )
    assert desk.rm.state is TradingState.HALTED
    assert [lock.rule for lock in desk.rm.lockouts()] == ["daily_realized_loss"]
    row = _last_audit(db)
    assert (row["action"], row["rule"], row["reason"], row["result"]) == (
        "unlock",
        "operator:alice",
        LONG_REASON,
        outcome.refused,
    )


def test_unlock_policy_with_reason_refuses_a_short_reason(make_desk):
    desk = make_desk(_cfg("with_reason"))
    _lose(desk)

    outcome = desk.rm.unlock("account", reason=" ok, go ", who="alice")

    assert outcome.refused is not None and outcome.refused.endswith(
        f"is kept by manual_unlock: with_reason needs a reason of at least {MIN_REASON} characters "
        f"(this one has 6); {ENDS}"
    )
    assert desk.rm.state is TradingState.HALTED


def test_unlock_policy_with_reason_allows_a_reasoned_unlock(make_desk, db):
    desk = make_desk(_cfg("with_reason"), **repositories(db))
    _lose(desk)

    outcome = desk.rm.unlock("account", reason=LONG_REASON, who="alice")

    assert outcome and outcome.ended is not None and outcome.ended.rule == "daily_realized_loss"
    assert outcome.refused is None
    assert desk.rm.state is TradingState.ACTIVE and desk.rm.lockouts() == []
    assert _last_audit(db)["result"] == "account unlocked"


def test_unlock_policy_always_allows_any_reason(make_desk):
    desk = make_desk(_cfg("always"))
    _lose(desk)

    assert desk.rm.unlock("account", reason="ok", who="alice")
    assert desk.rm.state is TradingState.ACTIVE


def test_unlock_policy_never_refuses_trailing_drawdown_lockout(make_desk):
    desk = make_desk(_cfg(None, {"trailing_drawdown": {"max_drawdown": 500}}))
    _lose(desk)
    assert [lock.rule for lock in desk.rm.lockouts()] == ["trailing_drawdown"]

    outcome = desk.rm.unlock("account", reason=LONG_REASON, who="alice")

    assert outcome.refused is not None and "by the loss rule trailing_drawdown" in outcome.refused


def test_unlock_policy_never_leaves_cooldown_unlockable(make_desk):
    desk = make_desk(_cfg(None, {"cooldown_after_loss": {"minutes": 30}}))
    _lose(desk, points=1.0)
    assert [lock.rule for lock in desk.rm.lockouts()] == ["cooldown_after_loss"]

    outcome = desk.rm.unlock("account", reason="ok", who="alice")

    assert outcome and desk.rm.lockouts() == []


def test_unlock_policy_never_leaves_pause_and_resume_to_the_operator(make_desk):
    desk = make_desk(_cfg(None))
    desk.rm.pause("news", who="alice")
    assert desk.rm.state is TradingState.HALTED

    desk.rm.resume("news over", who="alice")

    assert desk.rm.state is TradingState.ACTIVE


def test_unlock_policy_loss_lockout_keeps_its_name_under_a_stronger_lock(make_desk):
    rules = {"daily_realized_loss": {"limit": 500, "action": "lock"}}  # REDUCING until the reset
    desk = make_desk(_cfg(None, rules))
    _lose(desk)
    desk.rm.enforcer.lock("account", "operator:test", "desk check", until=None, state=TradingState.HALTED)
    desk.rm.engine.refresh_state()

    [lock] = desk.rm.lockouts()
    outcome = desk.rm.unlock("account", reason=LONG_REASON, who="alice")

    assert (lock.rule, lock.state) == ("daily_realized_loss", TradingState.HALTED)
    assert outcome.refused is not None and desk.rm.state is TradingState.HALTED


def test_unlock_policy_refusal_survives_a_restart(books):
    desk = books(LOSS).start()
    _lose(desk)

    again = books(LOSS).start()
    outcome = again.rm.unlock("account", reason=LONG_REASON, who="alice")

    assert outcome.refused is not None and again.rm.state is TradingState.HALTED


def test_unlock_policy_bad_value_names_field_and_allowed_values():
    with pytest.raises(
        ConfigError,
        match=r"risk\.yaml: field 'manual_unlock': bad value 'sometimes': "
        r"allowed one of 'never', 'with_reason' or 'always'",
    ):
        parse_risk_config({"manual_unlock": "sometimes", "rules": LOSS}, "risk.yaml")


@pytest.mark.parametrize(
    ("before", "after", "looser"),
    [
        ("never", "with_reason", True),
        ("with_reason", "always", True),
        ("never", "always", True),
        ("always", "never", False),
        ("with_reason", "never", False),
    ],
)
def test_unlock_policy_easier_unlock_is_a_loosening(before: str, after: str, looser: bool):
    found = loosenings(_cfg(before), _cfg(after))

    assert [str(item) for item in found] == (["manual_unlock " + before + " -> " + after] if looser else [])
