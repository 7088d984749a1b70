"""The recent tail of the event stream, held in memory, ready to send.

The tail is kept as the days' blocks, as the event log stores them (services/common/eventlog/
framing.py): each event framed as a `repeated MarketEvent events = 1` entry of EventBatch (tag,
length, bytes), a day's frames concatenated, with where each ends and each event's kind and mandate.
A batch for a subscriber is a slice of those bytes plus two varints: no protobuf parsing or
re-serialising per subscriber or per event. Older events are read back from the event log in the
same form. The tail is bounded, in events and in bytes, so memory does not grow with the history,
with the size of events or with slow subscribers: each subscriber holds only the page it is sending
from.

The tail is a cache of the log's newest blocks, not a store: a subscriber that starts below it reads
the same bytes from the event log. It needs to cover only what live subscribers lag by (a few days
at a live speed); at full speed followers fall behind by years, where no affordable tail helps.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from services.common.eventlog.framing import FramedRun, encode_varint, join_runs

HEAD_SEQ_TAG = b"\x10"  # EventBatch field 2, varint
LAST_SEQ_TAG = b"\x18"  # EventBatch field 3, varint
# The tail's default bounds: 8,192 events (about 40 business days at ~200 events a day) in at most
# 2 MiB of frames (~250 bytes an event). The 65,536 to 131,072 events held before were 15 to 30 MiB
# of market's resident memory, for a tail that followers at full speed outrun anyway.
DEFAULT_CAPACITY = 8_192
DEFAULT_MAX_BYTES = 2 * 1024 * 1024

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

    Holds the newest published runs (a day each; at a live speed a day's trading, then its close), in
    order and gap-free: at most `capacity` events and `max_bytes` of frames, except that the newest
    run is always held whatever its size. Runs are days or halves of days, so the list is short (a
    few hundred at most) and dropping the oldest as each new one arrives costs nothing worth
    amortising.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._runs: list[FramedRun] = []
        self._firsts: list[int] = []  # each run's first seq, for bisect
        self._count = 0  # events held
        self._bytes = 0  # bytes of frames held
        self._changed = asyncio.Condition()
        self.head_seq = 0
        self.closed = False

    @property
    def first_seq(self) -> int:
        """Lowest seq held in memory; head_seq + 1 when empty."""
        return self._firsts[0] if self._runs else self.head_seq + 1

    def __len__(self) -> int:
        return self._count

    @property
    def size_bytes(self) -> int:
        """Bytes of frames held."""
        return self._bytes

    def reset_head(self, head_seq: int) -> None:
        """Set the head after a replay from the log, with nothing in memory yet."""
        self._runs.clear()
        self._firsts.clear()
        self._count = self._bytes = 0
        self.head_seq = head_seq

    async def publish(self, run: FramedRun) -> None:
        if len(run):
            if run.first_seq != self.head_seq + 1:
                raise ValueError(f"gap in the stream: head {self.head_seq}, next {run.first_seq}")
            self._runs.append(run)
            self._firsts.append(run.first_seq)
            self._count += len(run)
            self._bytes += len(run.frames)
            drop = 0
            while drop < len(self._runs) - 1 and (
                self._count > self.capacity or self._bytes > self.max_bytes
            ):
                self._count -= len(self._runs[drop])
                self._bytes -= len(self._runs[drop].frames)
                drop += 1
            if drop:
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
