"""What a run will simulate, said before it starts (plan_run), and market's run in the data
directory refused in one sentence with the fix (RunMismatch), in process."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest

from services.common.eventlog import open_event_log
from services.market.fred import load_macro, load_snapshot
from services.market.run_plan import RunPlan, plan_for_history, plan_run
from services.market.runtime import ClockSettings, MarketRuntime, RunMismatch
from services.market.sim.engine import SimConfig
from services.market.sim.series import fingerprint
from tests.support.waiting import wait_until

LABOR_DAY_2008 = dt.date(2008, 9, 1)
REAL_UNTIL = dt.date(2021, 1, 4)  # the snapshot's last business day
OUTSIDE = "is outside the FRED data, whose business days run from 1999-01-04 to 2021-01-04: pick a start between them"


def test_a_business_day_start_within_the_data_needs_no_note() -> None:
    assert plan_run(dt.date(2020, 3, 2), 5) == RunPlan(
        start=dt.date(2020, 3, 2),
        days=5,
        last_day=dt.date(2020, 3, 6),
        real_until=REAL_UNTIL,
        notes=(),
        data_source="snapshot",
        data_hash=fingerprint(load_snapshot()),
    )


def test_a_holiday_start_rolls_to_the_next_business_day_and_says_so() -> None:
    plan = plan_run(LABOR_DAY_2008, 60)
    assert plan.start == dt.date(2008, 9, 2) and plan.days == 60
    assert plan.notes == (
        "2008-09-01 is not a business day (a weekend or a market holiday), so the run starts on "
        "the next one, 2008-09-02",
    )
    saturday = plan_run(dt.date(2020, 3, 14), 1)
    assert (saturday.start, saturday.last_day) == (dt.date(2020, 3, 16), dt.date(2020, 3, 16))


def test_more_days_than_the_data_holds_go_on_synthetic_days_and_say_so() -> None:
    # New Year's Day 2021, three days before the snapshot ends: both notes, in order. The four
    # synthetic days are the NYSE's next business days: 2021-01-05, 06, 07 and 08.
    plan = plan_run(dt.date(2021, 1, 1), 5)
    assert (plan.start, plan.days, plan.last_day) == (dt.date(2021, 1, 4), 5, dt.date(2021, 1, 8))
    assert plan.notes[1] == (
        "the real data ends on 2021-01-04, so the last 4 of the 5 business days are synthetic, "
        "drawn in blocks from the real history"
    )
    assert len(plan.notes) == 2
    # Eleven synthetic days from 2021-01-05 skip Martin Luther King Day (the NYSE is closed on
    # 2021-01-18): 01-05..08 (4), 01-11..15 (5), 01-19 and 01-20.
    assert plan_run(REAL_UNTIL, 12).last_day == dt.date(2021, 1, 20)


def test_zero_days_at_full_speed_runs_until_the_real_data_ends_without_a_note() -> None:
    plan = plan_run(dt.date(2020, 12, 28), 0)
    assert (plan.days, plan.last_day, plan.notes) == (5, REAL_UNTIL, ())


def test_zero_days_live_has_no_end_and_says_where_the_real_data_ends() -> None:
    plan = plan_run(dt.date(2020, 12, 28), 0, live=True)
    assert (plan.days, plan.last_day, plan.real_until) == (0, None, REAL_UNTIL)
    assert plan.notes == (
        "the run has no end: after the real data ends on 2021-01-04 the days are synthetic, drawn "
        "in blocks from the real history",
    )


@pytest.mark.parametrize("start", [dt.date(1998, 12, 31), dt.date(2021, 1, 5), dt.date(2030, 1, 1)])
def test_a_start_outside_the_data_is_refused_naming_its_range(start: dt.date) -> None:
    with pytest.raises(ValueError) as caught:
        plan_run(start, 5)
    assert str(caught.value) == f"start {start.isoformat()} {OUTSIDE}"
    # The simulation's own history refuses it in the same words.
    with pytest.raises(ValueError) as again:
        load_macro(start)
    assert str(again.value) == str(caught.value)


def test_a_plan_over_the_history_market_built_agrees_with_plan_run() -> None:
    history = load_macro(LABOR_DAY_2008)
    assert plan_for_history(history, LABOR_DAY_2008, 60) == plan_run(LABOR_DAY_2008, 60)
    late = load_macro(dt.date(2021, 1, 1))
    assert plan_for_history(late, dt.date(2021, 1, 1), 5) == plan_run(dt.date(2021, 1, 1), 5)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^days: give 0 \(no end\) or more business days, not -1$"):
        plan_run(dt.date(2020, 3, 2), -1)


# ---------------------------------------------------------------- market's start-up


def _runtime(
    data_dir: Path, *, seed: int = 7, start: dt.date = LABOR_DAY_2008, days: int = 2
) -> MarketRuntime:
    return MarketRuntime(
        SimConfig(seed=seed, start=start, days=days, fault_rate=1.0),
        load_macro(start),
        open_event_log(None, data_dir),
        ClockSettings(None),
        retention_events=100_000,
    )


def test_market_logs_the_notes_and_runs_from_the_business_day(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="services.market.runtime"):
        runtime = _runtime(tmp_path, start=dt.date(2021, 1, 1), days=5)
    notes = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert notes == list(plan_run(dt.date(2021, 1, 1), 5).notes)
    clock = runtime.clock_state()
    assert (clock.start_date, clock.end_date) == (dt.date(2021, 1, 4), dt.date(2021, 1, 4))
    runtime.event_log.close()


async def _run_once(data_dir: Path) -> None:
    runtime = _runtime(data_dir)
    await runtime.start()
    # Waited for in a thread: the clock runs on this event loop.
    await asyncio.to_thread(wait_until, lambda: not runtime.running, 60, "the two days to be produced")
    await runtime.stop()
    runtime.event_log.close()


async def test_a_restart_with_a_holiday_start_resumes_the_run_it_rolled_to(tmp_path: Path) -> None:
    await _run_once(tmp_path)
    # The run is recorded under the business day it began on: asking for that day resumes it.
    again = _runtime(tmp_path, start=dt.date(2008, 9, 2))
    await again.start()
    assert again.clock_state().head_seq > 0
    await again.stop()
    again.event_log.close()


@pytest.mark.parametrize(
    ("changes", "differs"),
    [
        ({"seed": 8}, "seed 7, not 8"),
        ({"seed": 8, "start": dt.date(2008, 9, 8)}, "seed 7, not 8; start 2008-09-02, not 2008-09-08"),
    ],
)
async def test_another_run_in_the_data_directory_is_refused_with_the_fix(
    tmp_path: Path, changes: dict[str, object], differs: str
) -> None:
    await _run_once(tmp_path)
    other = _runtime(tmp_path, **changes)  # type: ignore[arg-type]
    with pytest.raises(RunMismatch) as caught:
        await other.start()
    assert str(caught.value) == (
        f"The data directory holds another run ({differs}), so market cannot resume it: "
        "`opsuite up --fresh` deletes the previous run, or point OPSUITE_DATA_DIR somewhere else."
    )
    other.event_log.close()


async def test_a_shorter_run_than_the_one_logged_is_refused_with_the_fix(tmp_path: Path) -> None:
    await _run_once(tmp_path)
    shorter = _runtime(tmp_path, days=1)
    with pytest.raises(RunMismatch) as caught:
        await shorter.start()
    message = str(caught.value)
    assert message.startswith("The data directory holds a longer run (")
    assert "fewer days asked for, or other data" in message
    assert message.endswith(
        "so market cannot resume it: `opsuite up --fresh` deletes the previous run, or point "
        "OPSUITE_DATA_DIR somewhere else."
    )
    shorter.event_log.close()
