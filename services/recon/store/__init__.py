"""recon's storage: breaks (latest state), their actions, check runs, the change feed, the cursor,
and the retention horizon closed history is pruned to.

open_store() gives the embedded SQLite store; it implements ReconStore (see base.py for the
invariants). ChangeSignal (services/common/change_signal.py) wakes asyncio watchers of the change feed after each commit.
"""

from __future__ import annotations

import pathlib

from services.common.change_signal import ChangeSignal
from services.recon.store.base import (
    BreakChange,
    BreakFilter,
    ChangeKind,
    CommitResult,
    KeepBreak,
    Pruned,
    ReconStore,
    Retention,
    Summary,
    Updater,
)
from services.recon.store.errors import (
    ChangesPruned,
    ConflictingRecord,
    ReconStoreError,
    SchemaTooNew,
    StaleRead,
    UnknownBreak,
)

SQLITE_FILE = "recon.sqlite3"


def open_store(data_dir: pathlib.Path) -> ReconStore:
    """The store at data_dir/recon.sqlite3, created (with its directory) when missing."""
    from services.recon.store.sqlite import SqliteReconStore

    return SqliteReconStore(pathlib.Path(data_dir) / SQLITE_FILE)


__all__ = [
    "SQLITE_FILE",
    "BreakChange",
    "BreakFilter",
    "ChangeKind",
    "ChangeSignal",
    "ChangesPruned",
    "CommitResult",
    "ConflictingRecord",
    "KeepBreak",
    "Pruned",
    "ReconStore",
    "ReconStoreError",
    "Retention",
    "SchemaTooNew",
    "StaleRead",
    "Summary",
    "UnknownBreak",
    "Updater",
    "open_store",
]
