"""The desk's FX deals: foreign cash bought for the purchases made in it, surplus sold back.

A mandate holding a foreign currency (mandates.py) pays for its purchases in that currency and
receives its sales, dividends and coupons in it. After the desk's fills of a day, each foreign
currency of a mandate gets at most one spot deal against the base currency, for the net amount:

- Funding: when its projected balance (settled cash plus every pending settlement, fills and
  earlier deals, by date) would go below zero on any date, the desk buys the shortfall, rounded up
  to a whole DEAL_ROUND of the currency. The deal settles spot, SPOT_DAYS business days after the
  trade date: the settle date of the equity purchases it funds (every foreign instrument settles
  T+2, universe.py), so the foreign cash arrives the day it is paid out and the settled balance
  never goes negative.
- Sweep: otherwise, when the projected balance from the spot date on never falls below an amount
  worth more than SWEEP_WEIGHT of NAV (in base), that surplus, rounded down to a whole DEAL_ROUND,
  is sold back to the base currency: sale proceeds settling by the spot date are swept the day
  they are traded, and no date is left short by the deal (it moves nothing before spot). Smaller surpluses stay (they count as cash in the NAV and are what
  the next purchases in that currency spend first).

Why spot and one net deal a day: it is how a manager's FX desk funds trades (spot is the market's
convention for EUR and GBP), the legs then settle on the day the trades they fund do, and netting
keeps a day's purchases and sales in one currency from buying and selling it back and forth.

Rate and amounts: the day's primary rate, units of base per unit of the foreign currency exactly
as services/common/fx_rates.py derives it (so every follower converts the foreign leg into the base
leg with the same figure); the foreign amount is the whole DEAL_ROUND, the base amount foreign x
rate, rounded half-even to the base currency's minor unit (services/common/money.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from services.common.calendar import BusinessCalendar
from services.common.fx_rates import FxRates
from services.common.market_events import currencies_of
from services.common.money import quantize_money
from services.market.sim.books import InternalBook, cash_floor
from services.market.sim.records import FxDeal, Mandate

SPOT_DAYS = 2
DEAL_ROUND = Decimal(1000)
SWEEP_WEIGHT = 0.001  # of NAV: a surplus worth more than 0.1 % goes back to the base currency


def _whole(amount: Decimal, rounding: str) -> Decimal:
    """The amount in whole DEAL_ROUNDs of the currency, rounded up or down."""
    return (amount / DEAL_ROUND).to_integral_value(rounding=rounding) * DEAL_ROUND


class FxDealer:
    """Decides each mandate's FX deals of a day and numbers them FXD-0000001, FXD-0000002, ..."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self._calendar = calendar
        self._deals = 0

    def deals(
        self, day: dt.date, mandate: Mandate, book: InternalBook, rates: FxRates, nav: float
    ) -> list[FxDeal]:
        """The day's deals of one mandate, in the order of its currencies (after the day's fills)."""
        out: list[FxDeal] = []
        spot = self._calendar.add(day, SPOT_DAYS)
        base = mandate.base_currency
        for currency in currencies_of(mandate):
            if currency == base:
                continue
            settled = book.cash(mandate.mandate_id, currency)
            flows = book.pending_cash(mandate.mandate_id, currency)
            lowest, _ = cash_floor(settled, flows, day)
            rate = rates.rate(currency, base)
            if lowest < 0:
                amount = _whole(-lowest, ROUND_CEILING)
                out.append(self._deal(day, spot, mandate, (currency, amount), (base, amount), rate))
                continue
            # The sweep leaves the balance before its settle date as it is: only from spot on must
            # the surplus be there (sale proceeds settling by then count).
            from_spot, _ = cash_floor(settled, flows, spot)
            surplus = _whole(from_spot, ROUND_FLOOR)
            if surplus > 0 and float(surplus * rate) > SWEEP_WEIGHT * nav:
                out.append(self._deal(day, spot, mandate, (base, surplus), (currency, surplus), rate))
        return out

    def _deal(
        self,
        day: dt.date,
        spot: dt.date,
        mandate: Mandate,
        bought: tuple[str, Decimal],
        sold: tuple[str, Decimal],
        rate: Decimal,
    ) -> FxDeal:
        """A deal whose base leg is the foreign leg (given as the amount on both sides) at `rate`."""
        base = mandate.base_currency

        def amount(leg: tuple[str, Decimal]) -> Decimal:
            currency, foreign = leg
            return quantize_money(foreign * rate, base) if currency == base else foreign

        self._deals += 1
        return FxDeal(
            deal_id=f"FXD-{self._deals:07d}",
            mandate_id=mandate.mandate_id,
            bought_currency=bought[0],
            bought_amount=amount(bought),
            sold_currency=sold[0],
            sold_amount=amount(sold),
            rate=rate,
            trade_date=day,
            settle_date=spot,
        )
