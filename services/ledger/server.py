"""gRPC handlers of opsuite.ledger.v1.LedgerService: validate, translate, call the store.

The rules a handler applies live in services/ledger/domain (validation,
posting rules) and services/ledger/store (idempotency, immutability,
balances); this module only maps requests and errors.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from decimal import Decimal

import grpc

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from services.common import telemetry
from services.common.convert import date_to_proto
from services.common.enums import enum_from_proto
from services.common.eventlog.batch import normalise_trace_id
from services.common.limits import MAX_NAME_CHARS, MAX_PAGE_BYTES, MAX_TEXT_CHARS, too_long
from services.common.paging import page_size, position
from services.common.status import (
    FieldViolation,
    RequestError,
    echo,
    invalid_argument,
    rpc_errors,
    unknown_id,
)
from services.common.watchers import Watchers
from services.ledger import codec
from services.ledger.domain.chart import standard_chart
from services.ledger.domain.records import AccountType, JournalDraft
from services.ledger.domain.reversal import reversal_draft
from services.ledger.domain.trial_balance import trial_balance_totals
from services.ledger.domain.validation import Problem, base_mismatches, validate_draft, with_base_amounts
from services.ledger.kept_answers import KeptAnswers
from services.ledger.outbox import POSTED, REVERSED, OutboxRelay
from services.ledger.store import (
    AlreadyReversed,
    ClosedAccount,
    IdempotencyConflict,
    LedgerFilter,
    LedgerStore,
    OutOfRange,
    PeriodClosed,
    TooPrecise,
    Unbalanced,
    UnknownAccount,
)
from services.ledger.store.batch import check_open_period
from services.ledger.watch import TRIAL_BALANCE_INTERVAL_S, WATCH_BATCH, journal_filter, watch_start

# The longest GetBalances waits for min_market_seq when the caller set no deadline.
MAX_BALANCE_WAIT_S = 30.0
# Problems that are about the ledger's state (FAILED_PRECONDITION), not the request's form.
STATE_PROBLEMS = {"UNBALANCED", "UNBALANCED_BASE", "UNKNOWN_ACCOUNT", "CLOSED_ACCOUNT", "NOT_YET_OPEN"}


@dataclasses.dataclass(frozen=True)
class LedgerContext:
    """What the handlers need besides the store: the mandates' base currencies, today's rates and date."""

    base_currencies: Mapping[str, str]
    rates: Callable[[str, str], Callable[[str], Decimal]]  # (mandate, base) -> currency -> base per unit
    today: Callable[[], dt.date | None]
    # Delivers to the combined event log: manual and cross-service journals are recorded there, so
    # `opsuite trace` can follow a break into the journal that booked it. None: no event log.
    outbox: OutboxRelay | None = None
    # Waits (at most `timeout` s) until market's events up to a seq are booked; returns the seq booked.
    wait_for_market_seq: Callable[[int, float], Awaitable[int]] | None = None


def _problems_error(problems: Sequence[Problem]) -> RequestError:
    state = [p for p in problems if p.reason in STATE_PROBLEMS]
    code = (
        grpc.StatusCode.FAILED_PRECONDITION
        if state and len(state) == len(problems)
        else grpc.StatusCode.INVALID_ARGUMENT
    )
    return RequestError(
        code,
        "; ".join(p.message for p in problems),
        violations=[FieldViolation(p.field, p.message) for p in problems],
        reason=problems[0].reason,
    )


def _period_closed(error: PeriodClosed, field: str) -> RequestError:
    """A closed period (OPSUITE_LEDGER_KEEP_DAYS), for writes and reads alike: FAILED_PRECONDITION,
    the ledger's code for a refusal about its state (as STATE_PROBLEMS), with the first date kept.
    Not OUT_OF_RANGE: here that means a figure past what the store holds, and asking again later
    never helps (the horizon only moves forward)."""
    return RequestError(
        grpc.StatusCode.FAILED_PRECONDITION,
        str(error),
        violations=[FieldViolation(field, f"before {error.closed_before.isoformat()}, the first date kept")],
        reason="PERIOD_CLOSED",
        metadata={"closed_before": error.closed_before.isoformat(), "keep_days": str(error.keep_days)},
    )


def _unrecordable(request: ledger_pb2.PostJournalRequest) -> list[FieldViolation]:
    """What the journal's event-log record cannot carry (the log's own rules), refused before the
    journal is written: the record is committed with the journal, in the outbox, and one the log
    refuses would stay there, failing every later delivery."""
    violations = []
    try:
        normalise_trace_id(request.trace_id)
    except ValueError:
        violations.append(
            FieldViolation("trace_id", "a trace id is 32 hex characters (W3C trace context), or empty")
        )
    violations += [
        FieldViolation(f"caused_by[{i}]", "an event id is required, not an empty string")
        for i, cause in enumerate(request.caused_by)
        if not cause
    ]
    return violations


class LedgerServicer(ledger_pb2_grpc.LedgerServiceServicer):
    def __init__(self, store: LedgerStore, context: LedgerContext) -> None:
        self.store = store
        self.context = context
        self.kept_answers = KeptAnswers()
        # The watches' wake-up: each post that wrote journals; closed when the ledger drains.
        self.watchers = Watchers(store, "ledger")

    def close(self) -> None:
        """Shutting down: open watches end now with UNAVAILABLE (saying where to resume)."""
        self.watchers.close()

    def _base(self, mandate_id: str, field: str = "mandate_id") -> str:
        if not mandate_id:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{field} is required",
                violations=[FieldViolation(field, "name a mandate; see MarketService/ListMandates")],
            )
        base = self.context.base_currencies.get(mandate_id)
        if base is None:
            raise unknown_id(
                field, "mandate", mandate_id, sorted(self.context.base_currencies), "ListMandates"
            )
        return base

    async def _post(self, draft: JournalDraft, base: str, kind: str) -> tuple[ledger_pb2.Journal, bool]:
        """Post one journal, announcing it in the outbox as `kind` when there is an event log."""
        # A closed period first: of everything wrong with such a journal, its date is what to fix
        # (the store refuses it again, under its write lock, should a close land in between).
        period = await asyncio.to_thread(self.store.closed_period)
        try:
            check_open_period([draft], period.closed_before, period.keep_days)
        except PeriodClosed as error:
            raise _period_closed(error, "effective_date") from error
        # The mandate's standard accounts open on first use, dated by the journal that first uses them
        # (the store moves that date back if an earlier journal uses them later); any other account
        # must exist already.
        chart = standard_chart(draft.mandate_id, base, draft.effective_date)
        standard = {a.name for a in chart}
        accounts = {a.name: a for a in chart}
        for account in await asyncio.to_thread(self.store.accounts, draft.mandate_id):
            # A standard account opened by a later journal opens earlier with this one instead.
            earliest = min(account.opened_on, draft.effective_date)
            back_dated = account.name in standard and earliest < account.opened_on
            accounts[account.name] = (
                dataclasses.replace(account, opened_on=earliest) if back_dated else account
            )
        problems = [*validate_draft(draft, accounts=accounts), *base_mismatches(draft.postings, base)]
        if problems:
            raise _problems_error(problems)
        draft = with_base_amounts(draft, base, self.context.rates(draft.mandate_id, base))
        try:
            [result] = await asyncio.to_thread(
                self.store.post,
                [draft],
                open_missing=True,  # only the standard accounts can be missing: validated above
                announce=kind if self.context.outbox is not None else None,
            )
        except IdempotencyConflict as error:
            raise RequestError(
                grpc.StatusCode.ALREADY_EXISTS,
                f"idempotency key {error.key!r} was used for journal {error.journal_id} with different content; "
                "nothing was written. Use a new key for a new journal.",
                violations=[FieldViolation("idempotency_key", "already used with different content")],
                reason="IDEMPOTENCY_CONFLICT",
                metadata={"journal_id": error.journal_id},
            ) from error
        except (UnknownAccount, ClosedAccount) as error:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION, str(error), reason=type(error).__name__
            ) from error
        except Unbalanced as error:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION, str(error), reason="UNBALANCED"
            ) from error
        except TooPrecise as error:
            raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, str(error), reason="TOO_PRECISE") from error
        except OutOfRange as error:
            # A running total (an account's balance) would pass what the ledger stores exactly.
            raise RequestError(
                grpc.StatusCode.OUT_OF_RANGE, f"{error}; nothing was written", reason="OUT_OF_RANGE"
            ) from error
        except AlreadyReversed as error:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION, str(error), reason="ALREADY_REVERSED"
            ) from error
        except PeriodClosed as error:
            raise _period_closed(error, "effective_date") from error
        return codec.journal_to_proto(result.journal, base), result.replayed

    async def _deliver(self) -> None:
        """Hand the outbox to the event log before answering: the record is there when the caller
        looks, and what an earlier call left undelivered goes too."""
        if self.context.outbox is not None:
            await self.context.outbox.deliver_now()

    # ------------------------------------------------------------ writes

    @rpc_errors
    async def PostJournal(
        self, request: ledger_pb2.PostJournalRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.PostJournalResponse:
        base = self._base(request.mandate_id)
        oversized = too_long(
            [
                ("idempotency_key", request.idempotency_key, MAX_NAME_CHARS),
                ("memo", request.memo, MAX_TEXT_CHARS),
                ("source_event_id", request.source_event_id, MAX_NAME_CHARS),
                ("trace_id", request.trace_id, MAX_NAME_CHARS),
                ("posted_by", request.posted_by, MAX_NAME_CHARS),
                *((f"caused_by[{i}]", cause, MAX_NAME_CHARS) for i, cause in enumerate(request.caused_by)),
                *(
                    (f"postings[{i}].{name}", value, limit)
                    for i, p in enumerate(request.postings)
                    for name, value, limit in (
                        ("account", p.account, MAX_NAME_CHARS),
                        ("memo", p.memo, MAX_TEXT_CHARS),
                    )
                ),
            ]
        )
        flagged = {v.field for v in oversized}
        violations = oversized + [v for v in _unrecordable(request) if v.field not in flagged]
        if violations:
            raise invalid_argument(violations)
        if not request.HasField("effective_date"):
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "effective_date is required",
                violations=[FieldViolation("effective_date", "the accounting date of the journal")],
            )
        draft = JournalDraft(
            mandate_id=request.mandate_id,
            kind=codec.kind_from_proto(request.kind, "kind"),
            effective_date=codec.optional_date(request.effective_date, "effective_date") or dt.date.min,
            sim_time=dt.datetime.now(dt.UTC),
            postings=codec.postings_from_proto(request.postings, base),
            idempotency_key=request.idempotency_key,
            memo=request.memo,
            source_event_id=request.source_event_id,
            # Lowercase, as the event log keeps it and GetLedger looks it up.
            trace_id=normalise_trace_id(request.trace_id)
            or telemetry.trace_id_of(telemetry.current_traceparent()),
            caused_by=tuple(request.caused_by),
            posted_by=request.posted_by or "api",
        )
        journal, replayed = await self._post(draft, base, POSTED)
        await self._deliver()
        return ledger_pb2.PostJournalResponse(journal=journal, replayed=replayed)

    @rpc_errors
    async def ReverseJournal(
        self, request: ledger_pb2.ReverseJournalRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.ReverseJournalResponse:
        violations = []
        if not request.journal_id:
            violations.append(FieldViolation("journal_id", "the journal to reverse"))
        if not request.reason.strip():
            violations.append(FieldViolation("reason", "say why: it is recorded on the reversal"))
        violations += too_long(
            [
                ("journal_id", request.journal_id, MAX_NAME_CHARS),
                ("reason", request.reason, MAX_TEXT_CHARS),
                ("idempotency_key", request.idempotency_key, MAX_NAME_CHARS),
                ("posted_by", request.posted_by, MAX_NAME_CHARS),
            ]
        )
        if violations:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT, "invalid ReverseJournal request", violations=violations
            )
        original = await asyncio.to_thread(self.store.get_journal, request.journal_id)
        if original is None:
            raise await self._no_journal_to_reverse(request)
        base = self._base(original.mandate_id)
        if original.reversed_by_journal_id:
            return await self._existing_reversal(original.journal_id, base)
        effective = (
            codec.optional_date(request.effective_date, "effective_date")
            or self.context.today()
            or original.draft.effective_date
        )
        draft = reversal_draft(
            original,
            effective_date=effective,
            sim_time=dt.datetime.now(dt.UTC),
            reason=request.reason,
            idempotency_key=request.idempotency_key,
            trace_id=telemetry.trace_id_of(telemetry.current_traceparent()),
            posted_by=request.posted_by or "api",
        )
        try:
            posted, replayed = await self._post(draft, base, REVERSED)
        except RequestError as error:
            # Another call reversed it between our read and our write (with another reason, so its
            # journal differs from ours): the contract answers with that reversal, not a conflict.
            if error.reason not in ("ALREADY_REVERSED", "IDEMPOTENCY_CONFLICT"):
                raise
            again = await asyncio.to_thread(self.store.get_journal, original.journal_id)
            if again is None or not again.reversed_by_journal_id:
                raise
            return await self._existing_reversal(original.journal_id, base)
        await self._deliver()
        original_now = await asyncio.to_thread(self.store.get_journal, original.journal_id)
        assert original_now is not None
        return ledger_pb2.ReverseJournalResponse(
            reversal=posted, original=codec.journal_to_proto(original_now, base), replayed=replayed
        )

    async def _no_journal_to_reverse(self, request: ledger_pb2.ReverseJournalRequest) -> RequestError:
        """NOT_FOUND, naming the period close when there was one. Not FAILED_PRECONDITION: the ledger
        keeps no trace of a deleted journal (a list of every id would grow without bound), so it cannot
        tell a journal of the closed period from an id that never existed, and must not claim either.
        Nothing is posted, so a retried reversal of a deleted journal never reverses it twice; when the
        reversal is still kept (it is dated on or after the original), the message names it."""
        message = f"no journal {echo(request.journal_id)}; GetLedger lists the journals there are"
        period = await asyncio.to_thread(self.store.closed_period)
        metadata: dict[str, str] = {}
        if period.closed_before is not None:
            first = period.closed_before.isoformat()
            metadata["closed_before"] = first
            message += (
                f". The ledger closed the period before {first} (OPSUITE_LEDGER_KEEP_DAYS keeps"
                f" {period.keep_days} business days) and keeps no journal dated before it"
            )
            reversal = await asyncio.to_thread(
                self.store.find_by_key, request.idempotency_key or f"reverse:{request.journal_id}"
            )
            if reversal is not None and reversal.draft.reverses_journal_id == request.journal_id:
                metadata["reversed_by_journal_id"] = reversal.journal_id
                message += f"; it was reversed by journal {reversal.journal_id}, which is kept"
        return RequestError(
            grpc.StatusCode.NOT_FOUND,
            message,
            violations=[FieldViolation("journal_id", "unknown journal")],
            reason="JOURNAL_NOT_FOUND",
            metadata=metadata,
        )

    async def _existing_reversal(self, journal_id: str, base: str) -> ledger_pb2.ReverseJournalResponse:
        original = await asyncio.to_thread(self.store.get_journal, journal_id)
        assert original is not None and original.reversed_by_journal_id
        reversal = await asyncio.to_thread(self.store.get_journal, original.reversed_by_journal_id)
        assert reversal is not None
        return ledger_pb2.ReverseJournalResponse(
            reversal=codec.journal_to_proto(reversal, base),
            original=codec.journal_to_proto(original, base),
            replayed=True,
        )

    # ------------------------------------------------------------ reads

    @rpc_errors
    async def GetLedger(
        self, request: ledger_pb2.GetLedgerRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.GetLedgerResponse:
        if request.mandate_id:
            self._base(request.mandate_id)
        size, after = page_size(request.page_size), position(request.page_token)
        date_from = codec.optional_date(request.dates.start, "dates.start")
        flt = LedgerFilter(
            mandate_id=request.mandate_id,
            account_prefix=request.account_prefix,
            date_from=date_from,
            date_to=codec.optional_date(request.dates.end, "dates.end"),
            source_event_id=request.source_event_id,
            trace_id=request.trace_id.lower(),
            kind=codec.kind_from_proto(request.kind, "kind") if request.kind else None,
            exclude_market=request.exclude_market_journals,
            # No start: the journals there are, from the horizon of a period close on (lookups by
            # source event or trace keep working). A start before the horizon asks for what is gone:
            # refused, naming the first date kept, rather than answered with a listing cut short.
            kept_only=date_from is None,
        )
        try:
            journals = await asyncio.to_thread(self.store.journals, flt, after_seq=after, limit=size + 1)
        except PeriodClosed as error:
            raise _period_closed(error, "dates.start") from error
        page = journals[:size]
        return ledger_pb2.GetLedgerResponse(
            journals=[codec.journal_to_proto(j, self.context.base_currencies[j.mandate_id]) for j in page],
            next_page_token=str(page[-1].ledger_seq) if len(journals) > size else "",
        )

    @rpc_errors
    async def GetTrialBalance(
        self, request: ledger_pb2.GetTrialBalanceRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.TrialBalance:
        base = self._base(request.mandate_id)
        as_of = codec.optional_date(request.as_of, "as_of")
        return await self._trial_balance(request.mandate_id, base, as_of)

    async def _trial_balance(
        self, mandate_id: str, base: str, as_of: dt.date | None
    ) -> ledger_pb2.TrialBalance:
        # The cursor first: every journal of the events up to it is then in the trial balance read after.
        market_seq = (await asyncio.to_thread(self.store.books_position)).market_seq
        try:
            result = await asyncio.to_thread(self.store.trial_balance, mandate_id, as_of)
        except PeriodClosed as error:
            raise _period_closed(error, "as_of") from error
        totals = trial_balance_totals(result.lines)
        message = ledger_pb2.TrialBalance(
            mandate_id=mandate_id,
            base_currency=base,
            lines=[codec.trial_balance_line_to_proto(line, base) for line in result.lines],
            totals=[
                ledger_pb2.CurrencyTotals(
                    currency=currency,
                    debit_total=codec.money(totals.debits.get(currency, Decimal(0)), currency),
                    credit_total=codec.money(totals.credits.get(currency, Decimal(0)), currency),
                )
                for currency in totals.currencies
            ],
            base_totals=ledger_pb2.CurrencyTotals(
                currency=base,
                debit_total=codec.money(totals.base_debit, base),
                credit_total=codec.money(totals.base_credit, base),
            ),
            balanced=totals.balanced,
            journal_count=result.journal_count,
            posting_count=result.posting_count,
            as_of_ledger_seq=result.as_of_ledger_seq,
            market_seq=market_seq,
        )
        if as_of is not None:
            message.as_of.CopyFrom(date_to_proto(as_of))
        return message

    @rpc_errors
    async def GetBalances(
        self, request: ledger_pb2.GetBalancesRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.GetBalancesResponse:
        base = self._base(request.mandate_id)
        as_of = codec.optional_date(request.as_of, "as_of")
        if request.min_market_seq and self.context.wait_for_market_seq is not None:
            remaining = context.time_remaining()
            # Answer a little before the caller's deadline, so it gets the reply rather than DEADLINE_EXCEEDED.
            budget = (
                MAX_BALANCE_WAIT_S if remaining is None else min(MAX_BALANCE_WAIT_S, remaining * 0.9 - 0.05)
            )
            await self.context.wait_for_market_seq(request.min_market_seq, budget)
        # The cursor first: every journal of the events up to it is then in the balances read after.
        # A whole mandate's answer is kept under that mandate's books (kept_answers.py).
        position = await asyncio.to_thread(
            self.store.books_position, "" if request.accounts else request.mandate_id
        )
        if request.accounts:
            message = ledger_pb2.GetBalancesResponse(balances=await self._balances(request, base, as_of))
        else:  # the day-end askers' request, answered alike for each of them (kept_answers.py)

            async def read() -> bytes:
                lines = await self._balances(request, base, as_of)
                return ledger_pb2.GetBalancesResponse(balances=lines).SerializeToString()

            answer = await self.kept_answers.answer((request.mandate_id, as_of), position.books, read)
            message = ledger_pb2.GetBalancesResponse.FromString(answer)
        message.mandate_id = request.mandate_id
        message.market_seq = position.market_seq
        if as_of is not None:
            message.as_of.CopyFrom(date_to_proto(as_of))
        return message

    async def _balances(
        self, request: ledger_pb2.GetBalancesRequest, base: str, as_of: dt.date | None
    ) -> list[ledger_pb2.AccountBalance]:
        try:
            lines = await asyncio.to_thread(
                self.store.balances, request.mandate_id, list(request.accounts), as_of
            )
        except UnknownAccount as error:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"no account {echo(error.account)} in mandate {request.mandate_id}; ListAccounts lists them",
                violations=[FieldViolation("accounts", f"unknown account {echo(error.account)}")],
                reason="ACCOUNT_NOT_FOUND",
            ) from error
        except PeriodClosed as error:
            raise _period_closed(error, "as_of") from error
        return [codec.balance_to_proto(line, base) for line in lines]

    @rpc_errors
    async def ListAccounts(
        self, request: ledger_pb2.ListAccountsRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.ListAccountsResponse:
        if request.mandate_id:
            self._base(request.mandate_id)
        if request.type:
            # A type number the contract does not define would filter every account out, silently.
            enum_from_proto(ledger_pb2.AccountType, "ACCOUNT_TYPE_", AccountType, request.type, "type")
        size, start = page_size(request.page_size), position(request.page_token)
        accounts = [
            a
            for a in await asyncio.to_thread(
                self.store.accounts, request.mandate_id, include_closed=request.include_closed
            )
            if a.name.startswith(request.name_prefix)
            and (not request.type or codec.account_type_to_proto(a.type) == request.type)
        ]
        page = accounts[start : start + size]
        return ledger_pb2.ListAccountsResponse(
            accounts=[codec.account_to_proto(a) for a in page],
            next_page_token=str(start + size) if start + size < len(accounts) else "",
        )

    # ------------------------------------------------------------ watches

    @rpc_errors
    async def WatchJournals(
        self, request: ledger_pb2.WatchJournalsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ledger_pb2.JournalBatch]:
        flt = journal_filter(request)
        if request.mandate_id:
            self._base(request.mandate_id)  # NOT_FOUND: a watch of no mandate would wait for ever
        position = request.after_ledger_seq
        # Before the first read: a commit after the read then wakes the wait (ChangeSignal).
        signal = self.watchers.signal(f"after_ledger_seq={position}")
        position = await watch_start(self.store, position)
        while True:
            # The head first: once a read returns less than a batch, every journal up to it was read.
            head = await asyncio.to_thread(self.store.head)
            journals = await asyncio.to_thread(
                self.store.journals, flt, after_seq=position, limit=WATCH_BATCH
            )
            batch, size = ledger_pb2.JournalBatch(), 0
            for journal in journals:
                message = codec.journal_to_proto(journal, self.context.base_currencies[journal.mandate_id])
                size += message.ByteSize()
                if batch.journals and size > MAX_PAGE_BYTES:
                    # Large enough already (marks post a leg per holding): the rest in the next message.
                    batch.head_ledger_seq = max(head, batch.journals[-1].ledger_seq)
                    yield batch
                    batch, size = ledger_pb2.JournalBatch(), message.ByteSize()
                batch.journals.append(message)
            if batch.journals:
                position = batch.journals[-1].ledger_seq
                batch.head_ledger_seq = max(head, position)
                yield batch
            if len(journals) == WATCH_BATCH:
                continue
            position = max(position, head)
            await self.watchers.wait_beyond(signal, position, f"after_ledger_seq={position}")

    @rpc_errors
    async def WatchTrialBalance(
        self, request: ledger_pb2.WatchTrialBalanceRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ledger_pb2.TrialBalance]:
        violations = too_long([("mandate_id", request.mandate_id, MAX_NAME_CHARS)])
        if violations:
            raise invalid_argument(violations)
        base = self._base(request.mandate_id)
        resume = "the same request"
        signal = self.watchers.signal(resume)
        loop = asyncio.get_running_loop()
        sent, sent_at = b"", -TRIAL_BALANCE_INTERVAL_S
        while True:
            head = await asyncio.to_thread(self.store.head)
            message = await self._trial_balance(request.mandate_id, base, None)
            # market_seq moves with every batch the ledger books; what the panel shows moves only
            # with the mandate's own journals.
            shown = ledger_pb2.TrialBalance()
            shown.CopyFrom(message)
            shown.ClearField("market_seq")
            key = shown.SerializeToString(deterministic=True)
            if key != sent:
                yield message
                sent, sent_at = key, loop.time()
            await self.watchers.wait_beyond(signal, head, resume)
            # Changes that come close together are sent as one: at most one trial balance an interval.
            delay = sent_at + TRIAL_BALANCE_INTERVAL_S - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)


def register(server: grpc.aio.Server, servicer: LedgerServicer) -> list[str]:
    ledger_pb2_grpc.add_LedgerServiceServicer_to_server(servicer, server)
    return [ledger_pb2.DESCRIPTOR.services_by_name["LedgerService"].full_name]
