"""recon's records: enum values are the proto names without their prefix (the codec maps them by
name), which statuses are open, the run context's defaults and coverage, and what an omitted field of
a record means (empty text, no figure, no lineage)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from decimal import Decimal

import pytest

from services.recon.domain.records import (
    RECON_ACTOR,
    ActionKind,
    Break,
    BreakAction,
    BreakKind,
    BreakStatus,
    Comparison,
    Coverage,
    Difference,
    ItemKey,
    Outcome,
    PendingSettlement,
    RunContext,
    Scope,
    TimingItem,
)

AT = dt.datetime(2024, 3, 8, 23, 59, tzinfo=dt.UTC)
DAY = dt.date(2024, 3, 8)


@pytest.mark.parametrize("kind", [Comparison, Scope, BreakKind, BreakStatus, Outcome, ActionKind])
def test_enum_values_are_their_names(kind: type[enum.StrEnum]) -> None:
    assert [member.value for member in kind] == [member.name for member in kind]


def test_the_enums_hold_the_proto_members() -> None:
    assert [c.name for c in Comparison] == [
        "BOOK_VS_CUSTODIAN",
        "BOOK_VS_LEDGER",
        "CONFIRMATION_VS_BOOK",
        "LEDGER_VS_CUSTODIAN",
    ]
    assert [s.name for s in Scope] == ["POSITION", "CASH", "TRADE", "CASH_FLOW"]
    assert [s for s in Scope if s.is_item] == [Scope.TRADE, Scope.CASH_FLOW]
    assert [o.name for o in Outcome] == ["MATCHED", "WITHIN_TOLERANCE", "TIMING", "BREAK"]
    assert [s.name for s in BreakStatus] == ["OPEN", "INVESTIGATING", "RESOLVED", "WRITTEN_OFF"]
    assert len(BreakKind) == 10 and len(ActionKind) == 12


def test_open_and_investigating_are_the_open_statuses() -> None:
    assert [s for s in BreakStatus if s.is_open] == [BreakStatus.OPEN, BreakStatus.INVESTIGATING]
    assert RECON_ACTOR == "recon"


def test_a_run_context_defaults_to_a_day_end_run_and_covers_what_it_lists() -> None:
    run = RunContext("RUN-1", DAY, AT, AT, frozenset({Coverage("M1", Comparison.BOOK_VS_LEDGER, Scope.CASH)}))
    assert (run.trace_id, run.as_of_seq, run.trigger) == ("", 0, "day_end")
    assert run.covers("M1", Comparison.BOOK_VS_LEDGER, Scope.CASH)
    assert not run.covers("M1", Comparison.BOOK_VS_LEDGER, Scope.POSITION)
    assert not run.covers("M1", Comparison.BOOK_VS_CUSTODIAN, Scope.CASH)
    assert not run.covers("M2", Comparison.BOOK_VS_LEDGER, Scope.CASH)


def test_omitted_fields_mean_nothing_known() -> None:
    key = ItemKey("M1", Scope.CASH)
    assert (key.instrument_id, key.currency, key.account) == ("", "", "")
    settlement = PendingSettlement("M1", "F1", "AAPL", "USD", DAY, Decimal(1), None)
    assert (settlement.caused_by, settlement.account) == ((), "")
    difference = Difference(
        "k", Comparison.BOOK_VS_CUSTODIAN, Scope.CASH, BreakKind.CASH_MISMATCH, Outcome.BREAK, "M1"
    )
    texts = (
        "instrument_id",
        "currency",
        "account",
        "ledger_account",
        "fill_id",
        "base_currency",
        "description",
    )
    assert [getattr(difference, name) for name in texts] == [""] * len(texts)
    figures = (
        "book_quantity",
        "other_quantity",
        "quantity_difference",
        "book_amount",
        "other_amount",
        "amount_difference",
        "explained_difference",
        "base_amount_difference",
        "book_date",
        "other_date",
        "tolerance_absolute",
        "tolerance_relative",
        "expected_settle_date",
        "grace_until",
    )
    assert [getattr(difference, name) for name in figures] == [None] * len(figures)
    assert (difference.custodian_refs, difference.caused_by) == ((), ())
    timing = TimingItem(
        "T", "M1", Comparison.BOOK_VS_CUSTODIAN, Scope.CASH, "", "USD", "", None, None, None, None
    )
    assert timing.caused_by == ()


def test_a_new_break_record_is_open_work_with_nothing_recorded_yet() -> None:
    brk = Break(
        "BRK-1",
        "k",
        1,
        "M1",
        BreakKind.CASH_MISMATCH,
        BreakStatus.OPEN,
        Comparison.BOOK_VS_CUSTODIAN,
        Scope.CASH,
        DAY,
        DAY,
        AT,
        AT,
        "RUN-1",
        "RUN-1",
    )
    texts = (
        "instrument_id",
        "currency",
        "account",
        "fill_id",
        "ledger_account",
        "base_currency",
        "aging_bucket",
        "escalation_reason",
        "assignee",
        "resolved_by_event_id",
        "suspense_journal_id",
        "trace_id",
        "description",
        "parent_break_id",
        "cash_flow_id",
        "write_off_journal_id",
    )
    assert [getattr(brk, name) for name in texts] == [""] * len(texts)
    assert (brk.suspense_amount, brk.suspense_version, brk.held_in_suspense) == (None, 0, 0)
    assert dataclasses.replace(brk, suspense_amount=Decimal("-4.50")).held_in_suspense == Decimal("-4.50")
    figures = (
        "book_quantity",
        "other_quantity",
        "quantity_difference",
        "book_amount",
        "other_amount",
        "amount_difference",
        "base_amount_difference",
        "book_date",
        "other_date",
        "tolerance_absolute",
        "tolerance_relative",
        "resolved_at",
    )
    assert [getattr(brk, name) for name in figures] == [None] * len(figures)
    assert (brk.age_business_days, brk.escalated, brk.custodian_refs, brk.caused_by) == (0, False, (), ())
    action = BreakAction(
        "A", "BRK-1", ActionKind.COMMENTED, "ana", AT, AT, BreakStatus.OPEN, BreakStatus.OPEN
    )
    assert (action.assignee, action.comment, action.journal_id, action.amount) == ("", "", "", None)
