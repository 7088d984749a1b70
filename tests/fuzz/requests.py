"""Requests for any method, generated from its input message's descriptor (hypothesis strategies).

Nothing here knows a service or an RPC: a strategy is built from the field descriptors,
recursively, so a new RPC, message or field is fuzzed the day it lands. Three kinds of values mix:

- wild: every scalar type over its whole range (extreme integers, NaN and infinite doubles,
  unicode, strings of 5,000 to 100,000 characters, bytes), enums with unknown numbers, repeated
  fields (a few elements, or thousands of one), nested messages, maps, one field of each oneof,
  Timestamps and Durations at and past the edges of their range;
- plausible: what the services handed out (`Plausible`, harvested from their replies, by field
  name): mandate, instrument, journal, break and confirmation ids, accounts, currencies, decimal
  values, seqs, page tokens, dates of the run; and whole messages that share fields with the
  request (a Journal for PostJournalRequest, a Break for UpdateBreakRequest, a request the
  service accepted before), copied and then partly overwritten, so that requests get past
  validation into the code behind it; and the samples a service accepts that no reply hands
  out (`Plausible.offer`: documents' confirmations and policies, as bytes, and questions),
  offered for their own request type's fields only;
- raw bodies: random bytes, truncated and bit-flipped serializations, truncated and overlong
  varints, lengths past the end, wrong wire types, invalid UTF-8 in a (nested) string field,
  deep and stray groups, invalid field numbers, and unknown fields (which do decode).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf import descriptor as pb
from google.protobuf import duration_pb2, message_factory, text_format, timestamp_pb2
from google.protobuf.message import Message
from hypothesis import strategies as st

F = pb.FieldDescriptor
Strategy = st.SearchStrategy

_I32 = (-(2**31), 2**31 - 1)
_I64 = (-(2**63), 2**63 - 1)
_U32 = (0, 2**32 - 1)
_U64 = (0, 2**64 - 1)
INT_RANGES = {
    F.TYPE_INT32: _I32,
    F.TYPE_SINT32: _I32,
    F.TYPE_SFIXED32: _I32,
    F.TYPE_INT64: _I64,
    F.TYPE_SINT64: _I64,
    F.TYPE_SFIXED64: _I64,
    F.TYPE_UINT32: _U32,
    F.TYPE_FIXED32: _U32,
    F.TYPE_UINT64: _U64,
    F.TYPE_FIXED64: _U64,
}
# Nested messages deeper than this are left unset (a recursive message would never end).
MAX_DEPTH = 3
# gRPC's default limit on a received message: a body past it is RESOURCE_EXHAUSTED by the library.
GRPC_MAX_RECEIVE = 4 * 1024 * 1024

# Text: any code point but lone surrogates (which protobuf cannot encode: invalid UTF-8 is sent
# as raw bytes instead, see raw_bodies).
_CHARS = st.characters(exclude_categories=("Cs",))
SHORT_TEXT = st.text(_CHARS, max_size=40)
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\t\n\r",
        "\u202e\u200b\ufeff",
        "😀🇪🇺",
        "-1",
        "0",
        "9" * 25,
        "1e400",
        "-0",
        "NaN",
        "Infinity",
        "%s%n%x",
        "' OR '1'='1",
        "../../../etc/passwd",
        "BRK-",
        "<script>",
        "null",
        "٣",
        "Assets:",
        ":",
    ]
)


def _repeat_to(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


# Oversized strings: the limits' boundaries (256, 4,000) and 5,000 to 100,000 characters.
LONG_TEXT = st.builds(
    _repeat_to,
    st.text(_CHARS, min_size=1, max_size=3),
    st.one_of(st.sampled_from([256, 257, 4_000, 4_001, 65_536, 100_000]), st.integers(5_000, 100_000)),
)
# Plausible text where the services handed out nothing of the kind: a word, not noise.
WORDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.", min_size=1, max_size=20
)
WILD_TEXT = st.one_of(SHORT_TEXT, NASTY_TEXT, LONG_TEXT)
BYTES = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda unit, n: unit * n, st.binary(min_size=1, max_size=4), st.integers(1_000, 50_000)),
)


def _int_edges(low: int, high: int) -> list[int]:
    candidates = {low, high, 0, 1, -1, low + 1, high - 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53}
    candidates |= {2**63 - 1, 2**63, -(2**31), -(2**63)}
    return sorted(v for v in candidates if low <= v <= high)


def _ints(low: int, high: int) -> Strategy[int]:
    return st.one_of(st.integers(low, high), st.sampled_from(_int_edges(low, high)))


# Well-known types whose range is narrower than their fields' (and whose edges matter).
_SECONDS = [-62_135_596_800, -62_135_596_801, 253_402_300_799, 253_402_300_800, 0, 1_580_688_000]
SPECIAL: dict[str, Strategy[Message]] = {
    "google.protobuf.Timestamp": st.builds(
        lambda s, n: timestamp_pb2.Timestamp(seconds=s, nanos=n),
        st.one_of(st.sampled_from(_SECONDS), _ints(*_I64)),
        st.one_of(st.sampled_from([0, 999_999_999, 1_000_000_000, -1]), _ints(*_I32)),
    ),
    "google.protobuf.Duration": st.builds(
        lambda s, n: duration_pb2.Duration(seconds=s, nanos=n),
        st.one_of(st.sampled_from([0, -1, 315_576_000_000, 315_576_000_001, -315_576_000_001]), _ints(*_I64)),
        st.one_of(st.sampled_from([0, 999_999_999, 1_000_000_000, -1]), _ints(*_I32)),
    ),
}


def is_map(field: pb.FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _real_oneof(field: pb.FieldDescriptor) -> pb.OneofDescriptor | None:
    """The field's oneof, unless it is the synthetic one of a proto3 `optional` field."""
    oneof = field.containing_oneof
    if oneof is None or (len(oneof.fields) == 1 and oneof.name.startswith("_")):
        return None
    return oneof


