"""SQLite storage (WAL, through SQLAlchemy 2.0 Core): schema and migrations, repositories,
the background writer (one queue and one thread per database) and its producers: the
asynchronous activity log and the background job store.

No module outside this package writes SQL. Every repository is synchronous, thread-safe
and safe across processes on one database file; datetimes are stored as ISO-8601 UTC
text and come back timezone-aware.
"""

from trading.storage._channel import WriterChannel
from trading.storage._job_writer import BackgroundJobStore, BackgroundJobStoreStatistics
from trading.storage.activity import LEVELS, ActivityLog, ActivityLogStatistics
from trading.storage.commands import CommandRepository, KeyValueRepository
from trading.storage.database import Database, DatabaseStatistics
from trading.storage.jobs import JobRepository
from trading.storage.journal import Journal, JournalStatistics
from trading.storage.journal_reader import JournalReader
from trading.storage.orders import (
    FillRecord,
    FillRepository,
    OrderHistoryRepository,
    OrderRecord,
    OrderRepository,
)
from trading.storage.risk import (
    AuditRepository,
    LockoutRepository,
    RiskRecord,
    RiskRepository,
    RuleStateRepository,
    SavedRuleState,
    ViolationRepository,
)
from trading.storage.transactions import DuplicatePositionError, TransactionRepository
from trading.storage.writer import BackgroundWriter, BackgroundWriterStatistics

__all__ = [
    "LEVELS",
    "ActivityLog",
    "ActivityLogStatistics",
    "AuditRepository",
    "BackgroundJobStore",
    "BackgroundJobStoreStatistics",
    "BackgroundWriter",
    "BackgroundWriterStatistics",
    "CommandRepository",
    "Database",
    "DatabaseStatistics",
    "DuplicatePositionError",
    "FillRecord",
    "FillRepository",
    "JobRepository",
    "Journal",
    "JournalReader",
    "JournalStatistics",
    "KeyValueRepository",
    "LockoutRepository",
    "OrderHistoryRepository",
    "OrderRecord",
    "OrderRepository",
    "RiskRecord",
    "RiskRepository",
    "RuleStateRepository",
    "SavedRuleState",
    "TransactionRepository",
    "ViolationRepository",
    "WriterChannel",
]
