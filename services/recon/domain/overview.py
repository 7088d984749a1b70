"""GetReconciliation's rule: where each mandate stands, from the latest runs, open breaks and timing items.

A mandate is listed when anything is known about it (a run, an open break or a timing item);
its open breaks are counted per aging bucket and base currency, and the escalated ones
counted apart. The overview is as of the latest run's date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from services.recon.domain.aging import AgingConfig, bucket_counts
from services.recon.domain.records import Break, BucketCount, CheckRun, TimingItem


@dataclass(frozen=True, slots=True)
class MandateOverview:
    mandate_id: str
    latest_runs: tuple[CheckRun, ...]
    open_breaks: tuple[Break, ...]
    timing_items: tuple[TimingItem, ...]
    buckets: tuple[BucketCount, ...]
    escalated_count: int


@dataclass(frozen=True, slots=True)
class Overview:
    as_of_date: dt.date | None  # the latest run's; None before any run
    mandates: tuple[MandateOverview, ...]  # by mandate id


def overview(
    runs: Iterable[CheckRun],
    open_breaks: Iterable[Break],
    timing_items: Iterable[TimingItem],
    aging: AgingConfig,
) -> Overview:
    """Per mandate, in the order given: its runs, open breaks (with bucket counts) and timing items."""
    runs, open_breaks, timing_items = tuple(runs), tuple(open_breaks), tuple(timing_items)
    mandate_ids = sorted(
        {r.mandate_id for r in runs}
        | {b.mandate_id for b in open_breaks}
        | {t.mandate_id for t in timing_items}
    )
    mandates = []
    for mandate_id in mandate_ids:
        breaks = tuple(b for b in open_breaks if b.mandate_id == mandate_id)
        mandates.append(
            MandateOverview(
                mandate_id=mandate_id,
                latest_runs=tuple(r for r in runs if r.mandate_id == mandate_id),
                open_breaks=breaks,
                timing_items=tuple(t for t in timing_items if t.mandate_id == mandate_id),
                buckets=bucket_counts(breaks, aging),
                escalated_count=sum(1 for b in breaks if b.escalated),
            )
        )
    as_of = max((r.as_of_date for r in runs), default=None)
    return Overview(as_of_date=as_of, mandates=tuple(mandates))
