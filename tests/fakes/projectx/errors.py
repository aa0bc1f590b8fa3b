"""The error answers of the ProjectX Gateway API, as the fake raises them.

Three kinds, as the API gives them:

* a refused operation is **HTTP 200** with ``{"success": false, "errorCode": N,
  "errorMessage": ...}`` (the gateway docs' response envelope); the codes are per operation
  (``ErrorCode`` below, from the error enums of the gateway's OpenAPI document as topstep-sdk
  0.1.4 ``enums.py`` lists them); ``errorMessage`` is often null on the real API;
* a missing, unknown or expired session token is **HTTP 401** with an empty body (the docs'
  "Error: response status is 401"; project-x-py 4.4.1 and topstep-sdk 0.1.4 both re-login on it);
* a malformed request is **HTTP 400** with an ASP.NET Core problem document (inferred: the
  gateway is ASP.NET Core; topstep-sdk parses ``title`` / ``errors`` from it).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiRefusal", "ErrorCode"]


class ErrorCode:
    """``errorCode`` values per operation (0 is success everywhere)."""

    # /api/Auth/loginKey
    USER_NOT_FOUND = 1
    INVALID_CREDENTIALS = 3
    # /api/Account/search, /api/Order/search*, /api/Position/searchOpen, /api/Trade/search
    ACCOUNT_NOT_FOUND = 1
    # /api/Contract/searchById
    CONTRACT_NOT_FOUND_BY_ID = 1
    # /api/Order/place
    PLACE_ORDER_REJECTED = 2
    PLACE_ACCOUNT_VIOLATION = 4
    PLACE_CONTRACT_NOT_FOUND = 8
    PLACE_CONTRACT_NOT_ACTIVE = 9
    # /api/Order/cancel and /api/Order/modify
    ORDER_NOT_FOUND = 2
    ORDER_CHANGE_REJECTED = 3
    # /api/Position/closeContract and /api/Position/partialCloseContract
    POSITION_NOT_FOUND = 2
    CLOSE_CONTRACT_NOT_FOUND = 3
    CLOSE_ORDER_REJECTED = 5  # closeContract
    INVALID_CLOSE_SIZE = 5  # partialCloseContract
    PARTIAL_CLOSE_ORDER_REJECTED = 6


class ApiRefusal(Exception):
    """An answer other than success: ``status`` and the JSON ``body`` (None: empty body)."""

    def __init__(self, status: int, body: dict[str, Any] | None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body

    @property
    def error_code(self) -> int | None:
        return None if self.body is None else self.body.get("errorCode")

    @classmethod
    def failure(cls, error_code: int, message: str | None = None, **fields: Any) -> ApiRefusal:
        """HTTP 200 ``success: false``; ``fields`` are the operation's own keys (e.g. ``token=None``)."""
        body: dict[str, Any] = dict(fields)
        body.update({"success": False, "errorCode": error_code, "errorMessage": message})
        return cls(200, body)

    @classmethod
    def unauthorized(cls) -> ApiRefusal:
        return cls(401, None)

    @classmethod
    def rate_limited(cls) -> ApiRefusal:
        return cls(429, None)

    @classmethod
    def invalid(cls, field: str, message: str) -> ApiRefusal:
        """HTTP 400 with an ASP.NET Core validation problem document naming ``field``."""
        return cls(
            400,
            {
                "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                "title": "One or more validation errors occurred.",
                "status": 400,
                "errors": {field: [message]},
            },
        )
