"""Currency attribution (Karnosky-Singer by currency): one day worked by hand, and the property that
the five effects add up to the base-currency active return whatever the day.

No published worked example with figures was found for Karnosky-Singer (the papers' own tables
are not in text form here), so the day below is worked by hand in the comments, from the
definitions in services/reporting/domain/period_attribution.py and exposure.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.market_events import (
    AssetClass,
    BenchmarkConstituent,
    BenchmarkSegment,
    Instrument,
    Mandate,
)
from services.common.nav.valuation import CashValue, DayValuation, HoldingValue, NavBreakdown
from services.reporting.domain.attribution import link
from services.reporting.domain.exposure import (
    Currency,
    benchmark_exposure,
    currency_days,
    portfolio_exposure,
    reported_dimensions,
)
from services.reporting.domain.period_attribution import attribute_currencies
from services.reporting.domain.total_returns import Move

D = Decimal
MON = dt.date(2021, 3, 1)


def close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) < D("1e-25")


def _equity(iid: str, currency: str) -> Instrument:
    return Instrument(iid, iid, iid, AssetClass.EQUITY, currency, "Tech", "US", D("0.01"), 2)


AAA, BBB = _equity("AAA", "USD"), _equity("BBB", "USD")
EEE, FFF = _equity("EEE", "EUR"), _equity("FFF", "EUR")
INSTRUMENTS = {i.instrument_id: i for i in (AAA, BBB, EEE, FFF)}
MANDATE = Mandate(
    "M1", "Test", "USD", "60 US / 30 European equity / 10 cash", {}, (), 1.0, 0.0, 1.0, D(1000), "FIFO",
    (AssetClass.EQUITY,),
    benchmark_segments=(
        BenchmarkSegment("US equity", 0.6, AssetClass.EQUITY, "USD",
                         (BenchmarkConstituent("AAA", D(100)), BenchmarkConstituent("BBB", D(100)))),
        BenchmarkSegment("European equity", 0.3, AssetClass.EQUITY, "EUR",
                         (BenchmarkConstituent("EEE", D(100)), BenchmarkConstituent("FFF", D(100)))),
        BenchmarkSegment("USD cash", 0.1, None, "USD"),
    ),
    currencies=("USD", "EUR"),
)  # fmt: skip


def _holding(iid: str, currency: str, base_value: str) -> HoldingValue:
    return HoldingValue(iid, currency, D(1), D(1), MON, D(1), D(0), D(1), D(base_value), D(0))


def _valuation(holdings: tuple[HoldingValue, ...], cash: tuple[CashValue, ...], nav: Decimal) -> DayValuation:
    securities = sum((h.base_market_value for h in holdings), D(0))
    return DayValuation(
        "M1", MON, 1, "USD", NavBreakdown(securities, nav - securities, D(0), D(0)), holdings, cash, D(0)
    )


def test_a_day_overweight_the_euro_worked_by_hand() -> None:
    # The day: US equities AAA +2 %, BBB +1 %; European EEE +1 %, FFF 0 % in euros; EURUSD 1.10 ->
    # 1.122, e = +2 %; USD cash earns d = 0.01 % for the day, euro cash nothing.
    currencies = currency_days(
        "USD", ["USD", "EUR"], {"EUR": D("1.10"), "USD": D(1)}.__getitem__,
        {"EUR": D("1.122"), "USD": D(1)}.__getitem__, {"USD": D("0.0001")},
    )  # fmt: skip
    assert currencies == {"EUR": Currency(D("0.02"), D(0)), "USD": Currency(D(0), D("0.0001"))}
    moves = {
        iid: Move(D(10), D(r)) for iid, r in (("AAA", "0.02"), ("BBB", "0.01"), ("EEE", "0.01"), ("FFF", "0"))
    }

    # Portfolio (NAV 1,000): AAA 450, EEE 400 (in dollars), dollar cash 150.
    #   USD: W 0.6; excess x: AAA 0.02 - 0.0001 = 0.0199, cash -0.0001; sum w x = 0.45 x 0.0199 -
    #        0.15 x 0.0001 = 0.00894, so x = 0.0149; c = d = 0.0001; no cross (e = 0).
    #   EUR: W 0.4; x = 0.01, c = (1 + 0)(1.02) - 1 = 0.02, cross x e = 0.0002; base 1.01 x 1.02 - 1.
    #   R_p = 0.45 x 0.02 + 0.4 x 0.0302 = 0.02108.
    previous = _valuation((_holding("AAA", "USD", "450"), _holding("EEE", "EUR", "400")), (), D(1000))
    portfolio = portfolio_exposure(previous, INSTRUMENTS, moves, currencies)
    # Benchmark: US equity 0.6 (AAA, BBB equal caps: 0.015), European 0.3 (EEE, FFF: 0.005 local),
    # USD cash 0.1 earning 0.0001.
    #   USD: W 0.7; sum w x = 0.6 x 0.0149 + 0.1 x 0 = 0.00894, x = 0.00894 / 0.7; c = 0.0001.
    #   EUR: W 0.3; x = 0.005, c = 0.02, cross 0.0001; base 1.005 x 1.02 - 1 = 0.0251.
    #   R_b = 0.6 x 0.015 + 0.1 x 0.0001 + 0.3 x 0.0251 = 0.01654. Active return 0.00454.
    benchmark = benchmark_exposure(MANDATE, INSTRUMENTS, MON, moves, currencies)
    assert portfolio is not None and benchmark is not None
    assert close(portfolio.total_return, D("0.02108")) and close(benchmark.total_return, D("0.01654"))

    day = attribute_currencies("2021-03-02", portfolio, benchmark)
    effects = {e.segment: e for e in day.attribution.segments}
    # X_b = 0.00894 + 0.3 x 0.005 = 0.01044; C_b = 0.7 x 0.0001 + 0.3 x 0.02 = 0.00607.
    x_b_usd = D("0.00894") / D("0.7")
    usd, eur = effects["USD"], effects["EUR"]
    # USD, active weight -0.1: allocation -0.1 (x_b - X_b); selection 0.7 (0.0149 - x_b) = 0.01043
    # - 0.00894 = 0.00149; interaction -0.1 (0.0149 - x_b); currency -0.1 (0.0001 - 0.00607) =
    # 0.000597; cross 0.
    assert close(usd.allocation, D("-0.1") * (x_b_usd - D("0.01044")))
    assert close(usd.selection, D("0.00149"))
    assert close(usd.interaction, D("-0.1") * (D("0.0149") - x_b_usd))
    assert close(usd.currency, D("0.000597")) and usd.cross == 0
    # EUR, active weight +0.1: allocation 0.1 (0.005 - 0.01044) = -0.000544; selection 0.3 (0.01 -
    # 0.005) = 0.0015; interaction 0.1 x 0.005 = 0.0005; currency 0.1 (0.02 - 0.00607) = 0.001393;
    # cross 0.4 x 0.0002 - 0.3 x 0.0001 = 0.00005.
    assert close(eur.allocation, D("-0.000544")) and close(eur.selection, D("0.0015"))
    assert close(eur.interaction, D("0.0005")) and close(eur.currency, D("0.001393"))
    assert close(eur.cross, D("0.00005"))
    # USD -0.000446 + 0.00149 + 0.000597 = 0.001641; EUR 0.002899; together the active 0.00454, and
    # the currency effects together C_p - C_b = (0.6 x 0.0001 + 0.4 x 0.02) - 0.00607 = 0.00199.
    assert close(usd.total, D("0.001641")) and close(eur.total, D("0.002899"))
    assert close(usd.total + eur.total, day.attribution.active_return)
    assert close(usd.currency + eur.currency, D("0.00199"))


def test_foreign_cash_earns_the_currencys_move_in_the_base_currency() -> None:
    currencies = {"EUR": Currency(D("0.02"), D(0)), "USD": Currency(D(0), D(0))}
    previous = _valuation((), (CashValue("EUR", D("100"), D("1.10"), D("110")),), D(1000))
    portfolio = portfolio_exposure(previous, INSTRUMENTS, {}, currencies)
    assert portfolio is not None
    by_currency = portfolio.groups["currency"]
    assert by_currency["EUR"].weight == D("0.11") and by_currency["EUR"].total_return == D("0.02")
    assert by_currency["USD"].weight == D("0.89") and by_currency["USD"].total_return == 0
    assert portfolio.total_return == D("0.0022")  # 0.11 x 2 %
    assert portfolio.groups["asset_class"]["Cash"].weight == 1


def test_only_a_mandate_in_more_than_one_currency_is_attributed_by_currency() -> None:
    assert reported_dimensions(MANDATE) == ("sector", "asset_class", "currency")
    single = Mandate(
        "M2", "Test", "USD", "", {}, (), 1.0, 0.0, 1.0, D(1000), "FIFO", (AssetClass.EQUITY,),
        benchmark_segments=(BenchmarkSegment("USD cash", 1.0, None, "USD"),),
    )  # fmt: skip
    assert reported_dimensions(single) == ("sector", "asset_class")


returns = st.decimals(min_value=D("-0.2"), max_value=D("0.2"), places=6)
values = st.integers(min_value=0, max_value=1000)


@settings(max_examples=200, deadline=None)
@given(
    days=st.lists(
        st.tuples(
            st.tuples(values, values, values, values),  # portfolio: AAA, EEE, EUR cash, USD cash
            st.tuples(returns, returns, returns, returns),  # local returns of AAA, BBB, EEE, FFF
            st.decimals(min_value=D("-0.05"), max_value=D("0.05"), places=6),  # the euro's move
            st.decimals(min_value=D(0), max_value=D("0.001"), places=6),  # USD cash rate
        ),
        min_size=1,
        max_size=5,
    )
)
def test_the_five_effects_add_up_to_the_base_active_return_each_day_and_linked(
    days: list[tuple[tuple[int, int, int, int], tuple[Decimal, ...], Decimal, Decimal]],
) -> None:
    attributed = []
    for (aaa, eee, eur_cash, usd_cash), local, move, rate in days:
        nav = D(aaa + eee + eur_cash + usd_cash)
        if not nav:
            continue
        currencies = {"EUR": Currency(move, D(0)), "USD": Currency(D(0), rate)}
        moves = {iid: Move(D(10), r) for iid, r in zip(("AAA", "BBB", "EEE", "FFF"), local, strict=True)}
        holdings = (_holding("AAA", "USD", str(aaa)), _holding("EEE", "EUR", str(eee)))
        cash = (CashValue("EUR", D(eur_cash), D(1), D(eur_cash)),)
        portfolio = portfolio_exposure(_valuation(holdings, cash, nav), INSTRUMENTS, moves, currencies)
        benchmark = benchmark_exposure(MANDATE, INSTRUMENTS, MON, moves, currencies)
        assert portfolio is not None and benchmark is not None
        day = attribute_currencies("d", portfolio, benchmark).attribution
        assert abs(sum((e.total for e in day.segments), D(0)) - day.active_return) < D("1e-24")
        # The base return the groups add up to is each holding's (1 + r)(1 + e) - 1, weighted.
        expected = (D(aaa) * local[0] + D(eee) * ((1 + local[2]) * (1 + move) - 1) + D(eur_cash) * move) / nav
        assert abs(portfolio.total_return - expected) < D("1e-24")
        attributed.append(day)
    if attributed:
        linked = link(attributed)
        assert abs(sum((e.total for e in linked.segments), D(0)) - linked.active_return) < D("1e-24")
