"""Enforcement actions: one enum, typed remedies, one handler per action."""

from dataclasses import fields
from datetime import timedelta

import pytest

from trading.model import EnforcementExecuted, OrderSide, TradingState
from trading.risk import REMEDY_TYPES, Action, Violation
from trading.risk.actions import (
    Alert,
    ClosePosition,
    Cooldown,
    Deny,
    Flatten,
    FlattenAndLock,
    Lock,
    ReduceToLimit,
    lockout_state,
    plain_remedy,
)

# One sample remedy per action, and the enforcement steps it must take (audited action names).
SAMPLES = {
    Action.ALERT: (Alert(), []),
    Action.DENY: (Deny(), []),
    Action.CLOSE_POSITION: (ClosePosition(symbol="ES"), ["close_position"]),
    Action.REDUCE_TO_LIMIT: (ReduceToLimit(symbol="ES", excess=1.0), ["reduce_to_limit"]),
    Action.FLATTEN: (Flatten(), ["flatten"]),
    Action.FLATTEN_AND_LOCK: (FlattenAndLock(), ["flatten", "lock"]),
    Action.LOCK: (Lock(), ["lock"]),
    Action.COOLDOWN: (Cooldown(seconds=90.0), ["lock"]),
}


def test_action_values_are_the_yaml_spellings():
    assert [a.value for a in Action] == [
        "alert",
        "deny",
        "close_position",
        "reduce_to_limit",
        "flatten",
        "flatten_and_lock",
        "lock",
        "cooldown",
    ]
    assert Action("cooldown") is Action.COOLDOWN


def test_action_carries_description_verb_and_lockout_state():
    assert Action.FLATTEN_AND_LOCK.would_have == "would have flattened and locked the account"
    assert Action.DENY.description == "refuse orders in the pre-trade check (no action on the account)"
    assert {a: a.lockout for a in Action if a.lockout is not None} == {
        Action.FLATTEN_AND_LOCK: TradingState.HALTED,
        Action.LOCK: TradingState.REDUCING,
        Action.COOLDOWN: TradingState.REDUCING,
    }
    assert all(a.description and a.verb for a in Action)


def test_lockout_state_of_action_without_lockout_raises():
    with pytest.raises(ValueError, match=r"action 'flatten' takes no lockout"):
        lockout_state(Action.FLATTEN)


def test_remedy_types_one_class_per_action():
    assert set(REMEDY_TYPES) == set(Action)
    assert all(cls.action is action for action, cls in REMEDY_TYPES.items())
    assert len(set(REMEDY_TYPES.values())) == len(Action)


def test_cooldown_without_seconds_cannot_be_constructed():
    with pytest.raises(TypeError, match="seconds"):
        Cooldown()  # type: ignore[call-arg]


def test_reduce_to_limit_without_excess_cannot_be_constructed():
    with pytest.raises(TypeError, match="excess"):
        ReduceToLimit(symbol="ES")  # type: ignore[call-arg]


def test_plain_remedy_of_action_with_parameters_names_them():
    assert plain_remedy(Action.LOCK) == Lock()
    with pytest.raises(
        ValueError, match=r"action 'cooldown' needs its parameters: build Cooldown\(seconds\)"
    ):
        plain_remedy(Action.COOLDOWN)


def test_rule_violation_without_remedy_cannot_be_constructed(make_desk):
    rule = make_desk({"cooldown_after_loss": {"minutes": 1}}).rm.engine.rules["cooldown_after_loss"]
    with pytest.raises(TypeError, match="remedy"):
        rule.violation("lost", seconds=60.0)  # type: ignore[call-arg]


def test_violation_record_carries_remedy_parameters_and_plain_action(clock):
    violation = Violation(
        ts=clock.now(), rule="r", message="m", remedy=Cooldown(seconds=120.0), values={"loss": -310.0}
    )
    record = violation.record()
    assert violation.action is Action.COOLDOWN
    assert record.action == "cooldown" and type(record.action) is str
    assert record.values == {"loss": -310.0, "seconds": 120.0}


def test_enforcer_every_action_has_exactly_one_handler(make_desk):
    handlers = make_desk({}).rm.enforcer.handlers
    for action in Action:
        assert callable(handlers[action]), action
    assert len(handlers) == len(Action)
    assert len({handler.__func__ for handler in handlers.values()}) == len(Action)  # type: ignore[attr-defined]


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_enforcer_dispatches_each_action_to_its_steps(make_desk, action):
    # Arrange: an ES position of 2 on a desk without rules
    desk = make_desk({})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    remedy, steps = SAMPLES[action]
    violation = Violation(ts=desk.clock.now(), rule="test", message="by hand", remedy=remedy, symbol="ES")
    # Act
    results = desk.rm.enforcer.enforce(violation)
    # Assert
    assert [e.action for e in desk.of(EnforcementExecuted)] == steps
    assert len(results) == len(steps)
    lockouts = desk.rm.lockouts()
    if action.lockout is None:
        assert lockouts == []
    else:
        [lock] = lockouts
        assert lock.state is action.lockout
        cooldown = isinstance(remedy, Cooldown)
        assert lock.until == (violation.ts + timedelta(seconds=90) if cooldown else None)


def test_sample_table_covers_every_action_with_its_remedy_type():
    assert set(SAMPLES) == set(Action)
    assert all(type(remedy) is REMEDY_TYPES[action] for action, (remedy, _) in SAMPLES.items())
    assert [f.name for f in fields(Cooldown)] == ["seconds"]
