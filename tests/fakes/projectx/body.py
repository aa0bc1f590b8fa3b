"""Strict reading of a JSON request body, as the gateway's model binding reads it.

A missing required field or a value of the wrong JSON type answers 400 with a validation
problem naming the field (inferred from ASP.NET Core with System.Text.Json: no numbers from
strings, no booleans as integers, no fractions for integers).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tests.fakes.projectx.errors import ApiRefusal

__all__ = ["Body"]


class Body:
    def __init__(self, raw: Any) -> None:
        """``raw`` is the parsed JSON; None (no body) reads as an empty object."""
        if raw is not None and not isinstance(raw, dict):
            raise ApiRefusal.invalid("$", "The request body must be a JSON object.")
        self._raw: dict[str, Any] = raw or {}

    def __repr__(self) -> str:
        return f"Body({sorted(self._raw)})"

    def has(self, field: str) -> bool:
        return self._raw.get(field) is not None

    def integer(self, field: str) -> int:
        value = self._raw.get(field)
        if value is None:
            raise ApiRefusal.invalid(field, f"The {field} field is required.")
        return self._integer(field, value)

    def optional_integer(self, field: str) -> int | None:
        value = self._raw.get(field)
        return None if value is None else self._integer(field, value)

    def boolean(self, field: str) -> bool:
        value = self._raw.get(field)
        if not isinstance(value, bool):
            raise ApiRefusal.invalid(field, f"The {field} field is required and must be true or false.")
        return value

    def text(self, field: str) -> str:
        value = self._raw.get(field)
        if not isinstance(value, str):
            raise ApiRefusal.invalid(field, f"The {field} field is required.")
        return value

    def optional_text(self, field: str) -> str | None:
        value = self._raw.get(field)
        if value is not None and not isinstance(value, str):
            raise ApiRefusal.invalid(field, f"The JSON value of {field} could not be converted to a string.")
        return value

    def optional_decimal(self, field: str) -> Decimal | None:
        value = self._raw.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ApiRefusal.invalid(field, f"The JSON value of {field} could not be converted to a decimal.")
        return Decimal(str(value))

    def moment(self, field: str) -> datetime:
        value = self.optional_moment(field)
        if value is None:
            raise ApiRefusal.invalid(field, f"The {field} field is required.")
        return value

    def optional_moment(self, field: str) -> datetime | None:
        value = self._raw.get(field)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ApiRefusal.invalid(field, f"The JSON value of {field} could not be converted to a date.")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ApiRefusal.invalid(
                field, f"The JSON value of {field} could not be converted to a date."
            ) from exc
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def child(self, field: str) -> Body | None:
        value = self._raw.get(field)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ApiRefusal.invalid(field, f"The JSON value of {field} must be an object.")
        return Body(value)

    @staticmethod
    def _integer(field: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiRefusal.invalid(
                field, f"The JSON value of {field} could not be converted to an integer."
            )
        return value
