"""RiskRecorder: the rows of one risk decision, handed to the store as one record.

Act first, write after. While a violation is handled the enforcer submits its orders and
publishes its events; the lockouts it takes, the audit rows of its steps and the violation
itself are only *collected* here. When the outermost ``unit()`` ends, they go to the store as
one record together with every rule's state after the decision (``states()``): the store
writes a record in one transaction, so after a crash the violation, its lockout, its audit
rows and the rule's latch are either all there (a restart does not fire again) or none is
(the breach fires again, once).

- ``unit()``: the record is queued on the store's background writer (the event loop never
  waits on the disk); ``unit(durable=True)`` (an operator's unlock, pause, resume, flatten)
  commits it before returning, and raises if it cannot.
- A row recorded outside any unit (a lockout expiring on a tick) is a record of its own.
- A record carries the rule states that changed since the last one handed to the store;
  ``save_states()`` (every risk sweep, and at stop) writes those too: high-water marks,
  windows and timers move without a violation.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from trading.clock import Clock

__all__ = ["RiskRecorder", "RiskStore", "SavedState"]

logger = logging.getLogger(__name__)

Row = Mapping[str, Any]
# states(names): the trading day and the exported states of the rules ``names`` (None: every rule)
States = Callable[[Collection[str] | None], tuple[date, dict[str, dict[str, Any]]]]


class SavedState(Protocol):
    """One rule's saved state (``trading.storage.SavedRuleState``)."""

    @property
    def trading_day(self) -> date | None: ...

    @property
    def state(self) -> dict[str, Any]: ...


class RiskStore(Protocol):
    """What ``trading.storage.RiskRepository`` provides."""

    def put(
        self,
        *,
        violations: Sequence[Row] = (),
        lockouts: Mapping[str, Row | None] | None = None,
        audits: Sequence[Row] = (),
        rule_states: Mapping[str, Row] | None = None,
        trading_day: date | None = None,
        at: datetime | None = None,
    ) -> bool: ...

    def write(
        self,
        *,
        violations: Sequence[Row] = (),
        lockouts: Mapping[str, Row | None] | None = None,
        audits: Sequence[Row] = (),
        rule_states: Mapping[str, Row] | None = None,
        trading_day: date | None = None,
        at: datetime | None = None,
        timeout: float = 10.0,
    ) -> None: ...

    def flush(self, timeout: float = 10.0) -> bool: ...

    def lockout_rows(self) -> list[dict[str, Any]]: ...

    def recent_violations(self, limit: int = 100) -> list[dict[str, Any]]: ...

    def saved_rule_states(self) -> Mapping[str, SavedState]: ...


class RiskRecorder:
    """Collects violation, lockout and audit rows; commits them with the rule states."""

    def __init__(self, store: RiskStore | None, clock: Clock, *, states: States) -> None:
        self.store = store
        self._clock = clock
        self._states = states
        self._depth = 0
        self._durable = False
        self._violations: list[Row] = []
        self._lockouts: dict[str, Row | None] = {}
        self._audits: list[Row] = []
        self._written: dict[str, dict[str, Any]] = {}  # rule -> the state last handed to the store
        self._written_day: date | None = None
        self.records = 0
        self.refused = 0

    # --- collecting ------------------------------------------------------------------

    @contextlib.contextmanager
    def unit(self, *, durable: bool = False) -> Iterator[None]:
        """Rows recorded inside go to the store as one record when the outermost unit ends."""
        self._depth += 1
        self._durable = self._durable or durable
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                durable, self._durable = self._durable, False
                self._commit(durable)

    def violation(self, row: Row) -> None:
        self._violations.append(row)
        self._changed()

    def lockout(self, scope: str, row: Row | None) -> None:
        """``scope``'s lockout is now ``row`` (None: it ended)."""
        self._lockouts[scope] = row
        self._changed()

    def audit(self, row: Row) -> None:
        self._audits.append(row)
        self._changed()

    def _changed(self) -> None:
        if self._depth == 0:
            self._commit(False)

    # --- committing ------------------------------------------------------------------

    def _commit(self, durable: bool) -> None:
        violations, lockouts, audits = self._violations, self._lockouts, self._audits
        if not (violations or lockouts or audits):
            return  # nothing decided: the rule states go with the next record or ``save_states``
        self._violations, self._lockouts, self._audits = [], {}, []
        store = self.store
        if store is None:
            return
        # A violation's record carries its rule's state (the latch a restart must find with the
        # violation); an operator's, every rule's that changed. The sweep saves the others.
        names = None if durable else {str(row["rule"]) for row in violations}
        day, states = self._states(names)
        changed = self._changed_states(day, states)
        rows: dict[str, Any] = {
            "violations": violations,
            "lockouts": lockouts,
            "audits": audits,
            "rule_states": changed,
            "trading_day": day,
            "at": self._clock.now(),
        }
        if durable:
            store.write(**rows)  # raises: the caller's command must not be reported done
        elif not store.put(**rows):
            self.refused += 1
            logger.warning(
                "risk record refused by the store (closed): %d violation(s) not written", len(violations)
            )
            return
        self.records += 1
        self._wrote(day, states, changed)

    def _changed_states(self, day: date, states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The states that differ from the ones last handed to the store (all of them on a new day)."""
        if day != self._written_day:
            return states
        written = self._written
        return {name: state for name, state in states.items() if written.get(name) != state}

    def _wrote(
        self, day: date, states: dict[str, dict[str, Any]], changed: dict[str, dict[str, Any]]
    ) -> None:
        self._written = states if day != self._written_day else {**self._written, **changed}
        self._written_day = day

    def save_states(self, *, durable: bool = False) -> bool:
        """Write the rule states that changed since the last record; True if something was written."""
        store = self.store
        if store is None or self._depth:
            return False
        day, states = self._states(None)
        changed = self._changed_states(day, states)
        if not changed:
            return False
        at = self._clock.now()
        if durable:
            store.write(rule_states=changed, trading_day=day, at=at)
        elif not store.put(rule_states=changed, trading_day=day, at=at):
            self.refused += 1
            return False
        self._wrote(day, states, changed)
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """True once every record handed to the store so far is written."""
        return True if self.store is None else self.store.flush(timeout)

    def __repr__(self) -> str:
        return f"RiskRecorder(records={self.records}, refused={self.refused}, depth={self._depth})"
