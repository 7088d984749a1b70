"""The shared contract of every EventLog backend, run against real SQLite and real Redis."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.eventlog import (
    DuplicateEvent,
    EventLog,
    LogRecord,
    NewRecord,
    RetentionExceeded,
    SequenceConflict,
)

if TYPE_CHECKING:
    from conftest import Backend

T0 = dt.datetime(2020, 3, 16, 14, 30, tzinfo=dt.UTC)
TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_B = "00f067aa0ba902b7a3ce929d0e0e4736"
_ids = itertools.count()


def new(kind: str = "tick", *, at: dt.datetime = T0, **fields: object) -> NewRecord:
    """A record with a fresh event id (ids must be unique across the whole log)."""
    event_id = str(fields.pop("event_id", f"ev-{uuid.uuid4().hex[:8]}-{next(_ids)}"))
    return NewRecord(event_id=event_id, kind=kind, sim_time=at, **fields)  # type: ignore[arg-type]


def batch(count: int, **fields: object) -> list[NewRecord]:
    return [new(**fields) for _ in range(count)]


def read_all(log: EventLog, source: str, page: int = 1000) -> list[LogRecord]:
    """Every retained record of source, read page by page as a subscriber would."""
    found: list[LogRecord] = []
    cursor = 0
    while chunk := log.read(source, cursor, page):
        found += chunk
        cursor = chunk[-1].seq + 1
    return found


def seqs(records: Sequence[LogRecord]) -> list[int]:
    return [record.seq for record in records]


# --- sequences -------------------------------------------------------------------------------------------


def test_new_source_is_empty(log: EventLog) -> None:
    assert log.head("market") == 0
    assert log.oldest("market") == 1
    assert log.read("market", 0, 10) == []
    assert log.sources() == []


def test_seq_assigned_per_source_independently(log: EventLog) -> None:
    first = log.append("market", batch(3))
    recon = log.append("recon", batch(2))
    second = log.append("market", batch(2))
    assert seqs(first) == [1, 2, 3]
    assert seqs(recon) == [1, 2]
    assert seqs(second) == [4, 5]
    assert [record.source for record in first + second] == ["market"] * 5
    assert (log.head("market"), log.head("recon"), log.head("ledger")) == (5, 2, 0)
    assert log.sources() == ["market", "recon"]


def test_append_returns_what_read_returns(log: EventLog) -> None:
    appended = log.append("recon", [new("break.opened", trace_id=TRACE_A, mandate_id="M1", summary="qty")])
    assert log.read("recon", 1, 10) == appended
    assert appended[0].recorded_at.tzinfo is not None


def test_empty_batch_writes_nothing(log: EventLog) -> None:
    assert log.append("market", []) == []
    assert log.head("market") == 0
    assert log.sources() == []


def test_explicit_seq_accepted(log: EventLog) -> None:
    assert seqs(log.append("market", [new(seq=1), new(seq=2), new()])) == [1, 2, 3]
    assert seqs(log.append("market", [new(), new(seq=5)])) == [4, 5]
    assert log.head("market") == 5


def test_explicit_seq_conflict_writes_nothing(log: EventLog) -> None:
    log.append("market", batch(2))
    stale = new(seq=2)
    with pytest.raises(SequenceConflict) as caught:
        log.append("market", [stale])
    assert (caught.value.expected, caught.value.given) == (3, 2)
    with pytest.raises(SequenceConflict):
        log.append("market", [new(), new(seq=5)])  # the second record would be seq 4
    with pytest.raises(SequenceConflict):
        log.append("market", [new(seq=3), new(seq=5)])  # disagree with each other
    assert log.head("market") == 2
    assert log.get(stale.event_id) is None


# --- atomicity and duplicates ----------------------------------------------------------------------------


def test_duplicate_of_stored_event_writes_nothing(log: EventLog) -> None:
    existing = log.append("market", batch(1))[0]
    fresh = batch(999)
    # The duplicate is last, so a non-atomic backend would already have written 999 records.
    with pytest.raises(DuplicateEvent) as caught:
        log.append("market", [*fresh, new(event_id=existing.event_id)])
    assert caught.value.event_id == existing.event_id
    assert log.head("market") == 1
    assert read_all(log, "market") == [existing]
    assert all(log.get(record.event_id) is None for record in fresh[:: len(fresh) // 10])


def test_event_ids_are_unique_across_sources(log: EventLog) -> None:
    existing = log.append("market", batch(1))[0]
    with pytest.raises(DuplicateEvent):
        log.append("ledger", [new("journal.posted", event_id=existing.event_id)])
    assert log.head("ledger") == 0
    assert log.sources() == ["market"]


def test_duplicate_within_batch_writes_nothing(log: EventLog) -> None:
    twin = new()
    with pytest.raises(DuplicateEvent) as caught:
        log.append("market", [twin, new(), twin])
    assert caught.value.event_id == twin.event_id
    assert log.head("market") == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"event_id": ""},
        {"kind": ""},
        {"trace_id": "not-a-trace"},
        {"at": dt.datetime(2020, 3, 16)},  # naive
        {"caused_by": ("",)},
        {"seq": 0},
    ],
    ids=["empty-id", "empty-kind", "bad-trace", "naive-time", "empty-cause", "seq-zero"],
)
def test_malformed_record_rejected_before_writing(log: EventLog, bad: dict[str, object]) -> None:
    fields = dict(bad)
    kind = str(fields.pop("kind", "tick"))
    with pytest.raises(ValueError):
        log.append("market", [new(), new(kind, **fields)])
    assert log.head("market") == 0


# --- reading ---------------------------------------------------------------------------------------------


def test_read_pages_and_limits(log: EventLog) -> None:
    appended = log.append("market", batch(10))
    assert seqs(log.read("market", 1, 3)) == [1, 2, 3]
    assert seqs(log.read("market", 4, 3)) == [4, 5, 6]
    assert seqs(log.read("market", 9, 3)) == [9, 10]
    assert log.read("market", 0, 100) == appended
    assert log.read("market", -7, 2) == appended[:2]
    assert read_all(log, "market", page=3) == appended


def test_read_past_head_is_empty(log: EventLog) -> None:
    log.append("market", batch(4))
    assert log.read("market", 5, 10) == []
    assert log.read("market", 500, 10) == []


def test_read_limit_must_be_positive(log: EventLog) -> None:
    with pytest.raises(ValueError):
        log.read("market", 0, 0)


def test_get(log: EventLog) -> None:
    appended = log.append("dq", batch(3, kind="issue.raised"))
    assert log.get(appended[1].event_id) == appended[1]
    assert log.get("no-such-event") is None


# --- trimming and persistence ----------------------------------------------------------------------------


def test_trim_then_retention_exceeded(log: EventLog) -> None:
    appended = log.append("market", batch(10))
    assert log.trim("market", 4) == 3
    assert (log.oldest("market"), log.head("market")) == (4, 10)
    with pytest.raises(RetentionExceeded) as caught:
        log.read("market", 2, 10)
    assert caught.value.oldest_seq == 4
    assert log.read("market", 4, 100) == appended[3:]
    assert log.read("market", 0, 100) == appended[3:]
    assert log.get(appended[0].event_id) is None
    assert log.get(appended[3].event_id) == appended[3]


def test_read_payloads_is_read_reduced_to_what_a_replay_needs(log: EventLog) -> None:
    appended = log.append("market", batch(12, mandate_id="M1", payload=b"\x00\xffpayload"))
    log.trim("market", 3)
    expected = [(r.seq, r.kind, r.mandate_id, r.payload) for r in log.read("market", 3, 5)]
    assert (
        [tuple(p) for p in log.read_payloads("market", 3, 5)]
        == expected
        == [(r.seq, r.kind, "M1", b"\x00\xffpayload") for r in appended[2:7]]
    )
    assert [p.seq for p in log.read_payloads("market", 0, 100)] == list(range(3, 13))
    assert log.read_payloads("market", 13, 10) == []
    with pytest.raises(RetentionExceeded) as caught:
        log.read_payloads("market", 1, 10)
    assert caught.value.oldest_seq == 3


def test_trim_never_untrims_nor_reserves_future_seqs(log: EventLog) -> None:
    log.append("market", batch(10))
    log.trim("market", 6)
    assert log.trim("market", 2) == 0
    assert log.oldest("market") == 6
    # Past the head: everything goes, and oldest stops at head+1 so the next append is retained.
    assert log.trim("market", 100) == 5
    assert (log.oldest("market"), log.head("market")) == (11, 10)
    assert log.read("market", 0, 10) == []
    assert seqs(log.append("market", batch(2))) == [11, 12]
    assert seqs(log.read("market", 11, 10)) == [11, 12]
    assert log.trim("ledger", 5) == 0
    assert log.oldest("ledger") == 1


def test_trim_removes_trace_and_effect_entries(log: EventLog) -> None:
    cause = log.append("market", [new("trade.fill", trace_id=TRACE_A)])[0]
    effect = log.append("recon", [new("break.opened", trace_id=TRACE_A, caused_by=(cause.event_id,))])[0]
    log.trim("recon", 2)
    assert log.effects_of(cause.event_id) == []
    assert log.by_trace(TRACE_A) == [cause]
    assert log.get(effect.event_id) is None


def test_state_survives_reopening(backend: Backend) -> None:
    first = backend.open()
    appended = first.append("market", batch(6, trace_id=TRACE_B))
    first.append("recon", batch(1))
    first.trim("market", 3)
    first.set_meta("market.seed", "42")
    first.close()

    again = backend.open()
    assert (again.head("market"), again.oldest("market")) == (6, 3)
    assert again.sources() == ["market", "recon"]
    assert again.read("market", 0, 100) == appended[2:]
    assert again.by_trace(TRACE_B) == appended[2:]
    assert again.get_meta("market.seed") == "42"
    with pytest.raises(RetentionExceeded) as caught:
        again.read("market", 1, 1)
    assert caught.value.oldest_seq == 3
    assert seqs(again.append("market", batch(1))) == [7]


def test_fully_trimmed_source_survives_reopening(backend: Backend) -> None:
    first = backend.open()
    first.append("market", batch(3))
    first.trim("market", 4)
    first.close()
    again = backend.open()
    assert (again.head("market"), again.oldest("market")) == (3, 4)
    assert seqs(again.append("market", [new(seq=4)])) == [4]


# --- lineage ---------------------------------------------------------------------------------------------


def test_by_trace_order(log: EventLog) -> None:
    t1, t2 = T0, T0 + dt.timedelta(seconds=1)
    late = log.append("ledger", [new("journal.posted", at=t2, trace_id=TRACE_A)])[0]
    market = log.append(
        "market", [new("price", at=t1, trace_id=TRACE_A), new("fill", at=t1, trace_id=TRACE_A)]
    )
    recon = log.append("recon", [new("break.opened", at=t1, trace_id=TRACE_A)])[0]
    log.append("market", [new("price", at=t1, trace_id=TRACE_B)])
    # sim_time first: ledger's t2 record goes last although appended first. Among t1, market's batch
    # was recorded before recon's; within it (one recorded_at) seq decides. Were the two recorded_at
    # equal, source ("market" < "recon") would give the same order.
    assert log.by_trace(TRACE_A) == [*market, recon, late]
    assert log.by_trace(TRACE_A.upper()) == [*market, recon, late]
    assert log.by_trace("f" * 32) == []
    assert log.by_trace("") == []


def test_effects_of(log: EventLog) -> None:
    fill = log.append("market", [new("trade.fill")])[0]
    other = log.append("market", [new("trade.fill")])[0]
    opened = log.append("recon", [new("break.opened", caused_by=(fill.event_id,))])[0]
    journal = log.append(
        "ledger",
        [new("journal.posted", at=T0 - dt.timedelta(hours=1), caused_by=(other.event_id, fill.event_id))],
    )[0]
    assert journal.caused_by == (other.event_id, fill.event_id)
    assert log.effects_of(fill.event_id) == [journal, opened]  # journal has the earlier sim_time
    assert log.effects_of(other.event_id) == [journal]
    assert log.effects_of(opened.event_id) == []


def test_repeated_cause_is_kept_on_the_record_and_listed_once(log: EventLog) -> None:
    fill = log.append("market", [new("trade.fill")])[0]
    twice = log.append("recon", [new("break.opened", caused_by=(fill.event_id, fill.event_id))])[0]
    assert log.get(twice.event_id).caused_by == (fill.event_id, fill.event_id)  # type: ignore[union-attr]
    assert log.effects_of(fill.event_id) == [twice]


# --- meta ------------------------------------------------------------------------------------------------


def test_meta(log: EventLog) -> None:
    assert log.get_meta("recon.cursor") is None
    log.set_meta("recon.cursor", "17")
    log.set_meta("recon.cursor", "18")
    log.set_meta("note", "prix à jour ✓")
    assert log.get_meta("recon.cursor") == "18"
    assert log.get_meta("note") == "prix à jour ✓"


# --- round trips -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00", b"\xff\xfe\x80 not utf-8 \xc3", bytes(range(256)), b"\x00" * 70_000],
    ids=["empty", "nul", "invalid-utf8", "all-bytes", "large"],
)
def test_payload_round_trips_exactly(log: EventLog, payload: bytes) -> None:
    record = new(payload=payload)
    log.append("market", [record])
    stored = log.read("market", 1, 1)[0]
    assert type(stored.payload) is bytes
    assert stored.payload == payload
    assert log.get(record.event_id).payload == payload  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2020, 3, 16, 14, 30, 0, 123456, tzinfo=dt.UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2008, 9, 15, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-4))),
    ],
    ids=["utc-micros", "before-epoch", "new-york-offset"],
)
def test_sim_time_round_trips_with_timezone(log: EventLog, moment: dt.datetime) -> None:
    log.append("market", [new(at=moment)])
    stored = log.read("market", 1, 1)[0].sim_time
    assert stored == moment
    assert stored.utcoffset() == dt.timedelta(0)
    assert stored.replace(tzinfo=None) == moment.astimezone(dt.UTC).replace(tzinfo=None)


def test_text_fields_round_trip(log: EventLog) -> None:
    record = new(
        "break.opened", event_id="évt-東京-1", mandate_id="M-ÉQUITÉ", summary="écart 5 € ≠ 0", trace_id=""
    )
    assert log.append("recon", [record])[0] == log.get("évt-東京-1")
    stored = log.get("évt-東京-1")
    assert stored is not None
    assert (stored.kind, stored.mandate_id, stored.summary, stored.trace_id) == (
        "break.opened",
        "M-ÉQUITÉ",
        "écart 5 € ≠ 0",
        "",
    )


# --- concurrency -----------------------------------------------------------------------------------------


def test_concurrent_appends_are_gap_free(log: EventLog) -> None:
    writers, batches, size = 4, 25, 5
    appended: list[list[LogRecord]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []
    done = threading.Event()
    start = threading.Barrier(writers + 2)

    def write(index: int) -> None:
        try:
            start.wait()
            for _ in range(batches):
                appended[index] += log.append("market", batch(size, kind=f"writer.{index}"))
        except BaseException as error:
            errors.append(error)

    def watch() -> None:
        # A reader never sees a gap or a half-written batch while writers run.
        try:
            start.wait()
            while not done.is_set():
                chunk = log.read("market", 0, 10_000)
                assert seqs(chunk) == list(range(1, len(chunk) + 1))
                assert len(chunk) % size == 0
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    threads += [threading.Thread(target=watch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads[:writers]:
        thread.join()
    done.set()
    for thread in threads[writers:]:
        thread.join()

    assert errors == []
    total = writers * batches * size
    stored = read_all(log, "market", page=64)
    assert seqs(stored) == list(range(1, total + 1))
    assert log.head("market") == total
    by_seq = {record.seq: record for record in stored}
    for mine in appended:
        assert len(mine) == batches * size
        for record in mine:
            assert by_seq[record.seq] == record


# --- property --------------------------------------------------------------------------------------------

_record_shapes = st.tuples(
    st.binary(max_size=24),
    st.sampled_from(["", TRACE_A, TRACE_B]),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.text(max_size=8),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(_record_shapes, max_size=6), min_size=1, max_size=5))
def test_read_all_is_concatenation_of_appends(
    log: EventLog, batches: list[list[tuple[bytes, str, int, str]]]
) -> None:
    source = f"prop-{uuid.uuid4().hex[:10]}"  # one log serves every example, so each uses its own source
    expected: list[LogRecord] = []
    for shapes in batches:
        records = [
            new(
                "prop",
                at=T0 + dt.timedelta(microseconds=offset),
                payload=payload,
                trace_id=trace,
                summary=text,
            )
            for payload, trace, offset, text in shapes
        ]
        expected += log.append(source, records)
    assert read_all(log, source, page=4) == expected
    assert seqs(expected) == list(range(1, len(expected) + 1))
    assert [(r.payload, r.trace_id, r.summary) for r in expected] == [
        (payload, trace, text) for shapes in batches for payload, trace, _, text in shapes
    ]
