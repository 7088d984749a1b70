"""validate_draft reports what a person can act on; with_base_amounts fills base legs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.ledger.domain.records import Account, Posting
from services.ledger.domain.validation import Problem, imbalance, validate_draft, with_base_amounts
from tests.ledger.domain.builders import draft

D = Decimal


def account(name: str, opened: dt.date = dt.date(2024, 1, 2), closed: dt.date | None = None) -> Account:
    return Account("M1", name, name.rsplit(":", 1)[1], opened, closed_on=closed)


def reasons(problems: list[Problem]) -> list[str]:
    return [p.reason for p in problems]


def test_a_balanced_journal_has_no_problem() -> None:
    journal = draft(
        Posting("Assets:Cash:USD", D("100.00"), "USD"), Posting("Equity:Capital:USD", D("-100.00"), "USD")
    )
    chart = {name: account(name) for name in ("Assets:Cash:USD", "Equity:Capital:USD")}
    assert validate_draft(journal, accounts=chart) == []
    assert validate_draft(journal, accounts=None, base_currency="USD") == []


def test_unbalanced_journal_names_the_imbalance_per_currency() -> None:
    journal = draft(
        Posting("Assets:Cash:USD", D("100.00"), "USD"),
        Posting("Equity:Capital:USD", D("-99.99"), "USD"),
        Posting("Assets:Cash:EUR", D("10.00"), "EUR"),
        Posting("Equity:Capital:EUR", D("-12.00"), "EUR"),
    )
    # USD: 100.00 - 99.99 = 0.01; EUR: 10.00 - 12.00 = -2.00.
    assert imbalance(journal.postings) == {"USD": D("0.01"), "EUR": D("-2.00")}
    problems = validate_draft(journal, accounts=None)
    assert problems == [
        Problem("postings", "USD is out by 0.01: debits 100.00, credits 99.99", "UNBALANCED"),
        Problem("postings", "EUR is out by -2.00: debits 10.00, credits 12.00", "UNBALANCED"),
    ]


def test_too_many_decimals_are_refused_with_the_posting_index_never_rounded() -> None:
    journal = draft(
        Posting("Assets:Cash:USD", D("100.005"), "USD"),
        Posting("Equity:Capital:USD", D("-100.005"), "USD"),
        Posting("Assets:Cash:JPY", D("10.5"), "JPY"),
        Posting("Equity:Capital:JPY", D("-10.5"), "JPY"),
        Posting("Assets:Securities:US-AAA", D("0"), "USD", quantity=D("1.0000001")),
        Posting("Assets:Cash:USD", D("1.10"), "USD"),  # trailing zero: 1 place really used
        Posting("Equity:Capital:USD", D("-1.1"), "USD"),
    )
    problems = validate_draft(journal, accounts=None)
    assert [(p.field, p.reason) for p in problems] == [
        ("postings[0].amount", "TOO_PRECISE"),
        ("postings[1].amount", "TOO_PRECISE"),
        ("postings[2].amount", "TOO_PRECISE"),
        ("postings[3].amount", "TOO_PRECISE"),
        ("postings[4].quantity", "TOO_PRECISE"),
    ]
    assert problems[0].message == "posting 0: 100.005 USD has 3 decimal places; USD allows at most 2"
    assert problems[2].message == "posting 2: 10.5 JPY has 1 decimal places; JPY allows at most 0"
    assert "at most 6" in problems[4].message and "posting 4" in problems[4].message


def test_unknown_closed_and_not_yet_open_accounts_are_named() -> None:
    journal = draft(
        Posting("Assets:Cash:USD", D("3.00"), "USD"),
        Posting("Assets:Suspense:USD", D("-1.00"), "USD"),
        Posting("Expenses:Fees:USD", D("-1.00"), "USD"),
        Posting("Income:Interest:USD", D("-1.00"), "USD"),
    )
    chart = {
        "Assets:Cash:USD": account("Assets:Cash:USD"),
        "Expenses:Fees:USD": account("Expenses:Fees:USD", closed=dt.date(2024, 3, 1)),
        "Income:Interest:USD": account("Income:Interest:USD", opened=dt.date(2024, 3, 6)),
    }
    problems = validate_draft(journal, accounts=chart)
    assert [(p.field, p.reason) for p in problems] == [
        ("postings[1].account", "UNKNOWN_ACCOUNT"),
        ("postings[2].account", "CLOSED_ACCOUNT"),
        ("postings[3].account", "NOT_YET_OPEN"),
    ]
    assert problems[0].message == "posting 1: account Assets:Suspense:USD does not exist"
    assert "Expenses:Fees:USD was closed on 2024-03-01" in problems[1].message
    assert "Income:Interest:USD opens on 2024-03-06" in problems[2].message


def test_structural_problems_are_collected_together() -> None:
    journal = draft(Posting("assets:cash", D("0"), "USD"), key="  ", mandate_id="")
    assert reasons(validate_draft(journal, accounts=None)) == [
        "EMPTY_KEY",
        "EMPTY_MANDATE",
        "TOO_FEW_POSTINGS",
        "BAD_ACCOUNT_NAME",
    ]


def test_currency_must_match_the_account_and_be_known() -> None:
    journal = draft(
        Posting("Assets:Cash:USD", D("1.00"), "EUR"), Posting("Equity:Capital:CHF", D("-1.00"), "CHF")
    )
    problems = validate_draft(journal, accounts=None)
    assert [(p.field, p.reason) for p in problems] == [
        ("postings[0].currency", "CURRENCY_MISMATCH"),
        ("postings[1].currency", "UNKNOWN_CURRENCY"),
        ("postings", "UNBALANCED"),  # EUR 1.00 has no counterpart
        ("postings", "UNBALANCED"),  # nor CHF -1.00
    ]
    assert problems[0].message == "posting 0: Assets:Cash:USD holds USD, not EUR"


def test_base_amounts_fill_and_a_rounding_leg_balances_base() -> None:
    journal = draft(
        Posting("Assets:Cash:EUR", D("0.01"), "EUR"),
        Posting("Assets:Suspense:EUR", D("0.01"), "EUR"),
        Posting("Equity:Capital:EUR", D("-0.02"), "EUR"),
        Posting("Assets:Cash:USD", D("5.00"), "USD"),
        Posting("Equity:Capital:USD", D("-5.00"), "USD"),
    )
    filled = with_base_amounts(journal, "USD", lambda ccy: {"EUR": D("1.5")}[ccy])
    # 0.01 x 1.5 = 0.015 -> 0.02 (half-even); twice; -0.02 x 1.5 = -0.03. Base sum 0.02 + 0.02 - 0.03 = 0.01,
    # so a 0-amount Income:FxRevaluation:USD leg carries base -0.01. USD legs keep their amount as base.
    assert [p.base_amount for p in filled.postings] == [
        D("0.02"),
        D("0.02"),
        D("-0.03"),
        D("5.00"),
        D("-5.00"),
        D("-0.01"),
    ]
    rounding = filled.postings[-1]
    assert (rounding.account, rounding.amount, rounding.currency) == ("Income:FxRevaluation:USD", 0, "USD")
    assert validate_draft(filled, accounts=None, base_currency="USD") == []
    # Base amounts already given are kept.
    given = draft(Posting("Assets:Cash:EUR", D("1.00"), "EUR", base_amount=D("1.11")),
                  Posting("Equity:Capital:EUR", D("-1.00"), "EUR", base_amount=D("-1.11")))  # fmt: skip
    assert with_base_amounts(given, "USD", lambda ccy: D(2)) == given


def test_unbalanced_or_too_precise_base_amounts_are_reported() -> None:
    journal = draft(
        Posting("Assets:Cash:EUR", D("1.00"), "EUR", base_amount=D("1.105")),
        Posting("Equity:Capital:EUR", D("-1.00"), "EUR", base_amount=D("-1.10")),
    )
    problems = validate_draft(journal, accounts=None, base_currency="USD")
    assert [(p.field, p.reason) for p in problems] == [
        ("postings[0].base_amount", "TOO_PRECISE"),
        ("postings", "UNBALANCED_BASE"),
    ]
    assert problems[1].message == "base amounts (USD) are out by 0.005"
