"""Period figures from a daily history, worked by hand."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from services.reporting.domain.periods import DailyPoint, Period, figures

D = Decimal
# Inception on Thu 2020-12-30 with 1,000 subscribed; NAV 1,010 (+1 %); then 1,000 subscribed more on
# 2021-01-04 (the figures are worked on the lines below).
HISTORY = [
    DailyPoint(dt.date(2020, 12, 30), D("1010.00"), D("1000"), 0.01, None),
    DailyPoint(dt.date(2020, 12, 31), D("1020.10"), D("0"), 0.01, 0.02),
    # 1,020.10 x 1.02 = 1,040.502 before a 1,000 subscription dealt at the close: NAV 2,040.502.
    DailyPoint(dt.date(2021, 1, 4), D("2040.502"), D("1000"), 0.02, 0.01, 0.0001),
    DailyPoint(dt.date(2021, 1, 5), D("2020.09698"), D("0"), -0.01, -0.02, 0.0001),
]


def test_year_to_date_starts_at_the_last_day_end_of_the_previous_year() -> None:
    ytd = figures(Period.YEAR_TO_DATE, HISTORY)
    assert ytd.start == dt.date(2020, 12, 31)
    assert ytd.portfolio_return == pytest.approx(1.02 * 0.99 - 1)
    assert ytd.benchmark_return == pytest.approx(1.01 * 0.98 - 1)
    assert ytd.net_flows == D("1000")
    # P&L: 2,020.09698 - 1,020.10 - 1,000 = -0.00302.
    assert ytd.pnl == D("-0.00302")
    assert ytd.annualised_return is None  # never under a year


def test_since_inception_counts_the_first_day_and_the_first_subscription() -> None:
    si = figures(Period.SINCE_INCEPTION, HISTORY)
    assert si.start == dt.date(2020, 12, 30)
    assert si.portfolio_return == pytest.approx(1.01 * 1.01 * 1.02 * 0.99 - 1)
    assert si.net_flows == D("2000") and si.pnl == D("20.09698")
    # The benchmark has no first day: linked over the three days it has.
    assert si.benchmark_return == pytest.approx(1.02 * 1.01 * 0.98 - 1)
    active = [0.01 - 0.02, 0.02 - 0.01, -0.01 + 0.02]
    mean = sum(active) / 3
    expected = math.sqrt(sum((a - mean) ** 2 for a in active) / 2) * math.sqrt(252)
    assert si.tracking_error == pytest.approx(expected)


def test_one_day_is_the_last_days_return_and_month_to_date_starts_in_the_month() -> None:
    day = figures(Period.DAY, HISTORY)
    assert (day.start, day.volatility) == (dt.date(2021, 1, 4), None)
    assert day.portfolio_return == pytest.approx(-0.01)
    assert figures(Period.MONTH_TO_DATE, HISTORY).start == dt.date(2020, 12, 31)


def test_a_period_ending_on_the_first_day_has_only_that_days_return() -> None:
    first = figures(Period.DAY, HISTORY, end_index=0)
    assert first.portfolio_return == pytest.approx(0.01) and first.pnl == D("10.00")


def test_risk_over_a_period_uses_each_days_risk_free_return() -> None:
    ytd = figures(Period.YEAR_TO_DATE, HISTORY)
    # Excess returns 0.0199 and -0.0101: mean 0.0049, sample deviation sqrt(2 x 0.015^2 / 1).
    assert ytd.sharpe == pytest.approx(0.0049 / math.sqrt(2 * 0.015**2) * math.sqrt(252))
    # Sortino (target 0): mean 0.005 over sqrt((0 + 0.01^2) / 2).
    assert ytd.sortino == pytest.approx(0.005 / math.sqrt(0.01**2 / 2) * math.sqrt(252))
    # From 1 to 1.02, then down 1 %: the deepest fall is -1 %.
    assert ytd.max_drawdown == pytest.approx(-0.01)
    # Beta of (0.02, -0.01) on (0.01, -0.02): covariance 0.00045 over variance 0.00045.
    assert ytd.beta == pytest.approx(1.0)


def test_a_measure_the_days_cannot_give_is_absent_not_zero() -> None:
    day = figures(Period.DAY, HISTORY)
    assert (day.sharpe, day.beta, day.information_ratio) == (None, None, None)
    assert day.max_drawdown == pytest.approx(-0.01)
