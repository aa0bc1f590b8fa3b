"""``ProjectXClient``: the ``VenueClient`` over the ProjectX Gateway's REST API, for one account.

Blocking calls (``GatewaySession``), made on the venue broker's request lanes only. What the
gateway offers and how it is used:

* ``/api/Order/place`` takes our client order id as ``customTag`` (unique per account, so a
  retried place cannot make a second order) and answers only the new order's id; the order is
  then read back. A bracket is one place with ``stopLossBracket`` / ``takeProfitBracket`` in
  ticks from the entry's fill price (signed: below the entry negative), measured here from the
  entry's limit price, or from ``reference`` (the desk's last price) for a market entry; the
  platform makes the exits once the entry fills (``BracketLegs`` recognises them). An OCO of
  two resting orders is not something the gateway has: refused.
* There is no order-by-id read: an order is found among the open orders, else among the
  orders of the last ``find_days`` days (``/api/Order/search``), by id or by ``customTag``.
* ``/api/Order/modify`` changes an order in place (same id, ``size`` is the whole order's).
* ``/api/Order/cancel`` one order; cancelling all is one cancel per open order.
* ``/api/Position/searchOpen``, ``/api/Position/closeContract`` (``close_position``) and
  ``/api/Trade/search`` (``trades_since``, the account's trade history).

The contracts of the positions held and of the open orders read are handed to the
``ContractInterest`` (the market hub subscribes their quotes).

Quantities are whole contracts; a fractional one is refused before it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from trading.broker.projectx.contracts import ContractMap
from trading.broker.projectx.interest import ContractInterest
from trading.broker.projectx.legs import BRACKET_MARK, BracketLegs
from trading.broker.projectx.session import GatewaySession
from trading.broker.projectx.wire import (
    SIDE_CODES,
    TYPE_CODES,
    account_from_json,
    order_from_json,
    position_from_json,
)
from trading.broker.venue.errors import VenueError, VenueErrorKind
from trading.broker.venue.facts import OrderRequest, VenueAccount, VenueOrder, VenuePosition
from trading.model import Instrument, OrderType

__all__ = ["GatewayAccount", "ProjectXClient"]

logger = logging.getLogger(__name__)

_PLACE = {1: VenueErrorKind.REFUSED, 2: VenueErrorKind.REFUSED, 4: VenueErrorKind.REFUSED}
_CHANGE = {2: VenueErrorKind.NOT_FOUND, 3: VenueErrorKind.NOT_OPEN}
_MODIFY = {2: VenueErrorKind.NOT_FOUND, 3: VenueErrorKind.REFUSED}
_LIMIT, _STOP = 1, 4


class GatewayAccount:
    """The account the desk guards, as ``/api/Account/search`` lists it."""

    __slots__ = ("id", "name", "simulated")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.id = int(data["id"])
        self.name = str(data["name"])
        self.simulated = bool(data.get("simulated", True))

    @property
    def label(self) -> str:
        kind = "simulated" if self.simulated else "LIVE"
        return f"{self.name} (id {self.id}, {kind})"

    def __repr__(self) -> str:
        return f"GatewayAccount({self.label})"


class ProjectXClient:
    def __init__(
        self,
        session: GatewaySession,
        account: GatewayAccount,
        *,
        contracts: ContractMap,
        legs: BracketLegs,
        instruments: Mapping[str, Instrument] | None = None,
        interest: ContractInterest | None = None,
        find_days: float = 3.0,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._session = session
        self.account_info = account
        self.contracts = contracts
        self._legs = legs
        self._instruments = dict(instruments or {})
        self.interest = interest if interest is not None else ContractInterest()
        self._find = timedelta(days=find_days)
        self._now = now or _utc_now
        self.reference: Callable[[str], float | None] = _no_reference

    @property
    def account_id(self) -> int:
        return self.account_info.id

    # --- contracts -----------------------------------------------------------------------

    def contract_for(self, symbol: str) -> str:
        """The contract id ``symbol``'s orders go to (its pinned contract, else the front month)."""
        known = self.contracts.contract_id(symbol)
        if known is not None and self.contracts.instrument(symbol) is not None:
            return known
        listed = self._call("/api/Contract/search", {"searchText": symbol, "live": False})["contracts"]
        found = self.contracts.front(symbol, listed)
        if found is None and known is not None:
            found = self._call("/api/Contract/searchById", {"contractId": known})["contract"]
        if found is None:
            raise VenueError(f"no active ProjectX contract for {symbol!r}", kind=VenueErrorKind.REFUSED)
        self.contracts.learn(symbol, found)
        logger.info("ProjectX %s trades %s (%s)", symbol, found["id"], found.get("description", ""))
        return str(found["id"])

    def instrument(self, symbol: str) -> Instrument:
        """``symbol``'s instrument: the desk's, else the one its contract describes."""
        held = self._instruments.get(symbol)
        if held is not None:
            return held
        described = self.contracts.instrument(symbol)
        if described is None:
            self.contract_for(symbol)
            described = self.contracts.instrument(symbol)
        assert described is not None
        return described

    def _multiplier(self, symbol: str) -> Decimal:
        return Decimal(str(self.instrument(symbol).multiplier))

    def _learn(self, contract_ids: Iterable[str]) -> None:
        """Contracts the account shows that we do not know yet (another month, another product)."""
        for contract_id in set(contract_ids):
            symbol = self.contracts.symbol(contract_id)
            if symbol in self._instruments or self.contracts.instrument(symbol) is not None:
                continue
            found = self._call("/api/Contract/searchById", {"contractId": contract_id})["contract"]
            self.contracts.learn(symbol, found, trades=self.contracts.contract_id(symbol) is None)

    # --- orders ------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> VenueOrder:
        if request.order_class == "oco":
            raise VenueError(
                "ProjectX has no OCO of two resting orders (use a bracket)", kind=VenueErrorKind.REFUSED
            )
        body = self._place_body(request)
        try:
            answer = self._call("/api/Order/place", body, refusals=_PLACE)
        except VenueError as exc:
            if "customTag" in str(exc):
                raise VenueError(str(exc), kind=VenueErrorKind.DUPLICATE, status=exc.status) from None
            raise
        return self.get(str(answer["orderId"]))

    def _place_body(self, request: OrderRequest) -> dict[str, Any]:
        size = _whole(request.quantity)
        contract_id = self.contract_for(request.symbol)
        body: dict[str, Any] = {
            "accountId": self.account_id,
            "contractId": contract_id,
            "type": TYPE_CODES[request.order_type],
            "side": SIDE_CODES[request.side],
            "size": size,
            "limitPrice": request.price
            if request.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
            else None,
            "stopPrice": request.stop_price
            if request.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
            else None,
            "customTag": request.client_id,
        }
        if request.order_class == "bracket":
            body["customTag"] = request.client_id + BRACKET_MARK
            body.update(self._bracket(request))
        return body

    def _bracket(self, request: OrderRequest) -> dict[str, Any]:
        reference = request.price if request.order_type is OrderType.LIMIT else self.reference(request.symbol)
        if reference is None:
            raise VenueError(
                f"a bracket on a market entry needs a last price for {request.symbol} to count its ticks",
                kind=VenueErrorKind.REFUSED,
            )
        tick = self.instrument(request.symbol).tick_size
        legs: dict[str, Any] = {}
        if request.stop_loss is not None:
            legs["stopLossBracket"] = {"ticks": _ticks(request.stop_loss, reference, tick), "type": _STOP}
        if request.take_profit is not None:
            legs["takeProfitBracket"] = {
                "ticks": _ticks(request.take_profit, reference, tick),
                "type": _LIMIT,
            }
        return legs

    def find(self, client_id: str) -> VenueOrder | None:
        tags = (client_id, client_id + BRACKET_MARK)
        for raw in self._raw_since(self._now() - self._find):
            if raw.get("customTag") in tags:
                return self._order(raw)
        return None

    def get(self, venue_id: str) -> VenueOrder:
        for raw in self._raw_open():
            if str(raw["id"]) == venue_id:
                return self._order(raw)
        for raw in self._raw_since(self._now() - self._find):
            if str(raw["id"]) == venue_id:
                return self._order(raw)
        raise VenueError(f"ProjectX order {venue_id} not found", kind=VenueErrorKind.NOT_FOUND)

    def cancel(self, venue_id: str) -> None:
        self._call(
            "/api/Order/cancel", {"accountId": self.account_id, "orderId": int(venue_id)}, refusals=_CHANGE
        )

    def cancel_all(self) -> None:
        for raw in self._raw_open():
            try:
                self.cancel(str(raw["id"]))
            except VenueError as exc:
                if exc.kind not in (VenueErrorKind.NOT_OPEN, VenueErrorKind.NOT_FOUND):
                    raise

    def replace(
        self,
        venue_id: str,
        *,
        client_id: str,
        quantity: float | None,
        price: float | None,
        stop_price: float | None,
    ) -> VenueOrder:
        """Modify in place: ``quantity`` is what is left to fill (the gateway's ``size`` is the
        whole order's, so the part already filled is added). ``client_id`` stays the order's tag."""
        body: dict[str, Any] = {"accountId": self.account_id, "orderId": int(venue_id)}
        if quantity is not None:
            current = self.get(venue_id)
            body["size"] = _whole(current.filled_quantity + quantity)
        if price is not None:
            body["limitPrice"] = price
        if stop_price is not None:
            body["stopPrice"] = stop_price
        self._call("/api/Order/modify", body, refusals=_MODIFY)
        return self.get(venue_id)

    def open_orders(self) -> list[VenueOrder]:
        raws = self._raw_open()
        self.interest.add_all(str(r["contractId"]) for r in raws)
        self._classify_legs(raws)
        return [self._order(raw) for raw in raws]

    def orders_since(self, since: datetime) -> list[VenueOrder]:
        return [self._order(raw) for raw in self._raw_since(since)]

    def _raw_open(self) -> list[dict[str, Any]]:
        raws = self._call("/api/Order/searchOpen", {"accountId": self.account_id})["orders"]
        return sorted(raws, key=lambda r: int(r["id"]))

    def _raw_since(self, since: datetime) -> list[dict[str, Any]]:
        body = {"accountId": self.account_id, "startTimestamp": since.astimezone(UTC).isoformat()}
        raws = self._call("/api/Order/search", body)["orders"]
        return sorted(raws, key=lambda r: int(r["id"]))

    def _classify_legs(self, raws: list[dict[str, Any]]) -> None:
        """Open exits the bracket memory has not classed yet (after a restart): read the orders
        of their time, entries first, so ``BracketLegs`` can tell ours from hand orders."""
        unknown = [
            r
            for r in raws
            if not r.get("customTag")
            and r.get("type") in (_LIMIT, _STOP)
            and not self._legs.decided(str(r["id"]))
        ]
        if not unknown:
            return
        created = [datetime.fromisoformat(str(r["creationTimestamp"])) for r in unknown]
        since = min(created) - timedelta(seconds=self._legs.window + 60)
        for raw in self._raw_since(since):
            self._legs.parent_of(raw)
        for raw in unknown:
            self._legs.mark_plain(str(raw["id"]))

    def _order(self, raw: dict[str, Any]) -> VenueOrder:
        self._learn([str(raw["contractId"])])
        return order_from_json(raw, self.contracts.symbol, self._legs.parent_of(raw))

    # --- positions, account, trades -----------------------------------------------------

    def positions(self) -> list[VenuePosition]:
        raws = self._call("/api/Position/searchOpen", {"accountId": self.account_id})["positions"]
        held = [r for r in raws if r.get("size")]
        self._learn(str(r["contractId"]) for r in held)
        self.interest.hold(str(r["contractId"]) for r in held)
        return [position_from_json(r, self.contracts.symbol, self._multiplier) for r in held]

    def account(self) -> VenueAccount:
        for raw in self._call("/api/Account/search", {"onlyActiveAccounts": False})["accounts"]:
            if int(raw["id"]) == self.account_id:
                return account_from_json(raw)
        raise VenueError(
            f"ProjectX account {self.account_info.label} is no longer listed", kind=VenueErrorKind.NOT_FOUND
        )

    def close_position(self, symbol: str) -> None:
        """``/api/Position/closeContract``: the platform closes ``symbol``'s position at market."""
        contract_id = self.contract_for(symbol)
        self._call("/api/Position/closeContract", {"accountId": self.account_id, "contractId": contract_id})

    def trades_since(self, since: datetime) -> list[dict[str, Any]]:
        """The account's trades (executions) since ``since``, as the gateway lists them."""
        body = {"accountId": self.account_id, "startTimestamp": since.astimezone(UTC).isoformat()}
        return list(self._call("/api/Trade/search", body)["trades"])

    def _call(
        self, path: str, body: dict[str, Any], *, refusals: Mapping[int, VenueErrorKind] | None = None
    ) -> dict[str, Any]:
        return self._session.call(path, body, refusals=refusals or {})

    def close(self) -> None:
        self._session.close()

    def __repr__(self) -> str:
        return f"ProjectXClient({self.account_info.label}, {self._session!r})"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _no_reference(symbol: str) -> float | None:
    return None


def _whole(quantity: float) -> int:
    if not float(quantity).is_integer() or quantity <= 0:
        raise VenueError(f"ProjectX trades whole contracts, got {quantity:g}", kind=VenueErrorKind.REFUSED)
    return int(quantity)


def _ticks(price: float, reference: float, tick: float) -> int:
    return round((price - reference) / tick)
