"""Open breaks as recon's WatchBreaks reports them, and what the breaks panel shows of them: counts
by mandate and aging bucket, counts by kind, and the items to work, oldest first.

`OpenBreaks` is the book a watch keeps: every change replaces the break it names, and a break that
is no longer open (resolved, written off) leaves it. A child break (one grouped under the
trade-level break that explains it) is counted, and shown under its parent rather than as an item
of its own, as recon's `ListBreaks(top_level_only)` lists the items to work.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

OPEN_STATUSES = frozenset({"open", "investigating"})


@dataclass(frozen=True)
class BreakItem:
    """One break as the dashboard shows it. Amounts are None where recon sends none (a price
    mismatch has no base amount until it settles; a confirmation mismatch has none at all)."""

    break_id: str
    mandate_id: str
    kind: str  # "price mismatch"
    status: str  # "open", "investigating", "resolved", "written off"
    comparison: str  # "book vs custodian"
    age_business_days: int
    aging_bucket: str  # "4-7", as recon's configuration labels it
    escalated: bool
    escalation_reason: str
    base_amount: Decimal | None  # the difference in the mandate's base currency
    currency: str  # the break's own currency
    amount: Decimal | None  # the difference in `currency`
    description: str
    parent_break_id: str
    first_seen: dt.date | None
    instrument_id: str
    suspense_amount: Decimal | None
    suspense_journal_id: str

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class HistoryEntry:
    """One action of a break's history (GetBreak), as its page lists it."""

    sim_time: dt.datetime | None
    kind: str  # "opened", "aged", "posted to suspense"
    actor: str
    status: str  # the status it left the break in
    comment: str
    journal_id: str
    event_id: str


class OpenBreaks:
    """The open breaks a watch has reported, by id, and the last change applied."""

    def __init__(self) -> None:
        self._items: dict[str, BreakItem] = {}
        self.last_change_seq = 0

    def reset(self) -> None:
        self._items.clear()
        self.last_change_seq = 0

    def apply(self, change_seq: int, item: BreakItem) -> None:
        """A change of one break: kept while open, dropped once closed."""
        if item.is_open:
            self._items[item.break_id] = item
        else:
            self._items.pop(item.break_id, None)
        self.last_change_seq = max(self.last_change_seq, change_seq)

    def items(self) -> list[BreakItem]:
        return list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)


_LEADING_NUMBER = re.compile(r"\d+")


def bucket_key(label: str) -> tuple[int, str]:
    """Buckets in age order by the number they start with ("0-1" < "2-3" < "8+"); others last."""
    found = _LEADING_NUMBER.match(label)
    return (int(found.group()) if found else 1 << 30, label)


@dataclass(frozen=True)
class MandateCounts:
    """One mandate's open breaks: how many in each bucket (in the summary's bucket order), the items
    to work among them, and how many are escalated."""

    mandate_id: str
    by_bucket: tuple[int, ...]
    total: int
    top_level: int
    escalated: int


@dataclass(frozen=True)
class KindCount:
    kind: str
    total: int
    top_level: int
    escalated: int


@dataclass(frozen=True)
class BreakRow:
    """A top-level open break in the table, with how many children are grouped under it."""

    item: BreakItem
    children: int


@dataclass(frozen=True)
class BreakSummary:
    buckets: tuple[str, ...]
    by_mandate: tuple[MandateCounts, ...]
    bucket_totals: tuple[int, ...]
    by_kind: tuple[KindCount, ...]
    rows: tuple[BreakRow, ...]  # at most the limit asked for
    total: int  # every open break, children included
    top_level: int  # the items to work
    escalated: int

    @property
    def rows_left_out(self) -> int:
        return self.top_level - len(self.rows)


def _row_order(item: BreakItem) -> tuple[int, Decimal, str]:
    # Oldest first, then the largest difference in base currency, then by id (stable).
    size = abs(item.base_amount) if item.base_amount is not None else Decimal(0)
    return (-item.age_business_days, -size, item.break_id)


def summarize(items: Iterable[BreakItem], *, limit: int = 25, buckets: Sequence[str] = ()) -> BreakSummary:
    """The panel's figures. `buckets` are labels always shown (the configured ones seen so far),
    besides those the open breaks carry."""
    open_items = [item for item in items if item.is_open]
    labels = tuple(
        sorted({*buckets, *(i.aging_bucket for i in open_items if i.aging_bucket)}, key=bucket_key)
    )
    open_ids = {item.break_id for item in open_items}
    # A child whose parent is not open (or not known) is an item of its own.
    top = [item for item in open_items if not item.parent_break_id or item.parent_break_id not in open_ids]
    top_ids = {item.break_id for item in top}
    children = Counter(item.parent_break_id for item in open_items if item.break_id not in top_ids)

    by_mandate = []
    for mandate_id in sorted({item.mandate_id for item in open_items}):
        mine = [item for item in open_items if item.mandate_id == mandate_id]
        counts = Counter(item.aging_bucket for item in mine)
        by_mandate.append(
            MandateCounts(
                mandate_id=mandate_id,
                by_bucket=tuple(counts.get(label, 0) for label in labels),
                total=len(mine),
                top_level=sum(1 for item in mine if item.break_id in top_ids),
                escalated=sum(1 for item in mine if item.escalated),
            )
        )
    bucket_counts = Counter(item.aging_bucket for item in open_items)
    kinds = []
    for kind in sorted({item.kind for item in open_items}):
        mine = [item for item in open_items if item.kind == kind]
        kinds.append(
            KindCount(
                kind=kind,
                total=len(mine),
                top_level=sum(1 for item in mine if item.break_id in top_ids),
                escalated=sum(1 for item in mine if item.escalated),
            )
        )
    kinds.sort(key=lambda k: (-k.total, k.kind))
    rows = tuple(BreakRow(item, children.get(item.break_id, 0)) for item in sorted(top, key=_row_order))
    return BreakSummary(
        buckets=labels,
        by_mandate=tuple(by_mandate),
        bucket_totals=tuple(bucket_counts.get(label, 0) for label in labels),
        by_kind=tuple(kinds),
        rows=rows[: max(0, limit)],
        total=len(open_items),
        top_level=len(top),
        escalated=sum(1 for item in open_items if item.escalated),
    )
