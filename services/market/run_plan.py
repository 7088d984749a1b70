"""What a run asked for will actually simulate, said before it starts.

A start on a weekend or holiday begins on the next business day; more days than the data holds go
on past its end on synthetic days (sim/macro/extension.py); a live run of 0 days has no end, and a
run at full speed of 0 days stops where the real data ends. Each is fine, but a person should be
told, in the same words by `opsuite up`, `opsuite simulate` and market's start-up log. A start the
data does not cover is refused, in the one wording of sim.macro.outside_the_data.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.common.calendar import BusinessCalendar
from services.market.fred import load_series
from services.market.sim.macro import MacroHistory, business_days, outside_the_data
from services.market.sim.macro.market_days import is_nyse_holiday
from services.market.sim.series import SeriesSet, fingerprint


@dataclass(frozen=True)
class RunPlan:
    """start: the business day the run begins on. days: how many business days it simulates, 0 for
    a run with no end (live, until stopped). last_day: the last one (None with no end).
    real_until: the last business day of the real data; the days after it are synthetic.
    notes: what differs from what was asked, as sentences to show a person.
    data_source, data_hash: where the data came from ("snapshot" or "fred") and its
    series.fingerprint, which with real_until make the data part of the run's identity."""

    start: dt.date
    days: int
    last_day: dt.date | None
    real_until: dt.date
    notes: tuple[str, ...]
    data_source: str = ""
    data_hash: str = ""


def plan_run(
    start: dt.date, days: int, *, live: bool = False, api_key: str | None = None, fred_url: str | None = None
) -> RunPlan:
    """The plan of a run from `start` for `days` business days over the data market will use: the
    shipped snapshot, or live FRED with a key (then FRED is asked once, as market does, falling
    back to the snapshot when it cannot answer). days 0: with `live` (a clock at a set speed) the
    run has no end; at full speed it ends with the real data.

    ValueError, naming the data's first and last business days, for a start outside the data.
    """
    return plan_for_series(load_series(api_key, root_url=fred_url), start, days, live=live)


def plan_for_series(series: SeriesSet, start: dt.date, days: int, *, live: bool = False) -> RunPlan:
    """plan_run over series already loaded (so a caller that goes on to build the history from
    them loads the data once)."""
    calendar = business_days(series)
    if not calendar[0] <= start <= calendar[-1]:
        raise ValueError(outside_the_data(start, calendar[0], calendar[-1]))
    plan = _plan(calendar[bisect.bisect_left(calendar, start) :], start, days, live)
    return dataclasses.replace(plan, data_source=series.source, data_hash=fingerprint(series))


def plan_for_history(history: MacroHistory, start: dt.date, days: int, *, live: bool = False) -> RunPlan:
    """The same plan over a macro history already built (market's start-up)."""
    plan = _plan([day.date for day in history.days_from(start)], start, days, live)
    return dataclasses.replace(plan, data_source=history.source, data_hash=history.data_hash)


def _plan(following: Sequence[dt.date], start: dt.date, days: int, live: bool) -> RunPlan:
    """following: the data's business days on or after `start`, at least one."""
    if days < 0:
        raise ValueError(f"days: give 0 (no end) or more business days, not {days}")
    begins, real_until = following[0], following[-1]
    notes: list[str] = []
    if begins != start:
        notes.append(
            f"{start.isoformat()} is not a business day (a weekend or a market holiday), "
            f"so the run starts on the next one, {begins.isoformat()}"
        )
    if days == 0 and live:
        notes.append(
            f"the run has no end: after the real data ends on {real_until.isoformat()} the days are "
            "synthetic, drawn in blocks from the real history"
        )
        return RunPlan(begins, 0, None, real_until, tuple(notes))
    if days == 0:
        return RunPlan(begins, len(following), real_until, real_until, tuple(notes))
    if days <= len(following):
        return RunPlan(begins, days, following[days - 1], real_until, tuple(notes))
    synthetic = days - len(following)
    # Past the data the business days are the NYSE's, as the synthetic days' are.
    last_day = BusinessCalendar(following, is_holiday=is_nyse_holiday).add(real_until, synthetic)
    notes.append(
        f"the real data ends on {real_until.isoformat()}, so the last {synthetic} of the {days} business "
        "days are synthetic, drawn in blocks from the real history"
    )
    return RunPlan(begins, days, last_day, real_until, tuple(notes))
