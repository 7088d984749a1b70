"""The live tail: framing, batch encoding, filters and bounded memory."""

from __future__ import annotations

import pytest
from google.protobuf.internal.encoder import _VarintBytes
from hypothesis import given
from hypothesis import strategies as st

from opsuite.market.v1 import market_pb2
from services.market.hub import EventFilter, EventHub, FramedEvent, encode_batch, encode_varint


def framed(seq: int, kind: str = "price.tick", mandate_id: str = "") -> FramedEvent:
    event = market_pb2.MarketEvent()
    event.envelope.seq = seq
    event.envelope.kind = kind
    event.envelope.mandate_id = mandate_id
    event.envelope.event_id = f"mkt-{seq}" + "x" * (seq % 200)  # frames of several length-prefix sizes
    return FramedEvent.from_serialized(seq, kind, mandate_id, event.SerializeToString())


@given(st.integers(min_value=0, max_value=2**63))
def test_varint_matches_protobuf(value: int) -> None:
    assert encode_varint(value) == _VarintBytes(value)


def test_encoded_batch_is_a_valid_event_batch() -> None:
    frames = [framed(seq) for seq in range(1, 300)]
    batch = market_pb2.EventBatch.FromString(encode_batch((f.frame for f in frames), 5000, 299))
    assert [e.envelope.seq for e in batch.events] == list(range(1, 300))
    assert (batch.head_seq, batch.last_seq) == (5000, 299)
    empty = market_pb2.EventBatch.FromString(encode_batch((), 7, 7))
    assert (len(empty.events), empty.head_seq, empty.last_seq) == (0, 7, 7)


def test_filter_keeps_kind_prefixes_and_market_wide_events() -> None:
    keep = EventFilter(kinds=("trade.", "clock."), mandate_ids=frozenset({"A"}))
    assert keep.keeps(framed(1, "trade.fill", "A"))
    assert not keep.keeps(framed(2, "trade.fill", "B"))
    assert keep.keeps(framed(3, "clock.day_end"))  # market-wide passes any mandate filter
    assert not keep.keeps(framed(4, "price.tick"))
    assert EventFilter().keeps_everything and not keep.keeps_everything


async def test_slices_and_bounded_memory() -> None:
    hub = EventHub(capacity=100)
    for start in range(1, 1001, 50):
        await hub.publish([framed(seq) for seq in range(start, start + 50)])
    assert hub.head_seq == 1000
    assert 100 <= len(hub) < 200  # compacted: never more than twice the capacity
    assert hub.slice(hub.first_seq - 1, 10) is None  # fell out of memory: read the log instead
    tail = hub.slice(990, 50)
    assert tail is not None and [f.seq for f in tail] == list(range(990, 1001))
    assert hub.slice(1001, 10) == []
    with pytest.raises(ValueError, match="gap"):
        await hub.publish([framed(1002)])


async def test_waiters_wake_on_publish_and_close() -> None:
    hub = EventHub(capacity=10)
    hub.reset_head(5)
    await hub.publish([framed(6)])
    await hub.wait_beyond(5)  # already beyond: returns at once
    await hub.close()
    await hub.wait_beyond(100)  # closed: returns instead of waiting forever
    assert hub.closed
