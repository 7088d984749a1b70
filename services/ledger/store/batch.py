"""The backend-independent half of post(): checking drafts, idempotency, accounts, balance deltas.

Pure functions over the records; each backend supplies what the database already holds and
writes what these functions decide, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from services.ledger.domain.records import Account, AccountType, Journal, JournalDraft, Posting
from services.ledger.store.base import PostResult
from services.ledger.store.errors import (
    AlreadyReversed,
    ClosedAccount,
    IdempotencyConflict,
    InvalidDraft,
    LedgerStoreError,
    OutOfRange,
    PeriodClosed,
    TooPrecise,
    UnknownAccount,
    UnknownJournal,
)

SCALE = 6  # decimal places the ledger stores (SQLite micro-units)
# SQLite integers are 64-bit; keep single amounts far enough below that running totals have headroom.
MAX_MICROS = 10**18
# A sentinel "latest" date: comparisons with it keep index range scans simple on both backends.
END_OF_TIME = dt.date(9999, 12, 31)
# Accounts whose currency is the posting's (the instrument's), not the last name component.
_INSTRUMENT_ACCOUNTS = ("Assets:Securities:", "Assets:Unrealized:")

AccountKey = tuple[str, str]  # (mandate_id, account)
BalanceKey = tuple[str, str, str, dt.date]  # (mandate_id, account, currency, effective_date)


def tidy(value: Decimal) -> Decimal:
    """The same number without trailing zeros or exponent notation (100.00 -> 100, -0 -> 0)."""
    if not value:
        return Decimal(0)
    value = value.normalize()
    if value.as_tuple().exponent > 0:  # type: ignore[operator]
        value = value.quantize(Decimal(1))
    return value


Micros = tuple[int, int, int | None]  # a posting's amount, base amount and quantity in micro-units


def scaled(value: Decimal, what: str) -> int:
    """value in integer micro-units; refused when the storage cannot hold it exactly (never round)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidDraft(f"{what} must be a finite Decimal, got {value!r}")
    try:
        shifted = value.scaleb(SCALE)
        integral = shifted == shifted.to_integral_value()
    except InvalidOperation as error:  # more digits than the decimal context holds
        raise OutOfRange(f"{what} {value} is out of the ledger's range") from error
    if not integral:
        raise TooPrecise(what, value)
    micros = int(shifted)
    if abs(micros) > MAX_MICROS:
        raise OutOfRange(f"{what} {value} is out of the ledger's range (at most 10^12)")
    return micros


def check_scale(value: Decimal, what: str) -> None:
    """Refuse a value the storage cannot hold exactly (never round)."""
    scaled(value, what)


def to_micros(value: Decimal) -> int:
    """An already checked Decimal as integer micro-units."""
    return int(value.scaleb(SCALE))


def from_micros(micros: int) -> Decimal:
    return tidy(Decimal(micros).scaleb(-SCALE))


def check_draft(draft: JournalDraft) -> tuple[Micros, ...]:
    """What the store itself needs; the domain's validation (chart, currency minor units) comes first.
    Returns each posting's figures in micro-units (for the content hash, and SQLite's columns)."""
    if not draft.mandate_id:
        raise InvalidDraft("a journal needs a mandate_id")
    if not draft.idempotency_key:
        raise InvalidDraft("a journal needs an idempotency_key")
    if not draft.postings:
        raise InvalidDraft(f"journal {draft.idempotency_key!r} has no postings")
    if not isinstance(draft.effective_date, dt.date) or isinstance(draft.effective_date, dt.datetime):
        raise InvalidDraft(f"journal {draft.idempotency_key!r}: effective_date must be a date")
    figures: list[Micros] = []
    for index, posting in enumerate(draft.postings):
        base = posting.base_amount
        if not posting.account or not posting.currency or base is None:
            where = f"journal {draft.idempotency_key!r} posting {index} ({posting.account})"
            if not posting.account or not posting.currency:
                raise InvalidDraft(f"{where}: account and currency are required")
            raise InvalidDraft(f"{where}: base_amount must be set before storing")
        try:
            quantity = None if posting.quantity is None else scaled(posting.quantity, "quantity")
            figures.append((scaled(posting.amount, "amount"), scaled(base, "base_amount"), quantity))
        except LedgerStoreError:
            # Refused: again, saying which journal and posting (the label is built only for a refusal).
            where = f"journal {draft.idempotency_key!r} posting {index} ({posting.account})"
            check_scale(posting.amount, f"{where} amount")
            check_scale(base, f"{where} base_amount")
            if posting.quantity is not None:
                check_scale(posting.quantity, f"{where} quantity")
            raise
    return tuple(figures)


