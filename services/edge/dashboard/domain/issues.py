"""dq's open issues as WatchIssues reports them, and its quarantine, as the data quality panel shows
them: counts by severity, the newest open issues, and each value held back beside the last good one
that replaces it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

SEVERITIES = ("critical", "warning", "info")
OPEN_STATUSES = frozenset({"open", "acknowledged"})


@dataclass(frozen=True)
class IssueItem:
    issue_id: str
    kind: str  # "price spike"
    severity: str  # "critical", "warning", "info"
    status: str  # "open", "acknowledged", "resolved"
    subject: str  # the instrument, the currency pair or the mandate
    message: str
    value_date: dt.date | None
    detected_at: dt.datetime | None
    quarantined: bool
    trace_id: str

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class OpenIssues:
    """The open issues a watch has reported, by id, and the last change applied."""

    def __init__(self) -> None:
        self._items: dict[str, IssueItem] = {}
        self.last_change_seq = 0

    def reset(self) -> None:
        self._items.clear()
        self.last_change_seq = 0

    def get(self, issue_id: str) -> IssueItem | None:
        return self._items.get(issue_id)

    def apply(self, change_seq: int, item: IssueItem) -> None:
        if item.is_open:
            self._items[item.issue_id] = item
        else:
            self._items.pop(item.issue_id, None)
        self.last_change_seq = max(self.last_change_seq, change_seq)

    def items(self) -> list[IssueItem]:
        return list(self._items.values())


def severity_counts(items: Iterable[IssueItem]) -> tuple[tuple[str, int], ...]:
    """Open issues per severity, most severe first, every severity listed (0 included)."""
    counts = Counter(item.severity for item in items if item.is_open)
    return tuple((severity, counts.get(severity, 0)) for severity in SEVERITIES)


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def newest(items: Iterable[IssueItem], limit: int) -> list[IssueItem]:
    """The open issues to show: the most severe first, then the newest, then by id."""
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    ordered = sorted(
        (item for item in items if item.is_open),
        key=lambda i: (_rank(i.severity), -(i.detected_at or epoch).timestamp(), i.issue_id),
    )
    return ordered[: max(0, limit)]


@dataclass(frozen=True)
class QuarantineRow:
    """A value dq holds back (GetQuarantine's entry) and the last good value used instead."""

    subject: str  # the instrument or the currency pair
    subject_kind: str  # "price" or "fx rate"
    vendor: str
    rejected: Decimal | None
    rejected_date: dt.date | None
    last_good: Decimal | None
    last_good_date: dt.date | None
    issue_id: str
    event_id: str

    @property
    def change(self) -> Decimal | None:
        """The rejected value against the last good one, as a fraction (None without a last good)."""
        if self.rejected is None or self.last_good is None or self.last_good == 0:
            return None
        return self.rejected / self.last_good - 1
