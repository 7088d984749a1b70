"""What a finished run left in its books, read through the services' APIs, in a form two runs of the
same seed can be compared by: journals by idempotency key (not by journal id or ledger order),
trial balances and NAVs per mandate and business day, breaks by their (deterministic) ids, the
suspense journals recon posted, and the combined event log's announcements of journals.

`read_run_state(addresses, data_dir)` reads a run whose services still answer; `compare(expected,
actual)` says, section by section, what differs, in lines a person can read.

NAVs: a mandate's NAV is valued here from market's day-end snapshot (internal book at the primary
vendor's prices and FX) and, on the ledger's side, as its assets plus liabilities in the base
currency; reporting's own NAVs, units and NAV per unit beside them when reporting runs.

dq, when it runs: every issue by id (kind, subject, status, figures, times), its change feed by
change number (WatchIssues), the values it rejected on each day end and what is quarantined at
the end (GetQuarantine), and its announcements of issues in the combined event log.

documents, when it runs: for every confirmation market sent, the extraction documents made of it
(match status, fill, mandate, mismatched fields, the rules of its own figures it breaks, layout),
by extraction id; and its document.* records in the combined event log per kind. No RPC lists
extractions, so they are read from documents' SQLite store, through a copy taken read-only
(`documents_store`: tests may read a service's files) and services/documents/store.py's API; and
the breaks it still owes recon at the end (none, in a run that went well). Its cursor at market's
head, one extraction and one record for each confirmation, and no record still owed to the event
log are checked within the run (`problems`). The CONFIRMATION_MISMATCH breaks documents raised are
among recon's breaks; recon's event-log records of them are counted by break (`raised_records`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import grpc
from google.protobuf import timestamp_pb2

from opsuite.common.v1 import common_pb2
from opsuite.documents.v1 import documents_pb2
from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.common.eventlog import open_event_log
from services.common.market_events import unit_price
from services.common.market_events.decode import decode_fx, decode_instrument, decode_price
from services.common.status import details_of, status_from_error
from services.documents.pipeline import content_sha256, extraction_id_of
from services.documents.store import SQLITE_FILE, DocumentsStore
from services.scoring.recon_observe import read_breaks

# Reconnect quickly to a service that was restarted on the same address.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
]
PAGE = 1000
RPC_TIMEOUT_S = 60.0
_KIND_IN_SUMMARY = re.compile(r"\((JOURNAL_KIND_[A-Z_]+)\)")
# The stream journals the ledger records in the event log (services/ledger/outbox.py).
_RECORDED_STREAM_KINDS = frozenset(
    ledger_pb2.JournalKind.Value(f"JOURNAL_KIND_{kind}")
    for kind in ("TRADE", "SETTLEMENT", "DIVIDEND", "COUPON", "FEE", "SUBSCRIPTION", "REDEMPTION")
)
_BREAK_OF_RECORD = re.compile(r"rec-(BRK-[0-9a-f]+)-")


def channel(address: str) -> grpc.Channel:
    return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)


# ---------------------------------------------------------------- comparable views


def number(value: str) -> str:
    """A decimal's value without its scale ("1.50" and "1.5" alike); "" when unset."""
    return format(Decimal(value).normalize(), "f") if value else ""


def money(value: common_pb2.Money) -> str:
    return f"{number(value.amount.value)} {value.currency}".strip()


def date(value: common_pb2.Date) -> str:
    return dt.date(value.year, value.month, value.day).isoformat() if value.year else ""


class PostingView(NamedTuple):
    account: str
    amount: str
    base_amount: str
    quantity: str
    instrument_id: str


class JournalView(NamedTuple):
    mandate_id: str
    kind: str
    effective_date: str
    postings: tuple[PostingView, ...]  # sorted: a multiset, not the order they were given in
    caused_by: tuple[str, ...]


class TrialBalanceView(NamedTuple):
    lines: tuple[tuple[str, ...], ...]  # (account, currency, debit, credit, balance, base ..., quantity)
    totals: tuple[tuple[str, str, str], ...]
    base_totals: tuple[str, str]
    balanced: bool
    journal_count: int
    posting_count: int


class BreakView(NamedTuple):
    mandate_id: str
    kind: str
    status: str
    comparison: str
    scope: str
    instrument_id: str
    currency: str
    fill_id: str
    ledger_account: str
    book_quantity: str
    other_quantity: str
    amount_difference: str
    base_amount_difference: str
    book_date: str
    other_date: str
    first_seen_date: str
    last_seen_date: str
    age_business_days: int
    aging_bucket: str
    escalated: bool
    escalation_reason: str
    assignee: str
    resolved_by_event_id: str
    suspense_journal_key: str  # the idempotency key of its suspense journal ("" when none)
    opened_in_run_id: str
    last_run_id: str
    caused_by: tuple[str, ...]


