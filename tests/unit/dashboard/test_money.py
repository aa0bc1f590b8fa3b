"""money.py: currency sign, sign on P&L, red and green."""

from __future__ import annotations

from dashboard.money import Tone, coloured, money, pnl, pnl_tone


def test_money_sign_and_cents() -> None:
    assert (money(1234.5), money(-87.25), money(-0.001), money(None)) == (
        "$1,234.50",
        "-$87.25",
        "$0.00",
        "-",
    )
    assert (pnl(212.75), pnl(-3.0), pnl(0.0)) == ("+$212.75", "-$3.00", "$0.00")


def test_pnl_tone_green_gain_red_loss_grey_none() -> None:
    assert (pnl_tone(0.01), pnl_tone(-0.01), pnl_tone(0.004)) == (Tone.GOOD, Tone.BAD, Tone.NEUTRAL)


def test_coloured_escapes_dollars_for_markdown() -> None:
    assert coloured("+$5.00", Tone.GOOD) == ":green[+\\$5.00]" and coloured("$1", Tone.NEUTRAL) == "\\$1"
