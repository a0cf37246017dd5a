"""No core dump and no inspection of the bot's memory by the user's other processes.

The bot's memory holds the master key and, while it works, decrypted tips, names and ids. A
crash that dumps core (a C extension's fault, an abort) would write all of it to disk, where
systemd-coredump keeps it for days: the stolen-disk case the encryption at rest is for. And
every process of the same user, the evidence cleaner among them (evidence/isolated.py, which
parses hostile files), could read that memory and the environment through /proc/<pid>/mem and
/proc/<pid>/environ, or attach to it with ptrace.

`forbid()` makes the process non-dumpable (Linux `prctl(PR_SET_DUMPABLE, 0)`: no core dump,
/proc/<pid>/mem, environ and fd owned by root, no ptrace by the same user) and sets its core
size limit to 0 (any other Unix). The children it starts are dumpable again after their exec,
as the kernel does: this protects the bot itself. Failure is not fatal: a system without
either call runs the bot as before, and says so once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def forbid() -> bool:
    """Make this process non-dumpable and its core limit 0; True when both took."""
    limited = _no_core_limit()
    undumpable = _not_dumpable()
    if not (limited and undumpable):
        log.warning("core dumps not fully forbidden on this system (limit %s, prctl %s)",
                    "set" if limited else "unavailable", "set" if undumpable else "unavailable")
    return limited and undumpable


def dumpable() -> bool | None:
    """Whether this process is dumpable (None where it cannot be asked: not Linux)."""
    libc = _libc()
    if libc is None:
        return None
    return bool(libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))


def _no_core_limit() -> bool:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, OSError, ValueError):
        return False
    return True


def _not_dumpable() -> bool:
    libc = _libc()
    return libc is not None and libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
