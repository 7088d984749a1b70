"""The services' messages as the dashboard's plain records (domain/): decimals from their strings,
dates and times as datetime, enums as the words a person reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp

from opsuite.common.v1 import common_pb2
from opsuite.dq.v1 import dq_pb2
from opsuite.ledger.v1 import ledger_pb2
from opsuite.market.v1 import market_pb2
from opsuite.recon.v1 import recon_pb2
from opsuite.reporting.v1 import reporting_pb2
from services.edge.dashboard.domain.breaks import BreakItem, HistoryEntry
from services.edge.dashboard.domain.chain import ChainEntry
from services.edge.dashboard.domain.clock import ClockView
from services.edge.dashboard.domain.formatting import decimal_or_none, enum_text
from services.edge.dashboard.domain.issues import IssueItem, QuarantineRow
from services.edge.dashboard.domain.ledger import SUSPENSE_PREFIX, JournalItem, TrialBalanceView, TrialLine
from services.edge.dashboard.domain.nav import NavPoint


def date_of(value: common_pb2.Date) -> dt.date | None:
    if not value.year:
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        return None


def time_of(value: Timestamp) -> dt.datetime | None:
    if not value.seconds and not value.nanos:
        return None
    return value.ToDatetime(tzinfo=dt.UTC)


def _decimal(value: common_pb2.Decimal) -> Decimal | None:
    return decimal_or_none(value.value)


def _zero(value: common_pb2.Decimal) -> Decimal:
    return decimal_or_none(value.value) or Decimal(0)


# ---------------------------------------------------------------- market


def clock_view(clock: market_pb2.Clock) -> ClockView:
    drawn = None
    if clock.HasField("synthetic"):
        first, last = date_of(clock.synthetic.block_first), date_of(clock.synthetic.block_last)
        if first is not None and last is not None:
            drawn = (first, last)
    return ClockView(
        sim_date=date_of(clock.sim_date),
        regime=clock.regime,
        running=clock.running,
        as_fast_as_possible=clock.mode == market_pb2.CLOCK_MODE_MAX,
        business_days_per_second=clock.business_days_per_second,
        business_days_elapsed=clock.business_days_elapsed,
        start_date=date_of(clock.start_date),
        end_date=date_of(clock.end_date),
        head_seq=clock.head_seq,
        data_source=clock.data_source,
        real_data_end=date_of(clock.real_data_end),
        drawn_from=drawn,
    )


# ---------------------------------------------------------------- recon


def break_item(record: recon_pb2.Break) -> BreakItem:
    return BreakItem(
        break_id=record.break_id,
        mandate_id=record.mandate_id,
        kind=enum_text(recon_pb2.BreakKind.Name(record.kind), "BREAK_KIND_"),
        status=enum_text(recon_pb2.BreakStatus.Name(record.status), "BREAK_STATUS_"),
        comparison=enum_text(recon_pb2.Comparison.Name(record.comparison), "COMPARISON_"),
        age_business_days=record.age_business_days,
        aging_bucket=record.aging_bucket,
        escalated=record.escalated,
        escalation_reason=record.escalation_reason,
        base_amount=_decimal(record.base_amount_difference.amount),
        currency=record.currency,
        amount=_decimal(record.amount_difference.amount),
        description=record.description,
        parent_break_id=record.parent_break_id,
        first_seen=date_of(record.first_seen_date),
        instrument_id=record.instrument_id,
        suspense_amount=_decimal(record.suspense_amount.amount),
        suspense_journal_id=record.suspense_journal_id,
    )


def history_entry(action: recon_pb2.BreakAction) -> HistoryEntry:
    return HistoryEntry(
        sim_time=time_of(action.sim_time),
        kind=enum_text(recon_pb2.ActionKind.Name(action.kind), "ACTION_KIND_"),
        actor=action.actor,
        status=enum_text(recon_pb2.BreakStatus.Name(action.to_status), "BREAK_STATUS_")
        if action.to_status
        else "",
        comment=action.comment,
        journal_id=action.journal_id,
        event_id=action.event_id,
    )


def chain_entries(chain: recon_pb2.Chain) -> list[ChainEntry]:
    return [
        ChainEntry(
            source=item.record.source,
            event_id=item.record.event_id,
            kind=item.record.kind,
            sim_time=time_of(item.record.sim_time),
            trace_id=item.record.trace_id,
            caused_by=tuple(item.record.caused_by),
            mandate_id=item.record.mandate_id,
            description=item.description,
            break_ids=tuple(item.break_ids),
        )
        for item in chain.records
    ]


# ---------------------------------------------------------------- reporting


def history_point(point: reporting_pb2.NavPoint, first: bool) -> NavPoint:
    """A GetNavHistory point; the first day end has no daily return (reporting sends 0 for it)."""
    return NavPoint(
        date=date_of(point.date) or dt.date.min,
        nav=_zero(point.nav.amount),
        nav_per_unit=_zero(point.nav_per_unit.amount),
        daily_return=None if first else point.daily_return,
        benchmark_daily_return=None if first else point.benchmark_daily_return,
        cumulative_return=point.cumulative_return,
        benchmark_cumulative_return=point.benchmark_cumulative_return,
        provisional=point.uses_quarantined_prices,
    )


def change_point(change: reporting_pb2.NavChange) -> NavPoint:
    return NavPoint(
        date=date_of(change.as_of_date) or dt.date.min,
        nav=_zero(change.nav.nav.amount),
        nav_per_unit=_zero(change.nav.nav_per_unit.amount),
        daily_return=change.daily_return if change.HasField("daily_return") else None,
        benchmark_daily_return=(
            change.benchmark_daily_return if change.HasField("benchmark_daily_return") else None
        ),
        provisional=change.uses_quarantined_prices,
        return_ytd=change.return_ytd if change.HasField("return_ytd") else None,
    )


# ---------------------------------------------------------------- dq


def issue_item(issue: dq_pb2.Issue) -> IssueItem:
    return IssueItem(
        issue_id=issue.issue_id,
        kind=enum_text(dq_pb2.IssueKind.Name(issue.kind), "ISSUE_KIND_"),
        severity=enum_text(dq_pb2.Severity.Name(issue.severity), "SEVERITY_"),
        status=enum_text(dq_pb2.IssueStatus.Name(issue.status), "ISSUE_STATUS_"),
        subject=issue.instrument_id or issue.currency_pair or issue.mandate_id,
        message=issue.message,
        value_date=date_of(issue.value_date),
        detected_at=time_of(issue.detected_at),
        quarantined=issue.quarantined,
        trace_id=issue.trace_id,
    )


def quarantine_row(entry: dq_pb2.QuarantineEntry) -> QuarantineRow:
    return QuarantineRow(
        subject=entry.instrument_id or entry.currency_pair,
        subject_kind=enum_text(dq_pb2.SubjectKind.Name(entry.subject_kind), "SUBJECT_KIND_"),
        vendor=entry.vendor,
        rejected=_decimal(entry.rejected_value),
        rejected_date=date_of(entry.rejected_date),
        last_good=_decimal(entry.last_good_value) if entry.HasField("last_good_value") else None,
        last_good_date=date_of(entry.last_good_date),
        issue_id=entry.issue_id,
        event_id=entry.event_id,
    )


# ---------------------------------------------------------------- ledger


def trial_balance_view(balance: ledger_pb2.TrialBalance) -> TrialBalanceView:
    return TrialBalanceView(
        mandate_id=balance.mandate_id,
        base_currency=balance.base_currency,
        as_of=date_of(balance.as_of),
        lines=tuple(
            TrialLine(
                account=line.account,
                currency=line.currency,
                debit=_zero(line.debit_total.amount),
                credit=_zero(line.credit_total.amount),
                balance=_zero(line.balance.amount),
                base_balance=_zero(line.base_balance.amount),
                quantity=_decimal(line.quantity),
            )
            for line in balance.lines
        ),
        base_debit=_zero(balance.base_totals.debit_total.amount),
        base_credit=_zero(balance.base_totals.credit_total.amount),
        balanced=balance.balanced,
        journal_count=balance.journal_count,
        posting_count=balance.posting_count,
        ledger_seq=balance.as_of_ledger_seq,
    )


def journal_item(journal: ledger_pb2.Journal) -> JournalItem:
    legs = [p for p in journal.postings if p.account.startswith(SUSPENSE_PREFIX)]
    total = sum((_zero(p.amount.amount) for p in legs), Decimal(0))
    return JournalItem(
        journal_id=journal.journal_id,
        ledger_seq=journal.ledger_seq,
        mandate_id=journal.mandate_id,
        kind=enum_text(ledger_pb2.JournalKind.Name(journal.kind), "JOURNAL_KIND_"),
        effective_date=date_of(journal.effective_date),
        memo=journal.memo,
        posted_by=journal.posted_by,
        suspense_amount=total,
        currency=legs[0].amount.currency if legs else "",
        caused_by=tuple(journal.caused_by),
    )