class DqIssueView(NamedTuple):
    kind: str
    severity: str
    status: str
    instrument_id: str
    currency_pair: str
    mandate_id: str
    vendor: str
    check_id: str
    rule: str
    value_date: str
    observed_value: str
    reference_value: str
    difference: str
    deviation: float
    threshold: float
    stale_business_days: int
    quarantined: bool
    first_seen: str
    last_seen: str
    detected_at: str
    resolved_at: str
    resolved_by_event_id: str
    caused_by: tuple[str, ...]
    statistics: tuple[tuple[str, float], ...]
    unexpected_count: int
    unexpected_sample: tuple[str, ...]
    message: str


class DqChangeView(NamedTuple):
    kind: str
    issue_id: str
    status: str
    last_seen: str


class DqEntryView(NamedTuple):
    rejected_value: str
    rejected_date: str
    last_good_value: str
    last_good_date: str
    issue_id: str
    event_id: str
    since: str


class DocumentView(NamedTuple):
    """What documents made of one of market's confirmations."""

    confirmation_id: str
    status: str
    fill_id: str
    mandate_id: str
    mismatches: tuple[tuple[str, str, str], ...]  # (field, on the document, in the book)
    rule_failures: tuple[str, ...]
    layout: str


# (subject kind, instrument, currency pair, vendor): one quarantined value's subject.
DqSubject = tuple[str, str, str, str]


@dataclasses.dataclass
class DqState:
    issues: dict[str, DqIssueView] = dataclasses.field(default_factory=dict)
    changes: dict[int, DqChangeView] = dataclasses.field(default_factory=dict)  # change_seq -> change
    change_head: int = 0
    rejected: dict[tuple[str, DqSubject], DqEntryView] = dataclasses.field(default_factory=dict)
    quarantined: dict[DqSubject, DqEntryView] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class RunState:
    mandates: dict[str, str]  # mandate -> base currency
    day_ends: list[tuple[str, int]]  # (date, seq) of every clock.day_end
    journals: dict[str, JournalView]  # idempotency key -> journal
    trial_balances: dict[tuple[str, str], TrialBalanceView]  # (mandate, as of date) -> trial balance
    breaks: dict[str, BreakView]
    suspense: dict[str, JournalView]  # the journals recon posted, by idempotency key
    market_navs: dict[tuple[str, str], str]  # (mandate, date) -> NAV in base from market's books
    ledger_navs: dict[tuple[str, str], str]  # (mandate, date) -> assets + liabilities in base
    market_events: dict[int, tuple[str, str]]  # seq -> (event id, kind) of market's events in the log
    announced: dict[str, int]  # journal kind -> journal.posted records in the event log
    announced_keys: dict[str, str]  # idempotency key -> kind, of every announced journal
    recon_records: dict[str, int]  # recon's event-log records by kind
    problems: list[str]  # inconsistencies within the run itself
    # (mandate, date) -> reporting's NAV, units and NAV per unit; empty when reporting is not running
    reporting_navs: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    # dq's end state (empty when dq is not running): issue id -> issue; change number -> change
    # (WatchIssues resumes after a number, so the feed is read from change 2; change 1 is the
    # raising of dq-1, in dq_issues); (day end, subject) -> value rejected that day; subject ->
    # value quarantined at the end; dq's event-log records, event id -> kind
    dq_issues: dict[str, DqIssueView] = dataclasses.field(default_factory=dict)
    dq_changes: dict[int, DqChangeView] = dataclasses.field(default_factory=dict)
    dq_change_head: dict[str, int] = dataclasses.field(default_factory=dict)
    dq_rejected: dict[tuple[str, DqSubject], DqEntryView] = dataclasses.field(default_factory=dict)
    dq_quarantined: dict[DqSubject, DqEntryView] = dataclasses.field(default_factory=dict)
    dq_records: dict[str, str] = dataclasses.field(default_factory=dict)
    # documents' end state (empty when documents is not running): extraction id -> what it made of
    # market's confirmation; its event-log records per kind
    documents_extractions: dict[str, DocumentView] = dataclasses.field(default_factory=dict)
    documents_records: dict[str, int] = dataclasses.field(default_factory=dict)
    # the breaks documents still owes recon at the end (extraction id -> fill), raised by none
    documents_owed: dict[str, str] = dataclasses.field(default_factory=dict)
    # recon's event-log records of the breaks another service raised (RaiseBreak), by (break, kind);
    # recon_records counts the others
    raised_records: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)

    def summary(self) -> str:
        kinds = Counter(j.kind.removeprefix("JOURNAL_KIND_") for j in self.journals.values())
        statuses = Counter(b.status.removeprefix("BREAK_STATUS_") for b in self.breaks.values())
        return (
            f"{len(self.day_ends)} day ends, {len(self.mandates)} mandates, {len(self.journals)} journals "
            f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}), {len(self.breaks)} breaks "
            f"({', '.join(f'{k} {n}' for k, n in sorted(statuses.items()))}), "
            f"{len(self.suspense)} suspense journals, {sum(self.announced.values())} journals announced"
            + (
                f"; dq: {len(self.dq_issues)} issues, {self.dq_change_head.get('head', 0)} changes, "
                f"{len(self.dq_rejected)} values rejected, {len(self.dq_quarantined)} quarantined at the end"
                if self.dq_issues or self.dq_change_head
                else ""
            )
            + (
                f"; documents: {len(self.documents_extractions)} confirmations extracted ("
                + ", ".join(
                    f"{k.removeprefix('MATCH_STATUS_')} {n}"
                    for k, n in sorted(Counter(v.status for v in self.documents_extractions.values()).items())
                )
                + ")"
                if self.documents_extractions
                else ""
            )
        )


