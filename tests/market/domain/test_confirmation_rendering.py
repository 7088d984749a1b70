"""Whole confirmation documents, worked out by hand from each house's layout rules.

The facts tests (test_confirmations.py) check each figure is present; these check the documents
line for line: labels, padding and column widths (northbridge aligns labels to the longest one;
kestrel sizes each table column to the wider of header and value), date and number styles, and
meridian's paragraphs wrapped at 78 characters without breaking a date, an amount or a name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import re
from decimal import Decimal

import pypdf
import pytest

from services.market.pdf import render_confirmation_pdf
from services.market.sim.confirmations import (
    amount_in_words,
    layout_for_broker,
    number_to_words,
    render_confirmation_text,
)
from services.market.sim.records import Fill, Instrument, Side
from tests.market.domain.test_confirmations import BOND, BOND_FILL, EQUITY, EQUITY_FILL

# The equity buy (1,200 AAPL at 123.45, see test_confirmations.py) in each layout.
NORTHBRIDGE_EQUITY = """\
NORTHBRIDGE SECURITIES LLC
TRADE CONFIRMATION

Confirmation ID: CNF-0001
Account:         M-GROWTH
Trade Date:      2020-03-12
Settlement Date: 2020-03-16
Side:            Buy
Quantity:        1,200
Security:        AAPL - Apple Inc.
Security ID:     US0378331005
Price:           123.45
Currency:        USD
Gross Amount:    148,140.00
Commission:      14.81
Fees:            1.37
Net Amount:      148,156.18

Please notify us of any discrepancy within two business days.
"""

# Columns as wide as the wider of header and value, one space of padding each side.
KESTREL_EQUITY = """\
KESTREL CAPITAL MARKETS LTD                     CONTRACT NOTE

+--------------+----------+-------------+-------------+-----+----------+
| CONTRACT REF | ACCOUNT  | TRADE DATE  | SETTLE DATE | B/S | QUANTITY |
+--------------+----------+-------------+-------------+-----+----------+
| CNF-0001     | M-GROWTH | 12-MAR-2020 | 16-MAR-2020 | BUY | 1200     |
+--------------+----------+-------------+-------------+-----+----------+

+--------+------------+--------------+-----+--------+
| SYMBOL | SECURITY   | SECURITY ID  | CCY | PRICE  |
+--------+------------+--------------+-----+--------+
| AAPL   | Apple Inc. | US0378331005 | USD | 123.45 |
+--------+------------+--------------+-----+--------+

+-----------+------------+------+-----------+
| GROSS     | COMMISSION | FEES | NET       |
+-----------+------------+------+-----------+
| 148140.00 | 14.81      | 1.37 | 148156.18 |
+-----------+------------+------+-----------+

AMOUNTS IN USD. E&OE.
"""

# Greedy wrapping at 78: line one is 74 characters, and "hundred" would make it 82.
MERIDIAN_EQUITY = """\
Meridian & Co. Private Brokers

12 March 2020
Our reference: CNF-0001
Your account: M-GROWTH

Dear Client,

We confirm that on 12 March 2020 we bought on your behalf one thousand two
hundred (1,200) shares of Apple Inc. (AAPL, identifier US0378331005) at a
price of USD 123.45 per share, for settlement on 16 March 2020.

The gross consideration is USD 148,140.00 (one hundred forty-eight thousand
one hundred forty US dollars and no cents). Our commission of USD 14.81 and
fees of USD 1.37 are added to it.

The net amount payable by you is USD 148,156.18 (one hundred forty-eight
thousand one hundred fifty-six US dollars and eighteen cents).

Yours faithfully,

Settlements Desk, Meridian & Co. Private Brokers
"""

# The bond sell (250,000 nominal at 101.125 with 278.16 accrued): labels widen to the longest,
# "Price (clean, per 100)".
NORTHBRIDGE_BOND = """\
NORTHBRIDGE SECURITIES LLC
TRADE CONFIRMATION

Confirmation ID:        CNF-0002
Account:                M-INCOME
Trade Date:             2020-03-12
Settlement Date:        2020-03-13
Side:                   Sell
Quantity (nominal):     250,000
Security:               T 1.5 02/15/30 - US Treasury 1.5% 15 Feb 2030
Security ID:            US912828Z948
Price (clean, per 100): 101.125
Currency:               USD
Gross Amount:           252,812.50
Commission:             25.00
Fees:                   3.10
Accrued Interest:       278.16
Net Amount:             253,062.56

