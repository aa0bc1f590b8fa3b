"""Children that die with the launcher: the parent-death signal, set between fork and exec.

The launcher starts each child with ``preexec_fn=ParentDeathSignal(sig)``. In the child,
after ``fork`` and before ``exec``, it

1. unblocks SIGINT and SIGTERM (the launcher blocks them in all its threads to read them
   with ``sigwaitinfo``, and a child inherits the mask across exec);
2. asks the kernel, through ``prctl(PR_SET_PDEATHSIG, sig)``, to send ``sig`` to the child
   when the thread that forked it ends, which includes the launcher dying by SIGKILL;
   the setting survives ``exec``, so it works for Streamlit, whose code we do not own;
3. compares ``getppid()`` with the launcher's pid, read before the fork: a launcher that
   died between the fork and the ``prctl`` would never signal, so the child exits at once.

Why this and not a lifeline pipe: a pipe needs every child to watch a file descriptor,
and Streamlit would need a wrapper process in front of it (one more process to leak);
the death signal is delivered by the kernel to any program, costs nothing while the
launcher lives, and still lets the desk stop cleanly when the signal is SIGTERM. Its one
trap is that "parent" means the forking *thread*: the launcher therefore starts, restarts
and stops every child from one supervisor thread that outlives them all.

Linux only (``prctl``); elsewhere ``available`` is False and the children are only
cleaned up by the next launcher (see ``_runner_record``). Nothing in the child may take a
lock another launcher thread could hold at fork time: no imports, no logging; the libc
function is looked up in the parent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

__all__ = ["ParentDeathSignal", "available"]

_PR_SET_PDEATHSIG = 1
_UNBLOCK = frozenset({signal.SIGINT, signal.SIGTERM})


def _load_prctl():  # -> ctypes function or None
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_prctl = _load_prctl()
available = _prctl is not None


class ParentDeathSignal:
    """A ``preexec_fn``: the child gets ``sig`` when the launcher thread that forks it ends.

    Build it in the parent (it records the parent's pid); call it only in the child.
    """

    def __init__(self, sig: signal.Signals) -> None:
        self.sig = sig
        self.parent_pid = os.getpid()

    def __call__(self) -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _UNBLOCK)
        if _prctl is None:
            return
        if _prctl(_PR_SET_PDEATHSIG, int(self.sig), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != self.parent_pid:  # the launcher died before the prctl: nobody will signal
            os._exit(1)

    def __repr__(self) -> str:
        return f"ParentDeathSignal({self.sig.name}, parent_pid={self.parent_pid}, available={available})"
