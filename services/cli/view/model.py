"""What the live view shows, read out of the services' replies: plain rows, no rendering, no I/O.

Amounts stay Decimal from the wire's decimal strings to the screen; the renderers in
view_panels.py only format them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from opsuite.dq.v1 import dq_pb2
from opsuite.ledger.v1 import ledger_pb2
from opsuite.recon.v1 import recon_pb2
from opsuite.reporting.v1 import reporting_pb2

CASH_PREFIX = "Assets:Cash:"
SUSPENSE_PREFIX = "Assets:Suspense:"
OPEN_STATUSES = (recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING)


def date_text(d: Any) -> str:
    """A common.v1.Date as ISO text; "-" for the unset (all-zero) date."""
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else "-"


def drawn_from(clock: Any) -> tuple[str, str] | None:
    """For a clock (market_pb2.Clock) whose day is synthetic, the first and last days of the real
    block it was drawn from, as ISO text; None for a real day (or a market that does not say)."""
    if not clock.HasField("synthetic"):
        return None
    return date_text(clock.synthetic.block_first), date_text(clock.synthetic.block_last)


def decimal(value: str) -> Decimal:
    return Decimal(value) if value else Decimal(0)


def kind_text(kind: recon_pb2.BreakKind.ValueType) -> str:
    """BREAK_KIND_SETTLEMENT_DATE_MISMATCH -> "settlement date": the suffix only costs width."""
    name = recon_pb2.BreakKind.Name(kind).removeprefix("BREAK_KIND_").removesuffix("_MISMATCH")
    return name.lower().replace("_", " ")


def uptime_text(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, minutes, secs = rest // 3600, rest % 3600 // 60, rest % 60
    return f"{days:,}d{hours:02d}h{minutes:02d}m{secs:02d}s" if days else f"{hours}h{minutes:02d}m{secs:02d}s"


# ---------------------------------------------------------------- ledger


@dataclass(frozen=True)
class CashRow:
    """One mandate's cash in one currency beside what sits in suspense in that currency."""

    mandate_id: str
    currency: str
    cash: Decimal
    suspense: Decimal
    journals: int
    postings: int
    balanced: bool


def cash_rows(balance: ledger_pb2.TrialBalance) -> list[CashRow]:
    """A row per currency the mandate holds cash or suspense in (at least one, in its base currency)."""
    cash: dict[str, Decimal] = {}
    suspense: dict[str, Decimal] = {}
    for line in balance.lines:
        if line.account.startswith(CASH_PREFIX):
            book = cash
        elif line.account.startswith(SUSPENSE_PREFIX):
            book = suspense
        else:
            continue
        book[line.currency] = book.get(line.currency, Decimal(0)) + decimal(line.balance.amount.value)
    currencies = sorted(cash.keys() | suspense.keys(), key=lambda c: (c != balance.base_currency, c))
    return [
        CashRow(
            mandate_id=balance.mandate_id,
            currency=currency,
            cash=cash.get(currency, Decimal(0)),
            suspense=suspense.get(currency, Decimal(0)),
            journals=balance.journal_count,
            postings=balance.posting_count,
            balanced=balance.balanced,
        )
        for currency in currencies or [balance.base_currency]
    ]


# ---------------------------------------------------------------- recon


@dataclass(frozen=True)
class KindRow:
    """Open breaks of one kind: how many in each aging bucket, how many escalated, which mandates."""

    kind: str
    by_bucket: dict[str, int]
    open: int
    escalated: int
    mandates: tuple[str, ...]


@dataclass(frozen=True)
class Escalation:
    break_id: str
    mandate_id: str
    kind: str
    age_business_days: int
    base_amount: Decimal
    base_currency: str
    reason: str


@dataclass(frozen=True)
class ReconSummary:
    as_of: str
    buckets: tuple[str, ...]  # recon's configured labels, youngest first
    kinds: tuple[KindRow, ...]  # the most open first
    open: int
    escalated: int
    timing_items: int
    escalations: tuple[Escalation, ...] = field(default=())  # the oldest escalated items to work


def _bucket_labels(mandates: Iterable[recon_pb2.MandateReconciliation]) -> tuple[str, ...]:
    labels: list[str] = []
    for mandate in mandates:
        for bucket in mandate.buckets:
            if bucket.bucket not in labels:
                labels.append(bucket.bucket)
    return tuple(labels)


