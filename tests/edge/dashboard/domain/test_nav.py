"""A mandate's NAV series: the history, the points WatchNav adds, the drawdown and the charts' data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.edge.dashboard.domain.nav import (
    NavPoint,
    NavSeries,
    chart_data,
    drawdown,
    figures,
    growth_of_100,
)

D1, D2, D3, D4 = (dt.date(2020, 1, d) for d in (2, 3, 6, 7))


def test_drawdown_is_the_fall_from_the_running_peak() -> None:
    # 100 -> 110 (new high) -> 99 (99/110 - 1 = -10 %) -> 121 (new high) -> 108.9 (-10 %)
    values = [Decimal(v) for v in ("100", "110", "99", "121", "108.9")]
    assert drawdown(values) == [0, 0, Decimal("-0.1"), 0, Decimal("-0.1")]
    assert drawdown([]) == []
    assert drawdown([Decimal(0), Decimal(1)]) == [0, 0]  # no division by a zero peak


def test_growth_of_100() -> None:
    assert growth_of_100([0.0, 0.05, -0.5, None, float("inf")]) == [100.0, 105.0, 50.0, None, None]


def history() -> NavSeries:
    series = NavSeries("BAL-USD", "USD")
    series.load(
        [
            NavPoint(D1, Decimal("1000000.00"), Decimal("100.000000"), None, None, 0.0, 0.0),
            NavPoint(D2, Decimal("1010000.00"), Decimal("101.000000"), 0.01, 0.02, 0.01, 0.02),
        ]
    )
    return series


def test_a_watched_point_is_chain_linked_onto_the_day_before() -> None:
    series = history()
    series.add(
        NavPoint(
            D3, Decimal("999900.00"), Decimal("99.990000"), daily_return=-0.01, benchmark_daily_return=0.0
        )
    )
    last = series.latest()
    assert last is not None and last.date == D3
    # (1 + 0.01) x (1 - 0.01) - 1 = -0.0001; the benchmark (1 + 0.02) x 1 - 1 = 0.02
    assert last.cumulative_return == pytest.approx(-0.0001)
    assert last.benchmark_cumulative_return == pytest.approx(0.02)
    # No daily return (reporting sends none): the cumulative stays where it was.
    series.add(NavPoint(D4, Decimal("999900.00"), Decimal("99.990000")))
    assert series.points()[-1].cumulative_return == pytest.approx(-0.0001)


def test_the_first_watched_nav_repeats_the_history_s_last_and_keeps_its_figures() -> None:
    series = history()
    series.add(NavPoint(D2, Decimal("1010000.00"), Decimal("101.000000"), 0.01, 0.02, return_ytd=0.01))
    assert len(series) == 2
    last = series.latest()
    assert last is not None
    assert (last.cumulative_return, last.benchmark_cumulative_return, last.return_ytd) == (0.01, 0.02, 0.01)


def test_a_series_that_starts_with_a_watched_point_starts_at_zero() -> None:
    series = NavSeries("EQ-JPY", "JPY")
    series.add(NavPoint(D1, Decimal("1000000"), Decimal("100")))
    assert series.points()[0].cumulative_return == 0.0
    assert series.points()[0].benchmark_cumulative_return == 0.0


def test_figures_of_a_mandate() -> None:
    series = history()
    series.add(
        NavPoint(
            D3, Decimal("999900.00"), Decimal("99.990000"), -0.01, 0.0, provisional=True, return_ytd=-0.0001
        )
    )
    f = figures(series, "Hudson Balanced 60/40")
    assert (f.mandate_id, f.name, f.base_currency, f.date, f.days) == (
        "BAL-USD",
        "Hudson Balanced 60/40",
        "USD",
        D3,
        3,
    )
    assert (f.nav, f.nav_per_unit, f.provisional) == (Decimal("999900.00"), Decimal("99.990000"), True)
    assert (f.day_return, f.benchmark_day_return, f.return_ytd) == (-0.01, 0.0, -0.0001)
    # 99.99 / 101 - 1 = -0.01 exactly (a Decimal, from the NAVs per unit)
    assert f.drawdown == Decimal("-0.01")
    assert f.max_drawdown == Decimal("-0.01")
    assert f.active_since_inception == pytest.approx(-0.0201)


def test_figures_of_an_empty_series() -> None:
    f = figures(NavSeries("X", "USD"), return_ytd=0.5)
    assert (f.date, f.nav, f.drawdown, f.max_drawdown, f.days, f.return_ytd) == (
        None,
        None,
        None,
        None,
        0,
        0.5,
    )
    assert f.active_since_inception is None


def test_chart_data_in_unix_seconds_and_percent() -> None:
    data = chart_data(history())
    assert data["x"] == [1577923200, 1578009600]  # 2020-01-02 and 2020-01-03, 00:00 UTC
    assert data["portfolio"] == [100.0, 101.0]
    assert data["benchmark"] == [100.0, 102.0]
    assert data["drawdown_pct"] == [0.0, 0.0]
    assert (data["mandate_id"], data["base_currency"]) == ("BAL-USD", "USD")
