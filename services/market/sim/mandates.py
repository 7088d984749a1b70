"""The funds the desk manages: five mandates, their currencies and their target weights.

Each mandate invests in its base currency and, for two of them, in a foreign one: Hudson Balanced
(BAL-USD) holds European equities in EUR (8% of its 58% equity), Rhine European Equity (EQ-EUR) UK
equities in GBP (20% of its 97%). Their foreign cash is bought and sold back with FX deals
(fx_deals.py); every weight and budget is in the base currency at the day's primary rate (desk.py).
An instrument is eligible when its currency is one of the mandate's currencies and its asset class
one of its allowed classes.

Targets: an allocation per asset class and currency (data below), spread over sectors in
proportion to how many names of that class and currency each sector has, then equally over the
names of a sector. So a sector target is per sector and currency (US Financials and European
Financials are two targets), and each name of an allocation gets the same weight. Sector bands
are the target +/- SECTOR_BAND. The cash target is the middle of the cash band. Bonds within
ROLL_OFF_YEARS of maturity leave the targets (the desk sells them), so no holding ever reaches
maturity.

The foreign allocations are assumptions, sized as a home-biased manager would: a US balanced fund
with a seventh of its equity abroad, a euro-area equity fund with a fifth in UK equities (the UK
being Europe's largest market outside the euro).

Management fees (annual, a fraction of NAV; accrued daily and paid monthly, fees.py) come from
published surveys of institutional fees, at the larger-account tier of a fee scale, since these
mandates run tens to hundreds of millions:

- equities: 60 bp. CAMRADATA's fee report (LAPF Investments, "New report outlines fees paid by
  institutional investors"): "the average base, or initial, investment management fee for
  equities is 77.7 basis points (bps) with an average minimum investment of £4 million. Then, once
  a further £28.4 million has been invested, a fee of 61.9 bps applies"; Mercer (PLANSPONSOR,
  2004): "the average large-cap fee sits at around 58 bps".
- government bonds: 25 bp. Mercer, same article: "Fixed-income, for example, usually costs around
  25 bps, with even less paid for stable government bonds".
- investment grade credit: 35 bp. CAMRADATA: "For fixed income, the average base fee is 45.7 bps
  for a minimum investment of £3.6 million, with a discount to 34.5 bps coming in when another
  £39.2 million has been invested".

A mandate's rate blends these at its asset-class weights, rounded to the nearest 5 bp (an
assumption: no source quotes these exact mandates): equity 0.97 x 60 = 58.2 -> 0.0060 (EQ-EUR,
EQ-JPY); fixed income 0.70 x 25 + 0.28 x 35 = 27.3 -> 0.0025 (FI-USD); balanced 0.58 x 60 +
0.27 x 25 + 0.12 x 35 = 45.75 -> 0.0045 (BAL-USD); income 0.48 x 60 + 0.48 x 35 = 45.6 -> 0.0045
(INC-GBP).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from services.common.market_events import currencies_of
from services.market.sim.records import AssetClass, BenchmarkSegment, Instrument, Mandate, SectorTarget

SECTOR_BAND = 0.05
ROLL_OFF_YEARS = 0.5


@dataclass(frozen=True, slots=True)
class MandateSpec:
    mandate_id: str
    name: str
    base_currency: str
    benchmark: str
    benchmark_weights: Mapping[str, float]
    # (asset class, currency) -> weight of NAV; sums to 1 - cash target.
    allocations: Mapping[tuple[AssetClass, str], float]
    min_cash_weight: float
    max_cash_weight: float
    max_single_name_weight: float
    initial_capital: Decimal
    lot_method: str
    management_fee_rate: Decimal  # annual, a fraction of NAV (module docstring: sources)

    @property
    def asset_class_weights(self) -> dict[AssetClass, float]:
        """The allocations summed per asset class, in first-seen order."""
        weights: dict[AssetClass, float] = {}
        for (asset_class, _), weight in self.allocations.items():
            weights[asset_class] = weights.get(asset_class, 0.0) + weight
        return weights

    @property
    def currencies(self) -> tuple[str, ...]:
        """The base currency, then the others of the allocations in first-seen order."""
        return tuple(dict.fromkeys([self.base_currency, *(ccy for _, ccy in self.allocations)]))


EQ = AssetClass.EQUITY
GOV = AssetClass.GOVERNMENT_BOND
CORP = AssetClass.CORPORATE_BOND

MANDATE_SPECS: tuple[MandateSpec, ...] = (
    MandateSpec(
        "BAL-USD",
        "Hudson Balanced 60/40",
        "USD",
        "50% US equity / 8% European equity / 27% US Treasuries 2-30Y / 12% USD investment grade credit"
        " / 3% USD cash",
        MappingProxyType(
            {
                "US equity": 0.50,
                "European equity": 0.08,
                "US Treasuries": 0.27,
                "USD IG credit": 0.12,
                "USD cash": 0.03,
            }
        ),
        MappingProxyType({(EQ, "USD"): 0.50, (EQ, "EUR"): 0.08, (GOV, "USD"): 0.27, (CORP, "USD"): 0.12}),
        0.01,
        0.05,
        0.06,
        Decimal("250000000"),
        "FIFO",
        Decimal("0.0045"),
    ),
    MandateSpec(
        "EQ-EUR",
        "Rhine European Equity",
        "EUR",
        "77% European equity / 20% UK equity / 3% EUR cash",
        MappingProxyType({"European equity": 0.77, "UK equity": 0.20, "EUR cash": 0.03}),
        MappingProxyType({(EQ, "EUR"): 0.77, (EQ, "GBP"): 0.20}),
        0.01,
        0.05,
        0.15,
        Decimal("150000000"),
        "FIFO",
        Decimal("0.0060"),
    ),
    MandateSpec(
        "INC-GBP",
        "Thames Income",
        "GBP",
        "48% UK equity income / 48% GBP investment grade credit / 4% GBP cash",
        MappingProxyType({"UK equity income": 0.48, "GBP IG credit": 0.48, "GBP cash": 0.04}),
        MappingProxyType({(EQ, "GBP"): 0.48, (CORP, "GBP"): 0.48}),
        0.02,
        0.06,
        0.15,
        Decimal("80000000"),
        "AVERAGE",
        Decimal("0.0045"),
    ),
    MandateSpec(
        "FI-USD",
        "Liberty Treasury and Credit",
        "USD",
        "70% US Treasuries 2-30Y / 28% USD investment grade credit / 2% USD cash",
        MappingProxyType({"US Treasuries": 0.70, "USD IG credit": 0.28, "USD cash": 0.02}),
        MappingProxyType({(GOV, "USD"): 0.70, (CORP, "USD"): 0.28}),
        0.005,
        0.035,
        0.15,
        Decimal("400000000"),
        "FIFO",
        Decimal("0.0025"),
    ),
    MandateSpec(
        "EQ-JPY",
        "Sakura Japan Equity",
        "JPY",
        "97% Japanese equity / 3% JPY cash",
        MappingProxyType({"Japanese equity": 0.97, "JPY cash": 0.03}),
        MappingProxyType({(EQ, "JPY"): 0.97}),
        0.01,
        0.05,
        0.20,
        Decimal("20000000000"),
        "FIFO",
        Decimal("0.0060"),
    ),
)


def cash_target(mandate: Mandate) -> float:
    return (mandate.min_cash_weight + mandate.max_cash_weight) / 2.0


def eligible(mandate: Mandate, instrument: Instrument) -> bool:
    """Whether the mandate may ever hold the instrument: its currency is one of the mandate's and its
    asset class one the mandate allows."""
    return (
        instrument.currency in currencies_of(mandate)
        and instrument.asset_class in mandate.allowed_asset_classes
    )


def is_live(instrument: Instrument, on: dt.date) -> bool:
    """Whether the desk may hold the instrument on a date (bonds roll off before maturity)."""
    if instrument.maturity is None:
        return True
    return (instrument.maturity - on).days / 365.25 >= ROLL_OFF_YEARS


def _sector_weights(spec: MandateSpec, instruments: Sequence[Instrument]) -> dict[tuple[str, str], float]:
    """Each allocation spread over (sector, currency) by the number of its names, in first-seen order."""
    weights: dict[tuple[str, str], float] = {}
    for (asset_class, currency), weight in spec.allocations.items():
        members = [i for i in instruments if i.asset_class is asset_class and i.currency == currency]
        for instrument in members:
            key = (instrument.sector, currency)
            weights[key] = weights.get(key, 0.0) + weight / len(members)
    return weights


def build_mandates(
    instruments: Sequence[Instrument],
    benchmarks: Mapping[str, tuple[BenchmarkSegment, ...]] = MappingProxyType({}),
) -> tuple[Mandate, ...]:
    """The mandates of MANDATE_SPECS; benchmarks (benchmarks.py, by mandate_id) gives each its
    benchmark's segments, none when absent."""
    mandates = []
    for spec in MANDATE_SPECS:
        sectors = _sector_weights(spec, instruments)
        mandates.append(
            Mandate(
                mandate_id=spec.mandate_id,
                name=spec.name,
                base_currency=spec.base_currency,
                benchmark=spec.benchmark,
                benchmark_weights=spec.benchmark_weights,
                sector_targets=tuple(
                    SectorTarget(
                        sector=sector,
                        target_weight=round(weight, 6),
                        min_weight=round(max(0.0, weight - SECTOR_BAND), 6),
                        max_weight=round(min(1.0, weight + SECTOR_BAND), 6),
                        currency=currency,
                    )
                    for (sector, currency), weight in sectors.items()
                ),
                max_single_name_weight=spec.max_single_name_weight,
                min_cash_weight=spec.min_cash_weight,
                max_cash_weight=spec.max_cash_weight,
                initial_capital=spec.initial_capital,
                lot_method=spec.lot_method,
                allowed_asset_classes=tuple(spec.asset_class_weights),
                benchmark_segments=benchmarks.get(spec.mandate_id, ()),
                # The benchmark drops a bond when the desk's targets do (is_live).
                benchmark_roll_off_years=ROLL_OFF_YEARS,
                management_fee_rate=spec.management_fee_rate,
                currencies=spec.currencies,
            )
        )
    return tuple(mandates)