def content_hash(draft: JournalDraft, figures: Sequence[Micros] | None = None) -> str:
    """A canonical hash of what makes two drafts "the same journal" for idempotency.

    Covers mandate, kind, effective date, postings, memo, source event and the reversed journal;
    not sim_time, trace id, caused_by, posted_by or the reversal reason (a retry may differ there).
    Amounts enter as micro-units so 1.5 and 1.50 hash alike (figures: check_draft's, when known).
    Stored: never change the recipe.
    """
    postings = (
        [(p, to_micros(p.amount), _micros(p.base_amount), _micros(p.quantity)) for p in draft.postings]
        if figures is None
        else [(p, *f) for p, f in zip(draft.postings, figures, strict=True)]
    )
    content = [
        draft.mandate_id,
        str(draft.kind),
        draft.effective_date.isoformat(),
        [
            [
                p.account,
                str(amount),
                p.currency,
                None if base is None else str(base),
                None if quantity is None else str(quantity),
                p.instrument_id,
                p.lot_id,
                p.memo,
            ]
            for p, amount, base, quantity in postings
        ],
        draft.memo,
        draft.source_event_id,
        draft.reverses_journal_id,
    ]
    text = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _micros(value: Decimal | None) -> int | None:
    return None if value is None else to_micros(value)


@dataclass(frozen=True)
class StoredKey:
    """What the database holds for an idempotency key."""

    ledger_seq: int
    journal_id: str
    content_hash: str


@dataclass
class KeyPlan:
    """For each draft, in order: the ledger_seq it replays (stored before or earlier in the batch) or None.

    new: indexes of the drafts to write, in order.
    """

    replays: list[int | None]
    new: list[int]
    hashes: list[str]


def plan_keys(
    drafts: Sequence[JournalDraft],
    stored: Mapping[str, StoredKey],
    next_seq: int,
    figures: Sequence[Sequence[Micros]] | None = None,
) -> KeyPlan:
    """Resolve idempotency for a batch; new drafts get ledger_seq next_seq, next_seq + 1, ... in order.
    figures: each draft's check_draft result, when known."""
    if figures is None:
        hashes = [content_hash(draft) for draft in drafts]
    else:
        hashes = [content_hash(draft, f) for draft, f in zip(drafts, figures, strict=True)]
    replays: list[int | None] = []
    new: list[int] = []
    in_batch: dict[str, tuple[int, str]] = {}  # key -> (ledger_seq, hash) of a draft earlier in this batch
    for index, draft in enumerate(drafts):
        key = draft.idempotency_key
        known = stored.get(key)
        if known is not None:
            if known.content_hash != hashes[index]:
                raise IdempotencyConflict(key, known.journal_id)
            replays.append(known.ledger_seq)
        elif key in in_batch:
            seq, first_hash = in_batch[key]
            if first_hash != hashes[index]:
                raise IdempotencyConflict(key, f"(earlier in the same batch, ledger_seq {seq})")
            replays.append(seq)
        else:
            seq = next_seq + len(new)
            in_batch[key] = (seq, hashes[index])
            new.append(index)
            replays.append(None)
    return KeyPlan(replays=replays, new=new, hashes=hashes)


def account_currency(name: str, posting: Posting) -> str:
    """The chart's currency of an account (docs/ledger-design.md): the last component of the name
    ("Assets:Cash:USD" -> USD), or the posting's currency for per-instrument accounts."""
    if name.startswith(_INSTRUMENT_ACCOUNTS):
        return posting.currency
    last = name.rsplit(":", 1)[-1]
    if len(last) == 3 and last.isalpha() and last.isupper():
        return last
    return posting.currency


