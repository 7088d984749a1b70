"""Checks a journal must pass before it is stored, reported together as values (Beancount style).

Every problem names the field and says what to change: an unbalanced journal
names each currency and how far it is out, a too precise amount names the
posting and the limit, an unknown or closed account is named. Nothing is ever
rounded here: a figure finer than its currency allows is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.ledger.domain import chart
from services.ledger.domain.records import Account, JournalDraft, Posting

ZERO = Decimal(0)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a draft. field: where ("postings[2].amount"); reason: a stable code
    (UNBALANCED, UNBALANCED_BASE, UNKNOWN_ACCOUNT, CLOSED_ACCOUNT, NOT_YET_OPEN, TOO_PRECISE,
    UNKNOWN_CURRENCY, CURRENCY_MISMATCH, NOT_FINITE, BAD_ACCOUNT_NAME, TOO_FEW_POSTINGS, EMPTY_KEY,
    EMPTY_MANDATE, OUT_OF_RANGE, BASE_MISMATCH)."""

    field: str
    message: str
    reason: str


def imbalance(postings: Iterable[Posting]) -> dict[str, Decimal]:
    """currency -> sum of the postings' amounts, only the currencies that do not sum to zero."""
    sums: dict[str, Decimal] = {}
    for posting in postings:
        sums[posting.currency] = sums.get(posting.currency, ZERO) + posting.amount
    return {ccy: total for ccy, total in sums.items() if total != 0}


def base_imbalance(postings: Iterable[Posting]) -> Decimal:
    """Sum of the base amounts (those not yet filled count as zero)."""
    return sum((p.base_amount for p in postings if p.base_amount is not None), ZERO)


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def _unbalanced(postings: tuple[Posting, ...]) -> list[Problem]:
    problems = []
    for ccy, total in imbalance(postings).items():
        debits = sum((p.amount for p in postings if p.currency == ccy and p.amount > 0), ZERO)
        credits = -sum((p.amount for p in postings if p.currency == ccy and p.amount < 0), ZERO)
        problems.append(
            Problem(
                "postings",
                f"{ccy} is out by {_fmt(total)}: debits {_fmt(debits)}, credits {_fmt(credits)}",
                "UNBALANCED",
            )
        )
    return problems


def _precision(index: int, posting: Posting, base_currency: str | None) -> list[Problem]:
    problems = []
    where = f"postings[{index}]"
    figures = [
        ("amount", posting.amount),
        ("base_amount", posting.base_amount),
        ("quantity", posting.quantity),
    ]
    for name, value in figures:
        if value is not None and not value.is_finite():
            problems.append(
                Problem(f"{where}.{name}", f"posting {index}: {name} {value} is not a number", "NOT_FINITE")
            )
        elif value is not None and abs(value) > chart.MAX_FIGURE:
            problems.append(
                Problem(
                    f"{where}.{name}",
                    f"posting {index}: {name} {_fmt(value)} is beyond the ledger's limit of "
                    f"{chart.MAX_FIGURE:,f} either way; split it over several journals",
                    "OUT_OF_RANGE",
                )
            )
    if problems:
        return problems
    places = chart.MINOR_UNITS.get(posting.currency)
    if places is None:
        problems.append(
            Problem(
                f"{where}.currency",
                f"posting {index}: currency {posting.currency!r} is not one of {', '.join(chart.MINOR_UNITS)}",
                "UNKNOWN_CURRENCY",
            )
        )
    elif chart.decimal_places(posting.amount) > places:
        problems.append(
            Problem(
                f"{where}.amount",
                f"posting {index}: {_fmt(posting.amount)} {posting.currency} has "
                f"{chart.decimal_places(posting.amount)} decimal places; {posting.currency} allows at most {places}",
                "TOO_PRECISE",
            )
        )
    base_places = chart.MINOR_UNITS.get(base_currency or "")
    base = posting.base_amount
    if base is not None and base_places is not None and chart.decimal_places(base) > base_places:
        problems.append(
            Problem(
                f"{where}.base_amount",
                f"posting {index}: base amount {_fmt(base)} {base_currency} has "
                f"{chart.decimal_places(base)} decimal places; "
                f"{base_currency} allows at most {base_places}",
                "TOO_PRECISE",
            )
        )
    if posting.quantity is not None and chart.decimal_places(posting.quantity) > chart.QUANTITY_PLACES:
        problems.append(
            Problem(
                f"{where}.quantity",
                f"posting {index}: quantity {_fmt(posting.quantity)} has "
                f"{chart.decimal_places(posting.quantity)} decimal places; at most {chart.QUANTITY_PLACES} allowed",
                "TOO_PRECISE",
            )
        )
    return problems


def _account(
    index: int, posting: Posting, accounts: Mapping[str, Account] | None, on: dt.date
) -> list[Problem]:
    where = f"postings[{index}].account"
    name = posting.account
    if not chart.is_valid_account_name(name):
        return [
            Problem(
                where,
                f"posting {index}: {name!r} is not a valid account name (it must start with one of "
                f"{', '.join(chart.ROOTS)}, and each further part must start with a capital letter or digit "
                "and hold only letters, digits and dashes)",
                "BAD_ACCOUNT_NAME",
            )
        ]
    problems = []
    suffix = chart.account_currency(name)
    if suffix and suffix != posting.currency:
        problems.append(
            Problem(
                f"postings[{index}].currency",
                f"posting {index}: {name} holds {suffix}, not {posting.currency}",
                "CURRENCY_MISMATCH",
            )
        )
    if accounts is None:
        return problems
    account = accounts.get(name)
    if account is None:
        problems.append(Problem(where, f"posting {index}: account {name} does not exist", "UNKNOWN_ACCOUNT"))
    elif account.closed_on is not None and on >= account.closed_on:
        problems.append(
            Problem(
                where,
                f"posting {index}: account {name} was closed on {account.closed_on.isoformat()} "
                f"(the journal is dated {on.isoformat()})",
                "CLOSED_ACCOUNT",
            )
        )
    elif account.opened_on > on:
        problems.append(
            Problem(
                where,
                f"posting {index}: account {name} opens on {account.opened_on.isoformat()}, "
                f"after the journal's date {on.isoformat()}",
                "NOT_YET_OPEN",
            )
        )
    return problems


