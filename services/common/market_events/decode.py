"""market's wire events (opsuite.market.v1.MarketEvent) back into the stream's records.

The inverse of services/market/codec.py's event_to_proto, field for field: what market
encoded, a follower decodes to the same record (tests/common/test_market_events.py checks
every event of a simulated year). Unset optional fields come back as None.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2
from services.common import telemetry
from services.common.market_events import (
    AssetClass,
    BenchmarkConstituent,
    BenchmarkSegment,
    Book,
    CashFlow,
    CashFlowKind,
    Confirmation,
    CorporateAction,
    CorporateActionKind,
    CorrectionKind,
    CustodianCashFlow,
    CustodianCorrection,
    CustodianStatement,
    CustodianTrade,
    DayEnd,
    FeeAccrual,
    Fill,
    FxDeal,
    FxQuote,
    FxSettlement,
    Instrument,
    Mandate,
    MarketEvent,
    Payload,
    PriceQuote,
    RegimeState,
    SectorTarget,
    SettlementState,
    SettlementStatus,
    Side,
    SyntheticOrigin,
)

# Events of one batch share a traceparent: parse each once.
_trace_id = functools.lru_cache(maxsize=256)(telemetry.trace_id_of)


def _decimal(message: common_pb2.Decimal) -> Decimal:
    return Decimal(message.value)


def _amount(message: common_pb2.Money) -> Decimal:
    return Decimal(message.amount.value)


def _date(message: common_pb2.Date) -> dt.date:
    return dt.date(message.year, message.month, message.day)


def _optional_date(message: Any, field: str) -> dt.date | None:
    return _date(getattr(message, field)) if message.HasField(field) else None


def _name(wrapper: Any, prefix: str, value: int) -> str:
    return str(wrapper.Name(value)).removeprefix(prefix)


def _regime(m: market_pb2.RegimeState) -> RegimeState:
    return RegimeState(
        date=_date(m.date),
        regime=m.regime,
        fed_funds_pct=m.fed_funds_pct,
        curve_slope_pct=m.curve_slope_pct,
        breakeven_inflation_pct=m.breakeven_inflation_pct,
        unemployment_pct=m.unemployment_pct,
        equity_drift_annual=m.equity_drift_annual,
        equity_vol_annual=m.equity_vol_annual,
        curve_pct=dict(m.curve_pct),
        origin=decode_synthetic_origin(m, "synthetic"),
    )


def decode_synthetic_origin(message: Any, field: str) -> SyntheticOrigin | None:
    """The SyntheticOrigin in `field` of a message (RegimeState, Clock); None when unset (a real day)."""
    if not message.HasField(field):
        return None
    origin = getattr(message, field)
    return SyntheticOrigin(
        replayed=_date(origin.replayed),
        block_first=_date(origin.block_first),
        block_last=_date(origin.block_last),
    )


def decode_price(m: market_pb2.Price) -> PriceQuote:
    bond = m.HasField("accrued_interest")
    return PriceQuote(
        instrument_id=m.instrument_id,
        price=_decimal(m.price),
        currency=m.currency,
        vendor=m.vendor,
        price_date=_date(m.price_date),
        accrued_interest=_decimal(m.accrued_interest) if bond else None,
        yield_pct=m.yield_pct if m.HasField("yield_pct") else None,
    )


def decode_fx(m: market_pb2.FxRate) -> FxQuote:
    return FxQuote(
        base_currency=m.base_currency,
        quote_currency=m.quote_currency,
        rate=_decimal(m.rate),
        vendor=m.vendor,
        rate_date=_date(m.rate_date),
    )


def _fill(m: market_pb2.Fill) -> Fill:
    return Fill(
        fill_id=m.fill_id,
        order_id=m.order_id,
        mandate_id=m.mandate_id,
        instrument_id=m.instrument_id,
        side=Side(_name(market_pb2.Side, "SIDE_", m.side)),
        quantity=_decimal(m.quantity),
        price=_decimal(m.price),
        currency=m.gross_amount.currency,
        gross_amount=_amount(m.gross_amount),
        accrued_interest=_amount(m.accrued_interest),
        commission=_amount(m.commission),
        fees=_amount(m.fees),
        net_amount=_amount(m.net_amount),
        trade_date=_date(m.trade_date),
        settle_date=_date(m.settle_date),
        broker=m.broker,
    )


def _confirmation(m: market_pb2.Confirmation) -> Confirmation:
    return Confirmation(
        confirmation_id=m.confirmation_id,
        fill_id=m.fill_id,
        mandate_id=m.mandate_id,
        broker=m.broker,
        layout=m.layout,
        text=m.text,
        replaces_confirmation_id=m.replaces_confirmation_id,
    )


def _custodian_trade(m: market_pb2.CustodianTrade) -> CustodianTrade:
    return CustodianTrade(
        custodian_ref=m.custodian_ref,
        fill_id=m.fill_id,
        mandate_id=m.mandate_id,
        instrument_id=m.instrument_id,
        side=Side(_name(market_pb2.Side, "SIDE_", m.side)),
        quantity=_decimal(m.quantity),
        price=_decimal(m.price),
        currency=m.net_amount.currency,
        net_amount=_amount(m.net_amount),
        trade_date=_date(m.trade_date),
        settle_date=_date(m.settle_date),
        replaces_ref=m.replaces_ref,
    )


def _settlement(m: market_pb2.SettlementStatus) -> SettlementStatus:
    return SettlementStatus(
        fill_id=m.fill_id,
        custodian_ref=m.custodian_ref,
        mandate_id=m.mandate_id,
        instrument_id=m.instrument_id,
        state=SettlementState(_name(market_pb2.SettlementState, "SETTLEMENT_STATE_", m.state)),
        settle_date=_date(m.settle_date),
        quantity=_decimal(m.quantity),
        cash_amount=_amount(m.cash_amount),
        currency=m.cash_amount.currency,
        reason=m.reason,
    )


def _corporate_action(m: market_pb2.CorporateAction) -> CorporateAction:
    return CorporateAction(
        action_id=m.action_id,
        instrument_id=m.instrument_id,
        kind=CorporateActionKind(_name(market_pb2.CorporateActionKind, "CORPORATE_ACTION_KIND_", m.kind)),
        ex_date=_date(m.ex_date),
        record_date=_date(m.record_date),
        pay_date=_date(m.pay_date),
        amount_per_unit=_amount(m.amount_per_unit),
        currency=m.amount_per_unit.currency,
    )


def _cash_flow(m: market_pb2.CashFlow) -> CashFlow:
    return CashFlow(
        cash_flow_id=m.cash_flow_id,
        mandate_id=m.mandate_id,
        kind=CashFlowKind(_name(market_pb2.CashFlowKind, "CASH_FLOW_KIND_", m.kind)),
        amount=_amount(m.amount),
        currency=m.amount.currency,
        instrument_id=m.instrument_id,
        action_id=m.action_id,
        quantity=_decimal(m.quantity) if m.HasField("quantity") else None,
        ex_date=_optional_date(m, "ex_date"),
        pay_date=_optional_date(m, "pay_date"),
    )


def _fee_accrual(m: market_pb2.FeeAccrual) -> FeeAccrual:
    return FeeAccrual(
        mandate_id=m.mandate_id,
        amount=_amount(m.amount),
        currency=m.amount.currency,
        accrual_date=_date(m.accrual_date),
        nav_basis=_amount(m.nav_basis),
        annual_rate=_decimal(m.annual_rate),
        days=m.days,
    )


def _fx_deal(m: market_pb2.FxDeal) -> FxDeal:
    return FxDeal(
        deal_id=m.deal_id,
        mandate_id=m.mandate_id,
        bought_currency=m.bought.currency,
        bought_amount=_amount(m.bought),
        sold_currency=m.sold.currency,
        sold_amount=_amount(m.sold),
        rate=_decimal(m.rate),
        trade_date=_date(m.trade_date),
        settle_date=_date(m.settle_date),
    )


def _fx_settlement(m: market_pb2.FxSettlement) -> FxSettlement:
    return FxSettlement(
        custodian_ref=m.custodian_ref,
        deal_id=m.deal_id,
        mandate_id=m.mandate_id,
        state=SettlementState(_name(market_pb2.SettlementState, "SETTLEMENT_STATE_", m.state)),
        settle_date=_date(m.settle_date),
        bought_currency=m.bought.currency,
        bought_amount=_amount(m.bought),
        sold_currency=m.sold.currency,
        sold_amount=_amount(m.sold),
    )


def _custodian_cash_flow(m: market_pb2.CustodianCashFlow) -> CustodianCashFlow:
    return CustodianCashFlow(
        custodian_ref=m.custodian_ref,
        cash_flow_id=m.cash_flow_id,
        mandate_id=m.mandate_id,
        kind=CashFlowKind(_name(market_pb2.CashFlowKind, "CASH_FLOW_KIND_", m.kind)),
        amount=_amount(m.amount),
        currency=m.amount.currency,
        instrument_id=m.instrument_id,
        value_date=_date(m.value_date),
    )


def _custodian_correction(m: market_pb2.CustodianCorrection) -> CustodianCorrection:
    return CustodianCorrection(
        correction_ref=m.correction_ref,
        kind=CorrectionKind(_name(market_pb2.CorrectionKind, "CORRECTION_KIND_", m.kind)),
        custodian_ref=m.custodian_ref,
        mandate_id=m.mandate_id,
        currency=m.cash_amount.currency,
        correction_date=_date(m.correction_date),
        fill_id=m.fill_id,
        cash_flow_id=m.cash_flow_id,
        instrument_id=m.instrument_id,
        rebooked_ref=m.rebooked_ref,
        quantity=_decimal(m.quantity),
        cash_amount=_amount(m.cash_amount),
        value_date=_optional_date(m, "value_date"),
        reason=m.reason,
    )


def decode_book(m: market_pb2.MandateBook) -> Book:
    return Book(
        mandate_id=m.mandate_id,
        positions={p.instrument_id: _decimal(p.quantity) for p in m.positions},
        cash={c.currency: _amount(c) for c in m.cash},
    )


def _statement(m: market_pb2.CustodianStatement) -> CustodianStatement:
    return CustodianStatement(statement_date=_date(m.statement_date), book=decode_book(m.book))


def _day_end(m: market_pb2.DayEnd) -> DayEnd:
    return DayEnd(date=_date(m.date), events_in_day=m.events_in_day, fills_in_day=m.fills_in_day)


# oneof field -> decoder of its payload
_PAYLOADS: Mapping[str, Callable[[Any], Payload]] = {
    "regime": _regime,
    "price": decode_price,
    "fx": decode_fx,
    "fill": _fill,
    "confirmation": _confirmation,
    "custodian_trade": _custodian_trade,
    "settlement": _settlement,
    "corporate_action": _corporate_action,
    "cash_flow": _cash_flow,
    "fee_accrual": _fee_accrual,
    "fx_deal": _fx_deal,
    "fx_settlement": _fx_settlement,
    "custodian_cash_flow": _custodian_cash_flow,
    "custodian_correction": _custodian_correction,
    "custodian_statement": _statement,
    "day_end": _day_end,
}


def decode(message: market_pb2.MarketEvent) -> MarketEvent:
    """The record of one wire event; ValueError for an event without a payload."""
    which = message.WhichOneof("payload")
    if which is None:
        raise ValueError(f"event {message.envelope.event_id or message.envelope.seq} has no payload")
    envelope = message.envelope
    return MarketEvent(
        seq=envelope.seq,
        event_id=envelope.event_id,
        sim_time=envelope.sim_time.ToDatetime(tzinfo=dt.UTC),
        kind=envelope.kind,
        payload=_PAYLOADS[which](getattr(message, which)),
        mandate_id=envelope.mandate_id,
        caused_by=tuple(envelope.caused_by),
        traceparent=envelope.traceparent,
        trace_id=_trace_id(envelope.traceparent),
    )


# ---------------------------------------------------------------- reference data


def decode_instrument(m: market_pb2.Instrument) -> Instrument:
    return Instrument(
        instrument_id=m.instrument_id,
        symbol=m.symbol,
        name=m.name,
        asset_class=AssetClass(_name(common_pb2.AssetClass, "ASSET_CLASS_", m.asset_class)),
        currency=m.currency,
        sector=m.sector,
        market=m.market,
        tick_size=_decimal(m.tick_size),
        settlement_days=m.settlement_days,
        coupon_rate_pct=_decimal(m.coupon_rate_pct) if m.HasField("coupon_rate_pct") else None,
        maturity=_optional_date(m, "maturity_date"),
        coupons_per_year=m.coupons_per_year,
        issuer=m.issuer,
        spread_bp=m.spread_bp,
        day_count=m.day_count,
        isin=m.isin,
        cusip=m.cusip,
    )


def _segment_asset_class(value: int) -> AssetClass | None:
    """A cash segment has no asset class: UNSPECIFIED on the wire, None in the record."""
    if value == common_pb2.ASSET_CLASS_UNSPECIFIED:
        return None
    return AssetClass(_name(common_pb2.AssetClass, "ASSET_CLASS_", value))


def _benchmark_segment(m: market_pb2.BenchmarkSegment) -> BenchmarkSegment:
    return BenchmarkSegment(
        name=m.name,
        weight=m.weight,
        asset_class=_segment_asset_class(m.asset_class),
        currency=m.currency,
        constituents=tuple(BenchmarkConstituent(c.instrument_id, _decimal(c.units)) for c in m.constituents),
    )


def decode_mandate(m: market_pb2.Mandate) -> Mandate:
    return Mandate(
        mandate_id=m.mandate_id,
        name=m.name,
        base_currency=m.base_currency,
        benchmark=m.benchmark,
        benchmark_weights=dict(m.benchmark_weights),
        sector_targets=tuple(
            SectorTarget(t.sector, t.target_weight, t.min_weight, t.max_weight, t.currency)
            for t in m.sector_targets
        ),
        max_single_name_weight=m.max_single_name_weight,
        min_cash_weight=m.min_cash_weight,
        max_cash_weight=m.max_cash_weight,
        initial_capital=_amount(m.initial_capital),
        lot_method=m.lot_method,
        allowed_asset_classes=tuple(AssetClass(a) for a in m.allowed_asset_classes),
        benchmark_segments=tuple(_benchmark_segment(s) for s in m.benchmark_segments),
        benchmark_roll_off_years=m.benchmark_roll_off_years,
        # Unset (a market that charges no fee) decodes as zero.
        management_fee_rate=_decimal(m.management_fee_rate)
        if m.HasField("management_fee_rate")
        else Decimal(0),
        currencies=tuple(m.currencies),
    )
