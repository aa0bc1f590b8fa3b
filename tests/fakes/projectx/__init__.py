"""A faithful local fake of the ProjectX Gateway API (REST ``/api``, the SignalR user and market hubs),
to drive real client libraries (aiohttp, pysignalr) offline. See README.md beside this file."""

from tests.fakes.projectx.book import AccountSetup
from tests.fakes.projectx.contracts import ContractSpec
from tests.fakes.projectx.engine import HubEvent
from tests.fakes.projectx.enums import OrderSide, OrderStatus, OrderType, PositionType
from tests.fakes.projectx.errors import ApiRefusal, ErrorCode
from tests.fakes.projectx.fake import DEFAULT_ACCOUNTS, FakeProjectX, Number
from tests.fakes.projectx.faults import FaultPlan, FaultStatistics
from tests.fakes.projectx.hub_server import HubConnectionRecord, HubInvocation, HubStatistics
from tests.fakes.projectx.recorder import RecordedRequest, RequestLog

__all__ = [
    "DEFAULT_ACCOUNTS",
    "AccountSetup",
    "ApiRefusal",
    "ContractSpec",
    "ErrorCode",
    "FakeProjectX",
    "FaultPlan",
    "FaultStatistics",
    "HubConnectionRecord",
    "HubEvent",
    "HubInvocation",
    "HubStatistics",
    "Number",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PositionType",
    "RecordedRequest",
    "RequestLog",
]
