"""The issue lifecycle and the quarantine, pure: CheckResults in, IssueChanges out.

An issue is keyed by (check_id, subject, vendor). A failing result opens one ("dq-<n>", RAISED)
or updates the open one (UPDATED: last_seen, the latest figures, the evidence); a passing result
for the same key resolves it by itself (RESOLVED, resolved_at, resolved_by = the passing
result's event). A passing result with no vendor (holdings checks, which name the feed that looks
wrong only when they fail) resolves the open issues of its check and subject whatever their
vendor. acknowledge() marks an open issue seen (UPDATED). Every change has a change_seq, one
more than the last, for a watch stream to resume from. Resolved issues leave the book with their
RESOLVED change (the service keeps the history).

The quarantine: a value that fails a critical price or FX check is held back, per (subject,
vendor), with the last good value that replaces it: the last value of that subject and vendor that
passed its checks and was not itself quarantined. It is released when every issue that
quarantined it has resolved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from services.dq.domain.issue_json import entry_from_json, entry_to_json, issue_from_json, issue_to_json
from services.dq.domain.issue_records import (
    EVIDENCE_KEPT,
    ChangeKind,
    Evidence,
    Issue,
    IssueChange,
    IssueStatus,
    QuarantineEntry,
)
from services.dq.domain.results import CheckResult, Family, row_text

# The records live in issue_records.py; they are named here too, as the lifecycle's vocabulary.
__all__ = [
    "EVIDENCE_KEPT",
    "ChangeKind",
    "Evidence",
    "Issue",
    "IssueBook",
    "IssueChange",
    "IssueStatus",
    "QuarantineEntry",
    "entry_from_json",
    "entry_to_json",
    "issue_from_json",
    "issue_to_json",
]

GOOD_KEPT = 3


class IssueBook:
    def __init__(self) -> None:
        self._open: dict[tuple[str, str, str], Issue] = {}
        self._next_id = 1
        self._change_seq = 0
        self._quarantine: dict[tuple[str, str], QuarantineEntry] = {}
        self._good: dict[tuple[str, str], list[tuple[Decimal, dt.date]]] = {}

    # ------------------------------------------------------------ changes

    def apply_all(self, results: Iterable[CheckResult], at: dt.datetime) -> list[IssueChange]:
        return [change for result in results for change in self.apply(result, at)]

    def apply(self, result: CheckResult, at: dt.datetime) -> list[IssueChange]:
        """The changes one result makes (none when it passes with nothing open)."""
        if result.success:
            self._note_good(result)
            return [self._resolve(issue, result, at) for issue in self._matching_open(result)]
        key = (result.check_id, result.subject, result.vendor)
        evidence = Evidence(
            result.value_date,
            result.observed,
            result.reference,
            result.deviation,
            result.message,
            result.caused_by,
        )
        existing = self._open.get(key)
        if existing is None:
            issue = Issue(
                issue_id=f"dq-{self._next_id}",
                check_id=result.check_id,
                kind=result.kind,
                severity=result.severity,
                status=IssueStatus.OPEN,
                subject=result.subject,
                subject_kind=result.subject_kind,
                vendor=result.vendor,
                first_seen=at,
                last_seen=at,
                value_date=result.value_date,
                observed=result.observed,
                reference=result.reference,
                deviation=result.deviation,
                threshold=result.threshold,
                stale_business_days=result.stale_business_days,
                message=result.message,
                caused_by=result.caused_by,
                evidence=(evidence,),
                rule=result.rule,
                statistics=result.statistics,
                unexpected_count=result.unexpected_count,
                unexpected_sample=tuple(row_text(row) for row in result.sample),
                quarantined=result.quarantine,
            )
            self._next_id += 1
            kind = ChangeKind.RAISED
        else:
            issue = replace(
                existing,
                severity=result.severity,
                last_seen=at,
                value_date=result.value_date,
                observed=result.observed,
                reference=result.reference,
                deviation=result.deviation,
                threshold=result.threshold,
                stale_business_days=result.stale_business_days,
                message=result.message,
                caused_by=result.caused_by,
                evidence=(*existing.evidence, evidence)[-EVIDENCE_KEPT:],
                statistics=result.statistics,
                unexpected_count=result.unexpected_count,
                unexpected_sample=tuple(row_text(row) for row in result.sample),
                occurrences=existing.occurrences + 1,
                quarantined=existing.quarantined or result.quarantine,
            )
            kind = ChangeKind.UPDATED
        self._open[key] = issue
        if result.quarantine and result.observed is not None:
            self._hold(result, issue.issue_id, at)
        return [self._change(kind, issue)]

    def acknowledge(self, issue_id: str) -> IssueChange:
        """Marks an open issue seen; KeyError naming the id when no open issue has it."""
        for key, issue in self._open.items():
            if issue.issue_id == issue_id:
                acknowledged = replace(issue, acknowledged=True)
                self._open[key] = acknowledged
                return self._change(ChangeKind.UPDATED, acknowledged)
        raise KeyError(f"no open issue {issue_id!r}")

    def _matching_open(self, result: CheckResult) -> list[Issue]:
        if result.vendor:
            found = self._open.get((result.check_id, result.subject, result.vendor))
            return [found] if found is not None else []
        return [
            i for i in self._open.values() if i.check_id == result.check_id and i.subject == result.subject
        ]

    def _resolve(self, issue: Issue, result: CheckResult, at: dt.datetime) -> IssueChange:
        del self._open[issue.key]
        resolved = replace(
            issue,
            status=IssueStatus.RESOLVED,
            resolved_at=at,
            resolved_by=result.caused_by[0] if result.caused_by else "",
            quarantined=False,
        )
        self._release(issue)
        return self._change(ChangeKind.RESOLVED, resolved)

    def _change(self, kind: ChangeKind, issue: Issue) -> IssueChange:
        self._change_seq += 1
        return IssueChange(self._change_seq, kind, issue)

    # ------------------------------------------------------------ quarantine and last good values

    def _note_good(self, result: CheckResult) -> None:
        if result.observed is None or result.family not in (Family.PRICE, Family.FX):
            return
        key = (result.subject, result.vendor)
        held = self._quarantine.get(key)
        if (
            held is not None
            and held.rejected_date == result.value_date
            and held.rejected_value == result.observed
        ):
            return  # another check already rejected this very value
        kept = self._good.get(key)
        if kept and kept[-1][1] <= result.value_date:
            # Results come in date order, every check of a price on its day: the day's value is the
            # last kept (replaced), or a later day's is appended. Dates are kept unique and sorted.
            if kept[-1][1] == result.value_date:
                kept[-1] = (result.observed, result.value_date)
            else:
                kept.append((result.observed, result.value_date))
                del kept[:-GOOD_KEPT]
            return
        good = [(v, d) for v, d in self._good.get(key, []) if d != result.value_date]
        good.append((result.observed, result.value_date))
        good.sort(key=lambda entry: entry[1])
        self._good[key] = good[-GOOD_KEPT:]

    def _hold(self, result: CheckResult, issue_id: str, at: dt.datetime) -> None:
        assert result.observed is not None
        key = (result.subject, result.vendor)
        good = [(v, d) for v, d in self._good.get(key, []) if d < result.value_date]
        self._good[key] = good
        last_value, last_date = good[-1] if good else (None, None)
        held = self._quarantine.get(key)
        issue_ids = tuple(sorted({*(held.issue_ids if held else ()), issue_id}))
        self._quarantine[key] = QuarantineEntry(
            subject_kind=result.subject_kind,
            subject=result.subject,
            vendor=result.vendor,
            rejected_value=result.observed,
            rejected_date=result.value_date,
            last_good_value=last_value,
            last_good_date=last_date,
            issue_ids=issue_ids,
            event_id=result.caused_by[0] if result.caused_by else "",
            since=held.since if held is not None and held.rejected_date == result.value_date else at,
        )

    def _release(self, issue: Issue) -> None:
        key = (issue.subject, issue.vendor)
        held = self._quarantine.get(key)
        if held is None or issue.issue_id not in held.issue_ids:
            return
        remaining = tuple(i for i in held.issue_ids if i != issue.issue_id)
        if remaining:
            self._quarantine[key] = replace(held, issue_ids=remaining)
        else:
            del self._quarantine[key]

    # ------------------------------------------------------------ views

    @property
    def change_seq(self) -> int:
        return self._change_seq

    def open_issues(self) -> tuple[Issue, ...]:
        return tuple(sorted(self._open.values(), key=lambda i: int(i.issue_id.removeprefix("dq-"))))

    def get(self, issue_id: str) -> Issue | None:
        return next((i for i in self._open.values() if i.issue_id == issue_id), None)

    def quarantine(self) -> tuple[QuarantineEntry, ...]:
        return tuple(self._quarantine[key] for key in sorted(self._quarantine))

    def is_quarantined(self, subject: str, vendor: str) -> bool:
        return (subject, vendor) in self._quarantine

    def last_good(self, subject: str, vendor: str) -> tuple[Decimal, dt.date] | None:
        good = self._good.get((subject, vendor))
        return good[-1] if good else None

    # ------------------------------------------------------------ state

    def to_json(self) -> dict[str, Any]:
        return {
            "next_id": self._next_id,
            "change_seq": self._change_seq,
            "open": [issue_to_json(i) for i in self.open_issues()],
            "quarantine": [entry_to_json(e) for e in self.quarantine()],
            "good": [
                [subject, vendor, [[str(v), d.isoformat()] for v, d in good]]
                for (subject, vendor), good in sorted(self._good.items())
            ],
        }

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> IssueBook:
        book = cls()
        book._next_id = int(data["next_id"])
        book._change_seq = int(data["change_seq"])
        for raw in data["open"]:
            issue = issue_from_json(raw)
            book._open[issue.key] = issue
        for raw in data["quarantine"]:
            entry = entry_from_json(raw)
            book._quarantine[(entry.subject, entry.vendor)] = entry
        for subject, vendor, good in data["good"]:
            book._good[(subject, vendor)] = [(Decimal(v), dt.date.fromisoformat(d)) for v, d in good]
        return book
