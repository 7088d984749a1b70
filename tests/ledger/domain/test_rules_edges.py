"""The posting rules at their edges: what each journal says in its memos and envelope, events the
book must ignore or refuse (with a message a person can act on), figures missing from an event,
and the day boundaries of accruals, pending settlements and forgotten dividends.

Expected memos are written out from the formats in docs/ledger-design.md and rules.py, figures
worked by hand in the comment above each check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from services.common.market_events import (
    AssetClass,
    CashFlow,
    CorporateAction,
    CorporateActionKind,
    Fill,
    Instrument,
    Mandate,
    MarketEvent,
    Payload,
    PriceQuote,
    Side,
)
from services.ledger.domain.records import JournalDraft, JournalKind, Posting
from services.ledger.domain.rules import LedgerBook

from .builders import D1, D2, D3, D4, TRACE_ID, legs, new_book, started

D = Decimal


def memos(draft) -> list[tuple[str, str]]:
    return [(p.account, p.memo) for p in draft.postings if p.memo]


def _event(
    seq: int, day: dt.date, payload: Payload, trace_id: str = "", caused_by: tuple[str, ...] = ()
) -> MarketEvent:
    return MarketEvent(
        seq=seq,
        event_id=f"evt-{seq}",
        sim_time=dt.datetime.combine(day, dt.time(16, 30), tzinfo=dt.UTC),
        kind="test",
        payload=payload,
        caused_by=caused_by,
        trace_id=trace_id,
    )


def _fill(fill_id: str, instrument_id: str, quantity: str, price: str, gross: str, ccy: str = "USD") -> Fill:
    """A BUY for M-FIFO without commission, fees or accrued interest, settling 2024-03-06."""
    return Fill(
        fill_id=fill_id,
        order_id="",
        mandate_id="M-FIFO",
        instrument_id=instrument_id,
        side=Side.BUY,
        quantity=D(quantity),
        price=D(price),
        currency=ccy,
        gross_amount=D(gross),
        accrued_interest=D(0),
        commission=D(0),
        fees=D(0),
        net_amount=D(gross),
        trade_date=D1,
        settle_date=dt.date(2024, 3, 6),
        broker="",
    )


# ------------------------------------------------------------------ memos


def test_trade_journals_say_what_was_traded_and_what_the_sale_realized() -> None:
    stream = started()
    [buy] = stream.fill(D1, "FIL-1", "M-FIFO", "UST-2030", "BUY", "1000", "101.500", gross="1015.00",
                        accrued="7.50", net="1022.50")  # fmt: skip
    assert buy.memo == "BUY 1000 UST-2030 @ 101.500 (FIL-1)"
    assert memos(buy) == [("Income:Interest:USD", "accrued interest bought")]
    stream.price(D1, "UST-2030", "102.000")
    # Mark: 1000 x 102.000 / 100 = 1020.00 - 1015.00 = 5.00.
    [mark] = stream.day_end(D1)
    assert mark.memo == "mark to market"
    assert memos(mark) == [("Assets:Unrealized:UST-2030", "UST-2030 marked at 102.000")]
    stream.regime(D2)
    # SELL 400 @ 102.000: gross 400 x 102.000 / 100 = 408.00; cost 1015.00 x 400 / 1000 = 406.00;
    # accrued 3.00 sold; unrealized reversed 5.00 x 400 / 1000 = 2.00.
    [sell] = stream.fill(D2, "FIL-2", "M-FIFO", "UST-2030", "SELL", "400", "102.000", gross="408.00",
                         accrued="3.00", net="411.00")  # fmt: skip
    assert sell.memo == "SELL 400 UST-2030 @ 102.000 (FIL-2)"
    assert memos(sell) == [
        ("Income:Interest:USD", "accrued interest sold"),
        ("Income:RealizedGains:USD", "proceeds 408.00 - cost 406.00"),
        ("Assets:Unrealized:UST-2030", "unrealized of the quantity sold"),
    ]
    assert ("Income:RealizedGains:USD", D("-2.00"), "USD") in legs(sell)
    # The securities leg names the instrument and the lot it relieves, with the quantity going out.
    [securities] = [p for p in sell.postings if p.account == "Assets:Securities:UST-2030"]
    assert (securities.amount, securities.quantity, securities.instrument_id, securities.lot_id) == (
        D("-406.00"),
        D(-400),
        "UST-2030",
        "FIL-1",
    )
    assert ("Assets:Unrealized:UST-2030", D("-2.00"), "USD") in legs(sell)


def test_settlement_accrual_and_cash_flow_journals_name_their_source() -> None:
    stream = started()
    stream.fill(
        D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "100", "50.00", gross="5000.00", net="5000.00", settle=D3
    )
    announced = stream.dividend_announced(D1, "CA-1", "US-AAA", "0.37", ex_date=D2, pay_date=D4)
    assert announced == []
    announcement_id = stream.last_id
    [accrual] = stream.regime(D2)
    # 100 held x 0.37 = 37.00.
    assert accrual.memo == "dividend CA-1 ex 2024-03-05: 100 US-AAA x 0.37 USD"
    assert accrual.caused_by == (announcement_id,)
    assert accrual.source_event_id == stream.last_id
    stream.regime(D3)
    [settled] = stream.settlement(
        D3, "FIL-1", "M-FIFO", "US-AAA", settled=True, quantity="100", cash="-5000.00"
    )
    assert settled.memo == "settlement of BUY FIL-1 (contractual 2024-03-06)"
    stream.regime(D4)
    # Paid 37.50, 0.50 more than accrued: Income:Dividends gets 37.00 - 37.50 = -0.50.
    [paid] = stream.cash_flow(D4, "dividend", "M-FIFO", "37.50", instrument_id="US-AAA", action_id="CA-1",
                              quantity="100")  # fmt: skip
    assert paid.memo == "dividend CF-0000001 (CA-1, 100 US-AAA)"
    assert memos(paid) == [("Income:Dividends:USD", "paid - accrued")]
    assert ("Income:Dividends:USD", D("-0.50"), "USD") in legs(paid)
    [direct] = stream.cash_flow(D4, "dividend", "M-AVG", "3.00", instrument_id="US-AAA", action_id="CA-1")
    # M-AVG accrued nothing for CA-1; no quantity on the flow reads as 0.
    assert direct.memo == "dividend CF-0000002 (CA-1, 0 US-AAA)"
    assert memos(direct) == [("Income:Dividends:USD", "paid without an accrual")]
    [coupon] = stream.cash_flow(D4, "coupon", "M-FIFO", "15.00", instrument_id="UST-2030", action_id="CP-9",
                                quantity="1000")  # fmt: skip
    assert coupon.memo == "coupon CF-0000003 (CP-9, 1000 UST-2030)"
    [fee] = stream.cash_flow(D4, "fee", "M-FIFO", "-1.00")
    assert fee.memo == "fee CF-0000004"
    [sub] = stream.cash_flow(D4, "subscription", "M-FIFO", "10.00")
    assert sub.memo == "subscription CF-0000005"


def test_fx_revaluation_legs_say_what_was_restated_at_which_balance() -> None:
    stream = started()  # EURUSD 1.1000
    # A EUR subscription: 100.00 EUR cash at 1.1000 = 110.00 USD.
    stream.cash_flow(D1, "subscription", "M-FIFO", "100.00", ccy="EUR")
    stream.fx(D1, "EURUSD", "1.2000")
    # Cash 100.00 EUR carried 110.00 -> 120.00: +10.00; FX revaluation -10.00 (a gain, credit).
    [reval] = stream.day_end(D1)
    assert reval.memo == "FX revaluation"
    assert [(p.account, p.base_amount, p.memo) for p in reval.postings] == [
        ("Assets:Cash:EUR", D("10.00"), "100.00 EUR at closing rate"),
        ("Income:FxRevaluation:USD", D("-10.00"), ""),
    ]


def test_a_revaluation_of_several_balances_books_its_own_fx_leg() -> None:
    stream = started()  # EURUSD 1.1000
    stream.cash_flow(D1, "subscription", "M-FIFO", "100.00", ccy="EUR")
    # BUY 10 EU-BBB @ 3.00 = 30.00 EUR, at 1.1000 = 33.00 USD on Securities and on the payable.
    stream.fill(D1, "FIL-1", "M-FIFO", "EU-BBB", "BUY", "10", "3.00", gross="30.00", net="30.00", ccy="EUR")
    stream.fx(D1, "EURUSD", "1.2000")
    # At 1.2000: cash 100.00 -> 120.00 (+10.00), securities 30.00 -> 36.00 (+3.00), payable -30.00 -> -36.00
    # (-3.00). Total +10.00, so the revaluation leg is -10.00: the rule's own leg, not a rounding leg.
    [reval] = stream.day_end(D1)
    assert [(p.account, p.base_amount, p.memo) for p in reval.postings] == [
        ("Assets:Cash:EUR", D("10.00"), "100.00 EUR at closing rate"),
        ("Assets:Securities:EU-BBB", D("3.00"), "30.00 EUR at closing rate"),
        ("Liabilities:PendingSettlement:EUR", D("-3.00"), "-30.00 EUR at closing rate"),
        ("Income:FxRevaluation:USD", D("-10.00"), ""),
    ]


def test_journals_carry_the_events_time_trace_and_causes() -> None:
    book = new_book()
    fill = _fill("FIL-1", "US-AAA", "2", "5.00", "10.00")
    [draft] = book.apply(_event(1, D1, fill, TRACE_ID, ("ord-7", "sig-3")))
    assert draft.sim_time == dt.datetime(2024, 3, 4, 16, 30, tzinfo=dt.UTC)
    assert draft.trace_id == TRACE_ID
    assert draft.caused_by == ("ord-7", "sig-3")
    # Without a trace the journal has no trace id.
    [untraced] = book.apply(_event(2, D1, dataclasses.replace(fill, fill_id="FIL-2")))
    assert (untraced.trace_id, untraced.caused_by, untraced.idempotency_key) == ("", (), "mkt:evt-2")


# ------------------------------------------------------------------ refusals


def test_a_fill_of_unknown_side_is_refused_with_its_id() -> None:
    # The wire decoder admits only BUY and SELL; a record built otherwise is still refused, not booked.
    fill = dataclasses.replace(_fill("FIL-9", "US-AAA", "1", "1.00", "1.00"), side="HOLD")
    with pytest.raises(ValueError, match=r"^fill FIL-9: side HOLD is neither BUY nor SELL$"):
        new_book().apply(_event(1, D1, fill))


def test_an_unknown_cash_flow_kind_is_refused_with_its_id() -> None:
    flow = CashFlow("CF-9", "M-FIFO", "BONUS", D("1.00"), "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^cash flow CF-9: unknown kind BONUS$"):
        new_book().apply(_event(1, D1, flow))


def test_unknown_mandates_and_instruments_are_named() -> None:
    stream = started()
    with pytest.raises(ValueError, match=r"^mandate 'M-NOPE' is not one of the market's mandates$"):
        stream.cash_flow(D1, "fee", "M-NOPE", "-1.00")
    with pytest.raises(ValueError, match=r"^instrument 'XX-1' is not one of the market's instruments$"):
        stream.fill(D1, "FIL-1", "M-FIFO", "XX-1", "BUY", "1", "1.00", gross="1.00", net="1.00")


def test_queries_of_an_unknown_mandate_or_fill_find_nothing() -> None:
    book = new_book()
    assert book.positions("M-NOPE") == {}
    assert book.pending("M-NOPE") == {}
    assert book.pending_fill("FIL-NOPE") is None


# ------------------------------------------------------------------ events ignored


def test_prices_and_rates_of_other_vendors_are_ignored() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "10", "50.00", gross="500.00", net="500.00")
    stream.price(D1, "US-AAA", "50.00")
    stream._emit(
        D1, dt.time(16), "price.tick", payload=PriceQuote("US-AAA", D("99.00"), "USD", "secondary", D1)
    )
    stream.fx(D1, "EURUSD", "9.0000", vendor="secondary")
    # The primary 50.00 stands: value 10 x 50.00 = 500.00 = cost, no mark; EURUSD still 1.1000.
    assert stream.day_end(D1) == []
    assert stream.book.rate("EUR", "USD") == D("1.1000")


def test_a_repeated_or_non_dividend_announcement_changes_nothing() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "10", "50.00", gross="500.00", net="500.00")
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.37", ex_date=D2, pay_date=D3)
    # The same action announced again with another amount is ignored: the first announcement stands.
    stream.dividend_announced(D1, "CA-1", "US-AAA", "9.99", ex_date=D2, pay_date=D3)
    coupon = CorporateAction("CP-1", "UST-2030", CorporateActionKind.COUPON, D2, D2, D3, D("1.5"), "USD")
    stream._emit(D1, dt.time(16, 15), "corporate_action.announced", payload=coupon)
    assert list(stream.book.dividends) == ["CA-1"]
    # Accrual at the start of D2: 10 x 0.37 = 3.70.
    [accrual] = stream.regime(D2)
    assert legs(accrual)[0] == ("Assets:AccruedIncome:USD", D("3.70"), "USD")


# ------------------------------------------------------------------ figures missing from an event


def test_a_fill_without_a_currency_books_in_the_instruments_currency() -> None:
    book = new_book()
    book.fx.update("EUR", "USD", D("1.1000"))
    fill = _fill("FIL-1", "EU-BBB", "3", "10.00", "30.00", ccy="")
    [draft] = book.apply(_event(1, D1, fill))
    # EU-BBB is a EUR instrument; commission and fees of 0 drop out.
    assert legs(draft) == [
        ("Assets:Securities:EU-BBB", D("30.00"), "EUR"),
        ("Liabilities:PendingSettlement:EUR", D("-30.00"), "EUR"),
    ]
    assert book.pending_fill("FIL-1").currency == "EUR"


def test_a_dividend_announced_without_a_currency_accrues_in_the_instruments_currency() -> None:
    stream = started()
    stream.fill(
        D1, "FIL-1", "M-FIFO", "EU-BBB", "BUY", "10", "30.00", gross="300.00", net="300.00", ccy="EUR"
    )
    action = CorporateAction("CA-2", "EU-BBB", CorporateActionKind.CASH_DIVIDEND, D2, D2, D4, D("0.25"), "")
    stream._emit(D1, dt.time(16, 15), "corporate_action.announced", payload=action)
    # 10 x 0.25 = 2.50 EUR.
    [accrual] = stream.regime(D2)
    assert legs(accrual) == [
        ("Assets:AccruedIncome:EUR", D("2.50"), "EUR"),
        ("Income:Dividends:EUR", D("-2.50"), "EUR"),
    ]


def test_a_partial_sell_relieves_cost_on_the_cent_grid() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "3", "3.3333", gross="10.00", net="10.00")
    # SELL 1 @ 4.00: cost 10.00 x 1 / 3 = 3.333... -> 3.33; gain 4.00 - 3.33 = 0.67; 2 left at 6.67.
    [sell] = stream.fill(D1, "FIL-2", "M-FIFO", "US-AAA", "SELL", "1", "4.00", gross="4.00", net="4.00")
    assert ("Assets:Securities:US-AAA", D("-3.33"), "USD") in legs(sell)
    assert ("Income:RealizedGains:USD", D("-0.67"), "USD") in legs(sell)
    assert stream.book.lots["M-FIFO"]["US-AAA"].lots() == [("FIL-1", D(2), D("6.67"))]


# ------------------------------------------------------------------ day boundaries


def test_a_dividend_announced_on_its_ex_date_accrues_at_the_next_days_start() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "10", "50.00", gross="500.00", net="500.00")
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.10", ex_date=D1, pay_date=D3)
    # D1 has already started: later events that day post no accrual.
    assert stream.price(D1, "US-AAA", "50.00") == []
    assert stream.day_end(D1) == []
    # The first event of D2 accrues 10 x 0.10 = 1.00, dated D2.
    [accrual] = stream.regime(D2)
    assert accrual.effective_date == D2 and legs(accrual)[0][1] == D("1.00")


def test_an_accrual_that_rounds_to_nothing_is_not_remembered() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "1", "50.00", gross="50.00", net="50.00")
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.004", ex_date=D2, pay_date=D3)
    # 1 x 0.004 = 0.004 -> 0.00: no accrual journal, and nothing to clear when paid.
    assert stream.regime(D2) == []
    assert stream.book.dividends["CA-1"].accrued == {}
    stream.regime(D3)
    [paid] = stream.cash_flow(D3, "dividend", "M-FIFO", "0.01", instrument_id="US-AAA", action_id="CA-1")
    assert memos(paid) == [("Income:Dividends:USD", "paid without an accrual")]


def test_a_paid_dividend_is_forgotten_the_day_after_its_pay_date() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "10", "50.00", gross="500.00", net="500.00")
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.10", ex_date=D2, pay_date=D3)
    stream.regime(D2)
    stream.regime(D3)
    stream.cash_flow(D3, "dividend", "M-FIFO", "1.00", instrument_id="US-AAA", action_id="CA-1")
    # Paid on D3 (pay date): still known that day, gone at the start of D4.
    stream.day_end(D3)
    assert "CA-1" in stream.book.dividends
    stream.regime(D4)
    assert stream.book.dividends == {}


def test_a_dividend_still_accrued_is_kept_past_its_pay_date() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "10", "50.00", gross="500.00", net="500.00")
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.10", ex_date=D2, pay_date=D2)
    stream.regime(D2)
    # Not paid by D4: the 1.00 accrued stays remembered until the payment comes.
    stream.regime(D4)
    assert stream.book.dividends["CA-1"].accrued == {"M-FIFO": D("1.00")}


def test_pending_due_by_includes_the_contractual_date_and_excludes_later_ones() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "1", "5.00", gross="5.00", net="5.00", settle=D2)
    stream.fill(D1, "FIL-2", "M-FIFO", "US-AAA", "SELL", "1", "6.00", gross="6.00", net="6.00", settle=D3)
    book = stream.book
    assert book.pending("M-FIFO", due_by=D1) == {}
    assert book.pending("M-FIFO", due_by=D2) == {"FIL-1": D("-5.00")}
    assert book.pending("M-FIFO", due_by=D3) == {"FIL-1": D("-5.00"), "FIL-2": D("6.00")}
    assert book.pending("M-AVG", due_by=D3) == {}
    pending = book.pending_fill("FIL-2")
    assert (pending.mandate_id, pending.instrument_id, pending.side, pending.currency) == (
        "M-FIFO",
        "US-AAA",
        "SELL",
        "USD",
    )
    assert (pending.settle_date, pending.net_amount, pending.event_id) == (D3, D("6.00"), "mkt-4")


def test_marks_are_posted_in_instrument_order() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "UST-2030", "BUY", "100", "100.00", gross="100.00", net="100.00")
    stream.fill(D1, "FIL-2", "M-FIFO", "US-AAA", "BUY", "1", "10.00", gross="10.00", net="10.00")
    stream.price(D1, "UST-2030", "101.00")
    stream.price(D1, "US-AAA", "11.00")
    # US-AAA 1 x 11.00 - 10.00 = 1.00; UST-2030 100 x 101.00 / 100 - 100.00 = 1.00; "US-AAA" sorts first.
    [mark] = stream.day_end(D1)
    assert [p.account for p in mark.postings] == [
        "Assets:Unrealized:US-AAA",
        "Income:UnrealizedGains:USD",
        "Assets:Unrealized:UST-2030",
        "Income:UnrealizedGains:USD",
    ]


def test_an_instrument_without_a_price_is_not_marked_and_the_others_still_are() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "1", "10.00", gross="10.00", net="10.00")
    assert stream.day_end(D1) == []
    assert stream.book.unrealized["M-FIFO"] == {}
    stream.regime(D2)
    stream.fill(D2, "FIL-2", "M-FIFO", "UST-2030", "BUY", "100", "100.00", gross="100.00", net="100.00")
    stream.price(D2, "UST-2030", "100.50")
    # US-AAA (first in order) still has no price; UST-2030 after it: 100 x 100.50 / 100 - 100.00 = 0.50.
    [mark] = stream.day_end(D2)
    assert legs(mark) == [
        ("Assets:Unrealized:UST-2030", D("0.50"), "USD"),
        ("Income:UnrealizedGains:USD", D("-0.50"), "USD"),
    ]


# ------------------------------------------------------------------ from the market's reference data


def test_a_book_from_market_reference_data_knows_lot_methods_currencies_and_bonds() -> None:
    def mandate(mandate_id: str, base: str, lot_method: str) -> Mandate:
        return Mandate(mandate_id, mandate_id, base, "", {}, (), 0.1, 0.0, 0.1, D(1), lot_method, ())

    def instrument(instrument_id: str, ccy: str, asset_class: AssetClass) -> Instrument:
        return Instrument(
            instrument_id, instrument_id, instrument_id, asset_class, ccy, "", "US", D("0.01"), 2
        )

    mandates = [mandate("M-1", "EUR", "AVERAGE"), mandate("M-2", "USD", "")]  # no lot method: FIFO
    instruments = [
        instrument("GOV", "USD", AssetClass.GOVERNMENT_BOND),
        instrument("CORP", "GBP", AssetClass.CORPORATE_BOND),
        instrument("EQ", "JPY", AssetClass.EQUITY),
    ]
    book = LedgerBook.from_market(mandates, instruments)
    assert [(m.mandate_id, m.base_currency, m.lot_method) for m in book.mandates.values()] == [
        ("M-1", "EUR", "AVERAGE"),
        ("M-2", "USD", "FIFO"),
    ]
    assert [(i.instrument_id, i.currency, i.is_bond) for i in book.instruments.values()] == [
        ("GOV", "USD", True),
        ("CORP", "GBP", True),
        ("EQ", "JPY", False),
    ]
    assert book.lots == {"M-1": {}, "M-2": {}} and book.non_base == {"M-1": {}, "M-2": {}}


def test_a_mark_back_at_zero_is_forgotten() -> None:
    stream = started()
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "10", "5.00", gross="50.00", net="50.00")
    stream.fill(D1, "FIL-2", "M-FIFO", "UST-2030", "BUY", "100", "100.00", gross="100.00", net="100.00")
    stream.price(D1, "US-AAA", "5.10")
    stream.price(D1, "UST-2030", "101.00")
    # US-AAA 10 x 5.10 - 50.00 = 1.00; UST-2030 100 x 101.00 / 100 - 100.00 = 1.00.
    stream.day_end(D1)
    assert stream.book.unrealized["M-FIFO"] == {"US-AAA": D("1.00"), "UST-2030": D("1.00")}
    stream.regime(D2)
    stream.price(D2, "US-AAA", "5.00")
    # US-AAA back at cost (10 x 5.00 = 50.00): its mark of 0 is dropped, not kept as 0.
    stream.day_end(D2)
    assert stream.book.unrealized["M-FIFO"] == {"UST-2030": D("1.00")}
    stream.regime(D3)
    # Selling all of UST-2030 reverses its whole mark: nothing is left to remember.
    stream.fill(D3, "FIL-3", "M-FIFO", "UST-2030", "SELL", "100", "101.00", gross="101.00", net="101.00")
    assert stream.book.unrealized["M-FIFO"] == {}
    # Nor are its lots: only US-AAA is still held.
    assert list(stream.book.lots["M-FIFO"]) == ["US-AAA"]


@pytest.mark.parametrize(("quantity", "price", "accrued"), [("1", "5.00", "0.50"), ("0.5", "10.00", "0.25")])
def test_a_holding_of_one_unit_or_less_still_accrues(quantity: str, price: str, accrued: str) -> None:
    stream = started()
    # Either way 5.00 is paid: 1 x 5.00 or 0.5 x 10.00.
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", quantity, price, gross="5.00", net="5.00")
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.50", ex_date=D2, pay_date=D3)
    # 1 x 0.50 = 0.50; 0.5 x 0.50 = 0.25.
    [accrual] = stream.regime(D2)
    assert legs(accrual)[0] == ("Assets:AccruedIncome:USD", D(accrued), "USD")


def test_only_non_base_asset_and_liability_balances_are_tracked_for_revaluation() -> None:
    stream = started()  # M-FIFO's base is USD
    stream.fill(
        D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "1", "10.00", gross="10.00", commission="1.00", net="11.00"
    )
    assert stream.book.non_base["M-FIFO"] == {}
    stream.fill(D1, "FIL-2", "M-FIFO", "EU-BBB", "BUY", "1", "10.00", gross="10.00", commission="1.00",
                net="11.00", ccy="EUR")  # fmt: skip
    # At 1.1000: securities 10.00 EUR -> 11.00 USD, payable -11.00 EUR -> -12.10 USD; the EUR commission
    # is an expense and is not revalued.
    assert stream.book.non_base["M-FIFO"] == {
        ("Assets:Securities:EU-BBB", "EUR"): [D("10.00"), D("11.00")],
        ("Liabilities:PendingSettlement:EUR", "EUR"): [D("-11.00"), D("-12.10")],
    }


def test_an_observed_journal_with_a_zero_leg_on_a_new_account_tracks_nothing() -> None:
    stream = started()
    manual = JournalDraft(
        mandate_id="M-FIFO",
        kind=JournalKind.MANUAL,
        effective_date=D1,
        sim_time=dt.datetime.combine(D1, dt.time(12), tzinfo=dt.UTC),
        postings=(
            Posting("Assets:Suspense:EUR", D(0), "EUR", base_amount=D(0)),
            Posting("Assets:Cash:USD", D("1.00"), "USD", base_amount=D("1.00")),
            Posting("Equity:Capital:USD", D("-1.00"), "USD", base_amount=D("-1.00")),
        ),
        idempotency_key="manual-1",
    )
    stream.book.observe(manual)
    assert stream.book.non_base["M-FIFO"] == {}


def test_a_dividend_nobody_accrued_is_kept_through_its_pay_date() -> None:
    stream = started()
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.10", ex_date=D2, pay_date=D3)
    # Nobody holds US-AAA at the start of D2: nothing accrues. Known through D3 (the pay date), gone on D4.
    assert stream.regime(D2) == []
    stream.regime(D3)
    assert list(stream.book.dividends) == ["CA-1"]
    stream.regime(D4)
    assert stream.book.dividends == {}


def test_a_mandate_whose_accrual_rounds_to_nothing_does_not_stop_the_others() -> None:
    stream = started()
    # M-FIFO (first in order) holds 1, M-AVG holds 100; dividend 0.004 per unit.
    stream.fill(D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "1", "10.00", gross="10.00", net="10.00")
    stream.fill(D1, "FIL-2", "M-AVG", "US-AAA", "BUY", "100", "10.00", gross="1000.00", net="1000.00")
    stream.dividend_announced(D1, "CA-1", "US-AAA", "0.004", ex_date=D2, pay_date=D3)
    # M-FIFO: 1 x 0.004 = 0.004 -> 0.00, nothing; M-AVG: 100 x 0.004 = 0.40.
    [accrual] = stream.regime(D2)
    assert accrual.mandate_id == "M-AVG"
    assert legs(accrual)[0] == ("Assets:AccruedIncome:USD", D("0.40"), "USD")
