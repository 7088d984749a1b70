"""What WatchNav sends, read from the store: each mandate's latest NAV, then the day ends committed
after a seq, each with its year-to-date return (the ListMandates figure: the day's time-weighted
returns since the last day end of the previous year, linked). Blocking reads: run in a worker thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from opsuite.reporting.v1 import reporting_pb2
from services.reporting import codec
from services.reporting.domain.periods import Period, figures
from services.reporting.store import NavRow, ReportingStore

DAYS_PER_READ = 64  # day ends read per round trip of a watch


def _year_to_date(store: ReportingStore, rows: Sequence[NavRow]) -> dict[tuple[str, dt.date], float | None]:
    """Each row's year-to-date return, from one read of its mandate's points (from the December
    before the first row's year: a base, when there is one, is the last day end before 1 January)."""
    out: dict[tuple[str, dt.date], float | None] = {}
    by_mandate: dict[str, list[dt.date]] = {}
    for row in rows:
        by_mandate.setdefault(row.day.valuation.mandate_id, []).append(row.day.valuation.date)
    for mandate_id, dates in by_mandate.items():
        first, last = min(dates), max(dates)
        points = store.points(mandate_id, dt.date(first.year - 1, 12, 1), last)
        index = {point.date: i for i, point in enumerate(points)}
        for date in dates:
            out[(mandate_id, date)] = figures(Period.YEAR_TO_DATE, points, index[date]).portfolio_return
    return out


def changes(store: ReportingStore, rows: Sequence[NavRow], *, current: bool) -> list[reporting_pb2.NavChange]:
    ytd = _year_to_date(store, rows)
    return [
        codec.nav_change(row, ytd[(row.day.valuation.mandate_id, row.day.valuation.date)], current=current)
        for row in rows
    ]


def latest(store: ReportingStore, mandate_id: str) -> tuple[int, list[reporting_pb2.NavChange]]:
    """Each mandate's latest NAV ("" for every mandate) and the seq a watch follows on from."""
    cursor, rows = store.latest_navs(mandate_id)
    after = max([cursor, *(row.day.valuation.seq for row in rows)])
    return after, changes(store, rows, current=True)


def after(store: ReportingStore, seq: int, mandate_id: str) -> tuple[int, list[reporting_pb2.NavChange]]:
    """The NAVs valued after seq, and the seq to read after next."""
    until, rows = store.navs_after(seq, mandate_id, DAYS_PER_READ)
    return until, changes(store, rows, current=False)
