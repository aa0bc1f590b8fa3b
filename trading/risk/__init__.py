"""The risk engine: rules from validated YAML, trading states, pre-trade checks, enforcement, trackers."""

from trading.risk.actions import REMEDY_TYPES, Action, Remedy
from trading.risk.config import (
    ConfigWatcher,
    NotifierConfig,
    ResetConfig,
    RiskConfig,
    load_risk_config,
    parse_risk_config,
)
from trading.risk.enforcement import EnforcementStatistics, Enforcer
from trading.risk.engine import STATE_TABLE, EngineStatistics, RiskEngine
from trading.risk.headroom import ContractBound, Headroom, SymbolHeadroom
from trading.risk.lockouts import LockoutManager, LockoutStatistics
from trading.risk.manager import FillSource, RiskManager
from trading.risk.notifier import CompositeNotifier, LogNotifier, Notifier, WebhookNotifier, WebhookStatistics
from trading.risk.pnl import DayPnL, PnLStatistics, PnLTracker, SymbolPnL
from trading.risk.recorder import RiskRecorder, RiskStore
from trading.risk.reset import ResetScheduler, ResetStatistics
from trading.risk.rules import RULES, Rule, RuleConfig, RuleContext
from trading.risk.sweep import RiskSweep
from trading.risk.timers import TimerManager, TimerStatistics
from trading.risk.types import LimitWarning, Lockout, RiskStatistics, RuleStatus, Violation, ViolationRecord
from trading.risk.unlock_policy import MANUAL_UNLOCK, MIN_REASON, ManualUnlock, UnlockOutcome

__all__ = [
    "MANUAL_UNLOCK",
    "MIN_REASON",
    "REMEDY_TYPES",
    "RULES",
    "STATE_TABLE",
    "Action",
    "CompositeNotifier",
    "ConfigWatcher",
    "ContractBound",
    "DayPnL",
    "EnforcementStatistics",
    "Enforcer",
    "EngineStatistics",
    "FillSource",
    "Headroom",
    "LimitWarning",
    "Lockout",
    "LockoutManager",
    "LockoutStatistics",
    "LogNotifier",
    "ManualUnlock",
    "Notifier",
    "NotifierConfig",
    "PnLStatistics",
    "PnLTracker",
    "Remedy",
    "ResetConfig",
    "ResetScheduler",
    "ResetStatistics",
    "RiskConfig",
    "RiskEngine",
    "RiskManager",
    "RiskRecorder",
    "RiskStatistics",
    "RiskStore",
    "RiskSweep",
    "Rule",
    "RuleConfig",
    "RuleContext",
    "RuleStatus",
    "SymbolHeadroom",
    "SymbolPnL",
    "TimerManager",
    "TimerStatistics",
    "UnlockOutcome",
    "Violation",
    "ViolationRecord",
    "WebhookNotifier",
    "WebhookStatistics",
    "load_risk_config",
    "parse_risk_config",
]
