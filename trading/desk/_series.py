"""A bounded time series: recent points at full resolution, older ones downsampled.

Appends are O(1) into preallocated numpy arrays. When the buffer reaches twice
``keep`` points, the oldest ``keep`` points are halved (every other point kept, the
first one always), so memory stays bounded over an arbitrarily long run while the
recent ``keep`` points stay exact.
"""

from __future__ import annotations

import numpy as np

from trading.snapshot import Series

__all__ = ["SeriesBuffer"]


class SeriesBuffer:
    def __init__(self, keep: int) -> None:
        if keep < 2:
            raise ValueError(f"SeriesBuffer keep must be >= 2, got {keep}")
        self.keep = keep
        self._times = np.empty(2 * keep, dtype=np.float64)
        self._values = np.empty(2 * keep, dtype=np.float64)
        self._n = 0
        self.downsamples = 0

    def __len__(self) -> int:
        return self._n

    def append(self, t: float, value: float) -> None:
        if self._n == self._times.shape[0]:
            self._downsample()
        self._times[self._n] = t
        self._values[self._n] = value
        self._n += 1

    def replace_last(self, t: float, value: float) -> None:
        """Overwrite the newest point (used for a series with one point per day)."""
        if self._n == 0:
            self.append(t, value)
        else:
            self._times[self._n - 1] = t
            self._values[self._n - 1] = value

    @property
    def last_time(self) -> float | None:
        return float(self._times[self._n - 1]) if self._n else None

    def _downsample(self) -> None:
        old = self._n - self.keep
        idx = np.arange(0, old, 2)  # the first point is always kept: history still starts at the start
        kept = idx.size
        self._times[:kept] = self._times[idx]
        self._values[:kept] = self._values[idx]
        self._times[kept : kept + self.keep] = self._times[old : self._n]
        self._values[kept : kept + self.keep] = self._values[old : self._n]
        self._n = kept + self.keep
        self.downsamples += 1

    def series(self) -> Series:
        """An immutable copy for a snapshot."""
        times = self._times[: self._n].copy()
        values = self._values[: self._n].copy()
        times.flags.writeable = False
        values.flags.writeable = False
        return Series(times, values)

    def load(self, series: Series) -> None:
        """Start from a previously published series (desk restart)."""
        self._n = 0
        for t, v in zip(series.times[-2 * self.keep + 1 :], series.values[-2 * self.keep + 1 :], strict=True):
            self.append(float(t), float(v))

    def __repr__(self) -> str:
        return f"SeriesBuffer(points={self._n}, keep={self.keep}, downsamples={self.downsamples})"
