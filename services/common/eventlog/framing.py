"""Records' payloads framed as entries of a protobuf `repeated` field 1, ready to concatenate.

A frame is the tag of field 1 with wire type 2 (b"\\x0a"), the payload's length as a varint, then the
payload: exactly how a serializer writes one element of a `repeated bytes` or `repeated <message>
field = 1`. Frames of consecutive records joined together, followed by a message's other fields, are
that message serialized, with no parsing or re-encoding per record: market's EventBatch is built so
(`repeated MarketEvent events = 1`). `append_block` stores a batch so as well, and `read_framed`
serves runs of frames (services/common/eventlog/base.py).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

if array("I").itemsize != 4:  # the stored ends are 32-bit
    raise ImportError("this platform's array('I') is not 32 bits wide")

FIELD_1_TAG = b"\x0a"  # field 1, wire type 2 (length-delimited)
# A block's labels (kinds, mandate ids) are stored joined by this; a label that holds it is refused.
LABEL_SEPARATOR = "\n"


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


def frame(payload: bytes) -> bytes:
    return FIELD_1_TAG + encode_varint(len(payload)) + payload


@dataclass(frozen=True, slots=True)
class FramedRun:
    """Consecutive records of one source from first_seq on, framed.

    frames: the records' frames, concatenated.
    ends: where each record's frame ends in frames (record first_seq + i spans ends[i-1]:ends[i],
        from 0 for the first); an array("I") where the log or the hub made it.
    kinds, mandate_ids: each record's kind and mandate id, for filtering without parsing a payload.
    """

    first_seq: int
    frames: bytes
    ends: Sequence[int]
    kinds: Sequence[str]
    mandate_ids: Sequence[str]

    def __len__(self) -> int:
        return len(self.ends)

    @property
    def last_seq(self) -> int:
        """The seq of the last record; first_seq - 1 for an empty run."""
        return self.first_seq + len(self.ends) - 1

    def start(self, index: int) -> int:
        """Where the frame of the index-th record begins in frames."""
        return self.ends[index - 1] if index else 0

    def span(self, begin: int, end: int) -> memoryview:
        """The frames of records begin..end-1 (indexes), without copying."""
        return memoryview(self.frames)[self.start(begin) : self.start(end)]

    def cut(self, from_seq: int, limit: int) -> FramedRun:
        """At most limit records from from_seq on (a copy of their bytes)."""
        begin = max(0, from_seq - self.first_seq)
        end = min(len(self.ends), begin + limit)
        if begin == 0 and end == len(self.ends):
            return self
        offset = self.start(begin)
        return FramedRun(
            self.first_seq + begin,
            self.frames[offset : self.start(end)],
            array("I", [e - offset for e in self.ends[begin:end]]),
            self.kinds[begin:end],
            self.mandate_ids[begin:end],
        )


def frame_run(
    first_seq: int, payloads: Iterable[bytes], kinds: Sequence[str], mandate_ids: Sequence[str]
) -> FramedRun:
    """A run framed from its records' payloads."""
    pieces: list[bytes] = []  # each frame's header and payload, joined once at the end
    add = pieces.append
    ends = array("I")  # 4 bytes an event where a list of ints takes 36: the tail holds ~100,000
    end = 0
    for payload in payloads:
        size = len(payload)
        header = FIELD_1_TAG + encode_varint(size)
        add(header)
        add(payload)
        end += len(header) + size
        ends.append(end)
    return FramedRun(first_seq, b"".join(pieces), ends, kinds, mandate_ids)


def join_runs(runs: Sequence[FramedRun]) -> FramedRun:
    """Consecutive runs as one (first_seq of the first); ValueError when they are not consecutive."""
    if len(runs) == 1:
        return runs[0]
    ends = array("I")
    kinds: list[str] = []
    mandate_ids: list[str] = []
    base = 0
    expected = runs[0].first_seq
    for run in runs:
        if run.first_seq != expected:
            raise ValueError(f"runs are not consecutive: seq {run.first_seq} follows {expected - 1}")
        expected = run.last_seq + 1
        ends.extend(map(base.__add__, run.ends) if base else run.ends)
        kinds += run.kinds
        mandate_ids += run.mandate_ids
        base += len(run.frames)
    return FramedRun(runs[0].first_seq, b"".join(run.frames for run in runs), ends, kinds, mandate_ids)


# ---------------------------------------------------------------- a block's stored form


def pack_ends(ends: Sequence[int]) -> bytes:
    """A block's ends as stored: unsigned 32-bit little-endian integers (a block is far below 4 GiB)."""
    packed = array("I", ends)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def unpack_ends(data: bytes) -> array[int]:
    ends = array("I")
    ends.frombytes(data)
    if sys.byteorder != "little":
        ends.byteswap()
    return ends


def pack_labels(labels: Sequence[str]) -> str:
    return LABEL_SEPARATOR.join(labels)


def unpack_labels(text: str, count: int) -> list[str]:
    # "".split(sep) gives [""]: a block of one record with an empty label is still one label.
    return text.split(LABEL_SEPARATOR) if count else []
