"""Trade-level checks field by field: which record is compared, the figures and words of each finding,
bond prices per 100 face, the booking grace at its edge, records of fills not yet traded, lineage,
valuation and the order of the findings."""

from __future__ import annotations

import datetime as dt

from services.recon.domain.aging import BusinessCalendar
from services.recon.domain.config import ReconConfig
from services.recon.domain.records import (
    BookTrade,
    BreakKind,
    Comparison,
    CustodianTradeRecord,
    Difference,
    Outcome,
    Scope,
    Valuation,
)
from services.recon.domain.tolerances import Tolerance
from services.recon.domain.trades import match_trades, trade_item_key
from tests.recon.builders import CONFIG, REFERENCE, D, M

THU, FRI = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
MON, TUE, WED = dt.date(2024, 3, 11), dt.date(2024, 3, 12), dt.date(2024, 3, 13)
WEEKDAYS = BusinessCalendar()
K = BreakKind


def fill(
    fill_id: str = "F1",
    *,
    instrument: str = "AAPL",
    side: str = "BUY",
    quantity: str = "100",
    price: str = "10.00",
    trade: dt.date = FRI,
    settle: dt.date = TUE,
    event: str = "",
) -> BookTrade:
    return BookTrade(fill_id, M, instrument, side, D(quantity), D(price), "USD", trade, settle, event)


def booked(
    ref: str,
    fill_id: str = "F1",
    *,
    instrument: str = "AAPL",
    side: str = "BUY",
    quantity: str = "100",
    price: str = "10.00",
    trade: dt.date = FRI,
    settle: dt.date = TUE,
    event: str = "",
) -> CustodianTradeRecord:
    return CustodianTradeRecord(
        ref, fill_id, M, instrument, side, D(quantity), D(price), "USD", trade, settle, event
    )


def check(
    fills: list[BookTrade], custodian: list[CustodianTradeRecord], today: dt.date = FRI, **kwargs: object
):  # type: ignore[no-untyped-def]
    kwargs.setdefault("config", CONFIG)
    return match_trades(fills, custodian, today=today, calendar=WEEKDAYS, reference=REFERENCE, **kwargs)  # type: ignore[arg-type]


def test_item_keys_name_the_comparison_scope_mandate_reference_and_kind() -> None:
    assert trade_item_key("M1", "F1", K.PRICE_MISMATCH) == "BOOK_VS_CUSTODIAN|TRADE|M1|F1|PRICE_MISMATCH"


def test_a_matching_record_gives_no_finding() -> None:
    assert check([fill()], [booked("C1")]) == ()


def test_a_sell_not_booked_is_missing_with_its_units_as_the_difference() -> None:
    (missing,) = check([fill(side="SELL", quantity="1500", event="mkt-1")], [])
    # a sell of 1,500 counts -1,500 in the book; the custodian has 0: other - book = +1,500
    assert (missing.book_quantity, missing.other_quantity, missing.quantity_difference) == (
        D(-1500),
        D(0),
        D(1500),
    )
    assert (missing.kind, missing.outcome, missing.scope, missing.comparison) == (
        K.MISSING_AT_CUSTODIAN,
        Outcome.BREAK,
        Scope.TRADE,
        Comparison.BOOK_VS_CUSTODIAN,
    )
    assert missing.item_key == trade_item_key(M, "F1", K.MISSING_AT_CUSTODIAN)
    assert (missing.fill_id, missing.custodian_refs, missing.caused_by) == ("F1", (), ("mkt-1",))
    # The booking deadline is named as one, and the settle date as the settle date (never "due").
    assert missing.description == (
        "fill F1 (AAPL SELL 1,500): not booked by the custodian by its booking deadline, the day end of"
        " 2024-03-08 (contractual settlement 2024-03-12)"
    )


def test_the_booking_grace_ends_on_its_due_date() -> None:
    config = ReconConfig.from_toml("[timing]\nbooking_grace_business_days = 2\n")
    # traded Friday, grace 2 business days: due Tuesday; a timing item through Monday, a break on Tuesday
    outcomes = [check([fill()], [], today, config=config)[0].outcome for today in (FRI, MON, TUE, WED)]
    assert outcomes == [Outcome.TIMING, Outcome.TIMING, Outcome.BREAK, Outcome.BREAK]
    assert check([fill()], [], MON, config=config)[0].description.endswith(
        "booking deadline, the day end of 2024-03-12 (contractual settlement 2024-03-12)"
    )


