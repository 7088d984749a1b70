"""recon's records <-> protobuf (opsuite.recon.v1), with the request checks that belong to translation.

Enum members map by name: the domain's BreakKind.QUANTITY_MISMATCH is the proto's
BREAK_KIND_QUANTITY_MISMATCH. Amounts travel exactly as the domain holds them (never rounded).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from opsuite.common.v1 import common_pb2
from opsuite.recon.v1 import recon_pb2
from services.common.convert import date_to_proto, decimal_to_proto, money_to_proto, timestamp_to_proto
from services.common.enums import enum_from_proto, enum_to_proto
from services.common.eventlog.records import LogRecord
from services.recon.domain.overview import Overview
from services.recon.domain.records import (
    ActionKind,
    Break,
    BreakAction,
    BreakKind,
    BreakStatus,
    BucketCount,
    CheckRun,
    Comparison,
    Scope,
    TimingItem,
)
from services.recon.store.base import BreakChange, ChangeKind

E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True, slots=True)
class Lineage:
    """A break's path from the tick that caused it to the ledger: what the lineage callable returns.

    records: the combined event log's records of the chain, in order (market tick and fill,
    custodian message, the break's creation and aging, the suspense journal).
    """

    caused_by: tuple[str, ...]
    trace_id: str
    records: tuple[LogRecord, ...] = ()


def break_kind_to_proto(kind: BreakKind) -> recon_pb2.BreakKind.ValueType:
    return enum_to_proto(recon_pb2.BreakKind, "BREAK_KIND_", kind)


def break_kind_from_proto(value: int, field: str) -> BreakKind:
    return enum_from_proto(recon_pb2.BreakKind, "BREAK_KIND_", BreakKind, value, field)


def status_to_proto(status: BreakStatus) -> recon_pb2.BreakStatus.ValueType:
    return enum_to_proto(recon_pb2.BreakStatus, "BREAK_STATUS_", status)


def status_from_proto(value: int, field: str) -> BreakStatus:
    return enum_from_proto(recon_pb2.BreakStatus, "BREAK_STATUS_", BreakStatus, value, field)


def comparison_to_proto(comparison: Comparison) -> recon_pb2.Comparison.ValueType:
    return enum_to_proto(recon_pb2.Comparison, "COMPARISON_", comparison)


def comparison_from_proto(value: int, field: str) -> Comparison:
    return enum_from_proto(recon_pb2.Comparison, "COMPARISON_", Comparison, value, field)


def scope_to_proto(scope: Scope) -> recon_pb2.Scope.ValueType:
    return enum_to_proto(recon_pb2.Scope, "SCOPE_", scope)


def action_kind_to_proto(kind: ActionKind) -> recon_pb2.ActionKind.ValueType:
    return enum_to_proto(recon_pb2.ActionKind, "ACTION_KIND_", kind)


def change_kind_to_proto(kind: ChangeKind) -> recon_pb2.ChangeKind.ValueType:
    return enum_to_proto(recon_pb2.ChangeKind, "CHANGE_KIND_", kind)


def _decimal(value: Decimal | None) -> common_pb2.Decimal | None:
    return None if value is None else decimal_to_proto(value)


def _money(value: Decimal | None, currency: str) -> common_pb2.Money | None:
    return None if value is None else money_to_proto(value, currency)


def _date(value: dt.date | None) -> common_pb2.Date | None:
    return None if value is None else date_to_proto(value)


def break_to_proto(brk: Break) -> recon_pb2.Break:
    """Unknown figures (None) stay unset fields, so a client can tell 'unknown' from zero."""
    return recon_pb2.Break(
        break_id=brk.break_id,
        mandate_id=brk.mandate_id,
        kind=break_kind_to_proto(brk.kind),
        status=status_to_proto(brk.status),
        comparison=comparison_to_proto(brk.comparison),
        scope=scope_to_proto(brk.scope),
        instrument_id=brk.instrument_id,
        currency=brk.currency,
        fill_id=brk.fill_id,
        custodian_refs=brk.custodian_refs,
        ledger_account=brk.ledger_account,
        book_quantity=_decimal(brk.book_quantity),
        other_quantity=_decimal(brk.other_quantity),
        quantity_difference=_decimal(brk.quantity_difference),
        book_amount=_money(brk.book_amount, brk.currency),
        other_amount=_money(brk.other_amount, brk.currency),
        amount_difference=_money(brk.amount_difference, brk.currency),
        base_amount_difference=_money(brk.base_amount_difference, brk.base_currency),
        book_date=_date(brk.book_date),
        other_date=_date(brk.other_date),
        tolerance_absolute=_decimal(brk.tolerance_absolute),
        tolerance_relative=_decimal(brk.tolerance_relative),
        first_seen_date=date_to_proto(brk.first_seen_date),
        last_seen_date=date_to_proto(brk.last_seen_date),
        age_business_days=brk.age_business_days,
        aging_bucket=brk.aging_bucket,
        escalated=brk.escalated,
        escalation_reason=brk.escalation_reason,
        assignee=brk.assignee,
        opened_at=timestamp_to_proto(brk.opened_at),
        updated_at=timestamp_to_proto(brk.updated_at),
        resolved_at=None if brk.resolved_at is None else timestamp_to_proto(brk.resolved_at),
        resolved_by_event_id=brk.resolved_by_event_id,
        suspense_journal_id=brk.suspense_journal_id,
        caused_by=brk.caused_by,
        trace_id=brk.trace_id,
        opened_in_run_id=brk.opened_in_run_id,
        last_run_id=brk.last_run_id,
        description=brk.description,
        parent_break_id=brk.parent_break_id,
        cash_flow_id=brk.cash_flow_id,
        suspense_amount=_money(brk.suspense_amount, brk.currency),
        suspense_version=brk.suspense_version,
        write_off_journal_id=brk.write_off_journal_id,
    )


def action_to_proto(action: BreakAction, currency: str = "") -> recon_pb2.BreakAction:
    """currency: the break's (a suspense or write-off action's amount is in it)."""
    return recon_pb2.BreakAction(
        action_id=action.action_id,
        break_id=action.break_id,
        kind=action_kind_to_proto(action.kind),
        actor=action.actor,
        at=timestamp_to_proto(action.at),
        sim_time=timestamp_to_proto(action.sim_time),
        from_status=status_to_proto(action.from_status),
        to_status=status_to_proto(action.to_status),
        assignee=action.assignee,
        comment=action.comment,
        journal_id=action.journal_id,
        amount=_money(action.amount, currency),
    )


def run_to_proto(run: CheckRun) -> recon_pb2.CheckRun:
    return recon_pb2.CheckRun(
        run_id=run.run_id,
        mandate_id=run.mandate_id,
        comparison=comparison_to_proto(run.comparison),
        as_of_date=date_to_proto(run.as_of_date),
        as_of_seq=run.as_of_seq,
        trigger=run.trigger,
        started_at=timestamp_to_proto(run.started_at),
        finished_at=timestamp_to_proto(run.finished_at),
        compared_count=run.compared_count,
        matched_count=run.matched_count,
        matched_within_tolerance_count=run.matched_within_tolerance_count,
        unmatched_count=run.unmatched_count,
        timing_item_count=run.timing_item_count,
        breaks_opened=run.breaks_opened,
        breaks_resolved=run.breaks_resolved,
        trace_id=run.trace_id,
    )


def timing_item_to_proto(item: TimingItem) -> recon_pb2.TimingItem:
    return recon_pb2.TimingItem(
        item_id=item.item_id,
        mandate_id=item.mandate_id,
        comparison=comparison_to_proto(item.comparison),
        scope=scope_to_proto(item.scope),
        instrument_id=item.instrument_id,
        currency=item.currency,
        fill_id=item.fill_id,
        quantity_difference=_decimal(item.quantity_difference),
        amount_difference=_money(item.amount_difference, item.currency),
        expected_settle_date=_date(item.expected_settle_date),
        grace_until=_date(item.grace_until),
        caused_by=item.caused_by,
    )


def bucket_to_proto(bucket: BucketCount) -> recon_pb2.BucketCount:
    return recon_pb2.BucketCount(
        bucket=bucket.bucket,
        count=bucket.count,
        base_amount=money_to_proto(bucket.base_amount, bucket.currency),
    )


def change_to_proto(change: BreakChange) -> recon_pb2.BreakChange:
    return recon_pb2.BreakChange(
        change_seq=change.change_seq,
        kind=change_kind_to_proto(change.kind),
        record=break_to_proto(change.record),
        action=None if change.action is None else action_to_proto(change.action, change.record.currency),
    )


def log_record_to_proto(record: LogRecord) -> common_pb2.LogRecord:
    return common_pb2.LogRecord(
        source=record.source,
        seq=record.seq,
        event_id=record.event_id,
        kind=record.kind,
        sim_time=timestamp_to_proto(record.sim_time),
        trace_id=record.trace_id,
        caused_by=record.caused_by,
        mandate_id=record.mandate_id,
        summary=record.summary,
    )


def lineage_to_proto(lineage: Lineage) -> recon_pb2.BreakLineage:
    return recon_pb2.BreakLineage(
        caused_by=lineage.caused_by,
        trace_id=lineage.trace_id,
        records=[log_record_to_proto(r) for r in lineage.records],
    )


def detail_to_proto(brk: Break, history: Sequence[BreakAction], lineage: Lineage) -> recon_pb2.BreakDetail:
    return recon_pb2.BreakDetail(
        record=break_to_proto(brk),
        lineage=lineage_to_proto(lineage),
        history=[action_to_proto(a, brk.currency) for a in history],
    )


def overview_to_proto(standing: Overview) -> recon_pb2.Reconciliation:
    message = recon_pb2.Reconciliation(
        mandates=[
            recon_pb2.MandateReconciliation(
                mandate_id=m.mandate_id,
                latest_runs=[run_to_proto(r) for r in m.latest_runs],
                open_breaks=[break_to_proto(b) for b in m.open_breaks],
                timing_items=[timing_item_to_proto(t) for t in m.timing_items],
                buckets=[bucket_to_proto(c) for c in m.buckets],
                escalated_count=m.escalated_count,
            )
            for m in standing.mandates
        ]
    )
    if standing.as_of_date is not None:
        message.as_of_date.CopyFrom(date_to_proto(standing.as_of_date))
    return message
