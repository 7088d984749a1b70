"""Primary equity prices against the model's formula, computed by hand from the very same draws.

The model draws, each day and in this order, from its own stream `np_stream(seed, "prices")`:
one standard normal for the market, one per sector (sectors sorted by name), one per equity.
A generator seeded the same way therefore replays its normals, and each next price follows from
the formula in prices.py:
    sigma = vol / sqrt(252)
    market m = (0.01 * risk_shock + sqrt(max(sigma^2 - 0.01^2, (0.3 sigma)^2)) * z) / sigma
    log return_i = (drift - vol^2 / 2 * (beta_i^2 + 0.35^2 + idio_i^2)) / 252
                   + sigma * (beta_i * m + 0.35 * s_sector(i) + idio_i * e_i)
Prices are published on a 1e-8 tick here so the comparison is not blurred by rounding: a relative
error of 1e-9 is far below every term (the smallest, the drift's variance term, is about 1e-5:
0.1^2 / 2 x 0.53 / 252 for U1 at vol 10 %).
The existing tests in test_price_model.py isolate one input at a time with a 1.2e-4 tolerance; these
pin the noise's size and sign, which sector draw goes to which stock, and the variance term exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from services.market.sim.prices import PriceModel
from services.market.sim.records import AssetClass, Instrument
from services.market.sim.rng import np_stream
from services.market.sim.universe import EquitySpec, Universe

SEED = 11
FINE_TICK = Decimal("0.00000001")
DAYS = [dt.date(2021, 6, d) for d in (1, 2, 3, 4)]
FLAT = {"3M": 2.0, "2Y": 2.0, "5Y": 2.0, "10Y": 2.0, "30Y": 2.0}

# (id, sector, beta, idio, start). Sectors sorted: Energy -> draw 0, Utilities -> 1, Zinc Mining -> 2.
# "Zinc Mining" is listed first and "Energy" in the middle so that insertion order is not sorted order:
# a model that indexed sectors in order of appearance would hand the draws to the wrong stocks.
STOCKS = (
    ("Z1", "Zinc Mining", 1.3, 0.6, 50.0),
    ("E1", "Energy", 0.8, 1.1, 120.0),
    ("U1", "Utilities", 0.4, 0.5, 30.0),
    ("E2", "Energy", 1.7, 0.2, 75.0),
)
SECTORS = sorted({sector for _, sector, *_ in STOCKS})


def _universe() -> Universe:
    instruments = tuple(
        Instrument(iid, iid, iid, AssetClass.EQUITY, "USD", sector, "US", FINE_TICK, 2)
        for iid, sector, *_ in STOCKS
    )
    specs = {
        iid: EquitySpec(iid, iid, "US", sector, beta, idio, f"{start:.2f}", 0.0)
        for iid, sector, beta, idio, start in STOCKS
    }
    return Universe(instruments=instruments, equity_specs=specs)


def _by_hand(days: list[tuple[float, float, float]]) -> list[dict[str, float]]:
    """Expected price levels per day for (drift, vol, risk_shock) per day, from the formula above."""
    rng = np_stream(SEED, "prices")
    levels = {iid: start for iid, *_, start in STOCKS}
    out = []
    for k, (drift, vol, shock) in enumerate(days):
        z = rng.standard_normal()
        sector_draws = rng.standard_normal(len(SECTORS))
        own_draws = rng.standard_normal(len(STOCKS))
        if k > 0:  # the first day publishes the start prices but still uses up its draws
            sigma = vol / math.sqrt(252)
            noise = math.sqrt(max(sigma**2 - 0.01**2, (0.3 * sigma) ** 2))
            m = (0.01 * shock + noise * z) / sigma
            for j, (iid, sector, beta, idio, _) in enumerate(STOCKS):
                s = sector_draws[SECTORS.index(sector)]
                variance = beta**2 + 0.35**2 + idio**2
                log_return = (drift - vol**2 / 2 * variance) / 252 + sigma * (
                    beta * m + 0.35 * s + idio * own_draws[j]
                )
                levels[iid] *= math.exp(log_return)
        out.append(dict(levels))
    return out


def _model_prices(days: list[tuple[float, float, float]]) -> list[dict[str, float]]:
    model = PriceModel(_universe(), seed=SEED)
    out = []
    for day, (drift, vol, shock) in zip(DAYS, days, strict=False):
        quotes = model.step(day, drift, vol, FLAT, "calm", risk_shock=shock)
        out.append({q.instrument_id: float(q.price) for q in quotes})
    return out


def _assert_close(model: list[dict[str, float]], expected: list[dict[str, float]]) -> None:
    for got, want in zip(model, expected, strict=True):
        assert got.keys() == want.keys()
        for iid, level in want.items():
            assert got[iid] == pytest.approx(level, rel=1e-9), iid


@pytest.mark.parametrize(
    "path",
    [
        # vol 20 %: sigma = 0.0126 and sigma^2 - 0.01^2 = 5.9e-5 > (0.3 sigma)^2 = 1.4e-5, so the random
        # part of the market is sqrt(sigma^2 - 0.0001); a positive shock on day 2, a negative one on day 3.
        [(0.05, 0.2, 0.0), (0.05, 0.2, 1.5), (0.05, 0.2, -2.0), (0.05, 0.2, 0.0)],
        # vol 10 %: sigma = 0.0063 < 0.01, so sigma^2 - 0.0001 < 0 and the floor 0.3 sigma is the noise.
        [(0.0, 0.1, 0.0), (0.02, 0.1, 0.7), (0.02, 0.1, 0.0), (-0.3, 0.1, -1.0)],
        # A crisis day: vol 60 % with a large drift, so the variance term (0.18 x var_i / 252) dominates.
        [(0.05, 0.2, 0.0), (0.4, 0.6, -3.0), (-0.5, 0.6, 2.5), (0.1, 0.3, 0.0)],
    ],
)
def test_each_day_is_the_formula_applied_to_the_seeded_draws(path: list[tuple[float, float, float]]) -> None:
    _assert_close(_model_prices(path), _by_hand(path))


def test_the_first_day_uses_up_its_draws_without_moving() -> None:
    """Day 2 must use the second set of draws: a model that skipped drawing on day 1 (or drew only
    after the start) would reuse the first set, and every later seeded price would shift."""
    path = [(0.05, 0.2, 0.0), (0.05, 0.2, 0.0)]
    first, second = _model_prices(path)
    assert first == {iid: start for iid, *_, start in STOCKS}
    # Skipping the first day's draws is the same as moving on the first set: recompute that by hand.
    rng = np_stream(SEED, "prices")
    z, sectors, own = rng.standard_normal(), rng.standard_normal(3), rng.standard_normal(4)
    sigma = 0.2 / math.sqrt(252)
    m = math.sqrt(sigma**2 - 0.0001) * z / sigma
    iid, sector, beta, idio, start = STOCKS[0]
    wrong = start * math.exp(
        (0.05 - 0.02 * (beta**2 + 0.35**2 + idio**2)) / 252
        + sigma * (beta * m + 0.35 * sectors[SECTORS.index(sector)] + idio * own[0])
    )
    assert second[iid] != pytest.approx(wrong, rel=1e-6)
    assert second == pytest.approx(_by_hand(path)[1], rel=1e-9)
