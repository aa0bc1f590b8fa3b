"""The futures contracts the fake lists, and our symbols' mapping to ProjectX contract ids.

A contract id is ``CON.F.US.<root>.<month code><yy>`` (``CON.F.US.EP.Z25`` is the December 2025
E-mini S&P 500); its ``symbolId`` is ``F.US.<root>`` and its ``name`` ``<root><month><yy>``
(gateway docs, "Placing your first order": ``CON.F.US.ENQ.H25`` / ``ENQH25``; topstep-sdk 0.1.4
``ContractModel``). The exchange roots differ from the symbols traders use: ES is ``EP``, NQ is
``ENQ``; MES and MNQ keep theirs. Tick sizes and values are CME's; the per-side fees are
illustrative round numbers of the size prop firms charge, not a quote of any firm's table.

The fake lists every product for each month in ``months``; the first month is the front one
(``activeContract: true``), the others are listed but not active.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["ContractDirectory", "ContractSpec", "Product"]

MONTH_NAMES = {
    "F": "January",
    "G": "February",
    "H": "March",
    "J": "April",
    "K": "May",
    "M": "June",
    "N": "July",
    "Q": "August",
    "U": "September",
    "V": "October",
    "X": "November",
    "Z": "December",
}


@dataclass(frozen=True, slots=True)
class Product:
    symbol: str  # ours: ES, MES, NQ, MNQ
    root: str  # the platform's: EP, MES, ENQ, MNQ
    description: str
    tick_size: Decimal
    tick_value: Decimal
    fee_per_side: Decimal  # per contract, charged on every fill


PRODUCTS = (
    Product("ES", "EP", "E-Mini S&P 500", Decimal("0.25"), Decimal("12.50"), Decimal("1.40")),
    Product("MES", "MES", "Micro E-mini S&P 500", Decimal("0.25"), Decimal("1.25"), Decimal("0.37")),
    Product("NQ", "ENQ", "E-Mini NASDAQ-100", Decimal("0.25"), Decimal("5.00"), Decimal("1.40")),
    Product("MNQ", "MNQ", "Micro E-mini Nasdaq-100", Decimal("0.25"), Decimal("0.50"), Decimal("0.37")),
)


@dataclass(frozen=True, slots=True)
class ContractSpec:
    id: str
    name: str
    description: str
    symbol_id: str
    symbol: str
    tick_size: Decimal
    tick_value: Decimal
    fee_per_side: Decimal
    active: bool

    @property
    def point_value(self) -> Decimal:
        """Dollars per contract for a move of 1.0 in price (tick value / tick size)."""
        return self.tick_value / self.tick_size

    def on_tick(self, price: Decimal) -> bool:
        return price % self.tick_size == 0


def _month_label(month: str) -> str:
    code, year = month[0], month[1:]
    if code not in MONTH_NAMES or len(year) != 2 or not year.isdigit():
        raise ValueError(f"a contract month is a month code and two digits, like 'Z25'; got {month!r}")
    return f"{MONTH_NAMES[code]} 20{year}"


class ContractDirectory:
    def __init__(self, months: tuple[str, ...] = ("Z25", "H26")) -> None:
        if not months:
            raise ValueError("at least one contract month is needed")
        self._contracts: dict[str, ContractSpec] = {}
        self._front: dict[str, ContractSpec] = {}
        for index, month in enumerate(months):
            label = _month_label(month)
            for product in PRODUCTS:
                spec = ContractSpec(
                    id=f"CON.F.US.{product.root}.{month}",
                    name=f"{product.root}{month}",
                    description=f"{product.description}: {label}",
                    symbol_id=f"F.US.{product.root}",
                    symbol=product.symbol,
                    tick_size=product.tick_size,
                    tick_value=product.tick_value,
                    fee_per_side=product.fee_per_side,
                    active=index == 0,
                )
                self._contracts[spec.id] = spec
                if index == 0:
                    self._front[product.symbol] = spec

    def __repr__(self) -> str:
        return f"ContractDirectory({sorted(self._front[s].id for s in self._front)})"

    def get(self, contract_id: str) -> ContractSpec | None:
        return self._contracts.get(contract_id)

    def front(self, symbol: str) -> ContractSpec:
        try:
            return self._front[symbol.upper()]
        except KeyError:
            raise KeyError(f"no product {symbol!r}; the fake lists {sorted(self._front)}") from None

    def resolve(self, symbol_or_id: str) -> ContractSpec:
        """A contract id as is, or our symbol (``ES``) as its front-month contract."""
        spec = self._contracts.get(symbol_or_id)
        return spec if spec is not None else self.front(symbol_or_id)

    def search(self, text: str) -> list[ContractSpec]:
        """Case-insensitive substring match on symbol, name, description and id; active first."""
        needle = text.strip().upper()
        found = [
            spec
            for spec in self._contracts.values()
            if needle in spec.symbol
            or needle in spec.name
            or needle in spec.description.upper()
            or needle in spec.id
        ]
        return sorted(found, key=lambda spec: not spec.active)
