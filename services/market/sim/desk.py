"""The trading desk: keeps each mandate near its targets and turns orders into fills.

Each business day, per mandate (valued in its base currency at the day's
primary prices and primary FX rates; weights are analytics, so floats):

- NAV = trade-date holdings at market (bonds with accrued) + projected cash
  (settled cash + pending settlements, FX deals' legs included + notified
  investor flows), every currency converted into the base currency at the
  day's primary rate, so weights, targets and budgets are all in base.
- Full rebalance, every name to target, when projected cash nears the top
  of the band, or the lowest future cash balance (pending settlements and
  notified redemptions in date order) nears its bottom (CASH_TRIGGER of the
  band's width from the edge, so price moves rarely carry cash outside). Otherwise only names that
  drifted more than DRIFT_RELATIVE * target + DRIFT_ABSOLUTE, names above the
  single-name maximum, and names leaving the targets (bonds near maturity) trade.
- Sells first (never more than held), then buys, scaled down to what the
  lowest future cash balance allows above the minimum cash weight, so buys
  never overdraw the settled cash on any future day. A purchase in a foreign
  currency spends that currency's projected surplus first and the base
  currency for the rest (an FX deal after the fills buys it, fx_deals.py).
  Trades below MIN_TRADE_WEIGHT of NAV are skipped.
- Quantities: whole round lots (1 share, 100 for Japan, 1,000 face for bonds).
  An order fills in 1-3 partial fills at the day's primary price plus or
  minus a few ticks of slippage.

Amounts (exact, in the instrument currency, half-even to the currency's
cent or yen): gross = quantity * price (/100 for bonds); accrued = quantity *
accrued interest per 100 at the settle date / 100 (bonds, else 0);
commission = max(min, bps * gross) for equities, 0 for bonds; fees = the
market's buy or sell fee rate * gross; net = gross + accrued + commission +
fees for a buy, gross + accrued - commission - fees for a sell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

from services.common.calendar import BusinessCalendar
from services.common.fx_rates import FxRates
from services.common.market_events import currencies_of
from services.market.sim import bonds
from services.market.sim.books import ZERO, InternalBook, cash_floor
from services.market.sim.confirmations import BROKER_NAMES
from services.market.sim.mandates import cash_target, target_weights
from services.market.sim.records import Fill, Instrument, Mandate, PriceQuote, Side
from services.market.sim.rng import py_stream
from services.market.sim.universe import CURRENCY_QUANTUM, MARKETS, Universe, is_bond, lot_size

DRIFT_RELATIVE = 0.10
DRIFT_ABSOLUTE = 0.001
MIN_TRADE_WEIGHT = 0.0005
CASH_TRIGGER = 0.2  # rebalance fully once cash is within this share of the band's width from an edge
BUY_COST_MARGIN = 0.01  # commission, stamp duty and slippage headroom when sizing buys
SPLIT_ODDS = (0.6, 0.3, 0.1)  # chance of 1, 2 or 3 fills per order
EQUITY_SLIPPAGE_TICKS = 2
BOND_SLIPPAGE_TICKS = 10

# The three houses whose confirmation layouts confirmations.py renders, by market.
_NORTHBRIDGE, _KESTREL, _MERIDIAN = (
    BROKER_NAMES[layout] for layout in ("northbridge", "kestrel", "meridian")
)
BROKERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "US": (_NORTHBRIDGE, _KESTREL, _MERIDIAN),
        "EU": (_KESTREL, _MERIDIAN),
        "UK": (_KESTREL, _NORTHBRIDGE),
        "JP": (_NORTHBRIDGE, _MERIDIAN),
        "BONDS": (_NORTHBRIDGE, _KESTREL),
    }
)
ALL_BROKERS: tuple[str, ...] = tuple(sorted({b for names in BROKERS.values() for b in names}))


def unit_value(instrument: Instrument, quote: PriceQuote) -> float:
    """Market value of one share or one unit of face, with accrued for bonds, in its own currency."""
    if is_bond(instrument):
        return float(quote.price + (quote.accrued_interest or ZERO)) / 100.0
    return float(quote.price)


@dataclass(frozen=True, slots=True)
class Valuation:
    """A mandate in its base currency: nav, values and cash are base-currency figures."""

    nav: float
    values: Mapping[str, float]  # instrument id -> market value of the trade-date position
    projected_cash: float  # settled + pending + notified flows, every currency
    cash_floor: float  # lowest future balance of settled cash (each currency's lowest, summed)
    rates: Mapping[str, float]  # currency -> units of base per unit, the day's primary rate


def _rates(mandate: Mandate, held: Iterable[str], fx: FxRates | None) -> dict[str, float]:
    """Units of base per unit of each of the mandate's currencies and of the `held` ones (a name
    no longer eligible is still valued to be sold); fx None: the base currency alone (ValueError,
    from FxRates, for a currency no rate converts)."""
    base = mandate.base_currency
    rates = fx if fx is not None else FxRates()
    return {ccy: float(rates.rate(ccy, base)) for ccy in dict.fromkeys([*currencies_of(mandate), *held])}


class Desk:
    def __init__(self, seed: int, universe: Universe, calendar: BusinessCalendar) -> None:
        self._rng = py_stream(seed, "desk")
        self._universe = universe
        self._calendar = calendar
        self._orders = 0
        self._fills = 0

    def value(
        self,
        day: dt.date,
        mandate: Mandate,
        book: InternalBook,
        quotes: Mapping[str, PriceQuote],
        upcoming: Sequence[tuple[dt.date, Decimal]],
        fx: FxRates | None = None,
    ) -> Valuation:
        """The mandate at the day's prices and primary rates (`fx`; None for a mandate holding only its
        base currency); `upcoming`: notified investor flows (base currency)."""
        positions = book.positions(mandate.mandate_id)
        priced = [i for i in positions if i in quotes]
        rates = _rates(mandate, (self._universe.get(i).currency for i in priced), fx)
        values: dict[str, float] = {}
        for instrument_id, quantity in positions.items():
            quote = quotes.get(instrument_id)
            if quote is not None:
                instrument = self._universe.get(instrument_id)
                values[instrument_id] = (
                    float(quantity) * unit_value(instrument, quote) * rates[instrument.currency]
                )
        projected = lowest_total = 0.0
        for currency, rate in rates.items():
            flows = [*book.pending_cash(mandate.mandate_id, currency)]
            if currency == mandate.base_currency:
                flows.extend(upcoming)
            lowest, final = cash_floor(book.cash(mandate.mandate_id, currency), flows, day)
            projected += float(final) * rate
            lowest_total += float(lowest) * rate
        return Valuation(sum(values.values()) + projected, values, projected, lowest_total, rates)

    def rebalance(
        self,
        day: dt.date,
        mandate: Mandate,
        book: InternalBook,
        quotes: Mapping[str, PriceQuote],
        upcoming: Sequence[tuple[dt.date, Decimal]],
        fx: FxRates | None = None,
    ) -> list[Fill]:
        """The day's fills for one mandate (sells first, then buys)."""
        valuation = self.value(day, mandate, book, quotes, upcoming, fx)
        nav = valuation.nav
        if nav <= 0:
            return []
        targets = target_weights(mandate, self._universe.instruments, day)
        held = book.positions(mandate.mandate_id)
        width = mandate.max_cash_weight - mandate.min_cash_weight
        full = (
            valuation.projected_cash / nav > mandate.max_cash_weight - CASH_TRIGGER * width
            or valuation.cash_floor / nav < mandate.min_cash_weight + CASH_TRIGGER * width
        )
        sells: list[tuple[Instrument, Decimal]] = []
        buys: list[tuple[Instrument, Decimal]] = []
        for instrument in self._universe.instruments:
            instrument_id = instrument.instrument_id
            if instrument_id not in targets and instrument_id not in held:
                continue
            quote = quotes.get(instrument_id)
            if quote is None:
                continue
            unit = unit_value(instrument, quote) * valuation.rates[instrument.currency]
            current = valuation.values.get(instrument_id, 0.0)
            weight, target = current / nav, targets.get(instrument_id, 0.0)
            leaving = instrument_id not in targets
            drifted = abs(weight - target) > DRIFT_RELATIVE * target + DRIFT_ABSOLUTE
            if not (full or leaving or drifted or weight > mandate.max_single_name_weight):
                continue
            difference = target * nav - current
            if abs(difference) < MIN_TRADE_WEIGHT * nav and not leaving:
                continue
            lot = lot_size(instrument)
            lots = int(abs(difference) / unit / float(lot))
            quantity = Decimal(lots) * lot
            if difference < 0:
                quantity = held[instrument_id] if leaving else min(quantity, held.get(instrument_id, ZERO))
                if quantity > 0:
                    sells.append((instrument, quantity))
            elif quantity > 0:
                buys.append((instrument, quantity))
        fills: list[Fill] = []
        for instrument, quantity in sells:
            fills.extend(
                self._execute(day, mandate, instrument, Side.SELL, quantity, quotes[instrument.instrument_id])
            )
        buys = self._fit_budget(day, mandate, book, valuation, fills, buys, quotes, upcoming)
        for instrument, quantity in buys:
            fills.extend(
                self._execute(day, mandate, instrument, Side.BUY, quantity, quotes[instrument.instrument_id])
            )
        return fills

    def _fit_budget(
        self,
        day: dt.date,
        mandate: Mandate,
        book: InternalBook,
        valuation: Valuation,
        sells: Sequence[Fill],
        buys: list[tuple[Instrument, Decimal]],
        quotes: Mapping[str, PriceQuote],
        upcoming: Sequence[tuple[dt.date, Decimal]],
    ) -> list[tuple[Instrument, Decimal]]:
        """Scale buys down so the lowest future base cash balance stays above the minimum cash weight.

        A foreign currency's buys spend its own projected surplus (sells of the day included) first;
        what they need beyond it is bought with base currency (an FX deal settling with them), so it
        counts against the base budget at the day's rate. Scaling every buy by budget / required is
        safe: a currency's shortfall shrinks at least as fast as its buys."""
        if not buys:
            return buys
        base = mandate.base_currency
        # Cash for a buy is needed from its settle date on: proceeds that settle by then count.
        first_payment = min(self._calendar.add(day, i.settlement_days) for i, _ in buys)

        def lowest(currency: str) -> float:
            proceeds = [(f.settle_date, f.net_amount) for f in sells if f.currency == currency]
            flows = [*book.pending_cash(mandate.mandate_id, currency), *proceeds]
            if currency == base:
                flows.extend(upcoming)
            return float(cash_floor(book.cash(mandate.mandate_id, currency), flows, first_payment)[0])

        budget = lowest(base) - max(mandate.min_cash_weight, cash_target(mandate) * 0.5) * valuation.nav
        if budget <= 0:
            return []
        cost: dict[str, float] = {}  # by currency, in that currency
        for instrument, quantity in buys:
            unit = unit_value(instrument, quotes[instrument.instrument_id])
            cost[instrument.currency] = cost.get(instrument.currency, 0.0) + float(quantity) * unit * (
                1 + BUY_COST_MARGIN
            )
        required = 0.0
        for currency, amount in cost.items():
            own = 0.0 if currency == base else max(0.0, lowest(currency))
            required += max(0.0, amount - own) * valuation.rates[currency]
        if required <= budget:
            return buys
        scale = budget / required
        fitted = []
        for instrument, quantity in buys:
            lot = lot_size(instrument)
            scaled = Decimal(int(float(quantity) * scale / float(lot))) * lot
            if scaled > 0:
                fitted.append((instrument, scaled))
        return fitted

    def _execute(
        self,
        day: dt.date,
        mandate: Mandate,
        instrument: Instrument,
        side: Side,
        quantity: Decimal,
        quote: PriceQuote,
    ) -> list[Fill]:
        self._orders += 1
        order_id = f"ORD-{self._orders:07d}"
        market = "BONDS" if is_bond(instrument) else instrument.market
        brokers = BROKERS[market]
        broker = brokers[self._rng.randrange(len(brokers))]
        lot = lot_size(instrument)
        lots = int(quantity / lot)
        roll = self._rng.random()
        parts = 1 if roll < SPLIT_ODDS[0] else 2 if roll < SPLIT_ODDS[0] + SPLIT_ODDS[1] else 3
        parts = min(parts, lots)
        cuts = sorted(self._rng.sample(range(1, lots), parts - 1)) if parts > 1 else []
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, lots], strict=True)]
        settle = self._calendar.add(day, instrument.settlement_days)
        accrued_per_100 = ZERO
        if is_bond(instrument):
            assert instrument.maturity is not None and instrument.coupon_rate_pct is not None
            accrued_per_100 = bonds.accrued_interest(
                settle,
                instrument.maturity,
                instrument.coupon_rate_pct,
                instrument.coupons_per_year,
                instrument.day_count,
            )
        span = BOND_SLIPPAGE_TICKS if is_bond(instrument) else EQUITY_SLIPPAGE_TICKS
        fills = []
        for size in sizes:
            ticks = self._rng.randint(-span, span)
            price = max(instrument.tick_size, quote.price + ticks * instrument.tick_size)
            self._fills += 1
            fills.append(
                make_fill(
                    f"FIL-{self._fills:07d}",
                    order_id,
                    mandate.mandate_id,
                    instrument,
                    side,
                    Decimal(size) * lot,
                    price,
                    accrued_per_100,
                    day,
                    settle,
                    broker,
                )
            )
        return fills


