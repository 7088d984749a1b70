"""What market says at start-up about the run it was asked for, as a real process: the plan's notes
in its log, the business day it really starts on in GetClock, and another run in the data directory
refused with the fix."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import grpc

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.eventlog import open_event_log
from services.market.fred import load_snapshot
from services.market.run_identity import RUN_META_KEY, parse_record
from services.market.run_plan import plan_run
from services.market.sim.series import SERIES, fingerprint
from tests.market.fake_fred import FakeFred, fake_fred  # noqa: F401 - the fixture
from tests.support.processes import ServiceProcess, start_service
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


def _refusal_in(service: ServiceProcess) -> str:
    """The refusal a market that exited logged (waited for: a thread copies the last lines)."""
    found: list[str] = []

    def logged() -> bool:
        found[:] = [str(e.get("error", "")) for e in _logged(service.lines, "ERROR") if e.get("error")]
        return bool(found)

    wait_until(logged, timeout=30, what=f"a refusal in market's log:\n{service.log_text()[-3000:]}")
    return found[0]


def _extended_by_one_day(fake: FakeFred, day: dt.date) -> None:
    """FRED publishes one more business day: every daily series gains `day` at its last value."""
    snapshot = load_snapshot()
    for series_id in SERIES:
        text = dict(fake.state.observations(series_id))
        if dt.date(2021, 1, 4) in snapshot.observations[series_id]:  # the daily series
            text[day] = text[max(d for d, v in text.items() if v != ".")]
        fake.state.overrides[series_id] = text


def _revised(fake: FakeFred, series_id: str, day: dt.date, value: str) -> None:
    """FRED revises one past observation."""
    fake.state.overrides[series_id] = {**fake.state.observations(series_id), day: value}


def test_a_restart_over_other_fred_data_is_refused_naming_what_changed(
    tmp_path: Path,
    fake_fred: FakeFred,  # noqa: F811
) -> None:
    # A live-FRED run of two days, then restarts after FRED changed: first its data reaches a day
    # further (a new last date), then, with that day gone again, one old value is revised (the
    # same last date, another hash). Both are other data: the replay and the synthetic days past
    # the data would be computed from it, so market refuses rather than replay another world.
    live = {
        **WORLD,
        "FRED_API_KEY": fake_fred.api_key,
        "OPSUITE_FRED_URL": fake_fred.root_url,
        "OPSUITE_START": "2020-12-30",
        "OPSUITE_DAYS": "2",
    }
    first = start_service("market", tmp_path, live)
    try:
        first.wait_serving()
    finally:
        assert first.stop() == 0
    log = open_event_log(None, tmp_path)
    stored = parse_record(log.get_meta(RUN_META_KEY))
    log.close()
    assert (stored["data_source"], stored["data_last"]) == ("fred", "2021-01-04")
    # The fake serves the snapshot's values: the same data, whatever its text, hashes the same.
    assert stored["data_hash"] == fingerprint(load_snapshot())

    same = start_service("market", tmp_path, live)  # FRED unchanged: the run resumes
    try:
        same.wait_serving()
    finally:
        assert same.stop() == 0

    _extended_by_one_day(fake_fred, dt.date(2021, 1, 5))
    longer = start_service("market", tmp_path, live)
    assert longer.process.wait(timeout=120) != 0
    assert _refusal_in(longer) == (
        "The data directory holds another run (data ending 2021-01-04, not 2021-01-05), so market "
        "cannot resume it: `opsuite up --fresh` deletes the previous run, or point OPSUITE_DATA_DIR "
        "somewhere else."
    )

    fake_fred.state.overrides.clear()
    _revised(fake_fred, "DGS10", dt.date(2019, 6, 3), "2.50")
    revised = start_service("market", tmp_path, live)
    assert revised.process.wait(timeout=120) != 0
    refusal = _refusal_in(revised)
    assert re.fullmatch(
        rf"The data directory holds another run \(data hash {stored['data_hash'][:12]}, not "
        r"[0-9a-f]{12}\), so market cannot resume it: .*",
        refusal,
    ), refusal