def test_fills_and_records_traded_after_today_are_not_checked_yet() -> None:
    tomorrow = fill("F2", trade=MON)
    # F2 is known to the book, so its early custodian record is not "missing internally" either
    assert check([tomorrow], [booked("C2", "F2", trade=MON)], today=FRI) == ()
    assert check([], [booked("C9", "F9", trade=MON)], today=FRI) == ()
    # traded today: checked
    assert [d.kind for d in check([fill(trade=FRI)], [], today=FRI)] == [K.MISSING_AT_CUSTODIAN]


def test_a_duplicate_counts_the_extra_records_and_the_lowest_ref_is_compared() -> None:
    records = [
        booked("C2", quantity="60", event="cus-2"),
        booked("C1", event="cus-1"),
        booked("C3", event="cus-3"),
    ]
    found = check([fill(event="mkt-1")], records)
    # C1 (the lowest ref) matches the fill, so the only finding is the duplicate: C2 and C3 add 60 + 100 = 160
    (duplicate,) = found
    assert (duplicate.kind, duplicate.outcome) == (K.DUPLICATE_AT_CUSTODIAN, Outcome.BREAK)
    assert (duplicate.book_quantity, duplicate.other_quantity, duplicate.quantity_difference) == (
        D(100),
        D(260),
        D(160),
    )
    assert duplicate.custodian_refs == ("C1", "C2", "C3")
    assert duplicate.caused_by == ("mkt-1", "cus-1", "cus-2", "cus-3")
    assert duplicate.description == "fill F1 (AAPL BUY 100): booked 3 times by the custodian (C1, C2, C3)"


def test_a_duplicate_sell_adds_negative_units() -> None:
    (duplicate,) = check([fill(side="SELL")], [booked("C1", side="SELL"), booked("C2", side="SELL")])
    assert (duplicate.other_quantity, duplicate.quantity_difference) == (D(-200), D(-100))


def test_a_quantity_mismatch_reports_the_tolerance_applied() -> None:
    (typo,) = check([fill(side="SELL")], [booked("C1", side="SELL", quantity="1000", event="cus-1")])
    # book -100, custodian -1,000: other - book = -900, a break (equities: zero tolerance)
    assert (typo.kind, typo.outcome, typo.other_quantity, typo.quantity_difference) == (
        K.QUANTITY_MISMATCH,
        Outcome.BREAK,
        D(-1000),
        D(-900),
    )
    assert (typo.tolerance_absolute, typo.tolerance_relative) == (D(0), D(0))
    assert typo.custodian_refs == ("C1",) and typo.caused_by == ("cus-1",)
    assert typo.description == "fill F1 (AAPL SELL 100): custodian C1 booked -1,000"


def test_a_custodian_that_books_the_wrong_side_is_a_quantity_mismatch() -> None:
    (wrong,) = check([fill(side="BUY")], [booked("C1", side="SELL")])
    assert (wrong.kind, wrong.other_quantity, wrong.quantity_difference) == (
        K.QUANTITY_MISMATCH,
        D(-100),
        D(-200),
    )


def test_a_bond_quantity_within_its_face_tolerance_names_the_thresholds() -> None:
    (rounding,) = check(
        [fill(instrument="UST-2030", quantity="25000")],
        [booked("C1", instrument="UST-2030", quantity="25000.5")],
    )
    assert (rounding.outcome, rounding.quantity_difference) == (Outcome.WITHIN_TOLERANCE, D("0.5"))
    assert (rounding.tolerance_absolute, rounding.tolerance_relative) == (D("0.5"), D(0))


def test_an_equity_price_mismatch_is_valued_per_share() -> None:
    (price,) = check([fill()], [booked("C1", price="10.01")])
    # 100 x 10.00 = 1,000.00 in the book; 100 x 10.01 = 1,001.00 at the custodian
    assert (price.kind, price.outcome) == (K.PRICE_MISMATCH, Outcome.BREAK)
    assert (price.book_amount, price.other_amount, price.amount_difference) == (
        D("1000.00"),
        D("1001.00"),
        D("1.00"),
    )
    assert price.quantity_difference is None
    assert (price.tolerance_absolute, price.tolerance_relative) == (D(0), D(0))
    assert price.description == "fill F1 (AAPL BUY 100): custodian C1 booked price 10.01 instead of 10.00"


