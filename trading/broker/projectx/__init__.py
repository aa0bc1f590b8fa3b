"""ProjectX Gateway (TopstepX and other prop firms) behind the ``Broker`` protocol:
``broker: {kind: projectx, account: <name or id>}``.

Only what is ProjectX's lives here: ``GatewaySession`` (REST over aiohttp: login, token
renewal), ``ProjectXClient`` (the ``VenueClient``: orders, positions, account, contracts,
trades), ``ProjectXStream`` (the ``VenueStream``: the SignalR user hub over pysignalr), beside
it ``MarketFeed`` (the market hub: quotes as marks, ``QuoteTranslator``, ``ContractInterest``),
both kept connected by a ``HubSupervisor`` each (our supervisor and silence watchdog),
``HubTranslator`` and ``wire`` (the gateway's JSON as venue facts), ``ContractMap`` (our symbols
and contract ids), ``BracketLegs`` (the exits the platform makes for a bracket),
``ProjectXSettings`` and the registry's factory. Books, events,
journal, reconciliation, guard, flatten and blindness are the shared ``trading.broker.venue``.
"""

from trading.broker.projectx.config import API_KEY_VARIABLE, USER_NAME_VARIABLE, ProjectXSettings

__all__ = ["API_KEY_VARIABLE", "USER_NAME_VARIABLE", "ProjectXSettings"]
