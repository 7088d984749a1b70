"""The live tail: framing, batch encoding, filters and bounded memory."""

from __future__ import annotations

import pytest
from google.protobuf.internal.encoder import _VarintBytes
from hypothesis import given
from hypothesis import strategies as st

from opsuite.market.v1 import market_pb2
from services.common.eventlog.framing import FramedRun, frame_run
from services.market.hub import EventFilter, EventHub, encode_batch, encode_varint, kept_frames


def event_bytes(seq: int, kind: str = "price.tick", mandate_id: str = "") -> bytes:
    event = market_pb2.MarketEvent()
    event.envelope.seq = seq
    event.envelope.kind = kind
    event.envelope.mandate_id = mandate_id
    event.envelope.event_id = f"mkt-{seq}" + "x" * (seq % 200)  # frames of several length-prefix sizes
    return event.SerializeToString()


def run(first: int, last: int, kind: str = "price.tick", mandate_id: str = "") -> FramedRun:
    seqs = range(first, last + 1)
    return frame_run(
        first, [event_bytes(s, kind, mandate_id) for s in seqs], [kind] * len(seqs), [mandate_id] * len(seqs)
    )


def seqs_of(frames: FramedRun) -> list[int]:
    batch = market_pb2.EventBatch.FromString(encode_batch((frames.frames,), 0, 0))
    return [e.envelope.seq for e in batch.events]


@given(st.integers(min_value=0, max_value=2**63))
def test_varint_matches_protobuf(value: int) -> None:
    assert encode_varint(value) == _VarintBytes(value)


def test_encoded_batch_is_a_valid_event_batch() -> None:
    frames = run(1, 299)
    batch = market_pb2.EventBatch.FromString(
        encode_batch([frames.span(0, 150), frames.span(150, 299)], 5000, 299)
    )
    assert [e.envelope.seq for e in batch.events] == list(range(1, 300))
    assert (batch.head_seq, batch.last_seq) == (5000, 299)
    empty = market_pb2.EventBatch.FromString(encode_batch((), 7, 7))
    assert (len(empty.events), empty.head_seq, empty.last_seq) == (0, 7, 7)


def test_filter_keeps_kind_prefixes_and_market_wide_events() -> None:
    keep = EventFilter(kinds=("trade.", "clock."), mandate_ids=frozenset({"A"}))
    assert keep.keeps("trade.fill", "A")
    assert not keep.keeps("trade.fill", "B")
    assert keep.keeps("clock.day_end", "")  # market-wide passes any mandate filter
    assert not keep.keeps("price.tick", "")
    assert EventFilter().keeps_everything and not keep.keeps_everything


def test_kept_frames_are_the_kept_events_in_order() -> None:
    kinds = ["trade.fill", "trade.fill", "price.tick", "trade.fill", "clock.day_end", "price.tick"]
    mandates = ["A", "B", "", "A", "", ""]
    frames = frame_run(
        11,
        [event_bytes(11 + i, k, m) for i, (k, m) in enumerate(zip(kinds, mandates, strict=True))],
        kinds,
        mandates,
    )
    keep = EventFilter(kinds=("trade.", "clock."), mandate_ids=frozenset({"A"}))
    kept = kept_frames(frames, 0, 6, keep)
    batch = market_pb2.EventBatch.FromString(encode_batch(kept, 16, 16))
    assert [e.envelope.seq for e in batch.events] == [11, 14, 15]
    assert len(kept) == 2  # 14 and 15 are consecutive: one slice
    assert kept_frames(frames, 2, 3, keep) == []
    assert (
        bytes(kept_frames(frames, 1, 4, EventFilter())[0]) == frames.frames[frames.ends[0] : frames.ends[3]]
    )


async def test_reads_and_bounded_memory() -> None:
    hub = EventHub(capacity=100)
    for start in range(1, 1001, 50):
        await hub.publish(run(start, start + 49))
    assert hub.head_seq == 1000
    assert len(hub) == 100 and hub.first_seq == 901  # the newest runs that fit the capacity
    assert hub.read(hub.first_seq - 1, 10) is None  # fell out of memory: read the log instead
    tail = hub.read(990, 50)
    assert tail is not None and seqs_of(tail) == list(range(990, 1001))
    across = hub.read(930, 45)  # from inside one day's block (901 to 950) into the next
    assert across is not None and seqs_of(across) == list(range(930, 975))
    assert (across.first_seq, across.last_seq, len(across.kinds)) == (930, 974, 45)
    to_head = hub.read(930, 500)
    assert to_head is not None and seqs_of(to_head) == list(range(930, 1001))
    past_head = hub.read(1001, 10)
    assert past_head is not None and (past_head.first_seq, len(past_head)) == (1001, 0)  # empty, not None
    with pytest.raises(ValueError, match="gap"):
        await hub.publish(run(1002, 1002))


async def test_the_tail_is_bounded_in_bytes_too() -> None:
    """Events of any size: the tail holds the newest runs that fit max_bytes (and always the newest
    run, even one larger than that, so the head is served from memory)."""
    runs = [run(start, start + 49) for start in range(1, 501, 50)]
    limit = sum(len(r.frames) for r in runs[-3:])  # the last three days' bytes exactly
    hub = EventHub(capacity=10_000, max_bytes=limit)
    for day in runs:
        await hub.publish(day)
        assert hub.size_bytes <= limit
    assert (hub.first_seq, hub.head_seq, len(hub), hub.size_bytes) == (351, 500, 150, limit)
    assert hub.read(350, 10) is None  # dropped for its bytes: read the log instead
    tail = hub.read(351, 1000)
    assert tail is not None and seqs_of(tail) == list(range(351, 501))
    small = EventHub(capacity=10_000, max_bytes=1)
    await small.publish(run(1, 50))
    await small.publish(run(51, 100))
    assert (small.first_seq, len(small)) == (51, 50)  # only the newest run, larger than the bound


async def test_waiters_wake_on_publish_and_close() -> None:
    hub = EventHub(capacity=10)
    hub.reset_head(5)
    await hub.publish(run(6, 6))
    await hub.wait_beyond(5)  # already beyond: returns at once
    await hub.close()
    await hub.wait_beyond(100)  # closed: returns instead of waiting forever
    assert hub.closed
