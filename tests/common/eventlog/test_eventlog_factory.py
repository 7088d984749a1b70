"""open_event_log: which URL opens which backend, and what a wrong URL says."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest
import redis

from services.common.eventlog import (
    EventLog,
    EventLogError,
    NewRecord,
    RedisEventLog,
    SqliteEventLog,
    open_event_log,
)


@pytest.mark.parametrize("url", [None, "", "sqlite://"])
def test_default_is_sqlite_under_data_dir(tmp_path: pathlib.Path, url: str | None) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    log = open_event_log(url, data_dir)
    try:
        assert isinstance(log, SqliteEventLog)
        assert isinstance(log, EventLog)
        assert log.path == data_dir / "eventlog.sqlite3"
        assert log.path.is_file()
    finally:
        log.close()


def test_sqlite_absolute_path(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "elsewhere" / "log.db"
    log = open_event_log(f"sqlite://{target}", tmp_path / "data")
    try:
        assert isinstance(log, SqliteEventLog)
        assert log.path == target
        assert target.is_file()
        assert not (tmp_path / "data").exists()
    finally:
        log.close()


def test_redis_with_prefix(redis_url: str, tmp_path: pathlib.Path) -> None:
    base, _, prefix = redis_url.partition("#")
    log = open_event_log(redis_url, tmp_path)
    try:
        assert isinstance(log, RedisEventLog)
        assert log.prefix == prefix
        log.append("market", [NewRecord("factory-1", "tick", dt.datetime(2020, 1, 2, tzinfo=dt.UTC))])
    finally:
        log.close()
    client = redis.Redis.from_url(base)
    try:
        assert client.xlen(f"{prefix}:stream:market") == 1
    finally:
        client.close()
    assert not (tmp_path / "eventlog.sqlite3").exists()


def test_redis_default_prefix(redis_url: str, tmp_path: pathlib.Path) -> None:
    base, _, _ = redis_url.partition("#")
    log = open_event_log(base, tmp_path)  # nothing is written: the shared "opsuite" prefix stays untouched
    try:
        assert isinstance(log, RedisEventLog)
        assert log.prefix == "opsuite"
    finally:
        log.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://localhost/opsuite",
        "sqlite://relative.db",
        "file:///tmp/x.db",
        "redis:/x",
        "redis://h:1/0#",
    ],
)
def test_unsupported_url_names_accepted_forms(tmp_path: pathlib.Path, url: str) -> None:
    with pytest.raises(ValueError) as caught:
        open_event_log(url, tmp_path)
    message = str(caught.value)
    assert "sqlite://" in message
    assert "sqlite:///" in message
    assert "redis://host:port/db" in message
    assert "#prefix" in message


def test_error_message_hides_password(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError) as caught:
        open_event_log("postgresql://ops:hunter2@db:5432/opsuite", tmp_path)
    assert "hunter2" not in str(caught.value)
    assert "postgresql://ops:***@db:5432/opsuite" in str(caught.value)


def test_unreachable_redis_is_an_event_log_error(tmp_path: pathlib.Path) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    with pytest.raises(EventLogError, match=r"cannot reach the Redis event log at 127\.0\.0\.1:1"):
        open_event_log("redis://127.0.0.1:1/0", tmp_path)
