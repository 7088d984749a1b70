"""documents following market: the fills it matches confirmations against, and market's own
confirmations, which it reads and matches as it would an upload.

Each batch is committed with its cursor (store.commit_batch): the fills, the confirmations'
extractions and what they owe (event-log records, breaks for recon). A confirmation whose text no
template or the generic reader can read as a trade is stored as an UNMATCHED extraction with its
warnings (market's layouts are all templated, so this does not happen with the shipped templates).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence

from opsuite.market.v1 import market_pb2
from services.common.market_events import Confirmation, Fill, MarketEvent
from services.common.market_events.decode import decode
from services.documents.codec import response_to_proto
from services.documents.domain.extract import extract_text_document
from services.documents.domain.matching import BookFill
from services.documents.domain.templates import Template
from services.documents.pipeline import Concluder, content_sha256, owed
from services.documents.store import DocumentsStore, KeptConfirmation

log = logging.getLogger(__name__)
# clock.day_end too: nothing to apply, but it moves the simulated date GetStatus reports.
KINDS = ("trade.fill", "trade.confirmation", "clock.day_end")
MARKET_SOURCE = "market"


def book_fill(fill: Fill) -> BookFill:
    return BookFill(
        fill_id=fill.fill_id,
        mandate_id=fill.mandate_id,
        instrument_id=fill.instrument_id,
        side=fill.side.value,
        quantity=fill.quantity,
        price=fill.price,
        trade_date=fill.trade_date,
        settle_date=fill.settle_date,
        currency=fill.currency,
    )


class DocumentsConsumer:
    def __init__(
        self,
        store: DocumentsStore,
        concluder: Concluder,
        templates: Sequence[Template],
        on_commit: Callable[[], None],
        raise_breaks: bool = False,
    ) -> None:
        self.store = store
        self.concluder = concluder
        self.templates = tuple(templates)
        self.on_commit = on_commit
        self.raise_breaks = raise_breaks
        self.confirmations_read = 0
        self.mismatches_found = 0
        self._fills: dict[str, tuple[BookFill, str]] = {}
        self._confirmations: list[KeptConfirmation] = []
        self._extractions: list[tuple[str, str, str, object, bytes]] = []
        self._records: list[object] = []
        self._breaks: list[tuple[str, bytes]] = []
        self.cursor = 0

    def load(self) -> int:
        self.cursor = self.store.cursor()
        return self.cursor

    async def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        await asyncio.to_thread(self._apply, [decode(e) for e in events])

    def _apply(self, events: Sequence[MarketEvent]) -> None:
        for event in events:
            payload = event.payload
            if isinstance(payload, Fill):
                self._fills[payload.fill_id] = (book_fill(payload), event.event_id)
            elif isinstance(payload, Confirmation):
                self._read(event, payload)

    def _read(self, event: MarketEvent, confirmation: Confirmation) -> None:
        self._confirmations.append(
            KeptConfirmation(confirmation.confirmation_id, confirmation.fill_id, event.event_id)
        )
        # Market says which fill a confirmation confirms; the document prints the confirmation's id
        # as its reference, which names that fill (an earlier batch's fill comes from the store).
        pending = dict(self._fills)
        known = pending.get(confirmation.fill_id)
        if known is None:
            stored = self.store.fill(confirmation.fill_id)
            if stored is not None:
                known = (stored, self.store.fill_event_id(stored.fill_id))
        if known is not None:
            pending[confirmation.fill_id] = (
                dataclasses.replace(known[0], confirmation_id=confirmation.confirmation_id),
                known[1],
            )
        text = confirmation.text
        extraction = extract_text_document([text], is_pdf=False, templates=self.templates)
        sha = content_sha256(text.encode())
        outcome = self.concluder.conclude(
            extraction,
            sha,
            sim_time=event.sim_time,
            trace_id=event.trace_id,
            carried_by=event.event_id,
            pending=pending,
            broker=confirmation.broker,
            raise_break=self.raise_breaks,
        )
        response = response_to_proto(outcome)
        records, breaks = owed(outcome)
        self._extractions.append(
            (outcome.extraction_id, sha, MARKET_SOURCE, event.sim_time, response.SerializeToString())
        )
        self._records.extend(records)
        self._breaks.extend(breaks)
        self.confirmations_read += 1
        self.mismatches_found += len(breaks)

    async def save(self, seq: int) -> None:
        fills = list(self._fills.values())
        confirmations, extractions = self._confirmations, self._extractions
        records, breaks = self._records, self._breaks
        await asyncio.to_thread(
            self.store.commit_batch,
            seq,
            fills,
            confirmations,
            extractions,  # type: ignore[arg-type]
            records,  # type: ignore[arg-type]
            breaks,
        )
        self.cursor = seq
        self._fills, self._confirmations, self._extractions, self._records, self._breaks = {}, [], [], [], []
        if records or breaks:
            self.on_commit()
