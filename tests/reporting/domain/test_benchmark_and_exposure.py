"""A day's total returns, the benchmark's cap-weighted return and the weights by group, worked by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.common.market_events import (
    AssetClass,
    BenchmarkConstituent,
    BenchmarkSegment,
    Instrument,
    Mandate,
)
from services.common.nav.valuation import DayValuation, HoldingValue, NavBreakdown
from services.reporting.domain.exposure import (
    CASH,
    Currency,
    benchmark_exposure,
    currency_days,
    daily_cash_rate,
    portfolio_exposure,
)
from services.reporting.domain.total_returns import Move, TotalReturns

D = Decimal
MON, TUE = dt.date(2021, 3, 1), dt.date(2021, 3, 2)


def close(a: Decimal, b: Decimal) -> bool:
    """Equal but for the last of Decimal's 28 digits (the sums are taken in another order)."""
    return abs(a - b) < D("1e-25")


def _equity(iid: str, sector: str) -> Instrument:
    return Instrument(iid, iid, iid, AssetClass.EQUITY, "USD", sector, "US", D("0.01"), 2)


BOND = Instrument(
    "UST-2031", "UST", "Treasury 2% 2031", AssetClass.GOVERNMENT_BOND, "USD", "Government", "US", D("0.001"), 1,
    coupon_rate_pct=D("2"), maturity=dt.date(2031, 3, 1), coupons_per_year=2,
)  # fmt: skip
SHORT_BOND = Instrument(
    "UST-2021", "UST", "Treasury 1% 2021", AssetClass.GOVERNMENT_BOND, "USD", "Government", "US", D("0.001"), 1,
    coupon_rate_pct=D("1"), maturity=dt.date(2021, 6, 1), coupons_per_year=2,
)  # fmt: skip
AAA, BBB = _equity("AAA", "Tech"), _equity("BBB", "Energy")
INSTRUMENTS = {i.instrument_id: i for i in (AAA, BBB, BOND, SHORT_BOND)}


def _mandate() -> Mandate:
    return Mandate(
        "M1", "Test", "USD", "60 equity / 30 bonds / 10 cash", {}, (), 1.0, 0.0, 1.0, D(1000), "FIFO",
        (AssetClass.EQUITY, AssetClass.GOVERNMENT_BOND),
        benchmark_segments=(
            BenchmarkSegment("Equity", 0.6, AssetClass.EQUITY, "USD",
                             (BenchmarkConstituent("AAA", D(100)), BenchmarkConstituent("BBB", D(300)))),
            BenchmarkSegment("Bonds", 0.3, AssetClass.GOVERNMENT_BOND, "USD",
                             (BenchmarkConstituent("UST-2031", D(1000)), BenchmarkConstituent("UST-2021", D(1000)))),
            BenchmarkSegment("Cash", 0.1, None, "USD"),
        ),
        benchmark_roll_off_years=0.5,
    )  # fmt: skip


def test_a_bonds_total_return_adds_the_coupon_on_the_day_its_accrued_falls_back() -> None:
    returns = TotalReturns([BOND])
    assert returns.day_end(MON, {"UST-2031": (D("99.000"), D("0.98"))}, {}) == {}  # nothing before it
    # Full price 99.000 + 0.98 = 99.98 per 100; the next day the coupon (2 % / 2 = 1.00 per 100) is
    # paid and the accrued restarts at 0.01: (99.100 + 0.01 + 1.00) / 99.98 - 1.
    moves = returns.day_end(TUE, {"UST-2031": (D("99.100"), D("0.01"))}, {})
    assert moves["UST-2031"] == Move(D("0.9998"), (D("0.99100") + D("0.0001") + D("0.01")) / D("0.9998") - 1)


def test_an_equitys_total_return_counts_its_dividend_on_the_ex_date() -> None:
    returns = TotalReturns([AAA])
    returns.day_end(MON, {"AAA": (D("50.00"), D(0))}, {})
    # Price falls 50.00 -> 49.60 as 0.50 goes ex: (49.60 + 0.50) / 50.00 - 1 = +0.2 %.
    assert returns.day_end(TUE, {"AAA": (D("49.60"), D(0))}, {"AAA": D("0.50")})["AAA"].total_return == D(
        "0.002"
    )


def test_the_benchmark_weighs_segments_by_policy_and_constituents_by_cap() -> None:
    moves = {
        "AAA": Move(D(10), D("0.10")),  # cap 100 x 10 = 1,000
        "BBB": Move(D(20), D("-0.05")),  # cap 300 x 20 = 6,000
        "UST-2031": Move(D("0.98"), D("0.01")),
        "UST-2021": Move(D("1.00"), D("0.50")),  # within 0.5 years of maturity: out of the benchmark
    }
    rate = daily_cash_rate(0.09, 1)
    assert rate == {"USD": D("0.0000025")}  # 0.09 % / 100 x 1 / 360
    currencies = currency_days("USD", ["USD"], None, lambda ccy: D(1), rate)
    assert currencies == {"USD": Currency(D(0), D("0.0000025"))}
    exposure = benchmark_exposure(_mandate(), INSTRUMENTS, MON, moves, currencies)
    assert exposure is not None
    equity = D(1000) / D(7000) * D("0.10") + D(6000) / D(7000) * D("-0.05")  # -0.2 / 7
    assert close(exposure.total_return, D("0.6") * equity + D("0.3") * D("0.01") + D("0.1") * D("0.0000025"))
    sectors = exposure.groups["sector"]
    assert close(sectors["Tech"].weight, D("0.6") / 7) and sectors["Tech"].total_return == D("0.10")
    assert close(sectors["Energy"].weight, D("0.6") * 6 / 7)
    assert sectors["Government"].weight == D("0.3")  # the short bond left, its weight went to the other
    assert sectors[CASH].weight == D("0.1")
    classes = exposure.groups["asset_class"]
    assert set(classes) == {"EQUITY", "GOVERNMENT_BOND", CASH}
    assert close(classes["EQUITY"].total_return, equity)


def test_no_benchmark_return_until_every_segment_has_a_priced_constituent() -> None:
    assert benchmark_exposure(_mandate(), INSTRUMENTS, MON, {"AAA": Move(D(10), D(0))}, {}) is None


def test_the_portfolio_weighs_yesterdays_holdings_over_yesterdays_nav_and_the_rest_is_cash() -> None:
    def holding(iid: str, value: str, accrued: str = "0") -> HoldingValue:
        return HoldingValue(iid, "USD", D(1), D(1), MON, D(value), D(accrued), D(1), D(value), D(accrued))

    # NAV 1,000 = 500 AAA + 300 bond (290 + 10 accrued) + 200 cash and the rest.
    previous = DayValuation(
        "M1", MON, 10, "USD", NavBreakdown(D(790), D(200), D(10), D(0)),
        (holding("AAA", "500"), holding("UST-2031", "290", "10")), (), D(0),
    )  # fmt: skip
    moves = {"AAA": Move(D(50), D("0.02")), "UST-2031": Move(D(1), D("-0.01"))}
    exposure = portfolio_exposure(previous, INSTRUMENTS, moves, {})
    assert exposure is not None
    classes = exposure.groups["asset_class"]
    assert classes["EQUITY"].weight == D("0.5") and classes["GOVERNMENT_BOND"].weight == D("0.3")
    assert classes[CASH].weight == D("0.2") and classes[CASH].total_return == 0
    assert exposure.total_return == D("0.5") * D("0.02") + D("0.3") * D("-0.01")  # 0.7 %