def make_fill(
    fill_id: str,
    order_id: str,
    mandate_id: str,
    instrument: Instrument,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    accrued_per_100: Decimal,
    trade_date: dt.date,
    settle_date: dt.date,
    broker: str,
) -> Fill:
    """A fill with its amounts computed exactly (see the module docstring)."""
    quantum = CURRENCY_QUANTUM[instrument.currency]

    def money(value: Decimal) -> Decimal:
        return value.quantize(quantum, rounding=ROUND_HALF_EVEN)

    if is_bond(instrument):
        gross = money(quantity * price / 100)
        accrued = money(quantity * accrued_per_100 / 100)
        commission = fees = money(ZERO)
    else:
        convention = MARKETS[instrument.market]
        gross = money(quantity * price)
        accrued = money(ZERO)
        commission = money(max(convention.min_commission, gross * convention.commission_bps / 10_000))
        rate = convention.buy_fee_rate if side is Side.BUY else convention.sell_fee_rate
        fees = money(gross * rate)
    net = gross + accrued + commission + fees if side is Side.BUY else gross + accrued - commission - fees
    return Fill(
        fill_id=fill_id,
        order_id=order_id,
        mandate_id=mandate_id,
        instrument_id=instrument.instrument_id,
        side=side,
        quantity=quantity,
        price=price,
        currency=instrument.currency,
        gross_amount=gross,
        accrued_interest=accrued,
        commission=commission,
        fees=fees,
        net_amount=net,
        trade_date=trade_date,
        settle_date=settle_date,
        broker=broker,
    )
