"""The synthetic extension past the end of the data: deterministic, seamless at the boundary, drawn
from many real periods, each block among those of the synthetic regime with no regime absorbing the
years, with the real history's volatilities, within the history's ranges, never from
carried-forward days, in bounded memory."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import statistics
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest

from services.market.fred import load_snapshot
from services.market.sim.macro import MacroDay, MacroHistory, build_history
from services.market.sim.macro.alignment import sample_std
from services.market.sim.macro.bootstrap import BLOCK_DAYS, ExtensionBasis, extension_basis
from services.market.sim.macro.extension import SyntheticMacro, extend
from services.market.sim.macro.guards import reflect, reflect_decimal, reflect_ratio
from services.market.sim.macro.history import replayed_regimes
from services.market.sim.macro.market_days import nyse_holidays
from services.market.sim.macro.regime import EQUITY_HALF_LIFE_DAYS, REGIME_EQUITY, REGIMES
from services.market.sim.series import SeriesSet

FIRST, LAST = dt.date(1999, 1, 4), dt.date(2021, 1, 4)
SEED = 7
TWENTY_YEARS = 5040  # business days
TENOR_IDS = {"3M": "DGS3MO", "2Y": "DGS2", "5Y": "DGS5", "10Y": "DGS10", "30Y": "DGS30"}
FX_IDS = {"EURUSD": "DEXUSEU", "GBPUSD": "DEXUSUK", "USDJPY": "DEXJPUS"}


@pytest.fixture(scope="module")
def series() -> SeriesSet:
    return load_snapshot()


@pytest.fixture(scope="module")
def basis(series: SeriesSet) -> ExtensionBasis:
    return extension_basis(series)


@pytest.fixture(scope="module")
def history(series: SeriesSet) -> MacroHistory:
    return build_history(series, FIRST)


@pytest.fixture(scope="module")
def twenty_years(basis: ExtensionBasis) -> list[MacroDay]:
    return list(itertools.islice(SyntheticMacro(basis, SEED), TWENTY_YEARS))


def _observed(series: SeriesSet, series_id: str) -> dict[dt.date, float]:
    """A series' real observations up to the data's last business day."""
    return {d: v for d, v in series.observations[series_id].items() if v is not None and d <= LAST}


def _fields(day: MacroDay) -> list[tuple[str, Any]]:
    return [
        (f.name, dict(value) if isinstance(value, MappingProxyType) else value)
        for f in dataclasses.fields(day)
        for value in [getattr(day, f.name)]
    ]


# ------------------------------------------------------------------ determinism


def test_the_same_seed_gives_the_same_days_and_another_seed_other_days(basis: ExtensionBasis) -> None:
    first = list(itertools.islice(SyntheticMacro(basis, SEED), 500))
    again = list(itertools.islice(SyntheticMacro(basis, SEED), 500))
    other = list(itertools.islice(SyntheticMacro(basis, SEED + 1), 500))
    for day, same in zip(first, again, strict=True):
        assert _fields(day) == _fields(same)
    assert [d.date for d in other] == [d.date for d in first]  # one calendar, whatever the seed
    assert [d.origin for d in other] != [d.origin for d in first]
    assert sum(a.yields_pct != b.yields_pct for a, b in zip(first, other, strict=True)) > 400


def test_two_thousand_days_from_fresh_generators_are_identical(series: SeriesSet) -> None:
    first = [_fields(day) for day in itertools.islice(extend(series, SEED), 2000)]
    again = [_fields(day) for day in itertools.islice(extend(series, SEED), 2000)]
    assert first == again


# ------------------------------------------------------------------ the boundary


def test_the_first_day_is_the_next_nyse_business_day_and_holidays_are_skipped(basis: ExtensionBasis) -> None:
    days = [day.date for day in itertools.islice(SyntheticMacro(basis, SEED), 2000)]
    assert basis.end.last.date == LAST
    assert days[0] == dt.date(2021, 1, 5)
    for holiday in (dt.date(2021, 1, 18), dt.date(2021, 4, 2), dt.date(2021, 7, 5), dt.date(2022, 6, 20)):
        assert holiday not in days  # MLK day, Good Friday, Independence Day and Juneteenth observed
    assert dt.date(2021, 1, 19) in days and dt.date(2021, 12, 31) in days  # 2022-01-01 is not moved
    # Consecutive: every date between two synthetic days is a weekend or an NYSE holiday.
    for before, after in itertools.pairwise([LAST, *days]):
        assert before < after
        between = [before + dt.timedelta(days=k) for k in range(1, (after - before).days)]
        assert all(d.weekday() >= 5 or d in nyse_holidays(d.year) for d in between)
        assert after.weekday() < 5 and after not in nyse_holidays(after.year)


def test_day_one_moves_from_the_last_real_levels_by_at_most_one_real_days_change(
    series: SeriesSet, basis: ExtensionBasis
) -> None:
    last = basis.end.last
    for seed in range(20):  # twenty different first draws
        day_one = next(SyntheticMacro(basis, seed))
        assert day_one.synthetic and day_one.origin is not None
        for tenor, series_id in TENOR_IDS.items():
            biggest = _largest_daily_change(_observed(series, series_id))
            assert abs(day_one.yields_pct[tenor] - last.yields_pct[tenor]) <= biggest + 0.01
        for pair, series_id in FX_IDS.items():
            biggest = _largest_daily_change({d: math.log(v) for d, v in _observed(series, series_id).items()})
            assert abs(math.log(day_one.fx[pair] / last.fx[pair])) <= biggest + 1e-3
        oil = {d: math.log(v) for d, v in _observed(series, "DCOILWTICO").items() if v > 0}
        assert abs(math.log(day_one.oil_usd / last.oil_usd)) <= _largest_daily_change(oil) + 1e-3
        biggest_breakeven = _largest_daily_change(_observed(series, "T10YIE"))
        assert abs(day_one.breakeven_pct - last.breakeven_pct) <= biggest_breakeven + 0.01
        biggest_policy = _largest_daily_change(_observed(series, "DFF"))
        assert abs(day_one.fed_funds_pct - last.fed_funds_pct) <= biggest_policy
        # The same month as the last real day: the monthly series have not moved.
        assert (day_one.unemployment_pct, day_one.cpi_yoy_pct) == (last.unemployment_pct, last.cpi_yoy_pct)


def _largest_daily_change(values: Mapping[dt.date, float]) -> float:
    ordered = [values[d] for d in sorted(values)]
    return max(abs(b - a) for a, b in itertools.pairwise(ordered))


def test_day_one_carries_on_the_real_trailing_windows_and_the_regime_smoothing(
    history: MacroHistory, basis: ExtensionBasis
) -> None:
    real = history.days
    last = real[-1]
    assert basis.end.last == last  # the replay to the end is the history's own last day
    assert last.signals is not None
    day_one = next(SyntheticMacro(basis, SEED))
    assert day_one.signals is not None
    # Rate volatility: the last 20 real 10Y changes and day one's.
    window = [d.rate_change_bp for d in real[-20:]] + [day_one.rate_change_bp]
    assert day_one.rate_change_bp == pytest.approx((day_one.yields_pct["10Y"] - last.yields_pct["10Y"]) * 100)
    assert day_one.signals.rate_vol_bp == pytest.approx(sample_std(window), abs=1e-12)
    # Unemployment against 12 months earlier: still the real comparison.
    assert day_one.signals.unemployment_change_12m_pts == last.signals.unemployment_change_12m_pts
    # Fed funds: the median of the last 9 real prints and day one's, against the median on the last
    # real business day at least 91 days before day one.
    prints = deque((d.fed_funds_pct for d in real[-9:]), maxlen=10)
    prints.append(day_one.fed_funds_pct)
    lookback = day_one.date - dt.timedelta(days=91)
    then = max(i for i, d in enumerate(real) if d.date <= lookback)
    then_median = statistics.median(d.fed_funds_pct for d in real[then - 9 : then + 1])
    assert day_one.signals.fed_funds_change_3m_pts == pytest.approx(statistics.median(prints) - then_median)
    # Equity drift and vol: one smoothing step from the last real day's towards day one's regime.
    alpha = 1.0 - 0.5 ** (1.0 / EQUITY_HALF_LIFE_DAYS)
    target_drift, target_vol = REGIME_EQUITY[day_one.regime]
    assert day_one.equity_vol_annual == pytest.approx(
        last.equity_vol_annual + alpha * (target_vol - last.equity_vol_annual)
    )
    assert day_one.equity_drift_annual == pytest.approx(
        last.equity_drift_annual + alpha * (target_drift - last.equity_drift_annual)
    )


def test_the_regimes_the_blocks_are_drawn_by_are_the_historys_own(
    series: SeriesSet, history: MacroHistory
) -> None:
    """extension_basis replays the regimes one day at a time instead of keeping a MacroDay for each
    (memory, on the day the extension is built): the same regimes, day for day."""
    assert history.days[0].date == FIRST  # the data's first business day
    assert replayed_regimes(series) == [day.regime for day in history.days]


def test_real_days_say_they_are_real(history: MacroHistory) -> None:
    assert all(not day.synthetic and day.origin is None for day in history.days)


# ------------------------------------------------------------------ not a repeat


def test_blocks_come_from_many_real_periods_in_real_order(basis: ExtensionBasis) -> None:
    days = list(itertools.islice(SyntheticMacro(basis, SEED), 2000))
    origins = [day.origin for day in days]
    assert all(origin is not None for origin in origins)
    blocks = [days[i : i + BLOCK_DAYS] for i in range(0, len(days), BLOCK_DAYS)]
    business = sorted(_observed(load_snapshot(), "DGS10"))
    for block in blocks:
        first = block[0].origin
        assert first is not None
        assert all(day.origin is not None and day.origin.block_first == first.block_first for day in block)
        # A block replays BLOCK_DAYS consecutive real business days, in order.
        start = business.index(first.block_first)
        assert [day.origin.replayed for day in block if day.origin] == business[start : start + BLOCK_DAYS]
        assert first.block_last == business[start + BLOCK_DAYS - 1]
    years = {block[0].origin.block_first.year for block in blocks if block[0].origin}
    assert len(years) > 10, sorted(years)


def test_the_path_is_not_a_shifted_copy_of_the_last_real_year(
    history: MacroHistory, basis: ExtensionBasis
) -> None:
    last_year = [d for d in history.days if d.date > LAST - dt.timedelta(days=365)]
    real_changes = [d.rate_change_bp for d in last_year]
    synthetic = list(itertools.islice(SyntheticMacro(basis, SEED), len(last_year)))
    changes = [d.rate_change_bp for d in synthetic]
    for shift in range(len(real_changes)):
        rotated = real_changes[shift:] + real_changes[:shift]
        assert sum(a == pytest.approx(b) for a, b in zip(changes, rotated, strict=True)) < len(changes) / 2
    # Most of the last real year cannot be drawn at all (oil ended in March 2020), and the rest is
    # drawn about as often as any other stretch of the eligible 17 years.
    longer = list(itertools.islice(SyntheticMacro(basis, SEED), 2000))
    in_last_year = sum(1 for d in longer if d.origin and d.origin.replayed >= last_year[0].date)
    assert in_last_year < len(longer) / 10


# ------------------------------------------------------------------ statistics


def _vol(changes: list[float]) -> float:
    return statistics.stdev(changes)


def test_volatilities_per_regime_are_within_the_real_historys(
    series: SeriesSet, history: MacroHistory, twenty_years: list[MacroDay]
) -> None:
    """Criterion, over 20 synthetic years, for each regime with at least 100 synthetic days:
    - the std of daily 10Y changes lies within the range of the stds of the real calendar years in
      that regime (years with at least 20 days of it), widened by 15% at each end. The regime rule
      reads rate volatility, so a regime must carry the rate volatility its real years had. The
      15%: a rare regime's synthetic days are two or three episodes, as variable as one real year,
      and easing and crisis had only 4 and 5 real years, too few to show every value a year can take
      (over seeds 1 to 40 the widest miss of the bare range was 9%);
    - the std of daily EURUSD and USDJPY log returns lies within the range of the real calendar
      years' (all days). The rule does not read FX, so a regime does not set FX volatility, but
      every regime's FX must move as some real year's did.
    And FX moves more on days whose rate volatility is high (>= 8.5 bp/day, the stress threshold)
    than on the others, as in the real data: the draw is joint, so FX turbulence comes with the
    rate turbulence of the same real days (drawing each series on its own days would lose it; over
    seeds 1 to 40 the ratio was at least 1.18).
    """
    real_10y: dict[str, list[float]] = defaultdict(list)
    by_year_regime: dict[tuple[int, str], list[float]] = defaultdict(list)
    for day in history.days[1:]:
        by_year_regime[(day.date.year, day.regime)].append(day.rate_change_bp)
    for (_, regime), changes in by_year_regime.items():
        if len(changes) >= 20:
            real_10y[regime].append(_vol(changes))

    synthetic_10y: dict[str, list[float]] = defaultdict(list)
    synthetic_fx: dict[tuple[str, str], list[float]] = defaultdict(list)
    fx_by_rate_vol: dict[tuple[str, bool], list[float]] = defaultdict(list)
    for before, day in itertools.pairwise([history.days[-1], *twenty_years]):
        assert day.signals is not None and day.signals.rate_vol_bp is not None
        synthetic_10y[day.regime].append(day.rate_change_bp)
        for pair in ("EURUSD", "USDJPY"):
            log_return = math.log(day.fx[pair] / before.fx[pair])
            synthetic_fx[(pair, day.regime)].append(log_return)
            fx_by_rate_vol[(pair, day.signals.rate_vol_bp >= 8.5)].append(log_return)

    checked = 0
    for regime, changes in synthetic_10y.items():
        if len(changes) < 100:
            continue
        checked += 1
        low, high = min(real_10y[regime]), max(real_10y[regime])
        assert low / 1.15 <= _vol(changes) <= high * 1.15, (regime, _vol(changes), low, high)
    assert checked >= 4  # calm, tightening, easing, stress at least

    for pair in ("EURUSD", "USDJPY"):
        real_years = _real_fx_vols_by_year(series, history, pair)
        for (fx_pair, regime), returns in synthetic_fx.items():
            if fx_pair == pair and len(returns) >= 100:
                assert min(real_years) <= _vol(returns) <= max(real_years), (pair, regime)
        turbulent, quiet = fx_by_rate_vol[(pair, True)], fx_by_rate_vol[(pair, False)]
        assert _vol(turbulent) > 1.1 * _vol(quiet), pair


def _real_fx_vols_by_year(series: SeriesSet, history: MacroHistory, pair: str) -> list[float]:
    """Per calendar year (at least 200 fixings), the std of log returns between real fixings on
    consecutive business days (a holiday's carried fixing is no return)."""
    fixed = series.text[FX_IDS[pair]]
    by_year: dict[int, list[float]] = defaultdict(list)
    for before, day in itertools.pairwise(history.days):
        if day.date in fixed and before.date in fixed:
            by_year[day.date.year].append(math.log(day.fx[pair] / before.fx[pair]))
    return [_vol(returns) for returns in by_year.values() if len(returns) >= 200]


def test_regimes_other_than_calm_recur_through_the_synthetic_years(twenty_years: list[MacroDay]) -> None:
    """Equity drift and vol come from the regime, so the extension must not settle into calm."""
    years_with: dict[str, set[int]] = defaultdict(set)
    for day in twenty_years:
        years_with[day.regime].add(day.date.year)
    assert len(years_with["stress"]) >= 5
    assert len(years_with["tightening"]) >= 5
    assert len(years_with["easing"]) >= 3
    counts = Counter(day.regime for day in twenty_years)
    assert counts["calm"] < len(twenty_years) * 0.7
    # The equity parameters follow: the vol is above calm's on stressed days.
    stressed = [d.equity_vol_annual for d in twenty_years if d.regime in ("stress", "crisis")]
    assert statistics.fmean(stressed) > REGIME_EQUITY["calm"][1] + 0.05


# ------------------------------------------------------------------ drawn by regime


def test_each_block_starts_on_a_real_day_of_the_synthetic_regime(
    history: MacroHistory, basis: ExtensionBasis
) -> None:
    """A block is drawn among those whose first day the real history put in the regime the
    synthetic world is in (the day before's); the rest of the block runs on whatever its real
    regime does."""
    real_regime = {day.date: day.regime for day in history.days}
    assert history.days[0].date == FIRST  # the history the basis replays: every real day's regime
    # The starts grouped by regime are the block starts, each under its day's real regime.
    grouped = sorted(start for starts in basis.starts_by_regime.values() for start in starts)
    assert grouped == list(basis.block_starts)
    for regime, starts in basis.starts_by_regime.items():
        first_days = [basis.days[start] for start in starts]
        assert all(day is not None and real_regime[day.date] == regime for day in first_days), regime
    assert set(basis.starts_by_regime) == set(REGIMES)  # the snapshot has blocks in every regime

    days = list(itertools.islice(SyntheticMacro(basis, SEED), TWENTY_YEARS))
    matched_within = 0
    for i, day in enumerate(days):
        assert day.origin is not None
        regime_before = days[i - 1].regime if i else basis.end.last.regime
        if i % BLOCK_DAYS == 0:  # a new block's first day
            assert day.origin.replayed == day.origin.block_first
            assert real_regime[day.origin.block_first] == regime_before, day.date
        else:
            matched_within += real_regime[day.origin.replayed] == regime_before
    # Within a block the real regime is free to move on, and mostly still agrees.
    within = len(days) - len(days) // BLOCK_DAYS
    assert within * 0.5 < matched_within < within


def test_a_regime_without_block_starts_draws_among_all_of_them(basis: ExtensionBasis) -> None:
    """Other data may have no block starting in some regime: its days then draw as before the
    draw was conditioned, among every start, rather than fail."""
    without_calm = dataclasses.replace(
        basis,
        starts_by_regime=MappingProxyType({r: s for r, s in basis.starts_by_regime.items() if r != "calm"}),
    )
    days = list(itertools.islice(SyntheticMacro(without_calm, SEED), 2000))
    index = {change.date: i for i, change in enumerate(basis.days) if change is not None}
    calm_starts = set(basis.starts_by_regime["calm"])
    drawn_in_calm: Counter[bool] = Counter()
    for i in range(BLOCK_DAYS, len(days), BLOCK_DAYS):
        origin = days[i].origin
        assert origin is not None and index[origin.block_first] in basis.block_starts
        if days[i - 1].regime == "calm":
            drawn_in_calm[index[origin.block_first] in calm_starts] += 1
    # Drawn among all: calm's own starts (half of all) and others alike.
    assert drawn_in_calm[True] > 5 and drawn_in_calm[False] > 5, drawn_in_calm


THIRTY_YEARS = 30 * 252  # business days
REGIME_SEEDS = (7, 8)
# How far the synthetic regimes may stray from the real history's (1999-2021), whose figures rest on
# few episodes: 4 crisis spells, 9 easing, 14 tightening, 15 stress, 27 calm.
# - Mean spell, within a factor 2: spells are about as spread as their mean (crisis: 62 to 252 days
#   around 117), so the mean of n of them is uncertain by about 1/sqrt(n), half for crisis' four:
#   twice the real figure is two such errors for crisis, more for the others. It is the direct
#   measure of persistence, where an absorbing regime shows first.
# - Share of days, within a factor 3: the history's own halves (1999-2009, 2010-2021) stray from
#   the whole by up to 3.8 (crisis: 14.8% and 2.3% against 8.5%); 60 synthetic years stray less
#   than 11 real ones.
# - Longest spell, at most 3 times the real longest: a longest is a single spell, the least settled
#   of the three; an absorbing regime's runs to the end of the stretch (7,560 days, 30 times the
#   longest real crisis, 7.5 times the longest calm).
SPELL_FACTOR = 2.0
SHARE_FACTOR = 3.0
LONGEST_FACTOR = 3.0


def _spells(regimes: Iterable[str]) -> dict[str, list[int]]:
    """Each regime's spells: the lengths of its runs of consecutive days."""
    spells: dict[str, list[int]] = defaultdict(list)
    for regime, run in itertools.groupby(regimes):
        spells[regime].append(sum(1 for _ in run))
    return spells


def test_no_regime_absorbs_the_synthetic_years_nor_drains_from_them(
    history: MacroHistory, basis: ExtensionBasis
) -> None:
    """The draw by regime feeds a regime its own real days: crisis blocks bring crisis signals
    (violent markets, rising unemployment) and could keep a crisis on for ever. Only a block's start
    is matched, so a block drawn late in a real crisis carries the real way out of it: the real
    history was still in crisis one block after a crisis block start 88% of the time, spells of
    166 days on average had the synthetic regime followed the replayed days exactly.

    Over 30 synthetic years of each seed (spells counted within a seed, pooled): each regime's
    mean spell and share of days at most SPELL_FACTOR and SHARE_FACTOR times the real history's,
    and no spell longer than LONGEST_FACTOR times its longest real one. And, but for crisis, at
    least the real mean spell and share over those factors: a regime drained by the draw, as
    stress would be if a block ended where its real regime changed (calm's blocks would no longer
    carry the way into stress, and calm would take three days in four).

    Crisis has no lower bound: the synthetic world reaches it less often than the real one
    whatever the draw. Its triggers need the fed to cut a point in three months or unemployment
    to rise 1.5 points in twelve, with violent markets, and neither the 2001 nor the 2020 crisis can
    be drawn (before T10YIE, after oil ends): over seeds 1 to 40, 30 years held none to 8 spells.
    """
    real = [day.regime for day in history.days]
    real_spells = _spells(real)
    real_shares = Counter(real)
    days = 0
    shares: Counter[str] = Counter()
    spells: dict[str, list[int]] = defaultdict(list)
    for seed in REGIME_SEEDS:
        synthetic = [day.regime for day in itertools.islice(SyntheticMacro(basis, seed), THIRTY_YEARS)]
        days += len(synthetic)
        shares.update(synthetic)
        for regime, lengths in _spells(synthetic).items():
            spells[regime].extend(lengths)
    outside = []
    for regime in REGIMES:
        share, real_share = shares[regime] / days, real_shares[regime] / len(real)
        mean = statistics.fmean(spells[regime]) if spells[regime] else 0.0
        real_mean = statistics.fmean(real_spells[regime])
        longest, real_longest = max(spells[regime], default=0), max(real_spells[regime])
        line = (
            f"{regime}: share {share:.1%} (real {real_share:.1%}), mean spell {mean:.0f} days "
            f"(real {real_mean:.0f}), longest {longest} (real {real_longest})"
        )
        absorbing = (
            mean > SPELL_FACTOR * real_mean
            or share > SHARE_FACTOR * real_share
            or longest > LONGEST_FACTOR * real_longest
        )
        drained = regime != "crisis" and (
            mean < real_mean / SPELL_FACTOR or share < real_share / SHARE_FACTOR
        )
        if absorbing or drained:
            outside.append(line)
    assert not outside, "\n".join(outside)


# ------------------------------------------------------------------ guards


def test_levels_stay_within_what_the_history_has_seen(
    series: SeriesSet, twenty_years: list[MacroDay]
) -> None:
    for tenor, series_id in TENOR_IDS.items():
        real = _observed(series, series_id).values()
        levels = [day.yields_pct[tenor] for day in twenty_years]
        assert min(real) <= min(levels) and max(levels) <= max(real), tenor
    for pair, series_id in FX_IDS.items():
        fixings = [Decimal(t) for d, t in series.text[series_id].items() if d <= LAST]
        rates = [day.fx[pair] for day in twenty_years]
        assert min(fixings) <= min(rates) and max(rates) <= max(fixings), pair
    oil = [v for v in _observed(series, "DCOILWTICO").values() if v > 0]
    prices = [day.oil_usd for day in twenty_years]
    assert 0 < min(oil) <= min(prices) and max(prices) <= max(oil)
    breakeven = _observed(series, "T10YIE").values()
    assert min(breakeven) <= min(d.breakeven_pct for d in twenty_years)
    assert max(d.breakeven_pct for d in twenty_years) <= max(breakeven)
    unemployment = _observed(series, "UNRATE").values()
    assert min(unemployment) <= min(d.unemployment_pct for d in twenty_years)
    assert max(d.unemployment_pct for d in twenty_years) <= max(unemployment)
    assert min(d.fed_funds_pct for d in twenty_years) >= 0.0
    # The levels do move across the range rather than sit on a bound.
    ten = [day.yields_pct["10Y"] for day in twenty_years]
    assert max(ten) - min(ten) > 1.0


def test_figures_are_published_like_real_ones(twenty_years: list[MacroDay]) -> None:
    for day in twenty_years[:1000]:
        assert day.fx["EURUSD"].as_tuple().exponent == -4
        assert day.fx["GBPUSD"].as_tuple().exponent == -4
        assert day.fx["USDJPY"].as_tuple().exponent == -2
        assert all(isinstance(rate, Decimal) for rate in day.fx.values())
        assert all(value == round(value, 2) for value in day.yields_pct.values())
        assert day.oil_usd == round(day.oil_usd, 2) and day.fed_funds_pct == round(day.fed_funds_pct, 2)


def test_reflection_keeps_the_size_of_a_move() -> None:
    assert reflect(-0.25, 0.0, 1.0) == pytest.approx(0.25)
    assert reflect(1.5, 0.0, 1.0) == pytest.approx(0.5)
    assert reflect(-1.25, 0.0, 1.0) == pytest.approx(0.75)  # wider than the range: bounces twice
    assert reflect_ratio(5.0, 10.0, 100.0) == pytest.approx(20.0)  # half the floor comes back doubled
    assert reflect_ratio(200.0, 10.0, 100.0) == pytest.approx(50.0)
    assert reflect_decimal(Decimal("0.8"), Decimal("1.0"), Decimal("2.0")) == Decimal("1.25")


# ------------------------------------------------------------------ carried-forward days


def test_no_synthetic_oil_change_comes_from_a_carried_forward_day(
    series: SeriesSet, basis: ExtensionBasis, twenty_years: list[MacroDay]
) -> None:
    oil = series.observations["DCOILWTICO"]
    oil_end = max(d for d, v in oil.items() if v is not None)
    assert oil_end == dt.date(2020, 3, 13)
    business = sorted(_observed(series, "DGS10"))
    previous_business_day = {after: before for before, after in itertools.pairwise(business)}
    low, high = basis.ranges.oil
    moved = 0
    for before, day in itertools.pairwise([basis.end.last, *twenty_years]):
        assert day.origin is not None
        replayed = day.origin.replayed
        assert replayed <= oil_end
        now, then = oil.get(replayed), oil.get(previous_business_day[replayed])
        assert now is not None and then is not None  # both real prints, neither carried
        # Away from the bounds, the synthetic move is that real move (less the mean), to rounding.
        if low * 1.5 < before.oil_usd < high / 1.5:
            expected = math.log(now / then * basis.drift.oil_factor)
            assert math.log(day.oil_usd / before.oil_usd) == pytest.approx(
                expected, abs=0.01 / before.oil_usd * 2
            )
            moved += expected != 0.0
    assert moved > TWENTY_YEARS / 5  # oil can spend years near a bound, where the check is skipped


# ------------------------------------------------------------------ memory


def _held_items(root: object) -> int:
    """Every item of every container reachable from `root`'s attributes, counted once."""
    seen: set[int] = set()
    stack: list[object] = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | Decimal | dt.date):
            continue
        seen.add(id(obj))
        items: Iterable[object]
        if isinstance(obj, Mapping):
            items = [*obj.keys(), *obj.values()]
        elif isinstance(obj, list | tuple | deque | set | frozenset):
            items = obj
        else:
            attributes = getattr(obj, "__dict__", {})
            slots = [s for cls in type(obj).__mro__ for s in getattr(cls, "__slots__", ())]
            items = [*attributes.values(), *(getattr(obj, s) for s in slots if hasattr(obj, s))]
            stack.extend(items)
            continue
        items = list(items)
        total += len(items)
        stack.extend(items)
    return total


def test_memory_stays_bounded_however_many_days_are_drawn(basis: ExtensionBasis) -> None:
    generator = SyntheticMacro(basis, SEED)
    for _ in itertools.islice(generator, 1000):
        pass
    after_1000 = _held_items(generator)
    sizes_1000 = dict(generator.buffer_sizes())
    for _ in itertools.islice(generator, 4000):
        pass
    after_5000 = _held_items(generator)
    # A list of past days would add 4,000 items; a year's holiday count differs by one or two.
    assert abs(after_5000 - after_1000) <= 5
    sizes = generator.buffer_sizes()
    assert sizes.keys() == sizes_1000.keys()
    assert sizes["rate_changes_bp"] == sizes["oil_returns"] == 21
    assert sizes["policy_prints"] == 10
    assert sizes["unemployment_months"] == sizes["cpi_months"] == 13
    assert sizes["policy_medians"] <= 70  # business days in 3 months and one
    assert sizes["holidays"] <= 15  # one year's
