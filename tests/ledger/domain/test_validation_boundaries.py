"""validate_draft at its edges: account open and close dates, the precision each figure may carry,
the number of postings, base amounts only partly filled, and the base rounding leg of
with_base_amounts in both directions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.ledger.domain.records import Account, JournalDraft, Posting
from services.ledger.domain.validation import Problem, base_mismatches, validate_draft, with_base_amounts
from tests.ledger.domain.builders import DRAFT_DAY as DAY
from tests.ledger.domain.builders import draft

D = Decimal
ONE_DAY = dt.timedelta(days=1)


def cash_against_capital(amount: str, ccy: str = "USD", **cash_fields: Decimal) -> JournalDraft:
    return draft(
        Posting(f"Assets:Cash:{ccy}", D(amount), ccy, **cash_fields),
        Posting(f"Equity:Capital:{ccy}", -D(amount), ccy),
    )


def fields(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.field, p.reason) for p in problems]


# ------------------------------------------------------------------ account dates


def _fee_account(opened: dt.date = dt.date(2024, 1, 2), closed: dt.date | None = None) -> dict[str, Account]:
    return {
        "Assets:Cash:USD": Account("M1", "Assets:Cash:USD", "USD", dt.date(2024, 1, 2)),
        "Expenses:Fees:USD": Account("M1", "Expenses:Fees:USD", "USD", opened, closed_on=closed),
    }


FEE = draft(Posting("Expenses:Fees:USD", D("1.00"), "USD"), Posting("Assets:Cash:USD", D("-1.00"), "USD"))


def test_a_posting_the_day_before_its_account_closes_is_accepted() -> None:
    assert validate_draft(FEE, accounts=_fee_account(closed=DAY + ONE_DAY)) == []


@pytest.mark.parametrize("closed", [DAY, DAY - ONE_DAY], ids=["closes-that-day", "closed-the-day-before"])
def test_a_posting_on_or_after_the_day_its_account_closes_is_refused(closed: dt.date) -> None:
    # closed_on is the first day the account no longer takes postings.
    assert validate_draft(FEE, accounts=_fee_account(closed=closed)) == [
        Problem(
            "postings[0].account",
            f"posting 0: account Expenses:Fees:USD was closed on {closed.isoformat()} "
            "(the journal is dated 2024-03-05)",
            "CLOSED_ACCOUNT",
        )
    ]


@pytest.mark.parametrize("opened", [DAY, DAY - ONE_DAY], ids=["opens-that-day", "opened-the-day-before"])
def test_a_posting_on_or_after_the_day_its_account_opens_is_accepted(opened: dt.date) -> None:
    assert validate_draft(FEE, accounts=_fee_account(opened=opened)) == []


def test_a_posting_the_day_before_its_account_opens_is_refused() -> None:
    assert validate_draft(FEE, accounts=_fee_account(opened=DAY + ONE_DAY)) == [
        Problem(
            "postings[0].account",
            "posting 0: account Expenses:Fees:USD opens on 2024-03-06, after the journal's date 2024-03-05",
            "NOT_YET_OPEN",
        )
    ]


# ------------------------------------------------------------------ precision


@pytest.mark.parametrize(
    ("amount", "ccy"),
    [("0.1", "USD"), ("0.01", "USD"), ("0.01", "GBP"), ("5", "JPY"), ("50E+1", "JPY")],
)
def test_amounts_up_to_the_minor_unit_are_accepted(amount: str, ccy: str) -> None:
    assert validate_draft(cash_against_capital(amount, ccy), accounts=None) == []


@pytest.mark.parametrize(
    ("amount", "ccy", "places", "allowed"),
    [("0.001", "USD", 3, 2), ("0.001", "EUR", 3, 2), ("0.5", "JPY", 1, 0)],
)
def test_an_amount_one_place_finer_than_the_minor_unit_is_refused(
    amount: str, ccy: str, places: int, allowed: int
) -> None:
    problems = validate_draft(cash_against_capital(amount, ccy), accounts=None)
    assert problems == [
        Problem(
            "postings[0].amount",
            f"posting 0: {amount} {ccy} has {places} decimal places; {ccy} allows at most {allowed}",
            "TOO_PRECISE",
        ),
        Problem(
            "postings[1].amount",
            f"posting 1: -{amount} {ccy} has {places} decimal places; {ccy} allows at most {allowed}",
            "TOO_PRECISE",
        ),
    ]


@pytest.mark.parametrize("base", ["0.1", "0.01"])
def test_base_amounts_up_to_the_base_minor_unit_are_accepted(base: str) -> None:
    journal = draft(
        Posting("Assets:Cash:EUR", D("1.00"), "EUR", base_amount=D(base)),
        Posting("Equity:Capital:EUR", D("-1.00"), "EUR", base_amount=-D(base)),
    )
    assert validate_draft(journal, accounts=None, base_currency="USD") == []


def test_a_base_amount_finer_than_the_base_minor_unit_is_refused_with_the_limit() -> None:
    journal = draft(
        Posting("Assets:Cash:EUR", D("1.00"), "EUR", base_amount=D("0.001")),
        Posting("Equity:Capital:EUR", D("-1.00"), "EUR", base_amount=D("-0.001")),
    )
    # JPY allows no decimals, so a USD mandate's 0.01 would be fine but a JPY mandate's is not.
    assert fields(validate_draft(journal, accounts=None, base_currency="JPY")) == [
        ("postings[0].base_amount", "TOO_PRECISE"),
        ("postings[1].base_amount", "TOO_PRECISE"),
    ]
    [first, _] = validate_draft(journal, accounts=None, base_currency="USD")
    assert first == Problem(
        "postings[0].base_amount",
        "posting 0: base amount 0.001 USD has 3 decimal places; USD allows at most 2",
        "TOO_PRECISE",
    )


def test_base_amounts_are_not_checked_without_a_base_currency() -> None:
    journal = draft(
        Posting("Assets:Cash:EUR", D("1.00"), "EUR", base_amount=D("0.001")),
        Posting("Equity:Capital:EUR", D("-1.00"), "EUR", base_amount=D("-0.002")),
    )
    # Neither the precision (3 places) nor the balance (0.001 - 0.002 = -0.001) of base amounts is checked.
    assert validate_draft(journal, accounts=None) == []


@pytest.mark.parametrize("quantity", ["0.000001", "1.5"])
def test_quantities_up_to_six_places_are_accepted(quantity: str) -> None:
    journal = draft(
        Posting("Assets:Securities:US-AAA", D("1.00"), "USD", quantity=D(quantity)),
        Posting("Assets:Cash:USD", D("-1.00"), "USD"),
    )
    assert validate_draft(journal, accounts=None) == []


def test_a_quantity_with_seven_places_is_refused_with_the_limit() -> None:
    journal = draft(
        Posting("Assets:Cash:USD", D("-1.00"), "USD"),
        Posting("Assets:Securities:US-AAA", D("1.00"), "USD", quantity=D("0.0000001")),
    )
    assert validate_draft(journal, accounts=None) == [
        Problem(
            "postings[1].quantity",
            "posting 1: quantity 0.0000001 has 7 decimal places; at most 6 allowed",
            "TOO_PRECISE",
        )
    ]


@pytest.mark.parametrize(
    ("name", "posting"),
    [
        ("amount", Posting("Assets:Cash:USD", D("NaN"), "USD")),
        ("base_amount", Posting("Assets:Cash:USD", D("1.00"), "USD", base_amount=D("Infinity"))),
        ("quantity", Posting("Assets:Securities:US-AAA", D("1.00"), "USD", quantity=D("-Infinity"))),
    ],
)
def test_a_figure_that_is_not_a_number_is_named_and_stops_the_balance_check(
    name: str, posting: Posting
) -> None:
    journal = draft(Posting("Equity:Capital:USD", D("-1.00"), "USD"), posting)
    value = getattr(posting, name)
    # Only NOT_FINITE: a sum with NaN or an infinity says nothing, so no UNBALANCED follows.
    assert validate_draft(journal, accounts=None, base_currency="USD") == [
        Problem(f"postings[1].{name}", f"posting 1: {name} {value} is not a number", "NOT_FINITE")
    ]


def test_every_figure_that_is_not_a_number_is_reported_and_precision_is_skipped() -> None:
    # Amount NaN, base amount 0.001 (too precise if checked) and quantity Infinity on one posting:
    # the two non-numbers are named; the precision check of that posting is skipped.
    journal = draft(
        Posting("Assets:Cash:USD", D("NaN"), "USD", base_amount=D("0.001"), quantity=D("Infinity")),
        Posting("Equity:Capital:USD", D("-1.00"), "USD"),
    )
    assert fields(validate_draft(journal, accounts=None, base_currency="USD")) == [
        ("postings[0].amount", "NOT_FINITE"),
        ("postings[0].quantity", "NOT_FINITE"),
    ]


# ------------------------------------------------------------------ structure


def test_one_posting_is_too_few_and_two_are_enough() -> None:
    lone = draft(Posting("Assets:Cash:USD", D("0"), "USD"))
    assert validate_draft(lone, accounts=None) == [
        Problem("postings", "a journal needs at least 2 postings, this one has 1", "TOO_FEW_POSTINGS")
    ]
    assert validate_draft(draft(), accounts=None) == [
        Problem("postings", "a journal needs at least 2 postings, this one has 0", "TOO_FEW_POSTINGS")
    ]
    assert validate_draft(cash_against_capital("0"), accounts=None) == []


def test_blank_key_and_mandate_are_named() -> None:
    journal = draft(
        Posting("Assets:Cash:USD", D("1.00"), "USD"),
        Posting("Equity:Capital:USD", D("-1.00"), "USD"),
        key=" \t",
        mandate_id="  ",
    )
    assert validate_draft(journal, accounts=None) == [
        Problem("idempotency_key", "an idempotency key is required", "EMPTY_KEY"),
        Problem("mandate_id", "a mandate id is required", "EMPTY_MANDATE"),
    ]


def test_a_bad_account_name_says_what_a_valid_one_looks_like() -> None:
    journal = draft(Posting("Cash:USD", D("1.00"), "USD"), Posting("Equity:Capital:USD", D("-1.00"), "USD"))
    [problem] = validate_draft(journal, accounts=None)
    assert problem == Problem(
        "postings[0].account",
        "posting 0: 'Cash:USD' is not a valid account name (it must start with one of "
        "Assets, Liabilities, Equity, Income, Expenses, and each further part must start with a capital "
        "letter or digit and hold only letters, digits and dashes)",
        "BAD_ACCOUNT_NAME",
    )


def test_an_unknown_currency_names_the_known_ones() -> None:
    [problem, *_] = validate_draft(cash_against_capital("1.00", "CHF"), accounts=None)
    assert problem == Problem(
        "postings[0].currency",
        "posting 0: currency 'CHF' is not one of USD, EUR, GBP, JPY",
        "UNKNOWN_CURRENCY",
    )


def test_an_account_without_a_currency_suffix_takes_any_currency() -> None:
    # Securities accounts end in an instrument id, Equity:Capital in nothing: no CURRENCY_MISMATCH.
    journal = draft(
        Posting("Assets:Securities:US-AAA", D("1.00"), "EUR", quantity=D(1)),
        Posting("Equity:Capital", D("-1.00"), "EUR"),
    )
    assert validate_draft(journal, accounts=None) == []


# ------------------------------------------------------------------ base amounts partly filled


def test_partly_filled_base_amounts_are_not_checked_for_balance_until_all_are_filled() -> None:
    partly = draft(
        Posting("Assets:Cash:EUR", D("1.00"), "EUR", base_amount=D("1.10")),
        Posting("Equity:Capital:EUR", D("-1.00"), "EUR"),
    )
    # The one base amount given (1.10) does not sum to zero, but the other is still to be filled.
    assert validate_draft(partly, accounts=None, base_currency="USD") == []
    filled = with_base_amounts(partly, "USD", lambda ccy: {"EUR": D("1.2")}[ccy])
    # Given 1.10 kept; -1.00 x 1.2 = -1.20 filled; base sum 1.10 - 1.20 = -0.10, so a rounding leg of
    # +0.10 balances it.
    assert [p.base_amount for p in filled.postings] == [D("1.10"), D("-1.20"), D("0.10")]
    assert validate_draft(filled, accounts=None, base_currency="USD") == []
    # Once every base amount is there, an imbalance is reported.
    unbalanced = draft(
        *partly.postings[:1], Posting("Equity:Capital:EUR", D("-1.00"), "EUR", base_amount=D("-1.20"))
    )
    assert validate_draft(unbalanced, accounts=None, base_currency="USD") == [
        Problem("postings", "base amounts (USD) are out by -0.10", "UNBALANCED_BASE")
    ]


def test_a_negative_base_rounding_remainder_gets_its_own_leg() -> None:
    journal = draft(
        Posting("Assets:Cash:EUR", D("-0.01"), "EUR"),
        Posting("Assets:Suspense:EUR", D("-0.01"), "EUR"),
        Posting("Equity:Capital:EUR", D("0.02"), "EUR"),
    )
    filled = with_base_amounts(journal, "USD", lambda ccy: {"EUR": D("1.5")}[ccy])
    # -0.01 x 1.5 = -0.015 -> -0.02 (half-even: 2 is even), twice; 0.02 x 1.5 = 0.03.
    # Base sum -0.02 - 0.02 + 0.03 = -0.01, so a leg of base +0.01 (amount 0 USD) balances it.
    assert [p.base_amount for p in filled.postings] == [D("-0.02"), D("-0.02"), D("0.03"), D("0.01")]
    rounding = filled.postings[-1]
    assert rounding == Posting(
        "Income:FxRevaluation:USD", D(0), "USD", base_amount=D("0.01"), memo="FX rounding of converted legs"
    )
    assert validate_draft(filled, accounts=None, base_currency="USD") == []


def test_converted_legs_that_sum_to_zero_need_no_rounding_leg() -> None:
    journal = draft(
        Posting("Assets:Cash:EUR", D("2.00"), "EUR"), Posting("Equity:Capital:EUR", D("-2.00"), "EUR")
    )
    filled = with_base_amounts(journal, "USD", lambda ccy: {"EUR": D("1.5")}[ccy])
    # 2.00 x 1.5 = 3.00 and -3.00: base sums to zero, no third leg.
    assert [p.base_amount for p in filled.postings] == [D("3.00"), D("-3.00")]


def test_a_base_currency_leg_is_not_converted() -> None:
    def no_rate(ccy: str) -> Decimal:
        raise AssertionError(f"no rate should be asked for {ccy}")

    journal = cash_against_capital("7.25", "GBP")
    filled = with_base_amounts(journal, "GBP", no_rate)
    assert [p.base_amount for p in filled.postings] == [D("7.25"), D("-7.25")]


# ------------------------------------------------------------------ imbalance messages


def test_an_imbalance_of_less_than_one_unit_shows_its_debits_and_credits() -> None:
    journal = draft(
        Posting("Assets:Cash:USD", D("0.50"), "USD"), Posting("Equity:Capital:USD", D("-0.40"), "USD")
    )
    # 0.50 - 0.40 = 0.10 out; both legs are below one dollar and still count.
    assert validate_draft(journal, accounts=None) == [
        Problem("postings", "USD is out by 0.10: debits 0.50, credits 0.40", "UNBALANCED")
    ]


def test_an_imbalance_with_only_credits_or_only_debits_shows_the_empty_side_as_zero() -> None:
    journal = draft(
        Posting("Equity:Capital:EUR", D("-1.00"), "EUR"),
        Posting("Income:Interest:EUR", D("-2.00"), "EUR"),
        Posting("Assets:Cash:GBP", D("3.00"), "GBP"),
        Posting("Assets:Suspense:GBP", D("0.25"), "GBP"),
    )
    # EUR: -1.00 - 2.00 = -3.00, no debits; GBP: 3.00 + 0.25 = 3.25, no credits.
    assert [p.message for p in validate_draft(journal, accounts=None)] == [
        "EUR is out by -3.00: debits 0, credits 3.00",
        "GBP is out by 3.25: debits 3.25, credits 0",
    ]


# ------------------------------------------------------------------ base-currency postings


@pytest.mark.parametrize("base", ["999.99", "1000.01", "1.00"])
def test_a_base_currency_posting_whose_base_amount_is_not_its_amount_is_refused(base: str) -> None:
    # One cent either side of 1000.00, and the 1.00: an EUR posting in an EUR mandate is in base.
    journal = draft(
        Posting("Assets:Cash:EUR", D("1000.00"), "EUR", base_amount=D(base)),
        Posting("Equity:Capital:EUR", D("-1000.00"), "EUR", base_amount=-D(base)),
    )
    assert base_mismatches(journal.postings, "EUR") == [
        Problem(
            "postings[0].base_amount",
            f"posting 0: a EUR posting is already in base, so its base amount must equal its amount "
            f"1000.00, not {base}; leave base_amount unset",
            "BASE_MISMATCH",
        ),
        Problem(
            "postings[1].base_amount",
            f"posting 1: a EUR posting is already in base, so its base amount must equal its amount "
            f"-1000.00, not -{base}; leave base_amount unset",
            "BASE_MISMATCH",
        ),
    ]
    assert ("postings[0].base_amount", "BASE_MISMATCH") in fields(
        validate_draft(journal, accounts=None, base_currency="EUR")
    )


def test_base_amounts_equal_to_the_amount_or_on_other_currencies_pass() -> None:
    journal = draft(
        Posting("Assets:Cash:EUR", D("1000.00"), "EUR", base_amount=D("1000.00")),
        Posting("Assets:Cash:USD", D("-1100.00"), "USD", base_amount=D("-1000.00")),
    )
    assert base_mismatches(journal.postings, "EUR") == []
    # In a USD mandate the USD leg is the base one: -1100.00 carrying -1000.00 is refused.
    assert [p.field for p in base_mismatches(journal.postings, "USD")] == ["postings[1].base_amount"]


def test_only_the_zero_amount_fx_revaluation_line_carries_a_base_amount_of_its_own() -> None:
    line = Posting("Income:FxRevaluation:EUR", D(0), "EUR", base_amount=D("-0.01"))
    assert base_mismatches([line], "EUR") == []
    # The same trick on another account, or with an amount, is refused.
    elsewhere = Posting("Income:Fees:EUR", D(0), "EUR", base_amount=D("-0.01"))
    with_amount = Posting("Income:FxRevaluation:EUR", D("0.01"), "EUR", base_amount=D("-0.01"))
    assert [p.field for p in base_mismatches([elsewhere, with_amount], "EUR")] == [
        "postings[0].base_amount",
        "postings[1].base_amount",
    ]


# ------------------------------------------------------------------ the ledger's range


def test_figures_up_to_the_limit_are_accepted() -> None:
    # 10^12 exactly, in amount and quantity: the largest the storage holds (10^18 micro-units).
    journal = draft(
        Posting("Assets:Securities:X", D("1000000000000.00"), "USD", quantity=D("1000000000000")),
        Posting("Assets:Cash:USD", D("-1000000000000.00"), "USD"),
    )
    assert validate_draft(journal, accounts=None, base_currency="USD") == []


def test_a_figure_one_cent_past_the_limit_is_refused_and_no_false_imbalance_is_named() -> None:
    journal = draft(
        Posting("Assets:Cash:USD", D("1000000000000.01"), "USD"),
        Posting("Equity:Capital:USD", D("-1000000000000.01"), "USD"),
    )
    assert fields(validate_draft(journal, accounts=None)) == [
        ("postings[0].amount", "OUT_OF_RANGE"),
        ("postings[1].amount", "OUT_OF_RANGE"),
    ]
    [first, _] = validate_draft(journal, accounts=None)
    assert first.message == (
        "posting 0: amount 1000000000000.01 is beyond the ledger's limit of 1,000,000,000,000 either way; "
        "split it over several journals"
    )


def test_past_28_digits_the_refusal_is_the_range_not_an_imbalance() -> None:
    # Balanced exactly: 10^27 + 0.60 + 0.60 = 10^27 + 1.20. Summed with 28-digit precision the debits
    # round up twice (10^27 + 0.60 -> ...001, + 0.60 -> ...002) and the credit once (...001), which
    # the balance check would report as "USD is out by 1". The range refusal comes first, alone.
    big = D(10) ** 27
    journal = draft(
        Posting("Assets:Cash:USD", big, "USD"),
        Posting("Assets:Cash:USD", D("0.60"), "USD"),
        Posting("Assets:Cash:USD", D("0.60"), "USD"),
        Posting("Equity:Capital:USD", -(big + D("1.20")), "USD"),
    )
    assert {reason for _, reason in fields(validate_draft(journal, accounts=None))} == {"OUT_OF_RANGE"}


@pytest.mark.parametrize("name", ["base_amount", "quantity"])
def test_base_amounts_and_quantities_have_the_same_limit(name: str) -> None:
    posting = Posting("Assets:Securities:X", D("1.00"), "EUR", **{name: D("1000000000000.000001")})
    journal = draft(posting, Posting("Assets:Cash:EUR", D("-1.00"), "EUR"))
    assert (f"postings[0].{name}", "OUT_OF_RANGE") in fields(validate_draft(journal, accounts=None))


def test_a_mismatch_after_the_fx_revaluation_line_is_still_found() -> None:
    # The exempt line first must not end the check: the EUR posting after it is still refused.
    journal = [
        Posting("Income:FxRevaluation:EUR", D(0), "EUR", base_amount=D("-0.01")),
        Posting("Assets:Cash:EUR", D("5.00"), "EUR", base_amount=D("5.01")),
    ]
    assert [p.field for p in base_mismatches(journal, "EUR")] == ["postings[1].base_amount"]
