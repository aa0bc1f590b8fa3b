"""The launcher's stop signals: logged once, with who sent them.

``StopSignals.install()`` blocks SIGINT and SIGTERM in the calling (main) thread before
any other thread exists, so every thread inherits the block, and one watcher thread takes
them with ``signal.sigwaitinfo``. The ``siginfo`` it returns names the sender: a pid (and
its program name) for ``kill``, the kernel for a terminal's Ctrl-C. The first signal is
logged once at INFO ("received SIGTERM from pid 4242 (bash): stopping") and calls the
stop callbacks; a repeat while stopping (a process-group kill reaching the launcher
twice, a supervisor that sends it again) is logged at DEBUG only.

Children must not inherit the block: ``_runner_deathsig`` unblocks both signals between
fork and exec. Where ``sigwaitinfo`` does not exist (macOS), plain handlers are used and
the sender is "unknown".
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["StopSignals", "describe_sender"]

logger = logging.getLogger("scripts.run_live_dashboard")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_SI_USER = 0
_SI_KERNEL = 0x80


def describe_sender(info: Any) -> str:
    """Where a signal came from, in words, from a ``signal.struct_siginfo``."""
    if info is None:
        return "from an unknown sender"
    pid, code = info.si_pid, info.si_code
    if code == _SI_KERNEL or (pid == 0 and code == _SI_USER):
        return "from the kernel (a terminal's Ctrl-C)"
    if pid <= 0:
        return f"from an unknown sender (si_code {code})"
    about = [_program(pid), "the launcher's parent" if pid == os.getppid() else ""]
    said = ", ".join(part for part in about if part)
    return f"from pid {pid} ({said})" if said else f"from pid {pid}"


def _program(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as comm:
            return comm.read().strip()
    except OSError:
        try:
            import psutil

            return str(psutil.Process(pid).name())
        except Exception:  # the sender may be gone already: its pid is still worth logging
            return ""


class StopSignals:
    """SIGINT/SIGTERM turned into one logged stop request. Use from a script's ``main`` only."""

    def __init__(self) -> None:
        self.received: str | None = None  # "SIGTERM from pid 4242 (bash)" once a signal came
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @classmethod
    def install(cls) -> StopSignals:
        """Block the stop signals in this thread (call before starting any thread) and watch them."""
        watcher = cls()
        if hasattr(signal, "sigwaitinfo"):
            signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
            watcher._thread = threading.Thread(target=watcher._watch, name="stop-signals", daemon=True)
            watcher._thread.start()
        else:
            for sig in _SIGNALS:
                signal.signal(sig, lambda signum, _frame: watcher.deliver(signal.Signals(signum), None))
        return watcher

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the first stop signal (at once when one already came)."""
        with self._lock:
            self._callbacks.append(callback)
            already = self.received is not None
        if already:
            callback()

    def _watch(self) -> None:
        while True:
            info = signal.sigwaitinfo(_SIGNALS)
            self.deliver(signal.Signals(info.si_signo), info)

    def deliver(self, sig: signal.Signals, info: Any) -> None:
        """One signal arrived (``info``: its ``struct_siginfo``, or None when unknown): the
        first is logged and calls the callbacks, a repeat is logged at DEBUG only."""
        what = f"{sig.name} {describe_sender(info)}"
        with self._lock:
            first = self.received is None
            if first:
                self.received = what
            callbacks = list(self._callbacks)
        if not first:
            logger.debug("received %s: already stopping", what)
            return
        logger.info("received %s: stopping", what)
        for callback in callbacks:
            callback()

    def __repr__(self) -> str:
        return f"StopSignals(received={self.received!r})"
