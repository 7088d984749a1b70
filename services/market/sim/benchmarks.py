"""Each mandate's benchmark by segment, with its constituents and their index units.

A segment of a spec's benchmark_weights ("US equity": 0.58) holds every instrument of the
universe of one asset class and currency. SEGMENTS maps each name to those two explicitly;
an unknown name is an error rather than an empty segment a return could not be computed
from. Within a segment the constituents are cap-weighted: a constituent's value is its
units times its unit price (shares x price; face x clean price / 100), its weight that value
over the segment's. Cash segments have no asset class and no constituents. Bonds leave the
benchmark within ROLL_OFF_YEARS of maturity, as they leave the mandate's targets
(mandates.py); the mandate publishes that figure, and applying it on each date is the
reader's job, so the constituents are every bond the segment ever holds.

Index units. The universe has no shares outstanding or amounts issued, so they are
assumptions, fixed for a run (no issuance, buybacks or reopenings):

- Equities: a free-float market cap drawn log-uniformly between USD 5bn and 500bn
  (USD-equivalent at the opening day's FRED fixings), at the start price:
  units = cap / start price, rounded to whole shares. An assumption, spanning large to
  mega caps. Free float rather than every share issued because index providers weight by
  it: "FFM = Share Price x (Number of Shares Issued - Locked-In Shares) ... The free-float
  methodology has been adopted by most of the world's major indexes. It is widely used by
  Standard and Poor's, MSCI and FTSE." (Investopedia, "Free-Float Methodology",
  https://www.investopedia.com/terms/f/freefloatmethodology.asp).
- US Treasuries: 40bn face each, the size of one new issue in 2019: "The US Treasury will
  be selling $40B of 2 year notes ... The auctions tomorrow will be for $41B 5 year notes,
  and Thurday [sic] they will auction $32B of 7 year notes." (ForexLive, 23 July 2019,
  https://www.forexlive.com/news/!/us-to-sell-40b-of-2-year-notes-at-the-top-of-the-hour-20190723).
  One figure whatever the start year; reopenings, which make long bonds larger, are not modelled.
- Corporate bonds: 1bn face each, in the bond's currency: a benchmark-size issue. An
  assumption; no source was found for a typical size.

Every bond of a segment has the same face, so within a segment bonds weigh by price alone.

Determinism: an equity's draw comes from its own stream, py_stream(seed, "benchmarks.<id>"),
a purpose no other part of the simulation uses. No other stream is touched, so every event
of a run is the same as before benchmarks existed, and adding an instrument never changes
another's units. The draw becomes a cap in Decimal arithmetic (libmpdec, not the platform's
libm), so the units are the same on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from types import MappingProxyType

from services.market.sim.mandates import MANDATE_SPECS, MandateSpec
from services.market.sim.records import AssetClass, BenchmarkConstituent, BenchmarkSegment
from services.market.sim.rng import py_stream
from services.market.sim.universe import Universe

RNG_PURPOSE = "benchmarks"
# Integers, so the records read 40000000000 rather than 4.0E+10.
CAP_LOW_USD = Decimal(5_000_000_000)
CAP_HIGH_USD = Decimal(500_000_000_000)
BOND_FACE: Mapping[AssetClass, Decimal] = MappingProxyType(
    {
        AssetClass.GOVERNMENT_BOND: Decimal(40_000_000_000),
        AssetClass.CORPORATE_BOND: Decimal(1_000_000_000),
    }
)

# Segment name (as in MandateSpec.benchmark_weights) -> (asset class, currency); None: cash.
# "UK equity income" is every GBP equity: the universe has no income screen (each UK name
# pays a dividend); "UK equity" (EQ-EUR's foreign segment) is the same names. A segment in a
# currency other than the mandate's base currency returns in its own currency; turning that
# into the base currency is the reader's job (the day's primary rates).
SEGMENTS: Mapping[str, tuple[AssetClass | None, str]] = MappingProxyType(
    {
        "US equity": (AssetClass.EQUITY, "USD"),
        "US Treasuries": (AssetClass.GOVERNMENT_BOND, "USD"),
        "USD IG credit": (AssetClass.CORPORATE_BOND, "USD"),
        "USD cash": (None, "USD"),
        "European equity": (AssetClass.EQUITY, "EUR"),
        "EUR cash": (None, "EUR"),
        "UK equity income": (AssetClass.EQUITY, "GBP"),
        "UK equity": (AssetClass.EQUITY, "GBP"),
        "GBP IG credit": (AssetClass.CORPORATE_BOND, "GBP"),
        "GBP cash": (None, "GBP"),
        "Japanese equity": (AssetClass.EQUITY, "JPY"),
        "JPY cash": (None, "JPY"),
    }
)

# 28 significant digits: a cap of 500bn keeps 16 decimals, far past a whole share.
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
_WHOLE = Decimal(1)


def segment_of(name: str) -> tuple[AssetClass | None, str]:
    """(asset class, currency) of a segment name; ValueError naming the known ones."""
    try:
        return SEGMENTS[name]
    except KeyError:
        raise ValueError(f"benchmark segment {name!r} is not one of {', '.join(SEGMENTS)}") from None


def local_per_usd(currency: str, fx: Mapping[str, Decimal]) -> Decimal:
    """Units of `currency` per USD from the FRED pairs: USDJPY as quoted, EURUSD and GBPUSD
    (USD per unit) inverted."""
    if currency == "USD":
        return Decimal(1)
    if f"USD{currency}" in fx:
        return fx[f"USD{currency}"]
    if f"{currency}USD" in fx:
        with localcontext(_CONTEXT):
            return 1 / fx[f"{currency}USD"]
    raise ValueError(f"currency {currency!r}: no USD{currency} or {currency}USD rate to convert a cap")


def equity_units(start_price: Decimal, draw: float, local_per_usd: Decimal) -> Decimal:
    """Whole shares of a free-float cap drawn log-uniformly: draw 0 is USD 5bn, 1 is USD 500bn.

    cap = 5bn * 100 ** draw (USD), so draw 0.5 is 50bn, the range's geometric middle.
    """
    if not 0.0 <= draw <= 1.0:
        raise ValueError(f"draw: must be in [0, 1], not {draw}")
    with localcontext(_CONTEXT):
        cap_usd = CAP_LOW_USD * (CAP_HIGH_USD / CAP_LOW_USD) ** Decimal(draw)
        return (cap_usd * local_per_usd / start_price).quantize(_WHOLE, rounding=ROUND_HALF_EVEN)


def index_units(universe: Universe, seed: int, fx: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Every instrument's index units, in universe order (module docstring: the figures)."""
    units: dict[str, Decimal] = {}
    for instrument in universe.instruments:
        if instrument.asset_class is AssetClass.EQUITY:
            spec = universe.equity_specs[instrument.instrument_id]
            # One stream per instrument: its units never depend on which others exist.
            draw = py_stream(seed, f"{RNG_PURPOSE}.{instrument.instrument_id}").random()
            rate = local_per_usd(instrument.currency, fx)
            units[instrument.instrument_id] = equity_units(Decimal(spec.start_price), draw, rate)
        else:
            units[instrument.instrument_id] = BOND_FACE[instrument.asset_class]
    return units


