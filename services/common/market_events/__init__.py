"""The records of market's event stream: what every service that follows market works with.

One frozen dataclass per payload kind, and MarketEvent around them. Money, quantities and
prices are Decimal; analytics (yields, regime figures) float; dates datetime.date, times
datetime.datetime in UTC. The simulation produces these (services/market/sim), market's codec
encodes them (services/market/codec.py), and a follower gets them back with
services.common.market_events.decode. This module imports nothing but the standard library,
so every domain may use it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


class AssetClass(enum.StrEnum):
    EQUITY = "EQUITY"
    GOVERNMENT_BOND = "GOVERNMENT_BOND"
    CORPORATE_BOND = "CORPORATE_BOND"
    CASH = "CASH"


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class SettlementState(enum.StrEnum):
    SETTLED = "SETTLED"
    FAILED = "FAILED"


class CorporateActionKind(enum.StrEnum):
    CASH_DIVIDEND = "CASH_DIVIDEND"
    COUPON = "COUPON"


class CashFlowKind(enum.StrEnum):
    DIVIDEND = "DIVIDEND"
    COUPON = "COUPON"
    SUBSCRIPTION = "SUBSCRIPTION"
    REDEMPTION = "REDEMPTION"
    FEE = "FEE"


class CorrectionKind(enum.StrEnum):
    """What a custodian.correction corrects (see CustodianCorrection)."""

    CANCEL_TRADE = "CANCEL_TRADE"
    VALUE_DATE = "VALUE_DATE"
    INCOME_ADJUSTMENT = "INCOME_ADJUSTMENT"


# ---------------------------------------------------------------- reference data


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument. Bond-only attributes are None for equities."""

    instrument_id: str
    symbol: str
    name: str
    asset_class: AssetClass
    currency: str
    sector: str
    market: str  # US, EU, UK, JP
    tick_size: Decimal
    settlement_days: int  # T+1 or T+2
    coupon_rate_pct: Decimal | None = None
    maturity: dt.date | None = None
    coupons_per_year: int = 0
    issuer: str = ""
    spread_bp: int = 0
    day_count: str = ""  # "ACT/ACT" (governments), "30/360" (corporates)
    isin: str = ""  # ISO 6166: country code, 9-character national id, check digit
    cusip: str = ""  # US-listed instruments only; empty otherwise


@dataclass(frozen=True, slots=True)
class SectorTarget:
    """A target weight of NAV (base currency) for a sector's names in one currency; currency "" covers
    the sector's eligible names in every currency."""

    sector: str
    target_weight: float
    min_weight: float
    max_weight: float
    currency: str = ""


@dataclass(frozen=True, slots=True)
class BenchmarkConstituent:
    """An instrument of a benchmark segment and its index units, for cap weighting.

    units: equities' shares outstanding, bonds' face amount outstanding (in the instrument's
    currency). Its value on a day is units * unit_price(price, asset class).
    """

    instrument_id: str
    units: Decimal


@dataclass(frozen=True, slots=True)
class BenchmarkSegment:
    """One segment of a mandate's benchmark ("US equity", weight 0.58): a fixed share of the
    benchmark, cap-weighted over its constituents. asset_class is None for a cash segment,
    which has no constituents."""

    name: str
    weight: float
    asset_class: AssetClass | None
    currency: str
    constituents: tuple[BenchmarkConstituent, ...] = ()


@dataclass(frozen=True, slots=True)
class Mandate:
    """A fund with its base currency, benchmark and investment limits.

    benchmark_segments: the benchmark by segment, in the order its description names them.
    benchmark_roll_off_years: a bond with less than this many years (days / 365.25) to
    maturity is out of the benchmark, as it is out of the mandate's targets. Both default
    to empty, for mandates built without a benchmark's composition.
    """

    mandate_id: str
    name: str
    base_currency: str
    benchmark: str
    benchmark_weights: Mapping[str, float]
    sector_targets: tuple[SectorTarget, ...]
    max_single_name_weight: float
    min_cash_weight: float
    max_cash_weight: float
    initial_capital: Decimal
    lot_method: str  # FIFO or AVERAGE
    allowed_asset_classes: tuple[AssetClass, ...]
    benchmark_segments: tuple[BenchmarkSegment, ...] = ()
    benchmark_roll_off_years: float = 0.0
    # The annual management fee as a fraction of NAV (0.0050 is 50 basis points), accrued daily
    # (FeeAccrual) and paid monthly (a cashflow.fee); 0 for a mandate that pays none.
    management_fee_rate: Decimal = Decimal(0)
    # The currencies it may hold instruments and cash in, base currency first; empty means the base
    # currency alone (a mandate built before mandates held foreign currencies). See `currencies_of`.
    currencies: tuple[str, ...] = ()


def currencies_of(mandate: Mandate) -> tuple[str, ...]:
    """The currencies a mandate may hold, base currency first (the base alone when none are listed)."""
    return mandate.currencies or (mandate.base_currency,)


# Bonds are quoted clean per 100 of face value, everything else per unit: the one place
# that says so (the ledger's marks, recon's valuation and trade checks, market's desk).
PRICED_PER_100 = frozenset({AssetClass.GOVERNMENT_BOND, AssetClass.CORPORATE_BOND})


