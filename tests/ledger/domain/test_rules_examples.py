"""The posting rules on hand-computed examples (docs/ledger-design.md), one business event each.

Every expected figure is worked out in the comment above it. Events are
built by hand (builders.Stream) and applied to a two-mandate book: M-FIFO
(USD, FIFO) and M-AVG (USD, AVERAGE); instruments US-AAA (USD equity),
UST-2030 (USD bond) and EU-BBB (EUR equity).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.ledger.domain.records import JournalDraft, JournalKind, Posting
from services.ledger.domain.validation import imbalance, validate_draft, with_base_amounts

from .builders import D1, D2, D3, D4, TRACE_ID, Stream, balances, legs, new_book, started

D = Decimal


def check(stream: Stream) -> None:
    """Every draft so far balances per currency and in base, and passes validation."""
    for draft in stream.drafts:
        assert imbalance(draft.postings) == {}
        assert sum(p.base_amount for p in draft.postings) == 0
        base = stream.book.mandates[draft.mandate_id].base_currency
        assert validate_draft(draft, accounts=None, base_currency=base) == []


def test_equity_buy_books_position_costs_and_payable_on_trade_date() -> None:
    stream = started()
    # BUY 100 US-AAA @ 50.00: gross 100 x 50.00 = 5000.00; commission 5.00; fees 2.50;
    # net paid = 5000.00 + 5.00 + 2.50 = 5007.50.
    [draft] = stream.fill(
        D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "100", "50.00", gross="5000.00", commission="5.00", fees="2.50",
        net="5007.50",
    )  # fmt: skip
    assert draft.kind is JournalKind.TRADE
    assert draft.idempotency_key == "mkt:mkt-3" and draft.source_event_id == "mkt-3"
    assert draft.trace_id == TRACE_ID
    assert draft.effective_date == D1 and draft.mandate_id == "M-FIFO"
    assert sorted(legs(draft)) == sorted(
        [
            ("Assets:Securities:US-AAA", D("5000.00"), "USD"),
            ("Expenses:Commissions:USD", D("5.00"), "USD"),
            ("Expenses:Fees:USD", D("2.50"), "USD"),
            ("Liabilities:PendingSettlement:USD", D("-5007.50"), "USD"),
        ]
    )
    [securities] = [p for p in draft.postings if p.account == "Assets:Securities:US-AAA"]
    assert (securities.quantity, securities.lot_id, securities.instrument_id) == (D(100), "FIL-1", "US-AAA")
    # Base currency USD: every base amount is the amount itself.
    assert all(p.base_amount == p.amount for p in draft.postings)
    assert stream.book.positions("M-FIFO") == {"US-AAA": D(100)}
    assert stream.book.pending("M-FIFO") == {"FIL-1": D("-5007.50")}
    check(stream)


def test_settlement_moves_the_fills_net_amount_to_cash_not_the_custodians_figure() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "100", "50.00", gross="5000.00", commission="5.00",
                net="5005.00", settle=D3)  # fmt: skip
    stream.regime(D3)
    # The custodian reports a wrong cash figure (-5050.00); the ledger settles the fill's 5005.00.
    [draft] = stream.settlement(
        D3, "FIL-1", "M-FIFO", "US-AAA", settled=True, quantity="100", cash="-5050.00"
    )
    assert draft.kind is JournalKind.SETTLEMENT and draft.effective_date == D3
    assert legs(draft) == [
        ("Liabilities:PendingSettlement:USD", D("5005.00"), "USD"),
        ("Assets:Cash:USD", D("-5005.00"), "USD"),
    ]
    assert stream.book.pending("M-FIFO") == {}
    # Payable cleared: -5005.00 at trade + 5005.00 at settlement = 0.
    assert balances(stream.drafts, "M-FIFO")[("Liabilities:PendingSettlement:USD", "USD")] == 0
    check(stream)


def _two_lots_then_sell(mandate_id: str) -> tuple[Stream, list]:
    stream = started()
    # Lot 1: 100 @ 50.00 = 5000.00. Lot 2: 100 @ 60.00 = 6000.00. No costs, to keep the cost basis plain.
    stream.fill(D1, "FIL-1", mandate_id, "US-AAA", "BUY", "100", "50.00", gross="5000.00", net="5000.00")
    stream.fill(D1, "FIL-2", mandate_id, "US-AAA", "BUY", "100", "60.00", gross="6000.00", net="6000.00")
    stream.regime(D2)
    # SELL 150 @ 70.00: gross 150 x 70.00 = 10500.00; commission 5.00; fees 0.23;
    # net received = 10500.00 - 5.00 - 0.23 = 10494.77.
    drafts = stream.fill(
        D2, "FIL-3", mandate_id, "US-AAA", "SELL", "150", "70.00", gross="10500.00", commission="5.00",
        fees="0.23", net="10494.77",
    )  # fmt: skip
    return stream, drafts


def test_partial_sell_across_two_fifo_lots_realizes_the_gain() -> None:
    stream, [draft] = _two_lots_then_sell("M-FIFO")
    # FIFO: all of lot 1 (100, cost 5000.00) then 50 of lot 2 (cost 6000.00 x 50/100 = 3000.00).
    # Cost relieved 5000.00 + 3000.00 = 8000.00; realized gain = 10500.00 - 8000.00 = 2500.00 (credit).
    assert draft.kind is JournalKind.TRADE
    assert sorted(legs(draft)) == sorted(
        [
            ("Assets:PendingSettlement:USD", D("10494.77"), "USD"),
            ("Expenses:Commissions:USD", D("5.00"), "USD"),
            ("Expenses:Fees:USD", D("0.23"), "USD"),
            ("Assets:Securities:US-AAA", D("-5000.00"), "USD"),
            ("Assets:Securities:US-AAA", D("-3000.00"), "USD"),
            ("Income:RealizedGains:USD", D("-2500.00"), "USD"),
        ]
    )
    lots = [(p.lot_id, p.quantity) for p in draft.postings if p.account == "Assets:Securities:US-AAA"]
    assert lots == [("FIL-1", D(-100)), ("FIL-2", D(-50))]
    # Left: 50 of lot 2 at 6000.00 - 3000.00 = 3000.00.
    assert stream.book.lots["M-FIFO"]["US-AAA"].lots() == [("FIL-2", D(50), D("3000.00"))]
    assert stream.book.positions("M-FIFO") == {"US-AAA": D(50)}
    assert stream.book.pending("M-FIFO")["FIL-3"] == D("10494.77")
    check(stream)


def test_the_same_sell_under_average_cost() -> None:
    stream, [draft] = _two_lots_then_sell("M-AVG")
    # AVERAGE: pool 200 units at 5000.00 + 6000.00 = 11000.00 (55.00 each).
    # 150 x 55.00 = 8250.00 relieved; realized gain = 10500.00 - 8250.00 = 2250.00 (credit).
    securities = [
        (p.lot_id, p.quantity, p.amount) for p in draft.postings if p.account.startswith("Assets:Sec")
    ]
    assert securities == [("AVG", D(-150), D("-8250.00"))]
    assert ("Income:RealizedGains:USD", D("-2250.00"), "USD") in legs(draft)
    # Left: 50 units at 11000.00 - 8250.00 = 2750.00.
    assert stream.book.lots["M-AVG"]["US-AAA"].lots() == [("AVG", D(50), D("2750.00"))]
    check(stream)


def test_bond_buy_with_accrued_interest_then_coupon_and_mark() -> None:
    stream = started()
    stream.price(D1, "UST-2030", "101.500")
    # BUY 10000 face UST-2030 @ 101.500 clean: gross 10000 x 101.500 / 100 = 10150.00;
    # accrued 0.75 per 100 -> 10000 x 0.75 / 100 = 75.00; no commission; net = 10150.00 + 75.00 = 10225.00.
    [buy] = stream.fill(
        D1, "FIL-1", "M-FIFO", "UST-2030", "BUY", "10000", "101.500", gross="10150.00", accrued="75.00",
        net="10225.00", settle=D2,
    )  # fmt: skip
    assert sorted(legs(buy)) == sorted(
        [
            ("Assets:Securities:UST-2030", D("10150.00"), "USD"),
            ("Income:Interest:USD", D("75.00"), "USD"),
            ("Liabilities:PendingSettlement:USD", D("-10225.00"), "USD"),
        ]
    )
    # Day end D1 at the trade price: value 10000 x 101.500 / 100 = 10150.00 = cost, so no mark.
    assert stream.day_end(D1) == []
    stream.regime(D2)
    stream.price(D2, "UST-2030", "102.000")
    stream.settlement(D2, "FIL-1", "M-FIFO", "UST-2030", settled=True, quantity="10000", cash="-10225.00")
    # Coupon 3 % semiannual = 1.5 per 100: 10000 x 1.5 / 100 = 150.00.
    [coupon] = stream.cash_flow(D2, "coupon", "M-FIFO", "150.00", instrument_id="UST-2030", quantity="10000")
    assert coupon.kind is JournalKind.COUPON
    assert legs(coupon) == [
        ("Assets:Cash:USD", D("150.00"), "USD"),
        ("Income:Interest:USD", D("-150.00"), "USD"),
    ]
    # Interest income: 150.00 received - 75.00 bought = 75.00 (a credit balance).
    assert balances(stream.drafts, "M-FIFO")[("Income:Interest:USD", "USD")] == D("-75.00")
    # Cash: -10225.00 at settlement + 150.00 coupon = -10075.00.
    assert balances(stream.drafts, "M-FIFO")[("Assets:Cash:USD", "USD")] == D("-10075.00")
    # Day end D2, clean 102.000: value 10000 x 102.000 / 100 = 10200.00; unrealized 10200.00 - 10150.00 = 50.00.
    [mark] = stream.day_end(D2)
    assert (
        mark.kind is JournalKind.MARK_TO_MARKET and mark.idempotency_key == f"mkt:{stream.last_id}:mtm:M-FIFO"
    )
    assert legs(mark) == [
        ("Assets:Unrealized:UST-2030", D("50.00"), "USD"),
        ("Income:UnrealizedGains:USD", D("-50.00"), "USD"),
    ]
    check(stream)


def test_dividend_accrues_at_ex_date_on_the_opening_position_and_clears_at_pay_date() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "100", "50.00", gross="5000.00", net="5000.00")
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.37", ex_date=D2, pay_date=D4)
    # First event of the ex-date: 100 held at the start of D2 (M-AVG holds none, so nothing for it).
    # Accrual 100 x 0.37 = 37.00.
    [accrual] = stream.regime(D2)
    assert accrual.kind is JournalKind.ACCRUAL and accrual.mandate_id == "M-FIFO"
    assert accrual.idempotency_key == f"mkt:{stream.last_id}:accrual:CA-1:M-FIFO"
    assert accrual.effective_date == D2
    assert legs(accrual) == [
        ("Assets:AccruedIncome:USD", D("37.00"), "USD"),
        ("Income:Dividends:USD", D("-37.00"), "USD"),
    ]
    # Buying on the ex-date changes nothing for this dividend.
    stream.fill(D2, "FIL-2", "M-FIFO", "US-AAA", "BUY", "50", "50.00", gross="2500.00", net="2500.00")
    stream.regime(D3)
    assert stream.regime(D4) == []
    [paid] = stream.cash_flow(D4, "dividend", "M-FIFO", "37.00", instrument_id="US-AAA", action_id="CA-1",
                              quantity="100")  # fmt: skip
    assert paid.kind is JournalKind.DIVIDEND
    assert legs(paid) == [
        ("Assets:Cash:USD", D("37.00"), "USD"),
        ("Assets:AccruedIncome:USD", D("-37.00"), "USD"),
    ]
    totals = balances(stream.drafts, "M-FIFO")
    assert totals[("Assets:AccruedIncome:USD", "USD")] == 0
    assert totals[("Income:Dividends:USD", "USD")] == D("-37.00")
    check(stream)


def test_dividend_paid_other_than_accrued_clears_accrued_income_exactly() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "3", "50.00", gross="150.00", net="150.00")
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.333", ex_date=D2, pay_date=D3)
    # Accrual 3 x 0.333 = 0.999 -> 1.00 (half-even to the cent).
    [accrual] = stream.regime(D2)
    assert legs(accrual)[0] == ("Assets:AccruedIncome:USD", D("1.00"), "USD")
    stream.regime(D3)
    # Paid 0.99: cash 0.99, accrued cleared -1.00, the 0.01 difference back to Income:Dividends (+0.01).
    [paid] = stream.cash_flow(D3, "dividend", "M-FIFO", "0.99", instrument_id="US-AAA", action_id="CA-1")
    assert legs(paid) == [
        ("Assets:Cash:USD", D("0.99"), "USD"),
        ("Assets:AccruedIncome:USD", D("-1.00"), "USD"),
        ("Income:Dividends:USD", D("0.01"), "USD"),
    ]
    # A dividend with nothing accrued (CA-9 never announced) goes straight to income.
    [direct] = stream.cash_flow(D3, "dividend", "M-AVG", "12.00", instrument_id="US-AAA", action_id="CA-9")
    assert legs(direct) == [
        ("Assets:Cash:USD", D("12.00"), "USD"),
        ("Income:Dividends:USD", D("-12.00"), "USD"),
    ]
    check(stream)


def test_failed_settlement_stays_pending_until_a_later_settlement_and_duplicates_post_nothing() -> None:
    stream = started()
    # SELL 40 @ 55.00 after a buy of 100 @ 50.00: net 2200.00 receivable.
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "100", "50.00", gross="5000.00", net="5000.00",
                settle=D3)  # fmt: skip
    stream.fill(D1, "FIL-2", "M-FIFO", "US-AAA", "SELL", "40", "55.00", gross="2200.00", net="2200.00",
                settle=D3)  # fmt: skip
    stream.regime(D3)
    stream.settlement(D3, "FIL-1", "M-FIFO", "US-AAA", settled=True, quantity="100", cash="-5000.00")
    assert (
        stream.settlement(D3, "FIL-2", "M-FIFO", "US-AAA", settled=False, quantity="-40", cash="2200.00")
        == []
    )
    # Failed: still pending at D3's end and past its contractual date, so it ages.
    assert stream.book.pending("M-FIFO", due_by=D3) == {"FIL-2": D("2200.00")}
    stream.regime(D4)
    [late] = stream.settlement(D4, "FIL-2", "M-FIFO", "US-AAA", settled=True, quantity="-40", cash="2200.00")
    assert legs(late) == [
        ("Assets:Cash:USD", D("2200.00"), "USD"),
        ("Assets:PendingSettlement:USD", D("-2200.00"), "USD"),
    ]
    assert late.effective_date == D4
    # The custodian's duplicate booking settles again: nothing more is posted.
    assert (
        stream.settlement(D4, "FIL-2", "M-FIFO", "US-AAA", settled=True, quantity="-40", cash="2200.00") == []
    )
    assert stream.book.pending("M-FIFO") == {}
    # Cash: -5000.00 + 2200.00 = -2800.00; receivable cleared.
    totals = balances(stream.drafts, "M-FIFO")
    assert totals[("Assets:Cash:USD", "USD")] == D("-2800.00")
    assert totals[("Assets:PendingSettlement:USD", "USD")] == 0
    check(stream)


def test_subscription_and_redemption_move_capital() -> None:
    stream = started()
    [sub] = stream.cash_flow(D1, "subscription", "M-FIFO", "100000.00")
    assert sub.kind is JournalKind.SUBSCRIPTION
    assert legs(sub) == [
        ("Assets:Cash:USD", D("100000.00"), "USD"),
        ("Equity:Capital:USD", D("-100000.00"), "USD"),
    ]
    # Redemption: the cash flow is signed -25000.00 (out): Dr Capital 25000.00, Cr Cash 25000.00.
    [red] = stream.cash_flow(D1, "redemption", "M-FIFO", "-25000.00")
    assert red.kind is JournalKind.REDEMPTION
    assert sorted(legs(red)) == [
        ("Assets:Cash:USD", D("-25000.00"), "USD"),
        ("Equity:Capital:USD", D("25000.00"), "USD"),
    ]
    # Capital left: -100000.00 + 25000.00 = -75000.00 (credit).
    assert balances(stream.drafts, "M-FIFO")[("Equity:Capital:USD", "USD")] == D("-75000.00")
    # A management fee paid (cash flow -12.34) settles the fee accrued: Dr Liabilities:AccruedFees
    # 12.34, Cr Cash 12.34 (the expense was booked day by day by fee.accrued; see
    # test_management_fees.py).
    [fee] = stream.cash_flow(D1, "fee", "M-FIFO", "-12.34")
    assert fee.kind is JournalKind.FEE
    assert sorted(legs(fee)) == [
        ("Assets:Cash:USD", D("-12.34"), "USD"),
        ("Liabilities:AccruedFees:USD", D("12.34"), "USD"),
    ]
    check(stream)


def test_mark_to_market_posts_the_change_and_a_sell_reverses_unrealized_proportionally() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "100", "50.00", gross="5000.00", net="5000.00")
    stream.price(D1, "US-AAA", "52.35")
    # Day end D1: value 100 x 52.35 = 5235.00; unrealized 5235.00 - 5000.00 = 235.00.
    [mark1] = stream.day_end(D1)
    assert legs(mark1) == [
        ("Assets:Unrealized:US-AAA", D("235.00"), "USD"),
        ("Income:UnrealizedGains:USD", D("-235.00"), "USD"),
    ]
    stream.regime(D2)
    stream.price(D2, "US-AAA", "51.00")
    # Day end D2: 100 x 51.00 - 5000.00 = 100.00; change 100.00 - 235.00 = -135.00.
    [mark2] = stream.day_end(D2)
    assert legs(mark2) == [
        ("Assets:Unrealized:US-AAA", D("-135.00"), "USD"),
        ("Income:UnrealizedGains:USD", D("135.00"), "USD"),
    ]
    stream.regime(D3)
    stream.price(D3, "US-AAA", "51.00")
    # SELL 40 @ 51.00: gross 2040.00, cost 40 x 50.00 = 2000.00, gain 40.00;
    # unrealized reversed 100.00 x 40 / 100 = 40.00 (Cr Unrealized, Dr UnrealizedGains).
    [sell] = stream.fill(
        D3, "FIL-2", "M-FIFO", "US-AAA", "SELL", "40", "51.00", gross="2040.00", net="2040.00"
    )
    assert ("Assets:Unrealized:US-AAA", D("-40.00"), "USD") in legs(sell)
    assert ("Income:UnrealizedGains:USD", D("40.00"), "USD") in legs(sell)
    assert ("Income:RealizedGains:USD", D("-40.00"), "USD") in legs(sell)
    # Day end D3: 60 x 51.00 - 3000.00 = 60.00, already the balance (100.00 - 40.00): no mark journal.
    assert stream.day_end(D3) == []
    assert balances(stream.drafts, "M-FIFO")[("Assets:Unrealized:US-AAA", "USD")] == D("60.00")
    stream.regime(D4)
    # Selling the rest reverses what is left, whatever the proportion: 60.00.
    [rest] = stream.fill(
        D4, "FIL-3", "M-FIFO", "US-AAA", "SELL", "60", "51.00", gross="3060.00", net="3060.00"
    )
    assert ("Assets:Unrealized:US-AAA", D("-60.00"), "USD") in legs(rest)
    assert balances(stream.drafts, "M-FIFO")[("Assets:Unrealized:US-AAA", "USD")] == 0
    assert stream.book.positions("M-FIFO") == {}
    check(stream)


def test_fx_revaluation_of_non_base_balances_in_a_usd_mandate() -> None:
    stream = started()  # EURUSD 1.1000
    stream.price(D1, "EU-BBB", "30.00", "EUR")
    # BUY 10 EU-BBB @ 30.00 EUR: gross 300.00, commission 5.00, net 305.00 EUR.
    # Base at 1.1000: 300.00 -> 330.00, 5.00 -> 5.50, -305.00 -> -335.50 (sums to 0, no rounding leg).
    [buy] = stream.fill(D1, "FIL-1", "M-FIFO", "EU-BBB", "BUY", "10", "30.00", gross="300.00", commission="5.00",
                        net="305.00", ccy="EUR", settle=D2)  # fmt: skip
    assert [(p.account, p.amount, p.currency, p.base_amount) for p in buy.postings] == [
        ("Expenses:Commissions:EUR", D("5.00"), "EUR", D("5.50")),
        ("Assets:Securities:EU-BBB", D("300.00"), "EUR", D("330.00")),
        ("Liabilities:PendingSettlement:EUR", D("-305.00"), "EUR", D("-335.50")),
    ]
    # Day end D1, rate unchanged and price = cost: no mark, no revaluation.
    assert stream.day_end(D1) == []
    stream.regime(D2)
    stream.fx(D2, "EURUSD", "1.2000")
    stream.fx(D2, "EURGBP", "9.9999", vendor="cross")  # a distorted cross is never used
    stream.price(D2, "EU-BBB", "30.00", "EUR")
    # Settled at 1.2000: 305.00 EUR -> 366.00 USD on both legs.
    [settled] = stream.settlement(D2, "FIL-1", "M-FIFO", "EU-BBB", settled=True, quantity="10", cash="-305.00",
                                  ccy="EUR")  # fmt: skip
    assert [p.base_amount for p in settled.postings] == [D("366.00"), D("-366.00")]
    # Day end D2 at 1.2000 (non-base Assets and Liabilities only):
    #   Securities 300.00 EUR carried 330.00 -> 360.00: +30.00
    #   Payable 0.00 EUR carried -335.50 + 366.00 = 30.50 -> 0.00: -30.50
    #   Cash -305.00 EUR carried -366.00 -> -366.00: 0
    #   FX revaluation = -(30.00 - 30.50) = +0.50 (a loss: 305 EUR owed rose 30.50, 300 EUR held rose 30.00).
    [reval] = stream.day_end(D2)
    assert reval.kind is JournalKind.FX_REVALUATION
    assert reval.idempotency_key == f"mkt:{stream.last_id}:fx:M-FIFO"
    assert [(p.account, p.amount, p.currency, p.base_amount) for p in reval.postings] == [
        ("Assets:Securities:EU-BBB", D(0), "EUR", D("30.00")),
        ("Liabilities:PendingSettlement:EUR", D(0), "EUR", D("-30.50")),
        ("Income:FxRevaluation:USD", D(0), "USD", D("0.50")),
    ]
    # Nothing moves again at an unchanged rate.
    stream.regime(D3)
    assert stream.day_end(D3) == []
    check(stream)


def test_events_of_unknown_mandates_are_refused_with_a_name() -> None:
    stream = started()
    with pytest.raises(ValueError, match="M-NOPE"):
        stream.cash_flow(D1, "subscription", "M-NOPE", "1.00")


def test_observed_manual_journals_are_revalued_at_day_end() -> None:
    stream = started()  # EURUSD 1.1000
    # A manual journal (PostJournal) puts 100.00 EUR of suspense cash in the USD mandate at 1.1000 = 110.00 USD.
    manual = with_base_amounts(
        JournalDraft(
            mandate_id="M-FIFO",
            kind=JournalKind.MANUAL,
            effective_date=D1,
            sim_time=dt.datetime.combine(D1, dt.time(12), tzinfo=dt.UTC),
            postings=(
                Posting("Assets:Cash:EUR", D("100.00"), "EUR"),
                Posting("Assets:Suspense:EUR", D("-100.00"), "EUR"),
            ),
            idempotency_key="manual-1",
        ),
        "USD",
        lambda ccy: D("1.1000"),
    )
    stream.book.observe(manual)
    stream.fx(D1, "EURUSD", "1.0500")
    # Day end at 1.0500: cash 100.00 EUR carried 110.00 -> 105.00 (-5.00); suspense -100.00 carried -110.00 ->
    # -105.00 (+5.00). The changes cancel: no FxRevaluation leg is needed, the two legs balance in base.
    [reval] = stream.day_end(D1)
    assert [(p.account, p.amount, p.base_amount) for p in reval.postings] == [
        ("Assets:Cash:EUR", 0, D("-5.00")),
        ("Assets:Suspense:EUR", 0, D("5.00")),
    ]
    check(stream)


def test_rates_come_from_primary_quotes_crossed_through_usd() -> None:
    stream = Stream(new_book())
    assert stream.book.current_date is None
    stream.regime(D1)
    stream.fx(D1, "EURUSD", "1.2500")
    stream.fx(D1, "USDJPY", "110.00")
    stream.fx(D1, "EURJPY", "999.00", vendor="cross")  # ignored: crosses may be distorted
    assert stream.book.current_date == D1
    assert stream.book.rate("EUR", "USD") == D("1.2500")
    assert stream.book.rate("USD", "EUR") == D("0.8")  # 1 / 1.25
    # EURJPY through USD: 1.25 x 110.00 = 137.5.
    assert stream.book.rate("EUR", "JPY") == D("137.5")
    with pytest.raises(ValueError, match="GBP"):
        stream.book.rate("GBP", "USD")
