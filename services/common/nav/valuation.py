"""A mandate's NAV at a day end, its units, and the day's return (docs/reporting-conventions.md).

Every amount is computed the way the ledger books it, so the two agree to the cent: a holding's
market value is quantity x price (per 100 for bonds) rounded half-even to the minor unit of its
currency, a bond's accrued interest quantity x accrued per 100 / 100 rounded the same way, and each
line in another currency converted at the day's primary rate and rounded to the base currency.

Units: issued at UNIT_PRICE_AT_INCEPTION on the first subscription; afterwards subscriptions and
redemptions deal at the day's closing NAV per unit before that day's flows (NAV less the day's
flows, over the units before them), units rounded half-even to UNIT_PLACES. The day's return is
the NAV before the day's flows over the previous day's NAV, less one: the flow counts from the start
of the next day, which is the same return as the ratio of unit prices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from services.common.market_events import Instrument, priced_per_100
from services.common.money import quantize_money
from services.common.nav.book import DayEndBook

ZERO = Decimal(0)
HUNDRED = Decimal(100)
UNIT_PRICE_AT_INCEPTION = Decimal("100.00")
UNIT_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class HoldingValue:
    """One position at the day end; money in the instrument's currency, then in the base currency."""

    instrument_id: str
    currency: str
    quantity: Decimal
    price: Decimal
    price_date: dt.date
    market_value: Decimal
    accrued_interest: Decimal
    fx_rate: Decimal
    base_market_value: Decimal
    base_accrued_interest: Decimal


@dataclass(frozen=True, slots=True)
class CashValue:
    currency: str
    amount: Decimal
    fx_rate: Decimal
    base_amount: Decimal


@dataclass(frozen=True, slots=True)
class NavBreakdown:
    """In the base currency: nav = securities + cash + accrued income - liabilities."""

    securities_value: Decimal
    cash_value: Decimal
    accrued_income: Decimal  # accrued dividends and bond interest
    liabilities: Decimal  # unsettled purchases less unsettled sales, plus management fees accrued unpaid

    @property
    def nav(self) -> Decimal:
        return self.securities_value + self.cash_value + self.accrued_income - self.liabilities


@dataclass(frozen=True, slots=True)
class DayValuation:
    """A mandate valued at one day end."""

    mandate_id: str
    date: dt.date
    seq: int
    base_currency: str
    breakdown: NavBreakdown
    holdings: tuple[HoldingValue, ...]
    cash: tuple[CashValue, ...]
    flows: Decimal  # the day's subscriptions less redemptions, base currency
    warnings: tuple[str, ...] = ()

    @property
    def nav(self) -> Decimal:
        return self.breakdown.nav


@dataclass(frozen=True, slots=True)
class Dealt:
    """The units after a day's flows, the price they dealt at, and the day's return."""

    units: Decimal
    nav_per_unit: Decimal
    daily_return: Decimal | None  # None before the first NAV


def value(book: DayEndBook, instruments: Mapping[str, Instrument]) -> DayValuation:
    """The mandate's NAV at the day end from its book and the day's quotes and rates."""
    base = book.mandate.base_currency

    def to_base(amount: Decimal, ccy: str) -> tuple[Decimal, Decimal]:
        """(rate, amount in base): each line converted and rounded on its own, as the ledger does."""
        rate = book.fx.rate(ccy, base)
        return rate, amount if ccy == base else quantize_money(amount * rate, base)

    def in_base(amounts: Mapping[str, Decimal]) -> Decimal:
        return sum((to_base(amount, ccy)[1] for ccy, amount in sorted(amounts.items())), ZERO)

    holdings: list[HoldingValue] = []
    warnings: list[str] = []
    for instrument_id, quantity in sorted(book.positions.items()):
        quote = book.quotes.get(instrument_id)
        if quote is None:
            warnings.append(f"{instrument_id}: no price yet, valued at zero")
            continue
        instrument = instruments[instrument_id]
        ccy, bond = instrument.currency, priced_per_100(instrument.asset_class)
        market_value = quantize_money(
            quantity * quote.price / HUNDRED if bond else quantity * quote.price, ccy
        )
        accrued = quantize_money(quantity * quote.accrued_per_100 / HUNDRED, ccy) if bond else ZERO
        rate, base_value = to_base(market_value, ccy)
        _, base_accrued = to_base(accrued, ccy)
        holdings.append(
            HoldingValue(
                instrument_id,
                ccy,
                quantity,
                quote.price,
                quote.price_date,
                market_value,
                accrued,
                rate,
                base_value,
                base_accrued,
            )
        )
    cash: list[CashValue] = []
    for ccy, amount in sorted(book.cash.items()):
        rate, base_amount = to_base(amount, ccy)
        cash.append(CashValue(ccy, amount, rate, base_amount))
    accrued_income = sum((h.base_accrued_interest for h in holdings), ZERO) + in_base(book.accrued_dividends)
    liabilities = in_base(book.payables) - in_base(book.receivables) + in_base(book.accrued_fees)
    breakdown = NavBreakdown(
        securities_value=sum((h.base_market_value for h in holdings), ZERO),
        cash_value=sum((c.base_amount for c in cash), ZERO),
        accrued_income=accrued_income,
        liabilities=liabilities,
    )
    return DayValuation(
        mandate_id=book.mandate.mandate_id,
        date=book.date,
        seq=book.seq,
        base_currency=base,
        breakdown=breakdown,
        holdings=tuple(holdings),
        cash=tuple(cash),
        flows=in_base(book.flows),
        warnings=tuple(warnings),
    )


def deal(units_before: Decimal, previous_nav: Decimal | None, valuation: DayValuation) -> Dealt:
    """The day's flows dealt at the closing NAV per unit before them, and the day's return."""
    nav, flows = valuation.nav, valuation.flows
    if units_before == 0:
        if flows <= 0:
            return Dealt(ZERO, ZERO, None)
        units = (flows / UNIT_PRICE_AT_INCEPTION).quantize(UNIT_PLACES, rounding=ROUND_HALF_EVEN)
        return Dealt(units, _per_unit(nav, units), nav / flows - 1)
    before_flows = nav - flows
    price = before_flows / units_before
    issued = (flows / price).quantize(UNIT_PLACES, rounding=ROUND_HALF_EVEN) if flows else ZERO
    daily_return = before_flows / previous_nav - 1 if previous_nav else None
    return Dealt(units_before + issued, price.quantize(UNIT_PLACES, rounding=ROUND_HALF_EVEN), daily_return)


def _per_unit(nav: Decimal, units: Decimal) -> Decimal:
    return (nav / units).quantize(UNIT_PLACES, rounding=ROUND_HALF_EVEN)


@dataclass(slots=True)
class UnitRegister:
    """A mandate's units outstanding and last NAV, carried from day end to day end."""

    units: Decimal = ZERO
    last_nav: Decimal | None = None

    def deal(self, valuation: DayValuation) -> Dealt:
        dealt = deal(self.units, self.last_nav, valuation)
        self.units = dealt.units
        if dealt.units:
            self.last_nav = valuation.nav
        return dealt
