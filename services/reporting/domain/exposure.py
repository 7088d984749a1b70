"""One day's weights and returns by group (sector, asset class), for the portfolio and its benchmark.

Weights are taken at the previous day end and returns are the instruments' total returns over the
day (total_returns.py), so a group's figures are what attribution needs for one day (Brinson:
weights at the start of the period, returns over it).

Benchmark: each segment keeps its fixed weight every day (rebalanced daily to the mandate's policy
weights); inside a segment, constituents weigh by their full market value at the previous day end
(index units x unit value: cap weighting). A bond within the benchmark's roll-off of maturity has
left it, as it leaves the mandate's targets. A cash segment earns the day's cash rate.

Portfolio: each holding weighs its base value (market value and accrued interest) at the previous
day end over that day's NAV; everything else in the NAV (cash, accruals, pending settlements) is the
cash group and earns nothing in its own currency, as the simulated fund's cash earns nothing. The
sum over groups is the portfolio's holdings-based return, which differs from the NAV's time-weighted
return by what happened inside the day (trades, their costs, flows): reports show that difference
apart.

Returns are in the base currency: a holding (or benchmark constituent, or cash) in another currency
earns (1 + r) (1 + e) - 1, its local return r compounded with the currency's move e against the base
currency over the day (the previous and the day's primary rates). Foreign cash earns e; the rest of
the cash group (base cash, accruals, pending settlements) counts in the base currency (a pending
settlement in another currency is a simplification stated in docs/reporting-conventions.md).

For currency attribution (Karnosky-Singer, period_attribution.py) each group also carries its local
return in excess of its currency's cash rate, x = r - d, and its currency's return including that
rate, c = (1 + d) (1 + e) - 1, so that its base return is x + c + x e exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.common.market_events import Instrument, Mandate, currencies_of
from services.common.nav.valuation import DayValuation
from services.reporting.domain.total_returns import Move

ZERO = Decimal(0)
CASH = "Cash"
DIMENSIONS = ("sector", "asset_class", "currency")
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class Group:
    weight: Decimal
    total_return: Decimal  # the group's own return in the base currency (weighted mean of its members')
    excess_return: Decimal = ZERO  # local return less the local cash rate, x (weighted mean)
    currency_return: Decimal = ZERO  # the currency's return with its cash rate, c (weighted mean)

    @property
    def cross_return(self) -> Decimal:
        """x e: what compounding the local and the currency return adds (total = x + c + x e)."""
        return self.total_return - self.excess_return - self.currency_return


@dataclass(frozen=True, slots=True)
class Currency:
    """A currency's day against the mandate's base currency: its move e, and its cash rate d."""

    move: Decimal = ZERO
    cash_rate: Decimal = ZERO

    def base_return(self, local_return: Decimal) -> Decimal:
        return (1 + local_return) * (1 + self.move) - 1

    @property
    def with_interest(self) -> Decimal:
        """c: holding the currency's cash for the day, in the base currency."""
        return (1 + self.cash_rate) * (1 + self.move) - 1


Currencies = Mapping[str, Currency]  # currency -> its day; a currency not in it: no move, no rate
NO_MOVE = Currency()


Groups = Mapping[str, Mapping[str, Group]]  # dimension -> group name -> figures


@dataclass(frozen=True, slots=True)
class Exposure:
    total_return: Decimal
    groups: Groups


def reported_dimensions(mandate: Mandate) -> tuple[str, ...]:
    """The dimensions a mandate's reports attribute by: by currency only where the mandate or its
    benchmark holds more than one (one currency has no currency bet to explain)."""
    held = {*currencies_of(mandate), *(s.currency for s in mandate.benchmark_segments)}
    return DIMENSIONS if len(held) > 1 else tuple(d for d in DIMENSIONS if d != "currency")


def _group_names(instrument: Instrument) -> dict[str, str]:
    return {
        "sector": instrument.sector or str(instrument.asset_class),
        "asset_class": str(instrument.asset_class),
        "currency": instrument.currency,
    }


def _cash_names(currency: str) -> dict[str, str]:
    return {"sector": CASH, "asset_class": CASH, "currency": currency}


