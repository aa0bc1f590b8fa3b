"""The server side of the SignalR JSON hub protocol, written by hand for the fake (a test double;
the product uses a client library).

Read from ASP.NET Core's "SignalR Hub Protocol" specification (HubProtocol.md): every message is
a JSON object followed by the record separator 0x1E; a websocket frame may carry several records
and a record may span frames. The client opens with the handshake request
``{"protocol":"json","version":1}``; the server answers ``{}`` (or ``{"error": "..."}`` and
closes). Message types: 1 invocation ``{"type":1,"invocationId"?,"target","arguments"}``
(both ways; without ``invocationId`` no answer is expected), 3 completion
``{"type":3,"invocationId","result"?|"error"?}``, 6 ping ``{"type":6}``, 7 close
``{"type":7,"error"?,"allowReconnect"?}``. Streams (2, 4, 5) are not used by the user hub.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

__all__ = [
    "RECORD_SEPARATOR",
    "MessageType",
    "RecordReader",
    "close_message",
    "completion",
    "encode",
    "invocation",
]

RECORD_SEPARATOR = "\x1e"


class MessageType(IntEnum):
    INVOCATION = 1
    STREAM_ITEM = 2
    COMPLETION = 3
    STREAM_INVOCATION = 4
    CANCEL_INVOCATION = 5
    PING = 6
    CLOSE = 7


PING: dict[str, Any] = {"type": int(MessageType.PING)}


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":")) + RECORD_SEPARATOR


def invocation(target: str, arguments: list[Any]) -> dict[str, Any]:
    """A server-to-client invocation; no ``invocationId``: the server expects no result."""
    return {"type": int(MessageType.INVOCATION), "target": target, "arguments": arguments}


def completion(invocation_id: str, *, error: str | None = None) -> dict[str, Any]:
    """The answer to a client invocation that carried an id; a void hub method has no ``result``."""
    message: dict[str, Any] = {"type": int(MessageType.COMPLETION), "invocationId": invocation_id}
    if error is not None:
        message["error"] = error
    return message


def close_message(error: str | None = None, allow_reconnect: bool | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": int(MessageType.CLOSE)}
    if error is not None:
        message["error"] = error
    if allow_reconnect is not None:
        message["allowReconnect"] = allow_reconnect
    return message


class RecordReader:
    """Splits incoming text into records, keeping an unfinished record for the next frame."""

    def __init__(self) -> None:
        self._pending = ""

    def __repr__(self) -> str:
        return f"RecordReader(pending={len(self._pending)} chars)"

    def feed(self, text: str) -> list[Any]:
        """Every complete record in ``text`` (after what was pending), decoded; a record that is
        not JSON is returned as None."""
        *complete, self._pending = (self._pending + text).split(RECORD_SEPARATOR)
        records: list[Any] = []
        for raw in complete:
            if not raw:
                continue
            try:
                records.append(json.loads(raw))
            except ValueError:
                records.append(None)
        return records