def validate_draft(
    draft: JournalDraft, *, accounts: Mapping[str, Account] | None, base_currency: str | None = None
) -> list[Problem]:
    """Every problem of the draft, empty when it may be stored.

    accounts: the mandate's chart (name -> Account); None skips the existence and open checks
    (journals from market events open their accounts on first use). base_currency: when given,
    base amounts are checked for precision and, once all are filled, for balance.
    """
    problems: list[Problem] = []
    if not draft.idempotency_key.strip():
        problems.append(Problem("idempotency_key", "an idempotency key is required", "EMPTY_KEY"))
    if not draft.mandate_id.strip():
        problems.append(Problem("mandate_id", "a mandate id is required", "EMPTY_MANDATE"))
    postings = draft.postings
    if len(postings) < 2:
        problems.append(
            Problem(
                "postings",
                f"a journal needs at least 2 postings, this one has {len(postings)}",
                "TOO_FEW_POSTINGS",
            )
        )
    figure_problems: list[Problem] = []
    for index, posting in enumerate(postings):
        figure_problems.extend(_precision(index, posting, base_currency))
        problems.extend(_account(index, posting, accounts, draft.effective_date))
    problems.extend(figure_problems)
    if any(p.reason in ("NOT_FINITE", "OUT_OF_RANGE") for p in figure_problems):
        # Sums of such figures are not exact (28 digits): a balance check would name a false imbalance.
        return problems
    problems.extend(_unbalanced(postings))
    if base_currency is not None:
        problems.extend(base_mismatches(postings, base_currency))
    if base_currency is not None and postings and all(p.base_amount is not None for p in postings):
        off = base_imbalance(postings)
        if off != 0:
            problems.append(
                Problem(
                    "postings", f"base amounts ({base_currency}) are out by {_fmt(off)}", "UNBALANCED_BASE"
                )
            )
    return problems


def base_mismatches(postings: Iterable[Posting], base_currency: str) -> list[Problem]:
    """Base-currency postings whose given base amount is not their amount.

    A posting in the mandate's base currency is already in base: its base amount can only be its
    amount. Left unchecked, 1000.00 EUR carrying base 1.00 against -1000.00 EUR carrying -2.00 (in an
    EUR mandate) would "balance" through an FX rounding line. The one base-currency posting that
    carries a base amount of its own is the FX revaluation line, whose amount is 0.
    """
    problems = []
    for index, posting in enumerate(postings):
        base = posting.base_amount
        if posting.currency != base_currency or base is None or base == posting.amount:
            continue
        if posting.amount == 0 and posting.account == chart.fx_revaluation(base_currency):
            continue
        problems.append(
            Problem(
                f"postings[{index}].base_amount",
                f"posting {index}: a {base_currency} posting is already in base, so its base amount must "
                f"equal its amount {_fmt(posting.amount)}, not {_fmt(base)}; leave base_amount unset",
                "BASE_MISMATCH",
            )
        )
    return problems


def with_base_amounts(
    draft: JournalDraft, base_currency: str, rates: Callable[[str], Decimal]
) -> JournalDraft:
    """The draft with every missing base_amount filled (docs/ledger-design.md, "Base currency and FX").

    A base-currency leg's base amount is its amount; another currency's is amount x rates(ccy)
    (units of base per one unit of ccy), half-even to the base's minor unit. When the converted
    legs do not sum to zero in base, one Income:FxRevaluation:<BASE> posting of amount 0 carries
    the difference, so every journal balances in base as well as in each currency.
    """
    return dataclasses.replace(draft, postings=filled_base_amounts(draft.postings, base_currency, rates))


def filled_base_amounts(
    postings: Iterable[Posting], base_currency: str, rates: Callable[[str], Decimal]
) -> tuple[Posting, ...]:
    """The postings with_base_amounts gives a draft (the posting rules build their drafts from it)."""
    filled: list[Posting] = []
    off = ZERO
    for posting in postings:
        base = posting.base_amount
        if base is None:
            if posting.currency == base_currency:
                base = posting.amount
            else:
                base = chart.quantize_money(posting.amount * rates(posting.currency), base_currency)
            # Posting's own fields, in order: dataclasses.replace costs several times as much.
            posting = Posting(
                posting.account,
                posting.amount,
                posting.currency,
                base,
                posting.quantity,
                posting.instrument_id,
                posting.lot_id,
                posting.memo,
            )
        off += base
        filled.append(posting)
    if off != 0:
        filled.append(
            Posting(
                account=chart.fx_revaluation(base_currency),
                amount=ZERO,
                currency=base_currency,
                base_amount=-off,
                memo="FX rounding of converted legs",
            )
        )
    return tuple(filled)
