"""One line a person reads for each market event in the combined event log (what `opsuite trace` and
recon's GetChain show in a chain).

Market's records carry no summary: the event itself (a serialized MarketEvent) is the payload,
so the line is read from it, with the ids a person can trace next (fill, custodian reference,
confirmation, cash flow) spelled out and figures grouped by thousands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsuite.market.v1 import market_pb2
from services.common.eventlog import LogRecord
from services.common.text import grouped

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper


def _enum(wrapper: _EnumTypeWrapper[Any], value: int, prefix: str) -> str:
    return wrapper.Name(value).removeprefix(prefix).lower()


def _money(amount: str, currency: str) -> str:
    return f"{grouped(amount)} {currency}"


def describe(record: LogRecord) -> str:
    """The record's own summary, or a line read from a market event's payload."""
    if record.summary or record.source != "market" or not record.payload:
        return record.summary
    event = market_pb2.MarketEvent.FromString(record.payload)
    which = event.WhichOneof("payload")
    if which == "fill":
        f = event.fill
        side = _enum(market_pb2.Side, f.side, "SIDE_").upper()
        mandate = f" for {f.mandate_id}" if f.mandate_id else ""
        return (
            f"{f.fill_id}: {side} {grouped(f.quantity.value)} {f.instrument_id} @ {f.price.value} "
            f"(net {_money(f.net_amount.amount.value, f.net_amount.currency)}){mandate}"
        )
    if which == "custodian_trade":
        t = event.custodian_trade
        again = f", replacing {t.replaces_ref}" if t.replaces_ref else ""
        return (
            f"custodian booked {t.custodian_ref} for {t.fill_id}: {grouped(t.quantity.value)} "
            f"{t.instrument_id} @ {t.price.value}{again}"
        )
    if which == "settlement":
        s = event.settlement
        state = _enum(market_pb2.SettlementState, s.state, "SETTLEMENT_STATE_")
        reason = f": {s.reason}" if s.reason else ""
        return f"{s.fill_id} ({s.custodian_ref}) {state} at the custodian{reason}"
    if which == "fx_deal":
        deal = event.fx_deal
        return (
            f"{deal.deal_id}: buy {_money(deal.bought.amount.value, deal.bought.currency)}, sell "
            f"{_money(deal.sold.amount.value, deal.sold.currency)} at {deal.rate.value} for {deal.mandate_id}"
        )
    if which == "fx_settlement":
        r = event.fx_settlement
        state = _enum(market_pb2.SettlementState, r.state, "SETTLEMENT_STATE_")
        return f"{r.deal_id} ({r.custodian_ref}) {state} at the custodian"
    if which == "confirmation":
        c = event.confirmation
        return f"{c.confirmation_id} from {c.broker} for {c.fill_id}"
    if which == "custodian_correction":
        x = event.custodian_correction
        kind = _enum(market_pb2.CorrectionKind, x.kind, "CORRECTION_KIND_").replace("_", " ")
        target = x.custodian_ref or x.cash_flow_id or x.fill_id
        reason = f": {x.reason}" if x.reason else ""
        return f"custodian correction {x.correction_ref}: {kind} of {target}{reason}"
    if which == "cash_flow":
        cf = event.cash_flow
        kind = _enum(market_pb2.CashFlowKind, cf.kind, "CASH_FLOW_KIND_")
        on = f" {cf.instrument_id}" if cf.instrument_id else ""
        amount = _money(cf.amount.amount.value, cf.amount.currency)
        return f"{cf.cash_flow_id}: {kind}{on} {amount} for {cf.mandate_id}"
    if which == "custodian_cash_flow":
        cc = event.custodian_cash_flow
        kind = _enum(market_pb2.CashFlowKind, cc.kind, "CASH_FLOW_KIND_")
        return (
            f"custodian booked {cc.custodian_ref} for {cc.cash_flow_id}: {kind} "
            f"{_money(cc.amount.amount.value, cc.amount.currency)}"
        )
    if which == "corporate_action":
        a = event.corporate_action
        kind = _enum(market_pb2.CorporateActionKind, a.kind, "CORPORATE_ACTION_KIND_").replace("_", " ")
        per = a.amount_per_unit
        return f"{a.action_id}: {kind} of {a.instrument_id}, {per.amount.value} {per.currency} per unit"
    if which == "price":
        p = event.price
        return f"{p.instrument_id} {p.price.value} {p.currency} ({p.vendor})"
    return (which or record.kind).replace("_", " ")