# ---------------------------------------------------------------- reading a run


def _day_ends(stub: market_pb2_grpc.MarketServiceStub, head: int) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    if head == 0:
        return found
    call = stub.StreamEvents(
        market_pb2.StreamEventsRequest(
            from_seq=1, filter=market_pb2.EventFilter(kinds=["clock.day_end"]), max_batch_size=10_000
        ),
        timeout=RPC_TIMEOUT_S,
    )
    try:
        for batch in call:
            found.extend((date(e.day_end.date), e.envelope.seq) for e in batch.events)
            if batch.last_seq >= head:
                break
    finally:
        call.cancel()
    return found


def _nav(
    book: market_pb2.MandateBook,
    base: str,
    unit_values: Mapping[str, tuple[Decimal, str]],
    fx: Mapping[tuple[str, str], Decimal],
) -> str:
    def to_base(amount: Decimal, currency: str) -> Decimal:
        if currency == base:
            return amount
        if (currency, base) in fx:
            return amount * fx[currency, base]
        return amount / fx[base, currency]

    total = sum((to_base(Decimal(c.amount.value), c.currency) for c in book.cash), Decimal(0))
    for position in book.positions:
        value, currency = unit_values[position.instrument_id]
        total += to_base(Decimal(position.quantity.value) * value, currency)
    return format(total.quantize(Decimal("0.01")), "f")


def _market_navs(
    stub: market_pb2_grpc.MarketServiceStub, day_ends: Iterable[tuple[str, int]], mandates: Mapping[str, str]
) -> dict[tuple[str, str], str]:
    classes: dict[str, Any] = {}
    token = ""
    while True:
        page = stub.ListInstruments(
            market_pb2.ListInstrumentsRequest(page_size=PAGE, page_token=token), timeout=RPC_TIMEOUT_S
        )
        classes.update({i.instrument_id: decode_instrument(i).asset_class for i in page.instruments})
        if not (token := page.next_page_token):
            break
    navs: dict[tuple[str, str], str] = {}
    for day, seq in day_ends:
        snapshot = stub.GetSnapshot(market_pb2.GetSnapshotRequest(as_of_seq=seq), timeout=RPC_TIMEOUT_S)
        unit_values: dict[str, tuple[Decimal, str]] = {}
        for quote in sorted((decode_price(p) for p in snapshot.prices), key=lambda q: q.vendor != "primary"):
            unit_values.setdefault(
                quote.instrument_id, (unit_price(quote.price, classes[quote.instrument_id]), quote.currency)
            )
        fx: dict[tuple[str, str], Decimal] = {}
        for rate in sorted((decode_fx(r) for r in snapshot.fx_rates), key=lambda r: r.vendor != "primary"):
            fx.setdefault((rate.base_currency, rate.quote_currency), rate.rate)  # primary, else the cross
        for book in snapshot.internal_books:
            navs[book.mandate_id, day] = _nav(book, mandates[book.mandate_id], unit_values, fx)
    return navs


def _journal_view(j: ledger_pb2.Journal) -> JournalView:
    postings = tuple(
        sorted(
            PostingView(
                p.account, money(p.amount), money(p.base_amount), number(p.quantity.value), p.instrument_id
            )
            for p in j.postings
        )
    )
    return JournalView(
        j.mandate_id,
        ledger_pb2.JournalKind.Name(j.kind),
        date(j.effective_date),
        postings,
        tuple(j.caused_by),
    )


def _trial_balance_view(tb: ledger_pb2.TrialBalance) -> TrialBalanceView:
    lines = tuple(
        sorted(
            (
                line.account,
                line.currency,
                money(line.debit_total),
                money(line.credit_total),
                money(line.balance),
                money(line.base_debit_total),
                money(line.base_credit_total),
                money(line.base_balance),
                number(line.quantity.value),
            )
            for line in tb.lines
        )
    )
    totals = tuple(sorted((t.currency, money(t.debit_total), money(t.credit_total)) for t in tb.totals))
    return TrialBalanceView(
        lines,
        totals,
        (money(tb.base_totals.debit_total), money(tb.base_totals.credit_total)),
        tb.balanced,
        tb.journal_count,
        tb.posting_count,
    )


