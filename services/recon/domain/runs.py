"""Check-run summaries: what one run compared per mandate and comparison, and what it found."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from services.recon.domain.breaks import Advanced
from services.recon.domain.reconcile import Counts
from services.recon.domain.records import CheckRun, Comparison, Difference, Outcome, RunContext


def counts_of(
    differences: Iterable[Difference], matched_exactly: Mapping[str, int] | None = None
) -> dict[str, Counts]:
    """Counts per mandate from materialised differences (trade checks), plus exact matches per mandate."""
    tally: dict[str, dict[Outcome, int]] = {}
    for mandate, count in (matched_exactly or {}).items():
        tally.setdefault(mandate, {})[Outcome.MATCHED] = count
    for d in differences:
        per = tally.setdefault(d.mandate_id, {})
        per[d.outcome] = per.get(d.outcome, 0) + 1
    return {
        mandate: Counts(
            compared=sum(per.values()),
            matched=per.get(Outcome.MATCHED, 0) + per.get(Outcome.WITHIN_TOLERANCE, 0),
            within_tolerance=per.get(Outcome.WITHIN_TOLERANCE, 0),
            timing=per.get(Outcome.TIMING, 0),
            breaks=per.get(Outcome.BREAK, 0),
        )
        for mandate, per in tally.items()
    }


def add(a: Counts, b: Counts) -> Counts:
    return Counts(
        a.compared + b.compared,
        a.matched + b.matched,
        a.within_tolerance + b.within_tolerance,
        a.timing + b.timing,
        a.breaks + b.breaks,
    )


def check_runs(
    run: RunContext,
    counts: Mapping[tuple[str, Comparison], Counts],
    advanced: Advanced,
    finished_at: dt.datetime,
) -> tuple[CheckRun, ...]:
    """One CheckRun per (mandate, comparison) counted, with the breaks this run opened and resolved."""
    opened: dict[tuple[str, Comparison], int] = {}
    resolved: dict[tuple[str, Comparison], int] = {}
    for brk in advanced.opened:
        opened[brk.mandate_id, brk.comparison] = opened.get((brk.mandate_id, brk.comparison), 0) + 1
    for brk in advanced.resolved:
        resolved[brk.mandate_id, brk.comparison] = resolved.get((brk.mandate_id, brk.comparison), 0) + 1
    return tuple(
        CheckRun(
            run_id=run.run_id,
            mandate_id=mandate,
            comparison=comparison,
            as_of_date=run.as_of_date,
            as_of_seq=run.as_of_seq,
            trigger=run.trigger,
            started_at=run.at,
            finished_at=finished_at,
            compared_count=c.compared,
            matched_count=c.matched,
            matched_within_tolerance_count=c.within_tolerance,
            unmatched_count=c.unmatched,
            timing_item_count=c.timing,
            breaks_opened=opened.get((mandate, comparison), 0),
            breaks_resolved=resolved.get((mandate, comparison), 0),
            trace_id=run.trace_id,
        )
        for (mandate, comparison), c in sorted(counts.items())
    )
