"""Which fill of the book a confirmation confirms, and where the two disagree.

A confirmation is matched in two steps:
1. Candidates. A reference the book knows (market's confirmation id, or the fill id itself) names
   the fill outright. Otherwise the candidates are the fills of the same instrument (by ISIN,
   CUSIP, the id printed as the instrument reference, or the security name) traded on the
   document's trade date, in the document's account when it gives one; with no instrument
   identified, the fills of that trade date whose quantity and price both agree.
2. Comparison. Each candidate is compared on the fields a person checks on a confirmation: side,
   quantity, price, trade date, settlement date and account. Agreement is exact (decimals compare
   by value: 171.10 equals 171.1). The score is the share of compared fields that agree, weighted
   (quantity and price count double: they move money).

Outcome: MATCHED when the best candidate agrees on every compared field; MISMATCHED when a fill is
identified (by reference, or as the only candidate, or clearly the best) but some fields differ;
AMBIGUOUS when two candidates score the same and neither is named; UNMATCHED when no fill is a
candidate. A field the document does not give is not compared (and not a mismatch).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from services.documents.domain.fields import Extraction

# Compared fields and their weights in the score.
WEIGHTS: Mapping[str, int] = {
    "side": 1,
    "quantity": 2,
    "price": 2,
    "trade_date": 1,
    "settlement_date": 1,
    "account": 1,
}


class MatchStatus(enum.StrEnum):
    MATCHED = "MATCHED"
    MISMATCHED = "MISMATCHED"
    UNMATCHED = "UNMATCHED"
    AMBIGUOUS = "AMBIGUOUS"


@dataclass(frozen=True)
class BookFill:
    """A fill as the book holds it, with the instrument's identifiers a document may print."""

    fill_id: str
    mandate_id: str
    instrument_id: str
    side: str  # BUY or SELL
    quantity: Decimal
    price: Decimal
    trade_date: dt.date
    settle_date: dt.date
    currency: str
    isin: str = ""
    cusip: str = ""
    symbol: str = ""
    name: str = ""
    confirmation_id: str = ""


@dataclass(frozen=True)
class FieldDifference:
    field: str
    document_value: str
    book_value: str
    difference: Decimal | None = None  # numeric fields: document minus book


@dataclass(frozen=True)
class Match:
    status: MatchStatus
    fill: BookFill | None = None
    differences: tuple[FieldDifference, ...] = ()
    score: float = 0.0
    candidates: tuple[str, ...] = ()  # other fills considered, best first
    reason: str = ""


def _book_values(fill: BookFill) -> dict[str, str]:
    return {
        "side": fill.side,
        "quantity": str(fill.quantity),
        "price": str(fill.price),
        "trade_date": fill.trade_date.isoformat(),
        "settlement_date": fill.settle_date.isoformat(),
        "account": fill.mandate_id,
    }


def _same(field: str, document: str, book: str) -> bool:
    if field in ("quantity", "price"):
        try:
            return Decimal(document) == Decimal(book)
        except InvalidOperation:
            return False
    if field == "account":
        return _squash(document) == _squash(book)
    return document == book


def _difference(field: str, document: str, book: str) -> Decimal | None:
    if field not in ("quantity", "price"):
        return None
    try:
        return Decimal(document) - Decimal(book)
    except InvalidOperation:
        return None


def compare(extraction: Extraction, fill: BookFill) -> tuple[float, tuple[FieldDifference, ...]]:
    """(score in [0, 1], the fields that differ) of a document against one fill."""
    book = _book_values(fill)
    total = agreed = 0
    differences: list[FieldDifference] = []
    for field, weight in WEIGHTS.items():
        document = extraction.value(field)
        if document is None:
            continue
        total += weight
        if _same(field, document, book[field]):
            agreed += weight
        else:
            differences.append(
                FieldDifference(field, document, book[field], _difference(field, document, book[field]))
            )
    return (agreed / total if total else 0.0), tuple(differences)


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _names_instrument(extraction: Extraction, fill: BookFill) -> bool:
    isin, cusip = extraction.value("isin"), extraction.value("cusip")
    if isin is not None and fill.isin:
        return isin == fill.isin
    if cusip is not None and fill.cusip:
        return cusip == fill.cusip
    if extraction.instrument_ref:
        return _squash(extraction.instrument_ref) == _squash(fill.instrument_id)
    name = extraction.value("security_name")
    if name is not None:
        squashed = _squash(name)
        return bool(squashed) and (
            squashed == _squash(fill.name)
            or squashed == _squash(fill.symbol)
            or _squash(fill.name) in squashed
        )
    return False


def _identifies_instrument(extraction: Extraction) -> bool:
    return any(extraction.value(name) for name in ("isin", "cusip", "security_name")) or bool(
        extraction.instrument_ref
    )


def _candidates(extraction: Extraction, fills: Iterable[BookFill]) -> list[BookFill]:
    trade_date = extraction.value("trade_date")
    account = extraction.value("account")
    pool = [fill for fill in fills if trade_date is None or fill.trade_date.isoformat() == trade_date]
    if account is not None:
        in_account = [fill for fill in pool if _squash(fill.mandate_id) == _squash(account)]
        pool = in_account or pool  # a wrong account is a difference, not a reason to find nothing
    if _identifies_instrument(extraction):
        return [fill for fill in pool if _names_instrument(extraction, fill)]
    quantity, price = extraction.value("quantity"), extraction.value("price")
    if quantity is None or price is None:
        return []
    return [
        fill
        for fill in pool
        if _same("quantity", quantity, str(fill.quantity)) and _same("price", price, str(fill.price))
    ]


def match(extraction: Extraction, fills: Iterable[BookFill], *, named: BookFill | None = None) -> Match:
    """The match of a document among `fills`; `named` is the fill a reference on the document
    names (the caller looks the reference up), which is then the only candidate."""
    if named is not None:
        score, differences = compare(extraction, named)
        status = MatchStatus.MATCHED if not differences else MatchStatus.MISMATCHED
        reason = f"the document's reference names fill {named.fill_id}"
        return Match(status, named, differences, score, (), reason)
    candidates = _candidates(extraction, fills)
    if not candidates:
        return Match(
            MatchStatus.UNMATCHED, reason="no fill of the book has this instrument on this trade date"
        )
    scored = sorted(
        ((compare(extraction, fill), fill) for fill in candidates),
        key=lambda item: (-item[0][0], item[1].fill_id),
    )
    (best_score, best_differences), best = scored[0]
    others = tuple(fill.fill_id for _, fill in scored[1:])
    if len(scored) > 1 and scored[1][0][0] == best_score:
        tied = [fill.fill_id for (score, _), fill in scored if score == best_score]
        return Match(
            MatchStatus.AMBIGUOUS,
            score=best_score,
            candidates=tuple(fill.fill_id for _, fill in scored),
            reason=f"{len(tied)} fills agree equally well: {', '.join(tied)}",
        )
    status = MatchStatus.MATCHED if not best_differences else MatchStatus.MISMATCHED
    return Match(status, best, best_differences, best_score, others, f"best of {len(scored)} candidate fills")
