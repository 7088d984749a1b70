"""Blocks: append_block stores a batch pre-framed as well, read_framed serves runs of frames. Run
against real SQLite and real Redis (conftest.py); the reference is always the records themselves,
framed one by one."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from google.protobuf.internal.decoder import _DecodeVarint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.eventlog import (
    DuplicateEvent,
    EventLog,
    FramedRun,
    NewRecord,
    RetentionExceeded,
    SequenceConflict,
)
from services.common.eventlog.framing import frame, frame_run

T0 = dt.datetime(2020, 3, 16, 14, 30, tzinfo=dt.UTC)
_ids = itertools.count()


def day(
    count: int, *, kinds: tuple[str, ...] = ("price.tick", "trade.fill"), mandate: str = "M1"
) -> list[NewRecord]:
    """A batch of records with payloads of several lengths (one- and two-byte length prefixes)."""
    out = []
    for i in range(count):
        n = next(_ids)
        out.append(
            NewRecord(
                event_id=f"blk-{uuid.uuid4().hex[:8]}-{n}",
                kind=kinds[i % len(kinds)],
                sim_time=T0,
                payload=bytes([n % 251]) * ((n * 37) % 300),
                mandate_id=mandate if i % 3 else "",
            )
        )
    return out


def reference(log: EventLog, source: str, from_seq: int, limit: int) -> FramedRun:
    """What read_framed must return: the records of read_payloads, framed one by one."""
    stored = log.read_payloads(source, from_seq, limit)
    first = stored[0].seq if stored else max(from_seq, log.oldest(source))
    return frame_run(
        first, [p.payload for p in stored], [p.kind for p in stored], [p.mandate_id for p in stored]
    )


def same(run: FramedRun, expected: FramedRun) -> None:
    assert (run.first_seq, len(run), run.last_seq) == (expected.first_seq, len(expected), expected.last_seq)
    assert run.frames == expected.frames
    assert list(run.ends) == list(expected.ends)
    assert list(run.kinds) == list(expected.kinds)
    assert list(run.mandate_ids) == list(expected.mandate_ids)


def split(run: FramedRun) -> list[bytes]:
    """The payloads in run's frames, read back from the framing alone."""
    payloads, i = [], 0
    while i < len(run.frames):
        assert run.frames[i] == 0x0A
        length, start = _DecodeVarint(run.frames, i + 1)
        payloads.append(run.frames[start : start + length])
        i = start + length
    assert i == (run.ends[-1] if len(run) else 0)
    return payloads


def test_append_block_stores_the_records_and_returns_the_block(log: EventLog) -> None:
    log.append("market", day(3))  # a head before: the block starts after it
    records = day(150)
    block = log.append_block("market", records)
    assert (block.first_seq, block.last_seq, log.head("market")) == (4, 153, 153)
    assert split(block) == [r.payload for r in records]
    assert block.frames == b"".join(frame(r.payload) for r in records)
    assert list(block.kinds) == [r.kind for r in records]
    assert list(block.mandate_ids) == [r.mandate_id for r in records]
    # The records are stored as append() stores them: every other read sees them.
    assert [r.event_id for r in log.read("market", 4, 1000)] == [r.event_id for r in records]
    assert log.get(records[10].event_id) is not None
    same(log.read_framed("market", 4, 1000), block)


def test_read_framed_across_blocks_from_inside_one_and_cut_inside_another(log: EventLog) -> None:
    for size in (148, 150, 7, 1, 149):
        log.append_block("market", day(size))
    head = log.head("market")
    for from_seq, limit in [
        (1, 10_000),
        (100, 60),
        (149, 150),
        (150, 300),
        (300, 6),
        (305, 1),
        (0, 455),
        (200, 4096),
    ]:
        run = log.read_framed("market", from_seq, limit)
        same(run, reference(log, "market", from_seq, limit))
        assert len(run) == min(limit, head - max(from_seq, 1) + 1)
    past = log.read_framed("market", head + 1, 10)
    assert (past.first_seq, len(past), past.frames) == (head + 1, 0, b"")


