"""Risk measures of a series of periodic returns (analytics: floats).

Conventions (docs of the reporting issue, the same wherever the suite reports risk):

- Volatility is the sample standard deviation of the periodic returns, annualised by the square root
  of the periods in a year (252 for daily returns).
- Sharpe: the mean excess return over the risk-free return of each period, over the sample
  standard deviation of those excess returns, annualised by the same square root.
- Sortino: the mean return above the minimum acceptable return (0 unless given), over the downside
  deviation: the root of the mean of squared shortfalls below it, every period counted (a period at
  or above the target counts as a zero shortfall, as Sortino defines it), annualised likewise.
- Maximum drawdown counts the first day: the series starts at its value before the first return,
  so a fall on the first day is a drawdown from the start (some libraries start the peak after the
  first return and miss it).
- Tracking error: the annualised sample standard deviation of the active returns (portfolio less
  benchmark, period by period); information ratio: their annualised mean over the tracking error;
  beta: the sample covariance of the portfolio's returns with the benchmark's over the benchmark's
  sample variance.

A measure that is undefined for the series (fewer than two returns, no dispersion) raises RiskError
saying why, rather than returning infinity or NaN.

Standard deviations are computed in floats to within a few units in the last place of the exact one
(stdev below), about four times as fast as statistics.stdev's exact fractions: a report computes
two dozen of them over up to years of daily returns.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence

TRADING_DAYS = 252


class RiskError(ValueError):
    """A measure the series cannot give, in words."""


def stdev(values: Sequence[float]) -> float:
    """The sample standard deviation of at least two values, within 1e-15 (relative) of the exact one
    (statistics.stdev): the corrected two-pass algorithm, its sums exactly rounded (math.fsum). The
    deviations from the rounded mean are summed squared, less their sum squared over n, which is what
    the mean's rounding added."""
    n = len(values)
    try:
        mean = math.fsum(values) / n
    except (ValueError, OverflowError):  # fsum refuses inf - inf, and sums past the float range
        mean = math.nan
    if not math.isfinite(mean):
        return statistics.stdev(values)  # infinities, NaN and huge values, as statistics treats them
    deviations = [v - mean for v in values]
    # Scaled by a power of two (exactly) to about one, so that no square underflows or overflows.
    exponent = math.frexp(max(map(abs, deviations)))[1]
    scaled = [math.ldexp(d, -exponent) for d in deviations]
    squares = math.fsum([d * d for d in scaled]) - math.fsum(scaled) ** 2 / n
    return math.ldexp(math.sqrt(max(squares, 0.0) / (n - 1)), exponent)


def _at_least_two(returns: Sequence[float], measure: str) -> None:
    if len(returns) < 2:
        raise RiskError(f"{measure} needs at least two returns, not {len(returns)}")


def _dispersion(values: Sequence[float], measure: str) -> float:
    _at_least_two(values, measure)
    spread = stdev(values)
    if spread == 0:
        raise RiskError(f"{measure} is undefined: the returns do not vary")
    return spread


def volatility(returns: Sequence[float], periods_per_year: int = TRADING_DAYS) -> float:
    _at_least_two(returns, "volatility")
    return stdev(returns) * math.sqrt(periods_per_year)


def sharpe(
    returns: Sequence[float], risk_free: Sequence[float] | float = 0.0, periods_per_year: int = TRADING_DAYS
) -> float:
    """risk_free: the risk-free return of each period (or one for all of them)."""
    free = [risk_free] * len(returns) if isinstance(risk_free, (int, float)) else list(risk_free)
    if len(free) != len(returns):
        raise RiskError(f"{len(returns)} returns but {len(free)} risk-free returns")
    excess = [r - f for r, f in zip(returns, free, strict=True)]
    return statistics.fmean(excess) / _dispersion(excess, "Sharpe") * math.sqrt(periods_per_year)


def downside_deviation(returns: Sequence[float], minimum_acceptable: float = 0.0) -> float:
    if not returns:
        raise RiskError("the downside deviation needs returns")
    return math.sqrt(sum(min(0.0, r - minimum_acceptable) ** 2 for r in returns) / len(returns))


def sortino(
    returns: Sequence[float], minimum_acceptable: float = 0.0, periods_per_year: int = TRADING_DAYS
) -> float:
    deviation = downside_deviation(returns, minimum_acceptable)
    if deviation == 0:
        raise RiskError("Sortino is undefined: no return fell below the minimum acceptable return")
    return (statistics.fmean(returns) - minimum_acceptable) / deviation * math.sqrt(periods_per_year)


def max_drawdown(returns: Sequence[float]) -> float:
    """The deepest fall from a running peak, as a fraction (negative, or 0.0 with no fall), of the
    series growing from 1 before the first return."""
    value = peak = 1.0
    deepest = 0.0
    for r in returns:
        value *= 1.0 + r
        peak = max(peak, value)
        deepest = min(deepest, value / peak - 1.0)
    return deepest


def max_drawdown_of_values(values: Sequence[float]) -> float:
    """The same from a series of values (a NAV history): the first value is the first peak."""
    if not values:
        raise RiskError("a drawdown needs values")
    if any(v <= 0 for v in values):
        raise RiskError("values must be positive for a drawdown")
    return max_drawdown([later / earlier - 1.0 for earlier, later in itertools.pairwise(values)])


def _active(portfolio: Sequence[float], benchmark: Sequence[float]) -> list[float]:
    if len(portfolio) != len(benchmark):
        raise RiskError(f"{len(portfolio)} portfolio returns but {len(benchmark)} benchmark returns")
    return [p - b for p, b in zip(portfolio, benchmark, strict=True)]


def tracking_error(
    portfolio: Sequence[float], benchmark: Sequence[float], periods_per_year: int = TRADING_DAYS
) -> float:
    active = _active(portfolio, benchmark)
    _at_least_two(active, "the tracking error")
    return stdev(active) * math.sqrt(periods_per_year)


def information_ratio(
    portfolio: Sequence[float], benchmark: Sequence[float], periods_per_year: int = TRADING_DAYS
) -> float:
    active = _active(portfolio, benchmark)
    spread = _dispersion(active, "the information ratio")
    return statistics.fmean(active) * periods_per_year / (spread * math.sqrt(periods_per_year))


def beta(portfolio: Sequence[float], benchmark: Sequence[float]) -> float:
    _active(portfolio, benchmark)  # the lengths agree
    variance = _dispersion(benchmark, "beta") ** 2
    return statistics.covariance(portfolio, benchmark) / variance
