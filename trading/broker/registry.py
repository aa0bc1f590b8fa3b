"""The broker registry: ``desk.yaml`` ``broker.kind`` -> the venue adapter that builds it.

``kind: paper`` (the default) is the desk's own ``PaperBroker``, built by the desk. Every
other kind is a venue adapter living in ``trading/broker/<kind>/`` and named here by one
entry: where its settings model is (a ``VenueSettings`` subclass: its own keys of the
``broker:`` section) and where its factory is. Both are imported only when a desk config
names the kind, so the SDK of a venue nobody uses is never loaded.

A factory is ``build(settings, context) -> VenueBroker``: it reads its credentials from
``context.environ``, refuses what it must (``ConfigError``: missing keys, a live account
without consent) and returns a ``VenueBroker`` over its ``VenueClient`` and ``VenueStream``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from trading.broker.base import BrokerJournal
from trading.broker.venue.audit import AuditSink
from trading.broker.venue.broker import VenueBroker, stock_instrument
from trading.broker.venue.config import VenueSettings
from trading.broker.venue.protocols import OrderHistory, VenueClient, VenueStream
from trading.bus import EventBus
from trading.clock import Clock
from trading.errors import ConfigError
from trading.model import Instrument

__all__ = [
    "BROKER_KINDS",
    "PAPER",
    "BrokerContext",
    "BrokerKind",
    "PaperSettings",
    "broker_kind",
    "settings_models",
]

PAPER = "paper"


class PaperSettings(BaseModel):
    """``broker: {kind: paper}`` (the default): the desk's own simulated account; its
    settings are ``account:`` (starting balance, slippage)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["paper"] = "paper"


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerContext:
    """What a factory gets from the desk besides its settings."""

    bus: EventBus
    clock: Clock
    instruments: tuple[Instrument, ...]
    journal: BrokerJournal | None
    history: OrderHistory | None
    audit: AuditSink | None
    environ: Mapping[str, str]  # where credentials are read from (the process environment)
    allow_live: bool = False  # the process was started with --allow-live
    starting_balance: Decimal = Decimal(1)  # replaced by the venue's cash at the first reconciliation

    def credentials(self, kind: str, what: str, *variables: str) -> tuple[str, ...]:
        """The values of the environment ``variables`` (stripped), in order; ``ConfigError``
        naming the unset ones (never a value) as ``what`` broker ``kind`` needs."""
        values = tuple(self.environ.get(name, "").strip() for name in variables)
        missing = [name for name, value in zip(variables, values, strict=True) if not value]
        if missing:
            raise ConfigError(
                f"broker kind {kind} needs {what} in the environment: {' and '.join(missing)} not set",
                field="broker",
            )
        return values

    def venue_broker(
        self,
        settings: VenueSettings,
        client: VenueClient,
        stream: VenueStream,
        *,
        default_instrument: Callable[[str], Instrument] = stock_instrument,
        account: str = "",
    ) -> VenueBroker:
        """A ``VenueBroker`` of ``settings.kind`` over ``client`` and ``stream``, on this desk's bus,
        clock, instruments, journal, order history and audit."""
        return VenueBroker(
            self.bus,
            self.clock,
            self.instruments,
            client=client,
            stream=stream,
            settings=settings,
            source=settings.kind,
            starting_balance=self.starting_balance,
            journal=self.journal,
            history=self.history,
            audit=self.audit,
            default_instrument=default_instrument,
            account=account,
        )


@dataclass(frozen=True, slots=True)
class BrokerKind:
    name: str
    settings: str  # "module:Class", a VenueSettings subclass
    factory: str  # "module:function", (settings, BrokerContext) -> VenueBroker
    description: str = ""

    def settings_model(self) -> type[VenueSettings]:
        model = _load(self.settings)
        if not (isinstance(model, type) and issubclass(model, VenueSettings)):
            raise TypeError(f"broker kind {self.name!r}: {self.settings} is not a VenueSettings model")
        return model

    def build(self, settings: VenueSettings, context: BrokerContext) -> VenueBroker:
        factory: Callable[[VenueSettings, BrokerContext], VenueBroker] = _load(self.factory)
        return factory(settings, context)


BROKER_KINDS: dict[str, BrokerKind] = {
    "alpaca": BrokerKind(
        "alpaca",
        settings="trading.broker.alpaca.config:AlpacaSettings",
        factory="trading.broker.alpaca.factory:build_alpaca_broker",
        description="Alpaca (alpaca-py): paper or live stock account, REST + trade_updates stream",
    ),
    "projectx": BrokerKind(
        "projectx",
        settings="trading.broker.projectx.config:ProjectXSettings",
        factory="trading.broker.projectx.factory:build_projectx_broker",
        description="ProjectX Gateway (TopstepX, prop firms): a futures account, REST + SignalR user hub",
    ),
}


def broker_kind(name: str) -> BrokerKind:
    """The registered venue kind ``name``; ``ConfigError`` naming the known kinds."""
    kind = BROKER_KINDS.get(name)
    if kind is None:
        known = ", ".join([PAPER, *sorted(BROKER_KINDS)])
        raise ConfigError(f"unknown broker kind {name!r} (known: {known})", field="broker.kind", value=name)
    return kind


def settings_models() -> tuple[type[BaseModel], ...]:
    """The ``broker:`` section's models, one per kind (``kind`` is each one's literal tag)."""
    return (PaperSettings, *(kind.settings_model() for kind in BROKER_KINDS.values()))


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
