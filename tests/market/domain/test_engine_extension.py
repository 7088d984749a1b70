"""The simulation past the end of the data: real days, then synthetic ones, one deterministic world.

A run asked for more days than the data holds, or for no end, goes on through the synthetic
extension (sim/macro/extension.py); the days, their events and the corporate actions do not depend
on how far the run was asked to go, so a run of N days is the first N days of any longer run.
"""

from __future__ import annotations

import datetime as dt
import functools

from services.market import codec
from services.market.fred import load_series
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.macro import build_history
from services.market.sim.macro.extension import extend
from services.market.sim.series import SeriesSet

START = dt.date(2020, 11, 2)  # two months before the snapshot ends on 2021-01-04
REAL_UNTIL = dt.date(2021, 1, 4)


@functools.cache
def _series() -> SeriesSet:
    return load_series(None)


def _simulation(days: int, seed: int = 7) -> Simulation:
    series = _series()
    return Simulation(
        SimConfig(seed=seed, start=START, days=days),
        build_history(series, START),
        extension=lambda: extend(series, seed),
    )


def _stream(sim: Simulation, days: int) -> list[str]:
    """The first `days` days' events as the JSON lines `opsuite simulate` writes."""
    lines: list[str] = []
    for _ in range(days):
        day = sim.step()
        assert day is not None
        lines.extend(codec.event_to_json(codec.event_to_proto(event)) for event in day.events)
    return lines


def test_the_run_goes_on_past_the_data_on_business_days() -> None:
    sim = _simulation(days=0)
    dates = []
    for _ in range(80):
        day = sim.step()
        assert day is not None
        dates.append(day.date)
    assert sim.end_date is None and not sim.finished  # no end
    assert REAL_UNTIL in dates and dates[-1] > dt.date(2021, 2, 15)
    after = [d for d in dates if d > REAL_UNTIL]
    assert after[0] == dt.date(2021, 1, 5)
    assert dt.date(2021, 1, 18) not in after and dt.date(2021, 2, 15) not in after  # NYSE holidays
    assert all(d.weekday() < 5 for d in after)
    current = sim.current_day
    assert current is not None and current.synthetic and current.origin is not None
    assert current.origin.block_first <= current.origin.replayed <= current.origin.block_last


def test_the_same_seed_writes_the_same_bytes_across_the_boundary() -> None:
    assert _stream(_simulation(days=0), 60) == _stream(_simulation(days=0), 60)
    assert _stream(_simulation(days=0, seed=8), 60) != _stream(_simulation(days=0), 60)


def test_a_run_of_n_days_is_the_first_n_days_of_a_longer_run() -> None:
    # 300 business days reach into 2022, so corporate actions are planned over more than one
    # window of a year in the run without an end, and over one in the run of 300 days.
    bounded = _simulation(days=300)
    assert bounded.end_date is not None and bounded.end_date.year == 2022
    assert _stream(bounded, 300) == _stream(_simulation(days=0), 300)
    assert bounded.finished and bounded.step() is None
    assert bounded.current_date == bounded.end_date


def test_a_run_inside_the_data_never_builds_the_extension() -> None:
    def refuse() -> object:
        raise AssertionError("the extension was built for a run inside the data")

    series = _series()
    sim = Simulation(
        SimConfig(seed=7, start=START, days=20),
        build_history(series, START),
        extension=refuse,  # type: ignore[arg-type]
    )
    while sim.step() is not None:
        pass
    assert sim.days_elapsed == 20 and sim.current_date is not None and sim.current_date < REAL_UNTIL