def test_a_bond_price_is_per_100_face() -> None:
    (price,) = check(
        [fill(instrument="UST-2030", quantity="25000", price="99.50")],
        [booked("C1", instrument="UST-2030", quantity="25000", price="99.25")],
    )
    # 25,000 face x 99.50 / 100 = 24,875.00; x 99.25 / 100 = 24,812.50; difference -62.50
    assert (price.book_amount, price.other_amount, price.amount_difference) == (
        D("24875.00"),
        D("24812.50"),
        D("-62.50"),
    )


def test_a_price_within_the_price_tolerance() -> None:
    config = ReconConfig.from_toml('[trades]\nprice_absolute = "0.01"\n')
    assert [d.outcome for d in check([fill()], [booked("C1", price="10.01")], config=config)] == [
        Outcome.WITHIN_TOLERANCE
    ]
    assert [d.outcome for d in check([fill()], [booked("C1", price="10.02")], config=config)] == [
        Outcome.BREAK
    ]
    (below,) = check([fill()], [booked("C1", price="9.99")], config=config)
    assert (below.outcome, below.tolerance_absolute) == (Outcome.WITHIN_TOLERANCE, D("0.01"))


def test_a_settlement_date_mismatch_names_both_dates() -> None:
    (late,) = check([fill()], [booked("C1", settle=WED)])
    assert (late.kind, late.outcome, late.book_date, late.other_date) == (
        K.SETTLEMENT_DATE_MISMATCH,
        Outcome.BREAK,
        TUE,
        WED,
    )
    assert late.quantity_difference is None and late.amount_difference is None
    assert late.description == (
        "fill F1 (AAPL BUY 100): custodian C1 booked settlement on 2024-03-13, the book 2024-03-12"
    )


def settled(on: dt.date | None, failed: dt.date | None = None, reason: str = "") -> CustodianTradeRecord:
    """F1's booking (contractual settle date Tuesday), settled on `on` (None: not yet)."""
    return CustodianTradeRecord(
        "C1", "F1", M, "AAPL", "BUY", D(100), D("10.00"), "USD", FRI, TUE, "cus-1",
        settled_on=on, failed_on=failed, fail_reason=reason,
    )  # fmt: skip


def test_a_trade_not_settled_by_its_settle_date_breaks_at_that_day_end() -> None:
    # Due Tuesday: nothing on Monday, a break at Tuesday's day end (the edge) and after.
    assert check([fill()], [settled(None)], MON) == ()
    (due,) = check([fill()], [settled(None)], TUE)
    assert (due.kind, due.outcome, due.book_date, due.other_date) == (
        K.SETTLEMENT_DATE_MISMATCH,
        Outcome.BREAK,
        TUE,
        None,
    )
    assert due.item_key == trade_item_key(M, "F1", K.SETTLEMENT_DATE_MISMATCH)
    assert due.description == (
        "fill F1 (AAPL BUY 100): custodian C1 has not settled by the contractual settle date 2024-03-12"
        " (0 business day(s) late so far)"
    )
    (later,) = check([fill()], [settled(None, TUE, "counterparty failed to deliver")], WED)
    assert later.description.endswith(
        "(1 business day(s) late so far; failed on 2024-03-12: counterparty failed to deliver)"
    )
    (silent,) = check([fill()], [settled(None, TUE)], WED)
    assert silent.description.endswith("failed on 2024-03-12: no reason given)")


