"""``GatewaySession``: the ProjectX Gateway's REST API for one user, as blocking calls.

The venue layer calls a ``VenueClient`` from its request lanes' threads; the chosen HTTP client
(aiohttp, see docs/BROKERS.md) is asyncio. So the session owns a small event loop of its own on
one thread ("projectx-http") holding one ``aiohttp.ClientSession``, and ``call`` hands each
request to it and waits (``timeout`` seconds, then the call counts as unanswered).

Authentication: ``POST /api/Auth/loginKey {userName, apiKey}`` gives a JWT session token (24 h
on the gateway); every call carries it as ``Authorization: Bearer``. It is renewed
``renew_before`` seconds before its ``exp`` claim through ``POST /api/Auth/validate``
(``newToken``); an expired or revoked token (HTTP 401) is replaced by a fresh login and the call
made once more. The key and the tokens are never logged and never in an error message.

Answers: HTTP 200 with ``success: false`` is a refusal whose ``errorCode`` means something per
operation (``refusals`` maps it to a ``VenueErrorKind``; anything else is REFUSED); 429 is
TRANSIENT (``Retry-After`` honoured), 5xx and no answer AMBIGUOUS, 401 after a fresh login AUTH,
404 NOT_FOUND, other 4xx REFUSED.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

import aiohttp

from trading.broker.venue.errors import VenueError, VenueErrorKind

__all__ = ["GatewaySession"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_LOGIN = "/api/Auth/loginKey"
_VALIDATE = "/api/Auth/validate"
_MAX_RETRY_AFTER = 60.0
_DEFAULT_LIFE = 23 * 3600.0  # a token whose exp cannot be read is renewed as if it lived this long
_NO_REFUSALS: Mapping[int, VenueErrorKind] = {}


class GatewaySession:
    def __init__(
        self,
        base_url: str,
        user_name: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        renew_before: float = 3600.0,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._user_name = user_name
        self._api_key = api_key
        self._timeout = timeout
        self._renew_before = renew_before
        self._wall = wall
        self._token: str | None = None
        self._expires = 0.0
        self._auth = threading.Lock()  # one login or renewal at a time
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="projectx-http", daemon=True)
        self._thread.start()
        self._http: aiohttp.ClientSession = self._run(self._open(), timeout)
        self._closed = False
        self.calls = self.logins = self.renewals = self.unauthorized = 0

    async def _open(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))

    # --- the token ---------------------------------------------------------------------

    def token(self) -> str:
        """A valid session token: logs in first, renews one close to its expiry."""
        with self._auth:
            if self._token is None:
                self._login()
            elif self._wall() >= self._expires - self._renew_before:
                self._renew()
            assert self._token is not None
            return self._token

    def _login(self) -> None:
        status, answer = self._post(_LOGIN, {"userName": self._user_name, "apiKey": self._api_key}, None)
        if (
            status != 200
            or not isinstance(answer, dict)
            or not answer.get("success")
            or not answer.get("token")
        ):
            code = answer.get("errorCode") if isinstance(answer, dict) else None
            kind = VenueErrorKind.TRANSIENT if status == 429 or status >= 500 else VenueErrorKind.AUTH
            raise VenueError(
                f"ProjectX login refused (HTTP {status}, errorCode {code})", kind=kind, status=status
            )
        self._set_token(answer["token"])
        self.logins += 1
        logger.info("ProjectX session opened (login %d)", self.logins)

    def _renew(self) -> None:
        status, answer = self._post(_VALIDATE, None, self._token)
        if status == 200 and isinstance(answer, dict) and answer.get("success") and answer.get("newToken"):
            self._set_token(answer["newToken"])
            self.renewals += 1
            logger.info("ProjectX session token renewed before its expiry")
            return
        logger.info("ProjectX session token could not be renewed (HTTP %s): logging in again", status)
        self._login()

    def _set_token(self, token: str) -> None:
        self._token = token
        self._expires = _expiry(token, self._wall())

    def _expired(self, token: str) -> None:
        """The gateway refused ``token`` (401): a fresh login, unless another call made one already."""
        with self._auth:
            if self._token == token:
                self.unauthorized += 1
                logger.warning("ProjectX refused the session token (HTTP 401): logging in again")
                self._token = None
                self._login()

    # --- calls -------------------------------------------------------------------------

    def call(
        self, path: str, body: dict[str, Any] | None, *, refusals: Mapping[int, VenueErrorKind] = _NO_REFUSALS
    ) -> dict[str, Any]:
        """POST ``body`` to ``path`` with the token; the answer of a successful operation."""
        token = self.token()
        status, answer = self._post(path, body, token)
        if status == 401:
            self._expired(token)
            status, answer = self._post(path, body, self.token())
        self.calls += 1
        return _checked(path, status, answer, refusals)

    def _post(self, path: str, body: dict[str, Any] | None, token: str | None) -> tuple[int, Any]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        try:
            return self._run(self._send(path, body, headers), self._timeout + 1.0)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise VenueError(
                f"{path}: no answer ({type(exc).__name__})", kind=VenueErrorKind.AMBIGUOUS
            ) from None

    async def _send(self, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> tuple[int, Any]:
        async with self._http.post(self.base_url + path, json=body, headers=headers) as response:
            text = await response.text()
            answer: Any = None
            if text:
                try:
                    answer = json.loads(text)
                except ValueError:
                    answer = None
            if response.status == 429:
                answer = {"retryAfter": response.headers.get("Retry-After")}
            return response.status, answer

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        if self._loop.is_closed():
            coro.close()
            raise VenueError("the ProjectX session is closed", kind=VenueErrorKind.AMBIGUOUS)
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        """Close the HTTP session and stop its thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._run(self._shutdown(), self._timeout)
        except (VenueError, TimeoutError, RuntimeError):  # closing anyway: the loop stops below
            logger.debug("ProjectX HTTP session did not close cleanly")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    async def _shutdown(self) -> None:
        """Requests still in flight (a lane abandoned them) are cancelled, then the session closes."""
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._http.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._token else "not logged in"
        return f"GatewaySession({self.base_url}, {state}, calls={self.calls}, logins={self.logins})"


