"""``JobRepository``: the executor's ``JobStore`` on SQLite."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import RowMapping, Select, func, select

from trading.signals.jobs import JobRecord
from trading.storage._channel import WriterChannel
from trading.storage._codec import dump_json, from_iso, load_json, to_iso
from trading.storage._schema import jobs
from trading.storage._sql import check_limit, upsert
from trading.storage.database import Database
from trading.storage.writer import BackgroundWriter

__all__ = ["JobRepository", "job_values"]

_UNFINISHED = ("PENDING", "RUNNING")
_TIMES = ("created_at", "started_at", "finished_at")
_COLUMNS = tuple(column.name for column in jobs.columns)


class JobRepository:
    """Implements ``trading.signals.jobs.JobStore``; one row per task, replaced on every record."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, job: JobRecord) -> None:
        values = job_values(job)
        self._db.write(lambda conn: upsert(conn, jobs, values, ["task_id"]))

    @property
    def database(self) -> Database:
        return self._db

    def channel(self, writer: BackgroundWriter) -> WriterChannel:
        """The channel on ``writer`` (this database's) that upserts the ``JobRecord`` put on it
        (one per writer, shared); of a task's records in one batch only the newest is written."""
        return writer.channel("job records", jobs, _COLUMNS, _job_rows, keys=("task_id",), payload=JobRecord)

    def unfinished(self, lane: str) -> builtins.list[JobRecord]:
        query = (
            select(jobs)
            .where(jobs.c.lane == lane, jobs.c.status.in_(_UNFINISHED))
            .order_by(jobs.c.created_at, jobs.c.task_id)
        )
        return self._fetch(query)

    def get(self, task_id: str) -> JobRecord | None:
        found = self._fetch(select(jobs).where(jobs.c.task_id == task_id))
        return found[0] if found else None

    def list(
        self,
        *,
        status: str | None = None,
        name: str | None = None,
        lane: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[JobRecord]:
        """Newest first, filtered by the given fields."""
        check_limit(limit, offset)
        query = _filtered(select(jobs), status, name, lane)
        query = query.order_by(jobs.c.created_at.desc(), jobs.c.task_id.desc()).limit(limit).offset(offset)
        return self._fetch(query)

    def count(self, status: str | None = None, name: str | None = None, lane: str | None = None) -> int:
        query = _filtered(select(func.count()).select_from(jobs), status, name, lane)
        return int(self._db.read(lambda conn: conn.execute(query).scalar_one()))

    def _fetch(self, query: Select[Any]) -> builtins.list[JobRecord]:
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [_job(row) for row in rows]

    def __repr__(self) -> str:
        return f"JobRepository({self._db!r})"


def _filtered(query: Select[Any], status: str | None, name: str | None, lane: str | None) -> Select[Any]:
    if status is not None:
        query = query.where(jobs.c.status == status)
    if name is not None:
        query = query.where(jobs.c.name == name)
    if lane is not None:
        query = query.where(jobs.c.lane == lane)
    return query


def _job(row: RowMapping) -> JobRecord:
    data = dict(row)
    for name in _TIMES:
        data[name] = from_iso(data[name])
    data["details"] = load_json(data["details"])
    return JobRecord(**data)


def _job_rows(records: list[JobRecord]) -> list[tuple[Any, ...]]:
    newest = {job.task_id: job for job in records}  # a later record of the same task replaces it
    rows = []
    for job in newest.values():
        values = job_values(job)
        rows.append(tuple(values[name] for name in _COLUMNS))
    return rows


def job_values(job: JobRecord) -> dict[str, Any]:
    """A record as a row; ``TypeError``/``ValueError`` for a bad record (checked before any write)."""
    if not isinstance(job, JobRecord):
        raise TypeError(f"record needs a JobRecord, got {type(job).__name__}")
    return {
        "task_id": job.task_id,
        "name": job.name,
        "lane": job.lane,
        "status": job.status,
        "key": job.key,
        "priority": int(job.priority),
        "created_at": to_iso(job.created_at, field="job.created_at"),
        "started_at": to_iso(job.started_at, field="job.started_at"),
        "finished_at": to_iso(job.finished_at, field="job.finished_at"),
        "duration_ms": job.duration_ms,
        "attempts": int(job.attempts),
        "result_summary": job.result_summary,
        "error_class": job.error_class,
        "error_message": job.error_message,
        "details": dump_json(job.details, field="job.details"),
    }
