"""opsuite status against a real finished suite: every service, built or not, as a table and as JSON."""

from __future__ import annotations

import json
import re

import grpc

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.cli.output import grouped
from services.cli.registry import available_services, free_port
from services.common.settings import SERVICES
from tests.cli.conftest import RunningSuite, run_opsuite


def _clock(suite: RunningSuite) -> market_pb2.Clock:
    with grpc.insecure_channel(suite.addresses["market"]) as channel:
        clock: market_pb2.Clock = market_pb2_grpc.MarketServiceStub(channel).GetClock(
            market_pb2.GetClockRequest()
        )
    return clock


def _date(clock: market_pb2.Clock) -> str:
    return f"{clock.sim_date.year:04d}-{clock.sim_date.month:02d}-{clock.sim_date.day:02d}"


def test_status_lists_every_service_with_its_date_lag_and_uptime(finished_suite: RunningSuite) -> None:
    clock = _clock(finished_suite)
    result = finished_suite.opsuite("status")

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for name in available_services():
        # service, address, health, applied seq (grouped), lag, simulated date, uptime
        row = re.search(
            rf"│ {name}\s+│ {re.escape(finished_suite.addresses[name])}\s+│ SERVING\s+│\s+"
            rf"{re.escape(grouped(clock.head_seq))} │\s+0 │ {_date(clock)}\s+│\s+\d+h\d\dm\d\ds │",
            out,
        )
        assert row, out
    assert sorted(available_services()) == sorted(SERVICES)  # every service is built
    assert "not built" not in out and "UNREACHABLE" not in out


def test_status_as_json_has_the_same_fields(finished_suite: RunningSuite) -> None:
    clock = _clock(finished_suite)
    result = finished_suite.opsuite("status", "-o", "json")

    assert result.returncode == 0, result.stdout + result.stderr
    records = json.loads(result.stdout)
    assert sorted(r["service"] for r in records) == sorted(SERVICES)
    by_name = {r["service"]: r for r in records}
    for name in available_services():
        record = by_name[name]
        assert record["address"] == finished_suite.addresses[name]
        assert record["health"] == "SERVING"
        assert record["applied_seq"] == clock.head_seq and record["lag"] == 0
        assert record["simulated_date"] == _date(clock)
        assert isinstance(record["uptime_seconds"], int) and record["uptime_seconds"] >= 0
        assert record["not_serving_reason"] == ""
    for name in set(SERVICES) - set(available_services()):
        assert by_name[name]["health"] == "NOT_BUILT"
        assert by_name[name]["not_serving_reason"] == "not built in this release"
        assert by_name[name]["applied_seq"] is None


def test_a_built_service_that_does_not_answer_fails_the_status() -> None:
    address = f"127.0.0.1:{free_port('127.0.0.1')}"
    result = run_opsuite("status", "--timeout", "0.5", "-o", "json", env={"OPSUITE_RECON_ADDR": address})

    assert result.returncode == 1
    recon = next(r for r in json.loads(result.stdout) if r["service"] == "recon")
    assert recon == {
        "service": "recon",
        "address": address,
        "health": "UNREACHABLE",
        "applied_seq": None,
        "lag": None,
        "simulated_date": None,
        "uptime_seconds": None,
        "not_serving_reason": "",
    }
