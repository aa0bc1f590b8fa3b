"""The publish path keeps the loop responsive: measured against writing inline on the loop
in the same run (a ratio, not an absolute time: the machines are noisy)."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_desk.py"


@pytest.mark.slow
def test_desk_publish_stalls_loop_far_less_than_inline_save(capsys):
    spec = importlib.util.spec_from_file_location("bench_desk", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    result = module.main(["--quick", "--points", "200000"])

    assert result["ratio"] < 0.6, capsys.readouterr().out