def _target_key(instrument: Instrument, keyed_by_currency: bool) -> tuple[str, str]:
    """The sector target an instrument counts under: its sector and currency, or its sector alone
    for targets that name no currency."""
    return (instrument.sector, instrument.currency if keyed_by_currency else "")


def target_weights(mandate: Mandate, instruments: Sequence[Instrument], on: dt.date) -> dict[str, float]:
    """Target weight of NAV (in the base currency) per live eligible instrument, in universe order.

    A sector target (per sector and currency; one naming no currency covers the sector's names in
    every currency) is split equally over its live names; when a target has none left (every bond
    rolled off), the others are scaled up so the invested total stays 1 - cash target. Each name is
    capped at the mandate's single-name maximum.
    """
    sector_weight = {(t.sector, t.currency): t.target_weight for t in mandate.sector_targets}
    by_currency = any(currency for _, currency in sector_weight)
    live = [i for i in instruments if eligible(mandate, i) and is_live(i, on)]
    names_in_sector: dict[tuple[str, str], int] = {}
    for instrument in live:
        key = _target_key(instrument, by_currency)
        names_in_sector[key] = names_in_sector.get(key, 0) + 1
    weights = {
        i.instrument_id: sector_weight.get(_target_key(i, by_currency), 0.0)
        / names_in_sector[_target_key(i, by_currency)]
        for i in live
    }
    total = sum(weights.values())
    invested = 1.0 - cash_target(mandate)
    if total <= 0.0:
        return {}
    cap = mandate.max_single_name_weight
    return {key: min(cap, value * invested / total) for key, value in weights.items()}
