"""Checks and normalisation of an append batch, shared by the backends.

Everything that can be decided without the store is decided here, before a
backend opens a transaction, so a bad batch never reaches storage.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.common.eventlog.framing import LABEL_SEPARATOR, FramedRun, frame_run
from services.common.eventlog.records import (
    DuplicateEvent,
    LogRecord,
    NewRecord,
    SequenceConflict,
    to_micros,
)

_TRACE_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A validated batch.

    records: the batch with payload as bytes, caused_by as a tuple and trace_id lowercase.
    sim_micros: each record's sim_time in microseconds since the epoch.
    pinned_head: the head the batch requires (from its given seqs), or None when no seq was given.
    """

    source: str
    records: tuple[NewRecord, ...]
    sim_micros: tuple[int, ...]
    pinned_head: int | None


def check_source(source: str) -> str:
    if not isinstance(source, str) or not source or source != source.strip():
        raise ValueError(f"source must be a non-empty string without surrounding spaces, got {source!r}")
    return source


def normalise_trace_id(trace_id: str) -> str:
    lowered = trace_id.lower()
    if lowered and not _TRACE_ID.fullmatch(lowered):
        raise ValueError(f"trace_id must be 32 hex characters or empty, got {trace_id!r}")
    return lowered


def check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def _already_normal(record: NewRecord, trace_ids: dict[str, bool]) -> bool:
    """True when the record passes every check of _normalise and needs no change: the common case,
    decided with exact type checks, so an append pays little per record. A trace id is checked once
    per batch (a batch shares few)."""
    trace_id = record.trace_id
    if trace_id:
        valid = trace_ids.get(trace_id)
        if valid is None:
            valid = trace_ids[trace_id] = type(trace_id) is str and bool(_TRACE_ID.fullmatch(trace_id))
        if not valid:
            return False
    seq = record.seq
    caused_by = record.caused_by
    return (
        type(record) is NewRecord
        and type(record.event_id) is str
        and bool(record.event_id)
        and type(record.kind) is str
        and bool(record.kind)
        and type(record.payload) is bytes
        and type(caused_by) is tuple
        and (seq is None or (type(seq) is int and seq >= 1))
        and type(record.sim_time) is dt.datetime
        and record.sim_time.tzinfo is dt.UTC
        and (not caused_by or all(type(cause) is str and cause for cause in caused_by))
    )


def _normalise(record: NewRecord) -> NewRecord:
    if not isinstance(record, NewRecord):
        raise TypeError(f"expected NewRecord, got {type(record).__name__}")
    if not record.event_id or not isinstance(record.event_id, str):
        raise ValueError("event_id must be a non-empty string")
    if not record.kind or not isinstance(record.kind, str):
        raise ValueError(f"event {record.event_id!r}: kind must be a non-empty string")
    if not isinstance(record.sim_time, dt.datetime) or record.sim_time.utcoffset() is None:
        raise ValueError(f"event {record.event_id!r}: sim_time must be a timezone-aware datetime")
    if not isinstance(record.payload, bytes | bytearray | memoryview):
        raise ValueError(f"event {record.event_id!r}: payload must be bytes")
    caused_by = tuple(record.caused_by)
    if any(not isinstance(cause, str) or not cause for cause in caused_by):
        raise ValueError(f"event {record.event_id!r}: caused_by must hold non-empty event ids")
    if record.seq is not None and (not isinstance(record.seq, int) or record.seq < 1):
        raise ValueError(f"event {record.event_id!r}: seq must be a positive int or None")
    trace_id = normalise_trace_id(record.trace_id)
    if (
        type(record.payload) is bytes
        and trace_id == record.trace_id
        and caused_by is record.caused_by
        and record.sim_time.tzinfo is dt.UTC
    ):
        return record  # already normal: the common case, and appends run once per event
    return dataclasses.replace(
        record,
        payload=bytes(record.payload),
        trace_id=trace_id,
        caused_by=caused_by,
        sim_time=record.sim_time.astimezone(dt.UTC),
    )


def prepare(source: str, records: Sequence[NewRecord]) -> PreparedBatch:
    """Validate a batch; raises ValueError, DuplicateEvent (within the batch) or SequenceConflict.

    Given seqs must agree with each other (record i pins head to seq - 1 - i); whether they agree
    with the stored head is the backend's check, inside its transaction.
    """
    check_source(source)
    trace_ids: dict[str, bool] = {}
    normalised = tuple(
        record if _already_normal(record, trace_ids) else _normalise(record) for record in records
    )
    seen: set[str] = set()
    pinned_head: int | None = None
    for index, record in enumerate(normalised):
        if record.event_id in seen:
            raise DuplicateEvent(record.event_id)
        seen.add(record.event_id)
        if record.seq is None:
            continue
        implied = record.seq - 1 - index
        if pinned_head is None:
            pinned_head = implied
        elif implied != pinned_head:
            raise SequenceConflict(source, expected=pinned_head + 1 + index, given=record.seq)
    micros: dict[dt.datetime, int] = {}  # a batch has few distinct times (market: a handful a day)
    for record in normalised:
        if record.sim_time not in micros:
            micros[record.sim_time] = to_micros(record.sim_time)
    return PreparedBatch(
        source=source,
        records=normalised,
        sim_micros=tuple(micros[record.sim_time] for record in normalised),
        pinned_head=pinned_head,
    )


def prepare_block(source: str, records: Sequence[NewRecord]) -> PreparedBatch:
    """prepare(), and the checks a block adds: its labels (kinds, mandate ids) are stored joined by
    LABEL_SEPARATOR, so none may hold one."""
    batch = prepare(source, records)
    for record in batch.records:
        if LABEL_SEPARATOR in record.kind or LABEL_SEPARATOR in record.mandate_id:
            raise ValueError(
                f"event {record.event_id!r}: a block's kind and mandate_id must not hold {LABEL_SEPARATOR!r}"
            )
    return batch


def block_of(batch: PreparedBatch, head: int) -> FramedRun:
    """The block an append of batch after head stores: its records' payloads, framed."""
    records = batch.records
    return frame_run(
        head + 1,
        [record.payload for record in records],
        [record.kind for record in records],
        [record.mandate_id for record in records],
    )


def check_head(batch: PreparedBatch, head: int) -> None:
    """Raise SequenceConflict unless the batch's given seqs continue head."""
    if batch.pinned_head is None or batch.pinned_head == head:
        return
    for index, record in enumerate(batch.records):
        if record.seq is not None:
            raise SequenceConflict(batch.source, expected=head + 1 + index, given=record.seq)


def stored(batch: PreparedBatch, head: int, recorded_at: dt.datetime) -> list[LogRecord]:
    """The LogRecords a successful append of batch after head produced."""
    return [
        LogRecord(
            source=batch.source,
            seq=head + 1 + index,
            event_id=record.event_id,
            kind=record.kind,
            sim_time=record.sim_time,
            payload=record.payload,
            trace_id=record.trace_id,
            caused_by=record.caused_by,
            mandate_id=record.mandate_id,
            summary=record.summary,
            recorded_at=recorded_at,
        )
        for index, record in enumerate(batch.records)
    ]
