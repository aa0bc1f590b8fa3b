"""The restricted unpickler: only an allow-list of types may be reconstructed.

``pickle`` runs whatever callable a file names. Every global a state file asks for goes
through ``find_class`` here; anything outside the allow-list raises ``UnsafeStateError``
before it is even imported, so a crafted file cannot execute anything.

Admitted: plain builtins, datetime, decimal, fractions, uuid, collections basics, numpy
arrays/scalars/dtypes, pandas data (frames, series, indexes, arrays, dtypes, timestamps,
offsets) with the internal helpers they reconstruct through, pyarrow buffers behind
pandas' ``str`` columns, the project's own dataclasses and enums (modules under
``trading.``), and the types a caller registers.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import io
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from trading.errors import UnsafeStateError

__all__ = ["ALLOWED_GLOBALS", "RestrictedUnpickler", "restricted_loads", "type_key"]

_BUILTINS = frozenset(
    (
        "dict",
        "list",
        "tuple",
        "set",
        "frozenset",
        "bytes",
        "bytearray",
        "str",
        "int",
        "float",
        "complex",
        "bool",
        "slice",
        "range",
        "Ellipsis",
        "NotImplemented",
    )
)
_PANDAS_TYPES = (
    "DataFrame",
    "Series",
    "Index",
    "RangeIndex",
    "DatetimeIndex",
    "TimedeltaIndex",
    "PeriodIndex",
    "CategoricalIndex",
    "IntervalIndex",
    "MultiIndex",
    "Categorical",
    "CategoricalDtype",
    "DatetimeTZDtype",
    "PeriodDtype",
    "IntervalDtype",
    "StringDtype",
    "BooleanDtype",
    "Float32Dtype",
    "Float64Dtype",
    "Int8Dtype",
    "Int16Dtype",
    "Int32Dtype",
    "Int64Dtype",
    "UInt8Dtype",
    "UInt16Dtype",
    "UInt32Dtype",
    "UInt64Dtype",
    "ArrowDtype",
    "Timestamp",
    "Timedelta",
    "Period",
    "Interval",
    "NA",
    "NaT",
)
_PANDAS_ARRAYS = (
    "ArrowStringArray",
    "ArrowExtensionArray",
    "BooleanArray",
    "DatetimeArray",
    "FloatingArray",
    "IntegerArray",
    "IntervalArray",
    "NumpyExtensionArray",
    "PeriodArray",
    "StringArray",
    "TimedeltaArray",
)
_PANDAS_PYARROW_HELPERS = {
    ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
    ("pandas._libs.internals", "_unpickle_block"),
    ("pandas._libs.tslibs.nattype", "_nat_unpickle"),
    ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle"),
    ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
    ("pandas.core.indexes.base", "_new_Index"),
    ("pandas.core.indexes.datetimes", "_new_DatetimeIndex"),
    ("pandas.core.indexes.period", "_new_PeriodIndex"),
    ("pandas.core.internals.managers", "BlockManager"),
    ("pandas.core.internals.managers", "SingleBlockManager"),
    ("pyarrow.lib", "_restore_array"),
    ("pyarrow.lib", "py_buffer"),
    ("pyarrow.lib", "type_for_alias"),
}

ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {("builtins", name) for name in _BUILTINS}
    | {("__builtin__", name) for name in _BUILTINS}
    | {("__builtin__", "xrange"), ("_codecs", "encode"), ("copyreg", "_reconstructor")}
    | {("datetime", n) for n in ("datetime", "date", "time", "timedelta", "timezone")}
    | {("decimal", "Decimal"), ("fractions", "Fraction"), ("uuid", "UUID")}
    | {("zoneinfo", "ZoneInfo"), ("zoneinfo", "ZoneInfo._unpickle"), ("zoneinfo._zoneinfo", "ZoneInfo")}
    | {("collections", n) for n in ("OrderedDict", "deque", "defaultdict", "Counter")}
    | {("numpy", n) for n in ("dtype", "ndarray")}
    | {
        (m, n)
        for m in ("numpy.core.multiarray", "numpy._core.multiarray")
        for n in ("_reconstruct", "scalar")
    }
    | {(m, "_frombuffer") for m in ("numpy.core.numeric", "numpy._core.numeric")}
    | {("pandas", n) for n in _PANDAS_TYPES}
    | {("pandas.arrays", n) for n in _PANDAS_ARRAYS}
    | _PANDAS_PYARROW_HELPERS
)


def type_key(cls: type) -> tuple[str, str]:
    """The ``(module, qualified name)`` pair pickle uses to name ``cls``."""
    return (cls.__module__, cls.__qualname__)


def _is_project_data_type(obj: Any) -> bool:
    return isinstance(obj, type) and (dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum))


def _is_pandas_offset(obj: Any) -> bool:
    from pandas.tseries.offsets import BaseOffset

    return isinstance(obj, type) and issubclass(obj, BaseOffset)


def _is_numpy_dtype_class(obj: Any) -> bool:
    import numpy as np

    return isinstance(obj, type) and issubclass(obj, np.dtype | np.generic)


def _safe_getattr_pairs() -> frozenset[tuple[type, str]]:
    from zoneinfo import ZoneInfo

    return frozenset({(ZoneInfo, "_unpickle")})  # a tz-aware datetime/Timestamp pickles its zone so


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that reconstructs only allow-listed globals."""

    def __init__(
        self, file: io.BufferedIOBase | io.BytesIO, *, extra: frozenset[tuple[str, str]], path: Path | None
    ) -> None:
        super().__init__(file)
        self._extra = extra
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if module in ("builtins", "__builtin__") and name == "getattr":
            return self._getattr
        if key in ALLOWED_GLOBALS or key in self._extra:
            return super().find_class(module, name)
        # Rule-based admissions: resolve first (imports only allow-listed packages), then check the type.
        predicate = None
        if module == "trading" or module.startswith("trading."):
            predicate = _is_project_data_type
        elif module == "pandas._libs.tslibs.offsets":
            predicate = _is_pandas_offset
        elif module in ("numpy", "numpy.dtypes"):
            predicate = _is_numpy_dtype_class
        if predicate is not None and "." not in name:
            try:
                obj = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                obj = None
            if predicate(obj):
                return obj
        raise UnsafeStateError(
            f"state file {self._path or '<bytes>'} asks for {module}.{name}, which is not on the "
            "allow-list (builtins data, datetime, decimal, numpy/pandas data, trading dataclasses "
            "and enums, registered types); refused without executing anything",
            path=self._path,
        )

    def _getattr(self, obj: Any, name: str) -> Any:
        """``getattr`` for the few attribute look-ups data pickles make; anything else is refused."""
        if isinstance(obj, type) and (obj, name) in _safe_getattr_pairs():
            return getattr(obj, name)
        raise UnsafeStateError(
            f"state file {self._path or '<bytes>'} asks for builtins.getattr({type(obj).__name__} "
            f"{getattr(obj, '__name__', '?')}, {name!r}), which is not on the allow-list; "
            "refused without executing anything",
            path=self._path,
        )


def restricted_loads(
    data: bytes | memoryview, *, extra: Iterable[tuple[str, str]] = (), path: Path | None = None
) -> Any:
    """Unpickle ``data`` through ``RestrictedUnpickler``."""
    return RestrictedUnpickler(io.BytesIO(data), extra=frozenset(extra), path=path).load()
