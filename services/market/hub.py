"""The recent tail of the event stream, held in memory, ready to send.

Each event is kept once, already framed as a `repeated MarketEvent events = 1`
entry of EventBatch (tag, length, bytes), so a batch for a subscriber is a
concatenation of frames plus two varints: no protobuf parsing or
re-serialising per subscriber. Older events are read back from the event log.
The tail is bounded, so memory does not grow with the history or with slow
subscribers: each subscriber holds only the batch it is sending.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

EVENTS_FIELD_TAG = b"\x0a"  # field 1, wire type 2 (length-delimited)
HEAD_SEQ_TAG = b"\x10"  # field 2, varint
LAST_SEQ_TAG = b"\x18"  # field 3, varint


def encode_varint(value: int) -> bytes:
    if value < 0x80:  # the common cases first: this runs once per event
        return bytes((value,))
    if value < 0x4000:
        return bytes(((value & 0x7F) | 0x80, value >> 7))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class FramedEvent(NamedTuple):
    """An event ready to send. A NamedTuple: built once per event, so construction cost matters."""

    seq: int
    kind: str
    mandate_id: str
    frame: bytes  # EVENTS_FIELD_TAG + varint(len) + serialized MarketEvent

    @classmethod
    def from_serialized(cls, seq: int, kind: str, mandate_id: str, payload: bytes) -> FramedEvent:
        return cls(seq, kind, mandate_id, EVENTS_FIELD_TAG + encode_varint(len(payload)) + payload)


def encode_batch(frames: Iterable[bytes], head_seq: int, last_seq: int) -> bytes:
    """Serialized EventBatch built from pre-framed events."""
    return b"".join((*frames, HEAD_SEQ_TAG, encode_varint(head_seq), LAST_SEQ_TAG, encode_varint(last_seq)))


@dataclass(frozen=True, slots=True)
class EventFilter:
    kinds: tuple[str, ...] = ()
    mandate_ids: frozenset[str] = frozenset()

    @property
    def keeps_everything(self) -> bool:
        return not self.kinds and not self.mandate_ids

    def keeps(self, event: FramedEvent) -> bool:
        if self.kinds and not event.kind.startswith(self.kinds):
            return False
        # Market-wide events (no mandate) always pass a mandate filter.
        return not (self.mandate_ids and event.mandate_id and event.mandate_id not in self.mandate_ids)


class EventHub:
    """Bounded in-memory tail of the stream with a notification on every new head.

    Seqs are gap-free, so an event's position is its seq minus the first
    seq held. The list is compacted when it reaches twice the capacity, which
    keeps appends amortised O(1) and slices O(batch).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._events: list[FramedEvent] = []
        self._changed = asyncio.Condition()
        self.head_seq = 0
        self.closed = False

    @property
    def first_seq(self) -> int:
        """Lowest seq held in memory; head_seq + 1 when empty."""
        return self._events[0].seq if self._events else self.head_seq + 1

    def __len__(self) -> int:
        return len(self._events)

    def reset_head(self, head_seq: int) -> None:
        """Set the head after a replay from the log, with nothing in memory yet."""
        self._events.clear()
        self.head_seq = head_seq

    async def publish(self, events: Sequence[FramedEvent]) -> None:
        if events:
            if events[0].seq != self.head_seq + 1:
                raise ValueError(f"gap in the stream: head {self.head_seq}, next {events[0].seq}")
            self._events.extend(events)
            if len(self._events) >= 2 * self.capacity:
                del self._events[: len(self._events) - self.capacity]
            self.head_seq = events[-1].seq
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        self.closed = True
        async with self._changed:
            self._changed.notify_all()

    async def wait_beyond(self, seq: int) -> None:
        """Return once head_seq > seq or the hub is closed."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.head_seq > seq or self.closed)

    def slice(self, from_seq: int, limit: int) -> list[FramedEvent] | None:
        """Up to `limit` events from from_seq on, or None when from_seq is no longer in memory."""
        if not self._events or from_seq < self._events[0].seq:
            return None
        start = from_seq - self._events[0].seq
        return self._events[start : start + limit]
