"""What recon writes to the combined event log about its breaks (domain/log_entries.py), from records
built by hand: which actions are logged under which kind, the words of each summary, and what is skipped."""

from __future__ import annotations

import dataclasses
import datetime as dt

from services.recon.domain.breaks import Advanced
from services.recon.domain.log_entries import LogEntry, log_records
from services.recon.domain.records import (
    ActionKind,
    Break,
    BreakAction,
    BreakKind,
    BreakStatus,
    Comparison,
    Scope,
)
from tests.recon.builders import M

DAY = dt.date(2024, 3, 13)
SIM = dt.datetime(2024, 3, 13, 21, 0, tzinfo=dt.UTC)
AT = dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.UTC)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def brk(break_id: str, **changes: object) -> Break:
    record = Break(
        break_id=break_id,
        item_key=f"BOOK_VS_CUSTODIAN|POSITION|{M}||AAPL",
        generation=1,
        mandate_id=M,
        kind=BreakKind.QUANTITY_MISMATCH,
        status=BreakStatus.OPEN,
        comparison=Comparison.BOOK_VS_CUSTODIAN,
        scope=Scope.POSITION,
        first_seen_date=DAY,
        last_seen_date=DAY,
        opened_at=SIM,
        updated_at=SIM,
        opened_in_run_id="RUN-1",
        last_run_id="RUN-1",
        instrument_id="AAPL",
        caused_by=("mkt-7", "cus-9"),
        trace_id=TRACE,
        description="AAPL: book 100 vs custodian 90",
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def action(break_id: str, kind: ActionKind) -> BreakAction:
    return BreakAction(
        f"ACT-{break_id}-{kind.value}", break_id, kind, "recon", AT, SIM, BreakStatus.OPEN, BreakStatus.OPEN
    )


def advanced(breaks: list[Break], actions: list[BreakAction]) -> Advanced:
    return Advanced(tuple(breaks), tuple(actions), (), (), tuple(breaks))


def test_every_logged_kind_has_its_own_words_and_carries_the_breaks_trace_and_lineage() -> None:
    opened = brk("BRK-1")
    reopened = brk("BRK-2", generation=2, kind=BreakKind.CASH_MISMATCH, description="USD cash: off by 5")
    aged = brk("BRK-3", aging_bucket="2-3", age_business_days=2)
    escalated = brk("BRK-4", escalation_reason="age 6 business days passed the SLA of 5")
    resolved = brk("BRK-5", status=BreakStatus.RESOLVED, mandate_id="EQ-EUR")
    entries = log_records(
        advanced(
            [opened, reopened, aged, escalated, resolved],
            [
                action("BRK-1", ActionKind.OPENED),
                action("BRK-2", ActionKind.REOPENED),
                action("BRK-3", ActionKind.AGED),
                action("BRK-4", ActionKind.ESCALATED),
                action("BRK-5", ActionKind.AUTO_RESOLVED),
            ],
        ),
        DAY,
        SIM,
    )
    assert [(e.event_id, e.kind, e.summary) for e in entries] == [
        ("rec-BRK-1-opened-2024-03-13", "break.opened",
         "break BRK-1 opened: quantity_mismatch, AAPL: book 100 vs custodian 90"),
        # a new generation of a break is logged as an opening, under the new break's id
        ("rec-BRK-2-opened-2024-03-13", "break.opened", "break BRK-2 opened: cash_mismatch, USD cash: off by 5"),
        ("rec-BRK-3-aged-2024-03-13", "break.aged", "break BRK-3 aged into bucket 2-3 (2 business days)"),
        ("rec-BRK-4-escalated-2024-03-13", "break.escalated",
         "break BRK-4 escalated: age 6 business days passed the SLA of 5"),
        ("rec-BRK-5-resolved-2024-03-13", "break.resolved", "break BRK-5 resolved: the difference went away"),
    ]  # fmt: skip
    # Each entry carries the break's own trace (its span links the log to the trace), its causes and
    # its mandate, at the check's simulated time.
    assert entries[0] == LogEntry(
        event_id="rec-BRK-1-opened-2024-03-13",
        kind="break.opened",
        sim_time=SIM,
        trace_id=TRACE,
        caused_by=("mkt-7", "cus-9"),
        mandate_id=M,
        summary="break BRK-1 opened: quantity_mismatch, AAPL: book 100 vs custodian 90",
    )
    assert [e.mandate_id for e in entries] == [M, M, M, M, "EQ-EUR"]
    assert all(e.trace_id == TRACE and e.sim_time == SIM for e in entries)


def test_manual_actions_and_actions_of_unchanged_breaks_are_skipped_without_ending_the_log() -> None:
    """Skipped actions come first, so a log that stopped at the first skipped one would lose the rest."""
    commented = brk("BRK-1")
    aged = brk("BRK-2", aging_bucket="4-7", age_business_days=4)
    entries = log_records(
        advanced(
            [commented, aged],
            [
                # a person's comment on a break that changed: not an event-log matter
                action("BRK-1", ActionKind.COMMENTED),
                # an opening of a break not among the changed records: nothing to name
                action("BRK-9", ActionKind.OPENED),
                action("BRK-2", ActionKind.AGED),
            ],
        ),
        DAY,
        SIM,
    )
    assert [(e.kind, e.summary) for e in entries] == [
        ("break.aged", "break BRK-2 aged into bucket 4-7 (4 business days)")
    ]
