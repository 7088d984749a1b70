"""Risk measures against published worked examples (cited) and figures worked by hand."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.reporting.domain.risk import (
    RiskError,
    beta,
    downside_deviation,
    information_ratio,
    max_drawdown,
    max_drawdown_of_values,
    sharpe,
    sortino,
    stdev,
    tracking_error,
    volatility,
)


def test_sortino_counts_every_period_in_the_downside_deviation() -> None:
    # The example of Rollinger & Hoffman, "Sortino: A 'Sharper' Ratio" (Red Rock Capital), whose
    # point is that periods above the target count as zero shortfalls: annual returns 17, 15, 23,
    # -5, 12, 9, 13, -4 %, target 0. The paper is in the stored sources but its example's passage
    # is not, so the figures are worked here by hand: mean 10 %, downside deviation
    # sqrt((5^2 + 4^2) / 8) % = 2.2638 %, Sortino 10 / 2.2638 = 4.417 (annual returns: 1 a year).
    returns = [0.17, 0.15, 0.23, -0.05, 0.12, 0.09, 0.13, -0.04]
    assert downside_deviation(returns) == pytest.approx(0.022638, abs=1e-6)
    assert sortino(returns, periods_per_year=1) == pytest.approx(4.417, abs=1e-3)


def test_max_drawdown_of_published_examples() -> None:
    # "Assume an investment portfolio has an initial value of $500,000. The portfolio increases to
    # $750,000 over a period of time, before plunging to $400,000 in a ferocious bear market. It
    # then rebounds to $600,000, before dropping again to $350,000. Subsequently, it more than
    # doubles to $800,000. The maximum drawdown in this case is ($350,000-$750,000)/$750,000=
    # -53.33%" (trading.live, "How Should Maximum Drawdown be Used?", the Investopedia example).
    values = [500_000, 750_000, 400_000, 600_000, 350_000, 800_000]
    assert max_drawdown_of_values(values) == pytest.approx(-0.533333, abs=1e-6)
    # YCharts, "Max Drawdown": "$100,000, increases in value to $150,000, decreases to $90,000,
    # increases to $120,000, then decreases to $80,000, then increases to $200,000, the max
    # drawdown is ($150,000-$80,000)/$150,000 = 46.67%".
    assert max_drawdown_of_values([100_000, 150_000, 90_000, 120_000, 80_000, 200_000]) == pytest.approx(
        -0.466667, abs=1e-6
    )


def test_the_drawdown_counts_the_first_day() -> None:
    # A 10 % fall on the first day, then +5 %: from 1.00 to 0.90 to 0.945, a 10 % drawdown from the
    # start; a peak taken after the first return would see none.
    assert max_drawdown([-0.10, 0.05]) == pytest.approx(-0.10)
    assert max_drawdown([0.02, 0.03]) == 0.0


def test_volatility_and_sharpe_worked_by_hand() -> None:
    # Daily returns 1 %, -1 %, 2 %, 0: mean 0.5 %, squared deviations 0.25, 2.25, 2.25, 0.25 (in
    # 1e-4), sample variance 5e-4 / 3, deviation 1.290994 %, times sqrt(252) = 20.4939 %.
    returns = [0.01, -0.01, 0.02, 0.0]
    assert volatility(returns) == pytest.approx(0.204939, abs=1e-6)
    # Risk-free 0.1 % a day: excess mean 0.4 %, the same deviation: 0.004 / 0.01290994 x sqrt(252).
    assert sharpe(returns, 0.001) == pytest.approx(0.004 / 0.01290994 * math.sqrt(252), rel=1e-6)
    assert sharpe(returns, [0.001] * 4) == sharpe(returns, 0.001)


def test_tracking_error_information_ratio_and_beta_worked_by_hand() -> None:
    benchmark = [0.01, -0.02, 0.015, 0.005]
    doubled = [2 * b for b in benchmark]
    assert beta(doubled, benchmark) == pytest.approx(2.0)
    # Active returns 0.1 % every day but one of 0.3 %: mean 0.15 %, sample deviation 0.1 %:
    # tracking error 0.1 % x sqrt(252) = 1.5875 %, information ratio 0.15 % x 252 / 1.5875 % = 23.81.
    portfolio = [b + a for b, a in zip(benchmark, [0.001, 0.001, 0.001, 0.003], strict=True)]
    assert tracking_error(portfolio, benchmark) == pytest.approx(0.001 * math.sqrt(252), rel=1e-9)
    assert information_ratio(portfolio, benchmark) == pytest.approx(
        0.0015 * 252 / (0.001 * math.sqrt(252)), rel=1e-9
    )


def test_undefined_measures_say_why() -> None:
    with pytest.raises(RiskError, match="at least two returns"):
        volatility([0.01])
    with pytest.raises(RiskError, match="do not vary"):
        information_ratio([0.01, 0.02], [0.0, 0.01])
    with pytest.raises(RiskError, match="no return fell below"):
        sortino([0.01, 0.02])
    with pytest.raises(RiskError, match="3 portfolio returns but 2 benchmark returns"):
        beta([0.0, 0.1, 0.2], [0.0, 0.1])


@given(
    st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=300),
    st.sampled_from([1e-12, 1e-6, 1.0, 1e6]),
    st.sampled_from([0.0, 0.05, 1e3]),
)
def test_the_standard_deviation_is_the_exact_one_to_the_last_places(
    values: list[float], scale: float, shift: float
) -> None:
    """stdev in floats against statistics.stdev over exact fractions, spread small or large beside the mean."""
    series = [shift + scale * v for v in values]
    exact = statistics.stdev(series)
    assert stdev(series) == pytest.approx(exact, rel=1e-15, abs=1e-300)
