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

Several stream batches per transaction (`batches_per_commit`, OPSUITE_LEDGER_BATCHES_PER_COMMIT):
while market's head is ahead of the batch just applied (catching up), `save` holds the batch and
commits it with the next ones, up to batches_per_commit of them in one transaction; a batch at the
head commits at once, with whatever is held. The cursor still commits with exactly the journals and
state of the events up to it, so a crash loses only batches never committed, which the stream sends
again from the stored cursor; only the lag of a commit grows while catching up. `cursor` is the seq
committed (what the follower acknowledges to market), and `wait_for_cursor` what a read waits on.

After a committed batch, when market's date has moved far enough, `save` closes the period before
the retention horizon (domain/retention.py), in transactions of its own: a crash between the batch
and the close leaves a close that is simply due again at the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
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
        *,
        batches_per_commit: int = 1,
        market_head: Callable[[], int] | None = None,
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
        if batches_per_commit < 1:
            raise ValueError(f"batches_per_commit must be 1 or more, not {batches_per_commit}")
        self.batches_per_commit = batches_per_commit
        # Market's head as the stream last reported it; None: unknown, so every batch commits at once.
        self._market_head = market_head
        self._held = 0  # stream batches applied and saved, not committed yet
        self._held_seq = 0
        self._unsaved = False  # events applied since the last save (their batch is not complete)
        self._committing = asyncio.Lock()  # a flush at shutdown and the stream's own commit
        self._cursor_moved = asyncio.Condition()
        self.book = self._restore()

    def _restore(self) -> LedgerBook:
        cursor, state = self.store.load_cursor()
        self.cursor = cursor  # the market seq committed with its journals and state
        book = LedgerBook.from_json(state) if state else self._book_factory()
        self.committed_date = book.current_date  # market's date as of the cursor
        return book

    # CursorStore ----------------------------------------------------------

    def load(self) -> int:
        return self.store.books_position().market_seq

    async def save(self, seq: int) -> None:
        """The stream batch applied up to seq is complete: commit it, now or with the next batches."""
        self._unsaved = False
        self._held += 1
        self._held_seq = seq
        if self._held < self.batches_per_commit and not self._at_head(seq):
            return  # catching up: more batches are on their way, and commit with this one
        await self._commit()

    async def flush(self) -> None:
        """Commit the batches held (at shutdown: the cursor reaches what was applied). A batch half
        applied is left: its events come again from the stored cursor."""
        if self._held and not self._unsaved:
            await self._commit()

    def _at_head(self, seq: int) -> bool:
        return self._market_head is None or seq >= self._market_head()

    async def _commit(self) -> None:
        async with self._committing:
            if not self._held:
                return
            seq, batches = self._held_seq, self._held
            drafts, self._pending, self._held = self._pending, [], 0
            state = self.book.to_json()
            try:
                with self._tracer.start_as_current_span(
                    "ledger.commit", attributes={"journals": len(drafts), "seq": seq, "batches": batches}
                ):
                    results = await asyncio.to_thread(
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
            self.committed_date = self.book.current_date
            async with self._cursor_moved:
                self.cursor = seq
                self._cursor_moved.notify_all()
        if self.outbox is not None:
            # Before a close, which waits for undelivered records; the journals just posted are not read back.
            await self.outbox.deliver_now(
                {r.journal.ledger_seq: r.journal for r in results if not r.replayed}
            )
        await self.close_when_due()

    async def wait_for_cursor(self, seq: int, timeout: float) -> int:
        """Return once the events up to seq are committed, or after timeout seconds; the cursor."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, timeout)), self._cursor_moved:
                await self._cursor_moved.wait_for(lambda: self.cursor >= seq)
        return self.cursor

    async def close_when_due(self) -> None:
        """Close what the retention allows now: after each committed batch, and from the app every
        few seconds, since a close held for a reader behind the ledger becomes due when that reader
        moves on, whether or not another batch comes (a finished run sends none)."""
        # Market's date as committed: journals held for the next commit must not be closed out.
        latest = self.committed_date
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
        self._unsaved = True
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
