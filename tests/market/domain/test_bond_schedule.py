"""Coupon schedules and coupon periods: issue dates, month ends, frequencies and input checks."""

from __future__ import annotations

import datetime as dt

import pytest

from services.market.sim.bonds import coupon_schedule, previous_and_next_coupon

MATURITY = dt.date(2022, 8, 31)  # a month end: every coupon date is a month end


@pytest.mark.parametrize(
    ("issue", "first_coupon"),
    [
        # One day before the coupon date 2021-02-28: that date is still a coupon of the bond.
        (dt.date(2021, 2, 27), dt.date(2021, 2, 28)),
        # Issued on a coupon date: no coupon is paid on the issue date itself, the first is
        # a full half-year later.
        (dt.date(2021, 2, 28), dt.date(2021, 8, 31)),
        # One day after it.
        (dt.date(2021, 3, 1), dt.date(2021, 8, 31)),
    ],
)
def test_an_issue_date_on_a_coupon_date_pays_no_coupon_that_day(
    issue: dt.date, first_coupon: dt.date
) -> None:
    schedule = coupon_schedule(MATURITY, 2, issue=issue)
    assert schedule[0] == first_coupon
    assert schedule[-1] == MATURITY
    assert all(day > issue for day in schedule)


def test_without_an_issue_date_the_schedule_covers_fifty_years() -> None:
    # Semiannual, maturity 2030-05-15: the floor is 50 years back, 1980-05-15, itself excluded,
    # so the dates are 1980-11-15, 1981-05-15, ..., 2030-05-15: 2 a year for 50 years = 100.
    schedule = coupon_schedule(dt.date(2030, 5, 15), 2)
    assert len(schedule) == 100
    assert schedule[0] == dt.date(1980, 11, 15)
    assert schedule[-1] == dt.date(2030, 5, 15)
    assert schedule == sorted(set(schedule))


@pytest.mark.parametrize(
    ("maturity", "coupons_per_year", "issue", "expected"),
    [
        # Monthly, maturity on a month end: every date a month end, across a year end.
        (
            dt.date(2022, 1, 31),
            12,
            dt.date(2021, 10, 15),
            [dt.date(2021, 10, 31), dt.date(2021, 11, 30), dt.date(2021, 12, 31), dt.date(2022, 1, 31)],
        ),
        # Quarterly, 15th: issued on a coupon date a year before maturity, so 4 coupons.
        (
            dt.date(2022, 3, 15),
            4,
            dt.date(2021, 3, 15),
            [dt.date(2021, 6, 15), dt.date(2021, 9, 15), dt.date(2021, 12, 15), dt.date(2022, 3, 15)],
        ),
        # Annual: issued the day after a coupon date, 2019-03-15 is excluded as before issue.
        (
            dt.date(2022, 3, 15),
            1,
            dt.date(2019, 3, 16),
            [dt.date(2020, 3, 15), dt.date(2021, 3, 15), dt.date(2022, 3, 15)],
        ),
        # Semiannual from a January maturity: the step back crosses into the previous year in July.
        (
            dt.date(2022, 1, 10),
            2,
            dt.date(2020, 12, 1),
            [dt.date(2021, 1, 10), dt.date(2021, 7, 10), dt.date(2022, 1, 10)],
        ),
    ],
)
def test_schedules_of_every_frequency(
    maturity: dt.date, coupons_per_year: int, issue: dt.date, expected: list[dt.date]
) -> None:
    assert coupon_schedule(maturity, coupons_per_year, issue=issue) == expected


@pytest.mark.parametrize(
    ("settle", "coupons_per_year", "expected"),
    [
        # Maturity 2022-01-31 (a month end). Monthly: Oct 31 <= Nov 15 < Nov 30.
        (dt.date(2021, 11, 15), 12, (dt.date(2021, 10, 31), dt.date(2021, 11, 30))),
        # Quarterly: Oct 31 <= Nov 15 < Jan 31 (3 months back from Jan 31 is Oct 31).
        (dt.date(2021, 11, 15), 4, (dt.date(2021, 10, 31), dt.date(2022, 1, 31))),
        # Annual: a year back from maturity, 2021-01-31 <= settle < 2022-01-31.
        (dt.date(2021, 11, 15), 1, (dt.date(2021, 1, 31), dt.date(2022, 1, 31))),
        # Semiannual, ten years out: Jul 31 2011 <= Dec 1 2011 < Jan 31 2012.
        (dt.date(2011, 12, 1), 2, (dt.date(2011, 7, 31), dt.date(2012, 1, 31))),
        # On a coupon date that date is the previous coupon; the day before, the next one.
        (dt.date(2021, 7, 31), 2, (dt.date(2021, 7, 31), dt.date(2022, 1, 31))),
        (dt.date(2021, 7, 30), 2, (dt.date(2021, 1, 31), dt.date(2021, 7, 31))),
        # The last period, the day before maturity.
        (dt.date(2022, 1, 30), 2, (dt.date(2021, 7, 31), dt.date(2022, 1, 31))),
    ],
)
def test_the_coupon_period_around_a_settle_date(
    settle: dt.date, coupons_per_year: int, expected: tuple[dt.date, dt.date]
) -> None:
    assert previous_and_next_coupon(settle, dt.date(2022, 1, 31), coupons_per_year) == expected


@pytest.mark.parametrize("coupons_per_year", [0, 3, 5, 6, 11, 13, 24])
def test_only_annual_semiannual_quarterly_and_monthly_coupons_are_accepted(coupons_per_year: int) -> None:
    with pytest.raises(ValueError, match=rf"coupons_per_year must be 1, 2, 4 or 12, not {coupons_per_year}$"):
        coupon_schedule(MATURITY, coupons_per_year)
    with pytest.raises(ValueError, match="coupons_per_year must be"):
        previous_and_next_coupon(dt.date(2021, 1, 1), MATURITY, coupons_per_year)


def test_settle_on_maturity_is_rejected_but_the_day_before_is_in_the_last_period() -> None:
    with pytest.raises(ValueError, match=r"settle 2022-08-31 is not before maturity 2022-08-31"):
        previous_and_next_coupon(MATURITY, MATURITY, 2)
    with pytest.raises(ValueError, match=r"settle 2022-09-01 is not before maturity 2022-08-31"):
        previous_and_next_coupon(dt.date(2022, 9, 1), MATURITY, 2)
    assert previous_and_next_coupon(dt.date(2022, 8, 30), MATURITY, 2) == (dt.date(2022, 2, 28), MATURITY)
