"""The event-log backend for scale: Redis Streams.

Keys, all under one prefix P (default "opsuite"):
  P:stream:<source>   one stream per source; entry id "<seq>-0", so XRANGE reads by seq
  P:blocks:<source>   the batches of append_block, pre-framed; entry id "<last seq>-0", so an
                      XRANGE from "<seq>-0" starts with the block that holds seq
  P:heads             hash source -> last seq
  P:oldest            hash source -> lowest retained seq (absent means 1)
  P:ids               hash event_id -> "<seq>:<source>"
  P:trace:<trace_id>  sorted set of "<seq>:<source>" scored by sim_time in microseconds
  P:effects:<id>      set of "<seq>:<source>" whose caused_by contains <id>
  P:meta              hash key -> value
Appends and trims are Lua scripts, so they are atomic against every other
client. The scripts build index keys from the prefix, so they need a single
Redis node (not Redis Cluster).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import redis

from services.common.eventlog.batch import (
    PreparedBatch,
    block_of,
    check_head,
    check_limit,
    check_source,
    normalise_trace_id,
    prepare,
    prepare_block,
    stored,
)
from services.common.eventlog.framing import (
    FramedRun,
    frame_run,
    join_runs,
    pack_ends,
    pack_labels,
    unpack_ends,
    unpack_labels,
)
from services.common.eventlog.records import (
    DuplicateEvent,
    EventLogError,
    LogRecord,
    NewRecord,
    RetentionExceeded,
    StoredPayload,
    from_micros,
    to_micros,
    trace_order,
)
from services.common.outages import BackendUnavailable, reported

# Each record travels as 8 fixed arguments then its causes: a count and the ids, so ids are
# passed verbatim (no JSON round trip inside Lua that could re-encode them differently). ARGV[6..9]
# are the batch's block (frames, ends, kinds, mandate ids) or four empty strings for none; it is
# added to the blocks stream under the id "<last seq>-0", with its first seq.
_APPEND = """
local stream, heads, ids, blocks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, source, pinned, count, recorded = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local head = tonumber(redis.call('HGET', heads, source) or '0')
if pinned ~= '' and tonumber(pinned) ~= head then
  return {'conflict', head}
end
local records = {}
local pos = 10
for i = 1, count do
  local r = {eid = ARGV[pos], kind = ARGV[pos + 1], sim = ARGV[pos + 2], payload = ARGV[pos + 3],
             trace = ARGV[pos + 4], mandate = ARGV[pos + 5], summary = ARGV[pos + 6], causes = {}}
  local n = tonumber(ARGV[pos + 7])
  for j = 1, n do r.causes[j] = ARGV[pos + 7 + j] end
  pos = pos + 8 + n
  -- every check before the first write: a script that fails half way is not rolled back
  if redis.call('HEXISTS', ids, r.eid) == 1 then
    return {'duplicate', r.eid}
  end
  records[i] = r