def test_a_trade_settled_on_its_date_gives_no_finding_and_a_late_one_a_closing_record() -> None:
    assert check([fill()], [settled(TUE)], WED) == ()
    # Settled Thursday, two business days after Tuesday: matched now, with the days late on record.
    (closing,) = check([fill()], [settled(dt.date(2024, 3, 14))], dt.date(2024, 3, 14))
    assert (closing.kind, closing.outcome, closing.book_date, closing.other_date) == (
        K.SETTLEMENT_DATE_MISMATCH,
        Outcome.MATCHED,
        TUE,
        dt.date(2024, 3, 14),
    )
    assert closing.description == (
        "fill F1 (AAPL BUY 100): custodian C1 settled on 2024-03-14, 2 business day(s) late"
        " (contractual settle date 2024-03-12)"
    )
    (early,) = check([fill()], [settled(MON)], MON)
    assert (early.outcome, early.other_date) == (Outcome.MATCHED, MON)
    assert early.description.endswith(
        "settled on 2024-03-11, 1 business day(s) early (contractual settle date 2024-03-12)"
    )


def test_one_record_can_carry_several_findings_sorted_by_item_key() -> None:
    found = check([fill()], [booked("C1", quantity="101", price="10.50", settle=WED)])
    assert [d.kind for d in found] == [K.PRICE_MISMATCH, K.QUANTITY_MISMATCH, K.SETTLEMENT_DATE_MISMATCH]
    # only a settlement date finding carries the book's settle date
    assert [d.book_date for d in found] == [None, None, TUE]


def test_a_record_unknown_to_the_book_is_missing_internally() -> None:
    (unknown,) = check([], [booked("C7", "F7", side="SELL", quantity="1200", event="cus-7")])
    assert (unknown.kind, unknown.outcome, unknown.fill_id, unknown.custodian_refs) == (
        K.MISSING_INTERNALLY,
        Outcome.BREAK,
        "F7",
        ("C7",),
    )
    assert unknown.item_key == trade_item_key(M, "C7", K.MISSING_INTERNALLY)
    assert (unknown.book_quantity, unknown.other_quantity, unknown.quantity_difference) == (
        D(0),
        D(-1200),
        D(-1200),
    )
    assert unknown.caused_by == ("cus-7",)
    assert unknown.description == "custodian C7 (AAPL SELL 1,200) books fill F7, unknown to the book"
    (anonymous,) = check([], [booked("C8", "")])
    assert anonymous.description.endswith("books fill (none), unknown to the book")
    assert anonymous.caused_by == ()


def test_quantity_differences_are_valued_in_the_base_currency() -> None:
    valuation = Valuation({"AAPL": D("170.25")}, {}, {M: "USD"})
    (missing,) = check([fill(quantity="3")], [], valuation=valuation)
    # -3 shares x 170.25 = -510.75 USD, the mandate's base currency
    assert (missing.amount_difference, missing.base_currency, missing.base_amount_difference) == (
        D("-510.75"),
        "USD",
        D("-510.75"),
    )
    (price,) = check([fill()], [booked("C1", price="10.01")], valuation=valuation)
    assert (price.amount_difference, price.base_amount_difference) == (D("1.00"), D("1.00"))


def test_the_trade_tolerance_is_looked_up_by_asset_class_and_currency() -> None:
    config = ReconConfig.from_mapping({"tolerance": [{"scope": "TRADE", "currency": "USD", "absolute": "2"}]})
    (inside,) = check([fill()], [booked("C1", quantity="102")], config=config)
    assert (inside.outcome, inside.tolerance_absolute) == (Outcome.WITHIN_TOLERANCE, D(2))
    # an instrument without reference data gets no asset class, but still its currency's rule
    (unknown,) = check(
        [fill(instrument="XYZ")], [booked("C1", instrument="XYZ", quantity="102")], config=config
    )
    assert unknown.outcome is Outcome.WITHIN_TOLERANCE
    assert Tolerance.symmetric("2") == config.tolerances.lookup(
        Comparison.BOOK_VS_CUSTODIAN, Scope.TRADE, "", "USD"
    )


def test_a_finding_carries_every_field_of_the_fill() -> None:
    (missing,) = check([fill(quantity="3", event="mkt-1")], [])
    assert missing == Difference(
        item_key=trade_item_key(M, "F1", K.MISSING_AT_CUSTODIAN),
        comparison=Comparison.BOOK_VS_CUSTODIAN,
        scope=Scope.TRADE,
        kind=K.MISSING_AT_CUSTODIAN,
        outcome=Outcome.BREAK,
        mandate_id=M,
        instrument_id="AAPL",
        currency="USD",
        fill_id="F1",
        book_quantity=D(3),
        other_quantity=D(0),
        quantity_difference=D(-3),
        caused_by=("mkt-1",),
        description="fill F1 (AAPL BUY 3): not booked by the custodian by its booking deadline, the day end"
        " of 2024-03-08 (contractual settlement 2024-03-12)",
    )


