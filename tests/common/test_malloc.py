"""services/common/malloc.py: glibc's arenas and malloc_trim, no-ops elsewhere."""

from __future__ import annotations

import platform
import subprocess
import sys


def test_limiting_arenas_and_releasing_free_memory_are_taken_on_glibc() -> None:
    # A process of its own: the arena limit stays for the life of the process that sets it.
    code = (
        "from services.common import malloc\n"
        "taken = malloc.limit_arenas(1)\n"
        "junk = [bytes(4096) for _ in range(20_000)]\n"
        "del junk\n"
        "print(taken, isinstance(malloc.release_free_memory(), bool))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    on_glibc = platform.libc_ver()[0] == "glibc"
    assert result.stdout.split() == [str(on_glibc), "True"]