def _ledger_nav(tb: ledger_pb2.TrialBalance) -> str:
    held = (ledger_pb2.ACCOUNT_TYPE_ASSETS, ledger_pb2.ACCOUNT_TYPE_LIABILITIES)
    total = sum(
        (Decimal(line.base_balance.amount.value or "0") for line in tb.lines if line.type in held), Decimal(0)
    )
    return format(total.quantize(Decimal("0.01")), "f")


def _break_view(b: recon_pb2.Break, journal_keys: Mapping[str, str]) -> BreakView:
    return BreakView(
        mandate_id=b.mandate_id,
        kind=recon_pb2.BreakKind.Name(b.kind),
        status=recon_pb2.BreakStatus.Name(b.status),
        comparison=recon_pb2.Comparison.Name(b.comparison),
        scope=recon_pb2.Scope.Name(b.scope),
        instrument_id=b.instrument_id,
        currency=b.currency,
        fill_id=b.fill_id,
        ledger_account=b.ledger_account,
        book_quantity=number(b.book_quantity.value),
        other_quantity=number(b.other_quantity.value),
        amount_difference=money(b.amount_difference),
        base_amount_difference=money(b.base_amount_difference),
        book_date=date(b.book_date),
        other_date=date(b.other_date),
        first_seen_date=date(b.first_seen_date),
        last_seen_date=date(b.last_seen_date),
        age_business_days=b.age_business_days,
        aging_bucket=b.aging_bucket,
        escalated=b.escalated,
        escalation_reason=b.escalation_reason,
        assignee=b.assignee,
        resolved_by_event_id=b.resolved_by_event_id,
        suspense_journal_key=(
            journal_keys.get(b.suspense_journal_id, f"<journal {b.suspense_journal_id} not in the ledger>")
            if b.suspense_journal_id
            else ""
        ),
        opened_in_run_id=b.opened_in_run_id,
        last_run_id=b.last_run_id,
        caused_by=tuple(b.caused_by),
    )


def read_journals(ledger: ledger_pb2_grpc.LedgerServiceStub) -> list[ledger_pb2.Journal]:
    found: list[ledger_pb2.Journal] = []
    token = ""
    while True:
        page = ledger.GetLedger(
            ledger_pb2.GetLedgerRequest(page_size=PAGE, page_token=token), timeout=RPC_TIMEOUT_S
        )
        found.extend(page.journals)
        if not (token := page.next_page_token):
            return found


def read_calendar(market_address: str) -> tuple[dict[str, str], list[tuple[str, int]]]:
    """Every mandate's base currency, and the (date, seq) of every day end market has published."""
    with channel(market_address) as m:
        market = market_pb2_grpc.MarketServiceStub(m)
        mandates = {
            x.mandate_id: x.base_currency
            for x in market.ListMandates(
                market_pb2.ListMandatesRequest(page_size=PAGE), timeout=RPC_TIMEOUT_S
            ).mandates
        }
        head = market.GetClock(market_pb2.GetClockRequest(), timeout=RPC_TIMEOUT_S).head_seq
        return mandates, _day_ends(market, head)


