"""The realtime market hub: ``/hubs/market``, quotes of the contracts a client subscribes to.

Gateway docs ("Connection URLs": the ``/hubs/market`` URL beside ``/hubs/user``; "Real Time
Data Overview": the market hub's invocations ``SubscribeContractQuotes(contractId)``,
``SubscribeContractTrades(contractId)``, ``SubscribeContractMarketDepth(contractId)`` and their
``Unsubscribe*`` counterparts, the events ``GatewayQuote``, ``GatewayTrade``, ``GatewayDepth``);
project-x-py 4.4.1 ``realtime/subscriptions.py`` sends the same three. An event is sent with two
arguments, ``[contractId, data]`` (project-x-py ``realtime_data_manager/validation.py``:
"SignalR format: [contract_id, actual_data_dict]"), to the connections subscribed to its kind
for that contract. The fake publishes quotes only (``quotes.py``); trade and depth
subscriptions are taken and recorded, and nothing is sent for them. A contract id the fake does
not list is accepted too (what the real hub does with one is not documented). The connection
mechanics are ``HubServer``'s.
"""

from __future__ import annotations

from tests.fakes.projectx.hub_server import HubMethod, HubSpec

__all__ = ["MARKET_HUB"]

MARKET_HUB = HubSpec(
    path="/hubs/market",
    methods={
        "subscribecontractquotes": HubMethod("quotes", str, True),
        "subscribecontracttrades": HubMethod("trades", str, True),
        "subscribecontractmarketdepth": HubMethod("depth", str, True),
        "unsubscribecontractquotes": HubMethod("quotes", str, False),
        "unsubscribecontracttrades": HubMethod("trades", str, False),
        "unsubscribecontractmarketdepth": HubMethod("depth", str, False),
    },
    events={"GatewayQuote": "quotes", "GatewayTrade": "trades", "GatewayDepth": "depth"},
)