Please notify us of any discrepancy within two business days.
"""

KESTREL_BOND = """\
KESTREL CAPITAL MARKETS LTD                     CONTRACT NOTE

+--------------+----------+-------------+-------------+------+---------+
| CONTRACT REF | ACCOUNT  | TRADE DATE  | SETTLE DATE | B/S  | NOMINAL |
+--------------+----------+-------------+-------------+------+---------+
| CNF-0002     | M-INCOME | 12-MAR-2020 | 13-MAR-2020 | SELL | 250000  |
+--------------+----------+-------------+-------------+------+---------+

+----------------+------------------------------+--------------+-----+---------+
| SYMBOL         | SECURITY                     | SECURITY ID  | CCY | PRICE   |
+----------------+------------------------------+--------------+-----+---------+
| T 1.5 02/15/30 | US Treasury 1.5% 15 Feb 2030 | US912828Z948 | USD | 101.125 |
+----------------+------------------------------+--------------+-----+---------+

+-----------+------------+------+-------------+-----------+
| GROSS     | COMMISSION | FEES | ACCRUED INT | NET       |
+-----------+------------+------+-------------+-----------+
| 252812.50 | 25.00      | 3.10 | 278.16      | 253062.56 |
+-----------+------------+------+-------------+-----------+

AMOUNTS IN USD. BOND PRICE CLEAN PER 100 NOMINAL. E&OE.
"""

# "(T 1.5 02/15/30," is kept whole: the symbol is never split across lines.
MERIDIAN_BOND = """\
Meridian & Co. Private Brokers

12 March 2020
Our reference: CNF-0002
Your account: M-INCOME

Dear Client,

We confirm that on 12 March 2020 we sold on your behalf a nominal amount of
USD two hundred fifty thousand (250,000) of US Treasury 1.5% 15 Feb 2030
(T 1.5 02/15/30, identifier US912828Z948) at a clean price of 101.125 per 100
nominal, for settlement on 13 March 2020.

The gross consideration is USD 252,812.50 (two hundred fifty-two thousand
eight hundred twelve US dollars and fifty cents). Our commission of USD 25.00
and fees of USD 3.10 are deducted from it.

Accrued interest to the settlement date of USD 278.16 (two hundred
seventy-eight US dollars and sixteen cents) is added to the consideration.

The net amount due to you is USD 253,062.56 (two hundred fifty-three thousand
sixty-two US dollars and fifty-six cents).

Yours faithfully,

