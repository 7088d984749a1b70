"""Printed values to canonical text: every form in services/documents/domain/normalise.py, the
ambiguous and the unreadable ones with the message a person gets, and a round trip through US,
European and Swiss printing. Every figure is written out by hand."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.documents.domain.normalise import (
    DateOrder,
    DecimalStyle,
    canonical_decimal,
    date_text,
    decimal_text,
    side_text,
)


@pytest.mark.parametrize(
    ("printed", "style", "expected"),
    [
        ("1,234,567.89", "auto", "1234567.89"),
        ("1.234.567,89", "auto", "1234567.89"),
        ("1 234 567,89", "auto", "1234567.89"),
        ("1\u00a0234\u00a0567,89", "auto", "1234567.89"),  # no-break spaces, as French prints
        ("1\u202f234,50", "auto", "1234.50"),  # narrow no-break space
        ("1'234'567.89", "auto", "1234567.89"),  # Swiss
        ("1\u2019234.50", "auto", "1234.50"),  # Swiss with a typographic apostrophe
        ("1234567,89", "auto", "1234567.89"),
        ("1234567.89", "auto", "1234567.89"),
        ("(1,234.50)", "auto", "-1234.50"),
        ("-1,234.50", "auto", "-1234.50"),
        ("\u22121,234.50", "auto", "-1234.50"),  # a typographic minus
        ("1,234.50-", "auto", "-1234.50"),
        ("+1,234.50", "auto", "1234.50"),
        ("$1,234.50", "auto", "1234.50"),
        ("-$1,234.50", "auto", "-1234.50"),
        ("$-1,234.50", "auto", "-1234.50"),
        ("($1,234.50)", "auto", "-1234.50"),
        ("€1.234,50", "auto", "1234.50"),
        ("£1,234.50", "auto", "1234.50"),
        ("¥1,234", "auto", "1234"),
        ("USD 1,234.50", "auto", "1234.50"),
        ("USD1,234.50", "auto", "1234.50"),
        ("1.234,50 EUR", "auto", "1234.50"),
        ("CHF 1'234.50", "auto", "1234.50"),
        ("12.5%", "auto", "12.5"),
        ("0,25 %", "auto", "0.25"),
        # The printed scale is kept.
        ("171.10", "auto", "171.10"),
        ("2,500.00", "auto", "2500.00"),
        ("0.00", "auto", "0.00"),
        ("-0.00", "auto", "0.00"),
        ("007.50", "auto", "7.50"),
        ("2500,", "auto", "2500"),  # SWIFT: a decimal comma is mandatory
        (".5", "auto", "0.5"),
        ("0.0000001", "auto", "0.0000001"),
        # A lone separator followed by three digits: auto reads it the US way.
        ("1,234", "auto", "1234"),
        ("1.234", "auto", "1.234"),
        ("98.765", "auto", "98.765"),
        ("0,125", "auto", "0.125"),  # a group cannot start with 0
        ("1 234,567", "auto", "1234.567"),  # space grouping: the comma is the decimal point
        ("1,5", "auto", "1.5"),
        ("1,23", "auto", "1.23"),  # two digits after a lone comma: a decimal comma
        ("171,1", "auto", "171.1"),
        ("1,234,567", "auto", "1234567"),
        ("1.234.567", "auto", "1234567"),
        ("12,34,567.89", "auto", "1234567.89"),  # Indian grouping
        # An explicit style settles the lone separator.
        ("1,234", "us", "1234"),
        ("1,234", "eu", "1.234"),
        ("1.234", "us", "1.234"),
        ("1.234", "eu", "1234"),
        ("1'234'567.89", "us", "1234567.89"),
        ("1 234 567,89", "eu", "1234567.89"),
        ("1234", "us", "1234"),
    ],
)
def test_decimal_text(printed: str, style: DecimalStyle, expected: str) -> None:
    assert decimal_text(printed, style) == expected


@pytest.mark.parametrize(
    ("printed", "style", "message"),
    [
        ("", "auto", "an empty value is not a number"),
        ("   ", "auto", "an empty value is not a number"),
        ("N/A", "auto", "'N/A' is not a number: it has no digits"),
        ("USD", "auto", "'USD' is not a number: it has no digits"),
        ("12a", "auto", "'12a' is not a number: 'a' is neither a digit, a separator nor a currency code"),
        ("1-2", "auto", "'1-2' is not a number: '-' is neither a digit"),
        ("--5", "auto", "'--5' has more than one sign"),
        ("(-5)", "auto", "'(-5)' has more than one sign"),
        ("1,23", "us", "'1,23' groups its digits 1-2: groups after the first must have three digits"),
        (
            "1,2345,678",
            "auto",
            "'1,2345,678' groups its digits 1-4-3: groups after the first must have three",
        ),
        ("1,234 567.5", "auto", "'1,234 567.5' groups its digits in more than one way"),
        ("1.234,56", "us", "'1.234,56': only digits may follow the decimal point '.'; is it style='eu'?"),
        ("1,234.56", "eu", "'1,234.56': only digits may follow the decimal point ','; is it style='us'?"),
        ("1.2.3", "us", "'1.2.3' has 2 decimal points '.' (is it the other style?)"),
        ("1,2.3,4", "auto", "'1,2.3,4' has 2 decimal points ','"),
    ],
)
def test_decimal_text_refuses(printed: str, style: DecimalStyle, message: str) -> None:
    with pytest.raises(ValueError, match="^" + _escaped(message)):
        decimal_text(printed, style)


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("2,500", "2500"),
        ("2500.00", "2500"),
        ("2500", "2500"),
        ("12.50", "12.5"),
        ("0.000", "0"),
        ("-12.500", "-12.5"),
        ("1.234.567,890", "1234567.89"),
        ("4000000,", "4000000"),
        ("0.0001", "0.0001"),
    ],
)
def test_canonical_decimal_drops_trailing_zeros(printed: str, expected: str) -> None:
    assert canonical_decimal(printed) == expected


@settings(max_examples=300, deadline=None)
@given(
    number=st.decimals(
        min_value=Decimal("-999999999999.99"),
        max_value=Decimal("999999999999.99"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_us_european_and_swiss_printing_read_back(number: Decimal) -> None:
    expected = format(abs(number) if number == 0 else number, "f")
    us = f"{number:,.2f}"
    european = us.replace(",", " ").replace(".", ",").replace(" ", ".")
    swiss = us.replace(",", "'")
    spaced = us.replace(",", "\u00a0").replace(".", ",")
    printings: list[tuple[str, tuple[DecimalStyle, ...]]] = [
        (us, ("us", "auto")),
        (european, ("eu", "auto")),
        (swiss, ("us", "auto")),
        (spaced, ("eu", "auto")),
    ]
    if number < 0:
        printings.append((f"({us[1:]})", ("us", "auto")))
        printings.append((f"{european[1:]}-", ("eu", "auto")))
    for printed, styles in printings:
        for style in styles:
            assert decimal_text(printed, style) == expected, (printed, style)


@pytest.mark.parametrize(
    ("printed", "order", "expected"),
    [
        ("2020-03-12", "auto", "2020-03-12"),
        ("2020-03-12", "dmy", "2020-03-12"),  # a four-digit year first is never ambiguous
        ("2020-03-12T14:30:00Z", "auto", "2020-03-12"),
        ("2020-03-12 14:30", "auto", "2020-03-12"),
        ("2020/03/12", "auto", "2020-03-12"),
        ("20200312", "auto", "2020-03-12"),  # SWIFT and FIX
        ("20200312", "dmy", "2020-03-12"),
        ("03/12/2020", "mdy", "2020-03-12"),
        ("03/12/2020", "dmy", "2020-12-03"),
        ("3/1/2020", "mdy", "2020-03-01"),
        ("13/03/2020", "auto", "2020-03-13"),  # 13 can only be the day
        ("03/13/2020", "auto", "2020-03-13"),
        ("07/07/2020", "auto", "2020-07-07"),  # the same either way
        ("12.03.2020", "auto", "2020-03-12"),  # dots: day first
        ("12.03.2020", "mdy", "2020-12-03"),  # unless the order says otherwise
        ("12-03-2020", "dmy", "2020-03-12"),
        ("12/03/2020 10:15", "dmy", "2020-03-12"),
        ("12/03/20", "dmy", "2020-03-12"),
        ("12/03/20", "mdy", "2020-12-03"),
        ("31/12/99", "auto", "1999-12-31"),
        ("31/12/68", "auto", "2068-12-31"),
        ("31/12/69", "auto", "1969-12-31"),
        ("20/03/12", "ymd", "2020-03-12"),
        ("12-MAR-2020", "auto", "2020-03-12"),
        ("12-Mar-20", "auto", "2020-03-12"),
        ("12 March 2020", "auto", "2020-03-12"),
        ("March 12, 2020", "auto", "2020-03-12"),
        ("Mar 12 2020", "auto", "2020-03-12"),
        ("12th March 2020", "auto", "2020-03-12"),
        ("1st Feb 2021", "auto", "2021-02-01"),
        ("Thu, 12 Mar 2020", "auto", "2020-03-12"),
        ("12 March 2020", "mdy", "2020-03-12"),  # a month name needs no order
        ("29 February 2020", "auto", "2020-02-29"),
    ],
)
def test_date_text(printed: str, order: DateOrder, expected: str) -> None:
    assert date_text(printed, order) == expected


@pytest.mark.parametrize(
    ("printed", "order", "message"),
    [
        ("", "auto", "an empty value is not a date"),
        (
            "03/12/2020",
            "auto",
            "'03/12/2020' is ambiguous: 2020-03-12 month first or 2020-12-03 day first; "
            "give the order (order='mdy' or order='dmy')",
        ),
        ("12/03/20", "auto", "'12/03/20' is ambiguous: 2020-12-03 month first or 2020-03-12 day first"),
        ("13/13/2020", "auto", "'13/13/2020' is not a date: neither 13 nor 13 is a month"),
        ("31/02/2020", "dmy", "'31/02/2020' is not a date: day is out of range for month"),
        ("29 February 2021", "auto", "'29 February 2021' is not a date: day is out of range for month"),
        ("2020-13-01", "auto", "'2020-13-01' is not a date: month must be in 1..12"),
        ("20201301", "auto", "'20201301' is not a date: month must be in 1..12"),
        ("March 2020", "auto", "'March 2020' is not a whole date: it has no day"),
        ("12 March", "auto", "'12 March' is not a whole date: it has no year"),
        ("tomorrow", "auto", "'tomorrow' is not a date I can read"),
        ("Trade date: 12 March 2020", "auto", "'Trade date: 12 March 2020' is not a date I can read"),
        ("12345", "auto", "'12345' is not a date I can read: give YYYY-MM-DD"),
    ],
)
def test_date_text_refuses(printed: str, order: DateOrder, message: str) -> None:
    with pytest.raises(ValueError, match="^" + _escaped(message)):
        date_text(printed, order)


@pytest.mark.parametrize(
    ("printed", "client", "broker"),
    [
        ("Buy", "BUY", "SELL"),
        ("BUY", "BUY", "SELL"),
        ("B", "BUY", "SELL"),
        ("b.", "BUY", "SELL"),
        ("Bought", "BUY", "SELL"),
        ("Purchase", "BUY", "SELL"),
        ("BUYI", "BUY", "SELL"),
        ("Kauf", "BUY", "SELL"),
        ("Sell", "SELL", "BUY"),
        ("S", "SELL", "BUY"),
        ("Sold", "SELL", "BUY"),
        ("Sale", "SELL", "BUY"),
        ("Sell short", "SELL", "BUY"),
        ("Verkauf", "SELL", "BUY"),
        # Wording that names the parties reads the same in both perspectives.
        ("We have purchased for your account", "BUY", "BUY"),
        ("We have sold for your account", "SELL", "SELL"),
        ("As your agent we bought", "BUY", "BUY"),
        ("We sold to you", "BUY", "BUY"),
        ("you bought", "BUY", "BUY"),
        ("You sold", "SELL", "SELL"),
        ("We bought from you", "SELL", "SELL"),
    ],
)
def test_side_text(printed: str, client: str, broker: str) -> None:
    assert side_text(printed) == client
    assert side_text(printed, perspective="broker") == broker


@pytest.mark.parametrize(
    ("printed", "message"),
    [
        ("", "'' names no side: give Buy or Sell (or B/S, Bought/Sold)"),
        ("Hold", "'Hold' names no side"),
        ("Class B shares", "'Class B shares' names no side"),  # a letter is a side only alone
        ("Buy/Sell", "'Buy/Sell' names both sides (buy, sell)"),
        ("we bought", "'we bought' does not say whose side it is"),
        ("We bought to you", "'We bought to you': 'to you' reads only with a sale"),
        ("We sold from you", "'We sold from you': 'from you' reads only with a purchase"),
    ],
)
def test_side_text_refuses(printed: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + _escaped(message)):
        side_text(printed)


def _escaped(message: str) -> str:
    return re.escape(message)
