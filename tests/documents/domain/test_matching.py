"""Matching a confirmation to the book's fills (services/documents/domain/matching.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.documents.domain.fields import Extraction, Field
from services.documents.domain.matching import BookFill, MatchStatus, compare, match

APPLE = {"isin": "US0378331005", "cusip": "037833100", "symbol": "AAPL", "name": "Apple Inc"}


def _fill(fill_id: str, **overrides: object) -> BookFill:
    values: dict[str, object] = {
        "fill_id": fill_id,
        "mandate_id": "EQ-USD",
        "instrument_id": "EQ-US-AAPL",
        "side": "BUY",
        "quantity": Decimal(2500),
        "price": Decimal("171.10"),
        "trade_date": dt.date(2020, 3, 12),
        "settle_date": dt.date(2020, 3, 16),
        "currency": "USD",
        **APPLE,
    }
    values.update(overrides)
    return BookFill(**values)  # type: ignore[arg-type]


def _document(instrument_ref: str | None = None, **values: str) -> Extraction:
    base = {
        "trade_date": "2020-03-12",
        "settlement_date": "2020-03-16",
        "side": "BUY",
        "quantity": "2500",
        "price": "171.1",
        "account": "EQ-USD",
        "isin": APPLE["isin"],
    }
    base.update(values)
    fields = tuple(Field(name, value, 0.98, 0, value) for name, value in base.items() if value)
    return Extraction("text", "test", fields, instrument_ref=instrument_ref)


def test_a_document_that_agrees_on_every_field_matches_its_fill() -> None:
    other_day = _fill("F-2", trade_date=dt.date(2020, 3, 13), settle_date=dt.date(2020, 3, 17))
    result = match(_document(), [_fill("F-1"), other_day])
    assert result.status is MatchStatus.MATCHED
    assert result.fill is not None and result.fill.fill_id == "F-1"
    assert result.score == 1.0 and result.differences == ()


def test_a_wrong_quantity_is_a_mismatch_listing_both_values_and_the_difference() -> None:
    # The custodian's typo: 2,520 on the confirmation against 2,500 booked; weights side 1, quantity 2,
    # price 2, trade date 1, settle date 1, account 1 = 8; quantity disagrees: score 6 / 8.
    result = match(_document(quantity="2520"), [_fill("F-1")])
    assert result.status is MatchStatus.MISMATCHED
    (difference,) = result.differences
    assert (difference.field, difference.document_value, difference.book_value) == (
        "quantity",
        "2520",
        "2500",
    )
    assert difference.difference == Decimal(20)
    assert result.score == 0.75


def test_a_late_settlement_date_and_a_wrong_side_are_each_listed() -> None:
    result = match(_document(settlement_date="2020-03-17", side="SELL"), [_fill("F-1")])
    assert result.status is MatchStatus.MISMATCHED
    assert [d.field for d in result.differences] == ["side", "settlement_date"]


def test_a_named_fill_is_compared_even_when_nothing_else_points_to_it() -> None:
    named = _fill("F-9", quantity=Decimal(100))
    result = match(_document(), [], named=named)
    assert result.status is MatchStatus.MISMATCHED and result.fill == named
    assert "F-9" in result.reason


def test_no_fill_of_that_instrument_on_that_day_is_unmatched() -> None:
    microsoft = _fill("F-1", isin="US5949181045", cusip="594918104", symbol="MSFT", name="Microsoft Corp")
    result = match(_document(), [microsoft])
    assert result.status is MatchStatus.UNMATCHED and result.fill is None


def test_two_equal_fills_are_ambiguous_and_both_are_named() -> None:
    result = match(_document(), [_fill("F-1"), _fill("F-2")])
    assert result.status is MatchStatus.AMBIGUOUS
    assert set(result.candidates) == {"F-1", "F-2"}


def test_the_closer_of_two_fills_wins_and_the_other_is_a_candidate() -> None:
    result = match(_document(), [_fill("F-1", quantity=Decimal(100)), _fill("F-2")])
    assert result.status is MatchStatus.MATCHED
    assert result.fill is not None and result.fill.fill_id == "F-2"
    assert result.candidates == ("F-1",)


def test_the_instrument_is_found_by_the_printed_instrument_id_or_the_name() -> None:
    by_ref = _document(instrument_ref="EQ-US-AAPL", isin="")
    assert match(by_ref, [_fill("F-1")]).status is MatchStatus.MATCHED
    by_name = _document(isin="", security_name="APPLE INC")
    assert match(by_name, [_fill("F-1")]).status is MatchStatus.MATCHED


def test_without_any_instrument_identifier_quantity_and_price_pick_the_fill() -> None:
    document = _document(isin="")
    assert (
        match(document, [_fill("F-1", isin="", cusip="", symbol="", name="")]).status is MatchStatus.MATCHED
    )
    assert match(document, [_fill("F-1", quantity=Decimal(7))]).status is MatchStatus.UNMATCHED


def test_a_field_the_document_does_not_give_is_not_compared() -> None:
    score, differences = compare(_document(account="", settlement_date=""), _fill("F-1", mandate_id="OTHER"))
    assert differences == () and score == 1.0