def recon_summary(
    reconciliation: recon_pb2.Reconciliation, escalated: Sequence[recon_pb2.Break] = ()
) -> ReconSummary:
    """Open breaks by kind and aging bucket over every mandate, with the escalated items to work."""
    buckets = _bucket_labels(reconciliation.mandates)
    counts: dict[str, Counter[str]] = {}
    escalated_by_kind: Counter[str] = Counter()
    mandates_by_kind: dict[str, set[str]] = {}
    for mandate in reconciliation.mandates:
        for brk in mandate.open_breaks:
            kind = kind_text(brk.kind)
            counts.setdefault(kind, Counter())[brk.aging_bucket] += 1
            escalated_by_kind[kind] += brk.escalated
            mandates_by_kind.setdefault(kind, set()).add(brk.mandate_id)
    rows = [
        KindRow(
            kind=kind,
            by_bucket={label: by_bucket[label] for label in buckets},
            open=sum(by_bucket.values()),
            escalated=escalated_by_kind[kind],
            mandates=tuple(sorted(mandates_by_kind[kind])),
        )
        for kind, by_bucket in counts.items()
    ]
    rows.sort(key=lambda row: (-row.open, row.kind))
    return ReconSummary(
        as_of=date_text(reconciliation.as_of_date),
        buckets=buckets,
        kinds=tuple(rows),
        open=sum(row.open for row in rows),
        escalated=sum(m.escalated_count for m in reconciliation.mandates),
        timing_items=sum(len(m.timing_items) for m in reconciliation.mandates),
        escalations=tuple(
            Escalation(
                break_id=brk.break_id,
                mandate_id=brk.mandate_id,
                kind=kind_text(brk.kind),
                age_business_days=brk.age_business_days,
                base_amount=decimal(brk.base_amount_difference.amount.value),
                base_currency=brk.base_amount_difference.currency,
                reason=brk.escalation_reason,
            )
            for brk in escalated
        ),
    )


# ---------------------------------------------------------------- reporting


@dataclass(frozen=True)
class NavRow:
    """One mandate's latest NAV as reporting values it, beside that day's return and the year's.

    Returns are fractions as reporting sends them (analytics travel as double); None where there
    is no figure to show: before reporting has valued a day end of the mandate, or a day return
    not fetched yet.
    """

    mandate_id: str
    nav_date: str  # ISO text; "-" before the first valued day end
    nav: Decimal | None
    currency: str
    nav_per_unit: Decimal | None
    day_return: float | None
    ytd_return: float | None


@dataclass(frozen=True)
class NavBoard:
    """reporting's panel: a row per mandate, or (`absent`) why reporting has nothing to show."""

    rows: tuple[NavRow, ...] = ()
    absent: str = ""  # "not answering at 127.0.0.1:50053", "not built in this release"; "" once it answered


def nav_row(summary: reporting_pb2.MandateSummary, day_return: float | None) -> NavRow:
    """A mandate as ListMandates lists it, with the day return of its NAV date (from GetNavHistory)."""
    # A mandate not valued yet comes without nav_date, and its zeros (nav, return_ytd) mean nothing.
    valued = summary.HasField("nav_date")
    return NavRow(
        mandate_id=summary.mandate_id,
        nav_date=date_text(summary.nav_date),
        nav=decimal(summary.nav.amount.value) if valued else None,
        currency=summary.nav.currency or summary.base_currency,
        nav_per_unit=decimal(summary.nav_per_unit.amount.value) if valued else None,
        day_return=day_return if valued else None,
        ytd_return=summary.return_ytd if valued else None,
    )


# ---------------------------------------------------------------- dq


@dataclass(frozen=True)
class HeldBackRow:
    """A value dq holds back (quarantine), beside the last good value downstream uses instead."""

    subject: str  # an instrument, or a currency pair
    vendor: str
    rejected: Decimal
    rejected_date: str
    last_good: Decimal | None  # None: nothing of it has passed yet
    last_good_date: str
    issue_id: str


@dataclass(frozen=True)
class DqBoard:
    """dq's panel: open issues by severity and what is held back, or (`absent`) why there is nothing."""

    as_of: str = "-"  # the last business day dq has checked; "-" before the first
    health: str = ""  # "ok", "degraded" or "critical", as dq says it
    open_by_severity: tuple[tuple[str, int], ...] = ()  # (severity, open issues), worst first
    open: int = 0
    held_back: int = 0  # how many values are held back (more than `rows` when the page was cut)
    rows: tuple[HeldBackRow, ...] = ()
    absent: str = ""  # "not answering at 127.0.0.1:50054", "not built in this release"; "" once it answered


