"""The C allocator's side of a long-running service's resident memory (glibc only; elsewhere no-ops).

Python's own allocator serves objects up to 512 bytes; everything larger (a dict's table, a bytes of
a day's events, a SQLite page) comes from the C library's malloc. glibc gives each thread that
allocates an arena of its own, and keeps what is freed in an arena for reuse instead of handing it
back to the system. A service whose work runs in worker threads (asyncio.to_thread) so holds, in
each thread's arena, the high-water mark of whatever that thread ever built and dropped: in market,
building the synthetic extension years into a run (a replay of the whole history in a worker thread)
left about 14 MiB free but resident in that thread's arena, and start-up's history build 15 MiB more in
the main one. Both calls here are cheap and change no result, only where freed memory goes.
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

_log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def _glibc() -> Any | None:
    """The process's C library when it is glibc (the only one with mallopt's arenas and malloc_trim)."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only (musl, macOS lack it)
        libc.malloc_trim  # noqa: B018
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def limit_arenas(count: int) -> bool:
    """Let at most `count` malloc arenas exist, so worker threads share the main thread's free memory
    instead of each keeping its own; call before the threads start. True when glibc took it.

    The threads that allocate outside the GIL (gRPC's, SQLite's) then share the arenas' locks: for a
    service with a handful of threads the wait is far below a day's work."""
    if _LIBC is None:
        return False
    taken = bool(_LIBC.mallopt(M_ARENA_MAX, count))
    _log.debug("malloc arenas limited", extra={"arenas": count, "taken": taken})
    return taken


def release_free_memory() -> bool:
    """Hand the pages malloc holds free, in every arena, back to the system (malloc_trim): about a
    millisecond when there is something to release, tens of microseconds when not. True when some
    memory was released."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))