def request_keys(name: str, scope: str = "") -> list[str]:
    """Where plausible values for a field of this name of a `scope` request are looked for, the
    first that has some: the name, its singular (mandate_ids -> mandate_id, accounts -> account),
    what a prefix is a prefix of, any seq for a seq; each first as the same method answered it
    (a page token is good for its own method only)."""
    keys = [name]
    if name.endswith("s"):
        keys.append(name[:-1])
    if name.endswith("_prefix"):
        keys.append(name.removesuffix("_prefix"))
    if name.endswith("seq"):
        keys.append("*seq")
    return [f"{scope}:{key}" for key in keys] + keys if scope else keys


def _harvest_keys(name: str) -> list[str]:
    """Where a reply's field is kept: its name; next_page_token also as page_token; any *seq also
    under *seq (a seq of one kind is a plausible seq of another)."""
    keys = [name]
    if name.startswith("next_"):
        keys.append(name.removeprefix("next_"))
    if name.endswith("seq"):
        keys.append("*seq")
    return keys


def shared_fields(target: pb.Descriptor, source: pb.Descriptor) -> tuple[str, ...]:
    """The fields of `target` that `source` has too, with the same name, type and cardinality."""
    shared = []
    for field in target.fields:
        other = source.fields_by_name.get(field.name)
        if other is None or other.type != field.type or other.is_repeated != field.is_repeated:
            continue
        if field.message_type is not None and other.message_type.full_name != field.message_type.full_name:
            continue
        if field.enum_type is not None and other.enum_type.full_name != field.enum_type.full_name:
            continue
        shared.append(field.name)
    return tuple(shared)


