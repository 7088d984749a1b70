"""The clock panel's words for market's GetClock."""

from __future__ import annotations

import dataclasses
import datetime as dt

from services.edge.dashboard.domain.clock import ClockView
from services.edge.dashboard.domain.formatting import MISSING

RUNNING = ClockView(
    sim_date=dt.date(2008, 9, 15),
    regime="crisis",
    running=True,
    as_fast_as_possible=False,
    business_days_per_second=1.0,
    business_days_elapsed=240,
    start_date=dt.date(2007, 10, 1),
    end_date=None,
    head_seq=123_456,
    data_source="snapshot",
    real_data_end=dt.date(2021, 1, 4),
)


def test_a_real_day_of_a_running_clock() -> None:
    assert RUNNING.weekday == "Monday"  # Lehman's 15 September 2008
    assert RUNNING.day_kind == "real data"
    assert RUNNING.state == "running"
    assert RUNNING.speed == "1 business day a second"


def test_a_synthetic_day_says_where_it_was_drawn_from() -> None:
    synthetic = dataclasses.replace(RUNNING, drawn_from=(dt.date(2008, 9, 2), dt.date(2008, 9, 29)))
    assert synthetic.day_kind == "synthetic (drawn from 2008-09-02 .. 2008-09-29)"


def test_a_clock_that_ended() -> None:
    ended = dataclasses.replace(
        RUNNING, running=False, end_date=dt.date(2020, 2, 28), as_fast_as_possible=True
    )
    assert ended.state == "ended on 2020-02-28"
    assert ended.speed == "as fast as possible"
    assert dataclasses.replace(ended, end_date=None).state == "stopped"


def test_no_date_yet() -> None:
    assert dataclasses.replace(RUNNING, sim_date=None).weekday == MISSING
