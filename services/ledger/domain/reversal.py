"""Reversing a journal: the mirror of every posting, never before the original's date."""

from __future__ import annotations

import dataclasses
import datetime as dt

from services.ledger.domain.records import Journal, JournalDraft, JournalKind


def reversal_draft(
    original: Journal,
    *,
    effective_date: dt.date,
    sim_time: dt.datetime,
    reason: str,
    idempotency_key: str = "",
    trace_id: str = "",
    posted_by: str = "api",
) -> JournalDraft:
    """The draft that undoes `original`: every amount, base amount and quantity negated.

    It is dated effective_date, or the original's date when that is later (a reversal cannot
    take effect before what it reverses). The default idempotency key makes a retried
    reversal of the same journal post once.
    """
    return JournalDraft(
        mandate_id=original.mandate_id,
        kind=JournalKind.REVERSAL,
        effective_date=max(effective_date, original.draft.effective_date),
        sim_time=sim_time,
        postings=tuple(
            dataclasses.replace(
                p,
                amount=-p.amount,
                base_amount=None if p.base_amount is None else -p.base_amount,
                quantity=None if p.quantity is None else -p.quantity,
            )
            for p in original.postings
        ),
        idempotency_key=idempotency_key or f"reverse:{original.journal_id}",
        memo=f"reversal of {original.journal_id}: {reason}",
        trace_id=trace_id,
        caused_by=(original.journal_id,),
        posted_by=posted_by,
        reverses_journal_id=original.journal_id,
        reversal_reason=reason,
    )
