"""The ledger store's interface, shared by the SQLite and PostgreSQL backends.

Invariants both backends keep (and the database enforces where it can):
- journals and postings are never updated, and never deleted except by a period close: a close
  records its horizon ("closed before") and deletes the journals dated before it, and the triggers
  refuse any other delete (see close_period);
- a closed period takes no postings and answers no as-of question: post() refuses a journal dated
  before the horizon, and reads before it are refused (PeriodClosed), never answered from a partial
  record;
- every journal sums to zero per currency and in base currency (checked by the database at commit);
- ledger_seq is gap-free (1, 2, 3, ...) and gives the ledger's total order;
- an idempotency key names at most one journal in the whole ledger;
- post() writes the batch, the market cursor, the domain state blob and the batch's outbox rows in
  one transaction, or nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.ledger.domain.records import Account, BalanceLine, Journal, JournalDraft, JournalKind


@dataclass(frozen=True)
class PostResult:
    """replayed: the idempotency key was already posted with the same content; nothing was written."""

    journal: Journal
    replayed: bool


@dataclass(frozen=True)
class BooksPosition:
    """Where the books stand, read in one go: the last market seq applied (the cursor) and what
    identifies the books a balance is read from. Every journal is posted with the next ledger_seq
    and a period close moves the horizon, so two reads with the same last_seq and closed_before
    read the same balances; nothing else changes a mandate's lines."""

    market_seq: int
    last_seq: int
    closed_before: dt.date | None

    @property
    def books(self) -> tuple[int, dt.date | None]:
        return self.last_seq, self.closed_before


@dataclass(frozen=True)
class LedgerFilter:
    """Which journals to list; empty fields do not filter.

    account_prefix matches whole account components: "Assets:Cash" matches "Assets:Cash" and
    "Assets:Cash:USD" but not "Assets:Cashbox"; a prefix ending in ":" matches the accounts under it.
    date_from and date_to are inclusive bounds on the effective date.

    After a period close the journals before the horizon are gone: a range that reaches before it
    (date_from None or earlier) is refused with PeriodClosed, so nobody mistakes a partial listing
    for the ledger; kept_only=True asks instead for what is kept (the range cut at the horizon).
    """

    mandate_id: str = ""
    account_prefix: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    source_event_id: str = ""
    trace_id: str = ""
    kind: JournalKind | None = None
    kept_only: bool = False
    # True: only the journals people and services posted, none booked from market's stream.
    exclude_market: bool = False


@dataclass(frozen=True)
class ClosedPeriod:
    """The ledger's horizon: journals dated before closed_before are deleted (None: nothing closed yet);
    keep_days is the OPSUITE_LEDGER_KEEP_DAYS the last close ran with, for the refusals to name."""

    closed_before: dt.date | None = None
    keep_days: int = 0


@dataclass(frozen=True)
class CloseResult:
    """What one close did: the new horizon and the previous one, and how many rows it deleted."""

    closed_before: dt.date
    previous: dt.date | None
    journals: int
    postings: int
    balance_rows: int


@dataclass(frozen=True)
class TrialBalanceResult:
    """One line per (account, currency) with activity up to as_of (None: everything posted).

    journal_count/posting_count count the mandate's journals with effective date <= as_of, as booked
    (the journals a period close deleted still count: the balances still include them);
    as_of_ledger_seq is the highest ledger_seq among them (0 when there is none).
    """

    mandate_id: str
    as_of: dt.date | None
    lines: tuple[BalanceLine, ...]
    journal_count: int
    posting_count: int
    as_of_ledger_seq: int


# post()'s announce: one event kind for every new journal, a kind per draft (None: not announced), or None.
Announce = str | Callable[[JournalDraft], str | None] | None


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
        announce: Announce = None,
    ) -> list[PostResult]:
        """Post a batch in one transaction with the cursor and state blob (None leaves either unchanged).

        announce: an event kind; each newly posted journal (not a replay) gets an outbox row of that
        kind in the same transaction, for undelivered() to hand to the event log. Or a function of
        the draft giving its kind, None for a journal not announced (the stream's marks).

        Results are in the drafts' order. Raises IdempotencyConflict, UnknownAccount, ClosedAccount,
        UnknownJournal, AlreadyReversed, TooPrecise, InvalidDraft, Unbalanced, PeriodClosed (a new
        journal dated before the horizon of a period close); then nothing is written.
        """
        ...

    def subscribe(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call listener(head) after every post() that wrote journals (from the committing thread),
        head being the last ledger_seq then; returns the function that unsubscribes it."""
        ...

    def head(self) -> int:
        """The last ledger_seq posted (0 before any journal)."""
        ...

    def first_kept_seq(self) -> int:
        """The lowest ledger_seq still stored (a period close deletes journals); 0 with none stored."""
        ...

    def load_cursor(self) -> tuple[int, str | None]:
        """(last market seq applied, state blob) as stored by post(); (0, None) initially."""
        ...

    def books_position(self, mandate_id: str = "") -> BooksPosition:
        """The cursor and the books' identity, without the state blob. With a mandate, last_seq is
        its last journal's: its balances move with its own journals only (each posts to one mandate)."""
        ...

    def get_journal(self, journal_id: str) -> Journal | None: ...

    def find_by_key(self, idempotency_key: str) -> Journal | None: ...

    def journals(self, flt: LedgerFilter, *, after_seq: int = 0, limit: int = 100) -> list[Journal]:
        """Journals with ledger_seq > after_seq matching flt, ascending by ledger_seq, at most limit.
        PeriodClosed when flt reaches before the horizon without kept_only (see LedgerFilter)."""
        ...

    def trial_balance(self, mandate_id: str, as_of: dt.date | None) -> TrialBalanceResult:
        """PeriodClosed for an as_of before the horizon of a period close."""
        ...

    def balances(self, mandate_id: str, accounts: Sequence[str], as_of: dt.date | None) -> list[BalanceLine]:
        """Lines of the named accounts ([] = every account with activity), as of a date (inclusive).

        A named account with no activity up to as_of gives one zero line in its own currency.
        Raises UnknownAccount for a name not in the mandate's chart, PeriodClosed for an as_of before
        the horizon of a period close.
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

    def undelivered(self, limit: int = 100, known: Mapping[int, Journal] | None = None) -> list[OutboxItem]:
        """The oldest outbox items not marked delivered, in posting order, at most limit. known: journals
        the caller has just posted, by ledger_seq (post's results), used as they are rather than read."""
        ...

    def mark_delivered(self, outbox_ids: Sequence[int]) -> None: ...

    def counts(self) -> tuple[int, int]:
        """(journals, postings) ever booked in the whole ledger (a period close does not lower them)."""
        ...

    def closed_period(self) -> ClosedPeriod:
        """The recorded horizon (ClosedPeriod() when no period is closed)."""
        ...

    def first_date(self) -> dt.date | None:
        """The earliest effective date of the journals stored (None: no journal)."""
        ...

    def close_period(self, before: dt.date, *, keep_days: int) -> CloseResult | None:
        """Close the period before `before` in one transaction: record the horizon, delete the journals
        dated before it with their postings and (delivered) outbox rows, and the cumulative rows no
        as-of question at or after the horizon reads (per key, every row before the last one on or
        before the horizon). Balances and trial balances as of the horizon or later do not change.

        The horizon never passes a journal whose outbox record is undelivered (the relay reads it), and
        never moves back; None when it cannot move forward.
        """
        ...

    def close(self) -> None: ...