def _instrument_of(name: str, posting: Posting) -> str:
    if posting.instrument_id:
        return posting.instrument_id
    if name.startswith(_INSTRUMENT_ACCOUNTS):
        return name.rsplit(":", 1)[-1]
    return ""


@dataclass
class AccountPlan:
    """Accounts to open, and accounts whose opened_on moves earlier (a backdated first use)."""

    opened: dict[AccountKey, Account] = field(default_factory=dict)
    earlier: dict[AccountKey, dt.date] = field(default_factory=dict)


def plan_accounts(
    drafts: Iterable[JournalDraft], existing: Mapping[AccountKey, Account], *, open_missing: bool
) -> AccountPlan:
    """Check every posting names an open account, opening unknown ones when open_missing.

    A posting dated before its account's opened_on moves opened_on back, so the chart always opens
    an account on or before its first posting (Beancount requires it).
    """
    plan = AccountPlan()
    for draft in drafts:
        for posting in draft.postings:
            key = (draft.mandate_id, posting.account)
            account = existing.get(key)
            if account is not None:
                if account.closed_on is not None:
                    raise ClosedAccount(posting.account, draft.mandate_id, account.closed_on)
                if draft.effective_date < min(account.opened_on, plan.earlier.get(key, dt.date.max)):
                    plan.earlier[key] = draft.effective_date
                continue
            opened = plan.opened.get(key)
            if opened is not None:
                if draft.effective_date < opened.opened_on:
                    plan.opened[key] = Account(
                        mandate_id=opened.mandate_id,
                        name=opened.name,
                        currency=opened.currency,
                        opened_on=draft.effective_date,
                        instrument_id=opened.instrument_id,
                    )
                continue
            if not open_missing:
                raise UnknownAccount(posting.account, draft.mandate_id)
            AccountType.of(posting.account)  # an unknown root is a bad draft, not a new account
            plan.opened[key] = Account(
                mandate_id=draft.mandate_id,
                name=posting.account,
                currency=account_currency(posting.account, posting),
                opened_on=draft.effective_date,
                instrument_id=_instrument_of(posting.account, posting),
            )
    return plan


def check_open_period(drafts: Iterable[JournalDraft], closed_before: dt.date | None, keep_days: int) -> None:
    """A closed period takes no postings: its detail is gone and its cumulative rows are pruned.

    This also keeps idempotency after a close: the key of a deleted journal is gone with it, and a
    retry of that journal (same content, so the same date) is refused here rather than posted twice.
    """
    if closed_before is None:
        return
    for draft in drafts:
        if draft.effective_date < closed_before:
            raise PeriodClosed(
                closed_before,
                keep_days,
                f"journal {draft.idempotency_key!r} dated {draft.effective_date.isoformat()} cannot be"
                f" posted into it: date it {closed_before.isoformat()} or later. Nothing was written.",
            )


@dataclass(frozen=True)
class StoredJournalRef:
    """A journal a reversal names: its mandate, and the journal reversing it ("" if none)."""

    mandate_id: str
    reversed_by_journal_id: str


def check_reversals(drafts: Iterable[JournalDraft], originals: Mapping[str, StoredJournalRef]) -> None:
    """Each reversed journal must exist, belong to the same mandate, and be reversed only once."""
    seen: set[str] = set()
    for draft in drafts:
        target = draft.reverses_journal_id
        if not target:
            continue
        original = originals.get(target)
        if original is None:
            raise UnknownJournal(target)
        if original.mandate_id != draft.mandate_id:
            raise InvalidDraft(
                f"journal {target} belongs to mandate {original.mandate_id!r}, not {draft.mandate_id!r}"
            )
        if original.reversed_by_journal_id:
            raise AlreadyReversed(target, original.reversed_by_journal_id)
        if target in seen:
            raise AlreadyReversed(target, "")
        seen.add(target)


@dataclass
class Delta:
    """What a batch adds to one cumulative balance row. quantity None: no posting carried one."""

    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    base_debit: Decimal = Decimal(0)
    base_credit: Decimal = Decimal(0)
    quantity: Decimal | None = None


