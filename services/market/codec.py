"""Records of the simulation (services/market/sim/records.py) to protobuf and JSON.

Pure translation, no grpc import: the server, the CLI and tests share it.
Decimals travel as plain-notation strings (format "f": never "1E+3" or
"0E-8"), dates as opsuite.common.v1.Date, times as Timestamp, and every
StrEnum maps to the proto enum value whose suffix is the member's name
(Side.BUY -> SIDE_BUY). The envelope's traceparent is left empty: it is
runtime telemetry, filled by the server, not simulation content.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from google.protobuf import json_format, timestamp_pb2
from google.protobuf.message import Message

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2
from services.common.convert import date_to_proto, decimal_to_proto, money_to_proto, timestamp_to_proto
from services.common.enums import enum_from_proto, enum_to_proto
from services.market.sim.records import (
    AssetClass,
    BenchmarkSegment,
    Book,
    BookSnapshot,
    CashFlow,
    Confirmation,
    CorporateAction,
    CustodianCashFlow,
    CustodianCorrection,
    CustodianStatement,
    CustodianTrade,
    DayEnd,
    FaultKind,
    FaultRequest,
    FeeAccrual,
    Fill,
    FxDeal,
    FxQuote,
    FxSettlement,
    InjectedFault,
    Instrument,
    Mandate,
    PriceQuote,
    RegimeState,
    SettlementStatus,
    SimEvent,
    SyntheticOrigin,
)

SOURCE = "market"


def _side(member: enum.Enum) -> market_pb2.Side.ValueType:
    return enum_to_proto(market_pb2.Side, "SIDE_", member)


@functools.lru_cache(maxsize=64)
def _settlement_state(member: enum.Enum) -> market_pb2.SettlementState.ValueType:
    return enum_to_proto(market_pb2.SettlementState, "SETTLEMENT_STATE_", member)


# ---------------------------------------------------------------- in place
#
# The payloads of most events (prices, fills, the custodian's trades, settlements and statements,
# fee accruals) are written into the event's message field by field: it runs for every event market
# produces, and setting fields in place costs about half of building sub-messages and copying them
# in. The bytes are the same either way (tests/market/service/test_codec.py holds them to a
# reference).


def _set_money(message: common_pb2.Money, amount: Decimal, currency: str) -> None:
    message.amount.value = _decimal_text(amount)
    message.currency = currency


# ---------------------------------------------------------------- payloads


def _regime(state: RegimeState) -> market_pb2.RegimeState:
    return market_pb2.RegimeState(
        date=date_to_proto(state.date),
        regime=state.regime,
        fed_funds_pct=state.fed_funds_pct,
        curve_slope_pct=state.curve_slope_pct,
        breakeven_inflation_pct=state.breakeven_inflation_pct,
        unemployment_pct=state.unemployment_pct,
        equity_drift_annual=state.equity_drift_annual,
        equity_vol_annual=state.equity_vol_annual,
        curve_pct=dict(state.curve_pct),
        synthetic=synthetic_origin_to_proto(state.origin),
    )


def synthetic_origin_to_proto(origin: SyntheticOrigin | None) -> market_pb2.SyntheticOrigin | None:
    """The wire form of a synthetic day's origin; None (the field left unset) for a real day."""
    if origin is None:
        return None
    return market_pb2.SyntheticOrigin(
        replayed=date_to_proto(origin.replayed),
        block_first=date_to_proto(origin.block_first),
        block_last=date_to_proto(origin.block_last),
    )


def price_to_proto(quote: PriceQuote) -> market_pb2.Price:
    message = market_pb2.Price()
    _fill_price(message, quote)
    return message


def _fill_price(message: market_pb2.Price, quote: PriceQuote) -> None:
    """Write quote into message field by field: two thirds of the events are prices, and setting
    fields in place costs about half of building sub-messages and copying them in."""
    message.instrument_id = quote.instrument_id
    message.price.value = _decimal_text(quote.price)
    message.currency = quote.currency
    message.vendor = quote.vendor
    message.price_date.CopyFrom(_date(quote.price_date))
    if quote.accrued_interest is not None:
        message.accrued_interest.value = _decimal_text(quote.accrued_interest)
    if quote.yield_pct is not None:
        message.yield_pct = quote.yield_pct


