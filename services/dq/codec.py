"""dq's records <-> protobuf (opsuite.dq.v1).

Enum members map by name: the domain's IssueKind.PRICE_SPIKE is the proto's ISSUE_KIND_PRICE_SPIKE,
Severity.CRITICAL is SEVERITY_CRITICAL. Prices and rates travel exactly as dq saw them.
"""

from __future__ import annotations

from opsuite.dq.v1 import dq_pb2
from services.common.convert import date_to_proto, decimal_to_proto, timestamp_to_proto
from services.dq.domain.config import Check
from services.dq.domain.issues import ChangeKind, Issue, IssueChange, IssueStatus, QuarantineEntry
from services.dq.domain.results import CheckResult, IssueKind, Severity, SubjectKind


def kind_to_proto(kind: IssueKind) -> dq_pb2.IssueKind.ValueType:
    return dq_pb2.IssueKind.Value(f"ISSUE_KIND_{kind.name}")


def severity_to_proto(severity: Severity) -> dq_pb2.Severity.ValueType:
    return dq_pb2.Severity.Value(f"SEVERITY_{severity.name}")


def status_to_proto(issue: Issue) -> dq_pb2.IssueStatus.ValueType:
    if issue.status is IssueStatus.RESOLVED:
        return dq_pb2.ISSUE_STATUS_RESOLVED
    return dq_pb2.ISSUE_STATUS_ACKNOWLEDGED if issue.acknowledged else dq_pb2.ISSUE_STATUS_OPEN


def subject_kind_to_proto(kind: SubjectKind) -> dq_pb2.SubjectKind.ValueType:
    return dq_pb2.SUBJECT_KIND_FX_RATE if kind is SubjectKind.CURRENCY_PAIR else dq_pb2.SUBJECT_KIND_PRICE


def issue_to_proto(issue: Issue, trace_id: str = "") -> dq_pb2.Issue:
    message = dq_pb2.Issue(
        issue_id=issue.issue_id,
        kind=kind_to_proto(issue.kind),
        severity=severity_to_proto(issue.severity),
        status=status_to_proto(issue),
        instrument_id=issue.subject if issue.subject_kind is SubjectKind.INSTRUMENT else "",
        currency_pair=issue.subject if issue.subject_kind is SubjectKind.CURRENCY_PAIR else "",
        mandate_id=issue.subject if issue.subject_kind is SubjectKind.MANDATE else "",
        vendor=issue.vendor,
        deviation=issue.deviation,
        threshold=issue.threshold,
        stale_business_days=issue.stale_business_days,
        value_date=date_to_proto(issue.value_date),
        detected_at=timestamp_to_proto(issue.first_seen),
        quarantined=issue.quarantined,
        caused_by=list(issue.caused_by),
        message=issue.message,
        check_id=issue.check_id,
        rule=issue.rule,
        first_seen=timestamp_to_proto(issue.first_seen),
        last_seen=timestamp_to_proto(issue.last_seen),
        statistics=dict(issue.statistics),
        unexpected_count=issue.unexpected_count,
        unexpected_sample=list(issue.unexpected_sample),
        trace_id=trace_id,
    )
    if issue.observed is not None:
        message.observed_value.CopyFrom(decimal_to_proto(issue.observed))
    if issue.reference is not None:
        message.reference_value.CopyFrom(decimal_to_proto(issue.reference))
    if issue.observed is not None and issue.reference is not None:
        message.difference.CopyFrom(decimal_to_proto(issue.observed - issue.reference))
    if issue.resolved_at is not None:
        message.resolved_at.CopyFrom(timestamp_to_proto(issue.resolved_at))
        message.resolved_by_event_id = issue.resolved_by
    return message


def result_to_proto(result: CheckResult) -> dq_pb2.Issue:
    """A failing result as the issue it would raise (CheckPrices: nothing recorded, so no id)."""
    message = dq_pb2.Issue(
        kind=kind_to_proto(result.kind),
        severity=severity_to_proto(result.severity),
        status=dq_pb2.ISSUE_STATUS_OPEN,
        instrument_id=result.instrument_id,
        currency_pair=result.currency_pair,
        mandate_id=result.mandate_id,
        vendor=result.vendor,
        deviation=result.deviation,
        threshold=result.threshold,
        stale_business_days=result.stale_business_days,
        value_date=date_to_proto(result.value_date),
        quarantined=result.quarantine,
        caused_by=list(result.caused_by),
        message=result.message,
        check_id=result.check_id,
        rule=result.rule,
        statistics=dict(result.statistics),
        unexpected_count=result.unexpected_count,
    )
    if result.observed is not None:
        message.observed_value.CopyFrom(decimal_to_proto(result.observed))
    if result.reference is not None:
        message.reference_value.CopyFrom(decimal_to_proto(result.reference))
    if result.difference is not None:
        message.difference.CopyFrom(decimal_to_proto(result.difference))
    return message


CHANGE_KINDS = {
    ChangeKind.RAISED: dq_pb2.ISSUE_CHANGE_KIND_RAISED,
    ChangeKind.UPDATED: dq_pb2.ISSUE_CHANGE_KIND_UPDATED,
    ChangeKind.RESOLVED: dq_pb2.ISSUE_CHANGE_KIND_RESOLVED,
}


def change_to_proto(change: IssueChange, trace_id: str = "") -> dq_pb2.IssueChange:
    return dq_pb2.IssueChange(
        change_seq=change.change_seq,
        kind=CHANGE_KINDS[change.kind],
        issue=issue_to_proto(change.issue, trace_id),
    )


def current_to_proto(change_seq: int, issue: Issue, trace_id: str = "") -> dq_pb2.IssueChange:
    return dq_pb2.IssueChange(
        change_seq=change_seq, kind=dq_pb2.ISSUE_CHANGE_KIND_CURRENT, issue=issue_to_proto(issue, trace_id)
    )


def entry_to_proto(entry: QuarantineEntry) -> dq_pb2.QuarantineEntry:
    message = dq_pb2.QuarantineEntry(
        subject_kind=subject_kind_to_proto(entry.subject_kind),
        instrument_id=entry.subject if entry.subject_kind is SubjectKind.INSTRUMENT else "",
        currency_pair=entry.subject if entry.subject_kind is SubjectKind.CURRENCY_PAIR else "",
        vendor=entry.vendor,
        rejected_value=decimal_to_proto(entry.rejected_value),
        rejected_date=date_to_proto(entry.rejected_date),
        issue_id=entry.issue_ids[0] if entry.issue_ids else "",
        event_id=entry.event_id,
        since=timestamp_to_proto(entry.since),
    )
    if entry.last_good_value is not None:
        message.last_good_value.CopyFrom(decimal_to_proto(entry.last_good_value))
    if entry.last_good_date is not None:
        message.last_good_date.CopyFrom(date_to_proto(entry.last_good_date))
    return message


def check_to_proto(check: Check) -> dq_pb2.Check:
    return dq_pb2.Check(
        check_id=check.check_id,
        family=check.family.value,
        rule=check.rule,
        severity=severity_to_proto(check.severity),
        description=check.description,
        thresholds=dict(check.thresholds),
        subject=", ".join(f"{key}={value}" for key, value in sorted(check.subject.items())),
    )