def balance_deltas(drafts: Iterable[JournalDraft]) -> dict[BalanceKey, Delta]:
    """Per (mandate, account, currency, effective date): debits and credits (both >= 0), by sign of
    the amount, and of the base amount on its own sign (so base debits equal base credits)."""
    deltas: dict[BalanceKey, Delta] = {}
    for draft in drafts:
        for p in draft.postings:
            key = (draft.mandate_id, p.account, p.currency, draft.effective_date)
            delta = deltas.get(key)
            if delta is None:
                delta = deltas[key] = Delta()
            if p.amount > 0:
                delta.debit += p.amount
            else:
                delta.credit -= p.amount
            base = p.base_amount if p.base_amount is not None else Decimal(0)
            if base > 0:
                delta.base_debit += base
            else:
                delta.base_credit -= base
            if p.quantity is not None:
                delta.quantity = (delta.quantity or Decimal(0)) + p.quantity
    return deltas


def split_by_latest(
    drafts: Iterable[JournalDraft], latest: Mapping[str, dt.date]
) -> tuple[set[str], set[str]]:
    """(fast, general): the drafts' mandates split by whether all their drafts are dated on or after
    the mandate's latest cumulative row (`latest`; none stored counts as fast). For a fast mandate
    no stored cumulative row lies after a date the batch posts on, so each (key, date) row of the
    batch is the latest row on or before that date plus the batch's running sum up to it, and
    nothing later needs an update."""
    earliest: dict[str, dt.date] = {}
    for draft in drafts:
        day = earliest.get(draft.mandate_id)
        if day is None or draft.effective_date < day:
            earliest[draft.mandate_id] = draft.effective_date
    fast = {m for m, day in earliest.items() if m not in latest or day >= latest[m]}
    return fast, set(earliest) - fast


@dataclass
class DayDelta:
    journals: int = 0
    postings: int = 0
    max_seq: int = 0


def day_deltas(drafts: Iterable[tuple[int, JournalDraft]]) -> dict[tuple[str, dt.date], DayDelta]:
    """Per (mandate, effective date) of (ledger_seq, draft): journals, postings, highest ledger_seq."""
    days: dict[tuple[str, dt.date], DayDelta] = {}
    for seq, draft in drafts:
        day = days.setdefault((draft.mandate_id, draft.effective_date), DayDelta())
        day.journals += 1
        day.postings += len(draft.postings)
        day.max_seq = max(day.max_seq, seq)
    return days


def imbalance_of(drafts: Iterable[JournalDraft]) -> dict[str, Decimal]:
    """The first unbalanced draft's sums per currency (and "base"), to explain a database refusal."""
    for draft in drafts:
        sums: dict[str, Decimal] = {}
        base = Decimal(0)
        for p in draft.postings:
            sums[p.currency] = sums.get(p.currency, Decimal(0)) + p.amount
            base += p.base_amount if p.base_amount is not None else Decimal(0)
        off = {currency: total for currency, total in sums.items() if total}
        if base:
            off["base"] = base
        if off:
            return off
    return {}


def results(
    plan: KeyPlan, last_seq: int, fresh: Mapping[int, Journal], stored: Mapping[int, Journal]
) -> list[PostResult]:
    """post()'s answer in the drafts' order: the new journals, and what each replay refers to
    (a journal stored before, or one written earlier in the same batch)."""
    seq_of_new = {index: last_seq + 1 + offset for offset, index in enumerate(plan.new)}
    answer = []
    for index, replay in enumerate(plan.replays):
        if replay is None:
            answer.append(PostResult(fresh[seq_of_new[index]], replayed=False))
        else:
            answer.append(PostResult(stored[replay] if replay in stored else fresh[replay], replayed=True))
    return answer


def prefix_range(prefix: str) -> tuple[str | None, str, str]:
    """(exact, low, high): account == exact or low <= account < high selects the accounts under
    prefix by whole components (";" sorts right after ":"); exact is None for a prefix ending in ":"."""
    if prefix.endswith(":"):
        base = prefix[:-1]
        return None, base + ":", base + ";"
    return prefix, prefix + ":", prefix + ";"