def fx_to_proto(quote: FxQuote) -> market_pb2.FxRate:
    return market_pb2.FxRate(
        base_currency=quote.base_currency,
        quote_currency=quote.quote_currency,
        rate=decimal_to_proto(quote.rate),
        vendor=quote.vendor,
        rate_date=date_to_proto(quote.rate_date),
    )


def fill_to_proto(fill: Fill) -> market_pb2.Fill:
    message = market_pb2.Fill()
    _fill_fill(message, fill)
    return message


def _fill_fill(message: market_pb2.Fill, fill: Fill) -> None:
    currency = fill.currency
    message.fill_id = fill.fill_id
    message.order_id = fill.order_id
    message.mandate_id = fill.mandate_id
    message.instrument_id = fill.instrument_id
    message.side = _side(fill.side)
    message.quantity.value = _decimal_text(fill.quantity)
    message.price.value = _decimal_text(fill.price)
    _set_money(message.gross_amount, fill.gross_amount, currency)
    _set_money(message.accrued_interest, fill.accrued_interest, currency)
    _set_money(message.commission, fill.commission, currency)
    _set_money(message.fees, fill.fees, currency)
    _set_money(message.net_amount, fill.net_amount, currency)
    message.trade_date.CopyFrom(_date(fill.trade_date))
    message.settle_date.CopyFrom(_date(fill.settle_date))
    message.broker = fill.broker


def confirmation_to_proto(confirmation: Confirmation) -> market_pb2.Confirmation:
    return market_pb2.Confirmation(
        confirmation_id=confirmation.confirmation_id,
        fill_id=confirmation.fill_id,
        mandate_id=confirmation.mandate_id,
        broker=confirmation.broker,
        layout=confirmation.layout,
        text=confirmation.text,
        replaces_confirmation_id=confirmation.replaces_confirmation_id,
    )


def _fill_custodian_trade(message: market_pb2.CustodianTrade, trade: CustodianTrade) -> None:
    message.custodian_ref = trade.custodian_ref
    message.fill_id = trade.fill_id
    message.mandate_id = trade.mandate_id
    message.instrument_id = trade.instrument_id
    message.side = _side(trade.side)
    message.quantity.value = _decimal_text(trade.quantity)
    message.price.value = _decimal_text(trade.price)
    _set_money(message.net_amount, trade.net_amount, trade.currency)
    message.trade_date.CopyFrom(_date(trade.trade_date))
    message.settle_date.CopyFrom(_date(trade.settle_date))
    message.replaces_ref = trade.replaces_ref


def _fill_settlement(message: market_pb2.SettlementStatus, status: SettlementStatus) -> None:
    message.fill_id = status.fill_id
    message.custodian_ref = status.custodian_ref
    message.mandate_id = status.mandate_id
    message.instrument_id = status.instrument_id
    message.state = _settlement_state(status.state)
    message.settle_date.CopyFrom(_date(status.settle_date))
    message.quantity.value = _decimal_text(status.quantity)
    _set_money(message.cash_amount, status.cash_amount, status.currency)
    message.reason = status.reason


def _corporate_action(action: CorporateAction) -> market_pb2.CorporateAction:
    return market_pb2.CorporateAction(
        action_id=action.action_id,
        instrument_id=action.instrument_id,
        kind=enum_to_proto(market_pb2.CorporateActionKind, "CORPORATE_ACTION_KIND_", action.kind),
        ex_date=date_to_proto(action.ex_date),
        record_date=date_to_proto(action.record_date),
        pay_date=date_to_proto(action.pay_date),
        amount_per_unit=money_to_proto(action.amount_per_unit, action.currency),
    )


def _cash_flow(flow: CashFlow) -> market_pb2.CashFlow:
    message = market_pb2.CashFlow(
        cash_flow_id=flow.cash_flow_id,
        mandate_id=flow.mandate_id,
        kind=enum_to_proto(market_pb2.CashFlowKind, "CASH_FLOW_KIND_", flow.kind),
        amount=money_to_proto(flow.amount, flow.currency),
        instrument_id=flow.instrument_id,
        action_id=flow.action_id,
    )
    if flow.quantity is not None:
        message.quantity.CopyFrom(decimal_to_proto(flow.quantity))
    if flow.ex_date is not None:
        message.ex_date.CopyFrom(date_to_proto(flow.ex_date))
    if flow.pay_date is not None:
        message.pay_date.CopyFrom(date_to_proto(flow.pay_date))
    return message