def test_a_record_unknown_to_the_book_carries_every_field_of_the_record() -> None:
    (unknown,) = check([], [booked("C7", "F7", quantity="12", event="cus-7")])
    assert unknown == Difference(
        item_key=trade_item_key(M, "C7", K.MISSING_INTERNALLY),
        comparison=Comparison.BOOK_VS_CUSTODIAN,
        scope=Scope.TRADE,
        kind=K.MISSING_INTERNALLY,
        outcome=Outcome.BREAK,
        mandate_id=M,
        instrument_id="AAPL",
        currency="USD",
        fill_id="F7",
        custodian_refs=("C7",),
        book_quantity=D(0),
        other_quantity=D(12),
        quantity_difference=D(12),
        caused_by=("cus-7",),
        description="custodian C7 (AAPL BUY 12) books fill F7, unknown to the book",
    )


def test_a_settlement_date_mismatch_has_no_amount_to_value() -> None:
    valuation = Valuation({"AAPL": D("170.25")}, {}, {M: "USD"})
    (late,) = check([fill()], [booked("C1", settle=WED)], valuation=valuation)
    assert (late.amount_difference, late.base_currency, late.base_amount_difference) == (None, "", None)


def test_a_price_mismatch_of_an_instrument_without_reference_data_is_valued_per_unit() -> None:
    (price,) = check([fill(instrument="XYZ")], [booked("C1", instrument="XYZ", price="10.50")])
    # no reference data, so not a bond: 100 x 10.00 = 1,000.00 and 100 x 10.50 = 1,050.00
    assert (price.book_amount, price.other_amount, price.amount_difference) == (
        D("1000.00"),
        D("1050.00"),
        D("50.00"),
    )


def test_records_unknown_to_the_book_are_found_after_records_of_known_fills() -> None:
    found = check([fill("F1")], [booked("C1", "F1"), booked("C7", "F7"), booked("C8", "F8")])
    assert [(d.kind, d.custodian_refs) for d in found] == [
        (K.MISSING_INTERNALLY, ("C7",)),
        (K.MISSING_INTERNALLY, ("C8",)),
    ]


def test_records_without_a_fill_id_are_each_checked_on_their_own_trade_date() -> None:
    """Records that name no fill share the empty fill id: one traded after today does not hide one
    traded today."""
    found = check([], [booked("C9", "", trade=MON), booked("C8", "", trade=FRI)], today=FRI)
    assert [d.custodian_refs for d in found] == [("C8",)]


def test_duplicates_and_quantity_mismatches_are_valued_in_the_base_currency() -> None:
    valuation = Valuation({"AAPL": D("10.00")}, {}, {M: "USD"})
    (duplicate,) = check([fill("F1")], [booked("C1"), booked("C2", quantity="40")], valuation=valuation)
    # the extra booking of 40 shares at 10.00: 400.00 USD
    assert (duplicate.amount_difference, duplicate.base_amount_difference) == (D("400.00"), D("400.00"))
    (typo,) = check([fill("F1")], [booked("C1", quantity="98")], valuation=valuation)
    # 98 - 100 = -2 shares at 10.00: -20.00 USD
    assert (typo.amount_difference, typo.base_amount_difference) == (D("-20.00"), D("-20.00"))


def test_a_trade_tolerance_rule_for_the_custodian_comparison_applies() -> None:
    config = ReconConfig.from_mapping(
        {"tolerance": [{"comparison": "BOOK_VS_CUSTODIAN", "scope": "TRADE", "absolute": "2"}]}
    )
    (inside,) = check([fill()], [booked("C1", quantity="102")], config=config)
    assert (inside.outcome, inside.tolerance_absolute) == (Outcome.WITHIN_TOLERANCE, D(2))


def test_a_fill_traded_after_today_does_not_stop_the_check_of_the_next() -> None:
    found = check([fill("F2", trade=MON), fill("F1")], [], today=FRI)
    assert [d.fill_id for d in found] == ["F1"]
