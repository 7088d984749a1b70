"""The trial balance's rule and the reversal of a journal, on hand-worked examples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.ledger.domain.records import BalanceLine, Journal, JournalDraft, JournalKind, Posting
from services.ledger.domain.reversal import reversal_draft
from services.ledger.domain.trial_balance import trial_balance_totals

D = Decimal
T = dt.datetime(2020, 3, 2, 21, tzinfo=dt.UTC)


def line(
    account: str, currency: str, debit: str, credit: str, base_debit: str, base_credit: str
) -> BalanceLine:
    return BalanceLine(account, currency, D(debit), D(credit), D(base_debit), D(base_credit))


def test_totals_add_up_per_currency_and_in_base() -> None:
    # A USD-based mandate holding EUR cash bought at 1.10:
    #   USD: cash 1,000.00 dr; capital 1,000.00 cr             -> 1,000.00 = 1,000.00
    #   EUR: cash 500.00 dr (550.00 USD); payable 500.00 cr (550.00 USD)
    #   base: 1,000.00 + 550.00 = 1,550.00 debit, 1,000.00 + 550.00 = 1,550.00 credit
    totals = trial_balance_totals(
        [
            line("Assets:Cash:USD", "USD", "1000.00", "0", "1000.00", "0"),
            line("Equity:Capital:USD", "USD", "0", "1000.00", "0", "1000.00"),
            line("Assets:Cash:EUR", "EUR", "500.00", "0", "550.00", "0"),
            line("Liabilities:PendingSettlement:EUR", "EUR", "0", "500.00", "0", "550.00"),
        ]
    )
    assert totals.debits == {"USD": D("1000.00"), "EUR": D("500.00")}
    assert totals.credits == {"USD": D("1000.00"), "EUR": D("500.00")}
    assert (totals.base_debit, totals.base_credit) == (D("1550.00"), D("1550.00"))
    assert totals.currencies == ["EUR", "USD"]
    assert totals.balanced


def test_one_cent_off_in_one_currency_or_in_base_is_not_balanced() -> None:
    usd = [
        line("Assets:Cash:USD", "USD", "1000.00", "0", "1000.00", "0"),
        line("Equity:Capital:USD", "USD", "0", "999.99", "0", "1000.00"),
    ]
    assert not trial_balance_totals(usd).balanced  # USD 1,000.00 dr vs 999.99 cr
    in_base = [
        line("Assets:Cash:EUR", "EUR", "500.00", "0", "550.01", "0"),
        line("Liabilities:PendingSettlement:EUR", "EUR", "0", "500.00", "0", "550.00"),
    ]
    assert not trial_balance_totals(in_base).balanced  # EUR agrees, base is 0.01 apart


def test_an_empty_ledger_is_balanced_with_no_currencies() -> None:
    totals = trial_balance_totals([])
    assert totals.balanced and totals.currencies == []


def _journal(effective: dt.date) -> Journal:
    draft = JournalDraft(
        mandate_id="BAL-USD",
        kind=JournalKind.TRADE,
        effective_date=effective,
        sim_time=T,
        postings=(
            Posting("Assets:Securities:US-AAPL", D("1500.00"), "USD", D("1500.00"), D("10"), "US-AAPL", "L1"),
            Posting("Liabilities:PendingSettlement:USD", D("-1500.00"), "USD", None),
        ),
        idempotency_key="mkt:mkt-7",
    )
    return Journal("J-1", 7, T, draft)


def test_a_reversal_mirrors_every_leg_and_links_to_the_original() -> None:
    original = _journal(dt.date(2020, 3, 2))
    reversal = reversal_draft(
        original, effective_date=dt.date(2020, 3, 5), sim_time=T, reason="booked twice", posted_by="ops"
    )
    assert reversal.kind == JournalKind.REVERSAL
    assert reversal.effective_date == dt.date(2020, 3, 5)
    security, payable = reversal.postings
    assert (security.amount, security.base_amount, security.quantity) == (
        D("-1500.00"),
        D("-1500.00"),
        D("-10"),
    )
    assert (security.instrument_id, security.lot_id) == ("US-AAPL", "L1")
    assert (payable.amount, payable.base_amount, payable.quantity) == (D("1500.00"), None, None)
    assert sum(p.amount for p in reversal.postings) == 0
    assert reversal.idempotency_key == "reverse:J-1"
    assert reversal.memo == "reversal of J-1: booked twice"
    assert (reversal.reverses_journal_id, reversal.reversal_reason) == ("J-1", "booked twice")
    assert reversal.caused_by == ("J-1",)
    assert reversal.posted_by == "ops"


def test_a_reversal_never_takes_effect_before_the_original() -> None:
    original = _journal(dt.date(2020, 3, 2))
    # One day before, on, and one day after the original's date.
    for asked, expected in [
        (dt.date(2020, 3, 1), dt.date(2020, 3, 2)),
        (dt.date(2020, 3, 2), dt.date(2020, 3, 2)),
        (dt.date(2020, 3, 3), dt.date(2020, 3, 3)),
    ]:
        assert (
            reversal_draft(original, effective_date=asked, sim_time=T, reason="r").effective_date == expected
        )


def test_a_given_idempotency_key_and_trace_are_kept() -> None:
    reversal = reversal_draft(
        _journal(dt.date(2020, 3, 2)),
        effective_date=dt.date(2020, 3, 2),
        sim_time=T,
        reason="r",
        idempotency_key="ops-ticket-12",
        trace_id="ab" * 16,
    )
    assert (reversal.idempotency_key, reversal.trace_id, reversal.posted_by) == (
        "ops-ticket-12",
        "ab" * 16,
        "api",
    )


def test_every_line_of_a_currency_counts_on_both_sides() -> None:
    # Two accounts credited in USD: 300.00 + 700.00 = 1,000.00 of credits against the 1,000.00 debit.
    totals = trial_balance_totals(
        [
            line("Assets:Cash:USD", "USD", "1000.00", "0", "1000.00", "0"),
            line("Liabilities:PendingSettlement:USD", "USD", "0", "300.00", "0", "300.00"),
            line("Equity:Capital:USD", "USD", "0", "700.00", "0", "700.00"),
        ]
    )
    assert totals.credits == {"USD": D("1000.00")}
    assert totals.balanced


def test_a_reversal_keeps_the_mandate_and_the_time_it_was_asked_and_no_trace_by_default() -> None:
    reversal = reversal_draft(
        _journal(dt.date(2020, 3, 2)), effective_date=dt.date(2020, 3, 2), sim_time=T, reason="r"
    )
    assert (reversal.mandate_id, reversal.sim_time, reversal.trace_id) == ("BAL-USD", T, "")
