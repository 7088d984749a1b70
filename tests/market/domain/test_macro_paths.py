"""The macro history built from small made-up series, so every figure can be worked by hand.

test_macro.py checks the real snapshot (2008 and 2020 look right, no look-ahead); these tests
feed build_history a few weeks of invented observations to pin each alignment rule, each
signal's window and threshold, the regime rule's boundaries, and the notes in words.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from collections.abc import Mapping
from decimal import Decimal

import pytest

from services.market.fred import load_macro
from services.market.sim.macro import (
    REGIME_EQUITY,
    MacroDay,
    MacroHistory,
    RegimeSignals,
    build_history,
    classify_regime,
    risk_shock,
)
from services.market.sim.macro.regime import RegimeTracker
from services.market.sim.series import SERIES, SeriesSet
from tests.market.fake_fred import VALID_KEY, FakeFred, fake_fred  # noqa: F401 - the fixture

MONDAY = dt.date(2021, 1, 4)
FX_TEXT = {"DEXUSEU": "1.2250", "DEXUSUK": "1.3600", "DEXJPUS": "103.20"}
CONSTANT = {
    "DGS3MO": 0.10,
    "DGS2": 0.12,
    "DGS5": 0.40,
    "DGS10": 1.00,
    "DGS30": 1.70,
    "DFF": 0.09,
    "T10YIE": 2.00,
    "DCOILWTICO": 50.0,
}


def weekdays(start: dt.date, n: int) -> list[dt.date]:
    days, day = [], start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, day = [], first
    while day <= last:
        out.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out


def world(
    n: int = 20, start: dt.date = MONDAY, **series: Mapping[dt.date, float | None] | Mapping[dt.date, str]
) -> SeriesSet:
    """n weekdays from start with constant daily series, flat monthly UNRATE (6.7) and CPI (260,
    from 13 months before start), and FX fixings every day; a keyword replaces one series."""
    days = weekdays(start, n)
    observations: dict[str, Mapping[dt.date, float | None]] = {
        sid: {d: value for d in days} for sid, value in CONSTANT.items()
    }
    stamps = months(
        dt.date(start.year - 1, start.month - 1 or 12, 1)
        if start.month > 1
        else dt.date(start.year - 2, 12, 1),
        start,
    )
    observations["UNRATE"] = {m: 6.7 for m in stamps}
    observations["CPIAUCSL"] = {m: 260.0 for m in stamps}
    text: dict[str, Mapping[dt.date, str]] = {sid: {d: value for d in days} for sid, value in FX_TEXT.items()}
    for sid, values in series.items():
        if sid in FX_TEXT:
            text[sid] = values  # type: ignore[assignment]
        else:
            observations[sid] = values  # type: ignore[assignment]
    for sid in FX_TEXT:
        observations[sid] = {d: float(v) for d, v in text[sid].items()}
    assert set(observations) == set(SERIES)
    return SeriesSet(observations, "test", ("loaded for a test",), text)


def day_of(history: MacroHistory, day: dt.date) -> MacroDay:
    return history.days[history.index_of(day)]


# ---------------------------------------------------------------- the regime rule


def signals(
    rate_vol: float | None = 0.0, oil_vol: float | None = 0.0, fed: float = 0.0, unemployment: float = 0.0
) -> RegimeSignals:
    return RegimeSignals(rate_vol, oil_vol, fed, unemployment, 0.5)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # A policy or labour shock with violent markets: crisis. Each threshold exactly met.
        (
            signals(rate_vol=9.0, fed=-1.0),
            ("crisis", "fed funds cut 1.00 pts in 3 months; 10Y realised vol 9.0 bp/day", True, True),
        ),
        (
            signals(oil_vol=0.80, unemployment=1.5),
            ("crisis", "unemployment up 1.5 pts in 12 months; oil vol 80%", True, True),
        ),
        (
            signals(rate_vol=9.5, oil_vol=0.9, fed=-1.25, unemployment=2.0),
            (
                "crisis",
                "fed funds cut 1.25 pts in 3 months; unemployment up 2.0 pts in 12 months; "
                "10Y realised vol 9.5 bp/day; oil vol 90%",
                True,
                True,
            ),
        ),
        # Just under the crisis shock: the violence alone is a stress.
        (signals(rate_vol=9.0, fed=-0.99), ("stress", "10Y realised vol 9.0 bp/day", False, True)),
        (
            signals(oil_vol=0.80, unemployment=1.49),
            ("stress", "oil vol 80%; unemployment up 1.5 pts in 12 months", False, True),
        ),
        # A shock without violence: stress, its reason the shock.
        (
            signals(rate_vol=8.4, oil_vol=0.74, fed=-1.0),
            ("stress", "fed funds cut 1.00 pts in 3 months", False, True),
        ),
        (signals(unemployment=1.0), ("stress", "unemployment up 1.0 pts in 12 months", False, True)),
        (signals(unemployment=0.99, fed=-0.99), ("easing", "fed funds -0.99 pts in 3 months", False, False)),
        # Panic: both markets at once, before policy reacts.
        (
            signals(rate_vol=12.0, oil_vol=1.0),
            ("crisis", "panic: 10Y realised vol 12.0 bp/day and oil vol 100%", True, True),
        ),
        (
            signals(rate_vol=11.9, oil_vol=1.0),
            ("stress", "10Y realised vol 11.9 bp/day; oil vol 100%", False, True),
        ),
        (
            signals(rate_vol=12.0, oil_vol=0.99),
            ("stress", "10Y realised vol 12.0 bp/day; oil vol 99%", False, True),
        ),
        # Each strain exactly at and just under its threshold.
        (signals(rate_vol=8.5), ("stress", "10Y realised vol 8.5 bp/day", False, True)),
        (signals(oil_vol=0.75), ("stress", "oil vol 75%", False, True)),
        (
            signals(rate_vol=8.49, oil_vol=0.749),
            ("calm", "no strain and fed funds within 0.20 pt of 3 months ago", False, False),
        ),
        # Policy moves of 0.20 pt either way, and just under.
        (signals(fed=-0.20), ("easing", "fed funds -0.20 pts in 3 months", False, False)),
        (signals(fed=0.20), ("tightening", "fed funds +0.20 pts in 3 months", False, False)),
        (
            signals(fed=-0.19),
            ("calm", "no strain and fed funds within 0.20 pt of 3 months ago", False, False),
        ),
        (signals(fed=0.19), ("calm", "no strain and fed funds within 0.20 pt of 3 months ago", False, False)),
        # Missing volatilities count as none.
        (
            signals(rate_vol=None, oil_vol=None, fed=-1.0),
            ("stress", "fed funds cut 1.00 pts in 3 months", False, True),
        ),
        (
            signals(rate_vol=None, oil_vol=None, fed=0.5),
            ("tightening", "fed funds +0.50 pts in 3 months", False, False),
        ),
    ],
)
def test_classify_regime(given: RegimeSignals, expected: tuple[str, str, bool, bool]) -> None:
    assert classify_regime(given) == expected


def test_a_crisis_holds_42_business_days_then_a_stress_would_hold_21() -> None:
    """A crisis trigger on day 0, then calm days: crisis through day 41, then the day's own
    regime (the stress trigger fired on day 0 too, 42 days ago, past its 21-day hold)."""
    regime = RegimeTracker()
    assert regime.on(signals(rate_vol=9.0, fed=-1.0))[0] == "crisis"
    held = [regime.on(signals()) for _ in range(42)]
    assert {r for r, _ in held[:41]} == {"crisis"}
    assert held[0][1] == "crisis held: its trigger fired 1 business days ago"
    assert held[40][1] == "crisis held: its trigger fired 41 business days ago"
    assert held[41] == ("calm", "no strain and fed funds within 0.20 pt of 3 months ago")


def test_a_stress_holds_21_business_days() -> None:
    regime = RegimeTracker()
    assert regime.on(signals(rate_vol=8.5)) == ("stress", "10Y realised vol 8.5 bp/day")
    held = [regime.on(signals(fed=0.3)) for _ in range(21)]
    assert {r for r, _ in held[:20]} == {"stress"}
    assert held[19][1] == "stress held: its trigger fired 20 business days ago"
    assert held[20] == ("tightening", "fed funds +0.30 pts in 3 months")


def test_a_fresh_trigger_restarts_the_hold_and_gives_its_own_reason() -> None:
    regime = RegimeTracker()
    regime.on(signals(rate_vol=8.5))
    for _ in range(10):
        regime.on(signals())
    assert regime.on(signals(oil_vol=0.75)) == ("stress", "oil vol 75%")
    held = [regime.on(signals()) for _ in range(21)]
    assert held[0][1] == "stress held: its trigger fired 1 business days ago"  # day 12 vs day 11
    assert held[19][0] == "stress" and held[20][0] == "calm"
    # A crisis fired on day 1 (after a calm day 0) is held on day 2, one day later.
    regime = RegimeTracker()
    regime.on(signals())
    regime.on(signals(rate_vol=12.0, oil_vol=1.0))
    assert regime.on(signals()) == ("crisis", "crisis held: its trigger fired 1 business days ago")
    # During a crisis hold a new stress trigger does not lower the regime.
    regime = RegimeTracker()
    regime.on(signals(rate_vol=12.0, oil_vol=1.0))
    assert regime.on(signals(rate_vol=8.5)) == (
        "crisis",
        "crisis held: its trigger fired 1 business days ago",
    )


def test_equity_drift_and_vol_start_at_the_regime_and_halve_the_gap_in_five_days() -> None:
    regime = RegimeTracker()
    regime.on(signals())
    assert (regime.drift, regime.vol) == REGIME_EQUITY["calm"]
    # Five crisis days close half the gap: alpha = 1 - 0.5 ** (1/5), (1 - alpha) ** 5 = 0.5.
    for _ in range(5):
        regime.on(signals(rate_vol=12.0, oil_vol=1.0))
    calm_drift, calm_vol = REGIME_EQUITY["calm"]
    crisis_drift, crisis_vol = REGIME_EQUITY["crisis"]
    assert regime.drift == pytest.approx((calm_drift + crisis_drift) / 2)
    assert regime.vol == pytest.approx((calm_vol + crisis_vol) / 2)
    # One day: a step of alpha = 0.12945 of the gap.
    regime.on(signals(rate_vol=12.0, oil_vol=1.0))
    alpha = 1 - 0.5 ** (1 / 5)
    assert regime.vol == pytest.approx((calm_vol + crisis_vol) / 2 + alpha * (crisis_vol - calm_vol) / 2)


@pytest.mark.parametrize(
    ("breakeven_bp", "ten_year_bp", "score"),
    [
        (0.0, 0.0, 0.0),
        (3.5, 0.0, 0.6),  # one breakeven sd: 0.6
        (0.0, 6.0, 0.4),  # one 10Y sd: 0.4
        (-3.5, -6.0, -1.0),
        (35.0, 0.0, 6.0),  # 6.0 exactly: the limit
        (35.0, 6.0, 6.0),  # 6.4 clipped
        (-35.0, -6.0, -6.0),  # -6.4 clipped
        (-35.0, 3.0, -5.8),  # inside the limit
    ],
)
def test_risk_shock_weights_standardised_moves_and_clips_at_six(
    breakeven_bp: float, ten_year_bp: float, score: float
) -> None:
    assert risk_shock(breakeven_bp, ten_year_bp) == pytest.approx(score)


# ---------------------------------------------------------------- build_history: the calendar


def test_business_days_are_the_dates_with_a_10y_and_the_window_is_start_to_end() -> None:
    days = weekdays(MONDAY, 10)
    ten = {d: 1.0 for d in days} | {days[3]: None}  # a 10Y holiday on the Thursday
    history = build_history(world(10, DGS10=ten), days[1], days[8])
    assert [d.date for d in history.days] == [days[1], days[2], days[4], days[5], days[6], days[7], days[8]]
    assert history.source == "test" and history.notes[0] == "loaded for a test"
    assert history.notes[1] == (
        "business days: dates with a DGS10 (10-year Treasury) value, 7 business days between "
        "2021-01-05 and 2021-01-14; every other series is aligned to them"
    )
    # Without an end: to the last 10Y in the data.
    assert build_history(world(10), days[8]).days[-1].date == days[9]
    # A start on a non-business day begins on the next one.
    assert build_history(world(10, DGS10=ten), days[3]).days[0].date == days[4]


def test_start_and_end_outside_the_data_are_refused_with_the_range() -> None:
    series = world(10)  # 2021-01-04 .. 2021-01-15
    with pytest.raises(ValueError, match=r"^end 2021-01-05 is before start 2021-01-06$"):
        build_history(series, dt.date(2021, 1, 6), dt.date(2021, 1, 5))
    with pytest.raises(
        ValueError,
        match=r"^start 2021-01-03 is outside the FRED data, whose business days run from 2021-01-04 to "
        r"2021-01-15: pick a start between them$",
    ):
        build_history(series, dt.date(2021, 1, 3))
    with pytest.raises(ValueError, match="start 2021-01-16 is outside"):
        build_history(series, dt.date(2021, 1, 16))
    # The first and last business days themselves are inside.
    assert build_history(series, dt.date(2021, 1, 4), dt.date(2021, 1, 4)).days[0].date == dt.date(2021, 1, 4)
    assert build_history(series, dt.date(2021, 1, 15)).days[0].date == dt.date(2021, 1, 15)
    # Start and end on one weekend: no business day between.
    with pytest.raises(
        ValueError,
        match=r"^no business day between 2021-01-09 and 2021-01-10; available 2021-01-04 \.\. 2021-01-15$",
    ):
        build_history(series, dt.date(2021, 1, 9), dt.date(2021, 1, 10))
    empty = world(10, DGS10={d: None for d in weekdays(MONDAY, 10)})
    with pytest.raises(ValueError, match=r"^no DGS10 observations: no business days$"):
        build_history(empty, MONDAY)


def test_index_of_finds_the_next_business_day_and_names_the_range_when_outside() -> None:
    history = build_history(world(10), MONDAY)
    assert history.index_of(dt.date(2021, 1, 9)) == 5  # Saturday -> Monday the 11th
    assert history.index_of(dt.date(2021, 1, 15)) == 9
    with pytest.raises(
        ValueError, match=r"2021-01-16 is outside the history: business days 2021-01-04 \.\. 2021-01-15"
    ):
        history.index_of(dt.date(2021, 1, 16))
    with pytest.raises(ValueError, match="2021-01-03 is outside"):
        history.index_of(dt.date(2021, 1, 3))
    empty = MacroHistory(days=(), source="none", notes=())
    with pytest.raises(ValueError, match=r"business days \(none\)"):
        empty.index_of(MONDAY)


# ---------------------------------------------------------------- the curve


def test_a_missing_tenor_is_the_10y_plus_its_last_spread_and_before_any_value_the_10y() -> None:
    days = weekdays(MONDAY, 6)
    ten = {d: 1.00 + 0.1 * i for i, d in enumerate(days)}
    thirty = {days[0]: 1.70, days[1]: 1.90, days[4]: 2.50}  # spread to the 10Y 0.80 on day 1
    three_month = {d: (None if i < 2 else 0.10) for i, d in enumerate(days)}
    history = build_history(world(6, DGS10=ten, DGS30=thirty, DGS3MO=three_month), MONDAY)
    yields30 = [d.yields_pct["30Y"] for d in history.days]
    # Days 2, 3 and 5: the day's 10Y (1.2, 1.3, 1.5) + 0.80; day 4 is observed, and its spread
    # (2.50 - 1.40 = 1.10) is the one day 5 uses.
    assert yields30 == pytest.approx([1.70, 1.90, 2.00, 2.10, 2.50, 2.60])
    assert [d.yields_pct["3M"] for d in history.days[:2]] == pytest.approx([1.00, 1.10])
    assert history.days[0].curve_slope_pct == pytest.approx(1.00 - 0.12)
    # The slope is reported with the day's signals too (10Y 1.30 - 2Y 0.12 on day 3).
    assert history.days[3].signals.curve_slope_pct == pytest.approx(1.30 - 0.12)  # type: ignore[union-attr]
    notes = history.notes
    assert (
        "DGS30 (30Y) missing on 3 business days between 2021-01-06 and 2021-01-11: filled as the day's 10Y "
        "plus the last observed 30Y-10Y spread"
    ) in notes
    assert (
        "DGS3MO (3M) has no observation yet on 2 business days between 2021-01-04 and 2021-01-05: set equal to the 10Y"
        in notes
    )


def test_rate_change_and_rate_volatility() -> None:
    """10Y moves of +3, -3, +3, ... bp: the change is 0 on the first day, then +-3 bp; the vol
    needs 5 changes (day 5 on) and is the sample sd of the last 21 changes."""
    days = weekdays(MONDAY, 30)
    ten = {d: 1.00 + (0.03 if i % 2 else 0.0) for i, d in enumerate(days)}
    # A jump of 50 bp on day 29: within the window only from then on.
    ten[days[29]] = 1.50
    history = build_history(world(30, DGS10=ten), MONDAY)
    changes = [d.rate_change_bp for d in history.days]
    assert changes[0] == 0.0 and changes[1] == pytest.approx(3.0) and changes[2] == pytest.approx(-3.0)
    vols = [d.signals.rate_vol_bp for d in history.days if d.signals]
    assert vols[:5] == [None] * 5
    # Five changes +3, -3, +3, -3, +3: mean 0.6, squares 5.76 x 3 + 12.96 x 2 = 43.2, / 4 = 10.8.
    assert vols[5] == pytest.approx(math.sqrt(10.8))
    # Day 28: the 21 changes of days 8..28 (11 of -3 ... ): as statistics.stdev over them.
    window = [changes[i] for i in range(8, 29)]
    assert vols[28] == pytest.approx(statistics.stdev(window))
    assert vols[29] == pytest.approx(statistics.stdev([changes[i] for i in range(9, 30)]))


# ---------------------------------------------------------------- fed funds


def test_fed_funds_change_is_the_median_of_10_prints_against_91_days_earlier() -> None:
    days = weekdays(dt.date(2020, 9, 1), 90)
    # 2.00 until 2020-10-01, then 0.50; a one-day spike to 9.99 on 2020-12-31 (the year-end jump).
    dff = {d: (2.00 if d < dt.date(2020, 10, 1) else 0.50) for d in days}
    dff[dt.date(2020, 12, 31)] = 9.99
    history = build_history(world(90, start=dt.date(2020, 9, 1), DFF=dff), dt.date(2020, 9, 1))
    first = history.days[0]
    assert first.fed_funds_pct == 2.00
    assert first.signals is not None and first.signals.fed_funds_change_3m_pts == 0.0
    # 2020-12-31: the latest print is the spike, but the median of the last 10 is 0.50; 91 days
    # earlier is 2020-10-01, whose median of the 10 prints up to then (9 x 2.00, 1 x 0.50) is 2.00.
    spike = day_of(history, dt.date(2020, 12, 31))
    assert spike.fed_funds_pct == 9.99
    assert spike.signals is not None and spike.signals.fed_funds_change_3m_pts == pytest.approx(-1.5)
    assert spike.regime == "stress"
    # Until 91 days of history exist there is no policy signal, and a note says so.
    assert day_of(history, dt.date(2020, 11, 30)).signals.fed_funds_change_3m_pts == 0.0  # type: ignore[union-attr]
    assert day_of(history, dt.date(2020, 12, 1)).signals.fed_funds_change_3m_pts == pytest.approx(-1.5)  # type: ignore[union-attr]
    assert (
        "fed funds 3 months earlier predates the data on 65 business days between 2020-09-01 and "
        "2020-11-30: no policy signal (change taken as 0)"
    ) in history.notes


def test_fed_funds_starting_late_uses_its_first_print_and_says_so() -> None:
    days = weekdays(MONDAY, 5)
    history = build_history(world(5, DFF={days[2]: 0.08, days[3]: 0.07}), MONDAY)
    assert [d.fed_funds_pct for d in history.days] == [0.08, 0.08, 0.08, 0.07, 0.07]
    assert (
        "DFF starts later than the curve: its first value used on 2 business days between 2021-01-04 and 2021-01-05"
        in history.notes
    )


# ---------------------------------------------------------------- monthly series


def test_unemployment_and_cpi_use_the_latest_month_and_compare_a_year_back() -> None:
    stamps = months(dt.date(2019, 12, 1), dt.date(2021, 2, 1))
    unrate = {m: 3.5 for m in stamps} | {dt.date(2021, 1, 1): 6.3, dt.date(2020, 1, 1): 3.6}
    cpi = {m: 250.0 for m in stamps} | {dt.date(2021, 1, 1): 260.0, dt.date(2019, 12, 1): 240.0}
    days = weekdays(dt.date(2020, 12, 28), 10)  # Dec 28 .. Jan 8
    history = build_history(world(10, start=days[0], UNRATE=unrate, CPIAUCSL=cpi), days[0])
    december, january = history.days[0], day_of(history, dt.date(2021, 1, 4))
    assert december.unemployment_pct == 3.5 and january.unemployment_pct == 6.3
    assert december.signals.unemployment_change_12m_pts == 0.0  # type: ignore[union-attr]
    # January 2021 (6.3) against January 2020 (3.6): up 2.7 pts.
    assert january.signals.unemployment_change_12m_pts == pytest.approx(2.7)  # type: ignore[union-attr]
    # CPI: January 2021 against January 2020, 260 / 250 - 1 = 4.0 %; December 2020 against
    # December 2019, 250 / 240 - 1 = 4.1667 %.
    assert january.cpi_yoy_pct == pytest.approx(4.0)
    assert december.cpi_yoy_pct == pytest.approx((250 / 240 - 1) * 100)


def test_with_less_than_a_year_of_cpi_the_change_is_annualised_then_a_placeholder() -> None:
    # CPI from 2020-09: 100, 101, 102, 103 (Dec). In December, 3 months on: (103/100) ** (12/3) - 1.
    cpi = {
        dt.date(2020, 9, 1): 100.0,
        dt.date(2020, 10, 1): 101.0,
        dt.date(2020, 11, 1): 102.0,
        dt.date(2020, 12, 1): 103.0,
    }
    unrate = {m: 6.0 for m in months(dt.date(2020, 9, 1), dt.date(2020, 12, 1))}
    days = weekdays(dt.date(2020, 11, 2), 25)  # November and the first days of December
    history = build_history(world(25, start=days[0], CPIAUCSL=cpi, UNRATE=unrate), days[0])
    november, december = history.days[0], day_of(history, dt.date(2020, 12, 1))
    assert november.cpi_yoy_pct == 2.0  # 2 months of history: the placeholder
    assert december.cpi_yoy_pct == pytest.approx((1.03**4 - 1) * 100)  # 12.55 %
    # T10YIE is there, so breakeven is not the proxy.
    assert december.breakeven_pct == 2.0
    assert (
        "fewer than 3 months of CPI on 21 business days between 2020-11-02 and 2020-11-30: inflation set to 2% (placeholder)"
        in history.notes
    )
    assert (
        "CPI YoY needs 12 months: annualised change since the first month used on 4 business days between 2020-12-01 and 2020-12-04"
        in history.notes
    )
    # Unemployment 12 months earlier predates the data: measured from the first month.
    assert (
        "unemployment 12 months earlier predates the data on 25 business days between 2020-11-02 and "
        "2020-12-04: change measured from the first month"
    ) in history.notes


def test_annualised_cpi_counts_months_across_a_year_end() -> None:
    # CPI from November 2020: 100, 101, 102, 103 (February 2021): 3 months, (1.03) ** 4 - 1.
    cpi = {
        dt.date(2020, 11, 1): 100.0,
        dt.date(2020, 12, 1): 101.0,
        dt.date(2021, 1, 1): 102.0,
        dt.date(2021, 2, 1): 103.0,
    }
    days = weekdays(dt.date(2021, 2, 1), 3)
    history = build_history(world(3, start=days[0], CPIAUCSL=cpi), days[0])
    assert history.days[0].cpi_yoy_pct == pytest.approx((1.03**4 - 1) * 100)


def test_cpi_starting_after_the_curve_uses_its_first_month() -> None:
    days = weekdays(dt.date(2020, 12, 28), 6)
    history = build_history(world(6, start=days[0], CPIAUCSL={dt.date(2021, 1, 1): 260.0}), days[0])
    assert history.days[0].cpi_yoy_pct == 2.0  # one month of CPI: the placeholder
    assert (
        "UNRATE/CPIAUCSL start later than the curve: first month used on 4 business days between 2020-12-28 "
        "and 2020-12-31"
    ) in history.notes


def test_monthly_series_starting_after_the_curve_use_their_first_month() -> None:
    days = weekdays(dt.date(2020, 12, 28), 6)
    history = build_history(
        world(
            6,
            start=days[0],
            UNRATE={dt.date(2021, 1, 1): 6.3},
        ),
        days[0],
    )
    assert history.days[0].unemployment_pct == 6.3
    assert (
        "UNRATE/CPIAUCSL start later than the curve: first month used on 4 business days between 2020-12-28 and 2020-12-31"
        in history.notes
    )


def test_both_monthly_series_starting_late_count_each_day_once() -> None:
    # UNRATE and CPIAUCSL both start on 1 Jan 2021, after the curve's first day (Mon 28 Dec 2020):
    # the four days 28-31 Dec each used a first month, once each, whichever series needed it.
    days = weekdays(dt.date(2020, 12, 28), 6)
    series = world(6, start=days[0], UNRATE={dt.date(2021, 1, 1): 6.3}, CPIAUCSL={dt.date(2021, 1, 1): 260.0})
    history = build_history(series, days[0])
    assert (
        "UNRATE/CPIAUCSL start later than the curve: first month used on 4 business days between 2020-12-28 and 2020-12-31"
        in history.notes
    )


# ---------------------------------------------------------------- oil


def test_oil_volatility_from_fresh_log_returns_only() -> None:
    days = weekdays(MONDAY, 12)
    oil = {d: (50.0 if i % 2 == 0 else 60.0) for i, d in enumerate(days)}
    oil[days[7]] = -1.0  # a negative print has no log return on either side
    history = build_history(world(12, DCOILWTICO=oil), MONDAY)
    vols = [d.signals.oil_vol_annual for d in history.days]  # type: ignore[union-attr]
    # Day k has k returns (ln 1.2 up, ln(5/6) down alternately): vol from 5 returns on.
    assert vols[:5] == [None] * 5
    up, down = math.log(60 / 50), math.log(50 / 60)
    assert vols[5] == pytest.approx(statistics.stdev([up, down, up, down, up]) * math.sqrt(252))
    # Days 7 and 8 add no return (to and from -1): day 8 still has the returns of days 1-6.
    assert vols[8] == pytest.approx(statistics.stdev([up, down, up, down, up, down]) * math.sqrt(252))
    assert history.days[7].oil_usd == -1.0


def test_stale_oil_is_carried_but_left_out_of_the_regime() -> None:
    days = weekdays(MONDAY, 20)
    oil = {d: (50.0 if i % 2 == 0 else 60.0) for i, d in enumerate(days[:8])}  # ends Wed 13 Jan
    history = build_history(world(20, DCOILWTICO=oil), MONDAY)
    # Carried: the last price (60.0 on the 13th) every day after.
    assert {d.oil_usd for d in history.days[8:]} == {60.0}
    # 7 days old (Wed 20th) still counts; 8 days (Thu 21st) does not.
    assert day_of(history, dt.date(2021, 1, 20)).signals.oil_vol_annual is not None  # type: ignore[union-attr]
    assert day_of(history, dt.date(2021, 1, 21)).signals.oil_vol_annual is None  # type: ignore[union-attr]
    assert (
        "DCOILWTICO has no value on 12 business days between 2021-01-14 and 2021-01-29 (holidays or series end): carried forward"
        in history.notes
    )
    assert (
        "oil price older than 7 days on 7 business days between 2021-01-21 and 2021-01-29: oil volatility left out of the regime"
        in history.notes
    )


def test_oil_starting_after_the_curve_uses_its_first_price() -> None:
    days = weekdays(MONDAY, 4)
    history = build_history(world(4, DCOILWTICO={days[2]: 48.0, days[3]: 49.0}), MONDAY)
    assert [d.oil_usd for d in history.days] == [48.0, 48.0, 48.0, 49.0]
    # Before its first print there is no fresh oil price: no oil volatility those days.
    assert (
        "oil price older than 7 days on 2 business days between 2021-01-04 and 2021-01-05: oil volatility "
        "left out of the regime"
    ) in history.notes
    assert (
        "DCOILWTICO starts later than the curve: its first value used on 2 business days between 2021-01-04 and 2021-01-05"
        in history.notes
    )


# ---------------------------------------------------------------- breakeven and the risk shock


def test_breakeven_proxy_carry_and_the_risk_shock_of_real_prints_only() -> None:
    days = weekdays(MONDAY, 6)
    # No T10YIE on days 0-1 (CPI YoY stands in), prints on 2, 3 and 5, none on 4.
    t10yie = {days[2]: 2.00, days[3]: 1.93, days[5]: 1.965}
    ten = {d: 1.00 for d in days} | {days[3]: 0.94, days[4]: 0.94, days[5]: 1.00}
    history = build_history(world(6, T10YIE=t10yie, DGS10=ten), MONDAY)
    assert [d.breakeven_pct for d in history.days] == [0.0, 0.0, 2.00, 1.93, 1.93, 1.965]
    # Day 2: first real print after the proxy, no change. Day 3: -7 bp breakeven, -6 bp 10Y:
    # 0.6 x -2 + 0.4 x -1 = -1.6. Day 4: carried, no 10Y move: 0. Day 5: +3.5 bp vs day 3's
    # print, +6 bp 10Y: 0.6 + 0.4 = 1.0.
    assert [d.risk_shock for d in history.days] == pytest.approx([0.0, 0.0, 0.0, -1.6, 0.0, 1.0])
    assert (
        "T10YIE not yet published on 2 business days between 2021-01-04 and 2021-01-05: breakeven inflation is CPI YoY as a proxy"
        in history.notes
    )
    assert (
        "T10YIE has no value on 1 business days between 2021-01-08 and 2021-01-08: carried forward"
        in history.notes
    )


def test_a_rate_move_alone_moves_the_risk_shock() -> None:
    days = weekdays(MONDAY, 3)
    history = build_history(world(3, DGS10={days[0]: 1.0, days[1]: 1.06, days[2]: 1.06}), MONDAY)
    # +6 bp of 10Y with an unchanged breakeven print: 0.4.
    assert [d.risk_shock for d in history.days] == pytest.approx([0.0, 0.4, 0.0])


# ---------------------------------------------------------------- FX


def test_fx_is_the_published_text_carried_over_holidays_and_backfilled_at_the_start() -> None:
    days = weekdays(MONDAY, 5)
    euro = {days[0]: "1.2250", days[1]: "1.2300", days[3]: "1.2175"}
    yen = {days[2]: "103.20", days[3]: "103.25", days[4]: "103.30"}
    history = build_history(world(5, DEXUSEU=euro, DEXJPUS=yen), MONDAY)
    assert [d.fx["EURUSD"] for d in history.days] == [
        Decimal(t) for t in ("1.2250", "1.2300", "1.2300", "1.2175", "1.2175")
    ]
    assert str(history.days[0].fx["EURUSD"]) == "1.2250"  # trailing zero kept: never through float
    assert [d.fx["USDJPY"] for d in history.days] == [
        Decimal(t) for t in ("103.20", "103.20", "103.20", "103.25", "103.30")
    ]
    assert history.days[0].fx["GBPUSD"] == Decimal("1.3600")
    assert (
        "DEXUSEU (EURUSD) has no fixing on 2 business days between 2021-01-06 and 2021-01-08 (FX holidays or series end): carried forward"
        in history.notes
    )
    assert (
        "DEXJPUS (USDJPY) starts later than the curve: its first fixing used on 2 business days between 2021-01-04 and 2021-01-05"
        in history.notes
    )


# ---------------------------------------------------------------- the window and the notes


def test_days_before_start_feed_the_signals_but_are_not_returned_or_noted() -> None:
    days = weekdays(MONDAY, 12)
    ten = {d: 1.00 + (0.03 if i % 2 else 0.0) for i, d in enumerate(days)}
    full = build_history(world(12, DGS10=ten), MONDAY)
    late = build_history(world(12, DGS10=ten), days[6])
    assert late.days == full.days[6:]
    assert late.days[0].signals.rate_vol_bp is not None  # type: ignore[union-attr]
    # Fill notes count only days in the window: the 3M from day 7 on is missing in both.
    three = {d: 0.1 for d in days[:3]}
    late = build_history(world(12, DGS3MO=three), days[6])
    assert (
        "DGS3MO (3M) missing on 6 business days between 2021-01-12 and 2021-01-19: filled as the day's 10Y plus the last observed 3M-10Y spread"
        in late.notes
    )


def test_the_rules_are_stated_in_words_with_their_numbers() -> None:
    notes = build_history(world(3), MONDAY).notes
    assert notes[-4:] == (
        "UNRATE and CPIAUCSL are monthly, stamped on the month's first day: a business day uses the latest "
        "month stamped on or before it (FRED's observation date, not its later publication date)",
        "regime: crisis = (fed funds cut >= 1 pt in 3 months or unemployment up >= 1.5 pts in 12 months) and "
        "(10Y realised vol >= 9 bp/day or oil vol >= 80%), or a panic (rate vol >= 12 bp/day with oil vol >= "
        "100%), held 42 business days; stress = any one strain (rate vol >= 8.5 bp/day, oil vol >= 75%, a cut "
        ">= 1 pt, unemployment up >= 1 pt), held 21 days; easing / tightening = fed funds down / up >= 0.2 pt "
        "in 3 months; calm otherwise",
        "regime signals use only data up to the day: 21-day realised vols of the 10Y (bp/day) and of oil "
        "(annualised log returns), fed funds as the median of the last 10 business days' prints vs 91 days "
        "earlier, unemployment vs 12 months earlier",
        "equity drift and vol: exponential smoothing towards the regime's pair, half-life 5 business days, "
        "computed from the first day of the data",
    )


def test_a_zero_oil_print_has_no_log_return_either_side() -> None:
    days = weekdays(MONDAY, 10)
    oil = {d: (50.0 if i % 2 == 0 else 60.0) for i, d in enumerate(days)}
    oil[days[3]] = 0.0
    history = build_history(world(10, DCOILWTICO=oil), MONDAY)
    up, down = math.log(60 / 50), math.log(50 / 60)
    # Returns from days 1, 2, 5, 6, 7 (days 3 and 4 touch the zero): five by day 7.
    assert history.days[6].signals.oil_vol_annual is None  # type: ignore[union-attr]
    expected = statistics.stdev([up, down, up, down, up]) * math.sqrt(252)
    assert history.days[7].signals.oil_vol_annual == pytest.approx(expected)  # type: ignore[union-attr]


def test_a_series_with_no_observations_at_all_is_named() -> None:
    with pytest.raises(ValueError, match=r"^no observations of DFF$"):
        build_history(world(5, DFF={}), MONDAY)
    with pytest.raises(ValueError, match=r"^no observations of DCOILWTICO$"):
        build_history(world(5, DCOILWTICO={}), MONDAY)
    with pytest.raises(ValueError, match=r"^no observations of UNRATE$"):
        build_history(world(5, UNRATE={}), MONDAY)
    with pytest.raises(ValueError, match=r"^no observations of CPIAUCSL$"):
        build_history(world(5, CPIAUCSL={}), MONDAY)


def test_a_week_at_a_new_rate_moves_the_policy_level() -> None:
    """The level is the median of the last 10 prints: after 7 days at 3.00 following months at
    1.00 it is 3.00 (7 of 10), so the 3-month change is +2.00 and the regime tightening; a
    median over every print since the start would still be 1.00."""
    days = weekdays(dt.date(2020, 9, 1), 100)
    dff = {d: (3.00 if i >= 93 else 1.00) for i, d in enumerate(days)}
    history = build_history(world(100, start=days[0], DFF=dff), days[0])
    last = history.days[-1]
    assert last.signals is not None and last.signals.fed_funds_change_3m_pts == pytest.approx(2.0)
    assert (last.regime, last.regime_reason) == ("tightening", "fed funds +2.00 pts in 3 months")
    # Four days in, 4 of 10 prints are 3.00: the median is still 1.00.
    assert history.days[96].signals.fed_funds_change_3m_pts == 0.0  # type: ignore[union-attr]


def test_load_macro_ends_where_asked() -> None:
    history = load_macro(dt.date(2020, 3, 2), dt.date(2020, 3, 31))
    assert (history.days[0].date, history.days[-1].date) == (dt.date(2020, 3, 2), dt.date(2020, 3, 31))


def test_load_macro_with_a_key_reads_fred_at_the_given_address(fake_fred: FakeFred) -> None:  # noqa: F811
    history = load_macro(
        dt.date(2020, 3, 2), dt.date(2020, 3, 6), api_key=VALID_KEY, root_url=fake_fred.root_url
    )
    assert history.source == "fred"
    assert [d.date for d in history.days] == weekdays(dt.date(2020, 3, 2), 5)


def test_oil_volatility_uses_the_last_21_returns_including_prices_under_a_dollar() -> None:
    """Ten days swinging between 50 and 0.50 (a price under a dollar still has a log return),
    then 25 days between 50 and 51: on the last day only the last 21 returns, all small, count."""
    days = weekdays(MONDAY, 35)
    oil = {d: (50.0 if i % 2 == 0 else 0.5) for i, d in enumerate(days[:10])}
    oil |= {d: (50.0 if i % 2 == 0 else 51.0) for i, d in enumerate(days[10:])}
    history = build_history(world(35, DCOILWTICO=oil), MONDAY)
    prices = [oil[d] for d in days]
    returns = [math.log(b / a) for a, b in itertools.pairwise(prices)]
    assert (
        history.days[5].signals.oil_vol_annual
        == pytest.approx(  # type: ignore[union-attr]
            statistics.stdev(returns[:5]) * math.sqrt(252)
        )
    )
    assert (
        history.days[34].signals.oil_vol_annual
        == pytest.approx(  # type: ignore[union-attr]
            statistics.stdev(returns[-21:]) * math.sqrt(252)
        )
    )


def test_nothing_after_end_is_used_even_to_fill_the_start() -> None:
    """Series are cut at end first: a yen fixing that only starts after end cannot be
    back-filled into the window; without any fixing up to end the history cannot be built."""
    days = weekdays(MONDAY, 10)
    yen = {d: "103.20" for d in days[6:]}
    assert build_history(world(10, DEXJPUS=yen), MONDAY).days[0].fx["USDJPY"] == Decimal("103.20")
    with pytest.raises(ValueError, match=r"^no observations of DEXJPUS$"):
        build_history(world(10, DEXJPUS=yen), MONDAY, days[5])
