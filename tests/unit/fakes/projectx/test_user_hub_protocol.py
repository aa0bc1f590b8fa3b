"""The user hub's SignalR JSON protocol, spoken by a plain websocket client: handshake, framing,
negotiation, authentication, completions, pings and close."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.fakes.projectx import FakeProjectX

RS = "\x1e"


def _login(fake: FakeProjectX) -> str:
    body = json.dumps({"userName": fake.user_name, "apiKey": fake.api_key}).encode()
    request = urllib.request.Request(
        f"{fake.base_url}/api/Auth/loginKey", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(json.loads(response.read())["token"])


def _negotiate(fake: FakeProjectX, query: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{fake.user_hub_url}/negotiate?{query}", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def _ws(fake: FakeProjectX, query: str, **options: Any) -> ClientConnection:
    return connect(f"{fake.user_hub_url.replace('http', 'ws', 1)}?{query}", **options)


def _records(websocket: ClientConnection, count: int, *, skip_pings: bool = True) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while len(found) < count:
        frame = websocket.recv(timeout=5)
        assert isinstance(frame, str) and frame.endswith(RS), repr(frame)
        for raw in frame.split(RS)[:-1]:
            message = json.loads(raw)
            if not (skip_pings and message == {"type": 6}):
                found.append(message)
    return found


@pytest.fixture
def token(fake: FakeProjectX) -> str:
    return _login(fake)


@pytest.fixture
def raw(fake: FakeProjectX, token: str) -> Iterator[ClientConnection]:
    """A websocket that skipped negotiation (as the gateway docs' example does) and shook hands."""
    with _ws(fake, f"access_token={token}") as websocket:
        websocket.send('{"protocol":"json","version":1}' + RS)
        assert websocket.recv(timeout=5) == "{}" + RS
        yield websocket


def test_handshake_json_v1_answers_an_empty_object_record(fake: FakeProjectX, raw: ClientConnection) -> None:
    assert fake.wait_for_hub(lambda hub: hub.statistics().connected == 1)
    statistics = fake.hub_statistics()

    assert (statistics.negotiations, statistics.handshakes, statistics.connected) == (0, 1, 1)
    assert fake.hub_connections()[0].negotiated is False


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        ({"protocol": "messagepack", "version": 1}, "The protocol 'messagepack' is not supported."),
        ({"protocol": "json", "version": 2}, "The server does not support version 2 of the 'json' protocol."),
    ],
)
def test_handshake_unsupported_answers_an_error_then_closes(
    fake: FakeProjectX, token: str, request_: dict[str, Any], error: str
) -> None:
    with _ws(fake, f"access_token={token}") as websocket:
        websocket.send(json.dumps(request_) + RS)

        assert json.loads(websocket.recv(timeout=5).rstrip(RS)) == {"error": error}
        with pytest.raises(ConnectionClosed):
            websocket.recv(timeout=5)


def test_handshake_split_across_frames_is_read(fake: FakeProjectX, token: str) -> None:
    with _ws(fake, f"access_token={token}") as websocket:
        websocket.send('{"protocol":"js')
        websocket.send('on","version":1}' + RS)

        assert websocket.recv(timeout=5) == "{}" + RS


def test_two_records_in_one_frame_are_both_invoked(fake: FakeProjectX, raw: ClientConnection) -> None:
    account = fake.account_ids[0]

    raw.send(
        json.dumps({"type": 1, "target": "SubscribeOrders", "arguments": [account]})
        + RS
        + json.dumps({"type": 1, "target": "SubscribeTrades", "arguments": [account]})
        + RS
    )

    assert fake.wait_for_subscription("trades", account) and fake.hub_subscribers("orders", account) == 1


def test_event_is_a_text_invocation_record_with_the_wrapped_payload(
    fake: FakeProjectX, raw: ClientConnection
) -> None:
    account = fake.account_ids[0]
    raw.send(json.dumps({"type": 1, "target": "SubscribeOrders", "arguments": [account]}) + RS)
    assert fake.wait_for_subscription("orders", account)

    order_id = fake.place_hand_order(account, "ES", "buy", 1, type="limit", limit_price=4990)

    (event,) = _records(raw, 1)
    assert set(event) == {"type", "target", "arguments"}
    assert (event["type"], event["target"]) == (1, "GatewayUserOrder")
    (payload,) = event["arguments"]
    assert (payload["action"], payload["data"]["id"], payload["data"]["limitPrice"]) == (0, order_id, 4990)


