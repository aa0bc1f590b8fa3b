"""pages/risk.py under AppTest."""

from __future__ import annotations

from dataclasses import replace

from trading.snapshot import RuleView

from ..conftest import DeskState, chart_figure, run_page, write_snapshot


def test_risk_rules_chart_shows_used_share_of_each_limit(desk_state_dir: DeskState) -> None:
    at = run_page("risk")

    assert not at.exception
    fig = chart_figure(at.get("plotly_chart")[0])
    assert fig["data"][0]["x"] == [41.0, 80.0, 105.0, 60.0]
    rules = at.dataframe[0].value
    assert list(rules["rule"]) == [r.rule for r in desk_state_dir.snapshot.rules]


def test_risk_lockouts_have_countdowns(desk_state_dir: DeskState) -> None:
    at = run_page("risk")

    lockouts = at.dataframe[1].value
    remaining = list(lockouts["remaining"])
    assert remaining[0].startswith("ends in 4") or remaining[0].startswith("ends in 5")  # ~50 min left
    assert remaining[1].startswith("daily reset in 2h") or remaining[1].startswith("daily reset in 3h")


def test_risk_shadow_hits_and_violations_log(desk_state_dir: DeskState) -> None:
    at = run_page("risk")

    shadow = at.dataframe[2].value
    assert list(shadow["rule"]) == ["drawdown_shadow"]
    violations = at.dataframe[3].value
    assert list(violations["message"]) == ["violation 2", "violation 1", "violation 0"]


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
    rules = at.dataframe[0].value.set_index("rule")
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