class Plausible:
    """What the services handed out, to use again in requests; harvested from every reply.

    Strings and integers are kept by field name (`request_keys` says where a request field looks),
    whole messages by type (a message sharing fields with a request is a template for it). Each
    pool keeps its latest values up to a bound. Replies are harvested in the threads that received
    them; strategies read a frozen copy (`freeze`), taken before each hypothesis run, since a
    strategy whose choices depend on state that changes under it is flaky to hypothesis."""

    def __init__(
        self,
        per_key: int = 500,
        per_type: int = 200,
        max_message_bytes: int = 20_000,
        max_bytes_value: int = 200_000,
    ) -> None:
        self._lock = threading.Lock()
        self._per_key, self._per_type, self._max_bytes = per_key, per_type, max_message_bytes
        self._max_bytes_value = max_bytes_value  # a bytes value kept (a document) is at most this long
        self._strings: dict[str, list[str]] = {}
        self._ints: dict[str, list[int]] = {}
        self._bytes: dict[str, list[bytes]] = {}
        self._offered: dict[str, list[Message]] = {}  # request type -> the samples offered, in order
        self._messages: dict[str, list[Message]] = {}
        self._members: dict[tuple[str, str], set[Any]] = {}
        self._turn: dict[tuple[str, str], int] = {}
        self._descriptors: dict[str, pb.Descriptor] = {}
        self._sources: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        self.freeze()

    def freeze(self) -> None:
        """Let the strategies see what was harvested until now (and nothing more until next time)."""
        with self._lock:
            self.strings = {key: list(pool) for key, pool in self._strings.items()}
            self.ints = {key: list(pool) for key, pool in self._ints.items()}
            self.bytes = {key: list(pool) for key, pool in self._bytes.items()}
            self.messages = {key: list(pool) for key, pool in self._messages.items()}
            self.descriptors = dict(self._descriptors)
            self._sources = {}

    def _keep(self, kind: str, pools: dict[str, list[Any]], key: str, value: Any, identity: Any) -> None:
        members = self._members.setdefault((kind, key), set())
        if identity in members:
            return
        pool = pools.setdefault(key, [])
        if len(pool) < (self._per_type if kind == "message" else self._per_key):
            pool.append(value)
            members.add(identity)
            return
        # Full: replace the oldest value, so the pool follows what the service hands out now.
        turn = self._turn.get((kind, key), 0)
        self._turn[(kind, key)] = (turn + 1) % len(pool)
        old = pool[turn]
        members.discard(old.SerializePartialToString(deterministic=True) if kind == "message" else old)
        pool[turn] = value
        members.add(identity)

    def harvest(self, message: Message, *, items: int = 5, scope: str = "") -> None:
        """Keep the ids, names, seqs, page tokens and small messages of a reply (at most `items`
        elements of each repeated field, plus the last); its own fields also for requests of the
        `scope` type (the method's request type: a page token is good for its own method only)."""
        with self._lock:
            self._walk(message, items, scope)

    def add_template(self, message: Message) -> None:
        """A request the service accepted: a template for requests of its type."""
        with self._lock:
            self._keep_message(message)

    def offer(self, message: Message) -> None:
        """A request a service accepts that no reply hands out (an uploaded document, a question):
        a template for its type whatever its size, and its values (bytes too) for the fields of
        requests of its type only (scoped: a confirmation is no policy's content)."""
        with self._lock:
            self._offered.setdefault(message.DESCRIPTOR.full_name, []).append(message)
            self._keep_message(message, limit=False)
            self._walk(message, 1_000, message.DESCRIPTOR.full_name, scoped_only=True)

    def offered(self, type_name: str) -> list[Message]:
        """The samples offered for requests of this type, as they were offered."""
        with self._lock:
            return list(self._offered.get(type_name, ()))

    def _keep_message(self, message: Message, limit: bool = True) -> None:
        if limit and message.ByteSize() > self._max_bytes:
            return
        descriptor = message.DESCRIPTOR
        self._descriptors.setdefault(descriptor.full_name, descriptor)
        copy = type(message)()
        copy.CopyFrom(message)
        self._keep(
            "message",
            self._messages,
            descriptor.full_name,
            copy,
            copy.SerializePartialToString(deterministic=True),
        )

    def _walk(self, message: Message, items: int, scope: str = "", scoped_only: bool = False) -> None:
        if not scoped_only:
            self._keep_message(message)
        for field, value in message.ListFields():
            if is_map(field):
                values: Sequence[Any] = list(value.values())[:items]
                field = field.message_type.fields_by_name["value"]
            elif field.is_repeated:
                values = [*value[:items], *value[-1:]] if len(value) > items else list(value)
            else:
                values = [value]
            for item in values:
                keys = _harvest_keys(field.name)
                scoped = [f"{scope}:{key}" for key in keys] if scope else []
                keys = scoped if scoped_only else keys + scoped
                if field.type == F.TYPE_MESSAGE:
                    if not scoped_only:
                        self._walk(item, items)
                elif field.type == F.TYPE_STRING and item and len(item) <= 300:
                    for key in keys:
                        self._keep("string", self._strings, key, item, item)
                elif field.type == F.TYPE_BYTES and item and len(item) <= self._max_bytes_value:
                    for key in keys:
                        self._keep("bytes", self._bytes, key, item, item)
                elif field.type in INT_RANGES:
                    for key in keys:
                        self._keep("int", self._ints, key, item, item)

    # What the strategies read: the frozen copy.

    def _pool(self, kind: str, keys: Sequence[str]) -> list[Any]:
        """The pool of the first of `keys` that has values."""
        pools: Mapping[str, list[Any]] = self.ints
        if kind == "string":
            pools = self.strings
        elif kind == "bytes":
            pools = self.bytes
        return next((pools[key] for key in keys if pools.get(key)), [])

    def count(self, kind: str, keys: Sequence[str]) -> int:
        return len(self._pool(kind, keys))

    def pick(self, kind: str, keys: Sequence[str], index: int) -> Any:
        """The index-th value of the first of `keys` that has values; None when none has."""
        pool = self._pool(kind, keys)
        return pool[index] if index < len(pool) else None

    def sources(self, target: pb.Descriptor) -> list[tuple[str, tuple[str, ...]]]:
        """Kept message types sharing fields with `target`, with the fields they share."""
        if target.full_name not in self._sources:
            found = [
                (name, shared)
                for name, descriptor in sorted(self.descriptors.items())
                if (shared := shared_fields(target, descriptor))
            ]
            # The closest kinds only (a Journal for PostJournalRequest, not every message with a
            # mandate_id): at least half as many shared fields as the closest.
            best = max((len(shared) for _, shared in found), default=0)
            self._sources[target.full_name] = [(n, shared) for n, shared in found if 2 * len(shared) >= best]
        return self._sources[target.full_name]

    def message(self, type_name: str, index: int) -> Message | None:
        pool = self.messages.get(type_name, ())
        return pool[index % len(pool)] if pool else None

    def message_count(self, type_name: str) -> int:
        return len(self.messages.get(type_name, ()))


