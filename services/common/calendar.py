"""The business-day calendar every service counts in: one rule for settlement, ex-dates, notice
periods, grace periods and the age of a break.

The known dates are business days inside their range (market's: the dates FRED's Treasury
series have data for, which skip US holidays and weekends; recon's: the day ends it has seen).
Outside that range, and everywhere when no dates are known, every weekday that is not a listed
holiday is a business day, so a trade on the last simulated day still gets a settle date.
Pure: the standard library only, so every domain may use it.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable

_ONE_DAY = dt.timedelta(days=1)


class BusinessCalendar:
    """Business days in ascending order, with arithmetic in business days."""

    def __init__(
        self,
        dates: Iterable[dt.date] = (),
        holidays: Iterable[dt.date] = (),
        is_holiday: Callable[[dt.date], bool] | None = None,
    ) -> None:
        """`holidays` lists closed weekdays outside the known dates; `is_holiday` answers for any
        weekday instead, for a calendar with no end (market's past the end of its data)."""
        self.dates: tuple[dt.date, ...] = tuple(sorted(set(dates)))
        self._index = {day: i for i, day in enumerate(self.dates)}
        self._holidays = frozenset(holidays)
        self._is_holiday = is_holiday

    @property
    def first(self) -> dt.date:
        """The first known date; ValueError when none is known."""
        if not self.dates:
            raise ValueError("this calendar knows no dates: it has no first or last")
        return self.dates[0]

    @property
    def last(self) -> dt.date:
        """The last known date; ValueError when none is known."""
        if not self.dates:
            raise ValueError("this calendar knows no dates: it has no first or last")
        return self.dates[-1]

    def _known(self, day: dt.date) -> bool:
        """Whether `day` lies inside the range of the known dates."""
        return bool(self.dates) and self.dates[0] <= day <= self.dates[-1]

    def _weekday(self, day: dt.date) -> bool:
        """The rule outside the known dates."""
        if day.weekday() >= 5 or day in self._holidays:
            return False
        return self._is_holiday is None or not self._is_holiday(day)

    def is_business_day(self, day: dt.date) -> bool:
        return day in self._index if self._known(day) else self._weekday(day)

    def index_of(self, day: dt.date) -> int:
        """Position of a known business day; KeyError for any other date."""
        return self._index[day]

    def on_or_after(self, day: dt.date) -> dt.date:
        """`day` when it is a business day, else the next one."""
        while not self._known(day) and not self._weekday(day):
            day += _ONE_DAY
        if not self._known(day):
            return day
        return self.dates[bisect.bisect_left(self.dates, day)]

    def on_or_before(self, day: dt.date) -> dt.date:
        """`day` when it is a business day, else the previous one."""
        while not self._known(day) and not self._weekday(day):
            day -= _ONE_DAY
        if not self._known(day):
            return day
        return self.dates[bisect.bisect_right(self.dates, day) - 1]

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
            return self.dates[i + business_days]  # inside the known dates: no walk needed
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
        if not self.dates:
            return self._count_outside(start, end)
        first, last = self.dates[0], self.dates[-1]
        count = 0
        if start < first:  # the part before the known dates
            count += self._count_outside(start, min(end, first - _ONE_DAY))
        low, high = max(start, first - _ONE_DAY), min(end, last)
        if low < high:
            count += bisect.bisect_right(self.dates, high) - bisect.bisect_right(self.dates, low)
        if end > last:  # the part after them
            count += self._count_outside(max(start, last), end)
        return count

    def _count_outside(self, start: dt.date, end: dt.date) -> int:
        """Weekdays (less holidays) d with start < d <= end, in closed form plus a short walk."""
        if end <= start:
            return 0
        if self._is_holiday is not None:  # no list to subtract: ask day by day
            return sum(
                1 for offset in range(1, (end - start).days + 1) if self._weekday(start + offset * _ONE_DAY)
            )
        weeks, rest = divmod((end - start).days, 7)
        count = weeks * 5
        day = start + dt.timedelta(days=weeks * 7)
        for _ in range(rest):
            day += _ONE_DAY
            if day.weekday() < 5:
                count += 1
        return count - sum(1 for h in self._holidays if start < h <= end and h.weekday() < 5)
