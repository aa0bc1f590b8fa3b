"""The error answers Alpaca's trading API gives, as the fake raises them.

``ApiRefusal`` carries the HTTP status and the JSON body; the REST layer turns it into the
response. The bodies are the ones Alpaca sends (read from alpaca-py's ``APIError``, which
parses ``code`` and ``message`` out of the body, and from error bodies quoted in public
issue threads); ``forbidden()`` has no ``code``, as Alpaca's answer to a wrong key has none.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.fakes.alpaca.wire import plain

__all__ = ["ApiRefusal"]

# Alpaca's error codes: the first three digits are the HTTP status.
VALIDATION = 40010001
UNAUTHORIZED = 40110000
FORBIDDEN = 40310000
NOT_FOUND = 40410000
UNPROCESSABLE = 42210000
RATE_LIMITED = 42910000


class ApiRefusal(Exception):
    """An HTTP error answer: ``status`` and the JSON ``body`` Alpaca would send."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body

    @classmethod
    def invalid(cls, message: str) -> ApiRefusal:
        return cls(422, {"code": VALIDATION, "message": message})

    @classmethod
    def unprocessable(cls, message: str) -> ApiRefusal:
        return cls(422, {"code": UNPROCESSABLE, "message": message})

    @classmethod
    def bad_body(cls) -> ApiRefusal:
        return cls(400, {"code": 40010000, "message": "request body format is invalid"})

    @classmethod
    def duplicate_client_order_id(cls) -> ApiRefusal:
        return cls.invalid("client_order_id must be unique")

    @classmethod
    def order_not_found(cls) -> ApiRefusal:
        return cls(404, {"code": NOT_FOUND, "message": "order not found"})

    @classmethod
    def position_not_found(cls) -> ApiRefusal:
        return cls(404, {"code": NOT_FOUND, "message": "position does not exist"})

    @classmethod
    def asset_not_found(cls, symbol: str) -> ApiRefusal:
        return cls(404, {"code": NOT_FOUND, "message": f"asset not found for {symbol}"})

    @classmethod
    def not_open(cls, status: str) -> ApiRefusal:
        return cls.unprocessable(f'order is already in "{status}" state')

    @classmethod
    def rejected(cls, reason: str) -> ApiRefusal:
        return cls(403, {"code": FORBIDDEN, "message": reason})

    @classmethod
    def insufficient_buying_power(cls, buying_power: str, cost_basis: str) -> ApiRefusal:
        return cls(
            403,
            {
                "buying_power": buying_power,
                "code": FORBIDDEN,
                "cost_basis": cost_basis,
                "message": "insufficient buying power",
            },
        )

    @classmethod
    def insufficient_qty(
        cls, symbol: str, requested: Decimal, available: Decimal, existing: Decimal, held: Decimal
    ) -> ApiRefusal:
        return cls(
            403,
            {
                "available": plain(available),
                "code": FORBIDDEN,
                "existing_qty": plain(existing),
                "held_for_orders": plain(held),
                "message": (
                    "insufficient qty available for order "
                    f"(requested: {plain(requested)}, available: {plain(available)})"
                ),
                "related_orders": [],
                "symbol": symbol,
            },
        )

    @classmethod
    def unauthorized(cls) -> ApiRefusal:
        return cls(401, {"code": UNAUTHORIZED, "message": "request is not authorized"})

    @classmethod
    def forbidden(cls) -> ApiRefusal:
        return cls(403, {"message": "forbidden."})

    @classmethod
    def rate_limited(cls) -> ApiRefusal:
        return cls(429, {"code": RATE_LIMITED, "message": "rate limit exceeded"})
