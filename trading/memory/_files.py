"""File mechanics: the crash-safe write, backups, moving a bad file aside, stale temp files.

A save writes a temp file in the same directory, flushes and fsyncs it, hard-links the
current file into the backup set, ``os.replace``\\ s the temp file over the state file and
fsyncs the directory. A SIGKILL at any moment leaves the old file or the new one, both
complete. Backups are hard links to *previous* state files (the file ``os.replace``
retires), so keeping them costs no copy and they never share an inode with the live file.
A writer killed before its rename leaves its temp file behind; the next writer removes it
(``remove_stale_temp_files``, under the lock).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from pathlib import Path

__all__ = ["atomic_write", "backup_paths", "fsync_dir", "quarantine", "remove_stale_temp_files", "temp_path"]

logger = logging.getLogger(__name__)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_paths(path: Path) -> list[Path]:
    """Backups of ``path``, newest first (names carry the retired file's generation)."""
    prefix = path.name + ".bak."
    found: list[tuple[int, Path]] = []
    with os.scandir(path.parent) as it:
        for entry in it:
            if entry.name.startswith(prefix):
                suffix = entry.name[len(prefix) :]
                if suffix.isdigit():
                    found.append((int(suffix), Path(entry.path)))
    found.sort(reverse=True)
    return [p for _, p in found]


def _retire_into_backups(path: Path, generation: int | None, keep: int) -> None:
    if keep <= 0 or generation is None:
        return
    target = path.with_name(f"{path.name}.bak.{generation:012d}")
    try:
        os.link(path, target)
    except FileNotFoundError:
        return  # first save: nothing to retire
    except FileExistsError:
        pass  # already linked by an earlier attempt
    for old in backup_paths(path)[keep:]:
        with contextlib.suppress(FileNotFoundError):  # another process pruned it first
            old.unlink()


def temp_path(path: Path) -> Path:
    """A fresh temp file name beside ``path``: ``.<name>.<pid>.<monotonic ns>.tmp``."""
    return path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")


def atomic_write(
    path: Path,
    header: bytes,
    body: bytes | memoryview,
    *,
    fsync: bool,
    backups: int,
    retiring_generation: int | None,
) -> None:
    """Write ``header + body`` to ``path`` crash-safely, keeping ``backups`` previous files."""
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        try:
            os.write(fd, header)
            view = memoryview(body)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if fsync:
                os.fdatasync(fd)  # data and size; the rename is made durable by the directory fsync
        finally:
            os.close(fd)
        _retire_into_backups(path, retiring_generation, backups)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if fsync:
        fsync_dir(path.parent)


def quarantine(path: Path, kind: str = "corrupt") -> Path | None:
    """Move a bad file aside as ``<name>.<kind>.<time>.<pid>`` (never delete it).

    Returns ``None`` if the file is gone or the directory is read-only for us.
    """
    target = path.with_name(f"{path.name}.{kind}.{time.strftime('%Y%m%dT%H%M%S')}.{os.getpid()}")
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    except PermissionError:
        logger.warning("cannot move corrupt state file %s aside: directory is not writable", path)
        return None
    return target


def _temp_name_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(path.name)}\.\d+\.\d+\.tmp")


def remove_stale_temp_files(path: Path) -> list[Path]:
    """Remove the temp files a killed writer of ``path`` left behind; return them.

    Call it only while holding the state file's cross-process lock: every writer writes
    its temp file under that lock, so any temp file seen then belongs to a writer that
    died mid-save, never to a live one. A file that cannot be removed is logged and left.
    """
    pattern = _temp_name_pattern(path)
    with os.scandir(path.parent) as it:
        names = [entry.name for entry in it if pattern.fullmatch(entry.name)]
    removed: list[Path] = []
    for name in names:
        stale = path.with_name(name)
        try:
            stale.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            logger.warning("cannot remove stale temp file %s: %s", stale, exc.strerror or exc)
            continue
        removed.append(stale)
    if removed:
        logger.warning(
            "removed %d temp file(s) a killed writer of %s left behind: %s",
            len(removed),
            path,
            ", ".join(p.name for p in removed),
        )
    return removed