def read_run_state(addresses: Mapping[str, str], data_dir: Path) -> RunState:
    """The books of a run whose market, ledger and recon answer at `addresses`; its event log (the
    default SQLite one) under data_dir."""
    problems: list[str] = []
    with (
        channel(addresses["market"]) as m,
        channel(addresses["ledger"]) as lg,
        channel(addresses["recon"]) as r,
    ):
        market = market_pb2_grpc.MarketServiceStub(m)
        ledger = ledger_pb2_grpc.LedgerServiceStub(lg)
        recon = recon_pb2_grpc.ReconServiceStub(r)
        mandates, day_ends = read_calendar(addresses["market"])
        market_navs = _market_navs(market, day_ends, mandates)

        raw = read_journals(ledger)
        journals: dict[str, JournalView] = {}
        journal_keys: dict[str, str] = {}
        for j in raw:
            if j.idempotency_key in journals:
                problems.append(f"two journals with idempotency key {j.idempotency_key}")
            journals[j.idempotency_key] = _journal_view(j)
            journal_keys[j.journal_id] = j.idempotency_key
        suspense = {
            j.idempotency_key: journals[j.idempotency_key]
            for j in raw
            if j.kind == ledger_pb2.JOURNAL_KIND_SUSPENSE
        }
        trial_balances: dict[tuple[str, str], TrialBalanceView] = {}
        ledger_navs: dict[tuple[str, str], str] = {}
        for mandate in sorted(mandates):
            for day, _seq in day_ends:
                tb = ledger.GetTrialBalance(
                    ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate, as_of=common_pb2.Date(**_ymd(day))),
                    timeout=RPC_TIMEOUT_S,
                )
                trial_balances[mandate, day] = _trial_balance_view(tb)
                ledger_navs[mandate, day] = _ledger_nav(tb)
                if not tb.balanced:
                    problems.append(f"the trial balance of {mandate} as of {day} does not balance")
            latest = ledger.GetTrialBalance(
                ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate), timeout=RPC_TIMEOUT_S
            )
            trial_balances[mandate, "latest"] = _trial_balance_view(latest)

        breaks = {b.break_id: _break_view(b, journal_keys) for b in read_breaks(recon)}

    market_events: dict[int, tuple[str, str]] = {}
    announced: Counter[str] = Counter()
    announced_keys: dict[str, str] = {}
    recon_records: Counter[str] = Counter()
    event_log = open_event_log(None, data_dir)
    try:
        for record in _records(event_log, "ledger"):
            # PostJournal's journals, and those booked from market's stream that a chain follows.
            if record.kind not in ("journal.posted", "journal.booked"):
                continue
            match = _KIND_IN_SUMMARY.search(record.summary)
            kind = match.group(1) if match else "?"
            announced[kind] += 1
            journal_id = record.event_id.removeprefix("ldg-")
            key = journal_keys.get(journal_id)
            if key is None:
                problems.append(f"the event log announces journal {journal_id} ({kind}), not in the ledger")
            elif key in announced_keys:
                problems.append(f"the event log announces the journal of key {key} twice")
            else:
                announced_keys[key] = kind
        raised = {i for i, b in breaks.items() if b.opened_in_run_id.startswith("RAISED-")}
        raised_records: Counter[tuple[str, str]] = Counter()
        for record in _records(event_log, "recon"):
            of = _BREAK_OF_RECORD.match(record.event_id)
            if of and of.group(1) in raised:
                raised_records[of.group(1), record.kind] += 1
            else:
                recon_records[record.kind] += 1
        dq_records = {record.event_id: record.kind for record in _records(event_log, "dq")}
        market_events.update((r.seq, (r.event_id, r.kind)) for r in _records(event_log, "market"))
        documents_records = [(r.event_id, r.kind) for r in _records(event_log, "documents")]
    finally:
        event_log.close()
    for j in raw:
        if j.kind in (ledger_pb2.JOURNAL_KIND_MANUAL, ledger_pb2.JOURNAL_KIND_SUSPENSE) and (
            j.idempotency_key not in announced_keys
        ):
            problems.append(
                f"journal {j.idempotency_key} ({ledger_pb2.JournalKind.Name(j.kind)}) was posted through "
                "PostJournal but never announced in the event log"
            )
        if (
            j.idempotency_key.startswith("mkt:")
            and j.kind in _RECORDED_STREAM_KINDS
            and j.idempotency_key not in announced_keys
        ):
            problems.append(
                f"journal {j.idempotency_key} ({ledger_pb2.JournalKind.Name(j.kind)}) was booked from "
                "market's stream but never recorded in the event log"
            )
    reporting_navs = (
        _reporting_navs(addresses["reporting"], mandates, problems) if "reporting" in addresses else {}
    )
    dq = (
        read_dq(addresses["dq"], [day for day, _seq in day_ends], problems)
        if "dq" in addresses
        else DqState()
    )
    if "dq" in addresses:
        _check_dq_records(dq, dq_records, problems)
    extractions, owed = (
        read_documents(addresses["market"], data_dir, documents_records, problems)
        if "documents" in addresses
        else ({}, {})
    )
    return RunState(
        documents_extractions=extractions,
        documents_owed=owed,
        raised_records=dict(raised_records),
        documents_records=dict(Counter(kind for _, kind in documents_records))
        if "documents" in addresses
        else {},
        reporting_navs=reporting_navs,
        dq_issues=dq.issues,
        dq_changes=dq.changes,
        dq_change_head={"head": dq.change_head} if "dq" in addresses else {},
        dq_rejected=dq.rejected,
        dq_quarantined=dq.quarantined,
        dq_records=dq_records if "dq" in addresses else {},
        mandates=mandates,
        day_ends=day_ends,
        journals=journals,
        trial_balances=trial_balances,
        breaks=breaks,
        suspense=suspense,
        market_navs=market_navs,
        ledger_navs=ledger_navs,
        market_events=market_events,
        announced=dict(announced),
        announced_keys=announced_keys,
        recon_records=dict(recon_records),
        problems=problems,
    )


def _reporting_navs(
    address: str, mandates: Mapping[str, str], problems: list[str]
) -> dict[tuple[str, str], str]:
    """Every day end's NAV, units and NAV per unit as reporting valued them; and, as a problem, a
    latest report whose difference from the ledger its causes do not explain."""
    navs: dict[tuple[str, str], str] = {}
    with channel(address) as r:
        stub = reporting_pb2_grpc.ReportingServiceStub(r)
        for mandate in sorted(mandates):
            history = stub.GetNavHistory(
                reporting_pb2.GetNavHistoryRequest(mandate_id=mandate, page_size=1_000), timeout=RPC_TIMEOUT_S
            )
            if history.next_page_token:
                problems.append(f"reporting's history of {mandate} has more than 1,000 day ends")
            for point in history.points:
                day = f"{point.date.year:04d}-{point.date.month:02d}-{point.date.day:02d}"
                navs[mandate, day] = (
                    f"{point.nav.amount.value} {point.units_outstanding.value} {point.nav_per_unit.amount.value}"
                )
            ledger = stub.GetReport(
                reporting_pb2.GetReportRequest(mandate_id=mandate), timeout=RPC_TIMEOUT_S
            ).ledger
            if ledger.status == "DIFFERS" and Decimal(ledger.unexplained.amount.value or "0"):
                problems.append(
                    f"{mandate}: reporting's NAV differs from the ledger's unexplained: {ledger.detail}"
                )
    return navs


