"""The publish path keeps the loop responsive: measured against writing inline on the loop
in the same run (a ratio, not an absolute time: the machines are noisy). With 15 publishes the
p99 is the worst one, so one stall from another process on a busy machine can spoil a run:
up to three runs are measured and the best counts (a real regression fails all three)."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_desk.py"


@pytest.mark.slow
def test_desk_publish_stalls_loop_far_less_than_inline_save(capsys):
    spec = importlib.util.spec_from_file_location("bench_desk", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    ratios = []
    for _ in range(3):
        ratios.append(module.main(["--quick", "--points", "200000"])["ratio"])
        if ratios[-1] < 0.6:
            break

    assert min(ratios) < 0.6, capsys.readouterr().out
