"""The business days past the end of the data: weekdays that are not NYSE holidays.

Inside the data the business days are the dates with a 10-year Treasury yield (the bond market's
calendar). Past it there is no such series to follow, so the calendar is the stock exchange's, as
the `holidays` package keeps it (NYSE rules and its special closures, e.g. national days of
mourning); the package's version is pinned in constraints.txt so a replay sees the same days. The
two calendars differ on a few days a year: the bond market closes on Columbus and Veterans Day,
when the NYSE trades, and often trades on Good Friday, when the NYSE is closed.

Only one year's holidays are held at a time, so walking any number of years keeps memory flat.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays

_ONE_DAY = dt.timedelta(days=1)


@functools.lru_cache(maxsize=4)  # the year a run is in and its neighbours: memory stays flat
def nyse_holidays(year: int) -> frozenset[dt.date]:
    """The weekdays of `year` the NYSE is closed. The neighbouring years are asked too, because a
    holiday's observed date can fall in the year before or after the holiday itself."""
    closed = holidays.financial_holidays("NYSE", years=(year - 1, year, year + 1))
    return frozenset(day for day in closed if day.year == year)


class MarketDays:
    """The NYSE business days after a date, one at a time and in order."""

    def __init__(self, after: dt.date) -> None:
        self._last = after
        self._year = after.year
        self._closed = nyse_holidays(after.year)

    @property
    def last(self) -> dt.date:
        """The last day handed out (the date given at the start before the first)."""
        return self._last

    def holidays_held(self) -> int:
        """How many holiday dates are held now (one year's): a bounded buffer."""
        return len(self._closed)

    def _open(self, day: dt.date) -> bool:
        """Whether `day` is a business day; days come in increasing order, so the year held only
        ever moves forward."""
        if day.weekday() >= 5:
            return False
        if day.year != self._year:
            self._year, self._closed = day.year, nyse_holidays(day.year)
        return day not in self._closed

    def next_day(self) -> dt.date:
        day = self._last + _ONE_DAY
        while not self._open(day):
            day += _ONE_DAY
        self._last = day
        return day


def is_nyse_holiday(day: dt.date) -> bool:
    """Whether the NYSE is closed on the weekday `day` (for BusinessCalendar past the data)."""
    return day in nyse_holidays(day.year)