def _timestamp(value: timestamp_pb2.Timestamp) -> str:
    return value.ToJsonString() if value.seconds or value.nanos else ""


def _dq_issue_view(issue: dq_pb2.Issue) -> DqIssueView:
    return DqIssueView(
        kind=dq_pb2.IssueKind.Name(issue.kind),
        severity=dq_pb2.Severity.Name(issue.severity),
        status=dq_pb2.IssueStatus.Name(issue.status),
        instrument_id=issue.instrument_id,
        currency_pair=issue.currency_pair,
        mandate_id=issue.mandate_id,
        vendor=issue.vendor,
        check_id=issue.check_id,
        rule=issue.rule,
        value_date=date(issue.value_date),
        observed_value=number(issue.observed_value.value),
        reference_value=number(issue.reference_value.value),
        difference=number(issue.difference.value),
        deviation=issue.deviation,
        threshold=issue.threshold,
        stale_business_days=issue.stale_business_days,
        quarantined=issue.quarantined,
        first_seen=_timestamp(issue.first_seen),
        last_seen=_timestamp(issue.last_seen),
        detected_at=_timestamp(issue.detected_at),
        resolved_at=_timestamp(issue.resolved_at),
        resolved_by_event_id=issue.resolved_by_event_id,
        caused_by=tuple(issue.caused_by),
        statistics=tuple(sorted(issue.statistics.items())),
        unexpected_count=issue.unexpected_count,
        unexpected_sample=tuple(issue.unexpected_sample),
        message=issue.message,
    )


def _dq_entries(stub: dq_pb2_grpc.DqServiceStub, as_of: str = "") -> dict[DqSubject, DqEntryView]:
    found: dict[DqSubject, DqEntryView] = {}
    token = ""
    while True:
        request = dq_pb2.GetQuarantineRequest(page_size=PAGE, page_token=token)
        if as_of:
            request.as_of_date.CopyFrom(common_pb2.Date(**_ymd(as_of)))
        page = stub.GetQuarantine(request, timeout=RPC_TIMEOUT_S)
        for e in page.entries:
            subject = (dq_pb2.SubjectKind.Name(e.subject_kind), e.instrument_id, e.currency_pair, e.vendor)
            found[subject] = DqEntryView(
                number(e.rejected_value.value),
                date(e.rejected_date),
                number(e.last_good_value.value),
                date(e.last_good_date),
                e.issue_id,
                e.event_id,
                _timestamp(e.since),
            )
        if not (token := page.next_page_token):
            return found


def _dq_change_head(stub: dq_pb2_grpc.DqServiceStub) -> int:
    """The latest change number: what WatchIssues names when asked to resume beyond it."""
    call = stub.WatchIssues(dq_pb2.WatchIssuesRequest(after_change_seq=2**63), timeout=RPC_TIMEOUT_S)
    try:
        for change in call:
            raise AssertionError(f"dq streamed a change beyond 2**63: {change}")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.OUT_OF_RANGE:
            raise
        status = status_from_error(error)
        info = details_of(status)[1] if status is not None else None
        assert info is not None and "head" in info.metadata, error.details()
        return int(info.metadata["head"])
    raise AssertionError("dq's WatchIssues ended without refusing a cursor beyond its head")


def read_dq(address: str, days: Iterable[str], problems: list[str]) -> DqState:
    """dq's issues, its change feed (from change 2 to the head), the values rejected on each day
    end, and what is quarantined at the end."""
    state = DqState()
    with channel(address) as c:
        stub = dq_pb2_grpc.DqServiceStub(c)
        token = ""
        while True:
            page = stub.ListIssues(
                dq_pb2.ListIssuesRequest(page_size=PAGE, page_token=token), timeout=RPC_TIMEOUT_S
            )
            state.issues.update((i.issue_id, _dq_issue_view(i)) for i in page.issues)
            if not (token := page.next_page_token):
                break
        state.change_head = _dq_change_head(stub)
        if state.change_head >= 2:
            call = stub.WatchIssues(dq_pb2.WatchIssuesRequest(after_change_seq=1), timeout=RPC_TIMEOUT_S)
            try:
                for change in call:
                    state.changes[change.change_seq] = DqChangeView(
                        dq_pb2.IssueChangeKind.Name(change.kind),
                        change.issue.issue_id,
                        dq_pb2.IssueStatus.Name(change.issue.status),
                        _timestamp(change.issue.last_seen),
                    )
                    if change.change_seq >= state.change_head:
                        break
            finally:
                call.cancel()
        for day in days:
            for subject, entry in _dq_entries(stub, day).items():
                state.rejected[day, subject] = entry
        state.quarantined = _dq_entries(stub)
    numbers = sorted(int(i.removeprefix("dq-")) for i in state.issues)
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"dq's issue ids are not dq-1 .. dq-{len(numbers)} without gaps: {numbers[:20]}")
    if sorted(state.changes) != list(range(2, state.change_head + 1)):
        problems.append(f"dq's change feed is not every change from 2 to its head {state.change_head}")
    for seq, change in state.changes.items():
        if change.issue_id not in state.issues:
            problems.append(
                f"dq's change {seq} is of issue {change.issue_id}, which ListIssues does not show"
            )
    return state


