"""What market says at start-up about the run it was asked for, as a real process: the plan's notes
in its log, the business day it really starts on in GetClock, and another run in the data directory
refused with the fix."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import grpc

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.market.run_plan import plan_run
from tests.support.processes import start_service
from tests.support.waiting import wait_until

WORLD = {"OPSUITE_SEED": "7", "OPSUITE_SPEED": "max", "FRED_API_KEY": ""}


def _logged(lines: list[str], level: str) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    return [e for e in entries if e.get("level") == level]


def test_market_logs_the_plan_and_starts_on_the_business_day(tmp_path: Path) -> None:
    # New Year's Day 2021, three days before the shipped data ends: rolled, then shortened.
    market = start_service("market", tmp_path, {**WORLD, "OPSUITE_START": "2021-01-01", "OPSUITE_DAYS": "5"})
    try:
        market.wait_serving()
        with grpc.insecure_channel(market.address) as channel:
            clock = market_pb2_grpc.MarketServiceStub(channel).GetClock(
                market_pb2.GetClockRequest(), timeout=10
            )
        assert (clock.start_date.year, clock.start_date.month, clock.start_date.day) == (2021, 1, 4)
        # Five days from 2021-01-04: the last real one and four synthetic ones, to 2021-01-08.
        assert (clock.end_date.year, clock.end_date.month, clock.end_date.day) == (2021, 1, 8)
    finally:
        assert market.stop() == 0
    messages = [str(e.get("message", e.get("msg", ""))) for e in _logged(market.lines, "INFO")]
    expected = plan_run(dt.date(2021, 1, 1), 5).notes
    assert expected == (
        "2021-01-01 is not a business day (a weekend or a market holiday), so the run starts on the "
        "next one, 2021-01-04",
        "the real data ends on 2021-01-04, so the last 4 of the 5 business days are synthetic, drawn in "
        "blocks from the real history",
    )
    for note in expected:
        assert note in messages, market.log_text()[-3000:]


def test_another_run_in_the_data_directory_is_refused_with_the_fix(tmp_path: Path) -> None:
    first = start_service("market", tmp_path, {**WORLD, "OPSUITE_START": "2020-03-02", "OPSUITE_DAYS": "2"})
    try:
        first.wait_serving()
    finally:
        assert first.stop() == 0
    other = start_service(
        "market", tmp_path, {**WORLD, "OPSUITE_SEED": "8", "OPSUITE_START": "2020-03-02", "OPSUITE_DAYS": "2"}
    )
    assert other.process.wait(timeout=120) != 0
    refusal = (
        "The data directory holds another run (seed 7, not 8), so market cannot resume it: "
        "`opsuite up --fresh` deletes the previous run, or point OPSUITE_DATA_DIR somewhere else."
    )
    # The log is copied by a thread that may still be reading the exited process's last lines.
    wait_until(
        lambda: refusal in [str(e.get("error", "")) for e in _logged(other.lines, "ERROR")],
        timeout=30,
        what=f"the refusal in market's log:\n{other.log_text()[-3000:]}",
    )
