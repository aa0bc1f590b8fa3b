import numpy as np
import pytest

from trading.desk._series import SeriesBuffer


def test_series_buffer_under_capacity_keeps_every_point():
    buf = SeriesBuffer(keep=100)
    for i in range(150):
        buf.append(float(i), float(i) * 2)
    series = buf.series()
    assert len(series) == 150
    np.testing.assert_array_equal(series.values, np.arange(150) * 2.0)


def test_series_buffer_long_run_stays_bounded_and_recent_points_exact():
    buf = SeriesBuffer(keep=1_000)
    for i in range(100_000):
        buf.append(float(i), float(i))
    series = buf.series()
    assert len(series) <= 2_000
    np.testing.assert_array_equal(series.times[-1_000:], np.arange(99_000, 100_000, dtype=float))
    assert np.all(np.diff(series.times) > 0)  # still in time order after downsampling
    assert series.times[0] < 50_000  # old history is thinned, not dropped


def test_series_buffer_snapshot_is_read_only_copy():
    buf = SeriesBuffer(keep=10)
    buf.append(1.0, 5.0)
    series = buf.series()
    buf.append(2.0, 6.0)
    assert len(series) == 1
    with pytest.raises(ValueError, match="read-only"):
        series.values[0] = 0.0


def test_series_buffer_replace_last_overwrites_newest_point():
    buf = SeriesBuffer(keep=10)
    buf.append(1.0, 5.0)
    buf.replace_last(1.0, 7.5)
    assert buf.series().values.tolist() == [7.5]
