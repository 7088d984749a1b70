"""gRPC handlers of opsuite.dq.v1.DqService: validate, translate, read the store, answer.

The rules live elsewhere: every check in domain/ (declared in the checks file, domain/config.py),
the issue lifecycle and the quarantine in domain/issues.py, what is stored at each day end in
store.py. Reads come from the store, so an answer is always as of a committed day end; WatchIssues
is woken by the store's commits (services/common/change_signal.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import grpc

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from services.common.change_signal import ChangeSignal, SignalClosed
from services.common.convert import date_from_proto, date_to_proto, decimal_from_proto, decimal_to_proto
from services.common.limits import MAX_NAME_CHARS, too_long
from services.common.market_events import Instrument, Mandate, PriceQuote
from services.common.paging import page_size, position
from services.common.service_status import Progress
from services.common.status import FieldViolation, RequestError, invalid_argument, rpc_errors, unknown_id
from services.dq import codec
from services.dq.domain.config import CheckSet
from services.dq.domain.issues import Issue, IssueStatus, QuarantineEntry
from services.dq.domain.prices import PriceChecks
from services.dq.domain.results import CheckResult, IssueKind, Severity, SubjectKind
from services.dq.store import DqStore, IssueFilter

WATCH_BATCH = 256
MAX_PRICES_CHECKED = 1_000
# A price to vet has at most this many integer digits (no instrument is priced near 10^18): the
# off-tick rule divides it by the tick (0.001 at the finest), and a quotient past decimal's 28
# digits cannot be computed (DivisionImpossible).
MAX_PRICE_INTEGER_DIGITS = 18
MAX_DAYS_AHEAD = dt.timedelta(days=31)

KINDS = {codec.kind_to_proto(kind): kind for kind in IssueKind}
SEVERITIES = {codec.severity_to_proto(severity): severity for severity in Severity}
STATUSES = {
    dq_pb2.ISSUE_STATUS_OPEN: "OPEN",
    dq_pb2.ISSUE_STATUS_ACKNOWLEDGED: "ACKNOWLEDGED",
    dq_pb2.ISSUE_STATUS_RESOLVED: "RESOLVED",
}
SUBJECT_KINDS = {
    dq_pb2.SUBJECT_KIND_PRICE: SubjectKind.INSTRUMENT,
    dq_pb2.SUBJECT_KIND_FX_RATE: SubjectKind.CURRENCY_PAIR,
}


@dataclass
class DqContext:
    """What the RPCs read besides the store."""

    checks: CheckSet
    checks_source: str
    mandates: dict[str, Mandate] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)
    progress: Callable[[], Progress] = Progress


class DqServicer(dq_pb2_grpc.DqServiceServicer):
    def __init__(self, store: DqStore, context: DqContext) -> None:
        self.store = store
        self.context = context
        self._signal: ChangeSignal | None = None
        self._closing = False

    def close(self) -> None:
        self._closing = True
        if self._signal is not None:
            self._signal.close()

    # ------------------------------------------------------------ status

    @rpc_errors
    async def GetStatus(
        self, request: dq_pb2.GetStatusRequest, context: grpc.aio.ServicerContext
    ) -> dq_pb2.DqStatus:
        mandate = request.mandate_id
        if mandate:
            self._check_mandate(mandate)
        cursor, as_of, _ = await asyncio.to_thread(self.store.load)
        counts = {c.check_id: c for c in await asyncio.to_thread(self.store.counts)}
        open_issues = await asyncio.to_thread(
            self.store.issues, IssueFilter(statuses=frozenset({"OPEN", "ACKNOWLEDGED"})), 0, 1_000_000
        )
        if mandate:
            open_issues = [i for i in open_issues if i.subject == mandate]
        checks = [c for c in self.context.checks.checks if not mandate or c.family.value == "holdings"]
        quarantined = await asyncio.to_thread(self.store.quarantined_now)
        progress = self.context.progress()
        status = dq_pb2.DqStatus(
            applied_seq=cursor,
            head_seq=max(progress.market_head_seq, cursor),
            open_issue_count=len(open_issues),
            quarantined_count=0 if mandate else len(quarantined),
        )
        if as_of is not None:
            status.as_of_date.CopyFrom(date_to_proto(as_of))
        for check in checks:
            count = counts.get(check.check_id)
            summary = dq_pb2.CheckSummary(
                check=check.check_id,
                checked_count=count.checked if count else 0,
                failed_count=count.failed if count else 0,
                open_issue_count=sum(1 for i in open_issues if i.check_id == check.check_id),
            )
            if count is not None and count.last_checked_at is not None:
                summary.last_checked_at.FromDatetime(count.last_checked_at)
            status.checks.append(summary)
        for family in sorted({c.family.value for c in checks}):
            members = [c for c in checks if c.family.value == family]
            opened = [i for i in open_issues if i.check_id in {c.check_id for c in members}]
            counted = [counts[c.check_id] for c in members if c.check_id in counts]
            status.families.append(
                dq_pb2.FamilySummary(
                    family=family,
                    status=_health(opened, quarantined=False),
                    checked_count=sum(c.checked for c in counted),
                    failed_count=sum(c.failed for c in counted),
                    open_issue_count=len(opened),
                )
            )
        by_severity: dict[Severity, int] = {}
        for issue in open_issues:
            by_severity[issue.severity] = by_severity.get(issue.severity, 0) + 1
        for severity in (Severity.CRITICAL, Severity.WARNING, Severity.INFO):
            status.open_by_severity.append(
                dq_pb2.SeverityCount(
                    severity=codec.severity_to_proto(severity), count=by_severity.get(severity, 0)
                )
            )
        status.health = _health(open_issues, quarantined=bool(status.quarantined_count))
        return status

    # ------------------------------------------------------------ issues

    @rpc_errors
    async def ListIssues(
        self, request: dq_pb2.ListIssuesRequest, context: grpc.aio.ServicerContext
    ) -> dq_pb2.ListIssuesResponse:
        violations = too_long(
            [
                ("instrument_id", request.instrument_id, MAX_NAME_CHARS),
                ("mandate_id", request.mandate_id, MAX_NAME_CHARS),
            ]
        )
        kinds = []
        for index, kind in enumerate(request.kinds):
            if kind not in KINDS:
                violations.append(FieldViolation(f"kinds[{index}]", f"{kind} is not an IssueKind"))
            else:
                kinds.append(KINDS[kind])
        if request.min_severity and request.min_severity not in SEVERITIES:
            violations.append(FieldViolation("min_severity", f"{request.min_severity} is not a Severity"))
        if request.status and request.status not in STATUSES:
            violations.append(FieldViolation("status", f"{request.status} is not an IssueStatus"))
        if request.instrument_id and request.mandate_id:
            violations.append(FieldViolation("mandate_id", "give instrument_id or mandate_id, not both"))
        if violations:
            raise invalid_argument(violations)
        if request.mandate_id:
            self._check_mandate(request.mandate_id)
        if request.instrument_id:
            self._check_instrument(request.instrument_id)
        first, last = self._date_range(request.dates if request.HasField("dates") else None)
        size = page_size(request.page_size)
        offset = position(request.page_token)
        where = IssueFilter(
            kinds=frozenset(kinds),
            min_severity=SEVERITIES.get(request.min_severity),
            statuses=frozenset({STATUSES[request.status]}) if request.status else frozenset(),
            subject_kind=(
                SubjectKind.INSTRUMENT
                if request.instrument_id
                else SubjectKind.MANDATE
                if request.mandate_id
                else None
            ),
            subject=request.instrument_id or request.mandate_id,
            first_date=first,
            last_date=last,
        )
        issues = await asyncio.to_thread(self.store.issues, where, offset, size + 1)
        return dq_pb2.ListIssuesResponse(
            issues=[self._issue(i) for i in issues[:size]],
            next_page_token=str(offset + size) if len(issues) > size else "",
        )

    @rpc_errors
    async def AcknowledgeIssue(
        self, request: dq_pb2.AcknowledgeIssueRequest, context: grpc.aio.ServicerContext
    ) -> dq_pb2.Issue:
        issue = await self._known_issue(request.issue_id)
        if issue.status is IssueStatus.RESOLVED:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"issue {request.issue_id} is resolved: there is nothing left to acknowledge",
                violations=[FieldViolation("issue_id", "resolved")],
                reason="ISSUE_RESOLVED",
            )
        await asyncio.to_thread(self.store.acknowledge, request.issue_id)
        acknowledged = await self._known_issue(request.issue_id)
        return self._issue(acknowledged)

    async def _known_issue(self, issue_id: str) -> Issue:
        violations = too_long([("issue_id", issue_id, MAX_NAME_CHARS)])
        if not issue_id:
            violations.append(FieldViolation("issue_id", "required: an id from ListIssues (dq-<n>)"))
        if violations:
            raise invalid_argument(violations)
        issue = await asyncio.to_thread(self.store.issue, issue_id)
        if issue is None:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"no issue {issue_id!r}; ListIssues names them",
                violations=[FieldViolation("issue_id", "unknown")],
                reason="UNKNOWN_ISSUE",
            )
        return issue

    def _issue(self, issue: Issue) -> dq_pb2.Issue:
        return codec.issue_to_proto(issue, self.store.trace_id(issue.issue_id))

    # ------------------------------------------------------------ quarantine

    @rpc_errors
    async def GetQuarantine(
        self, request: dq_pb2.GetQuarantineRequest, context: grpc.aio.ServicerContext
    ) -> dq_pb2.GetQuarantineResponse:
        violations = too_long([("instrument_id", request.instrument_id, MAX_NAME_CHARS)])
        if request.subject_kind and request.subject_kind not in SUBJECT_KINDS:
            violations.append(FieldViolation("subject_kind", f"{request.subject_kind} is not a SubjectKind"))
        if violations:
            raise invalid_argument(violations)
        if request.instrument_id:
            self._check_instrument(request.instrument_id)
        size = page_size(request.page_size)
        offset = position(request.page_token)
        cursor, _, _ = await asyncio.to_thread(self.store.load)
        entries: list[QuarantineEntry]
        if request.HasField("as_of_date"):
            day = date_from_proto(request.as_of_date, "as_of_date")
            checked = await asyncio.to_thread(self.store.checked_dates)
            if checked is None or day > checked[1]:
                said = f"up to {checked[1]}" if checked else "no day yet"
                raise RequestError(
                    grpc.StatusCode.OUT_OF_RANGE,
                    f"as_of_date {day} is past the last day dq has checked ({said}); ask again once "
                    "dq has checked it (GetStatus as_of_date)",
                    violations=[FieldViolation("as_of_date", f"at most {checked[1]}" if checked else said)],
                    reason="NOT_CHECKED_YET",
                    metadata={"as_of_date": checked[1].isoformat() if checked else ""},
                )
            if day < checked[0]:
                # A day dq never checked has no answer: "nothing rejected" would be a guess.
                raise RequestError(
                    grpc.StatusCode.OUT_OF_RANGE,
                    f"as_of_date {day} is before the first day dq checked, {checked[0]}",
                    violations=[FieldViolation("as_of_date", f"a day from {checked[0]} to {checked[1]}")],
                    reason="NOT_CHECKED",
                )
            entries = await asyncio.to_thread(self.store.rejected_on, day)
        else:
            entries = await asyncio.to_thread(self.store.quarantined_now)
        wanted = SUBJECT_KINDS.get(request.subject_kind)
        entries = [
            e
            for e in entries
            if (wanted is None or e.subject_kind is wanted)
            and (not request.instrument_id or e.subject == request.instrument_id)
        ]
        page = entries[offset : offset + size]
        return dq_pb2.GetQuarantineResponse(
            entries=[codec.entry_to_proto(e) for e in page],
            as_of_seq=cursor,
            next_page_token=str(offset + size) if offset + size < len(entries) else "",
        )

    @rpc_errors
    async def CheckPrices(
        self, request: dq_pb2.CheckPricesRequest, context: grpc.aio.ServicerContext
    ) -> dq_pb2.CheckPricesResponse:
        if len(request.prices) > MAX_PRICES_CHECKED:
            raise invalid_argument(
                [
                    FieldViolation(
                        "prices", f"at most {MAX_PRICES_CHECKED} prices a call, got {len(request.prices)}"
                    )
                ]
            )
        # None: no prices given, so the latest of every instrument from each vendor (_vet reads them).
        quotes = [self._quote(index, price) for index, price in enumerate(request.prices)] or None
        try:
            verdicts = await asyncio.to_thread(self._vet, quotes)
        except ValueError as error:
            raise RequestError(
                grpc.StatusCode.OUT_OF_RANGE,
                f"{error}; dq vets a price of the last day it checked or later",
                violations=[FieldViolation("prices", str(error))],
            ) from None
        response = dq_pb2.CheckPricesResponse()
        for quote, results in verdicts:
            failed = [r for r in results if not r.success]
            accepted = not any(r.quarantine for r in results)
            response.verdicts.append(
                dq_pb2.PriceVerdict(
                    price=dq_pb2.PriceToCheck(
                        instrument_id=quote.instrument_id,
                        price=decimal_to_proto(quote.price),
                        currency=quote.currency,
                        vendor=quote.vendor,
                        price_date=date_to_proto(quote.price_date),
                    ),
                    accepted=accepted,
                    issues=[codec.result_to_proto(r) for r in failed],
                )
            )
            if accepted:
                response.accepted_count += 1
            else:
                response.rejected_count += 1
        return response

    def _vet(self, quotes: Sequence[PriceQuote] | None) -> list[tuple[PriceQuote, list[CheckResult]]]:
        """Each quote against the checks' state at the last committed day end, nothing recorded
        (PriceChecks.vet judges on a copy); None vets the latest price of each instrument from each
        vendor. ValueError for a price dated before that day end."""
        _, _, state = self.store.load()
        checks = PriceChecks(self.context.checks, self.context.instruments.values())
        if state:
            checks.restore(json.loads(state)["prices"])
        return [(quote, checks.vet(quote)) for quote in (checks.latest() if quotes is None else quotes)]

    def _quote(self, index: int, price: dq_pb2.PriceToCheck) -> PriceQuote:
        where = f"prices[{index}]"
        violations = too_long([(f"{where}.instrument_id", price.instrument_id, MAX_NAME_CHARS)])
        if violations:
            raise invalid_argument(violations)
        instrument = self.context.instruments.get(price.instrument_id)
        if instrument is None:
            raise unknown_id(
                f"{where}.instrument_id", "instrument", price.instrument_id, sorted(self.context.instruments),
                "market's ListInstruments",
            )  # fmt: skip
        if not price.HasField("price"):
            raise invalid_argument([FieldViolation(f"{where}.price", "required")])
        value = decimal_from_proto(price.price, f"{where}.price")
        if value and value.adjusted() >= MAX_PRICE_INTEGER_DIGITS:
            raise invalid_argument(
                [
                    FieldViolation(
                        f"{where}.price",
                        f"at most {MAX_PRICE_INTEGER_DIGITS} integer digits, got {value.adjusted() + 1}",
                    )
                ]
            )
        vendor = price.vendor or "primary"
        if vendor not in ("primary", "vendor_b"):
            raise invalid_argument(
                [FieldViolation(f"{where}.vendor", f"{vendor!r} is not primary or vendor_b")]
            )
        if price.currency and price.currency != instrument.currency:
            raise invalid_argument(
                [
                    FieldViolation(
                        f"{where}.currency", f"{price.instrument_id} is priced in {instrument.currency}"
                    )
                ]
            )
        _, as_of, _ = self.store.load()
        day = (
            date_from_proto(price.price_date, f"{where}.price_date")
            if price.HasField("price_date")
            else as_of
        )
        if day is None:
            raise RequestError(grpc.StatusCode.UNAVAILABLE, "dq has not checked a day yet")
        if as_of is not None and day > as_of + MAX_DAYS_AHEAD:
            # The checks judge a price against the days before it: a month past the last one is no
            # longer the same market.
            raise RequestError(
                grpc.StatusCode.OUT_OF_RANGE,
                f"{where}.price_date {day} is more than {MAX_DAYS_AHEAD.days} days after the last day dq has"
                f" checked ({as_of})",
                violations=[FieldViolation(f"{where}.price_date", f"at most {as_of + MAX_DAYS_AHEAD}")],
            )
        return PriceQuote(price.instrument_id, value, instrument.currency, vendor, day)

    # ------------------------------------------------------------ checks and watching

    @rpc_errors
    async def ListChecks(
        self, request: dq_pb2.ListChecksRequest, context: grpc.aio.ServicerContext
    ) -> dq_pb2.ListChecksResponse:
        size = page_size(request.page_size)
        offset = position(request.page_token)
        checks = list(self.context.checks.checks)
        return dq_pb2.ListChecksResponse(
            checks=[codec.check_to_proto(c) for c in checks[offset : offset + size]],
            source=self.context.checks_source,
            next_page_token=str(offset + size) if offset + size < len(checks) else "",
        )

    @rpc_errors
    async def WatchIssues(
        self, request: dq_pb2.WatchIssuesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[dq_pb2.IssueChange]:
        violations = too_long([("mandate_id", request.mandate_id, MAX_NAME_CHARS)])
        kinds = set()
        for index, kind in enumerate(request.kinds):
            if kind not in KINDS:
                violations.append(FieldViolation(f"kinds[{index}]", f"{kind} is not an IssueKind"))
            else:
                kinds.add(KINDS[kind])
        if request.min_severity and request.min_severity not in SEVERITIES:
            violations.append(FieldViolation("min_severity", f"{request.min_severity} is not a Severity"))
        if violations:
            raise invalid_argument(violations)
        if request.mandate_id:
            self._check_mandate(request.mandate_id)
        floor = SEVERITIES.get(request.min_severity)
        ranks = {Severity.INFO: 1, Severity.WARNING: 2, Severity.CRITICAL: 3}

        def wanted(issue: Issue) -> bool:
            return (
                (not kinds or issue.kind in kinds)
                and (floor is None or ranks[issue.severity] >= ranks[floor])
                and (not request.mandate_id or issue.subject == request.mandate_id)
            )

        if self._closing:
            raise _shutting_down(request.after_change_seq)
        signal = self._change_signal()
        after = request.after_change_seq
        if after == 0:
            head, current = await asyncio.to_thread(self.store.open_at_head)
            for issue in current:
                if wanted(issue):
                    yield codec.current_to_proto(head, issue, self.store.trace_id(issue.issue_id))
            after = head
        else:
            head = await asyncio.to_thread(self.store.head)
            if after > head:
                raise RequestError(
                    grpc.StatusCode.OUT_OF_RANGE,
                    f"after_change_seq {after} is beyond the latest change {head}; resume from {head} or 0",
                    violations=[FieldViolation("after_change_seq", f"at most {head}")],
                    reason="CURSOR_AHEAD",
                    metadata={"head": str(head)},
                )
        while True:
            changes = await asyncio.to_thread(self.store.changes_after, after, WATCH_BATCH)
            for change in changes:
                after = change.change_seq
                if wanted(change.issue):
                    yield codec.change_to_proto(change, self.store.trace_id(change.issue.issue_id))
            if len(changes) < WATCH_BATCH:
                try:
                    await signal.wait_beyond(after)
                except SignalClosed:
                    raise _shutting_down(after) from None

    def _change_signal(self) -> ChangeSignal:
        # Created on the first watch, inside the server's event loop; head 0 is safe (see ChangeSignal).
        if self._signal is None:
            self._signal = ChangeSignal(self.store)
        return self._signal

    # ------------------------------------------------------------ helpers

    def _check_mandate(self, mandate_id: str) -> None:
        if mandate_id not in self.context.mandates:
            raise unknown_id(
                "mandate_id", "mandate", mandate_id, sorted(self.context.mandates), "ListMandates"
            )

    def _check_instrument(self, instrument_id: str) -> None:
        if instrument_id not in self.context.instruments:
            raise unknown_id(
                "instrument_id", "instrument", instrument_id, sorted(self.context.instruments),
                "market's ListInstruments",
            )  # fmt: skip

    @staticmethod
    def _date_range(dates: object | None) -> tuple[dt.date | None, dt.date | None]:
        if dates is None:
            return None, None
        first = date_from_proto(dates.start, "dates.start") if dates.HasField("start") else None  # type: ignore[attr-defined]
        last = date_from_proto(dates.end, "dates.end") if dates.HasField("end") else None  # type: ignore[attr-defined]
        if first is not None and last is not None and last < first:
            raise invalid_argument([FieldViolation("dates", f"end {last} is before start {first}")])
        return first, last


def _health(open_issues: Sequence[Issue], *, quarantined: bool) -> str:
    """critical: something is held back or a critical issue is open; degraded: a warning is open."""
    severities = {issue.severity for issue in open_issues}
    if quarantined or Severity.CRITICAL in severities:
        return "critical"
    return "degraded" if Severity.WARNING in severities else "ok"


def _shutting_down(after_change_seq: int) -> RequestError:
    return RequestError(
        grpc.StatusCode.UNAVAILABLE,
        f"dq is shutting down; watch again with after_change_seq={after_change_seq} to miss nothing",
        reason="SHUTTING_DOWN",
        metadata={"after_change_seq": str(after_change_seq)},
    )


def register(server: grpc.aio.Server, servicer: DqServicer) -> list[str]:
    dq_pb2_grpc.add_DqServiceServicer_to_server(servicer, server)
    return [dq_pb2.DESCRIPTOR.services_by_name["DqService"].full_name]
