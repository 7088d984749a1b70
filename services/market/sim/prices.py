"""Primary prices: equities on a one-factor-plus-sector model, bonds off the Treasury curve.

Equities: each day's log return is
    (drift - var_i / 2) / 252 + vol / sqrt(252) * (beta_i * m + SECTOR_LOADING * s_sector + idio_i * e_i)
with s, e independent standard normals and the market factor m, in units of the day's vol
sigma = vol / sqrt(252):
    sigma * m = SHOCK_RETURN * risk_shock + sqrt(max(sigma^2 - SHOCK_RETURN^2, (0.3 sigma)^2)) * z
where z is a standard normal and risk_shock the day's real risk-on/off score from the FRED
data (macro.risk_shock): the market falls on the days the data says it did, by about
SHOCK_RETURN per unit of the score, and the random part makes up the rest of the regime's
vol. Drift and vol are the MacroDay's
equity_drift_annual / equity_vol_annual (the regime), and var_i the stock's
total variance (so the expected price grows at the drift). Paths are floats;
the published price is the path rounded half-even to the tick, so ticks never
ratchet a low-priced stock.

Bonds: yield = curve_yield(curve, years to maturity) + spread; a corporate's
spread is its issue spread times a multiplier that moves 20 % a day towards
the regime's level (calm 1.0 ... crisis 3.0), so credit widens over days in a
crisis rather than jumping. Clean price per 100 face at a 0.001 tick, accrued
interest per 100 face as of the price date (bonds.py, 8 decimals).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

import numpy as np

from services.market.sim import bonds
from services.market.sim.records import AssetClass, Instrument, PriceQuote
from services.market.sim.rng import np_stream
from services.market.sim.universe import Universe

PRIMARY_VENDOR = "primary"
TRADING_DAYS = 252
SECTOR_LOADING = 0.35
# Market return per unit of the day's risk shock (the score has a standard deviation near 1).
SHOCK_RETURN = 0.01
SPREAD_MULTIPLIER: Mapping[str, float] = MappingProxyType(
    {"calm": 1.0, "tightening": 1.1, "easing": 1.2, "stress": 1.8, "crisis": 3.0}
)
SPREAD_ADJUSTMENT_PER_DAY = 0.2


def to_tick(value: float, tick: Decimal) -> Decimal:
    """A float price rounded half-even to a tick, never below one tick."""
    price = (Decimal(repr(value)) / tick).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * tick
    return max(price, tick)


class PriceModel:
    """Steps every instrument's primary price one business day at a time."""

    def __init__(self, universe: Universe, seed: int) -> None:
        self._rng = np_stream(seed, "prices")
        self._equities = [i for i in universe.instruments if i.asset_class is AssetClass.EQUITY]
        self._bonds = [i for i in universe.instruments if i.maturity is not None]
        specs = [universe.equity_specs[i.instrument_id] for i in self._equities]
        sectors = sorted({spec.sector for spec in specs})
        self._sector_index = np.array([sectors.index(spec.sector) for spec in specs])
        self._n_sectors = len(sectors)
        self._beta = np.array([spec.beta for spec in specs])
        self._idio = np.array([spec.idio for spec in specs])
        self._variance_scale = self._beta**2 + SECTOR_LOADING**2 + self._idio**2
        self._path = np.array([float(spec.start_price) for spec in specs])
        self._started = False
        self._spread_multiplier: float | None = None

    def step(
        self,
        day: dt.date,
        drift_annual: float,
        vol_annual: float,
        curve_pct: Mapping[str, float],
        regime: str,
        risk_shock: float = 0.0,
    ) -> list[PriceQuote]:
        """Quotes of every instrument alive on `day` (bonds until maturity), equities first."""
        sigma = vol_annual / math.sqrt(TRADING_DAYS)
        noise_sd = math.sqrt(max(sigma**2 - SHOCK_RETURN**2, (0.3 * sigma) ** 2))
        market = (SHOCK_RETURN * risk_shock + noise_sd * self._rng.standard_normal()) / sigma
        sector = self._rng.standard_normal(self._n_sectors)
        idio = self._rng.standard_normal(len(self._equities))
        if self._started:  # the first day publishes the start prices
            vol = vol_annual / math.sqrt(TRADING_DAYS)
            shocks = self._beta * market + SECTOR_LOADING * sector[self._sector_index] + self._idio * idio
            drift = (drift_annual - 0.5 * vol_annual**2 * self._variance_scale) / TRADING_DAYS
            self._path = self._path * np.exp(drift + vol * shocks)
        self._started = True
        quotes = [
            PriceQuote(
                instrument_id=instrument.instrument_id,
                price=to_tick(float(level), instrument.tick_size),
                currency=instrument.currency,
                vendor=PRIMARY_VENDOR,
                price_date=day,
            )
            for instrument, level in zip(self._equities, self._path.tolist(), strict=True)
        ]
        target = SPREAD_MULTIPLIER.get(regime, 1.0)
        if self._spread_multiplier is None:
            self._spread_multiplier = target
        else:
            self._spread_multiplier += SPREAD_ADJUSTMENT_PER_DAY * (target - self._spread_multiplier)
        for bond in self._bonds:
            assert bond.maturity is not None
            if bond.maturity > day:
                quotes.append(self._bond_quote(bond, day, curve_pct))
        return quotes

    def _bond_quote(self, bond: Instrument, day: dt.date, curve_pct: Mapping[str, float]) -> PriceQuote:
        assert bond.maturity is not None and bond.coupon_rate_pct is not None
        years = (bond.maturity - day).days / 365.25
        spread_pct = bond.spread_bp * (self._spread_multiplier or 1.0) / 100.0
        ytm = bonds.curve_yield(curve_pct, years) + spread_pct
        clean = bonds.clean_price(
            day, bond.maturity, bond.coupon_rate_pct, bond.coupons_per_year, ytm, bond.day_count
        )
        accrued = bonds.accrued_interest(
            day, bond.maturity, bond.coupon_rate_pct, bond.coupons_per_year, bond.day_count
        )
        return PriceQuote(
            instrument_id=bond.instrument_id,
            price=to_tick(clean, bond.tick_size),
            currency=bond.currency,
            vendor=PRIMARY_VENDOR,
            price_date=day,
            accrued_interest=accrued,
            yield_pct=round(ytm, 6),
        )
