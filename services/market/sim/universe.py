"""The tradable universe: 40 equities in four markets, US Treasuries and corporate bonds.

Everything here is reference data kept in code so a reader sees it in one place.
Companies are fictional (their prices are simulated, so real names would
mislead); sectors follow GICS names. Conventions by market:

| market | currency | tick | settlement | round lot | commission | fees |
|---|---|---|---|---|---|---|
| US | USD | 0.01 | T+2 | 1 | 3 bp, min 5 USD | SEC fee 0.221 bp of gross on sells |
| EU | EUR | 0.01 | T+2 | 1 | 5 bp, min 5 EUR | none |
| UK | GBP | 0.01 (prices in pounds, not pence) | T+2 | 1 | 5 bp, min 5 GBP | stamp duty 50 bp on buys |
| JP | JPY | 1 | T+2 | 100 | 4 bp, min 500 JPY | none |

Bonds: US Treasuries settle T+1 (ACT/ACT, semiannual), corporates T+2
(30/360, semiannual); face in multiples of 1,000; no commission (the dealer's
spread is in the price); prices are clean per 100 face at a 0.001 tick.
Bonds are issued on the simulation's start date at par-ish coupons (the
start-date yield floored to 1/8 %), so their maturities are always ahead
whatever date the history is replayed from. GBP corporates are priced off the
US Treasury curve plus their spread: the FRED snapshot has no gilt curve.

Every instrument has an ISIN, and a US one a CUSIP: synthetic, derived from its id with valid
check digits (identifiers.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from types import MappingProxyType

from services.common.market_events import priced_per_100
from services.market.sim.bonds import curve_yield
from services.market.sim.identifiers import identifiers
from services.market.sim.records import AssetClass, Instrument

GOVERNMENT_SECTOR = "Government"
CORPORATE_SECTOR = "Corporate Credit"
BOND_TICK = Decimal("0.001")
BOND_LOT = Decimal(1000)
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "JPY")
CURRENCY_QUANTUM: Mapping[str, Decimal] = MappingProxyType(
    {"USD": Decimal("0.01"), "EUR": Decimal("0.01"), "GBP": Decimal("0.01"), "JPY": Decimal(1)}
)


@dataclass(frozen=True, slots=True)
class MarketConvention:
    market: str
    currency: str
    tick_size: Decimal
    settlement_days: int
    lot_size: Decimal
    commission_bps: Decimal
    min_commission: Decimal
    buy_fee_rate: Decimal  # fraction of gross charged on buys (UK stamp duty)
    sell_fee_rate: Decimal  # fraction of gross charged on sells (US SEC fee)


MARKETS: Mapping[str, MarketConvention] = MappingProxyType(
    {
        "US": MarketConvention(
            "US",
            "USD",
            Decimal("0.01"),
            2,
            Decimal(1),
            Decimal(3),
            Decimal(5),
            Decimal(0),
            Decimal("0.0000221"),
        ),
        "EU": MarketConvention(
            "EU", "EUR", Decimal("0.01"), 2, Decimal(1), Decimal(5), Decimal(5), Decimal(0), Decimal(0)
        ),
        "UK": MarketConvention(
            "UK", "GBP", Decimal("0.01"), 2, Decimal(1), Decimal(5), Decimal(5), Decimal("0.005"), Decimal(0)
        ),
        "JP": MarketConvention(
            "JP", "JPY", Decimal(1), 2, Decimal(100), Decimal(4), Decimal(500), Decimal(0), Decimal(0)
        ),
    }
)
GOVERNMENT_SETTLEMENT_DAYS = 1
CORPORATE_SETTLEMENT_DAYS = 2


@dataclass(frozen=True, slots=True)
class EquitySpec:
    """A stock's model parameters: beta to the market factor, idiosyncratic scale, start price, yield."""

    symbol: str
    name: str
    market: str
    sector: str
    beta: float
    idio: float  # idiosyncratic volatility as a multiple of the market's
    start_price: str
    dividend_yield: float  # annual, paid quarterly; 0 for non-payers