def _fill_fee_accrual(message: market_pb2.FeeAccrual, accrual: FeeAccrual) -> None:
    message.mandate_id = accrual.mandate_id
    _set_money(message.amount, accrual.amount, accrual.currency)
    message.accrual_date.CopyFrom(_date(accrual.accrual_date))
    _set_money(message.nav_basis, accrual.nav_basis, accrual.currency)
    message.annual_rate.value = _decimal_text(accrual.annual_rate)
    message.days = accrual.days


def _fx_deal(deal: FxDeal) -> market_pb2.FxDeal:
    return market_pb2.FxDeal(
        deal_id=deal.deal_id,
        mandate_id=deal.mandate_id,
        bought=money_to_proto(deal.bought_amount, deal.bought_currency),
        sold=money_to_proto(deal.sold_amount, deal.sold_currency),
        rate=decimal_to_proto(deal.rate),
        trade_date=date_to_proto(deal.trade_date),
        settle_date=date_to_proto(deal.settle_date),
    )


def _fx_settlement(status: FxSettlement) -> market_pb2.FxSettlement:
    return market_pb2.FxSettlement(
        custodian_ref=status.custodian_ref,
        deal_id=status.deal_id,
        mandate_id=status.mandate_id,
        state=enum_to_proto(market_pb2.SettlementState, "SETTLEMENT_STATE_", status.state),
        settle_date=date_to_proto(status.settle_date),
        bought=money_to_proto(status.bought_amount, status.bought_currency),
        sold=money_to_proto(status.sold_amount, status.sold_currency),
    )


def _custodian_cash_flow(flow: CustodianCashFlow) -> market_pb2.CustodianCashFlow:
    return market_pb2.CustodianCashFlow(
        custodian_ref=flow.custodian_ref,
        cash_flow_id=flow.cash_flow_id,
        mandate_id=flow.mandate_id,
        kind=enum_to_proto(market_pb2.CashFlowKind, "CASH_FLOW_KIND_", flow.kind),
        amount=money_to_proto(flow.amount, flow.currency),
        instrument_id=flow.instrument_id,
        value_date=date_to_proto(flow.value_date),
    )


def _custodian_correction(correction: CustodianCorrection) -> market_pb2.CustodianCorrection:
    message = market_pb2.CustodianCorrection(
        correction_ref=correction.correction_ref,
        kind=enum_to_proto(market_pb2.CorrectionKind, "CORRECTION_KIND_", correction.kind),
        custodian_ref=correction.custodian_ref,
        rebooked_ref=correction.rebooked_ref,
        fill_id=correction.fill_id,
        cash_flow_id=correction.cash_flow_id,
        mandate_id=correction.mandate_id,
        instrument_id=correction.instrument_id,
        quantity=decimal_to_proto(correction.quantity),
        cash_amount=money_to_proto(correction.cash_amount, correction.currency),
        correction_date=date_to_proto(correction.correction_date),
        reason=correction.reason,
    )
    if correction.value_date is not None:
        message.value_date.CopyFrom(date_to_proto(correction.value_date))
    return message


def book_to_proto(book: Book) -> market_pb2.MandateBook:
    message = market_pb2.MandateBook()
    _fill_book(message, book)
    return message


def _fill_book(message: market_pb2.MandateBook, book: Book) -> None:
    message.mandate_id = book.mandate_id
    add_position = message.positions.add
    for instrument_id, quantity in book.positions.items():
        position = add_position()
        position.instrument_id = instrument_id
        position.quantity.value = _decimal_text(quantity)
    add_cash = message.cash.add
    for currency, amount in book.cash.items():
        _set_money(add_cash(), amount, currency)


def _fill_statement(message: market_pb2.CustodianStatement, statement: CustodianStatement) -> None:
    message.statement_date.CopyFrom(_date(statement.statement_date))
    _fill_book(message.book, statement.book)


def _day_end(day_end: DayEnd) -> market_pb2.DayEnd:
    return market_pb2.DayEnd(
        date=date_to_proto(day_end.date),
        events_in_day=day_end.events_in_day,
        fills_in_day=day_end.fills_in_day,
    )


