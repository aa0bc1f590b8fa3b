"""The bucket priority queue and the task lifecycle table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trading.errors import InvalidStateTransition
from trading.signals import TASK_STATE_TABLE, TaskOutcome, TaskStatus
from trading.signals._queue import _BucketQueue
from trading.signals._task import _Task


def make(priority: int, name: str = "t") -> _Task:
    return _Task(
        name,
        name,
        print,
        (),
        {},
        lane="l",
        key=None,
        priority=priority,
        timeout=1.0,
        retries=0,
        is_async=False,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_bucket_queue_pops_priority_then_fifo_and_skips_removed() -> None:
    # Arrange
    queue = _BucketQueue()
    tasks = [make(p, f"{p}-{i}") for i, p in enumerate([3, 1, 2, 1, 3, 0])]
    for task in tasks:
        queue.push(task)
    tasks[1].move(TaskStatus.CANCELLED)  # "1-1" removed lazily
    queue.discard(tasks[1])

    # Act
    last = queue.pop_last()
    order = []
    while (task := queue.pop()) is not None:
        order.append(task.name)

    # Assert
    assert last is not None and last.name == "3-4"  # highest number, newest
    assert order == ["0-5", "1-3", "2-2", "3-0"]
    assert len(queue) == 0 and queue.pop_last() is None


def test_task_illegal_transition_names_both_states() -> None:
    task = make(1)
    task.move(TaskStatus.RUNNING)
    task.move(TaskStatus.COMPLETED)
    with pytest.raises(InvalidStateTransition, match="invalid task transition COMPLETED -> RUNNING"):
        task.move(TaskStatus.RUNNING)


def test_task_state_table_terminal_states_have_no_exit() -> None:
    finished = {s for s in TaskStatus if s.finished}
    assert finished == {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.TIMEOUT,
        TaskStatus.CANCELLED,
        TaskStatus.DROPPED,
        TaskStatus.ABANDONED,
    }
    assert all(s.targets == tuple(TASK_STATE_TABLE[s]) for s in TaskStatus)


@pytest.mark.parametrize(
    ("value", "summary", "details"),
    [
        (TaskOutcome("ok", {"n": 1}), "ok", {"n": 1}),
        ({"summary": "s", "details": {"a": 2}}, "s", {"a": 2}),
        ({"summary": 5}, "5", {}),
        ({"other": 1}, "{'other': 1}", {}),
        (None, "", {}),
        ("x" * 500, "x" * 200, {}),
    ],
)
def test_task_set_outcome_fills_summary_and_details(value: object, summary: str, details: dict) -> None:
    task = make(1)
    task.set_outcome(value)
    assert (task.summary, dict(task.details)) == (summary, details)
