"""Backend outages in the platform: reported where they happen, shown on health, refused as UNAVAILABLE.

The stores are tested against the real servers through a TCP proxy the test cuts
(tests/support/tcp_proxy.py); the servers themselves keep running for every other test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import grpc
import psycopg
import pytest
import redis
from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio as health_aio
from psycopg.conninfo import conninfo_to_dict

from services.common import outages
from services.common.eventlog import NewRecord
from services.common.eventlog.redis_streams import RedisEventLog
from services.common.outages import BackendUnavailable, OutageWatch
from services.common.serve import HealthControl
from services.common.status import rpc_errors
from services.ledger.store.postgres import PostgresDatabase
from tests.support.tcp_proxy import TcpProxy, proxy_to

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def reports() -> Iterator[list[BackendUnavailable]]:
    seen: list[BackendUnavailable] = []
    remove = outages.listen(seen.append)
    yield seen
    remove()


async def _status(servicer: health_aio.HealthServicer) -> int:
    reply = await servicer.Check(health_pb2.HealthCheckRequest(service=""), None)
    return int(reply.status)


async def test_an_outage_overrides_readiness_until_the_probe_answers() -> None:
    servicer = health_aio.HealthServicer()
    control = HealthControl(servicer, ["opsuite.test.v1.Test"])
    await control.set_serving()
    probe_answers = asyncio.Event()
    probed = asyncio.Event()
    loop = asyncio.get_running_loop()

    def probe() -> None:
        loop.call_soon_threadsafe(probed.set)
        if not probe_answers.is_set():
            raise ConnectionError("still down")

    watch = OutageWatch(loop, control.backend_down, control.backend_up, initial_s=0.01, max_s=0.02)
    remove = outages.listen(watch.report)
    try:
        # Reported from a worker thread, as the stores do.
        error = BackendUnavailable("PostgreSQL at db:5432", "connection refused", probe)
        await asyncio.to_thread(outages.reported, error)
        await asyncio.wait_for(probed.wait(), 5)
        assert await _status(servicer) == NOT_SERVING
        assert not control.readiness.serving
        assert (
            control.readiness.reason == "PostgreSQL at db:5432 is unreachable: connection refused, retrying"
        )
        # What the service says meanwhile is kept for when the outage ends.
        await control.set_not_serving("catching up with market: at seq 5 of 9")
        assert control.readiness.reason.startswith("PostgreSQL")
        probe_answers.set()
        while watch.down_backends:
            await asyncio.sleep(0.01)
        assert control.readiness.reason == "catching up with market: at seq 5 of 9"
        await control.set_serving()
        assert await _status(servicer) == SERVING
    finally:
        remove()
        await watch.close()


async def test_after_shutdown_begins_an_ending_outage_does_not_make_the_service_serving() -> None:
    servicer = health_aio.HealthServicer()
    control = HealthControl(servicer, [])
    await control.set_serving()
    await control.backend_down("Redis", "Redis is unreachable: refused")
    control.shutting_down()
    await control.backend_up("Redis")
    assert not control.readiness.serving and control.readiness.reason == "shutting down"


class _Context:
    """The part of a grpc.aio ServicerContext that abort() uses."""

    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, str] | None = None

    async def abort(self, code: grpc.StatusCode, details: str, trailers: object = None) -> None:
        self.aborted = (code, details)
        raise RuntimeError("aborted")


async def test_a_handler_meeting_an_outage_answers_unavailable_naming_the_backend() -> None:
    @rpc_errors
    async def handler(request: object, context: object) -> None:
        raise BackendUnavailable("the Redis event log at 127.0.0.1:6379", "Connection refused", lambda: None)

    context = _Context()
    with pytest.raises(RuntimeError, match="aborted"):
        await handler(object(), context)
    assert context.aborted == (
        grpc.StatusCode.UNAVAILABLE,
        "the Redis event log at 127.0.0.1:6379 is unreachable: Connection refused; retry in a moment",
    )


def test_the_redis_event_log_reports_an_outage_and_works_again_after_it(
    redis_url: str, reports: list[BackendUnavailable]
) -> None:
    server, _, prefix = redis_url.partition("#")
    host, _, port = server.split("//", 1)[1].split("/", 1)[0].partition(":")
    with proxy_to(host, int(port or 6379)) as proxy:
        log = RedisEventLog(f"redis://127.0.0.1:{proxy.port}/0", prefix)
        try:
            record = NewRecord(
                event_id="e-1",
                kind="test.kind",
                sim_time=dt.datetime(2020, 2, 3, tzinfo=dt.UTC),
                payload=b"x",
            )
            log.append("test", [record])
            proxy.cut()
            with pytest.raises(BackendUnavailable) as raised:
                log.head("test")
            assert raised.value.backend == f"the Redis event log at 127.0.0.1:{proxy.port}"
            assert reports and reports[-1] is raised.value
            with pytest.raises(redis.ConnectionError):
                raised.value.probe()
            proxy.restore()
            raised.value.probe()
            assert log.head("test") == 1
        finally:
            log.close()


def test_the_postgres_ledger_database_reports_an_outage_and_reconnects_after_it(
    postgres_dsn: str, reports: list[BackendUnavailable]
) -> None:
    target = conninfo_to_dict(postgres_dsn)
    proxy = TcpProxy(str(target.get("host") or "127.0.0.1"), int(target.get("port") or 5432))
    database = PostgresDatabase(
        f"postgresql://{target.get('user') or 'postgres'}@{proxy.address}/{target['dbname']}"
    )
    try:
        with database.snapshot() as session:
            assert session.execute("SELECT 1").fetchone() == (1,)
        proxy.cut()
        for opening in (database.snapshot, database.write):
            with pytest.raises(BackendUnavailable) as raised, opening() as session:
                session.execute("SELECT 1")
            assert raised.value.backend == f"PostgreSQL at 127.0.0.1:{proxy.port}"
            assert reports[-1] is raised.value
        proxy.restore()
        raised.value.probe()
        with database.write() as session:
            assert session.execute("SELECT 1").fetchone() == (1,)
        with database.snapshot() as session:
            assert session.execute("SELECT 1").fetchone() == (1,)
    finally:
        database.close()
        proxy.close()


def test_a_statement_error_is_not_an_outage(postgres_dsn: str, reports: list[BackendUnavailable]) -> None:
    database = PostgresDatabase(postgres_dsn)
    try:
        with pytest.raises(psycopg.errors.UndefinedTable), database.snapshot() as session:
            session.execute("SELECT * FROM no_such_table")
        assert reports == []
    finally:
        database.close()
