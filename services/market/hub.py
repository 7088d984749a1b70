"""The recent tail of the event stream, held in memory, ready to send.

The tail is kept as the days' blocks, as the event log stores them (services/common/eventlog/
framing.py): each event framed as a `repeated MarketEvent events = 1` entry of EventBatch (tag,
length, bytes), a day's frames concatenated, with where each ends and each event's kind and mandate.
A batch for a subscriber is a slice of those bytes plus two varints: no protobuf parsing or
re-serialising per subscriber or per event. Older events are read back from the event log in the
same form. The tail is bounded, so memory does not grow with the history or with slow subscribers:
each subscriber holds only the page it is sending from.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from services.common.eventlog.framing import FramedRun, encode_varint, join_runs

HEAD_SEQ_TAG = b"\x10"  # EventBatch field 2, varint
LAST_SEQ_TAG = b"\x18"  # EventBatch field 3, varint

__all__ = ["EventFilter", "EventHub", "encode_batch", "encode_varint", "kept_frames"]


def encode_batch(frames: Iterable[bytes | memoryview], head_seq: int, last_seq: int) -> bytes:
    """Serialized EventBatch built from pre-framed events."""
    return b"".join((*frames, HEAD_SEQ_TAG, encode_varint(head_seq), LAST_SEQ_TAG, encode_varint(last_seq)))


@dataclass(frozen=True, slots=True)
class EventFilter:
    kinds: tuple[str, ...] = ()
    mandate_ids: frozenset[str] = frozenset()

    @property
    def keeps_everything(self) -> bool:
        return not self.kinds and not self.mandate_ids

    def keeps(self, kind: str, mandate_id: str) -> bool:
        if self.kinds and not kind.startswith(self.kinds):
            return False
        # Market-wide events (no mandate) always pass a mandate filter.
        return not (self.mandate_ids and mandate_id and mandate_id not in self.mandate_ids)


def kept_frames(run: FramedRun, begin: int, end: int, event_filter: EventFilter) -> list[memoryview]:
    """The frames of run's events begin..end-1 (indexes) that event_filter keeps, consecutive kept
    events as one slice."""
    if event_filter.keeps_everything:
        return [run.span(begin, end)]
    kinds, mandate_ids, keeps = run.kinds, run.mandate_ids, event_filter.keeps
    pieces: list[memoryview] = []
    start = -1  # the first of the kept events not yet in pieces
    for index in range(begin, end):
        if keeps(kinds[index], mandate_ids[index]):
            if start < 0:
                start = index
        elif start >= 0:
            pieces.append(run.span(start, index))
            start = -1
    if start >= 0:
        pieces.append(run.span(start, end))
    return pieces


class EventHub:
    """Bounded in-memory tail of the stream with a notification on every new head.

    Holds the published runs (a day each), in order and gap-free. When they reach twice the capacity
    in events, the oldest runs are dropped down to about the capacity, which keeps publishing
    amortised O(1).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._runs: list[FramedRun] = []
        self._firsts: list[int] = []  # each run's first seq, for bisect
        self._count = 0  # events held
        self._changed = asyncio.Condition()
        self.head_seq = 0
        self.closed = False

    @property
    def first_seq(self) -> int:
        """Lowest seq held in memory; head_seq + 1 when empty."""
        return self._firsts[0] if self._runs else self.head_seq + 1

    def __len__(self) -> int:
        return self._count

    def reset_head(self, head_seq: int) -> None:
        """Set the head after a replay from the log, with nothing in memory yet."""
        self._runs.clear()
        self._firsts.clear()
        self._count = 0
        self.head_seq = head_seq

    async def publish(self, run: FramedRun) -> None:
        if len(run):
            if run.first_seq != self.head_seq + 1:
                raise ValueError(f"gap in the stream: head {self.head_seq}, next {run.first_seq}")
            self._runs.append(run)
            self._firsts.append(run.first_seq)
            self._count += len(run)
            if self._count >= 2 * self.capacity:
                drop = 0
                while self._count - len(self._runs[drop]) >= self.capacity:
                    self._count -= len(self._runs[drop])
                    drop += 1
                del self._runs[:drop], self._firsts[:drop]
            self.head_seq = run.last_seq
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

    def read(self, from_seq: int, limit: int) -> FramedRun | None:
        """Up to `limit` events from from_seq on as one run (empty past the head), or None when
        from_seq is no longer in memory."""
        if not self._runs or from_seq < self._firsts[0]:
            return None
        if from_seq > self.head_seq:
            return FramedRun(from_seq, b"", [], [], [])
        index = bisect.bisect_right(self._firsts, from_seq) - 1
        pieces: list[FramedRun] = []
        cursor, remaining = from_seq, limit
        while remaining > 0 and index < len(self._runs):
            piece = self._runs[index].cut(cursor, remaining)
            pieces.append(piece)
            cursor, remaining = piece.last_seq + 1, remaining - len(piece)
            index += 1
        return join_runs(pieces)
