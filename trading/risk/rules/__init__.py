"""Risk rules: one file a rule, registered by kind in ``RULES``."""

from trading.risk.rules.base import Measure, Rule, RuleConfig, RuleContext
from trading.risk.rules.consistency import Consistency, ConsistencyConfig
from trading.risk.rules.cooldown_after_loss import CooldownAfterLoss, CooldownAfterLossConfig
from trading.risk.rules.daily_loss import DailyLoss, DailyLossConfig
from trading.risk.rules.daily_realized_loss import DailyRealizedLoss, DailyRealizedLossConfig
from trading.risk.rules.daily_realized_profit_target import (
    DailyRealizedProfitTarget,
    DailyRealizedProfitTargetConfig,
)
from trading.risk.rules.daily_trailing_loss import DailyTrailingLoss, DailyTrailingLossConfig
from trading.risk.rules.loss_room import DailyLossRoom
from trading.risk.rules.max_contracts import MaxContracts, MaxContractsConfig
from trading.risk.rules.max_contracts_per_instrument import (
    MaxContractsPerInstrument,
    MaxContractsPerInstrumentConfig,
)
from trading.risk.rules.max_order_rate import MaxOrderRate, MaxOrderRateConfig
from trading.risk.rules.no_stop_loss_grace import NoStopLossGrace, NoStopLossGraceConfig
from trading.risk.rules.registry import RULES, build_rule, register
from trading.risk.rules.risk_per_trade import RiskPerTrade, RiskPerTradeConfig
from trading.risk.rules.scaling_plan import ScalingPlan, ScalingPlanConfig, ScalingTier
from trading.risk.rules.session_hours import SessionHours, SessionHoursConfig
from trading.risk.rules.symbol_blocks import SymbolBlocks, SymbolBlocksConfig
from trading.risk.rules.symbol_groups import SymbolGroup, SymbolGroups, SymbolGroupsConfig
from trading.risk.rules.trade_frequency_limit import TradeFrequencyLimit, TradeFrequencyLimitConfig
from trading.risk.rules.trailing_drawdown import TrailingDrawdown, TrailingDrawdownConfig
from trading.risk.rules.unrealized_loss import UnrealizedLoss, UnrealizedLossConfig
from trading.risk.rules.unrealized_profit import UnrealizedProfit, UnrealizedProfitConfig
from trading.risk.rules.weekly_loss_limit import WeeklyLossLimit, WeeklyLossLimitConfig
from trading.risk.rules.weekly_profit_target import WeeklyProfitTarget, WeeklyProfitTargetConfig
from trading.risk.rules.weekly_trade_limit import WeeklyTradeLimit, WeeklyTradeLimitConfig

__all__ = [
    "RULES",
    "Consistency",
    "ConsistencyConfig",
    "CooldownAfterLoss",
    "CooldownAfterLossConfig",
    "DailyLoss",
    "DailyLossConfig",
    "DailyLossRoom",
    "DailyRealizedLoss",
    "DailyRealizedLossConfig",
    "DailyRealizedProfitTarget",
    "DailyRealizedProfitTargetConfig",
    "DailyTrailingLoss",
    "DailyTrailingLossConfig",
    "MaxContracts",
    "MaxContractsConfig",
    "MaxContractsPerInstrument",
    "MaxContractsPerInstrumentConfig",
    "MaxOrderRate",
    "MaxOrderRateConfig",
    "Measure",
    "NoStopLossGrace",
    "NoStopLossGraceConfig",
    "RiskPerTrade",
    "RiskPerTradeConfig",
    "Rule",
    "RuleConfig",
    "RuleContext",
    "ScalingPlan",
    "ScalingPlanConfig",
    "ScalingTier",
    "SessionHours",
    "SessionHoursConfig",
    "SymbolBlocks",
    "SymbolBlocksConfig",
    "SymbolGroup",
    "SymbolGroups",
    "SymbolGroupsConfig",
    "TradeFrequencyLimit",
    "TradeFrequencyLimitConfig",
    "TrailingDrawdown",
    "TrailingDrawdownConfig",
    "UnrealizedLoss",
    "UnrealizedLossConfig",
    "UnrealizedProfit",
    "UnrealizedProfitConfig",
    "WeeklyLossLimit",
    "WeeklyLossLimitConfig",
    "WeeklyProfitTarget",
    "WeeklyProfitTargetConfig",
    "WeeklyTradeLimit",
    "WeeklyTradeLimitConfig",
    "build_rule",
    "register",
]
