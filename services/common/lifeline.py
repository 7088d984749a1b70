"""A service started by a supervisor (`opsuite up`) exits when that supervisor dies, however it dies.

The supervisor runs each service in its own session (so a terminal's Ctrl-C reaches only the
supervisor), which also means nothing stops the services if the supervisor is SIGKILLed: they would
linger as orphans on their ports. The supervisor names itself in OPSUITE_SUPERVISOR_PID; a service
that finds it asks the kernel for SIGTERM when its parent goes (Linux's PR_SET_PDEATHSIG), so the
ordinary graceful shutdown runs. Elsewhere, or where prctl is refused, a daemon thread notices the
re-parenting instead. Either way, a parent that is already gone by the time we look means exit now.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading

SUPERVISOR_PID_VARIABLE = "OPSUITE_SUPERVISOR_PID"
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_POLL_S = 1.0

_log = logging.getLogger(__name__)


def _ask_kernel(signum: int) -> bool:
    """PR_SET_PDEATHSIG: the kernel sends `signum` to this process when its parent thread exits."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(supervisor_pid: int) -> None:
    stopped = threading.Event()

    def watch() -> None:
        while not stopped.wait(_POLL_S):
            if os.getppid() != supervisor_pid:
                _log.warning("supervisor gone; shutting down", extra={"supervisor_pid": supervisor_pid})
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def follow_supervisor() -> None:
    """When started by a supervisor, make this process end when the supervisor ends.

    Call it first thing in a service's main: from here on the supervisor's death sends SIGTERM,
    which the service's shutdown handles once it serves (and which ends it outright before then).
    """
    text = os.environ.get(SUPERVISOR_PID_VARIABLE, "")
    if not text.isdigit():
        return
    supervisor_pid = int(text)
    if not _ask_kernel(signal.SIGTERM):
        _watch_parent(supervisor_pid)
    # The supervisor may have died between starting us and the call above: then the kernel will
    # never send the signal, and our parent is already someone else.
    if os.getppid() != supervisor_pid:
        _log.warning("supervisor gone before start-up; exiting", extra={"supervisor_pid": supervisor_pid})
        sys.exit(1)
