"""The issue lifecycle's records: an Issue, its Evidence, an IssueChange, a QuarantineEntry."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from services.dq.domain.results import IssueKind, Severity, SubjectKind

EVIDENCE_KEPT = 10


class IssueStatus(enum.StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class ChangeKind(enum.StrEnum):
    RAISED = "RAISED"
    UPDATED = "UPDATED"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One failing evaluation behind an issue."""

    value_date: dt.date
    observed: Decimal | None
    reference: Decimal | None
    deviation: float
    message: str
    caused_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """One data quality problem. The figures (observed ... unexpected_sample) are the latest
    failing result's (CheckResult names them; unexpected_sample is its sample of failing rows, each as one line
    of key=value pairs);
    evidence holds the last EVIDENCE_KEPT failing results, oldest first; occurrences counts them
    all. resolved_at / resolved_by: None and "" while open."""

    issue_id: str
    check_id: str
    kind: IssueKind
    severity: Severity
    status: IssueStatus
    subject: str
    subject_kind: SubjectKind
    vendor: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    value_date: dt.date
    observed: Decimal | None
    reference: Decimal | None
    deviation: float
    threshold: float
    stale_business_days: int
    message: str
    caused_by: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    rule: str = ""
    statistics: Mapping[str, float] = field(default_factory=dict)
    unexpected_count: int = 0
    unexpected_sample: tuple[str, ...] = ()
    occurrences: int = 1
    quarantined: bool = False
    acknowledged: bool = False
    resolved_at: dt.datetime | None = None
    resolved_by: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.check_id, self.subject, self.vendor)


@dataclass(frozen=True, slots=True)
class IssueChange:
    change_seq: int
    kind: ChangeKind
    issue: Issue


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """A value held back, and what replaces it (last_good_*: None when nothing passed before)."""

    subject_kind: SubjectKind
    subject: str
    vendor: str
    rejected_value: Decimal
    rejected_date: dt.date
    last_good_value: Decimal | None
    last_good_date: dt.date | None
    issue_ids: tuple[str, ...]
    event_id: str
    since: dt.datetime
