"""The combined event log: append-only records with a gap-free sequence per source.

market stores its whole event stream here (source "market"); every other
service appends what it did, with the ids of the events that caused it, so
`opsuite trace <id>` can walk from a tick to a journal. Backends: SQLite
(embedded default) and Redis Streams; `open_event_log` picks one from a URL.

RedisEventLog is imported on first use, not with the package: the redis client costs every
process about 21 MiB resident, and only a suite configured with a redis:// event log needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.common.eventlog.base import EventLog
from services.common.eventlog.factory import open_event_log
from services.common.eventlog.framing import FramedRun
from services.common.eventlog.records import (
    DuplicateEvent,
    EventLogError,
    LogRecord,
    NewRecord,
    RetentionExceeded,
    SequenceConflict,
    StoredPayload,
)
from services.common.eventlog.sqlite import SqliteEventLog

if TYPE_CHECKING:
    from services.common.eventlog.redis_streams import RedisEventLog

__all__ = [
    "DuplicateEvent",
    "EventLog",
    "EventLogError",
    "FramedRun",
    "LogRecord",
    "NewRecord",
    "RedisEventLog",
    "RetentionExceeded",
    "SequenceConflict",
    "SqliteEventLog",
    "StoredPayload",
    "open_event_log",
]


def __getattr__(name: str) -> object:
    """`from services.common.eventlog import RedisEventLog` imports the Redis backend then."""
    if name == "RedisEventLog":
        from services.common.eventlog.redis_streams import RedisEventLog

        return RedisEventLog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