def test_records_without_a_block_are_framed_from_the_records(log: EventLog) -> None:
    """Records appended by append() (or by a release that stored no blocks) read the same."""
    log.append("market", day(40))
    log.append_block("market", day(30))
    log.append("market", day(5))
    log.append("market", day(5))
    log.append_block("market", day(30))
    log.append("market", day(12))
    for from_seq, limit in [(1, 1000), (35, 10), (38, 40), (71, 10), (75, 3), (79, 40), (110, 20), (0, 7)]:
        same(log.read_framed("market", from_seq, limit), reference(log, "market", from_seq, limit))


def test_read_framed_from_a_trimmed_block_starts_at_the_oldest(log: EventLog) -> None:
    log.append_block("market", day(100))
    log.append_block("market", day(100))
    log.trim("market", 150)  # inside the second block
    with pytest.raises(RetentionExceeded) as caught:
        log.read_framed("market", 149, 10)
    assert caught.value.oldest_seq == 150
    for from_seq in (0, 150):
        run = log.read_framed("market", from_seq, 1000)
        assert (run.first_seq, run.last_seq) == (150, 200)
        same(run, reference(log, "market", 150, 1000))
    log.trim("market", 201)  # everything: an empty run at the head + 1
    empty = log.read_framed("market", 0, 10)
    assert (empty.first_seq, len(empty)) == (201, 0)
    log.append_block("market", day(3))
    same(log.read_framed("market", 0, 10), reference(log, "market", 201, 10))


def test_a_refused_append_block_writes_neither_records_nor_block(log: EventLog) -> None:
    first = log.append_block("market", day(5))
    stored_id = log.read("market", 2, 1)[0].event_id
    taken = [*day(3), NewRecord(event_id=stored_id, kind="price.tick", sim_time=T0)]
    with pytest.raises(DuplicateEvent) as caught:
        log.append_block("market", taken)
    assert caught.value.event_id == stored_id
    pinned = [NewRecord(event_id=f"pin-{uuid.uuid4().hex}", kind="k", sim_time=T0, seq=9)]
    with pytest.raises(SequenceConflict):
        log.append_block("market", pinned)
    with pytest.raises(ValueError, match="must not hold"):
        log.append_block("market", [NewRecord(event_id=f"nl-{uuid.uuid4().hex}", kind="a\nb", sim_time=T0)])
    assert log.head("market") == 5
    same(log.read_framed("market", 1, 100), first)
    assert log.read("market", 6, 10) == []
    # The log goes on from where it was.
    assert log.append_block("market", day(2)).first_seq == 6


def test_empty_append_block_writes_nothing(log: EventLog) -> None:
    log.append_block("market", day(2))
    empty = log.append_block("market", [])
    assert (empty.first_seq, len(empty), log.head("market")) == (3, 0, 2)


_steps = st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=40)), min_size=1, max_size=8)
_reads = st.lists(
    st.tuples(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=120)), max_size=6
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_steps, reads=_reads, trim_at=st.integers(min_value=0, max_value=120))
def test_read_framed_is_the_records_framed(
    log: EventLog, steps: list[tuple[bool, int]], reads: list[tuple[int, int]], trim_at: int
) -> None:
    source = f"prop-{uuid.uuid4().hex[:10]}"  # one log serves every example, so each uses its own source
    for as_block, size in steps:
        (log.append_block if as_block else log.append)(source, day(size))
    log.trim(source, trim_at)
    oldest = log.oldest(source)
    for from_seq, limit in [(0, 10_000), *reads]:
        if 0 < from_seq < oldest:
            with pytest.raises(RetentionExceeded):
                log.read_framed(source, from_seq, limit)
            continue
        same(log.read_framed(source, from_seq, limit), reference(log, source, from_seq, limit))