Settlements Desk, Meridian & Co. Private Brokers
"""


@pytest.mark.parametrize(
    ("layout", "expected"),
    [("northbridge", NORTHBRIDGE_EQUITY), ("kestrel", KESTREL_EQUITY), ("meridian", MERIDIAN_EQUITY)],
)
def test_the_equity_confirmation_line_for_line(layout: str, expected: str) -> None:
    assert render_confirmation_text(EQUITY_FILL, EQUITY, layout, confirmation_id="CNF-0001") == expected


@pytest.mark.parametrize(
    ("layout", "expected"),
    [("northbridge", NORTHBRIDGE_BOND), ("kestrel", KESTREL_BOND), ("meridian", MERIDIAN_BOND)],
)
def test_the_bond_confirmation_line_for_line(layout: str, expected: str) -> None:
    assert render_confirmation_text(BOND_FILL, BOND, layout, confirmation_id="CNF-0002") == expected


# ---------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (19, "nineteen"),
        (20, "twenty"),
        (21, "twenty-one"),
        (99, "ninety-nine"),
        (100, "one hundred"),
        (110, "one hundred ten"),
        (999, "nine hundred ninety-nine"),
        (1000, "one thousand"),
        (1001, "one thousand one"),
        (999_999, "nine hundred ninety-nine thousand nine hundred ninety-nine"),
        (1_000_000, "one million"),
        (1_000_000_000, "one billion"),
        (2_000_000_003, "two billion three"),
        (10**12, "one trillion"),
        (5 * 10**12 + 6 * 10**9 + 7 * 10**6 + 8000, "five trillion six billion seven million eight thousand"),
    ],
)
def test_number_to_words_at_each_boundary(n: int, words: str) -> None:
    assert number_to_words(n) == words


def test_negative_numbers_have_no_words() -> None:
    with pytest.raises(ValueError, match=r"^negative numbers have no words here$"):
        number_to_words(-1)


def test_amounts_in_words_round_half_even_to_the_minor_unit() -> None:
    # 12.345 is a tie at the cent: half-even keeps 12.34.
    assert amount_in_words(Decimal("12.345"), "USD") == "twelve US dollars and thirty-four cents"
    assert amount_in_words(Decimal("12.355"), "EUR") == "twelve euros and thirty-six cents"
    assert amount_in_words(Decimal("1.00"), "GBP") == "one pounds sterling and no pence"
    # Yen: no minor unit, and 2.5 yen rounds to 2.
    assert amount_in_words(Decimal("2.5"), "JPY") == "two yen"
    # A currency without words uses its code and "hundredths".
    assert amount_in_words(Decimal("3.07"), "CHF") == "three CHF and seven hundredths"


# ---------------------------------------------------------------- layouts for broker names


def test_layout_for_broker_matches_keys_and_names_in_any_case() -> None:
    assert layout_for_broker("KESTREL") == "kestrel"
    assert layout_for_broker("northbridge securities llc") == "northbridge"
    assert layout_for_broker("Meridian") == "meridian"


def test_an_unknown_broker_gets_the_layout_of_its_byte_sum() -> None:
    # "ab" = 97 + 98 = 195, 195 % 3 = 0; "ac" = 196 -> 1; "ad" = 197 -> 2.
    assert [layout_for_broker(name) for name in ("ab", "ac", "ad")] == ["northbridge", "kestrel", "meridian"]


# ---------------------------------------------------------------- overrides


def test_a_settle_date_override_alone_keeps_the_fills_own_amounts() -> None:
    """Only a different quantity or price recomputes amounts; a late date changes nothing else,
    even where the fill's gross is not quantity x price (here 1.00 off)."""
    odd = dataclasses.replace(EQUITY_FILL, gross_amount=Decimal("148141.00"))
    text = render_confirmation_text(
        odd, EQUITY, "kestrel", confirmation_id="C", settle_date=dt.date(2020, 3, 17)
    )
    assert "| 148141.00 |" in text and "17-MAR-2020" in text


def test_a_price_override_on_a_bond_prices_per_100_and_charges_by_side() -> None:
    # Sell 250,000 at 110.125 (typo of 101.125): gross 275,312.50; accrued unchanged 278.16;
    # net 275,312.50 + 278.16 - 28.10 = 275,562.56.
    text = render_confirmation_text(BOND_FILL, BOND, "kestrel", confirmation_id="C", price=Decimal("110.125"))
    assert "| 275312.50 | 25.00      | 3.10 | 278.16      | 275562.56 |" in text
    # The same as a buy: costs added, 275,312.50 + 278.16 + 28.10 = 275,618.76.
    buy = dataclasses.replace(BOND_FILL, side=Side.BUY)
    text = render_confirmation_text(buy, BOND, "kestrel", confirmation_id="C", price=Decimal("110.125"))
    assert "275618.76" in text


def test_a_yen_override_rounds_to_the_yen() -> None:
    jp = dataclasses.replace(EQUITY, instrument_id="JP-1", currency="JPY", market="JP")
    fill = dataclasses.replace(
        EQUITY_FILL,
        instrument_id="JP-1",
        currency="JPY",
        quantity=Decimal(100),
        price=Decimal(1234),
        gross_amount=Decimal(123400),
        commission=Decimal(500),
        fees=Decimal(0),
        net_amount=Decimal(123900),
    )
    # 100 x 1,234.5 = 123,450 exactly; 101 x 1,234.5 = 124,684.5, a tie: half-even 124,684.
    text = render_confirmation_text(
        fill, jp, "northbridge", confirmation_id="C", quantity=Decimal(101), price=Decimal("1234.5")
    )
    assert "Gross Amount:    124,684\n" in text
    assert "Net Amount:      125,184\n" in text  # + 500 commission
    assert "Commission:      500\n" in text
    assert "Fees:            0\n" in text


