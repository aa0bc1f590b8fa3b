"""pages/risk.py under AppTest."""

from __future__ import annotations

from ..conftest import DeskState, chart_figure, run_page


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