def _check_dq_records(dq: DqState, records: Mapping[str, str], problems: list[str]) -> None:
    """Every issue raised (and every one resolved) is announced once in the combined event log."""
    expected = {f"{issue_id}-raised": "dq.issue.raised" for issue_id in dq.issues}
    expected.update(
        {f"{issue_id}-resolved": "dq.issue.resolved" for issue_id, i in dq.issues.items() if i.resolved_at}
    )
    missing = sorted(set(expected) - set(records), key=lambda e: int(e.split("-")[1]))
    if missing:
        problems.append(f"dq never announced in the event log: {', '.join(missing[:10])}")
    unknown = sorted(set(records) - set(expected))
    if unknown:
        problems.append(
            f"dq announced in the event log what its issues do not show: {', '.join(unknown[:10])}"
        )


def market_confirmations(market_address: str) -> tuple[int, list[market_pb2.Confirmation]]:
    """market's head seq, and every confirmation it sent up to it, in stream order."""
    found: list[market_pb2.Confirmation] = []
    with channel(market_address) as m:
        market = market_pb2_grpc.MarketServiceStub(m)
        head = market.GetClock(market_pb2.GetClockRequest(), timeout=RPC_TIMEOUT_S).head_seq
        if head == 0:
            return head, found
        call = market.StreamEvents(
            market_pb2.StreamEventsRequest(
                from_seq=1,
                filter=market_pb2.EventFilter(kinds=["trade.confirmation"]),
                max_batch_size=10_000,
            ),
            timeout=RPC_TIMEOUT_S,
        )
        try:
            for batch in call:
                found.extend(e.confirmation for e in batch.events if e.envelope.seq <= head)
                if batch.last_seq >= head:
                    break
        finally:
            call.cancel()
    return head, found


@contextlib.contextmanager
def documents_store(data_dir: Path) -> Iterator[DocumentsStore]:
    """documents' store as it is now, read-only: the service's file is copied through a read-only
    SQLite connection (its committed state, the WAL included; nothing is written to it, so this can
    be done while documents runs), and the copy opened with DocumentsStore."""
    source = data_dir / "documents" / SQLITE_FILE
    with tempfile.TemporaryDirectory(prefix="documents-store-") as folder:
        copy = Path(folder) / SQLITE_FILE
        with (
            contextlib.closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as original,
            contextlib.closing(sqlite3.connect(copy)) as target,
        ):
            original.backup(target)
        store = DocumentsStore(copy)
        try:
            yield store
        finally:
            store.close()


def documents_owed(data_dir: Path) -> tuple[int, int]:
    """(breaks documents still owes recon, records it still owes the event log), 100 at most each."""
    with documents_store(data_dir) as store:
        return len(store.breaks_owed(100)), len(store.undelivered(100))


def _document_view(confirmation_id: str, response: documents_pb2.ExtractConfirmationResponse) -> DocumentView:
    return DocumentView(
        confirmation_id=confirmation_id,
        status=documents_pb2.MatchStatus.Name(response.match.status),
        fill_id=response.match.fill_id,
        mandate_id=response.match.mandate_id,
        mismatches=tuple(
            sorted((m.field, m.document_value, m.book_value) for m in response.match.mismatches)
        ),
        rule_failures=tuple(sorted(f.rule for f in response.rule_failures)),
        layout=response.trade.layout,
    )


