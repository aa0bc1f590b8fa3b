"""Session tokens: API-key login, validation and renewal, and expiry a test can force.

The gateway answers ``/api/Auth/loginKey`` with a JSON Web Token valid for 24 hours and
``/api/Auth/validate`` with ``newToken`` (gateway docs, "Authenticate (with API key)" and
"Validate Session"); clients read the ``exp`` claim to plan the renewal (project-x-py 4.4.1
``client/auth.py`` decodes it). The fake's tokens have the JWT shape (three base64url parts,
HS256 over a secret of the fake's own) with ``sub``, ``jti``, ``iat`` and ``exp`` claims.

A token is refused once it expired (by time, or because the test called ``expire_all``) or
after ``/api/Auth/logout``. Only the token's ``jti`` ever leaves this module for the request
log; the API key is compared in constant time and never stored elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

__all__ = ["LoginOutcome", "SessionTokens", "TokenState"]


class TokenState(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # never issued here, malformed, or logged out


class LoginOutcome(Enum):
    OK = "ok"
    USER_NOT_FOUND = "user_not_found"
    INVALID_CREDENTIALS = "invalid_credentials"


@dataclass(slots=True)
class _Issued:
    jti: str
    expires_at: datetime
    revoked: bool = False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SessionTokens:
    def __init__(self, *, user_name: str, api_key: str, ttl: timedelta, now: Callable[[], datetime]) -> None:
        self._user_name = user_name
        self._api_key = api_key
        self.ttl = ttl
        self._now = now
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._issued: dict[str, _Issued] = {}  # token -> record
        self._logins = 0

    def __repr__(self) -> str:
        with self._lock:
            return f"SessionTokens(issued={len(self._issued)}, logins={self._logins})"

    def login(self, user_name: object, api_key: object) -> tuple[LoginOutcome, str | None]:
        if not isinstance(user_name, str) or not hmac.compare_digest(
            user_name.encode(), self._user_name.encode()
        ):
            return LoginOutcome.USER_NOT_FOUND, None
        if not isinstance(api_key, str) or not hmac.compare_digest(api_key.encode(), self._api_key.encode()):
            return LoginOutcome.INVALID_CREDENTIALS, None
        with self._lock:
            self._logins += 1
        return LoginOutcome.OK, self._issue()

    def renew(self, token: str) -> str | None:
        """``/api/Auth/validate``: a new token for a valid one (the old one stays valid until it expires)."""
        return self._issue() if self.state(token) is TokenState.VALID else None

    def revoke(self, token: str) -> None:
        with self._lock:
            record = self._issued.get(token)
            if record is not None:
                record.revoked = True

    def state(self, token: str | None) -> TokenState:
        if not token:
            return TokenState.UNKNOWN
        with self._lock:
            record = self._issued.get(token)
        if record is None or record.revoked:
            return TokenState.UNKNOWN
        return TokenState.EXPIRED if self._now() >= record.expires_at else TokenState.VALID

    def token_id(self, token: str | None) -> str | None:
        """The ``jti`` of a token issued here (what the request log keeps), else None."""
        if not token:
            return None
        with self._lock:
            record = self._issued.get(token)
        return None if record is None else record.jti

    def expire_all(self) -> int:
        """Every token issued so far expires now; returns how many were still valid."""
        now = self._now()
        count = 0
        with self._lock:
            for record in self._issued.values():
                if record.expires_at > now and not record.revoked:
                    count += 1
                record.expires_at = min(record.expires_at, now)
        return count

    def logins(self) -> int:
        with self._lock:
            return self._logins

    def _issue(self) -> str:
        issued_at = self._now()
        expires_at = issued_at + self.ttl
        jti = secrets.token_hex(8)
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        claims = {
            "sub": self._user_name,
            "jti": jti,
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        token = f"{header}.{payload}.{signature}"
        with self._lock:
            self._issued[token] = _Issued(jti, expires_at)
        return token
