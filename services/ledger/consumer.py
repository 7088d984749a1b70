"""Follows market's stream and books it: the posting rules in memory, one transaction per batch.

The stream client calls `apply` for each group of events sharing a trace
context (inside a span that is the child of the events' span) and then
`save(last_seq)` once per batch. `apply` turns events into journal drafts
with the pure posting rules (LedgerBook); `save` writes the batch's journals,
the cursor and the rules' state in ONE database transaction, so a crash at
any moment neither loses nor doubles a journal: after a restart the book is
rebuilt from the stored state and the stream resumes after the stored cursor.

After a committed batch, when market's date has moved far enough, `save` closes the period before
the retention horizon (domain/retention.py), in transactions of its own: a crash between the batch
and the close leaves a close that is simply due again at the next batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from opsuite.market.v1 import market_pb2
from services.common import telemetry
from services.common.market_events.decode import decode
from services.ledger.domain.records import JournalDraft
from services.ledger.domain.retention import Retention
from services.ledger.domain.rules import LedgerBook
from services.ledger.store import LedgerStore

log = logging.getLogger(__name__)

# What the ledger subscribes to: not the custodian's own view, the second vendor or documents.
BOOKED_KINDS = (
    "market.regime",
    "price.tick",
    "fx.rate",
    "trade.fill",
    "custodian.settlement",
    "corporate_action.announced",
    "cashflow.",
    "clock.day_end",
)


class LedgerConsumer:
    """The apply/save pair the stream client drives; also the CursorStore it reads."""

    def __init__(
        self,
        store: LedgerStore,
        book_factory: Callable[[], LedgerBook],
        retention: Retention | None = None,
    ) -> None:
        self.store = store
        self._book_factory = book_factory
        self.retention = retention
        self._pending: list[JournalDraft] = []
        self._tracer = telemetry.tracer("opsuite.ledger")
        self.journals_posted = 0
        self.book = self._restore()

    def _restore(self) -> LedgerBook:
        _, state = self.store.load_cursor()
        return LedgerBook.from_json(state) if state else self._book_factory()

    # CursorStore ----------------------------------------------------------

    def load(self) -> int:
        return self.store.load_cursor()[0]

    async def save(self, seq: int) -> None:
        drafts, self._pending = self._pending, []
        state = self.book.to_json()
        try:
            with self._tracer.start_as_current_span(
                "ledger.commit", attributes={"journals": len(drafts), "seq": seq}
            ):
                await asyncio.to_thread(self.store.post, drafts, open_missing=True, cursor=seq, state=state)
        except Exception:
            # The rules ran ahead of the database: forget them and start again from what was stored.
            log.exception("could not commit a batch; rebuilding the book from the stored state")
            self.book = self._restore()
            raise
        self.journals_posted += len(drafts)
        latest = self.book.current_date
        if self.retention is not None and self.retention.keep_days and latest is not None:
            await asyncio.to_thread(self.close_due, latest)

    def close_due(self, latest: dt.date) -> int:
        """Close the period as far as the retention allows for market's date `latest`, one bounded
        close after another; returns how many closes ran."""
        assert self.retention is not None
        closes = 0
        while True:
            period = self.store.closed_period()
            first = self.store.first_date() if period.closed_before is None else None
            horizon = self.retention.next_close(latest, period.closed_before, first)
            if horizon is None:
                return closes
            with self._tracer.start_as_current_span(
                "ledger.close_period", attributes={"closed_before": horizon.isoformat()}
            ):
                result = self.store.close_period(horizon, keep_days=self.retention.keep_days)
            if result is None:
                return closes  # held back by an undelivered outbox record: due again later
            closes += 1
            log.info(
                "closed the ledger's period",
                extra={
                    "closed_before": result.closed_before.isoformat(),
                    "previously_closed_before": result.previous.isoformat() if result.previous else "",
                    "journals_deleted": result.journals,
                    "postings_deleted": result.postings,
                    "cumulative_rows_deleted": result.balance_rows,
                    "keep_days": self.retention.keep_days,
                    "latest_date": latest.isoformat(),
                },
            )
            if result.closed_before < horizon:
                return closes  # stopped short at an undelivered record: the rest waits for it

    # apply ------------------------------------------------------------------

    def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        for event in events:
            for draft in self.book.apply(decode(event)):
                # The journal's span: a child of the apply span, itself the child of the event's span.
                with self._tracer.start_as_current_span(
                    "ledger.journal",
                    attributes={
                        "journal.key": draft.idempotency_key,
                        "journal.kind": str(draft.kind),
                        "mandate.id": draft.mandate_id,
                        "event.id": draft.source_event_id,
                    },
                ):
                    self._pending.append(draft)
