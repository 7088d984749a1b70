"""The one business calendar (services/common/calendar.py): arithmetic inside the known dates, at
their ends and beyond them (weekdays only there). recon's ages and holidays outside the known
dates are tested in tests/recon/domain/test_aging_calendar.py.

The calendar used throughout is February 2020 around Presidents' Day:
    Thu 13, Fri 14, [Sat 15, Sun 16, Mon 17 holiday], Tue 18, Wed 19, Thu 20 (the last date).
Outside the history every weekday is a business day: before it Wed 12, Tue 11, Mon 10, Fri 7;
after it Fri 21, Mon 24, Tue 25.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.calendar import BusinessCalendar


def feb(day: int) -> dt.date:
    return dt.date(2020, 2, day)


@pytest.fixture
def calendar() -> BusinessCalendar:
    # Unsorted and with a duplicate: the calendar sorts and deduplicates.
    return BusinessCalendar([feb(18), feb(13), feb(20), feb(14), feb(19), feb(18)])


def test_the_history_is_sorted_without_duplicates(calendar: BusinessCalendar) -> None:
    assert calendar.dates == (feb(13), feb(14), feb(18), feb(19), feb(20))
    assert (calendar.first, calendar.last) == (feb(13), feb(20))
    assert [calendar.index_of(feb(d)) for d in (13, 14, 18, 19, 20)] == [0, 1, 2, 3, 4]
    with pytest.raises(KeyError):
        calendar.index_of(feb(17))  # the holiday


def test_with_no_known_dates_every_weekday_is_a_business_day_and_there_is_no_first_or_last() -> None:
    weekdays = BusinessCalendar([])
    # Fri 14 Feb 2020 + 1: Mon 17 (no holidays known); (Fri 14, Tue 18]: Mon 17, Tue 18.
    assert weekdays.add(feb(14), 1) == feb(17)
    assert weekdays.count_between(feb(14), feb(18)) == 2
    assert (weekdays.on_or_after(feb(15)), weekdays.on_or_before(feb(16))) == (feb(17), feb(14))
    for end in ("first", "last"):
        with pytest.raises(ValueError, match=r"^this calendar knows no dates: it has no first or last$"):
            getattr(weekdays, end)


def test_business_days_inside_and_outside_the_history(calendar: BusinessCalendar) -> None:
    # Inside: the holiday and the weekend are not business days, history dates are.
    assert [calendar.is_business_day(feb(d)) for d in range(13, 21)] == [
        True,  # Thu 13
        True,  # Fri 14
        False,  # Sat 15
        False,  # Sun 16
        False,  # Mon 17, Presidents' Day
        True,
        True,
        True,  # Tue 18 .. Thu 20
    ]
    # Outside: weekdays only.
    assert [calendar.is_business_day(feb(d)) for d in (7, 8, 9, 10, 12)] == [True, False, False, True, True]
    assert [calendar.is_business_day(feb(d)) for d in (21, 22, 23, 24)] == [True, False, False, True]


def test_a_date_of_the_history_is_a_business_day_whatever_its_weekday() -> None:
    # A Sunday first date and a Saturday last date (make-up working days): inside the history the
    # data decides, the weekday rule only applies beyond its ends.
    calendar = BusinessCalendar([feb(16), feb(17), feb(18), feb(22)])
    assert calendar.is_business_day(feb(16)) and calendar.is_business_day(feb(22))
    assert not calendar.is_business_day(feb(15)) and not calendar.is_business_day(feb(23))
    assert calendar.on_or_after(feb(22)) == feb(22) and calendar.on_or_before(feb(22)) == feb(22)
    assert calendar.on_or_before(feb(16)) == feb(16) and calendar.on_or_after(feb(16)) == feb(16)
    assert calendar.on_or_after(feb(23)) == feb(24)
    assert calendar.on_or_before(feb(23)) == feb(22)  # Sun after a Saturday last date: that Saturday
    assert calendar.on_or_before(feb(15)) == feb(14)
    assert calendar.on_or_after(feb(15)) == feb(16)  # Sat before a Sunday first date: that Sunday


def test_rolling_to_a_business_day(calendar: BusinessCalendar) -> None:
    assert calendar.on_or_after(feb(15)) == feb(18)  # Sat -> Tue over the holiday
    assert calendar.on_or_after(feb(14)) == feb(14)
    assert calendar.on_or_after(feb(20)) == feb(20)  # the last date
    assert calendar.on_or_after(feb(22)) == feb(24)  # beyond the end: Sat -> Mon
    assert calendar.on_or_after(feb(8)) == feb(10)  # before the start: Sat -> Mon (a weekday there)
    assert calendar.on_or_after(feb(12)) == feb(12)
    assert calendar.on_or_before(feb(17)) == feb(14)
    assert calendar.on_or_before(feb(13)) == feb(13)  # the first date
    assert calendar.on_or_before(feb(9)) == feb(7)  # before the start: Sun -> Fri
    assert calendar.on_or_before(feb(21)) == feb(21)  # beyond the end a Friday is a business day
    assert calendar.on_or_before(feb(23)) == feb(21)  # Sun -> Fri, both beyond the end
    # Beyond the end with the last date a Thursday: Sat 22 -> Fri 21; with it a Friday the walk
    # ends on the last date of the history itself.
    assert calendar.on_or_before(feb(22)) == feb(21)
    friday_last = BusinessCalendar([feb(13), feb(14)])
    assert friday_last.on_or_before(feb(16)) == feb(14)


def test_adding_business_days_from_business_days(calendar: BusinessCalendar) -> None:
    assert calendar.add(feb(14), 0) == feb(14)
    assert calendar.add(feb(14), 1) == feb(18)
    assert calendar.add(feb(13), 2) == feb(18)
    assert calendar.add(feb(19), 1) == feb(20)  # onto the last date
    assert calendar.add(feb(20), 1) == feb(21)  # one past the last date: weekdays
    assert calendar.add(feb(19), 2) == feb(21)
    assert calendar.add(feb(20), 2) == feb(24)  # over the weekend beyond the end
    assert calendar.add(feb(18), -1) == feb(14)
    assert calendar.add(feb(14), -1) == feb(13)  # onto the first date
    assert calendar.add(feb(13), -1) == feb(12)  # one before the first date: weekdays
    assert calendar.add(feb(14), -5) == feb(7)  # 13, 12, 11, 10, then Fri 7 over the weekend
    assert calendar.add(feb(24), -1) == feb(21)
    assert calendar.add(feb(24), -3) == feb(19)  # 21, 20, 19: back into the history


def test_adding_from_a_day_that_is_not_a_business_day(calendar: BusinessCalendar) -> None:
    # The docstring's rule: the gap counts as the day before the next business day.
    assert calendar.add(feb(15), 0) == feb(18)
    assert calendar.add(feb(15), 1) == feb(18)
    assert calendar.add(feb(15), 2) == feb(19)
    assert calendar.add(feb(15), -1) == feb(14)
    assert calendar.add(feb(15), -2) == feb(13)
    assert calendar.add(feb(22), 1) == feb(24)  # Sat beyond the end
    assert calendar.add(feb(22), -1) == feb(21)
    # Sat 8 before the start: Mon 10 is a weekday before the history, so a business day.
    assert calendar.add(feb(8), 0) == feb(10)
    assert calendar.add(feb(8), 1) == feb(10)
    assert calendar.add(feb(8), 2) == feb(11)


def test_counting_business_days_between_dates(calendar: BusinessCalendar) -> None:
    # Days d with start < d <= end.
    assert calendar.count_between(feb(13), feb(13)) == 0
    assert calendar.count_between(feb(13), feb(14)) == 1
    assert calendar.count_between(feb(13), feb(19)) == 3  # 14, 18, 19
    assert calendar.count_between(feb(19), feb(13)) == -3
    assert calendar.count_between(feb(14), feb(17)) == 0  # weekend and holiday only
    assert calendar.count_between(feb(19), feb(24)) == 3  # 20, then 21 and 24 beyond the end
    assert calendar.count_between(feb(20), feb(21)) == 1
    assert calendar.count_between(feb(7), feb(14)) == 5  # 10, 11, 12 before the start, then 13, 14
    assert calendar.count_between(feb(24), feb(7)) == -10  # 10, 11, 12, 13, 14, 18, 19, 20, 21, 24