def test_a_fill_of_no_quantity_keeps_its_accrued_interest_under_an_override() -> None:
    empty = dataclasses.replace(BOND_FILL, quantity=Decimal(0))
    text = render_confirmation_text(empty, BOND, "kestrel", confirmation_id="C", quantity=Decimal(1000))
    # 1,000 x 101.125 / 100 = 1,011.25; accrued stays 278.16 (nothing to rescale from); a sell:
    # 1,011.25 + 278.16 - 28.10 = 1,261.31.
    assert "| 1011.25 | 25.00      | 3.10 | 278.16      | 1261.31 |" in text


def test_a_fractional_quantity_is_written_in_digits_and_words() -> None:
    text = render_confirmation_text(
        EQUITY_FILL, EQUITY, "meridian", confirmation_id="C", quantity=Decimal("1200.50")
    )
    flat = " ".join(text.split())
    assert "one thousand two hundred point five zero (1,200.50) shares" in flat
    kestrel = render_confirmation_text(
        EQUITY_FILL, EQUITY, "kestrel", confirmation_id="C", quantity=Decimal("1200.50")
    )
    assert "| 1200.50  |" in kestrel
    # A whole quantity with trailing zeros after the point is written as a whole number.
    whole = render_confirmation_text(
        EQUITY_FILL, EQUITY, "northbridge", confirmation_id="C", quantity=Decimal("2100.00")
    )
    assert "Quantity:        2,100\n" in whole


# ---------------------------------------------------------------- the PDF


def _pdf(text: str, **kwargs: dt.datetime) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(render_confirmation_pdf(text, title="Confirmation C-1", **kwargs)))


def _lines(page: pypdf.PageObject) -> list[tuple[float, str]]:
    """(baseline y in points, text) of each line drawn, from the page's content stream."""
    content = page.get_contents()
    assert content is not None
    found = re.findall(rb"BT ([\d.]+) ([\d.]+) Td \((.*?)\) Tj ET", content.get_data())
    return [(float(y), text.decode("latin-1")) for _, y, text in found]


def test_the_pdf_is_a4_courier_9_with_lines_4_5_mm_apart() -> None:
    reader = _pdf(NORTHBRIDGE_EQUITY)
    [page] = reader.pages
    # A4 is 210 x 297 mm = 595.28 x 841.89 points.
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
        (595.28, 841.89), abs=0.01
    )
    fonts = page["/Resources"]["/Font"]
    assert [font.get_object()["/BaseFont"] for font in fonts.values()] == ["/Courier"]
    content = page.get_contents()
    assert content is not None and b"/F1 9.00 Tf" in content.get_data()
    lines = _lines(page)
    # One drawn line per text line; an empty line is drawn as a space so it keeps its height.
    assert [text for _, text in lines] == [line or " " for line in NORTHBRIDGE_EQUITY.splitlines()]
    # 4.5 mm = 4.5 x 72 / 25.4 = 12.756 points between baselines.
    steps = {round(a - b, 1) for (a, _), (b, _) in itertools.pairwise(lines)}
    assert steps == {12.8}


def test_the_pdf_metadata_is_fixed_so_documents_are_reproducible() -> None:
    reader = _pdf("x")
    assert reader.metadata is not None
    assert reader.metadata.title == "Confirmation C-1"
    assert reader.metadata.author == "opsuite market simulation"
    assert reader.metadata.creator == "opsuite"
    assert reader.metadata["/CreationDate"] == "D:20000101000000Z"
    later = _pdf("x", created=dt.datetime(2021, 5, 6, 7, 8, 9, tzinfo=dt.UTC))
    assert later.metadata is not None and later.metadata["/CreationDate"] == "D:20210506070809Z"


def test_a_long_confirmation_breaks_onto_a_second_page_after_60_lines() -> None:
    # Top margin 10 mm, bottom margin 15 mm: (297 - 10 - 15) / 4.5 = 60.4, so 60 lines a page.
    assert len(_pdf("\n".join(f"line {i}" for i in range(60))).pages) == 1
    reader = _pdf("\n".join(f"line {i}" for i in range(61)))
    assert len(reader.pages) == 2
    assert [text for _, text in _lines(reader.pages[1])] == ["line 60"]


def test_characters_outside_latin_1_become_question_marks() -> None:
    [page] = _pdf("caf\u00e9 costs \u20ac5").pages
    assert [text for _, text in _lines(page)] == ["caf\u00e9 costs ?5"]


