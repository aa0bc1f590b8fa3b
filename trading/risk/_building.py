"""Building rules and the default notifier from a validated ``RiskConfig``."""

from __future__ import annotations

from trading.model import Severity, TradingState
from trading.risk.config import RiskConfig
from trading.risk.notifier import CompositeNotifier, LogNotifier, Notifier, WebhookNotifier
from trading.risk.rules.base import Rule, RuleContext
from trading.risk.rules.registry import RULES, build_rule

__all__ = ["build_rules", "default_notifier", "is_loss_rule", "rule_state"]


def build_rules(cfg: RiskConfig, ctx: RuleContext, keep: dict[str, Rule]) -> list[Rule]:
    """One rule per configured instance; an instance in ``keep`` with equal settings is reused."""
    rules: list[Rule] = []
    for name, rule_cfg in cfg.rules.items():
        old = keep.get(name)
        rules.append(old if old is not None and old.config == rule_cfg else build_rule(name, rule_cfg, ctx))
    return rules


def rule_state(cfg: RiskConfig, rule: str) -> TradingState:
    """The state a persisted lockout of ``rule`` imposes; HALTED when the rule is unknown or its
    action takes no lockout (the safe side)."""
    found = cfg.rules.get(rule)
    if found is None:
        return TradingState.HALTED
    return found.action.lockout or TradingState.HALTED


def is_loss_rule(cfg: RiskConfig, rule: str) -> bool:
    """True when the rule instance ``rule`` of ``cfg`` is of a loss kind (its class says
    ``loss_lockout = True``): the manual unlock policy decides over its lockouts."""
    found = cfg.rules.get(rule)
    return found is not None and RULES[found.kind].loss_lockout


def default_notifier(cfg: RiskConfig, account: str) -> Notifier:
    """The log, plus a webhook when ``notifier.webhook_url`` is set."""
    log = LogNotifier()
    url = cfg.notifier.webhook_url
    if url is None:
        return log
    hook = WebhookNotifier(
        url,
        timeout_s=cfg.notifier.timeout_s,
        min_severity=Severity(cfg.notifier.min_severity),
        account=account,
    )
    return CompositeNotifier([log, hook])
