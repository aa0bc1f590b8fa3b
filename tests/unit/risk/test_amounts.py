"""Exact money in risk: strict money limits held as Decimal, and the guard band for float marks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trading.errors import ConfigError
from trading.risk import parse_risk_config
from trading.risk.amounts import at_least, at_most, band, show_amount


@pytest.mark.parametrize(
    ("written", "held"),
    [
        (1000, Decimal("1000")),
        (1000.10, Decimal("1000.1")),
        (0.1, Decimal("0.1")),
        (2500.0, Decimal("2500.0")),
    ],
)
def test_amount_limit_is_the_decimal_that_was_written(written, held):
    cfg = parse_risk_config({"rules": {"daily_realized_loss": {"limit": written}}})
    assert cfg.rules["daily_realized_loss"].limit == held
    assert type(cfg.rules["daily_realized_loss"].limit) is Decimal


@pytest.mark.parametrize(
    ("value", "allowed"),
    [(True, "a number"), ("1000", "a number"), (float("inf"), "a finite number"), (-5, "a number > 0.0")],
)
def test_amount_limit_stays_strict(value, allowed):
    with pytest.raises(ConfigError, match=rf"field 'limit': bad value .*: allowed {allowed}$"):
        parse_risk_config({"rules": {"daily_realized_loss": {"limit": value}}}, "risk.yaml")


def test_amount_shown_as_written():
    assert [show_amount(Decimal(v)) for v in ("2500.0", "1000.10", "1E+7", "0.00000001")] == [
        "2500",
        "1000.1",
        "10000000",
        "0.00000001",
    ]


def test_guard_band_float_decides_away_from_the_bound_exact_inside():
    bound = Decimal("1000")
    limit, width = float(bound), band(bound)
    calls: list[int] = []

    def exact(value: str):
        def compute() -> Decimal:
            calls.append(1)
            return Decimal(value)

        return compute

    assert width == pytest.approx(1e-3)
    assert at_least(1000.5, limit, width, exact("0"), bound)  # clearly above: the float decides
    assert not at_least(999.5, limit, width, exact("99999"), bound)  # clearly below
    assert calls == []
    assert at_least(999.9999999999999, limit, width, exact("1000.00"), bound)  # in the band: exact
    assert not at_least(1000.0000000000001, limit, width, exact("999.99999"), bound)
    assert at_most(1000.0000000000002, limit, width, exact("1000"), bound)
    assert not at_most(999.9999999999999, limit, width, exact("1000.00000001"), bound)
    assert len(calls) == 4
