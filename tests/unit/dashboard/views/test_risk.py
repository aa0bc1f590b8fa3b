"""views/risk.py under AppTest."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dashboard import charts
from trading.snapshot import RuleView

from ..conftest import DeskState, build_snapshot, chart_figure, frame, run_page, write_snapshot


def _rules(at):  # -> DataFrame
    return frame(at, "rule", "used_pct")


def test_risk_rules_chart_shows_used_share_of_each_limit(desk_state_dir: DeskState) -> None:
    at = run_page("risk")

    assert not at.exception
    fig = chart_figure(at.get("plotly_chart")[0])
    assert fig["data"][0]["x"] == [41.0, 80.0, 105.0, 60.0]
    rules = _rules(at)
    assert list(rules["rule"]) == [r.rule for r in desk_state_dir.snapshot.rules]


def test_risk_lockouts_first_with_countdowns_soonest_first(desk_state_dir: DeskState) -> None:
    at = run_page("risk")

    assert at.subheader[0].value == "Lockouts and cooldowns (2)"
    lockouts = frame(at, "scope", "remaining")
    assert list(lockouts["scope"]) == ["strategy:meanrev", "account"]
    assert list(lockouts["remaining"]) == ["ends in 50m 00s", "daily reset in 3h 00m 00s"]
    assert lockouts["ends"].iloc[0].endswith((" CST", " CDT")) and lockouts["ends UTC"].iloc[0].endswith(
        " UTC"
    )


def test_risk_countdowns_use_the_desk_clock_not_the_wall_clock(desk_state_dir: DeskState) -> None:
    # Arrange: a simulated desk 45 minutes ahead of the wall clock (the demo runs 10x)
    ahead = datetime.now(UTC) + timedelta(minutes=45)
    write_snapshot(desk_state_dir.state_dir, replace(build_snapshot(ahead), clock_speed=10.0))

    at = run_page("risk")

    lockouts = frame(at, "scope", "remaining")
    assert list(lockouts["remaining"]) == ["ends in 50m 00s", "daily reset in 3h 00m 00s"]
    assert any(c.value.endswith("(in 3h 00m 00s)") for c in at.caption)


def test_risk_shadow_and_profit_rules_neutral_never_breached(desk_state_dir: DeskState) -> None:
    # Arrange: a shadow profit target latched "breached" at value 0, and an enforced breach
    snap = desk_state_dir.snapshot
    profit = RuleView(
        rule="daily_realized_profit_target",
        kind="daily_realized_profit_target",
        enabled=True,
        mode="shadow",
        action="lock",
        value=0.0,
        limit=3000.0,
        used=0.0,
        status="breached",
        unit="$",
    )
    write_snapshot(desk_state_dir.state_dir, replace(snap, rules=(*snap.rules, profit)))

    at = run_page("risk")

    rules = _rules(at).set_index("rule")
    assert rules.loc["daily_realized_profit_target", "status"] == "would act (shadow)"
    assert rules.loc["trades_per_day", "status"] == "limit reached"
    assert rules.loc["drawdown_shadow", "status"] == "ok (shadow)"
    colors = chart_figure(at.get("plotly_chart")[0])["data"][0]["marker"]["color"]
    assert colors == [charts.GREEN, charts.AMBER, charts.RED, charts.GREY, charts.GREY]


def test_risk_active_cooldown_is_a_countdown_not_a_short_bar(desk_state_dir: DeskState) -> None:
    snap = desk_state_dir.snapshot
    cooldown = RuleView(
        rule="cooldown_after_loss",
        kind="cooldown_after_loss",
        enabled=True,
        mode="enforce",
        action="cooldown",
        value=10.5,
        limit=120.0,
        used=10.5 / 120.0,
        status="breached",
        unit="s",
        detail="cooldown 10s left",
    )
    write_snapshot(desk_state_dir.state_dir, replace(snap, rules=(*snap.rules, cooldown)))

    at = run_page("risk")

    rules = _rules(at).set_index("rule")
    assert rules.loc["cooldown_after_loss", "status"] == "cooldown 0m 10s left"
    assert rules.loc["cooldown_after_loss", "value"] == 10.0  # seconds, rounded
    bars = chart_figure(at.get("plotly_chart")[0])["data"][0]["y"]
    assert "cooldown_after_loss" not in bars


def test_risk_rules_rounded_and_kind_only_when_it_differs(desk_state_dir: DeskState) -> None:
    snap = desk_state_dir.snapshot
    same = tuple(replace(r, kind=r.rule, value=29.2732) for r in snap.rules)
    write_snapshot(desk_state_dir.state_dir, replace(snap, rules=same))

    at = run_page("risk")

    rules = _rules(at)
    assert "kind" not in rules.columns
    assert set(rules["value"]) == {29.27}


def test_risk_shadow_hits_and_violations_log(desk_state_dir: DeskState) -> None:
    at = run_page("risk")

    shadow = frame(at, "would")
    assert list(shadow["rule"]) == ["drawdown_shadow"]
    violations = frame(at, "severity", "values")
    assert list(violations["message"]) == ["violation 2", "violation 1", "violation 0"]
    assert list(violations["values"]) == ["value: 23", "value: 22", "value: 21"]


def test_risk_rule_that_failed_to_measure_is_an_error_row(desk_state_dir: DeskState) -> None:
    # Arrange: the published snapshot has a rule whose measure() raised
    snap = desk_state_dir.snapshot
    error = RuleView(
        rule="max_contracts",
        kind="max_contracts",
        enabled=True,
        mode="enforce",
        action="reduce_to_limit",
        value=0.0,
        limit=0.0,
        used=0.0,
        status="error",
        detail="measure failed: ZeroDivisionError: division by zero",
    )
    write_snapshot(desk_state_dir.state_dir, replace(snap, rules=(*snap.rules, error)))

    # Act
    at = run_page("risk")

    # Assert: listed as an error row with its message, announced, and kept out of the usage chart
    assert not at.exception
    rules = _rules(at).set_index("rule")
    assert rules.loc["max_contracts", "status"] == "error"
    assert rules.loc["max_contracts", "detail"] == "measure failed: ZeroDivisionError: division by zero"
    assert [e.value for e in at.error] == [
        "rule error: max_contracts: measure failed: ZeroDivisionError: division by zero"
    ]
    fig = chart_figure(at.get("plotly_chart")[0])
    assert fig["data"][0]["x"] == [41.0, 80.0, 105.0, 60.0]


def test_risk_refused_risk_file_edit_is_shown(desk_state_dir: DeskState) -> None:
    status = "risk config change refused by the tamper lock: it loosens rules.daily_realized_loss.limit 2500 -> 9999"
    write_snapshot(desk_state_dir.state_dir, replace(desk_state_dir.snapshot, config_status=status))

    at = run_page("risk")

    assert not at.exception
    assert [w.value for w in at.warning] == [status]


def test_risk_no_refusal_no_warning(desk_state_dir: DeskState) -> None:
    at = run_page("risk")

    assert not at.warning


def test_risk_consistency_figure_shown_when_the_desk_has_the_rule(desk_state_dir: DeskState) -> None:
    snap = desk_state_dir.snapshot
    assert snap.headroom is not None
    room = replace(snap.headroom, max_compliant_profit_today=1285.71)
    write_snapshot(desk_state_dir.state_dir, replace(snap, headroom=room))

    at = run_page("risk")

    assert not at.exception
    [metric] = at.metric
    assert metric.label == "Largest profit still compliant today (consistency)"
    assert metric.value == "$1,285.71"


def test_risk_no_consistency_rule_no_figure(desk_state_dir: DeskState) -> None:
    at = run_page("risk")

    assert not at.metric
