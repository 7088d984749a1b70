"""Where a subscriber keeps the last market seq it applied, so a restart resumes exactly after it."""

from __future__ import annotations

import os
import pathlib
import tempfile
from collections.abc import Awaitable
from typing import Protocol


class CursorStore(Protocol):
    """The last applied seq; 0 before anything was applied.

    save may return an awaitable: a transactional store (the ledger) commits the
    effects of the batch together with the cursor there.
    """

    def load(self) -> int: ...

    def save(self, seq: int) -> Awaitable[None] | None: ...


class FileCursorStore:
    """A cursor in one small text file, replaced atomically so a crash leaves the old or the new value."""

    def __init__(self, path: os.PathLike[str] | str) -> None:
        self.path = pathlib.Path(path)

    def load(self) -> int:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        if not text.isdigit():
            # Never guess: resuming from a wrong seq would skip or double-apply events.
            raise ValueError(f"cursor file {self.path} does not hold a seq: {text[:40]!r}")
        return int(text)

    def save(self, seq: int) -> None:
        if seq < 0:
            raise ValueError(f"a cursor is never negative, got {seq}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(f"{seq}\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            pathlib.Path(temp).unlink(missing_ok=True)
            raise
        # The rename itself is durable only once the directory entry is on disk.
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class MemoryCursorStore:
    """A cursor that lives as long as the process (tests, and subscribers that rebuild from seq 1)."""

    def __init__(self, seq: int = 0) -> None:
        self.seq = seq

    def load(self) -> int:
        return self.seq

    def save(self, seq: int) -> None:
        self.seq = seq
