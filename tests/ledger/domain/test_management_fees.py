"""Management fees in the ledger (docs/ledger-design.md): fee.accrued books Dr
Expenses:ManagementFees, Cr Liabilities:AccruedFees; the monthly cashflow.fee settles the
liability, Dr Liabilities:AccruedFees, Cr Assets:Cash.

The examples are worked out by hand in the comments; the property runs a simulated year without
faults through the posting rules.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from services.common.market_events import CashFlow, CashFlowKind, FeeAccrual
from services.ledger.domain import chart
from services.ledger.domain.records import JournalKind
from services.ledger.domain.validation import imbalance

from .builders import D1, D2, balances, legs, new_book, started
from .sim_runs import simulated_run

D = Decimal
YEAR = 252


def test_an_accrual_books_the_expense_against_the_liability_and_the_payment_clears_it() -> None:
    stream = started(D1)  # Monday 2024-03-04: regime mkt-1, EURUSD mkt-2
    # Monday's accrual covers Fri -> Mon, 3 days: 1,000,000.00 x 0.0050 x 3 / 365
    # = 15,000 / 365 = 41.0958... -> 41.10.
    [accrual] = stream.fee_accrued(D1, "M-FIFO", "41.10", nav="1000000.00", rate="0.0050", days=3)
    assert accrual.kind is JournalKind.ACCRUAL
    assert accrual.idempotency_key == "mkt:mkt-3" and accrual.source_event_id == "mkt-3"
    assert accrual.effective_date == D1 and accrual.mandate_id == "M-FIFO"
    assert legs(accrual) == [
        ("Expenses:ManagementFees:USD", D("41.10"), "USD"),
        ("Liabilities:AccruedFees:USD", D("-41.10"), "USD"),
    ]
    assert "1000000.00 USD x 0.0050 x 3 / 365" in accrual.memo
    stream.day_end(D1)
    stream.regime(D2)
    # Tuesday: 1 day, 1,000,000.00 x 0.0050 / 365 = 13.6986... -> 13.70.
    [tuesday] = stream.fee_accrued(D2, "M-FIFO", "13.70", nav="1000000.00", rate="0.0050", days=1)
    assert legs(tuesday) == [
        ("Expenses:ManagementFees:USD", D("13.70"), "USD"),
        ("Liabilities:AccruedFees:USD", D("-13.70"), "USD"),
    ]
    # Owed: 41.10 + 13.70 = 54.80. Paid (cash flow -54.80): Dr AccruedFees 54.80, Cr Cash 54.80.
    [payment] = stream.cash_flow(D2, "fee", "M-FIFO", "-54.80")
    assert payment.kind is JournalKind.FEE
    assert legs(payment) == [
        ("Assets:Cash:USD", D("-54.80"), "USD"),
        ("Liabilities:AccruedFees:USD", D("54.80"), "USD"),
    ]
    totals = balances(stream.drafts, "M-FIFO")
    assert totals[("Liabilities:AccruedFees:USD", "USD")] == 0
    assert totals[("Expenses:ManagementFees:USD", "USD")] == D("54.80")
    assert totals[("Assets:Cash:USD", "USD")] == D("-54.80")
    for draft in stream.drafts:
        assert imbalance(draft.postings) == {}
        assert sum(p.base_amount for p in draft.postings) == 0
    # Replayed into a fresh book, the same events post the same journals under the same keys.
    fresh = new_book()
    assert [d for event in stream.events for d in fresh.apply(event)] == stream.drafts


def test_a_zero_fee_posts_nothing() -> None:
    # A yen fund of 1,000 JPY at 0.0060 for 1 day: 1000 x 0.006 / 365 = 0.016 -> 0 yen.
    stream = started(D1)
    assert stream.fee_accrued(D1, "M-FIFO", "0", nav="1000", rate="0.0060", days=1, ccy="JPY") == []


def test_over_a_simulated_year_the_accrued_fees_are_paid_off_monthly_and_the_expense_is_their_sum() -> None:
    run = simulated_run(7, YEAR, 0.0)
    book = run.book()
    liability: dict[str, Decimal] = defaultdict(Decimal)
    expense: dict[str, Decimal] = defaultdict(Decimal)
    accrued: dict[str, list[FeeAccrual]] = defaultdict(list)
    payments: dict[str, int] = defaultdict(int)
    for event in run.events():
        drafts = book.apply(event)
        for draft in drafts:
            assert imbalance(draft.postings) == {}
            for posting in draft.postings:
                ccy = posting.currency
                if posting.account == chart.accrued_fees(ccy):
                    liability[draft.mandate_id] += posting.amount
                elif posting.account == chart.management_fees(ccy):
                    expense[draft.mandate_id] += posting.amount
        payload = event.payload
        if isinstance(payload, FeeAccrual):
            accrued[payload.mandate_id].append(payload)
            if payload.amount:
                [draft] = drafts
                assert draft.kind is JournalKind.ACCRUAL
                assert draft.idempotency_key == f"mkt:{event.event_id}"
        elif isinstance(payload, CashFlow) and payload.kind is CashFlowKind.FEE:
            m = payload.mandate_id
            payments[m] += 1
            [draft] = drafts
            assert legs(draft) == [
                (chart.cash(payload.currency), payload.amount, payload.currency),
                (chart.accrued_fees(payload.currency), -payload.amount, payload.currency),
            ]
            # After the payment the liability holds this month's accruals only (that morning's).
            month_start = event.sim_time.date().replace(day=1)
            this_month = sum((a.amount for a in accrued[m] if a.accrual_date >= month_start), D(0))
            assert this_month > 0
            assert liability[m] == -this_month, (event.event_id, liability[m], this_month)
    assert set(payments) == {m.mandate_id for m in run.mandates}
    # 252 business days from 2020-02-03 reach January 2021: a payment on the first business day of
    # each month from March 2020 to January 2021, 11 of them.
    assert all(count == 11 for count in payments.values()), payments
    for mandate in run.mandates:
        m = mandate.mandate_id
        total = sum((a.amount for a in accrued[m]), D(0))
        assert expense[m] == total > 0
        # What is still owed at the end is the accruals of the last month, not yet paid.
        last_day: dt.date = run.days[-1].result.date
        unpaid = sum((a.amount for a in accrued[m] if a.accrual_date >= last_day.replace(day=1)), D(0))
        assert liability[m] == -unpaid
