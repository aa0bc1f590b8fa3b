"""``build_projectx_broker``: the registry's factory for ``broker: {kind: projectx}``.

At build time (blocking, before the desk's loop runs) it logs in with the user name and API
key from the environment (``PROJECTX_USERNAME``, ``PROJECTX_API_KEY``: handed to the session
only, never logged, never in an error message, the journal, the state file or a snapshot),
finds the account to guard by name or id, and refuses:

* missing credentials, or credentials the gateway refuses;
* an account it cannot find (the message lists the user's accounts by name);
* an account the platform flags live (``simulated: false``, a funded live account rather than
  an evaluation or a simulated one) unless ``allow_live: true`` is in the config *and* the
  desk was started with ``--allow-live``;
* an instrument of the desk's config that is no product of the platform, or whose tick size or
  multiplier differ from its contract's (money would be wrong).

Then the contract of every configured symbol is fixed (pinned, or the front month) and the
``VenueBroker`` is built over ``ProjectXClient`` and ``ProjectXStream``; with ``market_hub`` (the
default) the stream runs a ``MarketFeed`` beside the user hub, whose marks go to the broker's
``on_market_data`` (the configured contracts' quotes from the start, then every contract the
account shows).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from trading.broker.projectx.client import GatewayAccount, ProjectXClient
from trading.broker.projectx.config import API_KEY_VARIABLE, USER_NAME_VARIABLE, ProjectXSettings
from trading.broker.projectx.contracts import ContractMap
from trading.broker.projectx.interest import ContractInterest
from trading.broker.projectx.legs import BracketLegs
from trading.broker.projectx.market import MarketFeed
from trading.broker.projectx.quotes import QuoteTranslator
from trading.broker.projectx.session import GatewaySession
from trading.broker.projectx.stream import ProjectXStream
from trading.broker.projectx.translator import HubTranslator
from trading.broker.registry import BrokerContext
from trading.broker.venue.broker import VenueBroker, stock_instrument
from trading.broker.venue.config import VenueSettings
from trading.broker.venue.errors import VenueError, VenueErrorKind
from trading.errors import ConfigError
from trading.model import Instrument

__all__ = ["build_projectx_broker", "choose_account"]

logger = logging.getLogger(__name__)


def build_projectx_broker(settings: VenueSettings, context: BrokerContext) -> VenueBroker:
    if not isinstance(settings, ProjectXSettings):
        raise TypeError(f"projectx needs ProjectXSettings, got {type(settings).__name__}")
    user, key = context.credentials("projectx", "the credentials", USER_NAME_VARIABLE, API_KEY_VARIABLE)
    session = GatewaySession(
        settings.api_url,
        user,
        key,
        timeout=settings.request_timeout,
        renew_before=settings.token_renew_before,
    )
    try:
        return _build(settings, context, session)
    except BaseException:
        session.close()
        raise


def _build(settings: ProjectXSettings, context: BrokerContext, session: GatewaySession) -> VenueBroker:
    try:
        account = choose_account(session, settings.account)
    except VenueError as exc:
        if exc.kind is VenueErrorKind.AUTH:
            raise ConfigError(f"ProjectX refused the user name and API key: {exc}", field="broker") from None
        raise ConfigError(f"ProjectX gateway at {settings.api_url}: {exc}", field="broker") from None
    if not account.simulated:
        if not settings.allow_live:
            raise ConfigError(
                f"ProjectX account {account.label} is a live account: set allow_live: true in the broker "
                "section and start the desk with --allow-live",
                field="broker.allow_live",
                value=False,
            )
        if not context.allow_live:
            raise ConfigError(
                f"ProjectX account {account.label} is a live account: "
                "the desk must be started with --allow-live",
                field="broker.allow_live",
                value=True,
            )
    contracts = ContractMap(settings.contracts)
    legs = BracketLegs()
    interest = ContractInterest()
    instruments = {i.symbol: i for i in context.instruments}
    client = ProjectXClient(
        session, account, contracts=contracts, legs=legs, instruments=instruments, interest=interest
    )
    for symbol, inst in instruments.items():
        _check_instrument(client, symbol, inst)
    interest.add_all(contracts.known().values())
    market = _market_feed(settings, context, session, contracts, interest)
    stream = ProjectXStream(
        session,
        settings.hub_url,
        HubTranslator(account.id, contracts.symbol, legs, interest),
        market=market,
        silence=settings.hub_silence,
        initial=settings.retry_initial,
        maximum=settings.retry_max,
    )
    broker = context.venue_broker(
        settings, client, stream, default_instrument=_instrument_of(client), account=account.label
    )
    client.reference = broker.last_price
    if market is not None:
        market.on_mark = broker.on_market_data
        market.held = lambda: broker.positions().keys()
        market.on_stale = broker.on_stale_marks
    logger.info("ProjectX: guarding account %s; contracts %s", account.label, contracts.known())
    return broker


def _market_feed(
    settings: ProjectXSettings,
    context: BrokerContext,
    session: GatewaySession,
    contracts: ContractMap,
    interest: ContractInterest,
) -> MarketFeed | None:
    if not settings.market_hub:
        logger.warning("ProjectX: market hub off: open positions are not marked (open P&L unmeasured)")
        return None
    return MarketFeed(
        session,
        settings.market_url,
        QuoteTranslator(contracts.symbol, context.clock, interest),
        interest,
        context.clock,
        stale_after=settings.mark_stale_after,
        silence=settings.hub_silence,
        initial=settings.retry_initial,
        maximum=settings.retry_max,
    )


def choose_account(session: GatewaySession, wanted: str | int) -> GatewayAccount:
    """The user's account named ``wanted`` (or with that id)."""
    listed = session.call("/api/Account/search", {"onlyActiveAccounts": False})["accounts"]
    accounts = [GatewayAccount(raw) for raw in listed]
    for account in accounts:
        if account.name == str(wanted) or (str(wanted).isdigit() and account.id == int(wanted)):
            return account
    names = ", ".join(a.name for a in accounts) or "none"
    raise ConfigError(
        f"ProjectX has no account {wanted!r} for this user (accounts: {names})", field="broker.account"
    )


def _check_instrument(client: ProjectXClient, symbol: str, configured: Instrument) -> None:
    try:
        client.contract_for(symbol)
    except VenueError as exc:
        raise ConfigError(f"instrument {symbol}: {exc}", field="instruments", value=symbol) from None
    described = client.contracts.instrument(symbol)
    assert described is not None
    same_tick = abs(described.tick_size - configured.tick_size) < 1e-12
    same_multiplier = abs(described.multiplier - configured.multiplier) < 1e-9
    if not (same_tick and same_multiplier):
        raise ConfigError(
            f"instrument {symbol}: tick_size {configured.tick_size:g} and multiplier "
            f"{configured.multiplier:g} "
            f"differ from the ProjectX contract's ({described.tick_size:g}, {described.multiplier:g})",
            field="instruments",
            value=symbol,
        )


def _instrument_of(client: ProjectXClient) -> Callable[[str], Instrument]:
    def instrument(symbol: str) -> Instrument:
        try:
            return client.instrument(symbol)
        except VenueError as exc:
            logger.warning("ProjectX: no contract for %s (%s); booked with multiplier 1", symbol, exc)
            return stock_instrument(symbol)

    return instrument
