"""Keys, rate limits, gateway errors, stalls and rejections, as the real SDK meets them."""

from __future__ import annotations

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from tests.fakes.alpaca import FakeAlpaca

ORDER = MarketOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)


def statuses(fake: FakeAlpaca, method: str, path: str) -> list[int]:
    return [r.status for r in fake.requests.matching(method, path)]


def test_wrong_secret_is_403_forbidden_with_no_code_in_the_body(fake: FakeAlpaca) -> None:
    client = TradingClient(fake.key_id, "not-the-secret", paper=True, url_override=fake.base_url)

    with pytest.raises(APIError, match="forbidden") as raised:
        client.get_account()

    assert (raised.value.status_code, raised.value.message) == (403, "forbidden.")
    with pytest.raises(KeyError):
        _ = raised.value.code  # the SDK's APIError.code assumes a "code" Alpaca does not send here


def test_request_without_keys_is_401_not_authorized(fake: FakeAlpaca) -> None:
    response = requests.get(f"{fake.base_url}/v2/account", timeout=5)

    assert response.status_code == 401
    assert response.json() == {"code": 40110000, "message": "request is not authorized"}


def test_planned_auth_refusal_answers_403_then_the_keys_work_again(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.faults.refuse_rest_auth(1)

    with pytest.raises(APIError, match="forbidden"):
        client.get_account()

    assert client.get_account().status.value == "ACTIVE"


def test_sdk_retries_a_429_and_succeeds_on_the_fourth_attempt(
    fake: FakeAlpaca, fast_retry_client: TradingClient
) -> None:
    fake.faults.rate_limit(3)

    account = fast_retry_client.get_account()

    assert account.cash == "100000"
    assert statuses(fake, "GET", "/v2/account") == [429, 429, 429, 200]


def test_429_storm_longer_than_the_sdk_retries_surfaces_as_api_error_429(
    fake: FakeAlpaca, fast_retry_client: TradingClient
) -> None:
    fake.faults.rate_limit(10)

    with pytest.raises(APIError, match="rate limit exceeded") as raised:
        fast_retry_client.get_account()

    assert (raised.value.status_code, raised.value.code) == (429, 42910000)
    assert statuses(fake, "GET", "/v2/account") == [429, 429, 429, 429]


def test_429_carries_alpacas_rate_limit_headers_and_retry_after_only_when_planned(fake: FakeAlpaca) -> None:
    fake.faults.rate_limit(1)
    fake.faults.rate_limit(1, retry_after=2)
    headers = {"APCA-API-KEY-ID": fake.key_id, "APCA-API-SECRET-KEY": fake.secret_key}

    plain = requests.get(f"{fake.base_url}/v2/account", headers=headers, timeout=5)
    with_retry_after = requests.get(f"{fake.base_url}/v2/account", headers=headers, timeout=5)

    assert plain.status_code == 429
    assert (plain.headers["X-RateLimit-Limit"], plain.headers["X-RateLimit-Remaining"]) == ("200", "0")
    assert "Retry-After" not in plain.headers
    assert with_retry_after.headers["Retry-After"] == "2"


def test_rate_limit_scoped_to_deletes_leaves_reads_alone(
    fake: FakeAlpaca, fast_retry_client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    fast_retry_client.submit_order(ORDER)
    fake.faults.rate_limit(2, methods=("DELETE",))

    fast_retry_client.get_all_positions()
    fast_retry_client.close_all_positions(cancel_orders=True)

    assert statuses(fake, "GET", "/v2/positions") == [200]
    assert statuses(fake, "DELETE", "/v2/positions") == [429, 429, 207]
    assert fast_retry_client.get_all_positions() == []


def test_504_is_retried_by_the_sdk_like_a_429(fake: FakeAlpaca, fast_retry_client: TradingClient) -> None:
    fake.faults.fail_rest(1, 504, {"message": "gateway timeout"}, path_prefix="/v2/orders")

    order = fast_retry_client.submit_order(ORDER)

    assert order.status == OrderStatus.ACCEPTED
    assert statuses(fake, "POST", "/v2/orders") == [504, 200]


def test_500_is_not_retried_by_the_sdk(fake: FakeAlpaca, fast_retry_client: TradingClient) -> None:
    fake.faults.fail_rest(1, 500, {"code": 50010000, "message": "internal server error"})

    with pytest.raises(APIError, match="internal server error"):
        fast_retry_client.get_account()

    assert statuses(fake, "GET", "/v2/account") == [500]


def test_stalled_call_outlasts_a_client_timeout(fake: FakeAlpaca) -> None:
    fake.faults.stall_rest(1.0, path_prefix="/v2/account")
    headers = {"APCA-API-KEY-ID": fake.key_id, "APCA-API-SECRET-KEY": fake.secret_key}

    with pytest.raises(requests.exceptions.Timeout):
        requests.get(f"{fake.base_url}/v2/account", headers=headers, timeout=0.2)

    assert requests.get(f"{fake.base_url}/v2/account", headers=headers, timeout=5).status_code == 200


def test_planned_http_rejection_refuses_the_post_with_the_reason(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.faults.reject_orders("account is not allowed to short", via="http")

    with pytest.raises(APIError, match="account is not allowed to short") as raised:
        client.submit_order(ORDER)

    assert (raised.value.status_code, raised.value.code) == (403, 40310000)
    assert fake.orders() == []


def test_planned_stream_rejection_accepts_then_ends_rejected(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("AAPL", 100)
    fake.faults.reject_orders("order rejected by the venue")

    order = client.submit_order(ORDER)

    assert order.status == OrderStatus.ACCEPTED
    rejected = client.get_order_by_id(order.id)
    assert (rejected.status, rejected.filled_qty) == (OrderStatus.REJECTED, "0")
    assert rejected.failed_at is not None
    assert [e["event"] for e in fake.events()] == ["rejected"]
    assert fake.faults.statistics().rejections_fired == 1
