"""dq's replies as plain rows: what `opsuite dq` and its subcommands print, as a table or JSON.

One conversion for every subcommand, so an issue reads the same everywhere, in the values every
command writes (services/cli/wire.py). Analytics (deviation, threshold, statistics) stay the
floats dq sends; prices and differences stay its decimal strings.
"""

from __future__ import annotations

from typing import Any

from opsuite.dq.v1 import dq_pb2
from services.cli.wire import date_text, decimal_text, short_names, time_text

Row = dict[str, Any]

KIND_NAMES = short_names(dq_pb2.IssueKind, "ISSUE_KIND_")
SEVERITY_NAMES = short_names(dq_pb2.Severity, "SEVERITY_")
STATUS_NAMES = short_names(dq_pb2.IssueStatus, "ISSUE_STATUS_")
SUBJECT_KIND_NAMES = short_names(dq_pb2.SubjectKind, "SUBJECT_KIND_")
# Worst first, as the status and the view count them.
SEVERITY_ORDER = ("critical", "warning", "info")


def issue_number(issue_id: str) -> int | None:
    """dq-12 -> 12; None for an id of another shape. dq numbers its issues as it raises them."""
    prefix, _, number = issue_id.partition("-")
    return int(number) if prefix == "dq" and number.isdigit() else None


def subject_of(issue: dq_pb2.Issue) -> tuple[str, str]:
    """(what the issue is about, which kind of subject): an instrument, a currency pair, a mandate."""
    for kind, value in (
        ("instrument", issue.instrument_id),
        ("currency_pair", issue.currency_pair),
        ("mandate", issue.mandate_id),
    ):
        if value:
            return value, kind
    return "", ""


def issue_row(issue: dq_pb2.Issue) -> Row:
    """Every field of an issue a person or a script may want, by the names the commands print."""
    subject, subject_kind = subject_of(issue)
    return {
        "id": issue.issue_id,
        "kind": KIND_NAMES.get(issue.kind, ""),
        "severity": SEVERITY_NAMES.get(issue.severity, ""),
        "status": STATUS_NAMES.get(issue.status, ""),
        "subject": subject,
        "subject_kind": subject_kind,
        "vendor": issue.vendor,
        "value_date": date_text(issue.value_date),
        "message": issue.message,
        "check_id": issue.check_id,
        "rule": issue.rule,
        "observed": decimal_text(issue.observed_value),
        "reference": decimal_text(issue.reference_value),
        "difference": decimal_text(issue.difference),
        "deviation": issue.deviation,
        "threshold": issue.threshold,
        "stale_business_days": issue.stale_business_days,
        "statistics": dict(sorted(issue.statistics.items())),
        "unexpected_count": issue.unexpected_count,
        "unexpected_sample": list(issue.unexpected_sample),
        "quarantined": issue.quarantined,
        "detected_at": time_text(issue.detected_at),
        "first_seen": time_text(issue.first_seen),
        "last_seen": time_text(issue.last_seen),
        "resolved_at": time_text(issue.resolved_at),
        "resolved_by_event_id": issue.resolved_by_event_id,
        "caused_by": list(issue.caused_by),
        "trace_id": issue.trace_id,
    }


def newest_first(rows: list[Row]) -> list[Row]:
    """Issues newest first, as ListIssues pages them (by the number dq raised them in)."""
    return sorted(rows, key=lambda row: -(issue_number(row["id"]) or 0))


def status_row(status: dq_pb2.DqStatus) -> Row:
    by_severity = {name: 0 for name in SEVERITY_ORDER}
    for entry in status.open_by_severity:
        name = SEVERITY_NAMES.get(entry.severity)
        if name is not None:
            by_severity[name] = entry.count
    return {
        "as_of_date": date_text(status.as_of_date),
        "health": status.health,
        "applied_seq": status.applied_seq,
        "head_seq": status.head_seq,
        "open_issues": status.open_issue_count,
        "open_by_severity": by_severity,
        "quarantined": status.quarantined_count,
        "checks": [
            {
                "check": check.check,
                "checked": check.checked_count,
                "failed": check.failed_count,
                "open_issues": check.open_issue_count,
                "last_checked_at": time_text(check.last_checked_at),
            }
            for check in status.checks
        ],
    }


def check_row(check: dq_pb2.Check) -> Row:
    return {
        "id": check.check_id,
        "family": check.family,
        "rule": check.rule,
        "severity": SEVERITY_NAMES.get(check.severity, ""),
        "thresholds": dict(sorted(check.thresholds.items())),
        "subject": check.subject,
        "description": check.description,
    }


def entry_row(entry: dq_pb2.QuarantineEntry) -> Row:
    return {
        "subject": entry.instrument_id or entry.currency_pair,
        "subject_kind": SUBJECT_KIND_NAMES.get(entry.subject_kind, ""),
        "vendor": entry.vendor,
        "rejected_value": decimal_text(entry.rejected_value),
        "rejected_date": date_text(entry.rejected_date),
        "last_good_value": decimal_text(entry.last_good_value) if entry.HasField("last_good_value") else None,
        "last_good_date": date_text(entry.last_good_date),
        "issue_id": entry.issue_id,
        "event_id": entry.event_id,
        "since": time_text(entry.since),
    }
