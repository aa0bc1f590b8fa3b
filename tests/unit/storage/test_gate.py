"""WriteGate: one write transaction at a time in the process, the journal (urgent) first."""

from __future__ import annotations

import threading

from trading.storage._gate import WriteGate


def test_write_gate_urgent_writer_goes_before_a_background_writer_that_came_later():
    gate = WriteGate()
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first_background() -> None:
        with gate.background():
            holding.set()
            release.wait(5)
            order.append("first background")

    def urgent() -> None:
        with gate.urgent():
            order.append("urgent")

    def later_background() -> None:
        with gate.background():
            order.append("later background")

    threads = [threading.Thread(target=first_background)]
    threads[0].start()
    assert holding.wait(5)
    threads.append(threading.Thread(target=urgent))
    threads[1].start()
    while gate._urgent == 0:  # the urgent writer is waiting
        threading.Event().wait(0.001)
    threads.append(threading.Thread(target=later_background))
    threads[2].start()
    release.set()
    for thread in threads:
        thread.join(5)

    assert order == ["first background", "urgent", "later background"]
    assert gate.waits == 2


def test_write_gate_journal_and_background_writer_share_the_database_gate(tmp_path):
    from trading.storage import Database

    db = Database(tmp_path / "desk.db")
    try:
        assert db.writer()._gate is db.gate
    finally:
        db.close()
