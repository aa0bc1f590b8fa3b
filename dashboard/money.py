"""Money as the pages show it: currency sign, thousands, cents, a sign on P&L, red or green.

Pure: no ``st.*`` calls. The account currency is US dollars (the paper account's).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Tone", "coloured", "md", "money", "pnl", "pnl_tone", "quantity"]

CURRENCY = "$"


class Tone(StrEnum):
    """How a figure reads at a glance; each is a colour on the page."""

    GOOD = "green"
    BAD = "red"
    WARN = "orange"
    NEUTRAL = "gray"
    INFO = "blue"


def money(value: float | None, *, sign: bool = False, cents: bool = True) -> str:
    """1234.5 -> '$1,234.50'; -87.25 -> '-$87.25'; with ``sign`` 212.75 -> '+$212.75'; None -> '-'."""
    if value is None:
        return "-"
    amount = round(float(value), 2 if cents else 0)
    if amount == 0:
        amount = 0.0  # no "-$0.00"
    text = f"{CURRENCY}{abs(amount):,.2f}" if cents else f"{CURRENCY}{abs(amount):,.0f}"
    if amount < 0:
        return f"-{text}"
    return f"+{text}" if sign and amount > 0 else text


def pnl(value: float | None) -> str:
    """A profit or loss: always signed ('+$212.75', '-$87.25', '$0.00')."""
    return money(value, sign=True)


def pnl_tone(value: float | None) -> Tone:
    """Green for a gain, red for a loss, grey for none (at the cent)."""
    if value is None or round(value, 2) == 0:
        return Tone.NEUTRAL
    return Tone.GOOD if value > 0 else Tone.BAD


def quantity(value: float) -> str:
    """A contract count or share quantity: '2', '0.5', '600'."""
    return f"{value:,.10g}" if abs(value) < 1e15 else f"{value:,.0f}"


def md(text: str) -> str:
    """``text`` safe in Streamlit markdown: a ``$`` pair would otherwise start LaTeX."""
    return text.replace("$", "\\$")


def coloured(text: str, tone: Tone) -> str:
    """Markdown for ``text`` in ``tone``'s colour (plain for a neutral tone), ``$`` escaped."""
    safe = md(text)
    return safe if tone is Tone.NEUTRAL else f":{tone.value}[{safe}]"
