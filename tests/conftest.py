"""Shared fixtures: the real PostgreSQL and Redis of this machine.

Tests of those backends talk to the real servers. Where a server is not
running, they skip with the reason, except under CI (CI=true), where a
missing server fails the run: .ci/run starts both before the tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

# One finished suite (`opsuite up`) for every folder that reads one: tests/cli, tests/edge.
from tests.support.finished_suite import finished_suite

__all__ = ["finished_suite"]

# `make test`'s workers: a file at a time, the tests of each shared world on one worker.
pytest_plugins = ["tests.support.xdist_scheduling"]

# pytest-xdist's workers (`make test`) start with LINES=24 and COLUMNS=80 in their environment, which
# every program a test starts would take for its terminal's size, a tmux pane's of 80x40 included.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _size in ("LINES", "COLUMNS"):
        os.environ.pop(_size, None)

REDIS_URL = os.environ.get("OPSUITE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_DSN = os.environ.get("OPSUITE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _unavailable(what: str, error: Exception) -> None:
    reason = f"{what} is not reachable ({error}); start it or set the OPSUITE_TEST_* variable"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"under CI every backend must run: {reason}")
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL and a fresh key prefix; every key under the prefix is deleted afterwards.

    Yields "redis://host:port/db#prefix": split on "#" to get the prefix.
    """
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as error:
        _unavailable(f"Redis at {REDIS_URL}", error)
    prefix = f"opsuite-test-{uuid.uuid4().hex[:12]}"
    try:
        yield f"{REDIS_URL}#{prefix}"
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A DSN to a dedicated, freshly created database that is dropped afterwards."""
    import psycopg

    name = f"opsuite_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_DSN, autocommit=True, connect_timeout=5)
    except Exception as error:
        _unavailable(f"PostgreSQL at {POSTGRES_DSN}", error)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = POSTGRES_DSN.rpartition("/")
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
