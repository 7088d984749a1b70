"""Cash flows matched one by one: each of the book's dividends, coupons, subscriptions, redemptions
and fees against the custodian's, by reference (cash_flow_id), amount and value date.

Per cash flow dated today or earlier (its book date, else the custodian's value date):
- the book has it and the custodian has booked nothing: MISSING_AT_CUSTODIAN;
- the custodian booked it (or adjusted it away from zero) and the book has none: MISSING_INTERNALLY;
- the amounts differ beyond the CASH_FLOW tolerance of its currency (exact by default):
  CASH_MISMATCH (the custodian paid on a holding of its own);
- the amounts agree and the value dates differ: SETTLEMENT_DATE_MISMATCH (book_date the book's
  date, other_date the custodian's value date), the day it happens, late or back-valued alike;
- otherwise MATCHED, as a closing record carrying both dates (a break it closes keeps them).
One cash flow is one item, whatever is wrong with it: its break keeps its id while the kind moves
on (missing, then booked at another date, then corrected).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from services.recon.domain.config import ReconConfig
from services.recon.domain.reconcile import value_of
from services.recon.domain.records import (
    BreakKind,
    CashFlowRecord,
    Comparison,
    Difference,
    Outcome,
    Scope,
    Valuation,
)
from services.recon.domain.tolerances import within

COMPARISON = Comparison.BOOK_VS_CUSTODIAN
ZERO = Decimal(0)


def cash_flow_item_key(mandate_id: str, cash_flow_id: str) -> str:
    return "|".join((COMPARISON.value, Scope.CASH_FLOW.value, mandate_id, cash_flow_id))


def _subject(flow: CashFlowRecord) -> str:
    what = " ".join(part for part in (flow.kind.lower(), flow.instrument_id) if part)
    return f"cash flow {flow.cash_flow_id}" + (f" ({what})" if what else "")


def _finding(flow: CashFlowRecord, config: ReconConfig) -> tuple[BreakKind, Outcome, str] | None:
    """(kind, outcome, description) of what is wrong with a cash flow; None when it matches."""
    book = flow.book_amount if flow.book_amount is not None else ZERO
    other = flow.custodian_amount if flow.custodian_amount is not None else ZERO
    currency = flow.currency
    if flow.book_amount is not None and flow.custodian_amount is None and book:
        return (
            BreakKind.MISSING_AT_CUSTODIAN,
            Outcome.BREAK,
            f"{book:,} {currency} on {flow.book_date} in the book, not booked by the custodian",
        )
    if flow.book_amount is None and other:
        return (
            BreakKind.MISSING_INTERNALLY,
            Outcome.BREAK,
            f"{other:,} {currency} booked by the custodian with value date {flow.custodian_date},"
            " unknown to the book",
        )
    dates = ""
    if book and flow.book_date != flow.custodian_date:
        dates = f"; value date {flow.custodian_date} at the custodian, {flow.book_date} in the book"
    tolerance = config.tolerances.lookup(COMPARISON, Scope.CASH_FLOW, "CASH", currency)
    if not within(book, other, tolerance):
        return (
            BreakKind.CASH_MISMATCH,
            Outcome.BREAK,
            f"book {book:,} vs custodian {other:,} {currency}{dates}",
        )
    if dates:
        return BreakKind.SETTLEMENT_DATE_MISMATCH, Outcome.BREAK, f"{book:,} {currency}{dates}"
    if book != other:
        return (
            BreakKind.CASH_MISMATCH,
            Outcome.WITHIN_TOLERANCE,
            f"book {book:,} vs custodian {other:,} {currency}, within tolerance",
        )
    return None


def match_cash_flows(
    flows: Sequence[CashFlowRecord],
    *,
    today: dt.date,
    config: ReconConfig,
    valuation: Valuation | None = None,
) -> tuple[Difference, ...]:
    """Every cash-flow finding (breaks, within tolerance, closing records), sorted by item key."""
    out: list[Difference] = []
    for flow in flows:
        dated = flow.book_date or flow.custodian_date
        if dated is None or dated > today:
            continue
        if flow.book_amount is None and flow.custodian_amount is None:
            continue
        finding = _finding(flow, config)
        book = flow.book_amount if flow.book_amount is not None else ZERO
        other = flow.custodian_amount if flow.custodian_amount is not None else ZERO
        if finding is None:
            kind, outcome = BreakKind.UNSPECIFIED, Outcome.MATCHED
            description = f"{book:,} {flow.currency} on {flow.custodian_date}: matched"
        else:
            kind, outcome, description = finding
        amount, base, base_amount = value_of(
            flow.mandate_id, flow.instrument_id, flow.currency, other - book, False, valuation
        )
        out.append(
            Difference(
                item_key=cash_flow_item_key(flow.mandate_id, flow.cash_flow_id),
                comparison=COMPARISON,
                scope=Scope.CASH_FLOW,
                kind=kind,
                outcome=outcome,
                mandate_id=flow.mandate_id,
                instrument_id=flow.instrument_id,
                currency=flow.currency,
                cash_flow_id=flow.cash_flow_id,
                book_amount=book,
                other_amount=other,
                amount_difference=amount,
                base_currency=base,
                base_amount_difference=base_amount,
                book_date=flow.book_date,
                other_date=flow.custodian_date,
                caused_by=flow.event_ids,
                description=f"{_subject(flow)}: {description}",
            )
        )
    return tuple(sorted(out, key=lambda d: d.item_key))