def copy_shared(source: Message, target: Message, names: Sequence[str]) -> None:
    """Copy the fields `names` of `source` into `target` (which has them with the same types)."""
    for name in names:
        field = target.DESCRIPTOR.fields_by_name[name]
        value = getattr(source, name)
        if is_map(field):
            if field.message_type.fields_by_name["value"].type == F.TYPE_MESSAGE:
                for key, item in value.items():
                    getattr(target, name)[key].CopyFrom(item)
            else:
                getattr(target, name).update(value)
        elif field.is_repeated:
            getattr(target, name).extend(value)
        elif field.type == F.TYPE_MESSAGE:
            if source.HasField(name):
                getattr(target, name).CopyFrom(value)
        elif source.DESCRIPTOR.fields_by_name[name].has_presence:
            if source.HasField(name):
                setattr(target, name, value)
        elif value:
            setattr(target, name, value)


def assign(message: Message, field: pb.FieldDescriptor, value: Any) -> None:
    """Set one field of `message` to a generated value (replacing what a template put there)."""
    message.ClearField(field.name)
    if is_map(field):
        target = getattr(message, field.name)
        for key, item in value.items():
            if isinstance(item, Message):
                target[key].CopyFrom(item)
            else:
                target[key] = item
    elif field.is_repeated:
        getattr(message, field.name).extend(value)
    elif field.type == F.TYPE_MESSAGE:
        getattr(message, field.name).CopyFrom(value)
    else:
        setattr(message, field.name, value)


