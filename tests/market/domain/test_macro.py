"""The macro history: calendar alignment, exact FX, gap filling, the regime and its equity parameters."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from decimal import Decimal

import pytest

from services.market.fred import load_macro, load_snapshot
from services.market.sim.macro import REGIME_EQUITY, REGIMES, TENORS, MacroDay, MacroHistory, build_history
from services.market.sim.series import SeriesSet
from tests.market.fake_fred import FakeFred, fake_fred  # noqa: F401 - the fixture

FIRST, LAST = dt.date(1999, 1, 4), dt.date(2021, 1, 4)


@pytest.fixture(scope="module")
def history() -> MacroHistory:
    return build_history(load_snapshot(), FIRST)


def _between(history: MacroHistory, start: dt.date, end: dt.date) -> list[MacroDay]:
    return [day for day in history.days if start <= day.date <= end]


def _edit(
    series: SeriesSet, series_id: str, change: Callable[[dt.date, float | None], float | None]
) -> SeriesSet:
    observations = dict(series.observations)
    observations[series_id] = {
        day: change(day, value) for day, value in series.observations[series_id].items()
    }
    text = dict(series.text)
    text[series_id] = {day: repr(v) for day, v in observations[series_id].items() if v is not None}
    return SeriesSet(observations, series.source, series.notes, text)


def test_business_days_are_the_treasury_days(history: MacroHistory) -> None:
    dgs10 = load_snapshot().observations["DGS10"]
    assert [day.date for day in history.days] == sorted(d for d, v in dgs10.items() if v is not None)
    assert history.days[0].date == FIRST and history.days[-1].date == LAST
    assert history.source == "snapshot"
    for day in history.days:
        assert set(day.yields_pct) == set(TENORS)
        assert day.regime in REGIMES
        assert set(day.fx) == {"EURUSD", "GBPUSD", "USDJPY"}


def test_start_outside_the_data_names_the_available_range() -> None:
    series = load_snapshot()
    with pytest.raises(ValueError, match=r"from 1999-01-04 to 2021-01-04"):
        build_history(series, dt.date(1998, 12, 31))
    with pytest.raises(ValueError, match=r"from 1999-01-04 to 2021-01-04"):
        build_history(series, dt.date(2021, 1, 5))


def test_index_of_finds_the_next_business_day_and_rejects_outside_dates(history: MacroHistory) -> None:
    saturday = dt.date(2020, 3, 14)
    assert history.days[history.index_of(saturday)].date == dt.date(2020, 3, 16)
    assert history.days[history.index_of(FIRST)].date == FIRST
    with pytest.raises(ValueError, match=r"1999-01-04 \.\. 2021-01-04"):
        history.index_of(dt.date(2021, 1, 5))
    with pytest.raises(ValueError, match=r"1999-01-04 \.\. 2021-01-04"):
        history.index_of(dt.date(1990, 1, 1))


def test_a_window_starts_and_ends_where_asked() -> None:
    window = build_history(load_snapshot(), dt.date(2008, 9, 13), dt.date(2008, 9, 30))
    assert window.days[0].date == dt.date(2008, 9, 15)  # the 13th is a Saturday
    assert window.days[-1].date == dt.date(2008, 9, 30)


def test_fx_is_exactly_the_published_text(history: MacroHistory) -> None:
    day = history.days[history.index_of(dt.date(1999, 1, 5))]
    assert day.fx["EURUSD"] == Decimal("1.1760")
    assert str(day.fx["EURUSD"]) == "1.1760"  # not via float, which would give 1.176
    text = load_snapshot().text
    for macro_day in _between(history, dt.date(2015, 1, 1), dt.date(2015, 3, 1)):
        if macro_day.date in text["DEXJPUS"]:
            assert macro_day.fx["USDJPY"] == Decimal(text["DEXJPUS"][macro_day.date])


def test_fx_holiday_carries_the_last_fixing_forward(history: MacroHistory) -> None:
    # 2010-12-31: Treasuries traded (DGS10 3.30), the H.10 FX release has "." for that day.
    day = history.days[history.index_of(dt.date(2010, 12, 31))]
    assert day.date == dt.date(2010, 12, 31)
    assert day.fx["EURUSD"] == Decimal("1.3269")  # the 2010-12-30 fixing
    assert any("DEXUSEU" in note and "carried forward" in note for note in history.notes)


def test_monthly_series_use_the_latest_month_on_or_before_the_date(history: MacroHistory) -> None:
    assert history.days[history.index_of(dt.date(2008, 10, 31))].unemployment_pct == 6.5  # UNRATE 2008-10-01
    assert history.days[history.index_of(dt.date(2008, 11, 3))].unemployment_pct == 6.8  # UNRATE 2008-11-01
    # CPI YoY for 2008-10: CPIAUCSL 2008-10-01 over 2007-10-01.
    cpi = load_snapshot().observations["CPIAUCSL"]
    expected = (cpi[dt.date(2008, 10, 1)] / cpi[dt.date(2007, 10, 1)] - 1.0) * 100.0  # type: ignore[operator]
    assert history.days[history.index_of(dt.date(2008, 10, 15))].cpi_yoy_pct == pytest.approx(expected)


def test_breakeven_is_t10yie_from_2003_and_cpi_yoy_before(history: MacroHistory) -> None:
    before = history.days[history.index_of(dt.date(2002, 6, 3))]
    assert before.breakeven_pct == before.cpi_yoy_pct
    after = history.days[history.index_of(dt.date(2003, 1, 2))]
    assert after.breakeven_pct == 1.64  # T10YIE 2003-01-02
    assert any("T10YIE" in note and "proxy" in note for note in history.notes)


def test_oil_is_carried_past_the_end_of_its_series_and_said_so(history: MacroHistory) -> None:
    assert history.days[-1].oil_usd == 31.72  # DCOILWTICO's last value, 2020-03-13
    assert any("DCOILWTICO" in note and "carried forward" in note for note in history.notes)
    assert any("oil volatility left out" in note for note in history.notes)


def test_rate_change_is_the_10y_move_in_basis_points(history: MacroHistory) -> None:
    i = history.index_of(dt.date(2020, 3, 9))
    today, yesterday = history.days[i], history.days[i - 1]
    assert today.rate_change_bp == pytest.approx(
        (today.yields_pct["10Y"] - yesterday.yields_pct["10Y"]) * 100
    )
    assert history.days[0].rate_change_bp == 0.0


def test_the_30y_gap_is_filled_from_the_10y_and_the_last_spread() -> None:
    # FRED's DGS30 has no values from 2002-02-19 to 2006-02-08 (the 30-year was not issued). The
    # shipped snapshot happens to carry values there, so cut them out to reproduce FRED's gap.
    gap_start, gap_end = dt.date(2002, 2, 19), dt.date(2006, 2, 8)
    snapshot = load_snapshot()
    gapped = _edit(snapshot, "DGS30", lambda day, value: None if gap_start <= day <= gap_end else value)
    history = build_history(gapped, dt.date(2001, 1, 2), dt.date(2007, 1, 2))

    ten, thirty = snapshot.observations["DGS10"], snapshot.observations["DGS30"]
    last = dt.date(2002, 2, 15)  # the last DGS30 value before the gap
    spread = thirty[last] - ten[last]  # type: ignore[operator]
    for day in _between(history, gap_start, gap_end):
        assert day.yields_pct["30Y"] == pytest.approx(day.yields_pct["10Y"] + spread)
    after = history.days[history.index_of(dt.date(2006, 2, 9))]
    assert after.yields_pct["30Y"] == thirty[dt.date(2006, 2, 9)]
    [note] = [n for n in history.notes if n.startswith("DGS30")]
    assert "2002-02-19" in note and "2006-02-08" in note and "spread" in note


def test_late_2008_is_a_crisis(history: MacroHistory) -> None:
    days = _between(history, dt.date(2008, 10, 1), dt.date(2008, 11, 30))
    assert len(days) == 40  # 22 business days in October, 18 in November
    assert {day.regime for day in days} == {"crisis"}


def test_march_april_2020_is_a_crisis(history: MacroHistory) -> None:
    # The shock hits in the second week of March: stress from the 9th (oil and rate vol), crisis
    # from the 17th (both markets in panic), then the fed's 1.5 pt of cuts keep it there.
    assert {d.regime for d in _between(history, dt.date(2020, 3, 9), dt.date(2020, 4, 30))} <= {
        "stress",
        "crisis",
    }
    assert {d.regime for d in _between(history, dt.date(2020, 3, 17), dt.date(2020, 4, 30))} == {"crisis"}
    spring = _between(history, dt.date(2020, 3, 1), dt.date(2020, 4, 30))
    assert sum(d.regime == "crisis" for d in spring) > len(spring) / 2


def test_mid_2017_is_calm_or_tightening(history: MacroHistory) -> None:
    days = _between(history, dt.date(2017, 5, 1), dt.date(2017, 8, 31))
    assert {day.regime for day in days} <= {"calm", "tightening"}


def test_2004_to_2006_is_mostly_tightening(history: MacroHistory) -> None:
    days = _between(history, dt.date(2004, 1, 1), dt.date(2006, 12, 31))
    share = sum(day.regime == "tightening" for day in days) / len(days)
    assert share > 0.5


def test_equity_vol_in_october_2008_is_far_above_june_2017(history: MacroHistory) -> None:
    october_2008 = statistics.mean(
        d.equity_vol_annual for d in _between(history, dt.date(2008, 10, 1), dt.date(2008, 10, 31))
    )
    june_2017 = statistics.mean(
        d.equity_vol_annual for d in _between(history, dt.date(2017, 6, 1), dt.date(2017, 6, 30))
    )
    assert october_2008 >= 2.5 * june_2017
    assert (
        statistics.mean(
            d.equity_drift_annual for d in _between(history, dt.date(2008, 10, 1), dt.date(2008, 11, 30))
        )
        < 0
    )


def test_equity_parameters_move_smoothly_towards_the_regime(history: MacroHistory) -> None:
    vols = [pair[1] for pair in REGIME_EQUITY.values()]
    drifts = [pair[0] for pair in REGIME_EQUITY.values()]
    for before, after in zip(history.days, history.days[1:], strict=False):
        # A whole calm -> crisis swing is 0.40 of vol: no single day moves more than a fifth of it.
        assert abs(after.equity_vol_annual - before.equity_vol_annual) <= 0.08
        assert abs(after.equity_drift_annual - before.equity_drift_annual) <= 0.08
        assert min(vols) <= after.equity_vol_annual <= max(vols)
        assert min(drifts) <= after.equity_drift_annual <= max(drifts)


@pytest.mark.parametrize(
    "day", [dt.date(2001, 9, 17), dt.date(2008, 10, 15), dt.date(2017, 6, 30), dt.date(2020, 3, 20)]
)
def test_no_look_ahead(day: dt.date) -> None:
    series = load_snapshot()
    ending_that_day = build_history(series, day, day).days[-1]
    year_later = build_history(series, dt.date(2000, 1, 3), day + dt.timedelta(days=365))
    assert ending_that_day.date == day
    assert year_later.days[year_later.index_of(day)] == ending_that_day

    # Rewrite every observation after the day: nothing on the day may change.
    def scramble(series_id: str) -> Callable[[dt.date, float | None], float | None]:
        return lambda d, v: (v * 1.7 + 3.0 if v is not None else 1.0) if d > day else v

    future_changed = series
    for series_id in series.observations:
        future_changed = _edit(future_changed, series_id, scramble(series_id))
    changed = build_history(future_changed, day)
    assert changed.days[0] == ending_that_day


def test_load_macro_without_a_key_uses_the_snapshot() -> None:
    history = load_macro(dt.date(2020, 3, 2), dt.date(2020, 3, 31))
    assert history.source == "snapshot"
    assert history.days[0].date == dt.date(2020, 3, 2)


def test_load_macro_with_a_bad_key_falls_back_and_notes_it(fake_fred: FakeFred) -> None:  # noqa: F811
    history = load_macro(dt.date(2020, 3, 2), api_key="not-a-registered-key", root_url=fake_fred.root_url)
    assert history.source == "snapshot"
    assert any("falling back" in note for note in history.notes)
