"""The one interface every event-log backend implements.

All methods are synchronous and thread-safe (one writer thread and several
reader threads at once); asyncio callers wrap them in asyncio.to_thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from services.common.eventlog.framing import FramedRun
from services.common.eventlog.records import LogRecord, NewRecord, StoredPayload


@runtime_checkable
class EventLog(Protocol):
    def append(self, source: str, records: Sequence[NewRecord]) -> list[LogRecord]:
        """Append a batch atomically: either every record is written with consecutive seqs, or none.

        Raises SequenceConflict when a given seq is not head+1 (+i), DuplicateEvent when an
        event id is already in the log or repeated in the batch, ValueError on malformed records.
        """
        ...

    def append_block(self, source: str, records: Sequence[NewRecord]) -> FramedRun:
        """append(), and in the same transaction the batch's payloads as one pre-framed block
        (framing.py), which read_framed serves without touching the records one by one. Returns the
        block (its first_seq is the first record's seq) rather than LogRecords: the writer that
        appends a day at a time (market's clock) needs nothing else.

        Raises what append raises, and ValueError for a kind or mandate_id that holds a line break.
        """
        ...

    def read_framed(self, source: str, from_seq: int, limit: int) -> FramedRun:
        """What read_payloads returns, framed as one run: at most limit records from from_seq on (the
        oldest retained for <= 0), from the blocks of append_block where they cover the range and
        framed from the records where they do not (records appended by append(), or by a version
        that stored no blocks); the same bytes either way.

        Raises RetentionExceeded when 0 < from_seq < oldest(source); an empty run when from_seq > head.
        """
        ...

    def read(self, source: str, from_seq: int, limit: int) -> list[LogRecord]:
        """At most limit records with seq >= from_seq, ascending; from_seq <= 0 means the oldest retained.

        Raises RetentionExceeded when 0 < from_seq < oldest(source); [] when from_seq > head.
        """
        ...

    def read_payloads(self, source: str, from_seq: int, limit: int) -> list[StoredPayload]:
        """What read() returns, reduced to seq, kind, mandate and payload, for bulk stream replay."""
        ...

    def head(self, source: str) -> int:
        """The last seq appended to source; 0 when nothing ever was."""
        ...

    def oldest(self, source: str) -> int:
        """The lowest retained seq; head+1 when nothing is retained (1 for a new source)."""
        ...

    def trim(self, source: str, before_seq: int) -> int:
        """Delete records with seq < before_seq and return how many went.

        oldest() becomes before_seq, clamped to [oldest(), head()+1]: trimming never un-trims and
        never reserves seqs that were not appended yet.
        """
        ...

    def get(self, event_id: str) -> LogRecord | None:
        """The retained record with this event id, or None."""
        ...

    def by_trace(self, trace_id: str) -> list[LogRecord]:
        """Retained records of one trace, ordered by (sim_time, recorded_at, source, seq)."""
        ...

    def effects_of(self, event_id: str) -> list[LogRecord]:
        """Retained records whose caused_by contains event_id, in the same order as by_trace."""
        ...

    def sources(self) -> list[str]:
        """Every source that has ever been appended to, sorted."""
        ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def close(self) -> None:
        """Release connections; the object is unusable afterwards."""
        ...