end
for i, r in ipairs(records) do
  local seq = string.format('%d', head + i)
  local member = seq .. ':' .. source
  local fields = {'e', r.eid, 'k', r.kind, 't', r.sim, 'p', r.payload, 'tr', r.trace,
                  'm', r.mandate, 's', r.summary, 'r', recorded, 'c', tostring(#r.causes)}
  for j, cause in ipairs(r.causes) do
    fields[#fields + 1] = 'c' .. (j - 1)
    fields[#fields + 1] = cause
  end
  redis.call('XADD', stream, seq .. '-0', unpack(fields))
  redis.call('HSET', ids, r.eid, member)
  if r.trace ~= '' then
    redis.call('ZADD', prefix .. ':trace:' .. r.trace, r.sim, member)
  end
  for _, cause in ipairs(r.causes) do
    redis.call('SADD', prefix .. ':effects:' .. cause, member)
  end
end
if ARGV[6] ~= '' then
  redis.call('XADD', blocks, string.format('%d-0', head + count), 'a', string.format('%d', head + 1),
             'f', ARGV[6], 'n', ARGV[7], 'k', ARGV[8], 'm', ARGV[9])
end
redis.call('HSET', heads, source, string.format('%d', head + count))
return {'ok', head}
"""

# Trims at most `chunk` records per call, so a large trim never blocks Redis for long;
# returns {removed, done}. The indexes of each removed record are removed with it.
_TRIM = """
local stream, heads, oldest_key, ids, blocks = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, source, before, chunk = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local head = tonumber(redis.call('HGET', heads, source) or '0')
local floor = tonumber(redis.call('HGET', oldest_key, source) or '1')
local target = math.min(before, head + 1)
if target <= floor then
  return {0, 1}
end
local stop = math.min(target - 1, floor + chunk - 1)
local entries = redis.call('XRANGE', stream, string.format('%d-0', floor), string.format('%d-0', stop))
for _, entry in ipairs(entries) do
  local member = string.match(entry[1], '^(%d+)-') .. ':' .. source
  local f = {}
  for k = 1, #entry[2], 2 do f[entry[2][k]] = entry[2][k + 1] end
  redis.call('HDEL', ids, f['e'])
  if f['tr'] ~= '' then
    redis.call('ZREM', prefix .. ':trace:' .. f['tr'], member)
  end
  for j = 0, tonumber(f['c']) - 1 do
    redis.call('SREM', prefix .. ':effects:' .. f['c' .. j], member)
  end
end
redis.call('XTRIM', stream, 'MINID', string.format('%d-0', stop + 1))
-- a block is kept while any of its records is (its id is its last seq)
redis.call('XTRIM', blocks, 'MINID', string.format('%d-0', stop + 1))
redis.call('HSET', oldest_key, source, string.format('%d', stop + 1))
if stop + 1 >= target then
  return {#entries, 1}
end
return {#entries, 0}
"""

_TRIM_CHUNK = 1000
_BLOCKS_PER_CALL = 32  # blocks one XRANGE of read_framed asks for (market's are a day, ~150 events)
# A Redis that does not answer within these is treated as unreachable (an outage, retried).
CONNECT_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 10.0

_Method = TypeVar("_Method", bound=Callable[..., Any])
_Entries = list[tuple[bytes, dict[bytes, bytes]]]  # what XRANGE answers this client


def _reachable(method: _Method) -> _Method:
    """Redis connection errors and timeouts become BackendUnavailable, reported (outages.py)."""

    @functools.wraps(method)
    def call(self: RedisEventLog, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise reported(
                BackendUnavailable(self.where, str(error) or type(error).__name__, self._probe)
            ) from error

    return call  # type: ignore[return-value]


def _text(value: bytes | str) -> str:
    # The client is made without decode_responses, so replies are bytes; the library's
    # types also allow str.
    return value if isinstance(value, str) else value.decode("utf-8")


def _entry_to_record(source: str, entry_id: bytes, fields: dict[bytes, bytes]) -> LogRecord:
    causes = int(fields[b"c"])
    return LogRecord(
        source=source,
        seq=int(entry_id.split(b"-", 1)[0]),
        event_id=_text(fields[b"e"]),
        kind=_text(fields[b"k"]),
        sim_time=from_micros(int(fields[b"t"])),
        payload=fields[b"p"],
        trace_id=_text(fields[b"tr"]),
        caused_by=tuple(_text(fields[b"c%d" % index]) for index in range(causes)),
        mandate_id=_text(fields[b"m"]),
        summary=_text(fields[b"s"]),
        recorded_at=from_micros(int(fields[b"r"])),
    )


def _split_member(member: bytes | str) -> tuple[int, str]:
    seq, _, source = _text(member).partition(":")
    return int(seq), source


class RedisEventLog:
    """EventLog on Redis Streams. The redis client is thread-safe (a connection pool), so is this."""

    def __init__(self, url: str, prefix: str = "opsuite") -> None:
        if not prefix:
            raise ValueError("the Redis key prefix must not be empty")
        self.prefix = prefix
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=COMMAND_TIMEOUT_S
        )
        kwargs = self._client.connection_pool.connection_kwargs
        address = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        self.where = f"the Redis event log at {address}"
        try:
            self._client.ping()
        except redis.RedisError as error:
            self._client.close()
            raise EventLogError(f"cannot reach {self.where}: {error}") from error
        self._heads = f"{prefix}:heads"
        self._oldest = f"{prefix}:oldest"
        self._ids = f"{prefix}:ids"
        self._meta = f"{prefix}:meta"
        self._append_script = self._client.register_script(_APPEND)
        self._trim_script = self._client.register_script(_TRIM)

    def _stream(self, source: str) -> str:
        return f"{self.prefix}:stream:{source}"

    def _blocks(self, source: str) -> str:
        return f"{self.prefix}:blocks:{source}"

    @_reachable
    def append(self, source: str, records: Sequence[NewRecord]) -> list[LogRecord]:
        batch = prepare(source, records)
        if not batch.records:
            return []
        recorded_at = dt.datetime.now(dt.UTC)
        head = self._append(batch, to_micros(recorded_at), None)
        return stored(batch, head, recorded_at)

    @_reachable
    def append_block(self, source: str, records: Sequence[NewRecord]) -> FramedRun:
        batch = prepare_block(source, records)
        if not batch.records:
            return FramedRun(self.head(source) + 1, b"", [], [], [])
        block = block_of(batch, 0)  # its bytes do not depend on the head
        head = self._append(batch, to_micros(dt.datetime.now(dt.UTC)), block)
        return dataclasses.replace(block, first_seq=head + 1)

    def _append(self, batch: PreparedBatch, recorded_us: int, block: FramedRun | None) -> int:
        """Run the append script; returns the head the batch followed."""
        args: list[str | bytes | int] = [
            self.prefix,
            batch.source,
            "" if batch.pinned_head is None else batch.pinned_head,
            len(batch.records),
            recorded_us,
        ]
        if block is None:
            args += ["", "", "", ""]
        else:
            args += [
                block.frames,
                pack_ends(block.ends),
                pack_labels(block.kinds),
                pack_labels(block.mandate_ids),
            ]
        for record, sim_us in zip(batch.records, batch.sim_micros, strict=True):
            args += [
                record.event_id,
                record.kind,
                sim_us,
                record.payload,
                record.trace_id,
                record.mandate_id,
                record.summary,
                len(record.caused_by),
                *record.caused_by,
            ]
        keys = [self._stream(batch.source), self._heads, self._ids, self._blocks(batch.source)]
        outcome, detail = self._append_script(keys=keys, args=args)
        if outcome == b"conflict":
            check_head(batch, int(detail))
            raise EventLogError(f"Redis reported a conflict at head {int(detail)} the batch does not have")
        if outcome == b"duplicate":
            raise DuplicateEvent(_text(detail))
        return int(detail)

    @_reachable
    def read_framed(self, source: str, from_seq: int, limit: int) -> FramedRun:
        check_source(source)
        check_limit(limit)
        blocks_key = self._blocks(source)
        # One MULTI/EXEC for the retention check and the first blocks, as read() does; what follows
        # reads forward, and a trim that overtakes it is found as a hole (RetentionExceeded).
        pipe = self._client.pipeline(transaction=True)
        pipe.hget(self._heads, source)
        pipe.hget(self._oldest, source)
        pipe.xrange(blocks_key, min=f"{from_seq}-0" if from_seq > 0 else "-", count=_BLOCKS_PER_CALL)
        stored_head, stored_oldest, first_entries = pipe.execute()
        entries: _Entries = first_entries
        head = 0 if stored_head is None else int(stored_head)
        oldest = 1 if stored_oldest is None else int(stored_oldest)
        if 0 < from_seq < oldest:
            raise RetentionExceeded(source, from_seq, oldest)
        cursor = max(from_seq, oldest)
        stop = min(head, cursor + limit - 1)  # the last seq wanted
        runs: list[FramedRun] = []
        while cursor <= stop:
            for entry_id, fields in entries:
                if int(entry_id.split(b"-", 1)[0]) < cursor:
                    continue  # read from "-": a block wholly before the oldest retained record
                first_seq = int(fields[b"a"])
                if first_seq > cursor:  # records without a block: framed one by one
                    runs.append(self._framed_entries(source, cursor, min(first_seq - 1, stop)))
                    cursor = runs[-1].last_seq + 1
                    if cursor > stop:
                        break
                ends = unpack_ends(fields[b"n"])
                count = len(ends)
                block = FramedRun(
                    first_seq,
                    fields[b"f"],
                    ends,
                    unpack_labels(_text(fields[b"k"]), count),
                    unpack_labels(_text(fields[b"m"]), count),
                )
                runs.append(block.cut(cursor, stop - cursor + 1))
                cursor = runs[-1].last_seq + 1
                if cursor > stop:
                    break
            if cursor > stop:
                break
            if len(entries) < _BLOCKS_PER_CALL:  # no block further on: the rest has none
                runs.append(self._framed_entries(source, cursor, stop))
                break
            entries = self._client.xrange(blocks_key, min=f"{cursor}-0", count=_BLOCKS_PER_CALL)  # type: ignore[assignment]
        return join_runs(runs) if runs else FramedRun(cursor, b"", [], [], [])

    def _framed_entries(self, source: str, first: int, last: int) -> FramedRun:
        # Without decode_responses, entries are (id, {field: value}) of bytes; the library types
        # every form, as for zrange below.
        entries: _Entries = self._client.xrange(self._stream(source), min=f"{first}-0", max=f"{last}-0")  # type: ignore[assignment]
        seqs = [int(entry_id.split(b"-", 1)[0]) for entry_id, _ in entries]
        if seqs != list(range(first, last + 1)):
            raise RetentionExceeded(source, first, self.oldest(source))
        return frame_run(
            first,
            [fields[b"p"] for _, fields in entries],
            [_text(fields[b"k"]) for _, fields in entries],
            [_text(fields[b"m"]) for _, fields in entries],
        )

    @_reachable
    def read(self, source: str, from_seq: int, limit: int) -> list[LogRecord]:
        check_source(source)
        check_limit(limit)
        # One MULTI/EXEC so the retention check and the range see the same state despite a concurrent trim.
        pipe = self._client.pipeline(transaction=True)
        pipe.hget(self._oldest, source)
        pipe.xrange(self._stream(source), min=f"{from_seq}-0" if from_seq > 0 else "-", count=limit)
        stored_oldest, entries = pipe.execute()
        oldest = 1 if stored_oldest is None else int(stored_oldest)
        if 0 < from_seq < oldest:
            raise RetentionExceeded(source, from_seq, oldest)
        return [_entry_to_record(source, entry_id, fields) for entry_id, fields in entries]

    @_reachable
    def read_payloads(self, source: str, from_seq: int, limit: int) -> list[StoredPayload]:
        return [
            StoredPayload(r.seq, r.kind, r.mandate_id, r.payload) for r in self.read(source, from_seq, limit)
        ]

    @_reachable
    def head(self, source: str) -> int:
        value = self._client.hget(self._heads, source)
        return 0 if value is None else int(value)

    @_reachable
    def oldest(self, source: str) -> int:
        stored_oldest = self._client.hget(self._oldest, source)
        return 1 if stored_oldest is None else int(stored_oldest)

    @_reachable
    def trim(self, source: str, before_seq: int) -> int:
        check_source(source)
        keys = [self._stream(source), self._heads, self._oldest, self._ids, self._blocks(source)]
        removed = 0
        while True:
            count, done = self._trim_script(keys=keys, args=[self.prefix, source, before_seq, _TRIM_CHUNK])
            removed += int(count)
            if int(done):
                return removed

    def _fetch(self, members: Iterable[bytes | str]) -> list[LogRecord]:
        """The retained records named "<seq>:<source>", in trace order; trimmed ones are skipped."""
        positions = [_split_member(member) for member in members]
        if not positions:
            return []
        pipe = self._client.pipeline(transaction=False)
        for seq, source in positions:
            pipe.xrange(self._stream(source), min=f"{seq}-0", max=f"{seq}-0")
        found = []
        for (_, source), entries in zip(positions, pipe.execute(), strict=True):
            found += [_entry_to_record(source, entry_id, fields) for entry_id, fields in entries]
        return sorted(found, key=trace_order)

    @_reachable
    def get(self, event_id: str) -> LogRecord | None:
        member = self._client.hget(self._ids, event_id)
        if member is None:
            return None
        found = self._fetch([member])
        return found[0] if found else None

    @_reachable
    def by_trace(self, trace_id: str) -> list[LogRecord]:
        trace_id = normalise_trace_id(trace_id)
        if not trace_id:
            return []
        # Without withscores, zrange answers members only (the library types every form).
        members: list[bytes] = self._client.zrange(f"{self.prefix}:trace:{trace_id}", 0, -1)  # type: ignore[assignment]
        return self._fetch(members)

    @_reachable
    def effects_of(self, event_id: str) -> list[LogRecord]:
        return self._fetch(self._client.smembers(f"{self.prefix}:effects:{event_id}"))

    @_reachable
    def sources(self) -> list[str]:
        return sorted(_text(source) for source in self._client.hkeys(self._heads))

    @_reachable
    def get_meta(self, key: str) -> str | None:
        value = self._client.hget(self._meta, key)
        return None if value is None else _text(value)

    @_reachable
    def set_meta(self, key: str, value: str) -> None:
        self._client.hset(self._meta, key, value)

    def _probe(self) -> None:
        self._client.ping()

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"RedisEventLog(prefix={self.prefix!r})"
