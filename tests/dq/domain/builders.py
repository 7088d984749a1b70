"""Hand-built instruments, days and check files for dq's domain tests.

PriceDays drives a PriceChecks the way market orders a day: the regime, every primary price,
every vendor_b price in the same order, the day end. Days are consecutive calendar dates from
START (dq counts a business day per date it sees). Event ids name what they carry:
"p-<instrument>-<day>" for a primary tick, "v-<instrument>-<day>" for a vendor_b quote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from services.common.market_events import AssetClass, Instrument, PriceQuote, RegimeState
from services.dq.domain.config import CheckSet, parse_checks
from services.dq.domain.prices import PriceChecks
from services.dq.domain.results import CheckResult

D = Decimal
START = dt.date(2020, 1, 1)
CURVE = {"3M": 1.5, "2Y": 1.4, "5Y": 1.4, "10Y": 1.6, "30Y": 2.0}


def equity(iid: str, currency: str = "USD", tick: str = "0.01") -> Instrument:
    return Instrument(
        instrument_id=iid,
        symbol=iid.split("-")[-1],
        name=iid,
        asset_class=AssetClass.EQUITY,
        currency=currency,
        sector="Industrials",
        market="US",
        tick_size=D(tick),
        settlement_days=2,
    )


def regime(
    day: dt.date, name: str = "calm", vol: float = 0.16, curve: Mapping[str, float] | None = None
) -> RegimeState:
    return RegimeState(
        date=day,
        regime=name,
        fed_funds_pct=1.5,
        curve_slope_pct=0.2,
        breakeven_inflation_pct=1.7,
        unemployment_pct=3.6,
        equity_drift_annual=0.06,
        equity_vol_annual=vol,
        curve_pct=dict(curve or CURVE),
    )


def quote(
    iid: str, price: Decimal | str, day: dt.date, vendor: str = "primary", currency: str = "USD"
) -> PriceQuote:
    return PriceQuote(instrument_id=iid, price=D(price), currency=currency, vendor=vendor, price_date=day)


# The price checks with the default figures, but a short spike history so series stay readable.
PRICE_CHECKS = """
[[check]]
id = "price.vendor_divergence"
family = "price"
rule = "vendor_divergence"
severity = "critical"
description = "vendor against primary"
thresholds = { tolerance = 0.005, ticks = 1, blame_ratio = 2.0, blame_min_z = 3.0 }

[[check]]
id = "price.stale"
family = "price"
rule = "stale"
severity = "warning"
description = "stale"
thresholds = { days = 1, min_other_move = 0.002, min_other_ticks = 2, max_other_z = 4.0, peer_moved_share = 0.5 }

[[check]]
id = "price.spike"
family = "price"
rule = "spike"
severity = "warning"
description = "spike"
thresholds = { z = 8.0, window = 60, min_history = 5, min_scale = 0.01, regime_scaling = 1 }

[[check]]
id = "price.missing"
family = "price"
rule = "missing"
severity = "warning"
description = "missing"
thresholds = { days = 1 }
"""


def price_checks(text: str = PRICE_CHECKS) -> CheckSet:
    return parse_checks(text, "test.toml")


class PriceDays:
    """Feeds whole days to a PriceChecks; `results` collects everything, `last` the last day's."""

    def __init__(self, instruments: Iterable[Instrument], checks: CheckSet | None = None) -> None:
        self.checks = checks or price_checks()
        self.prices = PriceChecks(self.checks, instruments)
        self.day = START - dt.timedelta(days=1)
        self.results: list[CheckResult] = []
        self.last: list[CheckResult] = []

    def run(
        self,
        primary: Mapping[str, Decimal | str],
        vendor_b: Mapping[str, Decimal | str] | None = None,
        *,
        name: str = "calm",
        vol: float = 0.16,
        held: Iterable[str] = (),
    ) -> list[CheckResult]:
        """One day: vendor_b defaults to the primary prices (agreeing vendors)."""
        self.day += dt.timedelta(days=1)
        day = self.day
        out: list[CheckResult] = []
        self.prices.regime(f"r-{day}", regime(day, name, vol))
        for iid, price in primary.items():
            out += self.prices.primary(f"p-{iid}-{day}", quote(iid, price, day))
        for iid, price in (primary if vendor_b is None else vendor_b).items():
            out += self.prices.vendor(f"v-{iid}-{day}", quote(iid, price, day, "vendor_b"))
        out += self.prices.day_end(day, held)
        self.last = out
        self.results += out
        return out


def only(results: Iterable[CheckResult], check_id: str, subject: str, vendor: str) -> CheckResult:
    """The one result of a check on a subject and vendor."""
    found = [r for r in results if r.check_id == check_id and r.subject == subject and r.vendor == vendor]
    assert len(found) == 1, f"{len(found)} results of {check_id} {subject} {vendor}: {found}"
    return found[0]


def failures(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.success]
