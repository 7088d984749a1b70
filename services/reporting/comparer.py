"""Every valued day end beside the ledger's equity at market, in market's order, behind the follower.

The follower values day ends as fast as market streams them; this loop trails it, asking the ledger
for each day end once the ledger has booked it (GetBalances with min_market_seq), and stores the
comparison with the day end, so a report shows it without asking again. When the two differ, the
ledger's journals that did not come from market's stream (a write-off, a manual correction) are
the causes (domain/comparison.py explains); each change of the difference is written to the combined
event log as reporting.nav_difference (back to equal: reporting.nav_agrees), caused by those
journals' records, so `opsuite trace` walks from it to the journals and the breaks behind them.
A ledger that is behind or down is waited for: nothing is stored until it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from decimal import Decimal

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from services.common import telemetry
from services.common.convert import date_from_proto, date_to_proto, decimal_from_proto
from services.common.eventlog import DuplicateEvent, EventLog, NewRecord
from services.reporting.domain.comparison import (
    AGREES,
    DIFFERS,
    Comparison,
    JournalEffect,
    equity_effect,
    explain,
)
from services.reporting.ledger_view import LedgerView
from services.reporting.store import NavDay, ReportingStore

log = logging.getLogger(__name__)

SOURCE = "reporting"
DIFFERENCE = "reporting.nav_difference"
AGREES_AGAIN = "reporting.nav_agrees"
BATCH = 200
IDLE_S = 1.0
PAGE = 1000


class NavComparer:
    def __init__(
        self,
        store: ReportingStore,
        ledger: ledger_pb2_grpc.LedgerServiceStub,
        event_log: EventLog | None,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.view = LedgerView(ledger)
        self.event_log = event_log
        self._tracer = telemetry.tracer("opsuite.reporting")

    async def run(self, stopping: asyncio.Event, mandate_ids: Sequence[str]) -> None:
        while not stopping.is_set():
            try:
                progressed = await self.compare_pending()
                if not progressed:
                    await self.recheck_latest(mandate_ids)
            except Exception:
                log.warning("comparing with the ledger failed; tried again shortly", exc_info=True)
                progressed = False
            if not progressed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=IDLE_S)

    async def compare_pending(self) -> bool:
        """Compare the day ends waiting, in order, until one the ledger cannot answer yet; whether any was."""
        compared = False
        for day in await asyncio.to_thread(self.store.uncompared, BATCH):
            if not await self._compare(day, None):
                return compared  # behind or down: the same day end is asked again next round
            compared = True
        return compared

    async def recheck_latest(self, mandate_ids: Sequence[str]) -> None:
        """Ask again about each mandate's latest compared day end: a journal posted since (a write-off
        recon decided, a person's correction dated that day) changes it after it was compared."""
        for mandate_id in mandate_ids:
            day = await asyncio.to_thread(self.store.latest, mandate_id)
            if day is None:
                continue
            existing = await asyncio.to_thread(self.store.comparison, mandate_id, day.valuation.date)
            if existing is not None:
                await self._compare(day, existing)

    async def _compare(self, day: NavDay, existing: Comparison | None) -> bool:
        """Compare one day end and store the result when it is new or changed; False when the ledger
        cannot answer for it yet."""
        result = await self.view(day.valuation)
        if result.status not in (AGREES, DIFFERS):
            return False
        if existing is not None and (existing.status, existing.difference) == (
            result.status,
            result.difference,
        ):
            return True
        result = await self._explained(day, result, existing)
        v = day.valuation
        await asyncio.to_thread(self.store.record_comparison, v.mandate_id, v.date, v.seq, result)
        return True

    async def _explained(self, day: NavDay, result: Comparison, existing: Comparison | None) -> Comparison:
        """A difference with its causes, and a record in the event log when it is not the day before's
        (nor this day end's as compared before)."""
        v = day.valuation
        before = await asyncio.to_thread(self.store.last_comparison, v.mandate_id, v.date)
        previous = before[1] if before is not None else None
        last_said = existing or previous
        if result.status == AGREES:
            if last_said is not None and last_said.status == DIFFERS:
                return await self._record(
                    day, result, AGREES_AGAIN, f"{v.mandate_id} NAV equal to the ledger's again"
                )
            return result
        if (
            previous is not None
            and existing is None
            and not day.quarantined
            and not previous.quarantined
            and (previous.status, previous.difference)
            == (
                result.status,
                result.difference,
            )
        ):
            # The same difference as the day before: the same causes, already in the event log.
            return dataclasses.replace(
                result,
                detail=previous.detail,
                causes=previous.causes,
                unexplained=previous.unexplained,
                event_id=previous.event_id,
            )
        # Journals since the last day end that agreed (from the start when none did), with what the
        # day before already knew.
        since = (
            before[0] if before is not None and previous is not None and previous.status == AGREES else None
        )
        known = {j.journal_id: j for j in previous.causes} if previous is not None and since is None else {}
        for journal in await self._journals(v.mandate_id, v.base_currency, since, v.date):
            known.setdefault(journal.journal_id, journal)
        explained = explain(result, known.values(), day.quarantined)
        if explained.unexplained and since is not None:
            # A journal dated before the window (posted after its day end was compared) may be the
            # cause: look at every journal of the mandate before calling anything unexplained.
            everything = await self._journals(v.mandate_id, v.base_currency, None, v.date)
            explained = explain(result, everything, day.quarantined)
        summary = f"{v.mandate_id} NAV {explained.difference:+,} {v.base_currency} from the ledger's: {explained.detail}"
        return await self._record(day, explained, DIFFERENCE, summary)

    async def _journals(
        self, mandate_id: str, base_currency: str, after: dt.date | None, through: dt.date
    ) -> list[JournalEffect]:
        """The ledger's journals of the mandate effective after `after` (from the start when None)
        through `through` that did not come from market's stream."""
        # Without the stream's journals: a mandate that differs from the ledger for weeks would
        # otherwise read every trade's journal again at each day end (and keep the ledger busy).
        request = ledger_pb2.GetLedgerRequest(
            mandate_id=mandate_id, page_size=PAGE, exclude_market_journals=True
        )
        request.dates.end.CopyFrom(date_to_proto(through))
        if after is not None:
            request.dates.start.CopyFrom(date_to_proto(after + dt.timedelta(days=1)))
        found: list[JournalEffect] = []
        while True:
            page = await self.ledger.GetLedger(request, timeout=30)
            for journal in page.journals:
                effect = equity_effect(
                    (p.account, decimal_from_proto(p.base_amount.amount, "base_amount"))
                    for p in journal.postings
                )
                found.append(
                    JournalEffect(
                        journal.journal_id,
                        ledger_pb2.JournalKind.Name(journal.kind).removeprefix("JOURNAL_KIND_"),
                        date_from_proto(journal.effective_date, "effective_date"),
                        journal.memo,
                        journal.posted_by,
                        journal.source_event_id,
                        tuple(journal.caused_by),
                        effect,
                    )
                )
            if not page.next_page_token:
                return found
            request.page_token = page.next_page_token

    async def _record(self, day: NavDay, result: Comparison, kind: str, summary: str) -> Comparison:
        v = day.valuation
        # One record per change: the same day end may differ, agree, or differ by another amount.
        outcome = "agrees" if result.difference == 0 or result.difference is None else f"{result.difference}"
        event_id = f"rpt-{v.mandate_id}-{v.date.isoformat()}-{outcome}"
        with self._tracer.start_as_current_span(kind) as span:
            span.set_attribute("opsuite.mandate_id", v.mandate_id)
            trace_id = format(span.get_span_context().trace_id, "032x")
        record = NewRecord(
            event_id=event_id,
            kind=kind,
            sim_time=dt.datetime.combine(v.date, dt.time(23, 59, 59, 999999), tzinfo=dt.UTC),
            trace_id=trace_id if int(trace_id, 16) else "",
            caused_by=tuple(f"ldg-{j.journal_id}" for j in result.causes),
            mandate_id=v.mandate_id,
            summary=summary,
        )
        if self.event_log is not None:
            event_log = self.event_log

            def append() -> None:
                with contextlib.suppress(DuplicateEvent):  # appended before a crash: once is enough
                    event_log.append(SOURCE, [record])

            await asyncio.to_thread(append)
        return dataclasses.replace(result, event_id=event_id)


def _base_amount(posting: ledger_pb2.Posting, base_currency: str) -> Decimal:
    """A leg's amount in the base currency: the ledger sends it for legs in another currency; a leg in
    the base currency is its own base amount."""
    if posting.HasField("base_amount"):
        return decimal_from_proto(posting.base_amount.amount, "base_amount")
    if posting.amount.currency == base_currency:
        return decimal_from_proto(posting.amount.amount, "amount")
    raise ValueError(
        f"the ledger sent a {posting.amount.currency} leg of {posting.account} without its base amount"
    )
