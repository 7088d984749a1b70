"""A run that crosses the end of the real data: its regime events, `opsuite simulate`'s JSON lines and
GetClock say which days are synthetic and from which real block each was drawn, also after a restart.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.market_events import RegimeState
from services.common.market_events.decode import decode
from tests.market.process.conftest import read_events
from tests.support.processes import ROOT, ServiceProcess, start_service
from tests.support.waiting import wait_until

START = "2020-12-01"
REAL_END = dt.date(2021, 1, 4)  # the snapshot's last business day: 23 real days from START
DAYS = 30


def _date(value: dict[str, Any] | common_pb2.Date) -> dt.date:
    if isinstance(value, dict):
        return dt.date(value["year"], value["month"], value["day"])
    return dt.date(value.year, value.month, value.day)


def test_simulate_marks_the_synthetic_days_with_the_real_block_they_were_drawn_from(tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    subprocess.run(
        [sys.executable, "-m", "services.cli", "simulate", "--seed", "7", "--start", START,
         "--days", "40", "--out", str(out)],
        cwd=ROOT, check=True, capture_output=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    lines = [line for line in out.read_text().splitlines() if '"market.regime"' in line]
    regimes = [json.loads(line)["regime"] for line in lines]

    assert len(regimes) == 40
    real = [r for r in regimes if _date(r["date"]) <= REAL_END]
    synthetic = [r for r in regimes if _date(r["date"]) > REAL_END]
    assert len(real) == 23 and all("synthetic" not in r for r in real)
    assert len(synthetic) == 17 and all("synthetic" in r for r in synthetic)
    for regime in synthetic:
        origin = {name: _date(day) for name, day in regime["synthetic"].items()}
        assert origin["block_first"] <= origin["replayed"] <= origin["block_last"] <= REAL_END, regime
    # A follower reading the line gets the origin back on the record.
    record = decode(json_format.Parse(lines[-1], market_pb2.MarketEvent())).payload
    assert isinstance(record, RegimeState) and record.origin is not None
    assert record.origin.block_first == _date(synthetic[-1]["synthetic"]["block_first"])


def _finished_clock(market: ServiceProcess) -> tuple[market_pb2.Clock, market_pb2.RegimeState]:
    with grpc.insecure_channel(market.address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        clock: market_pb2.Clock = wait_until(
            lambda: (c := stub.GetClock(market_pb2.GetClockRequest())).business_days_elapsed == DAYS and c,
            timeout=120,
            what=f"{DAYS} business days",
        )
        events = read_events(stub, from_seq=1, day_ends=DAYS)
    return clock, [e.regime for e in events if e.WhichOneof("payload") == "regime"][-1]


def test_get_clock_says_the_day_is_synthetic_and_where_the_real_data_ends(tmp_path: Path) -> None:
    env = {"OPSUITE_SEED": "5", "OPSUITE_START": START, "OPSUITE_DAYS": str(DAYS), "OPSUITE_SPEED": "max"}
    market = start_service("market", tmp_path / "market", env)
    try:
        market.wait_serving()
        clock, last = _finished_clock(market)
    finally:
        market.stop()

    assert _date(clock.real_data_end) == REAL_END
    assert _date(clock.sim_date) == _date(last.date) > REAL_END
    assert clock.HasField("synthetic") and clock.synthetic == last.synthetic
    assert _date(clock.synthetic.block_last) <= REAL_END

    # Resumed from its data directory, the replayed run reports the same day and origin.
    again = start_service("market", tmp_path / "market", env)
    try:
        again.wait_serving()
        resumed, _ = _finished_clock(again)
    finally:
        again.stop()
    assert resumed.sim_date == clock.sim_date and resumed.synthetic == clock.synthetic
    assert resumed.real_data_end == clock.real_data_end


def test_a_live_run_of_zero_days_has_no_end_and_goes_on_past_the_data(tmp_path: Path) -> None:
    # OPSUITE_DAYS=0 at a set speed: no end date, the clock keeps running past 2021-01-04.
    env = {"OPSUITE_SEED": "7", "OPSUITE_START": "2020-12-21", "OPSUITE_DAYS": "0", "OPSUITE_SPEED": "50"}
    market = start_service("market", tmp_path / "market", env)
    try:
        market.wait_serving()
        with grpc.insecure_channel(market.address) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)

            def past_the_data() -> market_pb2.Clock | None:
                clock = stub.GetClock(market_pb2.GetClockRequest(), timeout=10)
                return clock if clock.sim_date.year and _date(clock.sim_date) > dt.date(2021, 1, 20) else None

            clock = wait_until(past_the_data, timeout=120, what="the clock to pass 2021-01-20")
    finally:
        assert market.stop() == 0
    assert clock.running and not clock.HasField("end_date")
    assert clock.mode == market_pb2.CLOCK_MODE_LIVE and clock.HasField("synthetic")
    # At full speed the same 0 days end with the real data (test_run_plan covers the plan itself).