def _yen() -> tuple[Fill, Instrument]:
    jp = dataclasses.replace(EQUITY, instrument_id="JP-1", currency="JPY", market="JP")
    fill = dataclasses.replace(
        EQUITY_FILL,
        instrument_id="JP-1",
        currency="JPY",
        quantity=Decimal(100),
        price=Decimal(1234),
        gross_amount=Decimal(123400),
        commission=Decimal(500),
        fees=Decimal(0),
        net_amount=Decimal(123900),
    )
    return fill, jp


def test_a_yen_figure_is_rounded_once_to_the_yen() -> None:
    """1 share at a typed 101.495 yen: 101.495 -> 101 (rounding to cents first would give
    101.50 and then, half-even, 102); net 101 + 500 commission = 601."""
    fill, jp = _yen()
    text = render_confirmation_text(
        fill, jp, "northbridge", confirmation_id="C", quantity=Decimal(1), price=Decimal("101.495")
    )
    assert "Gross Amount:    101\n" in text and "Net Amount:      601\n" in text


def test_a_dollar_figure_is_rounded_once_to_the_cent() -> None:
    """1 share at a typed 1.2451: gross 1.25 (rounding to a tenth of a cent first would give
    1.245 and then, half-even, 1.24); net 1.25 + 16.18 = 17.43."""
    text = render_confirmation_text(
        EQUITY_FILL, EQUITY, "northbridge", confirmation_id="C", quantity=Decimal(1), price=Decimal("1.2451")
    )
    assert "Gross Amount:    1.25\n" in text and "Net Amount:      17.43\n" in text


def test_meridian_writes_yen_without_decimals() -> None:
    fill, jp = _yen()
    flat = " ".join(render_confirmation_text(fill, jp, "meridian", confirmation_id="C").split())
    assert "gross consideration is JPY 123,400 (one hundred twenty-three thousand four hundred yen)" in flat
    assert "commission of JPY 500 and fees of JPY 0 are added" in flat
    assert "JPY 123,900 (one hundred twenty-three thousand nine hundred yen)" in flat


def test_accrued_interest_on_a_yen_bond_is_in_whole_yen() -> None:
    yen_bond = dataclasses.replace(BOND, currency="JPY")
    fill = dataclasses.replace(BOND_FILL, currency="JPY")
    text = render_confirmation_text(fill, yen_bond, "northbridge", confirmation_id="C")
    assert "Accrued Interest:       278\n" in text  # 278.16 -> 278


def test_a_name_longer_than_a_line_is_kept_whole() -> None:
    """A kept phrase longer than the 78-character line is not broken inside: it gets a line of
    its own, over-long."""
    name = "The Extremely Long Named International Holding Company of Everything Public Limited Co"
    assert len(name) > 78
    long_named = dataclasses.replace(EQUITY, name=name)
    text = render_confirmation_text(EQUITY_FILL, long_named, "meridian", confirmation_id="C")
    assert name in text.splitlines() or any(line.startswith(name) for line in text.splitlines())


def test_kestrel_writes_yen_without_decimals_or_grouping() -> None:
    fill, jp = _yen()
    text = render_confirmation_text(fill, jp, "kestrel", confirmation_id="C")
    assert "| 123400 | 500        | 0    | 123900 |" in text
    yen_bond = dataclasses.replace(BOND, currency="JPY")
    bond_text = render_confirmation_text(
        dataclasses.replace(BOND_FILL, currency="JPY"), yen_bond, "kestrel", confirmation_id="C"
    )
    # 252,812.50 -> 252812 (half-even); 25.00 -> 25; 3.10 -> 3; 278.16 -> 278; 253,062.56 -> 253063.
    assert "| 252812 | 25         | 3    | 278         | 253063 |" in bond_text


def test_kestrel_never_groups_digits_even_in_accrued_interest() -> None:
    # 2,500,000 nominal: accrued 278.16 x 10 = 2,781.60, gross 2,528,125.00, net
    # 2,528,125.00 + 2,781.60 - 28.10 = 2,530,878.50.
    text = render_confirmation_text(
        BOND_FILL, BOND, "kestrel", confirmation_id="C", quantity=Decimal(2500000)
    )
    assert "| 2528125.00 | 25.00      | 3.10 | 2781.60     | 2530878.50 |" in text
    assert "," not in text.split("CONTRACT NOTE", 1)[1]
