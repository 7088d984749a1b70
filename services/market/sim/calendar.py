"""The business-day calendar: the dates the macro history has data for.

FRED's Treasury series skip US holidays and weekends, so the history's dates
are the simulation's business days; settlement, ex-dates and notice periods
count in them. Beyond the last date of the history the calendar extends over
weekdays (no holidays known there), so a trade on the last simulated day still
gets a settle date.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence

_ONE_DAY = dt.timedelta(days=1)


def _is_weekday(day: dt.date) -> bool:
    return day.weekday() < 5


class BusinessCalendar:
    """Business days in ascending order, with arithmetic in business days."""

    def __init__(self, dates: Sequence[dt.date]) -> None:
        ordered = tuple(sorted(set(dates)))
        if not ordered:
            raise ValueError("a business calendar needs at least one date")
        self.dates: tuple[dt.date, ...] = ordered
        self._index = {day: i for i, day in enumerate(ordered)}

    @property
    def first(self) -> dt.date:
        return self.dates[0]

    @property
    def last(self) -> dt.date:
        return self.dates[-1]

    def is_business_day(self, day: dt.date) -> bool:
        if day > self.last or day < self.first:
            return _is_weekday(day)
        return day in self._index

    def index_of(self, day: dt.date) -> int:
        """Position of a business day of the history; KeyError for any other date."""
        return self._index[day]

    def on_or_after(self, day: dt.date) -> dt.date:
        if day > self.last:
            while not _is_weekday(day):
                day += _ONE_DAY
            return day
        if day < self.first:
            # Before the history, too, weekdays are business days (as for is_business_day, add and
            # count_between): a bisect alone would jump to the first date over them.
            while not _is_weekday(day) and day < self.first:
                day += _ONE_DAY
            if day < self.first:
                return day
        i = bisect.bisect_left(self.dates, day)
        return self.dates[i]

    def on_or_before(self, day: dt.date) -> dt.date:
        if day < self.first:
            while not _is_weekday(day):
                day -= _ONE_DAY
            return day
        if day > self.last:
            while not _is_weekday(day) and day > self.last:
                day -= _ONE_DAY
            if day > self.last:
                return day
        i = bisect.bisect_right(self.dates, day) - 1
        return self.dates[i]

    def add(self, day: dt.date, business_days: int) -> dt.date:
        """The business day `business_days` after (or before, if negative) `day`.

        A date that is not a business day counts as the gap before the next one:
        add(saturday, 1) and add(saturday, 0) are Monday, add(saturday, -1) is Friday.
        """
        if business_days >= 0:
            start = self.on_or_after(day)
            if start != day and business_days > 0:
                business_days -= 1
        else:
            start = self.on_or_before(day)
            if start != day:
                business_days += 1
        i = self._index.get(start)
        if i is not None and 0 <= i + business_days < len(self.dates):
            return self.dates[i + business_days]
        return self._walk(start, business_days)

    def _walk(self, day: dt.date, business_days: int) -> dt.date:
        step = _ONE_DAY if business_days >= 0 else -_ONE_DAY
        remaining = abs(business_days)
        while remaining:
            day += step
            if self.is_business_day(day):
                remaining -= 1
        return day

    def count_between(self, start: dt.date, end: dt.date) -> int:
        """Business days d with start < d <= end (negative when end is before start)."""
        if end < start:
            return -self.count_between(end, start)
        count = 0
        day = start
        if start >= self.first and end <= self.last:
            return bisect.bisect_right(self.dates, end) - bisect.bisect_right(self.dates, start)
        while day < end:
            day += _ONE_DAY
            if self.is_business_day(day):
                count += 1
        return count
