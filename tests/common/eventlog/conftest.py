"""One event-log fixture over both backends: every test in this folder that asks for `log` runs twice."""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from services.common.eventlog import EventLog, RedisEventLog, SqliteEventLog


@dataclass
class Backend:
    """Opens logs on one storage (a SQLite file or a Redis prefix): reopening sees the same data."""

    name: str
    opener: Callable[[], EventLog]
    opened: list[EventLog] = field(default_factory=list)

    def open(self) -> EventLog:
        log = self.opener()
        self.opened.append(log)
        return log


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "eventlog.sqlite3"
        backend = Backend("sqlite", lambda: SqliteEventLog(path))
    else:
        # Asked for only here, so the SQLite half never skips when Redis is down.
        base, _, prefix = request.getfixturevalue("redis_url").partition("#")
        backend = Backend("redis", lambda: RedisEventLog(base, prefix))
    yield backend
    for log in backend.opened:
        log.close()


@pytest.fixture
def log(backend: Backend) -> EventLog:
    return backend.open()