@dataclass(frozen=True)
class Call:
    """One request as sent: its body, the message it serializes (None for a raw body), and for a
    server stream how many messages to read at most before cancelling."""

    how: str
    body: bytes
    request: Message | None = None
    reads: int = 1

    def describe(self, limit: int = 600) -> str:
        if self.request is not None:
            shown = text_format.MessageToString(self.request, as_one_line=True, as_utf8=True)
        else:
            shown = repr(self.body[:limit])
        if len(shown) > limit:
            shown = f"{shown[:limit]}... ({len(shown):,} characters)"
        return f"{self.how} ({len(self.body):,} bytes): {shown}"


# ------------------------------------------------------------------ the wire, by hand


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint((number << 3) | wire_type)


def length_delimited(number: int, payload: bytes) -> bytes:
    return tag(number, 2) + varint(len(payload)) + payload


_WIRE_TYPE = {
    F.TYPE_DOUBLE: 1,
    F.TYPE_FIXED64: 1,
    F.TYPE_SFIXED64: 1,
    F.TYPE_FLOAT: 5,
    F.TYPE_FIXED32: 5,
    F.TYPE_SFIXED32: 5,
    F.TYPE_STRING: 2,
    F.TYPE_BYTES: 2,
    F.TYPE_MESSAGE: 2,
}
_PAYLOAD = {0: b"\x01", 1: b"\x00" * 8, 2: b"\x01x", 5: b"\x00" * 4}
INVALID_UTF8 = [
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc0\xaf",
    b"ok\x80",
    b"\xe2\x82",
]


def string_paths(descriptor: pb.Descriptor, depth: int = 0) -> list[tuple[int, ...]]:
    """Field-number paths to every string field, through nested messages (depth <= 2)."""
    paths: list[tuple[int, ...]] = []
    for field in descriptor.fields:
        if field.type == F.TYPE_STRING:
            paths.append((field.number,))
        elif field.type == F.TYPE_MESSAGE and depth < 2 and not is_map(field):
            paths += [(field.number, *rest) for rest in string_paths(field.message_type, depth + 1)]
    return paths


def nested(path: Sequence[int], payload: bytes) -> bytes:
    """`payload` as the length-delimited value at `path` (outermost field first)."""
    body = length_delimited(path[-1], payload)
    for number in reversed(path[:-1]):
        body = length_delimited(number, body)
    return body


def _truncated(body: bytes, at: int) -> tuple[str, bytes]:
    if len(body) < 2:
        body += length_delimited(1, b"abcdef")
    return "truncated serialization", body[: 1 + at % (len(body) - 1)]


def _flipped(body: bytes, at: int, mask: int) -> tuple[str, bytes]:
    if not body:
        return "one flipped byte", bytes([mask or 1])
    i = at % len(body)
    return "flipped byte", body[:i] + bytes([body[i] ^ (mask or 1)]) + body[i + 1 :]


