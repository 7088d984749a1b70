"""The event log's records and errors, shared by every backend.

A source (market, recon, ledger, dq, ...) owns one gap-free sequence. A
record is immutable once appended; only trimming removes it, from the old
end of its source's sequence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record to append.

    event_id: globally unique across the whole log (every source).
    kind: what happened, dotted, e.g. "trade.fill" or "break.opened".
    sim_time: simulated time, timezone-aware; stored and returned in UTC.
    payload: opaque bytes (market stores serialized protobuf); b"" for none.
    trace_id: the W3C trace id (32 lowercase hex characters), or "" for none.
    caused_by: event ids of the records that caused this one; () for none.
    mandate_id: the mandate (fund) concerned, or "" for none.
    summary: one human line for `opsuite trace`, or "".
    seq: None to let the log assign head+1 (+i within the batch); when given
        it must equal that number, else SequenceConflict. market gives it.
    """

    event_id: str
    kind: str
    sim_time: dt.datetime
    payload: bytes = b""
    trace_id: str = ""
    caused_by: tuple[str, ...] = ()
    mandate_id: str = ""
    summary: str = ""
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A record as stored: a NewRecord with its source, its seq and the wall-clock time it was appended.

    sim_time and recorded_at are timezone-aware UTC.
    """

    source: str
    seq: int
    event_id: str
    kind: str
    sim_time: dt.datetime
    payload: bytes
    trace_id: str
    caused_by: tuple[str, ...]
    mandate_id: str
    summary: str
    recorded_at: dt.datetime


class StoredPayload(NamedTuple):
    """The part of a record a stream replay needs: cheap to read in bulk (no time or lineage decoding)."""

    seq: int
    kind: str
    mandate_id: str
    payload: bytes


def trace_order(record: LogRecord) -> tuple[dt.datetime, dt.datetime, str, int]:
    """The order of by_trace and effects_of: simulated time first, then arrival, then position."""
    return (record.sim_time, record.recorded_at, record.source, record.seq)


def to_micros(moment: dt.datetime) -> int:
    """Whole microseconds since the Unix epoch; exact (no float) so round trips are lossless."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


class EventLogError(Exception):
    """Base of every error the event log raises on purpose."""


class SequenceConflict(EventLogError):
    """A record's given seq is not the one the log expects next (another writer got there first)."""

    def __init__(self, source: str, expected: int, given: int) -> None:
        super().__init__(f"source {source!r}: expected seq {expected}, got {given}")
        self.source = source
        self.expected = expected
        self.given = given


class DuplicateEvent(EventLogError):
    """The event id is already in the log (or twice in one batch); nothing of the batch was written."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event id {event_id!r} is already in the event log")
        self.event_id = event_id


class RetentionExceeded(EventLogError):
    """A read asked for records that trimming already removed; resume from oldest_seq."""

    def __init__(self, source: str, from_seq: int, oldest_seq: int) -> None:
        super().__init__(
            f"source {source!r}: seq {from_seq} is older than retention; oldest retained is {oldest_seq}"
        )
        self.source = source
        self.from_seq = from_seq
        self.oldest_seq = oldest_seq