# payload type -> (oneof field, converter to a message copied in)
_PAYLOADS: Mapping[type, tuple[str, Callable[[Any], Message]]] = {
    RegimeState: ("regime", _regime),
    FxQuote: ("fx", fx_to_proto),
    Confirmation: ("confirmation", confirmation_to_proto),
    CorporateAction: ("corporate_action", _corporate_action),
    CashFlow: ("cash_flow", _cash_flow),
    FxDeal: ("fx_deal", _fx_deal),
    FxSettlement: ("fx_settlement", _fx_settlement),
    CustodianCashFlow: ("custodian_cash_flow", _custodian_cash_flow),
    CustodianCorrection: ("custodian_correction", _custodian_correction),
    DayEnd: ("day_end", _day_end),
}
# payload type -> (oneof field, writer into the event's field): the frequent ones, written in place
_IN_PLACE: Mapping[type, tuple[str, Callable[[Any, Any], None]]] = {
    PriceQuote: ("price", _fill_price),
    Fill: ("fill", _fill_fill),
    CustodianTrade: ("custodian_trade", _fill_custodian_trade),
    SettlementStatus: ("settlement", _fill_settlement),
    FeeAccrual: ("fee_accrual", _fill_fee_accrual),
    CustodianStatement: ("custodian_statement", _fill_statement),
}


def event_to_proto(event: SimEvent, traceparent: str = "") -> market_pb2.MarketEvent:
    """The wire form of one event; envelope.traceparent is the server's to give (runtime telemetry,
    not simulation content: empty by default). The envelope
    and the frequent payloads are written in place (see above), the day's few times and dates
    copied from a cache."""
    payload = event.payload
    message = market_pb2.MarketEvent()
    in_place = _IN_PLACE.get(type(payload))
    if in_place is not None:
        field, write = in_place
        target = getattr(message, field)
        target.SetInParent()  # the payload is set even if every field it has is a default
        write(target, payload)
    else:
        try:
            field, convert = _PAYLOADS[type(payload)]
        except KeyError:
            raise TypeError(f"event {event.event_id}: no wire form for {type(payload).__name__}") from None
        getattr(message, field).CopyFrom(convert(payload))
    envelope = message.envelope
    envelope.seq = event.seq
    envelope.event_id = event.event_id
    envelope.sim_time.CopyFrom(_timestamp(event.sim_time))
    envelope.source = SOURCE
    envelope.kind = event.kind
    if traceparent:
        envelope.traceparent = traceparent
    if event.caused_by:
        envelope.caused_by.extend(event.caused_by)
    envelope.mandate_id = event.mandate_id
    return message


# A day's events share a handful of times and dates: their messages are made once, and copied in.
@functools.lru_cache(maxsize=256)
def _timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    return timestamp_to_proto(value)


@functools.lru_cache(maxsize=256)
def _date(value: dt.date) -> common_pb2.Date:
    return date_to_proto(value)


def _decimal_text(value: Decimal) -> str:
    """decimal_to_proto(value).value without the message: plain notation, never a signed zero."""
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite decimal: {value}")
    if not value and value.is_signed():
        value = -value
    return format(value, "f")


def event_to_json(message: market_pb2.MarketEvent) -> str:
    """One line of JSON, keys sorted, proto field names (snake_case); stable for a given message."""
    body = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- reference data and state


def instrument_to_proto(instrument: Instrument) -> market_pb2.Instrument:
    message = market_pb2.Instrument(
        instrument_id=instrument.instrument_id,
        symbol=instrument.symbol,
        name=instrument.name,
        asset_class=enum_to_proto(common_pb2.AssetClass, "ASSET_CLASS_", instrument.asset_class),
        currency=instrument.currency,
        sector=instrument.sector,
        market=instrument.market,
        tick_size=decimal_to_proto(instrument.tick_size),
        settlement_days=instrument.settlement_days,
        coupons_per_year=instrument.coupons_per_year,
        issuer=instrument.issuer,
        spread_bp=instrument.spread_bp,
        day_count=instrument.day_count,
        isin=instrument.isin,
        cusip=instrument.cusip,
    )
    if instrument.coupon_rate_pct is not None:
        message.coupon_rate_pct.CopyFrom(decimal_to_proto(instrument.coupon_rate_pct))
    if instrument.maturity is not None:
        message.maturity_date.CopyFrom(date_to_proto(instrument.maturity))
    return message