class _Accumulator:
    """Per group of each dimension: the weight, and weight x each return (total, excess, currency)."""

    def __init__(self, currencies: Currencies) -> None:
        self.currencies = currencies
        self.sums: dict[str, dict[str, list[Decimal]]] = {d: {} for d in DIMENSIONS}

    def add(self, names: Mapping[str, str], weight: Decimal, local_return: Decimal) -> None:
        currency = self.currencies.get(names["currency"], NO_MOVE)
        # The products once per holding, then added to its group in each dimension (Decimal is slow).
        total = weight * (local_return if not currency.move else currency.base_return(local_return))
        excess = weight * (local_return - currency.cash_rate) if currency.cash_rate else weight * local_return
        held = weight * currency.with_interest if currency.move or currency.cash_rate else ZERO
        for dimension, name in names.items():
            entry = self.sums[dimension].get(name)
            if entry is None:
                self.sums[dimension][name] = [weight, total, excess, held]
            else:
                entry[0] += weight
                entry[1] += total
                entry[2] += excess
                entry[3] += held

    def exposure(self) -> Exposure:
        groups = {
            dimension: {
                name: _group(weight, total, excess, currency)
                for name, (weight, total, excess, currency) in by_name.items()
            }
            for dimension, by_name in self.sums.items()
        }
        total = sum((entry[1] for entry in self.sums["asset_class"].values()), ZERO)
        return Exposure(total, groups)


def _group(weight: Decimal, total: Decimal, excess: Decimal, currency: Decimal) -> Group:
    if not weight:
        return Group(weight, ZERO)
    return Group(weight, total / weight, excess / weight, currency / weight)


def in_benchmark(instrument: Instrument, on: dt.date, roll_off_years: float) -> bool:
    if instrument.maturity is None:
        return True
    return (instrument.maturity - on).days / DAYS_PER_YEAR >= roll_off_years


def benchmark_exposure(
    mandate: Mandate,
    instruments: Mapping[str, Instrument],
    weighted_on: dt.date,
    moves: Mapping[str, Move],
    currencies: Currencies,
) -> Exposure | None:
    """The benchmark's day, or None when a segment has no constituent with a move (the first day).
    A cash segment earns its currency's cash rate."""
    if not mandate.benchmark_segments:
        return None
    acc = _Accumulator(currencies)
    for segment in mandate.benchmark_segments:
        weight = Decimal(repr(segment.weight))
        if segment.asset_class is None:
            rate = currencies.get(segment.currency, Currency()).cash_rate
            acc.add(_cash_names(segment.currency), weight, rate)
            continue
        members = [
            (
                instruments[c.instrument_id],
                c.units * moves[c.instrument_id].value_before,
                moves[c.instrument_id],
            )
            for c in segment.constituents
            if c.instrument_id in moves
            and in_benchmark(instruments[c.instrument_id], weighted_on, mandate.benchmark_roll_off_years)
        ]
        cap = sum((value for _, value, _ in members), ZERO)
        if not members or cap <= 0:
            return None
        for instrument, value, move in members:
            acc.add(_group_names(instrument), weight * value / cap, move.total_return)
    return acc.exposure()


def portfolio_exposure(
    previous: DayValuation,
    instruments: Mapping[str, Instrument],
    moves: Mapping[str, Move],
    currencies: Currencies,
) -> Exposure | None:
    """The portfolio's day from yesterday's holdings, or None when yesterday's NAV was not positive."""
    if previous.nav <= 0:
        return None
    acc = _Accumulator(currencies)
    invested = ZERO
    for holding in previous.holdings:
        value = holding.base_market_value + holding.base_accrued_interest
        invested += value
        move = moves.get(holding.instrument_id)
        acc.add(
            _group_names(instruments[holding.instrument_id]),
            value / previous.nav,
            move.total_return if move is not None else ZERO,
        )
    for cash in previous.cash:
        if cash.currency != previous.base_currency and cash.base_amount:
            invested += cash.base_amount
            acc.add(_cash_names(cash.currency), cash.base_amount / previous.nav, ZERO)
    acc.add(_cash_names(previous.base_currency), (previous.nav - invested) / previous.nav, ZERO)
    return acc.exposure()


def currency_days(
    base_currency: str,
    currencies: Iterable[str],
    rate_before: Callable[[str], Decimal] | None,
    rate_now: Callable[[str], Decimal],
    cash_rate: Mapping[str, Decimal],
) -> dict[str, Currency]:
    """Each currency's day against the base currency: e = rate now / rate before - 1 (units of base
    per unit of it, the primary rates at the two day ends; 0 with no rate before, the first day),
    and its cash rate."""
    days = {}
    for currency in currencies:
        move = ZERO
        if currency != base_currency and rate_before is not None:
            before = rate_before(currency)
            move = rate_now(currency) / before - 1 if before else ZERO
        days[currency] = Currency(move, cash_rate.get(currency, ZERO))
    return days


def daily_cash_rate(fed_funds_pct: float | None, days: int) -> Mapping[str, Decimal]:
    """The day's return of cash per currency: USD the effective fed funds rate (FRED DFF) for the
    calendar days since the previous day end, actual/360 (the US money-market convention); the data
    has no short rate for EUR, GBP or JPY, so their cash earns nothing (an assumption, stated in
    docs/reporting-conventions.md)."""
    if fed_funds_pct is None:
        return {}
    return {"USD": Decimal(repr(fed_funds_pct)) / 100 * days / 360}