def test_invocation_with_an_id_gets_a_completion_without_result(
    fake: FakeProjectX, raw: ClientConnection
) -> None:
    raw.send(
        json.dumps({"type": 1, "invocationId": "7", "target": "subscribeaccounts", "arguments": []}) + RS
    )

    assert _records(raw, 1) == [{"type": 3, "invocationId": "7"}]
    assert fake.hub_subscribers("accounts") == 1  # hub methods resolve case-insensitively


@pytest.mark.parametrize("arguments", [[], ["1001"], [True], [1001, 1002]])
def test_invocation_with_wrong_arguments_gets_a_completion_error(
    fake: FakeProjectX, raw: ClientConnection, arguments: list[Any]
) -> None:
    raw.send(
        json.dumps({"type": 1, "invocationId": "8", "target": "SubscribeOrders", "arguments": arguments}) + RS
    )

    (answer,) = _records(raw, 1)
    assert answer == {
        "type": 3,
        "invocationId": "8",
        "error": "Failed to invoke 'SubscribeOrders' due to an error on the server.",
    }
    assert fake.hub_invocations()[-1].accepted is False


def test_server_pings_every_interval(raw: ClientConnection) -> None:
    assert _records(raw, 2, skip_pings=False) == [{"type": 6}, {"type": 6}]


def test_client_close_message_ends_the_connection(fake: FakeProjectX, raw: ClientConnection) -> None:
    raw.send(json.dumps({"type": 7}) + RS)

    assert fake.wait_for_hub(lambda hub: hub.statistics().connected == 0)
    assert fake.hub_statistics().dropped == 0


def test_close_hub_sends_a_close_message_then_closes(fake: FakeProjectX, raw: ClientConnection) -> None:
    fake.close_hub(error="Connection closed with an error.", allow_reconnect=True)

    assert _records(raw, 1) == [
        {"type": 7, "error": "Connection closed with an error.", "allowReconnect": True}
    ]
    with pytest.raises(ConnectionClosed) as closed:
        raw.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


def test_drop_hub_closes_with_1011_and_no_close_message(fake: FakeProjectX, raw: ClientConnection) -> None:
    assert fake.drop_hub() == 1

    with pytest.raises(ConnectionClosed) as closed:
        _records(raw, 1)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011


def test_authorization_header_is_accepted_without_a_query_token(fake: FakeProjectX, token: str) -> None:
    with _ws(fake, "", additional_headers={"Authorization": f"Bearer {token}"}) as websocket:
        websocket.send('{"protocol":"json","version":1}' + RS)
        assert websocket.recv(timeout=5) == "{}" + RS


def test_query_token_wins_over_the_header(fake: FakeProjectX, token: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        _ws(fake, "access_token=stale", additional_headers={"Authorization": f"Bearer {token}"})

    assert refused.value.response.status_code == 401


def test_expired_token_is_refused_401_before_the_upgrade(fake: FakeProjectX, token: str) -> None:
    fake.expire_tokens()

    with pytest.raises(InvalidStatus) as refused:
        _ws(fake, f"access_token={token}")

    assert refused.value.response.status_code == 401


def test_negotiate_v0_answers_a_connection_id_for_one_websocket(fake: FakeProjectX, token: str) -> None:
    status, answer = _negotiate(fake, f"access_token={token}")
    assert status == 200
    assert answer["negotiateVersion"] == 0 and "connectionToken" not in answer
    assert answer["availableTransports"] == [
        {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
    ]

    with _ws(fake, f"access_token={token}&id={answer['connectionId']}"):
        pass
    with pytest.raises(InvalidStatus) as spent:
        _ws(fake, f"access_token={token}&id={answer['connectionId']}")

    assert spent.value.response.status_code == 404
    assert spent.value.response.body == b"No Connection with that ID"


def test_negotiate_v1_connects_with_the_connection_token(fake: FakeProjectX, token: str) -> None:
    _, answer = _negotiate(fake, f"negotiateVersion=1&access_token={token}")

    with _ws(fake, f"access_token={token}&id={answer['connectionToken']}") as websocket:
        websocket.send('{"protocol":"json","version":1}' + RS)
        assert websocket.recv(timeout=5) == "{}" + RS
    assert fake.hub_connections()[0].connection_id == answer["connectionId"]


def test_negotiate_without_a_valid_token_answers_401(fake: FakeProjectX) -> None:
    assert _negotiate(fake, "access_token=nope")[0] == 401
    assert _negotiate(fake, "")[0] == 401


def test_planned_hub_refusal_answers_its_status_to_the_upgrade(fake: FakeProjectX, token: str) -> None:
    fake.faults.refuse_hub(status=503)

    with pytest.raises(InvalidStatus) as refused:
        _ws(fake, f"access_token={token}")

    assert refused.value.response.status_code == 503
    assert fake.faults.statistics().hub_refusals_fired == 1
