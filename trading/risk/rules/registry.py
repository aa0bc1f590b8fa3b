"""The rule registry: rule kind (as written in risk.yaml) -> Rule class."""

from __future__ import annotations

from trading.risk.rules.base import Rule, RuleConfig, RuleContext
from trading.risk.rules.cooldown_after_loss import CooldownAfterLoss
from trading.risk.rules.daily_realized_loss import DailyRealizedLoss
from trading.risk.rules.daily_realized_profit_target import DailyRealizedProfitTarget
from trading.risk.rules.max_contracts import MaxContracts
from trading.risk.rules.max_contracts_per_instrument import MaxContractsPerInstrument
from trading.risk.rules.max_order_rate import MaxOrderRate
from trading.risk.rules.no_stop_loss_grace import NoStopLossGrace
from trading.risk.rules.risk_per_trade import RiskPerTrade
from trading.risk.rules.session_hours import SessionHours
from trading.risk.rules.symbol_blocks import SymbolBlocks
from trading.risk.rules.symbol_groups import SymbolGroups
from trading.risk.rules.trade_frequency_limit import TradeFrequencyLimit
from trading.risk.rules.trailing_drawdown import TrailingDrawdown
from trading.risk.rules.unrealized_loss import UnrealizedLoss
from trading.risk.rules.unrealized_profit import UnrealizedProfit

__all__ = ["RULES", "build_rule", "register"]

RULES: dict[str, type[Rule]] = {
    cls.kind: cls
    for cls in (
        DailyRealizedLoss,
        DailyRealizedProfitTarget,
        UnrealizedLoss,
        UnrealizedProfit,
        TrailingDrawdown,
        MaxContracts,
        MaxContractsPerInstrument,
        TradeFrequencyLimit,
        CooldownAfterLoss,
        NoStopLossGrace,
        SessionHours,
        SymbolBlocks,
        SymbolGroups,
        MaxOrderRate,
        RiskPerTrade,
    )
}


def register(cls: type[Rule]) -> type[Rule]:
    """Add a rule class under ``cls.kind`` (usable as a decorator)."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__} has no kind")
    RULES[cls.kind] = cls
    return cls


def build_rule(name: str, config: RuleConfig, ctx: RuleContext) -> Rule:
    return RULES[config.kind](name, config, ctx)
