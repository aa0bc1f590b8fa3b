"""The realtime user hub: ``/hubs/user``, the account's orders, trades, positions and balance.

Gateway docs "Real Time Data Overview": the invocations ``SubscribeAccounts()``,
``SubscribeOrders(accountId)``, ``SubscribePositions(accountId)``, ``SubscribeTrades(accountId)``
and the events ``GatewayUserAccount``, ``GatewayUserOrder``, ``GatewayUserPosition``,
``GatewayUserTrade``; the ``Unsubscribe*`` counterparts as topstep-client-py 0.1.1 sends them.
Each event is sent with one argument, the payload ``{"action": 0|1, "data": {...}}``, to the
connections subscribed to its kind for its account (``GatewayUserAccount`` to every
``SubscribeAccounts`` connection). The connection mechanics are ``HubServer``'s.
"""

from __future__ import annotations

from tests.fakes.projectx.hub_server import HubMethod, HubSpec

__all__ = ["USER_HUB"]

USER_HUB = HubSpec(
    path="/hubs/user",
    methods={
        "subscribeaccounts": HubMethod("accounts", None, True),
        "subscribeorders": HubMethod("orders", int, True),
        "subscribepositions": HubMethod("positions", int, True),
        "subscribetrades": HubMethod("trades", int, True),
        "unsubscribeaccounts": HubMethod("accounts", None, False),
        "unsubscribeorders": HubMethod("orders", int, False),
        "unsubscribepositions": HubMethod("positions", int, False),
        "unsubscribetrades": HubMethod("trades", int, False),
    },
    events={
        "GatewayUserAccount": "accounts",
        "GatewayUserOrder": "orders",
        "GatewayUserPosition": "positions",
        "GatewayUserTrade": "trades",
    },
)
