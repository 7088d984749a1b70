"""The ledger store's interface, shared by the SQLite and PostgreSQL backends.

Invariants both backends keep (and the database enforces where it can):
- journals and postings are never updated or deleted (triggers refuse it);
- every journal sums to zero per currency and in base currency (checked by the database at commit);
- ledger_seq is gap-free (1, 2, 3, ...) and gives the ledger's total order;
- an idempotency key names at most one journal in the whole ledger;
- post() writes the batch, the market cursor, the domain state blob and the batch's outbox rows in
  one transaction, or nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.ledger.domain.records import Account, BalanceLine, Journal, JournalDraft, JournalKind


@dataclass(frozen=True)
class PostResult:
    """replayed: the idempotency key was already posted with the same content; nothing was written."""

    journal: Journal
    replayed: bool


@dataclass(frozen=True)
class LedgerFilter:
    """Which journals to list; empty fields do not filter.

    account_prefix matches whole account components: "Assets:Cash" matches "Assets:Cash" and
    "Assets:Cash:USD" but not "Assets:Cashbox"; a prefix ending in ":" matches the accounts under it.
    date_from and date_to are inclusive bounds on the effective date.
    """

    mandate_id: str = ""
    account_prefix: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    source_event_id: str = ""
    trace_id: str = ""
    kind: JournalKind | None = None


@dataclass(frozen=True)
class TrialBalanceResult:
    """One line per (account, currency) with activity up to as_of (None: everything posted).

    journal_count/posting_count count the mandate's journals with effective date <= as_of;
    as_of_ledger_seq is the highest ledger_seq among them (0 when there is none).
    """

    mandate_id: str
    as_of: dt.date | None
    lines: tuple[BalanceLine, ...]
    journal_count: int
    posting_count: int
    as_of_ledger_seq: int


@dataclass(frozen=True)
class OutboxItem:
    """A journal announced by post() and not yet delivered to the event log; outbox_id orders them."""

    outbox_id: int
    kind: str
    journal: Journal


class LedgerStore(Protocol):
    def post(
        self,
        drafts: Sequence[JournalDraft],
        *,
        open_missing: bool,
        cursor: int | None = None,
        state: str | None = None,
        announce: str | None = None,
    ) -> list[PostResult]:
        """Post a batch in one transaction with the cursor and state blob (None leaves either unchanged).

        announce: an event kind; each newly posted journal (not a replay) gets an outbox row of that
        kind in the same transaction, for undelivered() to hand to the event log.

        Results are in the drafts' order. Raises IdempotencyConflict, UnknownAccount, ClosedAccount,
        UnknownJournal, AlreadyReversed, TooPrecise, InvalidDraft, Unbalanced; then nothing is written.
        """
        ...

    def load_cursor(self) -> tuple[int, str | None]:
        """(last market seq applied, state blob) as stored by post(); (0, None) initially."""
        ...

    def get_journal(self, journal_id: str) -> Journal | None: ...

    def find_by_key(self, idempotency_key: str) -> Journal | None: ...

    def journals(self, flt: LedgerFilter, *, after_seq: int = 0, limit: int = 100) -> list[Journal]:
        """Journals with ledger_seq > after_seq matching flt, ascending by ledger_seq, at most limit."""
        ...

    def trial_balance(self, mandate_id: str, as_of: dt.date | None) -> TrialBalanceResult: ...

    def balances(self, mandate_id: str, accounts: Sequence[str], as_of: dt.date | None) -> list[BalanceLine]:
        """Lines of the named accounts ([] = every account with activity), as of a date (inclusive).

        A named account with no activity up to as_of gives one zero line in its own currency.
        Raises UnknownAccount for a name not in the mandate's chart.
        """
        ...

    def accounts(self, mandate_id: str = "", *, include_closed: bool = False) -> list[Account]:
        """The chart, ordered by mandate then name; "" = every mandate."""
        ...

    def close_account(self, mandate_id: str, name: str, closed_on: dt.date) -> None:
        """Close an open account (the only change accounts allow). UnknownAccount / ClosedAccount."""
        ...

    def open_accounts(self, accounts: Sequence[Account]) -> int:
        """Open the accounts not in the chart yet (a mandate's standard chart); returns how many."""
        ...

    def undelivered(self, limit: int = 100) -> list[OutboxItem]:
        """The oldest outbox items not marked delivered, in posting order, at most limit."""
        ...

    def mark_delivered(self, outbox_ids: Sequence[int]) -> None: ...

    def counts(self) -> tuple[int, int]:
        """(journals, postings) in the whole ledger."""
        ...

    def close(self) -> None: ...
