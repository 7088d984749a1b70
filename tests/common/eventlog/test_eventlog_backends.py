"""Promises beyond the shared suite: SQLite's schema and transactions, Redis's key layout."""

from __future__ import annotations

import datetime as dt
import pathlib
import sqlite3
from collections.abc import Iterator

import pytest
import redis

from services.common.eventlog import EventLogError, NewRecord, RedisEventLog, SqliteEventLog
from services.common.eventlog.sqlite import SCHEMA_VERSION

T0 = dt.datetime(2021, 6, 1, 13, 0, tzinfo=dt.UTC)
TRACE = "0af7651916cd43dd8448eb211c80319c"


def records(count: int, prefix: str, **fields: object) -> list[NewRecord]:
    return [NewRecord(f"{prefix}-{i}", "tick", T0, **fields) for i in range(count)]  # type: ignore[arg-type]


# --- SQLite ----------------------------------------------------------------------------------------------


def test_sqlite_schema_version_and_wal(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "eventlog.sqlite3"
    SqliteEventLog(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_sqlite_refuses_newer_schema(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "eventlog.sqlite3"
    SqliteEventLog(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(EventLogError, match="newer"):
        SqliteEventLog(path)


def test_sqlite_batch_of_1000_is_one_transaction(tmp_path: pathlib.Path) -> None:
    log = SqliteEventLog(tmp_path / "eventlog.sqlite3")
    try:
        statements: list[str] = []
        log._writer.set_trace_callback(statements.append)  # white box: count what reaches SQLite
        log.append("market", records(1000, "bulk", caused_by=("root",)))
        log._writer.set_trace_callback(None)
        assert statements.count("BEGIN IMMEDIATE") == 1
        assert statements.count("COMMIT") == 1
        assert log.head("market") == 1000
        assert len(log.effects_of("root")) == 1000
    finally:
        log.close()


def test_sqlite_closed_log_raises(tmp_path: pathlib.Path) -> None:
    log = SqliteEventLog(tmp_path / "eventlog.sqlite3")
    log.close()
    with pytest.raises(EventLogError, match="closed"):
        log.append("market", records(1, "late"))
    with pytest.raises(EventLogError, match="closed"):
        log.head("market")


# --- Redis -----------------------------------------------------------------------------------------------


@pytest.fixture
def redis_log(redis_url: str) -> Iterator[tuple[RedisEventLog, redis.Redis, str]]:
    base, _, prefix = redis_url.partition("#")
    log = RedisEventLog(base, prefix)
    client = redis.Redis.from_url(base)
    yield log, client, prefix
    log.close()
    client.close()


def test_redis_stream_entry_ids_are_seqs(redis_log: tuple[RedisEventLog, redis.Redis, str]) -> None:
    log, client, prefix = redis_log
    log.append("market", records(3, "ids"))
    entries = client.xrange(f"{prefix}:stream:market")
    assert [entry_id for entry_id, _ in entries] == [b"1-0", b"2-0", b"3-0"]
    assert client.hget(f"{prefix}:heads", "market") == b"3"


def test_redis_trim_cleans_every_index(redis_log: tuple[RedisEventLog, redis.Redis, str]) -> None:
    log, client, prefix = redis_log
    # 2500 records: the trim script works in chunks of 1000, so this crosses two chunk boundaries.
    log.append("market", records(2500, "old", trace_id=TRACE, caused_by=("root",)))
    log.append("market", records(1, "kept"))
    assert log.trim("market", 2501) == 2500
    assert client.xlen(f"{prefix}:stream:market") == 1
    assert client.hlen(f"{prefix}:ids") == 1
    assert not client.exists(f"{prefix}:trace:{TRACE}")
    assert not client.exists(f"{prefix}:effects:root")
    assert client.hget(f"{prefix}:oldest", "market") == b"2501"


def test_redis_two_clients_share_one_sequence(redis_url: str) -> None:
    base, _, prefix = redis_url.partition("#")
    first, second = RedisEventLog(base, prefix), RedisEventLog(base, prefix)
    try:
        first.append("market", records(2, "a"))
        assert [r.seq for r in second.append("market", records(2, "b"))] == [3, 4]
        assert first.head("market") == 4
    finally:
        first.close()
        second.close()
