"""Business days, the age of a break, its aging bucket and its escalation.

A break's age is the number of business days d with first_seen_date < d <= today:
0 on the day it appeared, 1 on the next business day, whatever weekends and
holidays lie between. The calendar is anything with `add` and `count_between`
(services/common/calendar.py's BusinessCalendar, which every service shares), or a
sequence of business dates, or None for plain weekdays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, runtime_checkable

from services.common.calendar import BusinessCalendar
from services.recon.domain.records import Break, BreakKind, BucketCount

_ONE_DAY = dt.timedelta(days=1)


@runtime_checkable
class Calendar(Protocol):
    def add(self, day: dt.date, business_days: int) -> dt.date: ...

    def count_between(self, start: dt.date, end: dt.date) -> int: ...


def as_calendar(calendar: Calendar | Sequence[dt.date] | None) -> Calendar:
    if calendar is None:
        return BusinessCalendar()
    if isinstance(calendar, Calendar):
        return calendar
    return BusinessCalendar(calendar)


def age_of(first_seen: dt.date, today: dt.date, calendar: Calendar) -> int:
    return max(0, calendar.count_between(first_seen, today))


# ---------------------------------------------------------------- buckets


@dataclass(frozen=True, slots=True)
class Bucket:
    """Ages min_days..max_days inclusive; max_days None is open-ended."""

    label: str
    min_days: int
    max_days: int | None


@dataclass(frozen=True, slots=True)
class AgingConfig:
    """Buckets that cover every age from 0 up, contiguous, the last open-ended (checked on creation)."""

    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        if not self.buckets:
            raise ValueError("aging: at least one bucket is needed")
        expected = 0
        for i, bucket in enumerate(self.buckets):
            if bucket.min_days != expected:
                raise ValueError(
                    f"aging.bucket[{i}] ({bucket.label}): min {bucket.min_days}, expected {expected}"
                )
            last = i == len(self.buckets) - 1
            if bucket.max_days is None:
                if not last:
                    raise ValueError(
                        f"aging.bucket[{i}] ({bucket.label}): only the last bucket may be open-ended"
                    )
                break
            if bucket.max_days < bucket.min_days:
                raise ValueError(f"aging.bucket[{i}] ({bucket.label}): max below min")
            if last:
                raise ValueError(f"aging.bucket[{i}] ({bucket.label}): the last bucket must be open-ended")
            expected = bucket.max_days + 1

    def bucket_for(self, age: int) -> str:
        for bucket in self.buckets:
            if bucket.max_days is None or age <= bucket.max_days:
                return bucket.label
        raise AssertionError("unreachable: the last bucket is open-ended")


# ---------------------------------------------------------------- escalation


@dataclass(frozen=True, slots=True)
class EscalationConfig:
    """SLA in business days (per kind overrides) and amount thresholds per base currency ("*" for any)."""

    sla_business_days: int
    sla_by_kind: Mapping[str, int] = field(default_factory=dict)
    amount_thresholds: Mapping[str, Decimal] = field(default_factory=dict)

    def sla_for(self, kind: BreakKind) -> int:
        return self.sla_by_kind.get(kind.value, self.sla_business_days)

    def threshold_for(self, base_currency: str) -> Decimal | None:
        return self.amount_thresholds.get(base_currency, self.amount_thresholds.get("*"))


def escalation_reason(
    kind: BreakKind, age: int, base_currency: str, base_amount: Decimal | None, config: EscalationConfig
) -> str:
    """Why a break is escalated, or "" when it is not: it passed its SLA (age > SLA) or the amount threshold."""
    sla = config.sla_for(kind)
    if age > sla:
        return f"age {age} business days passed the SLA of {sla}"
    threshold = config.threshold_for(base_currency)
    if threshold is not None and base_amount is not None and abs(base_amount) >= threshold:
        return f"|difference| {abs(base_amount):,} {base_currency} reached the threshold of {threshold:,}"
    return ""


def bucket_counts(breaks: Iterable[Break], aging: AgingConfig) -> tuple[BucketCount, ...]:
    """Open breaks per bucket (every bucket listed, in order) per base currency: BucketCount per (bucket, currency)."""
    counts: dict[tuple[str, str], tuple[int, Decimal]] = {}
    currencies: set[str] = set()
    for b in breaks:
        if not b.status.is_open:
            continue
        currencies.add(b.base_currency)
        key = (b.aging_bucket, b.base_currency)
        count, amount = counts.get(key, (0, Decimal(0)))
        counts[key] = (count + 1, amount + abs(b.base_amount_difference or Decimal(0)))
    out: list[BucketCount] = []
    for bucket in aging.buckets:
        for currency in sorted(currencies) or [""]:
            count, amount = counts.get((bucket.label, currency), (0, Decimal(0)))
            out.append(BucketCount(bucket.label, count, amount, currency))
    return tuple(out)
