"""Aging by hand-counted calendars: business days past the known dates, holidays on the edges and on
weekends, ages before the first-seen date, bucket edges, escalation edges and the bucket counts.

March 2024 for reference: Friday the 1st, Mondays the 4th, 11th, 18th and 25th, Friday the 29th;
Monday 1 April. 2024 is a leap year: Thursday 29 February.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.recon.domain.aging import (
    AgingConfig,
    Bucket,
    BusinessCalendar,
    EscalationConfig,
    age_of,
    as_calendar,
    bucket_counts,
    escalation_reason,
)
from services.recon.domain.records import Break, BreakKind, BreakStatus, BucketCount, Comparison, Scope

HOLIDAY = dt.date(2024, 3, 15)  # a Friday
# The business days of March 2024 less the holiday: known from the 1st to the 29th.
MARCH = [
    dt.date(2024, 3, d)
    for d in range(1, 32)
    if dt.date(2024, 3, d).weekday() < 5 and dt.date(2024, 3, d) != HOLIDAY
]
KNOWN = BusinessCalendar(MARCH)
WEEKDAYS = BusinessCalendar()


def day(month: int, d: int) -> dt.date:
    return dt.date(2024, month, d)


# ---------------------------------------------------------------- known dates and beyond


def test_known_dates_decide_inside_their_range_and_weekdays_outside_it() -> None:
    assert KNOWN.is_business_day(day(3, 14))
    assert not KNOWN.is_business_day(HOLIDAY)  # a weekday missing from the known dates
    assert KNOWN.is_business_day(day(3, 1)) and KNOWN.is_business_day(day(3, 29))  # both ends
    assert KNOWN.is_business_day(day(4, 1))  # Monday after the last known date
    assert not KNOWN.is_business_day(day(4, 6))  # Saturday after it
    assert KNOWN.is_business_day(day(2, 29))  # Thursday before the first known date
    assert not WEEKDAYS.is_business_day(day(3, 16)) and WEEKDAYS.is_business_day(day(3, 15))


def test_known_dates_may_start_and_end_on_a_working_saturday() -> None:
    # A market that opens on Saturday 2 and Saturday 30 March (make-up days), weekdays in between.
    dates = [day(3, 2), *(d for d in MARCH if d > day(3, 2)), day(3, 30)]
    calendar = BusinessCalendar(dates)
    assert calendar.is_business_day(day(3, 2)) and calendar.is_business_day(day(3, 30))
    assert not calendar.is_business_day(day(3, 9))  # an ordinary Saturday inside the range
    # (Fri 1, Mon 4]: Sat 2, Mon 4 = 2
    assert calendar.count_between(day(3, 1), day(3, 4)) == 2
    # (Thu 28, Mon 1 Apr]: Fri 29, Sat 30, Mon 1 April = 3
    assert calendar.count_between(day(3, 28), day(4, 1)) == 3


def test_counting_past_the_last_known_date() -> None:
    # (28 Mar, 3 Apr]: Fri 29 (known), then Mon 1, Tue 2, Wed 3 April (weekdays) = 4
    assert KNOWN.count_between(day(3, 28), day(4, 3)) == 4
    # Both after the last known date, (1 Apr, 3 Apr]: Tue 2, Wed 3 = 2 (not counted from the 29th)
    assert KNOWN.count_between(day(4, 1), day(4, 3)) == 2
    # Ending on the last known date: (27 Mar, 29 Mar]: Thu 28, Fri 29 = 2
    assert KNOWN.count_between(day(3, 27), day(3, 29)) == 2
    # Ending on the Saturday after it: (28 Mar, 30 Mar]: Fri 29 = 1
    assert KNOWN.count_between(day(3, 28), day(3, 30)) == 1


def test_counting_before_the_first_known_date() -> None:
    # (28 Feb, 4 Mar]: Thu 29 Feb (weekday), Fri 1 and Mon 4 March (known) = 3
    assert KNOWN.count_between(day(2, 28), day(3, 4)) == 3
    # Entirely before: (26 Feb, 29 Feb]: Tue 27, Wed 28, Thu 29 = 3
    assert KNOWN.count_between(day(2, 26), day(2, 29)) == 3
    # Ending on the first known date: (29 Feb, 1 Mar]: Fri 1 = 1
    assert KNOWN.count_between(day(2, 29), day(3, 1)) == 1
    # Across the whole range: (29 Feb, 1 Apr]: 20 known March dates (21 weekdays less the 15th) + Mon 1 Apr
    assert KNOWN.count_between(day(2, 29), day(4, 1)) == 21


def test_adding_business_days_past_either_end_of_the_known_dates() -> None:
    # Thu 28 Mar + 3: Fri 29 (known), Mon 1 Apr, Tue 2 Apr
    assert KNOWN.add(day(3, 28), 3) == day(4, 2)
    # Mon 18 Mar - 3: Thu 14, Wed 13, Tue 12 (the holiday on the 15th skipped)
    assert KNOWN.add(day(3, 18), -3) == day(3, 12)
    # Fri 1 Mar - 1: Thu 29 Feb
    assert KNOWN.add(day(3, 1), -1) == day(2, 29)
    # A day that is not a business day counts as the gap before the next one (the rule market's
    # settlement uses): + 0 from the holiday on Fri 15 Mar is Mon 18, - 1 is Thu 14.
    assert KNOWN.add(HOLIDAY, 0) == day(3, 18)
    assert KNOWN.add(HOLIDAY, -1) == day(3, 14)


def test_a_long_span_of_weekdays_counts_whole_weeks_and_the_rest() -> None:
    # (Fri 1 Mar, Wed 20 Mar] on plain weekdays: 4-8, 11-15, 18-20 = 5 + 5 + 3 = 13
    assert WEEKDAYS.count_between(day(3, 1), day(3, 20)) == 13
    # (Sat 2 Mar, Sun 17 Mar]: exactly two weeks = 10
    assert WEEKDAYS.count_between(day(3, 2), day(3, 17)) == 10
    # (Fri 1 Mar, Sat 2 Mar]: a Saturday only = 0; (Fri 1, Mon 4]: 1
    assert WEEKDAYS.count_between(day(3, 1), day(3, 2)) == 0
    assert WEEKDAYS.count_between(day(3, 1), day(3, 4)) == 1
    assert WEEKDAYS.count_between(day(3, 4), day(3, 4)) == 0
    # Seven weeks and three days, (Fri 1 Mar, Mon 22 Apr]: 7 x 5 = 35, then Sat 20, Sun 21, Mon 22 Apr = 36
    # (March after the 1st: 4-8, 11-15, 18-22, 25-29 = 20; April 1-5, 8-12, 15-19, 22 = 16)
    assert WEEKDAYS.count_between(day(3, 1), day(4, 22)) == 36


# ---------------------------------------------------------------- holidays on the edges


def test_a_holiday_on_the_start_date_is_not_subtracted() -> None:
    calendar = BusinessCalendar(holidays=[HOLIDAY])
    # (Fri 15, Mon 18]: Mon 18 = 1; the 15th is not inside the span, so nothing to subtract
    assert calendar.count_between(HOLIDAY, day(3, 18)) == 1
    # A break first seen on the holiday is age 1 on Monday
    assert age_of(HOLIDAY, day(3, 18), calendar) == 1


def test_a_holiday_on_the_end_date_is_subtracted() -> None:
    calendar = BusinessCalendar(holidays=[HOLIDAY])
    # (Thu 14, Fri 15]: Fri 15, a holiday = 0
    assert calendar.count_between(day(3, 14), HOLIDAY) == 0
    # (Wed 13, Fri 15]: Thu 14 only = 1
    assert calendar.count_between(day(3, 13), HOLIDAY) == 1


def test_a_saturday_holiday_is_not_a_business_day_lost() -> None:
    saturday = day(3, 16)
    calendar = BusinessCalendar(holidays=[saturday])
    # (Fri 15, Mon 18]: Mon 18 = 1; the Saturday was never counted, so it is not subtracted
    assert calendar.count_between(HOLIDAY, day(3, 18)) == 1
    # (Thu 14, Mon 18]: Fri 15, Mon 18 = 2
    assert calendar.count_between(day(3, 14), day(3, 18)) == 2


def test_holidays_outside_the_span_are_not_subtracted() -> None:
    calendar = BusinessCalendar(holidays=[day(3, 4), day(3, 25)])
    # (Mon 4, Fri 22 Mar]: 5-8, 11-15, 18-22 = 4 + 5 + 5 = 14; both holidays lie outside
    assert calendar.count_between(day(3, 4), day(3, 22)) == 14


# ---------------------------------------------------------------- ages before the first-seen date


def test_a_first_seen_date_after_today_is_age_zero() -> None:
    # Counting backwards is negative: (Thu 14, Mon 18] holds Fri 15 and Mon 18, so 18 -> 14 is -2 ...
    assert WEEKDAYS.count_between(day(3, 18), day(3, 14)) == -2
    assert KNOWN.count_between(day(3, 18), day(3, 14)) == -1  # the 15th is a holiday there
    # ... but an age is never negative
    assert age_of(day(3, 18), day(3, 14), WEEKDAYS) == 0
    assert age_of(day(3, 14), day(3, 14), WEEKDAYS) == 0
    assert age_of(day(3, 14), day(3, 18), WEEKDAYS) == 2


def test_as_calendar_accepts_none_a_calendar_or_dates() -> None:
    assert as_calendar(None).count_between(day(3, 14), day(3, 18)) == 2  # plain weekdays
    assert as_calendar(KNOWN) is KNOWN
    assert as_calendar(MARCH).count_between(day(3, 14), day(3, 18)) == 1  # the 15th not listed


# ---------------------------------------------------------------- buckets


def test_bucket_edges() -> None:
    aging = AgingConfig((Bucket("0-1", 0, 1), Bucket("2-3", 2, 3), Bucket("4+", 4, None)))
    # one below, at and one above each edge
    assert [aging.bucket_for(age) for age in (0, 1, 2, 3, 4, 5, 400)] == [
        "0-1",
        "0-1",
        "2-3",
        "2-3",
        "4+",
        "4+",
        "4+",
    ]
    single = AgingConfig((Bucket("all", 0, None),))
    assert single.bucket_for(0) == single.bucket_for(99) == "all"


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        ((), r"^aging: at least one bucket is needed$"),
        ((Bucket("1+", 1, None),), r"^aging.bucket\[0\] \(1\+\): min 1, expected 0"),
        (
            (Bucket("0-1", 0, None), Bucket("2+", 2, None)),
            r"^aging.bucket\[0\] \(0-1\): only the last bucket may",
        ),
        (
            (Bucket("0-1", 0, 1), Bucket("2-1", 2, 1), Bucket("3+", 3, None)),
            r"^aging.bucket\[1\] \(2-1\): max below min",
        ),
        (
            (Bucket("0-1", 0, 1), Bucket("2-3", 2, 3)),
            r"^aging.bucket\[1\] \(2-3\): the last bucket must be open-ended",
        ),
        ((Bucket("0-1", 0, 1), Bucket("3+", 3, None)), r"^aging.bucket\[1\] \(3\+\): min 3, expected 2"),
    ],
)
def test_bad_buckets_are_refused_with_the_reason(buckets: tuple[Bucket, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AgingConfig(buckets)


def test_a_one_day_bucket_is_allowed() -> None:
    # max == min is a bucket of one age, not "max below min"
    aging = AgingConfig((Bucket("0", 0, 0), Bucket("1", 1, 1), Bucket("2+", 2, None)))
    assert [aging.bucket_for(age) for age in (0, 1, 2)] == ["0", "1", "2+"]


# ---------------------------------------------------------------- escalation

ESCALATION = EscalationConfig(
    sla_business_days=5,
    sla_by_kind={"CASH_MISMATCH": 3},
    amount_thresholds={"*": Decimal(100000), "JPY": Decimal(10000000)},
)


def test_escalation_passes_the_sla_one_day_after_it() -> None:
    q = BreakKind.QUANTITY_MISMATCH
    # SLA 5: age 4 and 5 are inside it, 6 passed it
    assert escalation_reason(q, 4, "USD", None, ESCALATION) == ""
    assert escalation_reason(q, 5, "USD", None, ESCALATION) == ""
    assert escalation_reason(q, 6, "USD", None, ESCALATION) == "age 6 business days passed the SLA of 5"
    # Cash mismatches: SLA 3
    cash = BreakKind.CASH_MISMATCH
    assert escalation_reason(cash, 3, "USD", None, ESCALATION) == ""
    assert escalation_reason(cash, 4, "USD", None, ESCALATION) == "age 4 business days passed the SLA of 3"
    assert ESCALATION.sla_for(cash) == 3 and ESCALATION.sla_for(q) == 5


def test_escalation_by_amount_at_the_threshold_of_the_currency() -> None:
    q = BreakKind.QUANTITY_MISMATCH
    # "*" = 100,000 for USD: 99,999.99 below, 100,000 at, 100,000.01 above; the sign does not matter
    assert escalation_reason(q, 0, "USD", Decimal("-99999.99"), ESCALATION) == ""
    assert (
        escalation_reason(q, 0, "USD", Decimal("-100000"), ESCALATION)
        == "|difference| 100,000 USD reached the threshold of 100,000"
    )
    assert escalation_reason(q, 0, "USD", Decimal("100000.01"), ESCALATION).startswith(
        "|difference| 100,000.01 USD"
    )
    # JPY has its own threshold, 10,000,000: 100,000 yen is far below it
    assert escalation_reason(q, 0, "JPY", Decimal(100000), ESCALATION) == ""
    assert escalation_reason(q, 0, "JPY", Decimal(10000000), ESCALATION) == (
        "|difference| 10,000,000 JPY reached the threshold of 10,000,000"
    )
    # No valuation, no amount escalation
    assert escalation_reason(q, 0, "USD", None, ESCALATION) == ""
    assert ESCALATION.threshold_for("EUR") == Decimal(100000)
    assert EscalationConfig(5).threshold_for("USD") is None
    assert escalation_reason(q, 0, "USD", Decimal(10**12), EscalationConfig(5)) == ""


# ---------------------------------------------------------------- bucket counts

AGING = AgingConfig((Bucket("0-1", 0, 1), Bucket("2-3", 2, 3), Bucket("4+", 4, None)))
AT = dt.datetime(2024, 3, 18, 23, 59, tzinfo=dt.UTC)


def a_break(n: int, bucket: str, status: BreakStatus, base: str | None, currency: str = "USD") -> Break:
    return Break(
        break_id=f"BRK-{n}",
        item_key=f"item-{n}",
        generation=1,
        mandate_id="M",
        kind=BreakKind.QUANTITY_MISMATCH,
        status=status,
        comparison=Comparison.BOOK_VS_CUSTODIAN,
        scope=Scope.POSITION,
        first_seen_date=day(3, 11),
        last_seen_date=day(3, 18),
        opened_at=AT,
        updated_at=AT,
        opened_in_run_id="RUN-1",
        last_run_id="RUN-1",
        base_currency=currency,
        base_amount_difference=None if base is None else Decimal(base),
        aging_bucket=bucket,
    )


def test_bucket_counts_count_open_breaks_only() -> None:
    S = BreakStatus
    breaks = [
        a_break(1, "0-1", S.OPEN, "-100"),
        a_break(2, "0-1", S.INVESTIGATING, "250"),
        a_break(3, "0-1", S.RESOLVED, "1000"),
        a_break(4, "4+", S.WRITTEN_OFF, "5000"),
        a_break(5, "4+", S.OPEN, None),
        a_break(6, "2-3", S.OPEN, "-7", currency="EUR"),
    ]
    # USD: 0-1 holds #1 and #2, |-100| + |250| = 350 (#3 resolved); 4+ holds #5 only (#4 written off),
    # with no valued amount: 0. EUR: 2-3 holds #6, |-7| = 7. Every bucket is listed for every currency.
    assert bucket_counts(breaks, AGING) == (
        BucketCount("0-1", 0, Decimal(0), "EUR"),
        BucketCount("0-1", 2, Decimal(350), "USD"),
        BucketCount("2-3", 1, Decimal(7), "EUR"),
        BucketCount("2-3", 0, Decimal(0), "USD"),
        BucketCount("4+", 0, Decimal(0), "EUR"),
        BucketCount("4+", 1, Decimal(0), "USD"),
    )


def test_bucket_counts_of_only_closed_breaks_list_empty_buckets() -> None:
    closed = [a_break(1, "0-1", BreakStatus.RESOLVED, "5"), a_break(2, "4+", BreakStatus.WRITTEN_OFF, "9")]
    # No open break, so no currency: one empty row per bucket
    assert bucket_counts(closed, AGING) == (
        BucketCount("0-1", 0, Decimal(0), ""),
        BucketCount("2-3", 0, Decimal(0), ""),
        BucketCount("4+", 0, Decimal(0), ""),
    )
