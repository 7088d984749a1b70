"""The combined event log: append-only records with a gap-free sequence per source.

market stores its whole event stream here (source "market"); every other
service appends what it did, with the ids of the events that caused it, so
`opsuite trace <id>` can walk from a tick to a journal. Backends: SQLite
(embedded default) and Redis Streams; `open_event_log` picks one from a URL.
"""

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
from services.common.eventlog.redis_streams import RedisEventLog
from services.common.eventlog.sqlite import SqliteEventLog

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
