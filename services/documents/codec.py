"""documents' records to and from the contract (protos/opsuite/documents/v1/documents.proto)."""

from __future__ import annotations

import datetime as dt

from opsuite.documents.v1 import documents_pb2
from services.common.convert import date_to_proto, decimal_to_proto, money_to_proto
from services.documents.domain.fields import Extraction
from services.documents.domain.matching import Match, MatchStatus
from services.documents.pipeline import Outcome

_STATUS = {
    MatchStatus.MATCHED: documents_pb2.MATCH_STATUS_MATCHED,
    MatchStatus.MISMATCHED: documents_pb2.MATCH_STATUS_MISMATCHED,
    MatchStatus.UNMATCHED: documents_pb2.MATCH_STATUS_UNMATCHED,
    MatchStatus.AMBIGUOUS: documents_pb2.MATCH_STATUS_AMBIGUOUS,
}
_MONEY_FIELDS = {
    "gross_amount": "gross_amount",
    "accrued_interest": "accrued_interest",
    "commission": "commission",
    "fees": "fees",
    "net_amount": "net_amount",
}


def trade_to_proto(extraction: Extraction, match: Match, broker: str) -> documents_pb2.ExtractedTrade:
    value = extraction.value
    currency = value("currency") or ""
    trade = documents_pb2.ExtractedTrade(
        broker=broker or value("counterparty") or "",
        layout=extraction.layout,
        confirmation_ref=value("trade_reference") or "",
        account=value("account") or "",
        security=value("security_name") or value("isin") or value("cusip") or extraction.instrument_ref or "",
        side=value("side") or "",
        isin=value("isin") or "",
        cusip=value("cusip") or "",
        currency=currency,
        counterparty=value("counterparty") or "",
        format=extraction.format,
        bond=extraction.bond,
    )
    if match.fill is not None:
        trade.mandate_id = match.fill.mandate_id
        trade.instrument_id = match.fill.instrument_id
        if match.reason.startswith("the document's reference"):
            trade.fill_id = match.fill.fill_id
    for name, target in (("quantity", trade.quantity), ("price", trade.price)):
        number = extraction.decimal(name)
        if number is not None:
            target.CopyFrom(decimal_to_proto(number))
    for name, attribute in _MONEY_FIELDS.items():
        amount = extraction.decimal(name)
        if amount is not None and currency:
            getattr(trade, attribute).CopyFrom(money_to_proto(amount, currency))
    for name, date_field in (("trade_date", trade.trade_date), ("settlement_date", trade.settle_date)):
        text = value(name)
        if text is not None:
            date_field.CopyFrom(date_to_proto(dt.date.fromisoformat(text)))
    return trade


def match_to_proto(match: Match) -> documents_pb2.MatchResult:
    result = documents_pb2.MatchResult(
        status=_STATUS[match.status],
        score=match.score,
        candidate_fill_ids=list(match.candidates),
        reason=match.reason,
    )
    if match.fill is not None:
        result.fill_id = match.fill.fill_id
        result.mandate_id = match.fill.mandate_id
    for difference in match.differences:
        mismatch = result.mismatches.add(
            field=difference.field, document_value=difference.document_value, book_value=difference.book_value
        )
        if difference.difference is not None:
            mismatch.difference.CopyFrom(decimal_to_proto(difference.difference))
    return result


def response_to_proto(
    outcome: Outcome, *, trace_id: str = "", break_id: str = ""
) -> documents_pb2.ExtractConfirmationResponse:
    extraction = outcome.extraction
    response = documents_pb2.ExtractConfirmationResponse(
        extraction_id=outcome.extraction_id,
        content_sha256=outcome.sha256,
        trade=trade_to_proto(extraction, outcome.match, outcome.broker),
        fields=[
            documents_pb2.ExtractedField(
                name=f.name, value=f.value, confidence=f.confidence, page=f.page, snippet=f.snippet[:500]
            )
            for f in extraction.fields
        ],
        match=match_to_proto(outcome.match),
        event_id=outcome.record.event_id,
        trace_id=trace_id or outcome.record.trace_id,
        warnings=list(extraction.warnings),
        rule_failures=[
            documents_pb2.RuleFailure(rule=f.rule, message=f.message, values=dict(f.values))
            for f in outcome.failures
        ],
        break_id=break_id,
    )
    return response
