"""The shipped desk run for five minutes of wall time at 100x (eight simulated hours): its log
holds no traceback and no ERROR or CRITICAL line, it stops on its own with exit code 0, and
its memory levels off.

ERROR in the desk's log means something went wrong in the desk (a routine risk action is
logged at its alert's own severity), so one such line fails this test.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.integration._desk_run import heartbeat, start_desk, stop, wait_for, write_configs

RUN_SECONDS = 300
_FAILURE = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) ")  # "%(asctime)s %(levelname)s %(name)s: ..."


def _rss_kb(pid: int) -> int | None:
    """The process's resident set (VmRSS, kB), or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else None


@pytest.mark.slow
@pytest.mark.timeout(RUN_SECONDS + 180)
def test_desk_five_minutes_at_100x_logs_no_traceback_no_error_and_exits_zero(tmp_path) -> None:
    # Arrange: the shipped configs, the clock at 100x, a fresh state directory
    config = write_configs(tmp_path / "config", desk={"clock": {"speed": 100}})
    state = tmp_path / "state"
    log = tmp_path / "desk.log"

    # Act: run until --duration stops it; sample the resident set along the way
    with log.open("w") as stderr:
        proc = start_desk(config, state, stderr, "--duration", str(RUN_SECONDS))
        try:
            wait_for(lambda: heartbeat(state), 60, "the running desk")
            time.sleep(20)  # past the start-up: imports, schema, the first bars
            rss = [_rss_kb(proc.pid)]
            while proc.poll() is None:
                sample = _rss_kb(proc.pid)
                if sample is not None:
                    rss.append(sample)
                time.sleep(5)
            code = proc.wait(timeout=RUN_SECONDS + 60)
        finally:
            stop(proc)

    # Assert
    text = log.read_text()
    failures = [line for line in text.splitlines() if _FAILURE.match(line)]
    assert "Traceback" not in text, text[text.index("Traceback") - 2000 :][:6000]
    assert failures == [], "\n".join(failures[:20])
    assert code == 0, text[-3000:]
    first = rss[0]
    assert first is not None and len(rss) > 10, rss
    last = rss[-1]
    print(f"desk RSS: {first} kB after start-up, {last} kB at the end, {max(rss)} kB at most")
    assert last < 2 * first, f"RSS grew from {first} kB to {last} kB: {rss}"