def _segment(name: str, weight: float, universe: Universe, units: Mapping[str, Decimal]) -> BenchmarkSegment:
    asset_class, currency = segment_of(name)
    if asset_class is None:
        return BenchmarkSegment(name, weight, None, currency)
    constituents = tuple(
        BenchmarkConstituent(i.instrument_id, units[i.instrument_id])
        for i in universe.instruments
        if i.asset_class is asset_class and i.currency == currency
    )
    if not constituents:
        raise ValueError(f"benchmark segment {name!r}: the universe has no {asset_class} in {currency}")
    return BenchmarkSegment(name, weight, asset_class, currency, constituents)


def build_benchmarks(
    universe: Universe,
    seed: int,
    fx: Mapping[str, Decimal],
    specs: Sequence[MandateSpec] = MANDATE_SPECS,
) -> dict[str, tuple[BenchmarkSegment, ...]]:
    """mandate_id -> its benchmark's segments, in the spec's order, with the spec's weights.

    fx: the opening day's FRED pairs (EURUSD, GBPUSD, USDJPY), to put equities' caps in
    their own currency.
    """
    units = index_units(universe, seed, fx)
    return {
        spec.mandate_id: tuple(
            _segment(name, weight, universe, units) for name, weight in spec.benchmark_weights.items()
        )
        for spec in specs
    }
