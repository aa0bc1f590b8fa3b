"""The risk engine: rules from validated YAML, trading states, pre-trade checks, enforcement, trackers."""

from trading.risk.config import (
    AccountConfig,
    NotifierConfig,
    ResetConfig,
    RiskConfig,
    load_risk_config,
    parse_risk_config,
)
from trading.risk.enforcement import ACTIONS, EnforcementStatistics, Enforcer
from trading.risk.engine import STATE_TABLE, RiskEngine
from trading.risk.lockouts import LockoutManager
from trading.risk.manager import RiskManager
from trading.risk.notifier import CompositeNotifier, LogNotifier, Notifier, WebhookNotifier, WebhookStatistics
from trading.risk.pnl import DayPnL, PnLTracker, SymbolPnL
from trading.risk.reset import ResetScheduler
from trading.risk.rules import RULES, Rule, RuleConfig, RuleContext
from trading.risk.timers import TimerManager
from trading.risk.types import LimitWarning, Lockout, RiskStatistics, RuleStatus, Violation

__all__ = [
    "ACTIONS",
    "RULES",
    "STATE_TABLE",
    "AccountConfig",
    "CompositeNotifier",
    "DayPnL",
    "EnforcementStatistics",
    "Enforcer",
    "LimitWarning",
    "Lockout",
    "LockoutManager",
    "LogNotifier",
    "Notifier",
    "NotifierConfig",
    "PnLTracker",
    "ResetConfig",
    "ResetScheduler",
    "RiskConfig",
    "RiskEngine",
    "RiskManager",
    "RiskStatistics",
    "Rule",
    "RuleConfig",
    "RuleContext",
    "RuleStatus",
    "SymbolPnL",
    "TimerManager",
    "Violation",
    "WebhookNotifier",
    "WebhookStatistics",
    "load_risk_config",
    "parse_risk_config",
]
