"""Suspense follows its break: which journal (if any) a ledger-vs-custodian cash break needs now.

Suspense holds only unexplained cash (services/recon/README.md, "Suspense"). For each
ledger-vs-custodian cash break, the amount it should hold (the *target*, as cash moved: the sum of
its journals' Assets:Cash legs) follows from the break as the last check left it:

- open and unexplained (no parent), aged past `suspense_cash_age_business_days` or already holding
  something: its difference d (custodian minus the ledger's cash + suspense);
- open and explained (a parent): what it holds, cut back so it never exceeds d (same sign, never
  larger in size; 0 when d has the other sign);
- open, not aged and holding nothing: 0;
- closed (resolved): 0, so its posting is reversed.
When the target differs from what it holds, one journal moves the difference: version n+1, key
recon:suspense:<break id>:v<n+1>, effective the day end that made it due. A written-off break
instead gets one write-off journal that clears what it holds and posts d to profit and loss.
Both are pure records here; peers/wire.py turns them into PostJournalRequests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from services.recon.domain.config import ReconConfig
from services.recon.domain.records import (
    RECON_ACTOR,
    ActionKind,
    Break,
    BreakAction,
    BreakStatus,
    Comparison,
    Scope,
)

ZERO = Decimal(0)
CASH = "Assets:Cash:"
SUSPENSE = "Assets:Suspense:"


@dataclass(frozen=True, slots=True)
class LedgerJournal:
    """A journal recon owes the ledger for one break: postings as (account, signed amount), debit
    positive; `cash` is its Assets:Cash leg (what it moves between the ledger's cash and the rest)."""

    break_id: str
    mandate_id: str
    currency: str
    action: ActionKind  # POSTED_TO_SUSPENSE, SUSPENSE_ADJUSTED, SUSPENSE_REVERSED or WRITE_OFF_POSTED
    idempotency_key: str
    version: int  # suspense journals: 1, 2, ...; the write-off: the break's suspense_version
    effective_date: dt.date
    cash: Decimal
    postings: tuple[tuple[str, Decimal], ...]
    memo: str

    @property
    def is_write_off(self) -> bool:
        return self.action is ActionKind.WRITE_OFF_POSTED


def follows_suspense(brk: Break) -> bool:
    """Only ledger-vs-custodian cash breaks (the bank reconciliation) hold suspense."""
    return brk.comparison is Comparison.LEDGER_VS_CUSTODIAN and brk.scope is Scope.CASH


def target(brk: Break, config: ReconConfig) -> Decimal:
    """The cash the break's suspense journals should have moved, as of the check that left it so."""
    if not follows_suspense(brk) or not brk.status.is_open:
        return ZERO
    difference = brk.amount_difference if brk.amount_difference is not None else ZERO
    held = brk.held_in_suspense
    if brk.parent_break_id:
        if held == 0 or difference == 0 or (held > 0) != (difference > 0):
            return ZERO
        return held if abs(held) <= abs(difference) else difference
    if held or brk.age_business_days >= config.suspense_cash_age_business_days:
        return difference
    return ZERO


def _postable(amount: Decimal, places: int) -> bool:
    """Whether the ledger can post this amount as it is (it never rounds)."""
    return amount == amount.quantize(Decimal(1).scaleb(-places))


def due_journal(brk: Break, config: ReconConfig, today: dt.date, places: int = 2) -> LedgerJournal | None:
    """The journal the break needs now (None: none, or an amount finer than the currency's minor unit,
    `places`). today: the day end whose check made it due (the suspense journal's effective date)."""
    if not follows_suspense(brk) or not brk.currency:
        return None
    held = brk.held_in_suspense
    ccy = brk.currency
    if brk.status is BreakStatus.WRITTEN_OFF:
        difference = brk.amount_difference if brk.amount_difference is not None else ZERO
        if brk.write_off_journal_id or not difference or not _postable(difference, places):
            return None
        postings = [(f"{CASH}{ccy}", difference - held), (f"{SUSPENSE}{ccy}", held)]
        postings.append((config.write_off_account(difference, ccy), -difference))
        return LedgerJournal(
            break_id=brk.break_id,
            mandate_id=brk.mandate_id,
            currency=ccy,
            action=ActionKind.WRITE_OFF_POSTED,
            idempotency_key=f"recon:write-off:{brk.break_id}",
            version=brk.suspense_version,
            effective_date=brk.last_seen_date,
            cash=difference - held,
            postings=tuple((account, amount) for account, amount in postings if amount),
            memo=f"recon break {brk.break_id}: written off, {difference:,} {ccy} to profit and loss",
        )
    delta = target(brk, config) - held
    if not delta or not _postable(delta, places):
        return None
    aim = held + delta
    if not aim:
        action, verb = ActionKind.SUSPENSE_REVERSED, "reversed from suspense"
    elif not held:
        action, verb = ActionKind.POSTED_TO_SUSPENSE, "unexplained cash to suspense"
    else:
        action, verb = ActionKind.SUSPENSE_ADJUSTED, "suspense adjusted"
    version = brk.suspense_version + 1
    return LedgerJournal(
        break_id=brk.break_id,
        mandate_id=brk.mandate_id,
        currency=ccy,
        action=action,
        idempotency_key=f"recon:suspense:{brk.break_id}:v{version}",
        version=version,
        effective_date=today,
        cash=delta,
        postings=((f"{CASH}{ccy}", delta), (f"{SUSPENSE}{ccy}", -delta)),
        memo=f"recon break {brk.break_id}: {verb} ({delta:,} {ccy}; holds {aim:,})",
    )


def _action_id(*parts: object) -> str:
    return "ACT-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]


def record_journal(
    brk: Break, journal: LedgerJournal, journal_id: str, *, at: dt.datetime, sim_time: dt.datetime
) -> tuple[Break, BreakAction]:
    """The break after the ledger accepted its journal, and the action recording it."""
    if journal.is_write_off:
        after = dataclasses.replace(
            brk,
            write_off_journal_id=journal_id,
            suspense_amount=ZERO if brk.suspense_amount is not None else None,
            updated_at=sim_time,
        )
    else:
        after = dataclasses.replace(
            brk,
            suspense_amount=brk.held_in_suspense + journal.cash,
            suspense_version=journal.version,
            suspense_journal_id=journal_id,
            updated_at=sim_time,
        )
    action = BreakAction(
        action_id=_action_id(brk.break_id, journal.idempotency_key, journal_id),
        break_id=brk.break_id,
        kind=journal.action,
        actor=RECON_ACTOR,
        at=at,
        sim_time=sim_time,
        from_status=brk.status,
        to_status=brk.status,
        journal_id=journal_id,
        amount=journal.cash,
        comment=journal.memo,
    )
    return after, action
