"""A faithful local fake of Alpaca's paper trading API (REST /v2 and the trade_updates stream),
to drive the real ``alpaca-py`` SDK offline. See README.md beside this file."""

from tests.fakes.alpaca.errors import ApiRefusal
from tests.fakes.alpaca.fake import FakeAlpaca, Number
from tests.fakes.alpaca.faults import FaultPlan, FaultStatistics, OrderRejection, RestFault
from tests.fakes.alpaca.recorder import RecordedRequest, RequestLog
from tests.fakes.alpaca.stream import StreamStatistics

__all__ = [
    "ApiRefusal",
    "FakeAlpaca",
    "FaultPlan",
    "FaultStatistics",
    "Number",
    "OrderRejection",
    "RecordedRequest",
    "RequestLog",
    "RestFault",
    "StreamStatistics",
]