class Requests:
    """Strategies for request messages and raw bodies of any method, sharing one `Plausible`."""

    def __init__(self, plausible: Plausible) -> None:
        self.plausible = plausible
        self._messages: dict[tuple[str, int, bool], Strategy[Message]] = {}

    # ------------------------------------------------------------ messages

    def message(self, descriptor: pb.Descriptor, depth: int = 0, small: bool = False) -> Strategy[Message]:
        """Messages of `descriptor`: generated, or a plausible template partly overwritten.
        small: short strings and lists only (elements of a list repeated thousands of times)."""
        key = (descriptor.full_name, depth, small)
        if key not in self._messages:
            # Nested fields are built at depth + 1: a recursive type ends at MAX_DEPTH.
            self._messages[key] = self._build(descriptor, depth, small)
        return self._messages[key]

    def _build(self, descriptor: pb.Descriptor, depth: int, small: bool) -> Strategy[Message]:
        cls = message_factory.GetMessageClass(descriptor)
        values: dict[str, tuple[Strategy[Any], Strategy[Any]]] = {}
        for field in descriptor.fields:
            plausible_value = self.field(field, depth, small, wild=False, scope=descriptor.full_name)
            wild_value = self.field(field, depth, small, wild=True)
            if plausible_value is not None and wild_value is not None:
                values[field.name] = (plausible_value, wild_value)
        plain = [f for f in descriptor.fields if f.name in values and _real_oneof(f) is None]
        oneofs = [
            [f for f in oneof.fields if f.name in values]
            for oneof in descriptor.oneofs
            if not (len(oneof.fields) == 1 and oneof.name.startswith("_"))
        ]
        plausible = self.plausible

        @st.composite
        def build(draw: st.DrawFn) -> Message:
            message = cls()
            sources = plausible.sources(descriptor)
            copied: tuple[str, ...] = ()
            # (Hypothesis starts from the simplest choices, zeros: zero picks the template, the
            # first closest kind, a plausible value.)
            use_template = not draw(st.booleans())
            if sources and use_template:
                name, shared = sources[draw(st.integers(0, len(sources) - 1))]
                count = plausible.message_count(name)
                source = plausible.message(name, draw(st.integers(0, max(0, count - 1))))
                if source is not None:
                    copy_shared(source, message, shared)
                    copied = shared
            for field in plain:
                # A field the template gave mostly stays (6 in 8), else a plausible or a wild value;
                # any other field: plausible (3 in 8), left unset (3 in 8) or wild (2 in 8).
                choice = draw(st.integers(0, 7))
                plausible_value, wild_value = values[field.name]
                if field.name in copied:
                    if choice >= 6:
                        try_assign(message, field, draw(wild_value if choice == 7 else plausible_value))
                elif choice < 3:
                    try_assign(message, field, draw(plausible_value))
                elif choice >= 6:
                    try_assign(message, field, draw(wild_value))
            for fields in oneofs:
                chosen = draw(st.integers(-1, len(fields) - 1))
                if chosen >= 0:
                    plausible_value, wild_value = values[fields[chosen].name]
                    try_assign(message, fields[chosen], draw(st.one_of(plausible_value, wild_value)))
            return message

        special = SPECIAL.get(descriptor.full_name)
        return st.one_of(special, build()) if special is not None else build()

    def field(
        self, field: pb.FieldDescriptor, depth: int, small: bool, wild: bool, scope: str = ""
    ) -> Strategy[Any] | None:
        """Values of one field (a list for a repeated one, a dict for a map); None: leave it unset."""
        if is_map(field):
            entry = field.message_type
            key = self.single(entry.fields_by_name["key"], depth + 1, True, wild)
            value = self.single(entry.fields_by_name["value"], depth + 1, small, wild)
            if key is None or value is None:
                return None
            return st.dictionaries(key, value, max_size=4)
        single = self.single(field, depth, small, wild, scope)
        if single is None:
            return None
        if not field.is_repeated:
            return single
        lists = st.lists(single, max_size=5 if depth == 0 else 3)
        if small or depth > 0 or not wild:
            return lists
        # Oversized: one (short) element a hundred to three thousand times.
        element = self.single(field, depth, True, True)
        assert element is not None
        return st.one_of(lists, st.builds(lambda item, n: [item] * n, element, st.integers(100, 3_000)))

    def single(
        self, field: pb.FieldDescriptor, depth: int, small: bool, wild: bool, scope: str = ""
    ) -> Strategy[Any] | None:
        """One value of the field's type: plausible (the run's values, defined enum numbers,
        small numbers) or wild (the type's whole range)."""
        kind = field.type
        if kind in (F.TYPE_MESSAGE, F.TYPE_GROUP):
            if depth + 1 > MAX_DEPTH:
                return None
            return self.message(field.message_type, depth + 1, small)
        if kind == F.TYPE_ENUM:
            # The defined values, UNSPECIFIED (0) last: hypothesis starts from the first.
            defined = st.sampled_from(
                sorted((v.number for v in field.enum_type.values), key=lambda n: n == 0)
            )
            return st.one_of(defined, _ints(*_I32)) if wild else defined
        if kind == F.TYPE_STRING:
            if wild:
                return SHORT_TEXT if small else WILD_TEXT
            return self.plausible_string(field.name, scope)
        if kind == F.TYPE_BYTES:
            if wild:
                return st.binary(max_size=16) if small else BYTES
            return self.plausible_bytes(field.name, scope)
        if kind == F.TYPE_BOOL:
            return st.booleans()
        if kind == F.TYPE_DOUBLE:
            return st.floats() if wild else st.floats(-1e6, 1e6)
        if kind == F.TYPE_FLOAT:
            return st.floats(width=32) if wild else st.floats(-1e6, 1e6, width=32)
        low, high = INT_RANGES[kind]
        return _ints(low, high) if wild else self.plausible_int(field.name, low, high, scope)

    def plausible_string(self, name: str, scope: str = "") -> Strategy[str]:
        keys = request_keys(name, scope)
        is_prefix = name.endswith("_prefix")
        plausible = self.plausible

        @st.composite
        def draw_string(draw: st.DrawFn) -> str:
            count = plausible.count("string", keys)
            if not count:
                return draw(WORDS)
            value: str = plausible.pick("string", keys, draw(st.integers(0, count - 1))) or ""
            if is_prefix:
                value = value[: draw(st.integers(0, len(value)))]
            # Now and then a near miss: another case, a space in front, a character short.
            near = draw(st.integers(0, 15))
            if near == 1:
                value = value.lower()
            elif near == 2:
                value = f" {value}"
            elif near == 3:
                value = value[:-1]
            return value

        return draw_string()

    def plausible_bytes(self, name: str, scope: str = "") -> Strategy[bytes]:
        """A value offered for the field (a whole document), now and then cut short or with one
        byte flipped; a few random bytes where nothing was offered."""
        keys = request_keys(name, scope)
        plausible = self.plausible

        @st.composite
        def draw_bytes(draw: st.DrawFn) -> bytes:
            count = plausible.count("bytes", keys)
            if not count:
                return draw(st.binary(max_size=16))
            value: bytes = plausible.pick("bytes", keys, draw(st.integers(0, count - 1))) or b""
            near = draw(st.integers(0, 11))
            if near == 1:
                value = value[: draw(st.integers(0, len(value)))]
            elif near == 2 and value:
                at = draw(st.integers(0, len(value) - 1))
                value = value[:at] + bytes([value[at] ^ draw(st.integers(1, 255))]) + value[at + 1 :]
            return value

        return draw_bytes()

    def plausible_int(self, name: str, low: int, high: int, scope: str = "") -> Strategy[int]:
        keys = request_keys(name, scope)
        plausible = self.plausible
        small = st.integers(max(low, 0), min(high, 1_000))

        @st.composite
        def draw_int(draw: st.DrawFn) -> int:
            count = plausible.count("int", keys)
            if not count:
                return draw(small)
            value: int = plausible.pick("int", keys, draw(st.integers(0, count - 1)))
            value += draw(st.sampled_from([0, 0, 0, 1, -1]))  # the value, or one either side
            return min(high, max(low, value))

        return draw_int()

    # ------------------------------------------------------------ raw bodies

    def raw_bodies(self, descriptor: pb.Descriptor) -> Strategy[tuple[str, bytes]]:
        """(what, body): bytes that are not a valid serialization, or are valid with surprises."""
        valid = self.message(descriptor).map(lambda m: m.SerializePartialToString())
        numbers = [f.number for f in descriptor.fields] or [1]
        paths = string_paths(descriptor) or [(1,)]
        mismatched = [
            (f.number, wire)
            for f in descriptor.fields
            for wire in (0, 1, 2, 5)
            if wire != _WIRE_TYPE.get(f.type, 0) and not (f.is_repeated and wire == 2)
        ] or [(1, 3)]
        index = st.integers(0, 2**16)
        return st.one_of(
            st.tuples(st.just("random bytes"), st.binary(max_size=256)),
            st.builds(_truncated, valid, index),
            st.builds(_flipped, valid, index, st.integers(0, 255)),
            st.builds(
                lambda body, path, junk: (f"invalid UTF-8 at field path {path}", body + nested(path, junk)),
                valid,
                st.sampled_from(paths),
                st.sampled_from(INVALID_UTF8),
            ),
            st.builds(
                lambda body, number, k: ("truncated varint", body + tag(number, 0) + b"\xff" * k),
                valid,
                st.sampled_from(numbers),
                st.integers(1, 9),
            ),
            st.builds(
                lambda body, number: ("overlong varint", body + tag(number, 0) + b"\xff" * 10 + b"\x01"),
                valid,
                st.sampled_from(numbers),
            ),
            st.builds(
                lambda body, number, claimed, tail: (
                    "length past the end",
                    body + tag(number, 2) + varint(len(tail) + claimed) + tail,
                ),
                valid,
                st.sampled_from(numbers),
                st.integers(1, 2**40),
                st.binary(max_size=16),
            ),
            st.builds(
                lambda body, pair: (
                    f"wire type {pair[1]} for field {pair[0]}",
                    body + tag(pair[0], pair[1]) + _PAYLOAD.get(pair[1], b""),
                ),
                valid,
                st.sampled_from(mismatched),
            ),
            st.builds(
                lambda depth, closed: (
                    f"{depth} nested groups{'' if closed else ', never closed'}",
                    tag(1, 3) * depth + (tag(1, 4) * depth if closed else b""),
                ),
                st.integers(1, 300),
                st.booleans(),
            ),
            st.builds(
                lambda body, junk: (
                    "a stray end-group or field number 0",
                    body + junk,
                ),
                valid,
                st.sampled_from([tag(1, 4), b"\x00\x01", tag(0, 2) + b"\x00", tag(2**29, 0) + b"\x01"]),
            ),
            st.builds(
                lambda body, number, payload: (
                    "unknown field",
                    body + length_delimited(number, payload),
                ),
                valid,
                st.integers(1_000, 2**29 - 1),
                st.binary(max_size=32),
            ),
        )

    def calls(self, method: pb.MethodDescriptor) -> Strategy[Call]:
        """What to send to `method`: two in three a generated message, one a raw body."""
        messages = self.message(method.input_type)
        raw = self.raw_bodies(method.input_type)
        streaming = method.server_streaming

        @st.composite
        def call(draw: st.DrawFn) -> Call:
            # An explicit choice: one_of would flatten the raw bodies' many branches into its own.
            if draw(st.integers(0, 2)) < 2:
                message = draw(messages)
                made = Call("message", message.SerializePartialToString(), message)
            else:
                how, body = draw(raw)
                made = Call(how, body)
            return replace(made, reads=draw(st.integers(0, 3))) if streaming else made

        return call()


def try_assign(message: Message, field: pb.FieldDescriptor, value: Any) -> None:
    """assign(), skipping a value the field cannot hold (a closed enum's unknown number)."""
    try:
        assign(message, field, value)
    except (ValueError, TypeError):
        message.ClearField(field.name)


def oversized_bodies(descriptor: pb.Descriptor) -> list[Call]:
    """Two bodies at gRPC's size limit: just under it, one string field of nearly 4 MB (the service
    must refuse or take it by its own limits), and just over it (the library refuses it)."""
    paths = string_paths(descriptor)
    number = paths[0] if paths else (1,)
    under = nested(number, b"x" * (GRPC_MAX_RECEIVE - 1_024))
    over = nested(number, b"y" * (GRPC_MAX_RECEIVE + 1_024))
    return [
        Call(f"a string of {len(under) - 16:,} bytes at field path {number}", under),
        Call("a body past gRPC's 4 MB limit", over),
    ]


StrategyFactory = Callable[[pb.MethodDescriptor], Strategy[Call]]
