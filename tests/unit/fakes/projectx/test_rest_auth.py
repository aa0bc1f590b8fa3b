"""API-key login, token validation, expiry forced mid-session, logout, and what the log keeps."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from tests.fakes.projectx import ErrorCode, FakeProjectX
from tests.unit.fakes.projectx.conftest import Gateway, token_id


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def test_login_key_right_key_answers_a_jwt_valid_24_hours(fake: FakeProjectX, gateway: Gateway) -> None:
    status, answer = await gateway.call(
        "/api/Auth/loginKey", {"userName": fake.user_name, "apiKey": fake.api_key}, token=""
    )

    assert status == 200
    assert (answer["success"], answer["errorCode"], answer["errorMessage"]) == (True, 0, None)
    claims = _claims(answer["token"])
    assert claims["sub"] == fake.user_name
    assert claims["exp"] - claims["iat"] == 24 * 3600


async def test_login_key_wrong_key_answers_200_success_false_code_3(
    fake: FakeProjectX, gateway: Gateway
) -> None:
    status, answer = await gateway.call(
        "/api/Auth/loginKey", {"userName": fake.user_name, "apiKey": "wrong"}, token=""
    )

    assert status == 200
    assert answer == {
        "token": None,
        "success": False,
        "errorCode": ErrorCode.INVALID_CREDENTIALS,
        "errorMessage": None,
    }


async def test_login_key_unknown_user_answers_code_1(fake: FakeProjectX, gateway: Gateway) -> None:
    _, answer = await gateway.call(
        "/api/Auth/loginKey", {"userName": "nobody", "apiKey": fake.api_key}, token=""
    )

    assert (answer["success"], answer["errorCode"]) == (False, ErrorCode.USER_NOT_FOUND)


async def test_call_without_token_answers_401_with_an_empty_body(gateway: Gateway, account: int) -> None:
    status, answer = await gateway.call("/api/Position/searchOpen", {"accountId": account}, token="")

    assert (status, answer) == (401, None)


async def test_validate_answers_a_new_token_that_works(gateway: Gateway, account: int) -> None:
    answer = await gateway.ok("/api/Auth/validate")
    gateway.token = answer["newToken"]

    assert answer["newToken"] and _claims(answer["newToken"])["jti"]
    assert (await gateway.ok("/api/Position/searchOpen", {"accountId": account}))["positions"] == []


async def test_expire_tokens_mid_session_answers_401_until_login_again(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    await gateway.ok("/api/Order/searchOpen", {"accountId": account})

    assert fake.expire_tokens() == 1
    status, _ = await gateway.call("/api/Order/searchOpen", {"accountId": account})
    assert status == 401
    status, _ = await gateway.call("/api/Auth/validate")
    assert status == 401  # an expired token cannot be renewed: log in with the API key again

    await gateway.login()
    assert (await gateway.ok("/api/Order/searchOpen", {"accountId": account}))["orders"] == []
    assert fake.logins() == 2


async def test_tokens_issued_with_a_short_ttl_expire_by_time(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.token_ttl = timedelta(seconds=-1)  # born expired: no sleeping in tests
    await gateway.login()

    status, _ = await gateway.call("/api/Order/searchOpen", {"accountId": account})
    assert status == 401


async def test_logout_revokes_the_token(gateway: Gateway, account: int) -> None:
    await gateway.ok("/api/Auth/logout")

    status, _ = await gateway.call("/api/Order/searchOpen", {"accountId": account})
    assert status == 401


async def test_routes_match_case_insensitively(gateway: Gateway, account: int) -> None:
    assert (await gateway.ok("/api/order/searchopen", {"accountId": account}))["orders"] == []


async def test_unknown_route_answers_404(gateway: Gateway) -> None:
    status, _ = await gateway.call("/api/Order/nothing", {})

    assert status == 404


async def test_status_ping_answers_pong_without_a_token(gateway: Gateway) -> None:
    async with gateway.session.get("/api/Status/ping") as response:
        assert (response.status, await response.text()) == (200, "pong")


async def test_request_log_keeps_token_ids_and_never_secrets(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    await gateway.ok("/api/Account/search", {"onlyActiveAccounts": True})

    login, search = fake.requests.all()[-2:]
    assert login.path == "/api/Auth/loginKey" and login.body == {"userName": fake.user_name, "apiKey": "***"}
    assert login.token_id is None and login.succeeded
    assert search.token_id == token_id(gateway.token or "")
    assert fake.api_key not in repr(fake.requests.all()) and (gateway.token or "") not in repr(
        fake.requests.all()
    )
