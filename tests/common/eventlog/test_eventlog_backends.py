"""Promises beyond the shared suite: SQLite's schema and transactions, Redis's key layout."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis

from services.common.eventlog import EventLog, EventLogError, NewRecord, RedisEventLog, SqliteEventLog
from services.common.eventlog.framing import frame_run
from services.common.eventlog.sqlite import SCHEMA_VERSION

ROOT = pathlib.Path(__file__).resolve().parents[3]

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


def _framed_as_records(log: EventLog, source: str) -> None:
    """read_framed from the oldest agrees with the records, framed one by one."""
    stored = log.read_payloads(source, 0, 1_000_000)
    run = log.read_framed(source, 0, 1_000_000)
    expected = frame_run(
        stored[0].seq, [p.payload for p in stored], [p.kind for p in stored], [p.mandate_id for p in stored]
    )
    assert (run.first_seq, len(run), run.frames) == (expected.first_seq, len(expected), expected.frames)


def test_sqlite_file_without_blocks_is_migrated_and_its_records_served(tmp_path: pathlib.Path) -> None:
    """A file written before blocks (schema 1): it opens, its records are served framed from the
    rows, and the days appended after it have blocks."""
    path = tmp_path / "eventlog.sqlite3"
    old = SqliteEventLog(path)
    old.append("market", records(300, "old"))
    old.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE blocks")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    log = SqliteEventLog(path)
    try:
        log.append_block("market", records(148, "new"))
        _framed_as_records(log, "market")
        run = log.read_framed("market", 290, 20)  # across the two
        assert (run.first_seq, run.last_seq) == (290, 309)
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert conn.execute("SELECT first_seq, last_seq FROM blocks").fetchall() == [(301, 448)]
        conn.close()
    finally:
        log.close()


def test_sqlite_trim_deletes_the_blocks_wholly_before_the_oldest(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "eventlog.sqlite3"
    log = SqliteEventLog(path)
    try:
        for prefix in "abc":
            log.append_block("market", records(100, f"trim-{prefix}"))
        log.trim("market", 150)
        with sqlite3.connect(path) as conn:
            kept = conn.execute("SELECT first_seq, last_seq FROM blocks ORDER BY last_seq").fetchall()
        conn.close()
        assert kept == [(101, 200), (201, 300)]  # the second holds seq 150 on: kept, read from inside
        _framed_as_records(log, "market")
    finally:
        log.close()


@pytest.mark.parametrize("backend_name", ["sqlite", "redis"])
def test_appending_blocks_killed_leaves_whole_days(
    backend_name: str, tmp_path: pathlib.Path, request: pytest.FixtureRequest
) -> None:
    """A writer SIGKILLed while it appends blocks: every day is in the log whole (records and block) or
    not at all, and the log reads and takes the next day as before."""
    if backend_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'eventlog.sqlite3'}"
    else:
        url = request.getfixturevalue("redis_url")
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.common.eventlog.blocks_writer_main", url, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == b"appending\n"
        time.sleep(0.3)  # several more days, and most likely one in flight
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    if backend_name == "sqlite":
        log: EventLog = SqliteEventLog(tmp_path / "eventlog.sqlite3")
    else:
        base, _, prefix = url.partition("#")
        log = RedisEventLog(base, prefix)
    try:
        head = log.head("market")
        assert head >= 148 and head % 148 == 0
        _framed_as_records(log, "market")
        for from_seq in (1, 149, 150, head - 10):
            run = log.read_framed("market", from_seq, 300)
            assert (run.first_seq, run.last_seq) == (from_seq, min(head, from_seq + 299))
        after = log.append_block("market", records(148, "after"))
        assert after.first_seq == head + 1
        _framed_as_records(log, "market")
    finally:
        log.close()


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


def test_redis_blocks_are_keyed_by_last_seq_and_trimmed(
    redis_log: tuple[RedisEventLog, redis.Redis, str],
) -> None:
    log, client, prefix = redis_log
    for part in "abc":
        log.append_block("market", records(100, f"rblk-{part}"))
    entries = client.xrange(f"{prefix}:blocks:market")
    assert [(entry_id, fields[b"a"]) for entry_id, fields in entries] == [
        (b"100-0", b"1"),
        (b"200-0", b"101"),
        (b"300-0", b"201"),
    ]
    log.trim("market", 150)
    assert [entry_id for entry_id, _ in client.xrange(f"{prefix}:blocks:market")] == [b"200-0", b"300-0"]
    _framed_as_records(log, "market")
    log.trim("market", 301)
    assert client.xlen(f"{prefix}:blocks:market") == 0


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