def priced_per_100(asset_class: AssetClass | str) -> bool:
    """Whether prices of this asset class are per 100 of face (bonds) rather than per unit."""
    return asset_class in PRICED_PER_100


def unit_price(price: Decimal, asset_class: AssetClass | str) -> Decimal:
    """The value of one unit (one share, one currency unit of face) at a quoted price."""
    return price / 100 if priced_per_100(asset_class) else price


# ---------------------------------------------------------------- event payloads


@dataclass(frozen=True, slots=True)
class SyntheticOrigin:
    """Where a synthetic day (one past the end of the real data) came from: the real business day
    whose joint macro changes it applied, and the real block of consecutive business days it was
    drawn with (block_first .. block_last, inclusive)."""

    replayed: dt.date
    block_first: dt.date
    block_last: dt.date


@dataclass(frozen=True, slots=True)
class RegimeState:
    """The macro regime of one business day. origin: None on a real day (one of the data); on a
    synthetic day, past the end of the data, the real day and block it was drawn from."""

    date: dt.date
    regime: str  # calm, tightening, easing, stress, crisis
    fed_funds_pct: float
    curve_slope_pct: float
    breakeven_inflation_pct: float
    unemployment_pct: float
    equity_drift_annual: float
    equity_vol_annual: float
    curve_pct: Mapping[str, float]  # tenor label ("3M", "2Y", ...) -> yield in percent
    origin: SyntheticOrigin | None = None


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """A price from a vendor ("primary" or "vendor_b"). Bonds: clean per 100 face."""

    instrument_id: str
    price: Decimal
    currency: str
    vendor: str
    price_date: dt.date
    accrued_interest: Decimal | None = None  # bonds, per 100 face
    yield_pct: float | None = None  # bonds


@dataclass(frozen=True, slots=True)
class FxQuote:
    """Units of quote currency per one unit of base (EURUSD = USD per EUR)."""

    base_currency: str
    quote_currency: str
    rate: Decimal
    vendor: str  # primary or cross
    rate_date: dt.date

    @property
    def pair(self) -> str:
        return self.base_currency + self.quote_currency


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution. Amounts are in `currency`, the instrument's currency.

    net_amount is the cash that moves on settlement: gross + accrued +
    commission + fees for a buy (paid), gross + accrued - commission - fees
    for a sell (received). Always positive.
    """

    fill_id: str
    order_id: str
    mandate_id: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal
    currency: str
    gross_amount: Decimal
    accrued_interest: Decimal
    commission: Decimal
    fees: Decimal
    net_amount: Decimal
    trade_date: dt.date
    settle_date: dt.date
    broker: str


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A broker's trade confirmation; its text may carry the custodian's errors. A corrected one
    names the confirmation it cancels and replaces (replaces_confirmation_id)."""

    confirmation_id: str
    fill_id: str
    mandate_id: str
    broker: str
    layout: str
    text: str
    replaces_confirmation_id: str = ""


@dataclass(frozen=True, slots=True)
class CustodianTrade:
    """A trade as the custodian booked it: may differ from the fill.

    replaces_ref: when the custodian rebooks a trade it cancelled (a custodian.correction
    CANCEL_TRADE), the ref of the cancelled booking; "" for a first booking.
    """

    custodian_ref: str
    fill_id: str
    mandate_id: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal
    currency: str
    net_amount: Decimal
    trade_date: dt.date
    settle_date: dt.date
    replaces_ref: str = ""


@dataclass(frozen=True, slots=True)
class SettlementStatus:
    fill_id: str
    custodian_ref: str
    mandate_id: str
    instrument_id: str
    state: SettlementState
    settle_date: dt.date
    quantity: Decimal
    cash_amount: Decimal
    currency: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CorporateAction:
    action_id: str
    instrument_id: str
    kind: CorporateActionKind
    ex_date: dt.date
    record_date: dt.date
    pay_date: dt.date
    amount_per_unit: Decimal  # per share (dividend) or per 100 face (coupon)
    currency: str


@dataclass(frozen=True, slots=True)
class CashFlow:
    """A cash movement of the internal book; amount is signed (+ in, - out)."""

    cash_flow_id: str
    mandate_id: str
    kind: CashFlowKind
    amount: Decimal
    currency: str
    instrument_id: str = ""
    action_id: str = ""
    quantity: Decimal | None = None
    ex_date: dt.date | None = None
    pay_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class FeeAccrual:
    """One day's management fee of a mandate (kind fee.accrued), accrued at the start of
    accrual_date on the NAV of the previous day end (nav_basis): amount = nav_basis x annual_rate x
    days / 365, rounded half-even to the minor unit of `currency`, the mandate's base currency;
    days are the calendar days from that day end's date to accrual_date (3 on a Monday). The
    accrued balance is paid on the first business day of the next month (a cashflow.fee)."""

    mandate_id: str
    amount: Decimal
    currency: str
    accrual_date: dt.date
    nav_basis: Decimal
    annual_rate: Decimal
    days: int