def read_documents(
    market_address: str, data_dir: Path, records: list[tuple[str, str]], problems: list[str]
) -> tuple[dict[str, DocumentView], dict[str, str]]:
    """What documents made of each of market's confirmations, by extraction id (the SHA-256 of the
    confirmation's text names it), and the breaks it still owes recon (extraction id -> fill); as
    problems of the run: a cursor short of market's head, a confirmation without its extraction or
    its event-log record (or with more than one record), an extraction or a record of no
    confirmation, and records still owed to the event log at the end."""
    head, confirmations = market_confirmations(market_address)
    ids = {extraction_id_of(content_sha256(c.text.encode())): c.confirmation_id for c in confirmations}
    found: dict[str, DocumentView] = {}
    with documents_store(data_dir) as store:
        cursor = store.cursor()
        if cursor != head:
            problems.append(f"documents' cursor is at seq {cursor}, market's head at {head}")
        for extraction_id, confirmation_id in ids.items():
            raw = store.extraction(extraction_id)
            if raw is None:
                problems.append(f"documents has no extraction of market's confirmation {confirmation_id}")
                continue
            found[extraction_id] = _document_view(
                confirmation_id, documents_pb2.ExtractConfirmationResponse.FromString(raw)
            )
        if (count := store.extraction_count()) != len(found):
            problems.append(
                f"documents holds {count} extractions; market sent {len(ids)} confirmations "
                f"({len(found)} of them extracted)"
            )
        owed = {
            extraction_id: recon_pb2.RaiseBreakRequest.FromString(request).fill_id
            for _, extraction_id, request in store.breaks_owed(1_000)
        }
        if undelivered := len(store.undelivered(1_000)):
            problems.append(f"documents still owes the event log {undelivered} records at the end")
    announced = Counter(event_id for event_id, _ in records)
    missing = [ids[e] for e in ids if e not in announced]
    if missing:
        problems.append(
            f"documents never announced the extraction of {len(missing)} confirmations in the event log: "
            + ", ".join(missing[:10])
        )
    twice = sorted(e for e, n in announced.items() if n > 1)
    unknown = sorted(e for e in announced if e not in ids)
    if twice or unknown:
        problems.append(
            f"documents announced in the event log {len(twice)} extractions more than once "
            f"({', '.join(twice[:5])}) and {len(unknown)} of no confirmation ({', '.join(unknown[:5])})"
        )
    return found, owed


def _ymd(day: str) -> dict[str, int]:
    parsed = dt.date.fromisoformat(day)
    return {"year": parsed.year, "month": parsed.month, "day": parsed.day}


def _records(event_log: Any, source: str) -> Iterable[Any]:
    from_seq = 1
    while batch := event_log.read(source, from_seq, 1000):
        yield from batch
        from_seq = batch[-1].seq + 1


# ---------------------------------------------------------------- comparing two runs


def _show(value: object) -> str:
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return "[" + "; ".join(_show(v) for v in value) + "]"
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


def _value_diff(expected: object, actual: object) -> str:
    fields = getattr(expected, "_fields", None)
    if fields is None or type(expected) is not type(actual):
        return f"reference {_show(expected)} | chaos {_show(actual)}"
    parts = []
    for name, a, b in zip(fields, expected, actual, strict=True):  # type: ignore[call-overload]
        if a == b:
            continue
        if isinstance(a, tuple) and isinstance(b, tuple):
            only_a = [v for v in a if v not in b]
            only_b = [v for v in b if v not in a]
            parts.append(
                f"{name}: only in reference {_show(tuple(only_a))}, only in chaos {_show(tuple(only_b))}"
                if only_a or only_b
                else f"{name}: same items, other multiplicity/order"
            )
        else:
            parts.append(f"{name}: reference {a!r}, chaos {b!r}")
    return "; ".join(parts)


def diff_maps(
    expected: Mapping[Any, Any], actual: Mapping[Any, Any], *, limit: int = 8, width: int = 900
) -> list[str]:
    """Readable lines: keys only in one run, and each differing value (its differing fields)."""
    lines = []
    for key in sorted(set(expected) | set(actual), key=str):
        if key not in actual:
            lines.append(f"  {key}: only in the reference: {_show(expected[key])}")
        elif key not in expected:
            lines.append(f"  {key}: only in the chaos run: {_show(actual[key])}")
        elif expected[key] != actual[key]:
            lines.append(f"  {key}: {_value_diff(expected[key], actual[key])}")
    lines = [line if len(line) <= width else line[: width - 3] + "..." for line in lines]
    if len(lines) > limit:
        lines = [*lines[:limit], f"  ... and {len(lines) - limit} more"]
    return lines


SECTIONS = (
    "market_events",
    "journals",
    "trial_balances",
    "breaks",
    "suspense",
    "market_navs",
    "ledger_navs",
    "reporting_navs",
    "announced",
    "announced_keys",
    "recon_records",
    "dq_issues",
    "dq_changes",
    "dq_change_head",
    "dq_rejected",
    "dq_quarantined",
    "dq_records",
    "documents_extractions",
    "documents_records",
    "documents_owed",
    "raised_records",
    "day_ends",
    "mandates",
)


def compare(expected: RunState, actual: RunState) -> dict[str, list[str]]:
    """section -> readable differences (only the sections that differ)."""
    found: dict[str, list[str]] = {}
    for section in SECTIONS:
        a, b = getattr(expected, section), getattr(actual, section)
        if isinstance(a, list):
            a, b = dict(enumerate(a)), dict(enumerate(b))
        if a != b:
            found[section] = diff_maps(a, b)
    return found