def _asset_class(asset_class: AssetClass | None) -> common_pb2.AssetClass.ValueType:
    """None (a cash segment of a benchmark) is UNSPECIFIED on the wire."""
    if asset_class is None:
        return common_pb2.ASSET_CLASS_UNSPECIFIED
    return enum_to_proto(common_pb2.AssetClass, "ASSET_CLASS_", asset_class)


def _benchmark_segment(segment: BenchmarkSegment) -> market_pb2.BenchmarkSegment:
    return market_pb2.BenchmarkSegment(
        name=segment.name,
        weight=segment.weight,
        asset_class=_asset_class(segment.asset_class),
        currency=segment.currency,
        constituents=[
            market_pb2.BenchmarkConstituent(instrument_id=c.instrument_id, units=decimal_to_proto(c.units))
            for c in segment.constituents
        ],
    )


def mandate_to_proto(mandate: Mandate) -> market_pb2.Mandate:
    return market_pb2.Mandate(
        mandate_id=mandate.mandate_id,
        name=mandate.name,
        base_currency=mandate.base_currency,
        benchmark=mandate.benchmark,
        benchmark_weights=dict(mandate.benchmark_weights),
        sector_targets=[
            market_pb2.SectorTarget(
                sector=t.sector,
                target_weight=t.target_weight,
                min_weight=t.min_weight,
                max_weight=t.max_weight,
                currency=t.currency,
            )
            for t in mandate.sector_targets
        ],
        max_single_name_weight=mandate.max_single_name_weight,
        min_cash_weight=mandate.min_cash_weight,
        max_cash_weight=mandate.max_cash_weight,
        initial_capital=money_to_proto(mandate.initial_capital, mandate.base_currency),
        lot_method=mandate.lot_method,
        allowed_asset_classes=[a.value for a in mandate.allowed_asset_classes],
        benchmark_segments=[_benchmark_segment(s) for s in mandate.benchmark_segments],
        benchmark_roll_off_years=mandate.benchmark_roll_off_years,
        management_fee_rate=decimal_to_proto(mandate.management_fee_rate),
        currencies=list(mandate.currencies),
    )


def fault_to_proto(fault: InjectedFault) -> market_pb2.InjectedFault:
    message = market_pb2.InjectedFault(
        fault_id=fault.fault_id,
        kind=enum_to_proto(market_pb2.FaultKind, "FAULT_KIND_", fault.kind),
        status=enum_to_proto(market_pb2.FaultStatus, "FAULT_STATUS_", fault.status),
        on_demand=fault.on_demand,
        mandate_id=fault.mandate_id,
        instrument_id=fault.instrument_id,
        fill_id=fault.fill_id,
        currency_pair=fault.currency_pair,
        event_ids=list(fault.event_ids),
        description=fault.description,
    )
    if fault.applied_date is not None:
        message.applied_date.CopyFrom(date_to_proto(fault.applied_date))
    if fault.corrected_date is not None:
        message.corrected_date.CopyFrom(date_to_proto(fault.corrected_date))
    message.correction_event_ids.extend(fault.correction_event_ids)
    return message


def fault_request_from_proto(request: market_pb2.InjectFaultRequest) -> FaultRequest:
    """RequestError (INVALID_ARGUMENT) for an unspecified or unknown kind; targets are checked by the simulation."""
    return FaultRequest(
        kind=enum_from_proto(market_pb2.FaultKind, "FAULT_KIND_", FaultKind, request.kind, "kind"),
        mandate_id=request.mandate_id.strip(),
        instrument_id=request.instrument_id.strip(),
        currency_pair=request.currency_pair.strip().upper(),
    )


def snapshot_to_proto(snapshot: BookSnapshot, *, mandate_id: str = "") -> market_pb2.Snapshot:
    """Prices and FX always; books of every mandate, or of mandate_id only when given."""

    def wanted(book: Book) -> bool:
        return not mandate_id or book.mandate_id == mandate_id

    return market_pb2.Snapshot(
        as_of_seq=snapshot.as_of_seq,
        as_of_date=date_to_proto(snapshot.as_of_date),
        prices=[price_to_proto(q) for q in snapshot.prices],
        fx_rates=[fx_to_proto(q) for q in snapshot.fx_rates],
        internal_books=[book_to_proto(b) for b in snapshot.internal_books if wanted(b)],
        custodian_books=[book_to_proto(b) for b in snapshot.custodian_books if wanted(b)],
    )
