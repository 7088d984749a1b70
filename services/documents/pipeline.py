"""What happens to a confirmation once its text is read, for an upload and for one of market's alike:
the rules of its own figures, the fill it confirms, and what a disagreement owes.

A document that disagrees with the fill it is matched to (MISMATCHED) owes recon a break
(CONFIRMATION_MISMATCH, raised by RaiseBreak with the document's SHA-256 as the idempotency key),
and every extraction owes the combined event log a record of what was read and matched, caused by
the fill (and, for market's own confirmations, the event that carried the document), so
`opsuite trace` walks from the fill to the document and on to the break.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from opsuite.common.v1 import common_pb2
from opsuite.recon.v1 import recon_pb2
from services.common.convert import date_to_proto, timestamp_to_proto
from services.common.eventlog import NewRecord
from services.common.market_events import Instrument
from services.documents.domain.fields import Extraction
from services.documents.domain.matching import BookFill, Match, MatchStatus, match
from services.documents.domain.validation import RuleFailure, validate
from services.documents.store import DocumentsStore

SOURCE = "documents"
# A document without at least this many of these fields is not a trade confirmation.
CORE_FIELDS = ("trade_date", "side", "quantity", "price", "net_amount", "gross_amount")
MIN_CORE_FIELDS = 3


class NotAConfirmation(ValueError):
    """The document was read, but it does not state a trade."""


def content_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def extraction_id_of(sha256: str) -> str:
    return f"doc-{sha256[:24]}"


def require_confirmation(extraction: Extraction) -> None:
    found = [name for name in CORE_FIELDS if extraction.value(name) is not None]
    if len(found) < MIN_CORE_FIELDS:
        raise NotAConfirmation(
            "this does not read as a trade confirmation: it states "
            + (", ".join(found) if found else "none")
            + f" of {', '.join(CORE_FIELDS)} (at least {MIN_CORE_FIELDS} are needed)"
        )


@dataclass(frozen=True)
class Outcome:
    """A confirmation concluded: read, checked, matched, and what it owes."""

    extraction_id: str
    sha256: str
    extraction: Extraction
    failures: tuple[RuleFailure, ...]
    match: Match
    record: NewRecord
    break_request: recon_pb2.RaiseBreakRequest | None
    broker: str = ""


def _with_identifiers(fill: BookFill, instruments: Mapping[str, Instrument]) -> BookFill:
    instrument = instruments.get(fill.instrument_id)
    if instrument is None:
        return fill
    return dataclasses.replace(
        fill, isin=instrument.isin, cusip=instrument.cusip, symbol=instrument.symbol, name=instrument.name
    )


class Concluder:
    """Matches documents against the fills in the store (and, while a batch of market's events is
    applied, the batch's own fills not yet committed)."""

    def __init__(
        self, store: DocumentsStore, instruments: Mapping[str, Instrument], raise_breaks: bool
    ) -> None:
        self.store = store
        self.instruments = instruments
        self.raise_breaks = raise_breaks

    def _named(self, extraction: Extraction, pending: Mapping[str, tuple[BookFill, str]]) -> BookFill | None:
        reference = extraction.value("trade_reference")
        if reference is None:
            return None
        for fill, _ in pending.values():
            if reference in (fill.confirmation_id, fill.fill_id):
                return fill
        return self.store.fill_by_confirmation(reference) or self.store.fill(reference)

    def _candidates(
        self, extraction: Extraction, pending: Mapping[str, tuple[BookFill, str]], mandate_hint: str
    ) -> list[BookFill]:
        trade_date = extraction.value("trade_date")
        if trade_date is None:
            return []
        day = dt.date.fromisoformat(trade_date)
        fills = {f.fill_id: f for f in self.store.fills_on([day])}
        fills.update({f.fill_id: f for f, _ in pending.values() if f.trade_date == day})
        chosen = [f for f in fills.values() if not mandate_hint or f.mandate_id == mandate_hint]
        return sorted(chosen, key=lambda f: f.fill_id)

    def conclude(
        self,
        extraction: Extraction,
        sha256: str,
        *,
        sim_time: dt.datetime,
        trace_id: str = "",
        carried_by: str = "",
        mandate_hint: str = "",
        pending: Mapping[str, tuple[BookFill, str]] | None = None,
        broker: str = "",
        raise_break: bool | None = None,
    ) -> Outcome:
        """raise_break: whether a mismatch owes recon a break (None: the concluder's setting)."""
        pending = pending or {}
        named = self._named(extraction, pending)
        candidates = [] if named is not None else self._candidates(extraction, pending, mandate_hint)
        found = match(
            extraction,
            [_with_identifiers(f, self.instruments) for f in candidates],
            named=_with_identifiers(named, self.instruments) if named is not None else None,
        )
        fill = found.fill
        instrument = self.instruments.get(fill.instrument_id) if fill is not None else None
        failures = validate(
            extraction,
            known_settlement_days=instrument.settlement_days if instrument is not None else None,
            book_settle_date=fill.settle_date if fill is not None else None,
        )
        extraction_id = extraction_id_of(sha256)
        fill_event = ""
        if fill is not None:
            fill_event = (
                pending[fill.fill_id][1]
                if fill.fill_id in pending
                else self.store.fill_event_id(fill.fill_id)
            )
        caused_by = tuple(e for e in (fill_event, carried_by) if e)
        reference = extraction.value("trade_reference") or "without a reference"
        summary = f"confirmation {reference} ({extraction.layout}): {found.status.value.lower()}"
        if fill is not None:
            summary += f" fill {fill.fill_id}"
        if found.differences:
            summary += ": " + "; ".join(
                f"{d.field} {d.document_value} vs book {d.book_value}" for d in found.differences
            )
        record = NewRecord(
            event_id=extraction_id,
            kind=f"document.{found.status.value.lower()}",
            sim_time=sim_time,
            trace_id=trace_id,
            caused_by=caused_by,
            mandate_id=fill.mandate_id if fill is not None else "",
            summary=summary,
        )
        request = None
        raising = self.raise_breaks if raise_break is None else raise_break
        if raising and found.status is MatchStatus.MISMATCHED and fill is not None:
            request = _break_request(
                extraction, found, fill, sha256, (extraction_id, carried_by), broker, sim_time
            )
        return Outcome(extraction_id, sha256, extraction, failures, found, record, request, broker)


def _break_request(
    extraction: Extraction,
    found: Match,
    fill: BookFill,
    sha256: str,
    causes: tuple[str, str],
    broker: str,
    found_at: dt.datetime,
) -> recon_pb2.RaiseBreakRequest:
    """The break a mismatch owes recon, dated by when the document arrived in the simulation (a
    market confirmation's event time), so recon ages it the same however late it is delivered.
    causes: the extraction's record and the event that carried the document (market's
    trade.confirmation; "" for an upload): recon resolves the break when the broker replaces that
    confirmation."""
    extraction_id, carried_by = causes
    differences = [
        recon_pb2.RaisedDifference(field=d.field, other_value=d.document_value, book_value=d.book_value)
        for d in found.differences
    ]
    who = broker or extraction.value("counterparty") or "the broker"
    description = (
        f"{who}'s confirmation {extraction.value('trade_reference') or ''} of fill {fill.fill_id} disagrees: "
        + "; ".join(
            f"{d.field} {d.document_value} on the document, {d.book_value} in the book"
            for d in found.differences
        )
    )
    request = recon_pb2.RaiseBreakRequest(
        kind=recon_pb2.BREAK_KIND_CONFIRMATION_MISMATCH,
        source=SOURCE,
        idempotency_key=sha256,
        mandate_id=fill.mandate_id,
        fill_id=fill.fill_id,
        instrument_id=fill.instrument_id,
        description=description.replace("  ", " "),
        differences=differences,
        caused_by=[c for c in (extraction_id, carried_by) if c],
        as_of_date=date_to_proto(found_at.date()),
        found_at=timestamp_to_proto(found_at),
    )
    quantity = extraction.value("quantity")
    if quantity is not None and any(d.field == "quantity" for d in found.differences):
        request.book_quantity.CopyFrom(common_pb2.Decimal(value=str(fill.quantity)))
        request.other_quantity.CopyFrom(common_pb2.Decimal(value=quantity))
    return request


def owed(outcome: Outcome) -> tuple[list[NewRecord], list[tuple[str, bytes]]]:
    """(event-log records, breaks to raise as (extraction id, serialized request)) of an outcome."""
    breaks = (
        [(outcome.extraction_id, outcome.break_request.SerializeToString())]
        if outcome.break_request is not None
        else []
    )
    return [outcome.record], breaks
