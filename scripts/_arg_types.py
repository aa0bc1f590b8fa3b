"""Command-line value types shared by ``run_executor.py`` and ``run_live_dashboard.py``.

Each is an ``argparse`` ``type=``: a bad value becomes ``argparse.ArgumentTypeError``, which
the scripts' parsers turn into one line on stderr and exit code 2 ("argument --state: ...").
Whether a state directory can actually be written is checked later, by the same code the
desk runs at start (``StateDir.prepare``), so both scripts print the same line for it.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

__all__ = ["positive_seconds", "state_path"]


def state_path(text: str) -> Path:
    """A state directory: not empty (``Path('')`` would silently be the current directory),
    and not an existing file."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty (a directory such as data/)")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} exists and is not a directory")
    return path


def positive_seconds(text: str) -> float:
    """A finite number of seconds > 0 (``nan``, ``inf`` and negatives refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got {text!r}")
    return value