@dataclass(frozen=True, slots=True)
class CustodianCashFlow:
    custodian_ref: str
    cash_flow_id: str
    mandate_id: str
    kind: CashFlowKind
    amount: Decimal
    currency: str
    instrument_id: str
    value_date: dt.date


@dataclass(frozen=True, slots=True)
class CustodianCorrection:
    """The custodian correcting one of its own earlier records (kind custodian.correction).

    kind CANCEL_TRADE: the custodian.trade `custodian_ref` is cancelled (a duplicate, or a
    mistyped booking, which `rebooked_ref` then replaces with the right figures). quantity and
    cash_amount are the reversal of its settlement, signed from the mandate's side as in
    SettlementStatus (a settled buy reverses -quantity and +cash); zero when it had not settled.
    value_date is None.
    kind VALUE_DATE: the custodian.cashflow `custodian_ref` had a wrong value date; value_date is
    the right one (back-valued). Nothing moves: quantity and cash_amount are zero.
    kind INCOME_ADJUSTMENT: a dividend or coupon paid on a holding a correction changed is
    adjusted: quantity is the change of the entitled units, cash_amount the cash that moves
    today, value_date the income's pay date; custodian_ref is the custodian.cashflow adjusted
    ("" when the custodian had paid nothing).
    correction_date is the business day of the correction (the event's date).
    """

    correction_ref: str
    kind: CorrectionKind
    custodian_ref: str
    mandate_id: str
    currency: str
    correction_date: dt.date
    fill_id: str = ""
    cash_flow_id: str = ""
    instrument_id: str = ""
    rebooked_ref: str = ""
    quantity: Decimal = Decimal(0)
    cash_amount: Decimal = Decimal(0)
    value_date: dt.date | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class FxDeal:
    """A spot FX deal of the desk (kind trade.fx): the mandate receives bought_amount of
    bought_currency and pays sold_amount of sold_currency on settle_date, both positive; one of the
    two currencies is the mandate's base currency.

    rate: units of the base currency per one unit of the other currency, whichever way the deal goes
    (the day's primary rate, unrounded, as services/common/fx_rates.py derives it); the base leg is
    the other leg x rate, half-even to the base currency's minor unit.
    """

    deal_id: str
    mandate_id: str
    bought_currency: str
    bought_amount: Decimal
    sold_currency: str
    sold_amount: Decimal
    rate: Decimal
    trade_date: dt.date
    settle_date: dt.date

    def signed_legs(self) -> tuple[tuple[str, Decimal], tuple[str, Decimal]]:
        """((currency, +received), (currency, -paid)): the cash it moves, from the mandate's side."""
        return (self.bought_currency, self.bought_amount), (self.sold_currency, -self.sold_amount)


@dataclass(frozen=True, slots=True)
class FxSettlement:
    """The custodian's report of an FX deal settling (kind custodian.fx_settlement): when SETTLED, both
    legs moved in its cash on settle_date. Amounts as on the deal, both positive."""

    custodian_ref: str
    deal_id: str
    mandate_id: str
    state: SettlementState
    settle_date: dt.date
    bought_currency: str
    bought_amount: Decimal
    sold_currency: str
    sold_amount: Decimal


@dataclass(frozen=True, slots=True)
class Book:
    """Positions (instrument -> quantity) and cash (currency -> amount) of one mandate."""

    mandate_id: str
    positions: Mapping[str, Decimal]
    cash: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class CustodianStatement:
    statement_date: dt.date
    book: Book


@dataclass(frozen=True, slots=True)
class DayEnd:
    date: dt.date
    events_in_day: int
    fills_in_day: int


Payload = (
    RegimeState
    | PriceQuote
    | FxQuote
    | Fill
    | Confirmation
    | CustodianTrade
    | SettlementStatus
    | CorporateAction
    | CashFlow
    | FeeAccrual
    | FxDeal
    | FxSettlement
    | CustodianCashFlow
    | CustodianCorrection
    | CustodianStatement
    | DayEnd
)


# Every market event's id starts with it ("mkt-<seq>"); a journal booked from the stream carries it.
MARKET_EVENT_ID_PREFIX = "mkt-"


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """One event of market's stream. seq starts at 1; event_id is "mkt-<seq>".

    kind is one of: market.regime, fee.accrued, price.tick, price.vendor, fx.rate,
    trade.fill, trade.confirmation, trade.fx, custodian.trade, custodian.settlement,
    custodian.fx_settlement, corporate_action.announced, cashflow.<dividend|coupon|
    subscription|redemption|fee>, custodian.cashflow, custodian.correction,
    custodian.statement, clock.day_end.
    """

    seq: int
    event_id: str
    sim_time: dt.datetime
    kind: str
    payload: Payload
    mandate_id: str = ""
    caused_by: tuple[str, ...] = ()
    # W3C trace context of the span that produced it: runtime telemetry, set on the wire by
    # market's server, "" inside the simulation (not part of the deterministic content).
    traceparent: str = ""
    # Its trace id (32 hex digits), which journals and breaks record; decode fills it in, so
    # no domain needs a tracing library to read it. "" when there is no valid traceparent.
    trace_id: str = ""
