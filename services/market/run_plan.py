"""What a run asked for will actually simulate, said before it starts.

A start on a weekend or holiday begins on the next business day, and more days than the data
holds stop where the data ends: both are fine, but a person should be told, in the same words by
`opsuite up`, `opsuite simulate` and market's start-up log. A start the data does not cover is
refused, in the one wording of sim.macro.outside_the_data.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.market.fred import load_series
from services.market.sim.macro import MacroHistory, business_days, outside_the_data
from services.market.sim.series import SeriesSet


@dataclass(frozen=True)
class RunPlan:
    """start: the business day the run begins on. days: how many business days it simulates (never
    0: a request for 0 days, "until the data ends", is counted). last_day: the last one. notes: what
    differs from what was asked, as sentences to show a person (empty when nothing does)."""

    start: dt.date
    days: int
    last_day: dt.date
    notes: tuple[str, ...]


def plan_run(start: dt.date, days: int, *, api_key: str | None = None) -> RunPlan:
    """The plan of a run from `start` for `days` business days (0: until the data ends) over the
    data market will use: the shipped snapshot, or live FRED with a key (then FRED is asked once,
    as market does, falling back to the snapshot when it cannot answer).

    ValueError, naming the data's first and last business days, for a start outside the data.
    """
    return plan_for_series(load_series(api_key), start, days)


def plan_for_series(series: SeriesSet, start: dt.date, days: int) -> RunPlan:
    """plan_run over series already loaded (so a caller that goes on to build the history from
    them loads the data once)."""
    calendar = business_days(series)
    if not calendar[0] <= start <= calendar[-1]:
        raise ValueError(outside_the_data(start, calendar[0], calendar[-1]))
    return _plan(calendar[bisect.bisect_left(calendar, start) :], start, days)


def plan_for_history(history: MacroHistory, start: dt.date, days: int) -> RunPlan:
    """The same plan over a macro history already built (market's start-up)."""
    return _plan([day.date for day in history.days_from(start)], start, days)


def _plan(following: Sequence[dt.date], start: dt.date, days: int) -> RunPlan:
    """following: the data's business days on or after `start`, at least one."""
    if days < 0:
        raise ValueError(f"days: give 0 (until the data ends) or more business days, not {days}")
    begins = following[0]
    notes: list[str] = []
    if begins != start:
        notes.append(
            f"{start.isoformat()} is not a business day (a weekend or a market holiday), "
            f"so the run starts on the next one, {begins.isoformat()}"
        )
    count = len(following) if days == 0 else min(days, len(following))
    if days > len(following):
        notes.append(
            f"the data ends on {following[-1].isoformat()}, so {count} of the {days} business days "
            "asked for will be simulated"
        )
    return RunPlan(start=begins, days=count, last_day=following[count - 1], notes=tuple(notes))