# fmt: off
EQUITIES: tuple[EquitySpec, ...] = (
    EquitySpec("NWSF", "Northwind Software", "US", "Information Technology", 1.20, 0.9, "180.00", 0.008),
    EquitySpec("QBIT", "Quantic Semiconductor", "US", "Information Technology", 1.40, 1.1, "95.00", 0.0),
    EquitySpec("HRBK", "Harbor Bancorp", "US", "Financials", 1.15, 0.7, "48.00", 0.028),
    EquitySpec("SUMT", "Summit Capital Group", "US", "Financials", 1.20, 0.8, "120.00", 0.020),
    EquitySpec("MDVX", "Medivex Therapeutics", "US", "Health Care", 0.80, 0.9, "150.00", 0.016),
    EquitySpec("CLRH", "Clearwater Health", "US", "Health Care", 0.70, 0.6, "210.00", 0.012),
    EquitySpec("PTRX", "Petrex Energy", "US", "Energy", 1.10, 1.0, "62.00", 0.045),
    EquitySpec("GRDN", "Gridline Utilities", "US", "Utilities", 0.40, 0.5, "58.00", 0.038),
    EquitySpec("ATLS", "Atlas Industrial", "US", "Industrials", 1.00, 0.7, "135.00", 0.021),
    EquitySpec("AERO", "Aerolux Systems", "US", "Industrials", 1.10, 0.9, "88.00", 0.015),
    EquitySpec("FRMS", "Farmstead Foods", "US", "Consumer Staples", 0.60, 0.5, "54.00", 0.030),
    EquitySpec("PLSN", "Pillsen Consumer Brands", "US", "Consumer Staples", 0.50, 0.5, "132.00", 0.026),
    EquitySpec("HOMG", "Homegoods Retail", "US", "Consumer Discretionary", 1.10, 0.9, "76.00", 0.014),
    EquitySpec("VOLT", "Voltaic Motors", "US", "Consumer Discretionary", 1.60, 1.4, "240.00", 0.0),
    EquitySpec("STRM", "Streamwave Media", "US", "Communication Services", 1.20, 1.0, "112.00", 0.0),
    EquitySpec("TELN", "Telenet Americas", "US", "Communication Services", 0.70, 0.5, "38.00", 0.050),
    EquitySpec("RHNA", "Rheinau Chemie", "EU", "Materials", 1.00, 0.7, "72.00", 0.032),
    EquitySpec("BNQL", "Banque Lumiere", "EU", "Financials", 1.30, 0.9, "41.00", 0.040),
    EquitySpec("SOLV", "Solvaris Energie", "EU", "Utilities", 0.50, 0.5, "14.50", 0.045),
    EquitySpec("KRNV", "Kronvald Automobil", "EU", "Consumer Discretionary", 1.30, 0.9, "88.00", 0.028),
    EquitySpec("MDSP", "Medisphere Pharma", "EU", "Health Care", 0.70, 0.6, "96.00", 0.025),
    EquitySpec("LGSY", "Logisys Software", "EU", "Information Technology", 1.20, 0.9, "118.00", 0.011),
    EquitySpec("VNTR", "Ventara Telecom", "EU", "Communication Services", 0.60, 0.5, "12.80", 0.055),
    EquitySpec("ALPM", "Alpenmilch", "EU", "Consumer Staples", 0.50, 0.5, "64.00", 0.029),
    EquitySpec("AQNX", "Aquanox Industrie", "EU", "Industrials", 1.00, 0.7, "105.00", 0.020),
    EquitySpec("BRCN", "Brackenridge Bank", "UK", "Financials", 1.30, 0.9, "6.40", 0.045),
    EquitySpec("MDWY", "Medway Utilities", "UK", "Utilities", 0.50, 0.5, "9.80", 0.050),
    EquitySpec("NSPL", "Northsea Petroleum", "UK", "Energy", 1.10, 1.0, "4.85", 0.055),
    EquitySpec("CLDN", "Caledon Brands", "UK", "Consumer Staples", 0.60, 0.5, "28.40", 0.042),
    EquitySpec("PNLX", "Penlex Pharmaceuticals", "UK", "Health Care", 0.70, 0.6, "15.60", 0.034),
    EquitySpec("MRSY", "Mersey Homes", "UK", "Consumer Discretionary", 1.20, 0.9, "12.30", 0.048),
    EquitySpec("BRTL", "Britel Communications", "UK", "Communication Services", 0.80, 0.6, "3.85", 0.060),
    EquitySpec("GRVS", "Greaves Engineering", "UK", "Industrials", 1.00, 0.7, "18.90", 0.024),
    EquitySpec("6987", "Hoshino Electronics", "JP", "Information Technology", 1.20, 0.9, "6850", 0.012),
    EquitySpec("7284", "Tsubasa Motors", "JP", "Consumer Discretionary", 1.10, 0.8, "2150", 0.028),
    EquitySpec("8356", "Kaede Financial Group", "JP", "Financials", 1.20, 0.8, "680", 0.040),
    EquitySpec("4572", "Aoba Pharmaceutical", "JP", "Health Care", 0.70, 0.6, "4320", 0.022),
    EquitySpec("9438", "Hikari Telecom", "JP", "Communication Services", 0.60, 0.5, "3150", 0.035),
    EquitySpec("6305", "Kurogane Heavy Industries", "JP", "Industrials", 1.10, 0.8, "2870", 0.020),
    EquitySpec("2817", "Umami Foods", "JP", "Consumer Staples", 0.50, 0.5, "5120", 0.018),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class BondSpec:
    """A bond issued on the start date: tenor in years, spread over the curve (0 for Treasuries)."""

    ticker: str
    issuer: str
    asset_class: AssetClass
    currency: str
    market: str
    tenor_years: int
    spread_bp: int


TREASURY_ISSUER = "United States Treasury"
BONDS: tuple[BondSpec, ...] = (
    *(
        BondSpec("UST", TREASURY_ISSUER, AssetClass.GOVERNMENT_BOND, "USD", "US", years, 0)
        for years in (2, 3, 5, 7, 10, 20, 30)
    ),
    BondSpec("HRBK", "Harbor Bancorp", AssetClass.CORPORATE_BOND, "USD", "US", 5, 110),
    BondSpec("ATLS", "Atlas Industrial", AssetClass.CORPORATE_BOND, "USD", "US", 7, 140),
    BondSpec("PTRX", "Petrex Energy", AssetClass.CORPORATE_BOND, "USD", "US", 10, 210),
    BondSpec("MDWY", "Medway Utilities", AssetClass.CORPORATE_BOND, "GBP", "UK", 8, 130),
    BondSpec("BRCN", "Brackenridge Bank", AssetClass.CORPORATE_BOND, "GBP", "UK", 6, 165),
    BondSpec("NSPL", "Northsea Petroleum", AssetClass.CORPORATE_BOND, "GBP", "UK", 7, 190),
    BondSpec("GRVS", "Greaves Engineering", AssetClass.CORPORATE_BOND, "GBP", "UK", 10, 150),
)

_EIGHTH = Decimal("0.125")
_FRACTIONS = {0: "", 1: "1/8", 2: "1/4", 3: "3/8", 4: "1/2", 5: "5/8", 6: "3/4", 7: "7/8"}


def coupon_for_yield(yield_pct: float) -> Decimal:
    """The coupon a new issue gets: the yield floored to 1/8 %, at least 1/8 % (the Treasury auction rule)."""
    eighths = (Decimal(repr(yield_pct)) / _EIGHTH).to_integral_value(rounding=ROUND_FLOOR)
    return max(eighths, Decimal(1)) * _EIGHTH


def _coupon_text(coupon: Decimal) -> str:
    whole, eighths = divmod(int(coupon / _EIGHTH), 8)
    parts = [str(whole)] if whole or not eighths else []
    if eighths:
        parts.append(_FRACTIONS[eighths])
    return " ".join(parts)


def _add_years(day: dt.date, years: int) -> dt.date:
    return dt.date(day.year + years, day.month, 15)


def equity_id(spec: EquitySpec) -> str:
    return f"{spec.market}-{spec.symbol}"


def _equity(spec: EquitySpec) -> Instrument:
    convention = MARKETS[spec.market]
    instrument_id = equity_id(spec)
    isin, cusip = identifiers(instrument_id, spec.market)
    return Instrument(
        instrument_id=instrument_id,
        symbol=spec.symbol,
        name=spec.name,
        asset_class=AssetClass.EQUITY,
        currency=convention.currency,
        sector=spec.sector,
        market=spec.market,
        tick_size=convention.tick_size,
        settlement_days=convention.settlement_days,
        isin=isin,
        cusip=cusip,
    )


def _bond(spec: BondSpec, start: dt.date, curve_pct: Mapping[str, float]) -> Instrument:
    maturity = _add_years(start, spec.tenor_years)
    years = (maturity - start).days / 365.25
    coupon = coupon_for_yield(curve_yield(curve_pct, years) + spec.spread_bp / 100.0)
    government = spec.asset_class is AssetClass.GOVERNMENT_BOND
    symbol = f"{'T' if government else spec.ticker} {_coupon_text(coupon)} {maturity:%m/%d/%y}"
    instrument_id = f"{spec.ticker}-{maturity:%Y%m%d}"
    isin, cusip = identifiers(instrument_id, spec.market)
    return Instrument(
        instrument_id=instrument_id,
        symbol=symbol,
        name=f"{spec.issuer} {coupon}% {maturity:%d %b %Y}",
        asset_class=spec.asset_class,
        currency=spec.currency,
        sector=GOVERNMENT_SECTOR if government else CORPORATE_SECTOR,
        market=spec.market,
        tick_size=BOND_TICK,
        settlement_days=GOVERNMENT_SETTLEMENT_DAYS if government else CORPORATE_SETTLEMENT_DAYS,
        coupon_rate_pct=coupon,
        maturity=maturity,
        coupons_per_year=2,
        issuer=spec.issuer,
        spread_bp=spec.spread_bp,
        day_count="ACT/ACT" if government else "30/360",
        isin=isin,
        cusip=cusip,
    )


@dataclass(frozen=True)
class Universe:
    """The instruments in a fixed order (equities, then bonds) and each equity's model parameters."""

    instruments: tuple[Instrument, ...]
    equity_specs: Mapping[str, EquitySpec]  # instrument_id -> spec

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {i.instrument_id: i for i in self.instruments})

    def get(self, instrument_id: str) -> Instrument:
        """The instrument; KeyError naming the id when unknown."""
        found: dict[str, Instrument] = self._by_id  # type: ignore[attr-defined]
        try:
            return found[instrument_id]
        except KeyError:
            raise KeyError(f"unknown instrument {instrument_id!r}") from None

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id  # type: ignore[attr-defined]


def build_universe(start: dt.date, curve_pct: Mapping[str, float]) -> Universe:
    """The universe for a run starting on `start`, bond coupons set from that day's curve."""
    equities = tuple(_equity(spec) for spec in EQUITIES)
    bonds = tuple(_bond(spec, start, curve_pct) for spec in BONDS)
    specs = MappingProxyType({equity_id(spec): spec for spec in EQUITIES})
    return Universe(instruments=equities + bonds, equity_specs=specs)


def is_bond(instrument: Instrument) -> bool:
    """Bonds trade in nominal and are priced per 100 of it: the one rule in market_events."""
    return priced_per_100(instrument.asset_class)


def lot_size(instrument: Instrument) -> Decimal:
    return BOND_LOT if is_bond(instrument) else MARKETS[instrument.market].lot_size
