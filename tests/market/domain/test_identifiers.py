"""ISINs and CUSIPs of the universe: valid for python-stdnum, unique, shaped per market, and fixed by
the instrument id alone (no seed, no draw)."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum import cusip, isin
from stdnum.gb import sedol

from services.market.sim.identifiers import cusip_for, identifiers, isin_for, national_id
from services.market.sim.records import Instrument
from services.market.sim.universe import build_universe

CURVES = (
    {"3M": 1.5, "2Y": 1.4, "5Y": 1.4, "10Y": 1.6, "30Y": 2.0},
    {"3M": 0.0, "2Y": 0.0, "5Y": 0.0, "10Y": 0.0, "30Y": 0.0},
)
STARTS = (dt.date(2019, 1, 2), dt.date(2020, 2, 3), dt.date(2024, 6, 7))


def _universes() -> list[tuple[Instrument, ...]]:
    return [build_universe(start, curve).instruments for start in STARTS for curve in CURVES]


@pytest.mark.parametrize("instruments", _universes())
def test_every_isin_and_cusip_of_the_universe_validates_and_is_unique(
    instruments: tuple[Instrument, ...],
) -> None:
    assert all(isin.is_valid(i.isin) for i in instruments), [i.isin for i in instruments]
    assert len({i.isin for i in instruments}) == len(instruments)
    us = [i for i in instruments if i.market == "US"]
    assert us and all(cusip.is_valid(i.cusip) for i in us)
    assert len({i.cusip for i in us}) == len(us)
    assert all(i.cusip == "" for i in instruments if i.market != "US")


def test_each_market_has_its_country_and_national_id() -> None:
    """US: the CUSIP inside the ISIN; EU: DE and a WKN-shaped id after 000; UK: GB00 and a SEDOL
    (a letter first, valid check digit); JP: JP3."""
    for instrument in build_universe(*STARTS[:1], CURVES[0]).instruments:
        code, cusip_code = instrument.isin, instrument.cusip
        if instrument.market == "US":
            assert code == "US" + cusip_code + isin.calc_check_digit("US" + cusip_code)
            assert cusip_code[-1] == cusip.calc_check_digit(cusip_code[:-1])
        elif instrument.market == "EU":
            assert code.startswith("DE000") and "I" not in code[5:11] and "O" not in code[5:11]
        elif instrument.market == "UK":
            assert code.startswith("GB00") and sedol.is_valid(code[4:11]) and code[4].isalpha()
        else:
            assert instrument.market == "JP" and code.startswith("JP3") and code[2:11].isdigit()


def test_the_identifiers_depend_on_the_instrument_id_only() -> None:
    """Same id, same identifiers, in any universe; a bond's id holds its maturity, so another
    start date gives the bond another id and other identifiers."""
    first, second = (build_universe(start, CURVES[0]).instruments for start in STARTS[:2])
    for a, b in zip(first, second, strict=True):
        if a.instrument_id == b.instrument_id:
            assert (a.isin, a.cusip) == (b.isin, b.cusip)
        else:
            assert a.isin != b.isin
    assert identifiers("US-NWSF", "US") == (isin_for("US-NWSF", "US"), cusip_for("US-NWSF"))
    # Pinned: a change of the derivation changes every published id, which followers may store.
    assert identifiers("US-NWSF", "US") == ("US1ARXCY7V45", "1ARXCY7V4")
    assert identifiers("EU-RHNA", "EU") == ("DE000F2E60E9", "")


def test_an_unknown_market_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^market: no ISIN country for 'XX'"):
        national_id("XX-A", "XX")
