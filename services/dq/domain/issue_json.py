"""IssueBook's records as plain JSON values and back (Decimal as strings, dates ISO 8601)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from services.dq.domain.issue_records import Evidence, Issue, IssueStatus, QuarantineEntry
from services.dq.domain.results import IssueKind, Severity, SubjectKind


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def issue_to_json(issue: Issue) -> dict[str, Any]:
    return {
        "issue_id": issue.issue_id,
        "check_id": issue.check_id,
        "kind": issue.kind.value,
        "severity": issue.severity.value,
        "status": issue.status.value,
        "subject": issue.subject,
        "subject_kind": issue.subject_kind.value,
        "vendor": issue.vendor,
        "first_seen": issue.first_seen.isoformat(),
        "last_seen": issue.last_seen.isoformat(),
        "value_date": issue.value_date.isoformat(),
        "observed": _dec(issue.observed),
        "reference": _dec(issue.reference),
        "deviation": issue.deviation,
        "threshold": issue.threshold,
        "stale_business_days": issue.stale_business_days,
        "message": issue.message,
        "caused_by": list(issue.caused_by),
        "evidence": [
            [
                e.value_date.isoformat(),
                _dec(e.observed),
                _dec(e.reference),
                e.deviation,
                e.message,
                list(e.caused_by),
            ]
            for e in issue.evidence
        ],
        "rule": issue.rule,
        "statistics": dict(issue.statistics),
        "unexpected_count": issue.unexpected_count,
        "unexpected_sample": list(issue.unexpected_sample),
        "occurrences": issue.occurrences,
        "quarantined": issue.quarantined,
        "acknowledged": issue.acknowledged,
        "resolved_at": issue.resolved_at.isoformat() if issue.resolved_at is not None else None,
        "resolved_by": issue.resolved_by,
    }


def issue_from_json(raw: Mapping[str, Any]) -> Issue:
    return Issue(
        issue_id=raw["issue_id"],
        check_id=raw["check_id"],
        kind=IssueKind(raw["kind"]),
        severity=Severity(raw["severity"]),
        status=IssueStatus(raw["status"]),
        subject=raw["subject"],
        subject_kind=SubjectKind(raw["subject_kind"]),
        vendor=raw["vendor"],
        first_seen=dt.datetime.fromisoformat(raw["first_seen"]),
        last_seen=dt.datetime.fromisoformat(raw["last_seen"]),
        value_date=dt.date.fromisoformat(raw["value_date"]),
        observed=_undec(raw["observed"]),
        reference=_undec(raw["reference"]),
        deviation=float(raw["deviation"]),
        threshold=float(raw["threshold"]),
        stale_business_days=int(raw["stale_business_days"]),
        message=raw["message"],
        caused_by=tuple(raw["caused_by"]),
        evidence=tuple(
            Evidence(dt.date.fromisoformat(d), _undec(o), _undec(r), float(x), m, tuple(c))
            for d, o, r, x, m, c in raw["evidence"]
        ),
        rule=raw["rule"],
        statistics={k: float(v) for k, v in raw["statistics"].items()},
        unexpected_count=int(raw["unexpected_count"]),
        unexpected_sample=tuple(str(row) for row in raw["unexpected_sample"]),
        occurrences=int(raw["occurrences"]),
        quarantined=bool(raw["quarantined"]),
        acknowledged=bool(raw["acknowledged"]),
        resolved_at=dt.datetime.fromisoformat(raw["resolved_at"]) if raw.get("resolved_at") else None,
        resolved_by=raw.get("resolved_by", ""),
    )


def entry_to_json(entry: QuarantineEntry) -> dict[str, Any]:
    return {
        "subject_kind": entry.subject_kind.value,
        "subject": entry.subject,
        "vendor": entry.vendor,
        "rejected_value": str(entry.rejected_value),
        "rejected_date": entry.rejected_date.isoformat(),
        "last_good_value": _dec(entry.last_good_value),
        "last_good_date": entry.last_good_date.isoformat() if entry.last_good_date else None,
        "issue_ids": list(entry.issue_ids),
        "event_id": entry.event_id,
        "since": entry.since.isoformat(),
    }


def entry_from_json(raw: Mapping[str, Any]) -> QuarantineEntry:
    return QuarantineEntry(
        subject_kind=SubjectKind(raw["subject_kind"]),
        subject=raw["subject"],
        vendor=raw["vendor"],
        rejected_value=Decimal(raw["rejected_value"]),
        rejected_date=dt.date.fromisoformat(raw["rejected_date"]),
        last_good_value=_undec(raw["last_good_value"]),
        last_good_date=dt.date.fromisoformat(raw["last_good_date"]) if raw["last_good_date"] else None,
        issue_ids=tuple(raw["issue_ids"]),
        event_id=raw["event_id"],
        since=dt.datetime.fromisoformat(raw["since"]),
    )
