"""The universe's rules: new-issue coupons, bond records and symbols, equity conventions, lookups, lots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.market.sim.records import AssetClass, Instrument
from services.market.sim.universe import (
    BONDS,
    EQUITIES,
    MARKETS,
    build_universe,
    coupon_for_yield,
    equity_id,
    is_bond,
    lot_size,
)

START = dt.date(2021, 6, 7)


def _flat(level: float) -> dict[str, float]:
    return dict.fromkeys(("3M", "2Y", "5Y", "10Y", "30Y"), level)


@pytest.mark.parametrize(
    ("yield_pct", "coupon"),
    [
        (1.54, "1.5"),  # 12.32 eighths -> 12
        (1.625, "1.625"),  # exactly 13 eighths: kept
        (1.6249, "1.5"),  # just below 13 eighths: floored to 12
        (1.6251, "1.625"),  # just above
        (0.25, "0.25"),  # 2 eighths
        (0.125, "0.125"),  # 1 eighth: the minimum itself
        (0.1249, "0.125"),  # 0 eighths: raised to the minimum
        (0.0, "0.125"),
        (-0.4, "0.125"),  # a negative yield still gets the minimum coupon
    ],
)
def test_a_new_issue_coupon_is_the_yield_floored_to_an_eighth_and_at_least_an_eighth(
    yield_pct: float, coupon: str
) -> None:
    assert coupon_for_yield(yield_pct) == Decimal(coupon)


def test_bonds_are_issued_on_the_start_date_with_coupons_off_the_curve_plus_spread() -> None:
    """Flat curve at 1.905 %. Treasuries: 1.905 / 0.125 = 15.24 eighths -> 1 7/8. Corporates: the curve
    plus the spread: HRBK 1.905 + 1.10 = 3.005 -> 3 (24.04 eighths; a spread read as 110/101 = 1.089 %
    would give 2.994 -> 2 7/8); ATLS +1.40 = 3.305 -> 3 1/4; PTRX +2.10 = 4.005 -> 4;
    MDWY +1.30 = 3.205 -> 3 1/8; BRCN +1.65 = 3.555 -> 3 1/2; NSPL +1.90 = 3.805 -> 3 3/4;
    GRVS +1.50 = 3.405 -> 3 3/8. Each matures on the 15th of the start month, tenor years later."""
    universe = build_universe(START, _flat(1.905))
    bonds = [i for i in universe.instruments if i.maturity is not None]
    assert [(b.symbol, b.coupon_rate_pct) for b in bonds] == [
        ("T 1 7/8 06/15/23", Decimal("1.875")),
        ("T 1 7/8 06/15/24", Decimal("1.875")),
        ("T 1 7/8 06/15/26", Decimal("1.875")),
        ("T 1 7/8 06/15/28", Decimal("1.875")),
        ("T 1 7/8 06/15/31", Decimal("1.875")),
        ("T 1 7/8 06/15/41", Decimal("1.875")),
        ("T 1 7/8 06/15/51", Decimal("1.875")),
        ("HRBK 3 06/15/26", Decimal(3)),
        ("ATLS 3 1/4 06/15/28", Decimal("3.25")),
        ("PTRX 4 06/15/31", Decimal(4)),
        ("MDWY 3 1/8 06/15/29", Decimal("3.125")),
        ("BRCN 3 1/2 06/15/27", Decimal("3.5")),
        ("NSPL 3 3/4 06/15/28", Decimal("3.75")),
        ("GRVS 3 3/8 06/15/31", Decimal("3.375")),
    ]
    by_id = {b.instrument_id: b for b in bonds}
    assert by_id["UST-20310615"] == Instrument(
        "UST-20310615", "T 1 7/8 06/15/31", "United States Treasury 1.875% 15 Jun 2031",
        AssetClass.GOVERNMENT_BOND, "USD", "Government", "US", Decimal("0.001"), 1,
        Decimal("1.875"), dt.date(2031, 6, 15), 2, "United States Treasury", 0, "ACT/ACT",
        "US2UU7LQGC16", "2UU7LQGC1",
    )  # fmt: skip
    assert by_id["MDWY-20290615"] == Instrument(
        "MDWY-20290615", "MDWY 3 1/8 06/15/29", "Medway Utilities 3.125% 15 Jun 2029",
        AssetClass.CORPORATE_BOND, "GBP", "Corporate Credit", "UK", Decimal("0.001"), 2,
        Decimal("3.125"), dt.date(2029, 6, 15), 2, "Medway Utilities", 130, "30/360",
        "GB00MWV69S04", "",
    )  # fmt: skip


def test_coupon_symbols_show_whole_percent_and_eighths_only_where_present() -> None:
    """A zero curve: Treasuries get the minimum 1/8 (no whole part: "T 1/8"), HRBK 0 + 1.10 -> 1
    (no fraction: "HRBK 1"), ATLS 1.40 -> 1 3/8."""
    universe = build_universe(START, _flat(0.0))
    symbols = [i.symbol for i in universe.instruments if i.maturity is not None]
    assert symbols[0] == "T 1/8 06/15/23"
    assert symbols[7:9] == ["HRBK 1 06/15/26", "ATLS 1 3/8 06/15/28"]


def test_a_coupon_reads_the_curve_at_the_exact_years_to_maturity() -> None:
    """The 2Y Treasury runs 2021-06-07 -> 2023-06-15: 730 + 8 = 738 days = 738 / 365.25 = 2.020534 years.
    With the curve at 1.99 % at 2 years rising to 3.49 % at 5 (0.5 % a year), its yield is
    1.99 + 0.5 x 0.020534 = 2.000267 %: just above 2, so the coupon is 2. Years counted any other way
    (738 / 366.25 = 2.015017 gives 1.997508 %) would fall below 2 and give 1 7/8."""
    curve = {"3M": 1.99, "2Y": 1.99, "5Y": 3.49, "10Y": 3.49, "30Y": 3.49}
    two_year = build_universe(START, curve).instruments[len(EQUITIES)]
    assert two_year.maturity == dt.date(2023, 6, 15)
    assert two_year.coupon_rate_pct == Decimal(2)
    assert two_year.symbol == "T 2 06/15/23"


def test_equities_take_their_markets_conventions_and_are_keyed_by_market_and_symbol() -> None:
    universe = build_universe(START, _flat(2.0))
    equities = universe.instruments[: len(EQUITIES)]
    assert [i.instrument_id for i in equities] == [f"{s.market}-{s.symbol}" for s in EQUITIES]
    assert all(i.asset_class is AssetClass.EQUITY for i in equities)
    assert len(universe.instruments) == len(EQUITIES) + len(BONDS)
    assert universe.get("JP-6987") == Instrument(
        "JP-6987", "6987", "Hoshino Electronics", AssetClass.EQUITY, "JPY", "Information Technology", "JP",
        Decimal(1), 2, isin="JP3126798226",
    )  # fmt: skip
    assert universe.get("UK-BRCN") == Instrument(
        "UK-BRCN",
        "BRCN",
        "Brackenridge Bank",
        AssetClass.EQUITY,
        "GBP",
        "Financials",
        "UK",
        Decimal("0.01"),
        2,
        isin="GB00D4LHPK05",
    )
    # The model parameters are keyed by the same ids.
    assert universe.equity_specs["EU-SOLV"] == next(s for s in EQUITIES if s.symbol == "SOLV")
    assert set(universe.equity_specs) == {equity_id(s) for s in EQUITIES}


def test_an_unknown_instrument_is_a_key_error_naming_it_and_not_in_the_universe() -> None:
    universe = build_universe(START, _flat(2.0))
    assert "US-NWSF" in universe and "UST-20230615" in universe
    assert "US-NOPE" not in universe
    with pytest.raises(KeyError, match="unknown instrument 'US-NOPE'"):
        universe.get("US-NOPE")


def test_lots_are_a_thousand_face_for_bonds_and_the_markets_round_lot_for_equities() -> None:
    universe = build_universe(START, _flat(2.0))
    assert lot_size(universe.get("JP-6987")) == Decimal(100) == MARKETS["JP"].lot_size
    assert lot_size(universe.get("US-NWSF")) == Decimal(1)
    assert lot_size(universe.get("UST-20230615")) == Decimal(1000)
    assert lot_size(universe.get("HRBK-20260615")) == Decimal(1000)
    assert [is_bond(universe.get(i)) for i in ("US-NWSF", "UST-20230615", "HRBK-20260615")] == [
        False,
        True,
        True,
    ]
