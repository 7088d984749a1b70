"""Cash flows matched one by one (domain/cashflows.py): by reference, amount and value date, each
finding's kind, outcome, figures and words, tolerance at its edge, and what is not compared yet."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from services.recon.domain.cashflows import cash_flow_item_key, match_cash_flows
from services.recon.domain.config import ReconConfig
from services.recon.domain.records import BreakKind, CashFlowRecord, Comparison, Outcome, Scope, Valuation
from tests.recon.builders import CONFIG, D, M

FRI, MON, TUE = dt.date(2024, 3, 15), dt.date(2024, 3, 18), dt.date(2024, 3, 19)
K = BreakKind


def flow(
    book: str | None = "12345.67",
    custodian: str | None = "12345.67",
    *,
    book_date: dt.date | None = FRI,
    value_date: dt.date | None = FRI,
    kind: str = "DIVIDEND",
    currency: str = "USD",
) -> CashFlowRecord:
    return CashFlowRecord(
        cash_flow_id="CF-0000123",
        mandate_id=M,
        currency=currency,
        kind=kind,
        instrument_id="AAPL",
        book_amount=None if book is None else D(book),
        book_date=book_date if book is not None else None,
        custodian_amount=None if custodian is None else D(custodian),
        custodian_date=value_date if custodian is not None else None,
        event_ids=("mkt-1", "mkt-2"),
    )


def match(*flows: CashFlowRecord, today: dt.date = TUE, config: ReconConfig = CONFIG, **kwargs: object):  # type: ignore[no-untyped-def]
    return match_cash_flows(list(flows), today=today, config=config, **kwargs)  # type: ignore[arg-type]


def test_the_item_key_names_the_comparison_scope_mandate_and_reference() -> None:
    assert cash_flow_item_key("M1", "CF-1") == "BOOK_VS_CUSTODIAN|CASH_FLOW|M1|CF-1"


def test_a_flow_booked_alike_is_a_matched_closing_record_with_both_dates() -> None:
    (matched,) = match(flow())
    assert (matched.outcome, matched.kind, matched.book_date, matched.other_date) == (
        Outcome.MATCHED,
        K.UNSPECIFIED,
        FRI,
        FRI,
    )
    assert (matched.comparison, matched.scope, matched.cash_flow_id, matched.instrument_id) == (
        Comparison.BOOK_VS_CUSTODIAN,
        Scope.CASH_FLOW,
        "CF-0000123",
        "AAPL",
    )
    assert (matched.book_amount, matched.other_amount, matched.amount_difference) == (
        D("12345.67"),
        D("12345.67"),
        D(0),
    )
    assert matched.item_key == cash_flow_item_key(M, "CF-0000123")
    assert matched.caused_by == ("mkt-1", "mkt-2")
    assert matched.description == "cash flow CF-0000123 (dividend AAPL): 12,345.67 USD on 2024-03-15: matched"


def test_a_flow_the_custodian_has_not_booked_is_missing_there_the_day_it_is_paid() -> None:
    (missing,) = match(flow(custodian=None), today=FRI)
    assert (missing.kind, missing.outcome, missing.other_date) == (
        K.MISSING_AT_CUSTODIAN,
        Outcome.BREAK,
        None,
    )
    # other 0 - book 12,345.67
    assert (missing.book_amount, missing.other_amount, missing.amount_difference) == (
        D("12345.67"),
        D(0),
        D("-12345.67"),
    )
    assert missing.description == (
        "cash flow CF-0000123 (dividend AAPL): 12,345.67 USD on 2024-03-15 in the book, not booked by the custodian"
    )


def test_a_flow_only_the_custodian_booked_is_missing_internally() -> None:
    (unknown,) = match(flow(book=None, custodian="1500.00"))
    assert (unknown.kind, unknown.outcome, unknown.amount_difference, unknown.book_date) == (
        K.MISSING_INTERNALLY,
        Outcome.BREAK,
        D("1500.00"),
        None,
    )
    assert unknown.description.endswith(
        "1,500.00 USD booked by the custodian with value date 2024-03-15, unknown to the book"
    )
    # adjusted away to zero by the custodian: nothing left on either side, matched
    (zero,) = match(flow(book=None, custodian="0.00"))
    assert zero.outcome is Outcome.MATCHED


def test_a_late_or_early_value_date_is_a_break_the_day_it_shows() -> None:
    (late,) = match(flow(value_date=MON))
    assert (late.kind, late.outcome, late.book_date, late.other_date, late.amount_difference) == (
        K.SETTLEMENT_DATE_MISMATCH,
        Outcome.BREAK,
        FRI,
        MON,
        D(0),
    )
    assert late.description == (
        "cash flow CF-0000123 (dividend AAPL): 12,345.67 USD; value date 2024-03-18 at the custodian,"
        " 2024-03-15 in the book"
    )
    # back-valued: booked on the pay date with an earlier value date; found on the pay date itself
    (early,) = match(flow(value_date=dt.date(2024, 3, 13)), today=FRI)
    assert (early.kind, early.outcome) == (K.SETTLEMENT_DATE_MISMATCH, Outcome.BREAK)


def test_another_amount_is_a_cash_mismatch_naming_the_dates_when_they_differ_too() -> None:
    (more,) = match(flow(custodian="24691.34"))
    assert (more.kind, more.outcome, more.amount_difference) == (
        K.CASH_MISMATCH,
        Outcome.BREAK,
        D("12345.67"),
    )
    assert more.description.endswith("book 12,345.67 vs custodian 24,691.34 USD")
    (both,) = match(flow(custodian="24691.34", value_date=MON))
    assert both.kind is K.CASH_MISMATCH
    assert both.description.endswith(
        "book 12,345.67 vs custodian 24,691.34 USD; value date 2024-03-18 at the custodian, 2024-03-15 in the book"
    )


def test_the_cash_flow_tolerance_applies_at_its_edge() -> None:
    config = ReconConfig.from_mapping(
        {"tolerance": [{"scope": "CASH_FLOW", "currency": "USD", "absolute": "0.05"}]}
    )
    (inside,) = match(flow(custodian="12345.72"), config=config)  # +0.05: at the edge
    assert (inside.kind, inside.outcome) == (K.CASH_MISMATCH, Outcome.WITHIN_TOLERANCE)
    assert inside.description.endswith("book 12,345.67 vs custodian 12,345.72 USD, within tolerance")
    (outside,) = match(flow(custodian="12345.73"), config=config)
    assert outside.outcome is Outcome.BREAK
    # within tolerance but on another date: the date is what is wrong
    (dated,) = match(flow(custodian="12345.70", value_date=MON), config=config)
    assert (dated.kind, dated.outcome) == (K.SETTLEMENT_DATE_MISMATCH, Outcome.BREAK)
    # no rule: exact (the default file has none for cash flows)
    (exact,) = match(flow(custodian="12345.68"))
    assert exact.outcome is Outcome.BREAK


@pytest.mark.parametrize(
    ("record", "today"),
    [
        (flow(book_date=TUE, value_date=TUE), MON),  # paid tomorrow
        (flow(book=None, custodian="5.00", value_date=TUE), MON),  # the custodian's, dated tomorrow
        (flow(book=None, custodian=None), TUE),  # nothing on either side
    ],
)
def test_flows_not_dated_yet_or_empty_are_not_compared(record: CashFlowRecord, today: dt.date) -> None:
    assert match(record, today=today) == ()


def test_a_flow_dated_today_is_compared() -> None:
    assert [d.outcome for d in match(flow(book_date=TUE, value_date=TUE), today=TUE)] == [Outcome.MATCHED]


def test_differences_are_valued_in_the_base_currency_and_sorted_by_item_key() -> None:
    valuation = Valuation({}, {("EUR", "USD"): D("1.10")}, {M: "USD"})
    euros = CashFlowRecord("CF-2", M, "EUR", "COUPON", "", D("100.00"), FRI, None, None, ("mkt-5",))
    first, second = match(euros, flow(custodian=None), valuation=valuation)
    assert (first.cash_flow_id, second.cash_flow_id) == ("CF-0000123", "CF-2")
    # -100.00 EUR at 1.10 USD per EUR
    assert (second.amount_difference, second.base_currency, second.base_amount_difference) == (
        D("-100.00"),
        "USD",
        D("-110.00"),
    )
    assert second.description.startswith("cash flow CF-2 (coupon): ")
    bare = CashFlowRecord("CF-3", M, "USD", book_amount=D("1"), book_date=FRI)
    assert match(bare)[0].description.startswith("cash flow CF-3: ")
    assert Decimal(0) == first.amount_difference + D("12345.67")


def test_the_tolerance_is_the_book_vs_custodian_cash_flow_rule_of_cash_in_its_currency() -> None:
    """The most specific rule (this comparison, asset class CASH) allows 1.00; the fallback nothing."""
    config = ReconConfig.from_mapping(
        {
            "tolerance": [
                {
                    "comparison": "BOOK_VS_CUSTODIAN",
                    "scope": "CASH_FLOW",
                    "asset_class": "CASH",
                    "absolute": "1",
                },
                {"scope": "CASH_FLOW", "absolute": "0"},
            ]
        }
    )
    (inside,) = match(flow(custodian="12346.17"), config=config)  # +0.50
    assert (inside.outcome, inside.currency) == (Outcome.WITHIN_TOLERANCE, "USD")


def test_a_book_flow_of_zero_the_custodian_never_booked_matches() -> None:
    (matched,) = match(flow(book="0", custodian=None))
    assert (matched.outcome, matched.other_amount, matched.amount_difference) == (Outcome.MATCHED, D(0), D(0))


def test_a_flow_not_dated_yet_does_not_stop_the_others() -> None:
    later = dataclasses.replace(flow(book_date=TUE, value_date=TUE), cash_flow_id="CF-0")
    found = match(later, flow(custodian=None), today=MON)
    assert [(d.cash_flow_id, d.currency) for d in found] == [("CF-0000123", "USD")]


def test_an_empty_flow_does_not_stop_the_others() -> None:
    undated = CashFlowRecord("CF-00", M, "USD")
    empty = CashFlowRecord("CF-0", M, "USD", book_date=FRI)
    assert [d.cash_flow_id for d in match(undated, empty, flow(custodian=None))] == ["CF-0000123"]
