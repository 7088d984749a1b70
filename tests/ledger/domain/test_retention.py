"""When the ledger closes a period: the pure rule of domain/retention.py (OPSUITE_LEDGER_KEEP_DAYS)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.calendar import BusinessCalendar
from services.common.settings import SettingsError, load_settings
from services.ledger.domain.retention import MAX_SPAN, MAX_STEP, Retention
from services.ledger.settings import LedgerSettings

WEEKDAYS = BusinessCalendar()
MONDAY = dt.date(2020, 3, 2)


def test_the_horizon_is_keep_days_business_days_before_the_latest_date() -> None:
    assert Retention(5).horizon(MONDAY) == dt.date(2020, 2, 24)  # a week of weekdays back
    assert Retention(1).horizon(MONDAY) == dt.date(2020, 2, 28)  # the Friday before
    assert Retention(1260).horizon(MONDAY) == WEEKDAYS.add(MONDAY, -1260)
    # Market's own calendar, where it is given, counts its holidays out.
    holiday = BusinessCalendar(holidays=[dt.date(2020, 2, 28)])
    assert Retention(1, holiday).horizon(MONDAY) == dt.date(2020, 2, 27)


def test_the_step_is_a_quarter_of_what_is_kept_at_most_a_month() -> None:
    assert [Retention(days).step for days in (1, 3, 4, 20, 84, 85, 1260)] == [1, 1, 1, 5, 21, 21, MAX_STEP]


def test_nothing_closes_with_keep_days_0_or_an_empty_ledger() -> None:
    assert Retention(0).next_close(MONDAY, None, dt.date(2000, 1, 3)) is None
    assert Retention(0).next_close(MONDAY, dt.date(2019, 1, 2), None) is None
    assert Retention(20).next_close(MONDAY, None, None) is None
    with pytest.raises(ValueError, match="0 or more"):
        Retention(-1)


def test_a_reader_not_heard_from_holds_every_close_without_overflowing() -> None:
    # followers_date answers dt.date.min ("hold everything") until every follower has acknowledged;
    # counting 1,260 business days back from it overflowed (OverflowError in the ledger's consumer,
    # restarted 39 times a year in bench/README.md's suite-on-disk run).
    assert Retention(1260).next_close(dt.date.min, None, dt.date(2020, 1, 2)) is None
    assert Retention(1260).next_close(dt.date.min, dt.date(2020, 1, 2), None) is None
    assert Retention(5).next_close(dt.date(2020, 1, 2), dt.date(2020, 1, 2), None) is None


def test_closes_come_in_steps_and_keep_between_keep_days_and_keep_days_plus_a_step() -> None:
    """A ledger followed for two years, day by day: every close moves the horizon a whole step, and
    what is kept (the horizon to the latest date) always spans keep_days to keep_days + step - 1
    business days before the latest date once the first close ran."""
    retention = Retention(20)
    first = MONDAY
    closed: dt.date | None = None
    closes = []
    for n in range(504):
        latest = WEEKDAYS.add(first, n)
        horizon = retention.next_close(latest, closed, first)
        if horizon is not None:
            assert horizon == retention.horizon(latest)
            if closed is not None:
                assert WEEKDAYS.count_between(closed, horizon) == retention.step
            closes.append(horizon)
            closed = horizon
        if closed is not None:
            kept = WEEKDAYS.count_between(closed, latest)
            assert retention.keep_days <= kept < retention.keep_days + retention.step
    assert closes[0] == WEEKDAYS.add(first, retention.step)  # the first close waits for a whole step
    assert len(closes) == (504 - 1 - 20) // retention.step


def test_one_close_deletes_at_most_max_span_business_days() -> None:
    """A store that has never closed (an upgrade of a long run) is brought to its horizon in bounded
    closes, each deleting at most MAX_SPAN business days."""
    retention = Retention(20)
    first = dt.date(2010, 1, 4)
    latest = WEEKDAYS.add(first, 1000)
    closed: dt.date | None = None
    horizons = []
    while (horizon := retention.next_close(latest, closed, first)) is not None:
        assert WEEKDAYS.count_between(closed or first, horizon) <= MAX_SPAN
        horizons.append(horizon)
        closed = horizon
    assert closed == retention.horizon(latest)
    assert len(horizons) == -(-980 // MAX_SPAN)


def test_the_setting_defaults_to_about_five_years_and_says_what_it_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPSUITE_LEDGER_KEEP_DAYS", raising=False)
    assert load_settings(LedgerSettings).ledger_keep_days == 1260
    monkeypatch.setenv("OPSUITE_LEDGER_KEEP_DAYS", "0")
    assert load_settings(LedgerSettings).ledger_keep_days == 0
    monkeypatch.setenv("OPSUITE_LEDGER_KEEP_DAYS", "five years")
    with pytest.raises(SettingsError) as refused:
        load_settings(LedgerSettings)
    assert str(refused.value).startswith(
        "OPSUITE_LEDGER_KEEP_DAYS='five years': give a whole number 0 or more: the business days of"
        " journal detail the ledger keeps before its latest date"
    )