DQ_SEVERITIES = (
    ("critical", dq_pb2.SEVERITY_CRITICAL),
    ("warning", dq_pb2.SEVERITY_WARNING),
    ("info", dq_pb2.SEVERITY_INFO),
)


def dq_board(status: dq_pb2.DqStatus, entries: Sequence[dq_pb2.QuarantineEntry]) -> DqBoard:
    """dq's GetStatus and the entries of GetQuarantine (what is held back now), as the panel shows them."""
    counts = {entry.severity: entry.count for entry in status.open_by_severity}
    return DqBoard(
        as_of=date_text(status.as_of_date),
        health=status.health,
        open_by_severity=tuple((name, counts.get(number, 0)) for name, number in DQ_SEVERITIES),
        open=status.open_issue_count,
        held_back=max(status.quarantined_count, len(entries)),
        rows=tuple(
            HeldBackRow(
                subject=entry.instrument_id or entry.currency_pair,
                vendor=entry.vendor,
                rejected=decimal(entry.rejected_value.value),
                rejected_date=date_text(entry.rejected_date),
                last_good=decimal(entry.last_good_value.value) if entry.HasField("last_good_value") else None,
                last_good_date=date_text(entry.last_good_date),
                issue_id=entry.issue_id,
            )
            for entry in entries
        ),
    )


# ---------------------------------------------------------------- services


@dataclass(frozen=True)
class ServiceRow:
    """One service as the view shows it: its process (under `opsuite up`) and what GetStatus says."""

    name: str
    address: str
    state: str
    restarts: int | None = None  # None when the view supervises nothing (opsuite view)
    pid: int | None = None
    lag: int | None = None
    simulated_date: str = "-"
    uptime: str = "-"


def _health_state(health: str, status: Any | None) -> str:
    if health == "SERVING":
        return "serving"
    reason = status.not_serving_reason if status is not None else ""
    text = health.lower().replace("_", " ")
    return f"{text}: {reason}" if reason else text


def service_row(
    name: str,
    address: str,
    health: str | None,
    status: Any | None,  # common.v1.ServiceStatus; None when GetStatus did not answer
    *,
    supervised_state: str | None = None,
    restarts: int | None = None,
    pid: int | None = None,
) -> ServiceRow:
    """A service's row; under `opsuite up` the supervisor's state of its process leads, else its health."""
    if supervised_state is None:
        state = _health_state(health, status) if health is not None else "-"
    elif supervised_state == "running" and health not in (None, "SERVING"):
        state = f"running, {_health_state(health, status)}"  # e.g. catching up after a restart
    else:
        state = supervised_state
    return ServiceRow(
        name=name,
        address=address,
        state=state,
        restarts=restarts,
        pid=pid,
        lag=status.lag if status is not None else None,
        simulated_date=(
            date_text(status.simulated_date)
            if status is not None and status.HasField("simulated_date")
            else "-"
        ),
        uptime=uptime_text(status.uptime.seconds) if status is not None else "-",
    )


# ---------------------------------------------------------------- market


@dataclass(frozen=True)
class PriceRow:
    symbol: str
    price: Decimal
    currency: str


@dataclass(frozen=True)
class FillRow:
    trade_date: str
    mandate_id: str
    side: str
    quantity: Decimal
    symbol: str
    price: Decimal


# ---------------------------------------------------------------- the whole screen


@dataclass(frozen=True)
class ViewState:
    """Everything one frame of the view shows; None where a service is not in the suite (or not heard from)."""

    clock: Any | None  # market_pb2.Clock
    events_per_second: float
    done: bool
    prices: tuple[PriceRow, ...]
    fills: tuple[FillRow, ...]  # newest first
    fill_count: int
    cash: tuple[CashRow, ...] | None
    recon: ReconSummary | None
    services: tuple[ServiceRow, ...]
    not_built: tuple[str, ...]
    supervised: bool  # under `opsuite up` (restarts and pids), or attached by `opsuite view`
    reporting: NavBoard | None = None  # None: no reporting panel at all (a caller that does not say)
    dq: DqBoard | None = None  # None: no dq panel at all
