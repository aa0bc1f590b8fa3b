"""Money: exact conversion of numbers and the booking quantum."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trading.model import MONEY_QUANTUM, quantize_money, to_money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4995.25, Decimal("4995.25")),
        (0.1, Decimal("0.1")),
        (0.1 + 0.2, Decimal("0.30000000000000004")),
        (100_000, Decimal(100_000)),
        ("-999.99", Decimal("-999.99")),
        (Decimal("1.5"), Decimal("1.5")),
    ],
)
def test_to_money_number_is_the_decimal_a_person_would_write(value, expected) -> None:
    assert to_money(value) == expected
    assert str(to_money(value)) == str(expected)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (True, TypeError, "got the bool True"),
        (float("nan"), ValueError, "must be finite"),
        (float("inf"), ValueError, "must be finite"),
        (Decimal("-Infinity"), ValueError, "must be finite"),
        ("lots", ValueError, "decimal numeral, got 'lots'"),
        (None, TypeError, "got NoneType None"),
    ],
)
def test_to_money_bad_value_raises_naming_it(value, error, message) -> None:
    with pytest.raises(error, match=message):
        to_money(value)


def test_quantize_money_rounds_half_to_even_on_the_quantum() -> None:
    assert str(MONEY_QUANTUM) == "1E-8"
    assert quantize_money(Decimal("0.000000005")) == Decimal("0E-8")
    assert quantize_money(Decimal("0.000000015")) == Decimal("2E-8")
    assert quantize_money(Decimal(1) / Decimal(3)) == Decimal("0.33333333")


def test_three_round_trips_netting_minus_one_thousand_sum_to_it_exactly() -> None:
    legs = [(298.78, 295.87, 100), (151.67, 148.11, 100), (254.21, 250.68, 100)]
    as_floats = sum((exit_ - entry) * qty for entry, exit_, qty in legs)
    as_money = sum(
        (quantize_money((to_money(exit_) - to_money(entry)) * qty) for entry, exit_, qty in legs), Decimal(0)
    )
    assert as_floats > -1000.0  # -999.9999999999943: a limit of 1,000 would not fire
    assert as_money == Decimal(-1000)
