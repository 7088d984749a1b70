"""Follows market's stream and books it: the posting rules in memory, one transaction per batch.

The stream client calls `apply` for each group of events sharing a trace
context (inside a span that is the child of the events' span) and then
`save(last_seq)` once per batch. `apply` turns events into journal drafts
with the pure posting rules (LedgerBook); `save` writes the batch's journals,
the cursor and the rules' state in ONE database transaction, so a crash at
any moment neither loses nor doubles a journal: after a restart the book is
rebuilt from the stored state and the stream resumes after the stored cursor.

With an outbox relay (the service always has one), the batch's trade, settlement and cash-flow
journals are announced in the same transaction (outbox.stream_kind) and the relay hands them to the
combined event log right after the commit: a crash between the two loses nothing (the relay delivers
what is owed at startup), and a replayed batch announces nothing again.

After a committed batch, when market's date has moved far enough, `save` closes the period before
the retention horizon (domain/retention.py), in transactions of its own: a crash between the batch
and the close leaves a close that is simply due again at the next batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from opsuite.market.v1 import market_pb2
from services.common import telemetry
from services.common.market_events.decode import decode
from services.ledger.domain.records import JournalDraft
from services.ledger.domain.retention import Retention
from services.ledger.domain.rules import LedgerBook
from services.ledger.outbox import OutboxRelay, stream_kind
from services.ledger.store import LedgerStore

log = logging.getLogger(__name__)

# What the ledger subscribes to: not the custodian's own view, the second vendor or documents.
BOOKED_KINDS = (
    "market.regime",
    "fee.accrued",
    "price.tick",
    "fx.rate",
    "trade.fill",
    "trade.fx",
    "custodian.settlement",
    "custodian.fx_settlement",
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
        readers_date: Callable[[], Awaitable[dt.date | None]] | None = None,
        outbox: OutboxRelay | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox  # None: nothing announced (no event log)
        self._book_factory = book_factory
        self.retention = retention
        # How far the services that read the ledger have got (common.follower.followers_date): a
        # close never passes keep_days before it, so recon, checking days behind the ledger at full
        # speed, is never refused a balance as of a day it still has to check.
        self._readers_date = readers_date
        self._closing = asyncio.Lock()
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
                await asyncio.to_thread(
                    self.store.post,
                    drafts,
                    open_missing=True,
                    cursor=seq,
                    state=state,
                    announce=stream_kind if self.outbox is not None else None,
                )
        except Exception:
            # The rules ran ahead of the database: forget them and start again from what was stored.
            log.exception("could not commit a batch; rebuilding the book from the stored state")
            self.book = self._restore()
            raise
        self.journals_posted += len(drafts)
        if self.outbox is not None:
            await self.outbox.deliver_now()  # before a close, which waits for undelivered records
        await self.close_when_due()

    async def close_when_due(self) -> None:
        """Close what the retention allows now: after each committed batch, and from the app every
        few seconds, since a close held for a reader behind the ledger becomes due when that reader
        moves on, whether or not another batch comes (a finished run sends none)."""
        latest = self.book.current_date
        if self.retention is None or not self.retention.keep_days or latest is None:
            return
        async with self._closing:  # the batch's close and the app's may be due at once
            latest = await self._held_latest(latest)
            await asyncio.to_thread(self.close_due, latest)

    async def _held_latest(self, latest: dt.date) -> dt.date:
        """The latest date a close may count from: the ledger's own, or where its readers stand if
        they are behind. Asked only when a close would be due, so not at every batch."""
        if self._readers_date is None or not await asyncio.to_thread(self._close_would_run, latest):
            return latest
        readers = await self._readers_date()
        return latest if readers is None else min(latest, readers)

    def _close_would_run(self, latest: dt.date) -> bool:
        return self._next_horizon(latest) is not None

    def _next_horizon(self, latest: dt.date) -> dt.date | None:
        """The horizon the next close would close before, from the store's recorded one; None: none due."""
        assert self.retention is not None
        period = self.store.closed_period()
        first = self.store.first_date() if period.closed_before is None else None
        return self.retention.next_close(latest, period.closed_before, first)

    def close_due(self, latest: dt.date) -> int:
        """Close the period as far as the retention allows for market's date `latest`, one bounded
        close after another; returns how many closes ran."""
        assert self.retention is not None
        closes = 0
        while True:
            horizon = self._next_horizon(latest)
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