def _expiry(token: str, now: float) -> float:
    """The token's ``exp`` claim (seconds since the epoch), read without verifying it."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return now + _DEFAULT_LIFE


def _checked(path: str, status: int, answer: Any, refusals: Mapping[int, VenueErrorKind]) -> dict[str, Any]:
    if status == 200 and isinstance(answer, dict):
        if answer.get("success"):
            return answer
        code = answer.get("errorCode")
        message = answer.get("errorMessage") or "refused"
        kind = refusals.get(code, VenueErrorKind.REFUSED) if isinstance(code, int) else VenueErrorKind.REFUSED
        raise VenueError(f"{path}: errorCode {code}: {message}", kind=kind, status=status)
    text = f"{path}: HTTP {status}"
    if status == 429:
        return _rate_limited(text, answer)
    if status >= 500 or status == 200:
        raise VenueError(text, kind=VenueErrorKind.AMBIGUOUS, status=status)
    if status == 401:
        raise VenueError(text + " (a fresh login was refused too)", kind=VenueErrorKind.AUTH, status=status)
    if status == 404:
        raise VenueError(text, kind=VenueErrorKind.NOT_FOUND, status=status)
    raise VenueError(text, kind=VenueErrorKind.REFUSED, status=status)


def _rate_limited(text: str, answer: Any) -> dict[str, Any]:
    retry_after: float | None = None
    raw = answer.get("retryAfter") if isinstance(answer, dict) else None
    if raw is not None:
        try:
            retry_after = min(_MAX_RETRY_AFTER, max(0.0, float(raw)))
        except ValueError:
            retry_after = None
    raise VenueError(
        text + " (rate limited)", kind=VenueErrorKind.TRANSIENT, status=429, retry_after=retry_after
    )
