"""Broker confirmations: every layout states every fact, overrides show, PDFs are valid and reproducible."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal

import pypdf
import pytest

from services.market.pdf import render_confirmation_pdf
from services.market.sim.bonds import accrued_interest
from services.market.sim.confirmations import (
    BROKER_NAMES,
    LAYOUTS,
    amount_in_words,
    layout_for_broker,
    number_to_words,
    render_confirmation_text,
)
from services.market.sim.records import AssetClass, Fill, Instrument, Side

EQUITY = Instrument(
    instrument_id="US0378331005",
    symbol="AAPL",
    name="Apple Inc.",
    asset_class=AssetClass.EQUITY,
    currency="USD",
    sector="Technology",
    market="US",
    tick_size=Decimal("0.01"),
    settlement_days=2,
)
EQUITY_FILL = Fill(
    fill_id="F-1",
    order_id="O-1",
    mandate_id="M-GROWTH",
    instrument_id="US0378331005",
    side=Side.BUY,
    quantity=Decimal("1200"),
    price=Decimal("123.45"),
    currency="USD",
    gross_amount=Decimal("148140.00"),  # 1,200 x 123.45
    accrued_interest=Decimal("0"),
    commission=Decimal("14.81"),
    fees=Decimal("1.37"),
    net_amount=Decimal("148156.18"),  # 148,140.00 + 14.81 + 1.37
    trade_date=dt.date(2020, 3, 12),
    settle_date=dt.date(2020, 3, 16),
    broker="northbridge",
)
BOND = Instrument(
    instrument_id="US912828Z948",
    symbol="T 1.5 02/15/30",
    name="US Treasury 1.5% 15 Feb 2030",
    asset_class=AssetClass.GOVERNMENT_BOND,
    currency="USD",
    sector="Government",
    market="US",
    tick_size=Decimal("0.0078125"),
    settlement_days=1,
    coupon_rate_pct=Decimal("1.5"),
    maturity=dt.date(2030, 2, 15),
    coupons_per_year=2,
    issuer="US Treasury",
    day_count="ACT/ACT",
)
BOND_FILL = Fill(
    fill_id="F-2",
    order_id="O-2",
    mandate_id="M-INCOME",
    instrument_id="US912828Z948",
    side=Side.SELL,
    quantity=Decimal("250000"),
    price=Decimal("101.125"),
    currency="USD",
    gross_amount=Decimal("252812.50"),  # 250,000 x 101.125 / 100
    accrued_interest=Decimal("278.16"),  # 2,500 x 0.75 x 27 / 182 = 278.159 (Feb 15 -> Mar 13 of 182 days)
    commission=Decimal("25.00"),
    fees=Decimal("3.10"),
    net_amount=Decimal("253062.56"),  # 252,812.50 + 278.16 - 25.00 - 3.10
    trade_date=dt.date(2020, 3, 12),
    settle_date=dt.date(2020, 3, 13),
    broker="kestrel",
)

# Each layout's rendering of the equity fill's facts, as that broker writes them.
EQUITY_FACTS = {
    "northbridge": [
        "Northbridge Securities LLC".upper(),
        "Confirmation ID: CNF-0001",
        "M-GROWTH",
        "2020-03-12",
        "2020-03-16",
        "Buy",
        "1,200",
        "AAPL - Apple Inc.",
        "US0378331005",
        "123.45",
        "USD",
        "148,140.00",
        "14.81",
        "1.37",
        "148,156.18",
    ],
    "kestrel": [
        "Kestrel Capital Markets Ltd".upper(),
        "CNF-0001",
        "M-GROWTH",
        "12-MAR-2020",
        "16-MAR-2020",
        "BUY",
        "| 1200 ",
        "AAPL",
        "Apple Inc.",
        "US0378331005",
        "123.45",
        "USD",
        "148140.00",
        "14.81",
        "1.37",
        "148156.18",
    ],
    "meridian": [
        "Meridian & Co. Private Brokers",
        "Our reference: CNF-0001",
        "M-GROWTH",
        "on 12 March 2020",
        "settlement on 16 March 2020",
        "we bought",
        "one thousand two hundred (1,200)",
        "Apple Inc. (AAPL, identifier US0378331005)",
        "USD 123.45 per share",
        "USD 148,140.00",
        "one hundred forty-eight thousand one hundred forty US dollars and no cents",
        "USD 14.81",
        "USD 1.37",
        "USD 148,156.18",
        "one hundred forty-eight thousand one hundred fifty-six US dollars and eighteen cents",
    ],
}

BOND_FACTS = {
    "northbridge": ["Sell", "250,000", "101.125", "252,812.50", "Accrued Interest:", "278.16", "253,062.56"],
    "kestrel": [
        "SELL",
        "250000",
        "101.125",
        "252812.50",
        "ACCRUED INT",
        "278.16",
        "253062.56",
        "13-MAR-2020",
    ],
    "meridian": [
        "we sold",
        "nominal amount of USD two hundred fifty thousand (250,000)",
        "clean price of 101.125 per 100",
        "USD 252,812.50",
        "Accrued interest",
        "USD 278.16",
        "USD 253,062.56",
        "due to you",
    ],
}


def _flat(text: str) -> str:
    """Paragraph text with line breaks as spaces, as a reader sees it."""
    return " ".join(text.split())


def test_there_are_at_least_three_distinct_layouts() -> None:
    assert len(LAYOUTS) >= 3
    texts = {
        render_confirmation_text(EQUITY_FILL, EQUITY, layout, confirmation_id="CNF-0001")
        for layout in LAYOUTS
    }
    assert len(texts) == len(LAYOUTS)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_states_every_fact_of_an_equity_fill(layout: str) -> None:
    text = render_confirmation_text(EQUITY_FILL, EQUITY, layout, confirmation_id="CNF-0001")
    assert BROKER_NAMES[layout].upper() in text.upper()
    for fact in EQUITY_FACTS[layout]:
        assert _flat(fact) in _flat(text), fact


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_states_accrued_interest_for_a_bond(layout: str) -> None:
    text = render_confirmation_text(BOND_FILL, BOND, layout, confirmation_id="CNF-0002")
    for fact in [
        *BOND_FACTS[layout],
        "T 1.5 02/15/30",
        "US Treasury 1.5% 15 Feb 2030",
        "US912828Z948",
        "CNF-0002",
    ]:
        assert _flat(fact) in _flat(text), fact


@pytest.mark.parametrize("layout", LAYOUTS)
def test_equities_have_no_accrued_interest_line(layout: str) -> None:
    text = render_confirmation_text(EQUITY_FILL, EQUITY, layout, confirmation_id="CNF-0001")
    assert "accrued" not in text.lower()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_overrides_carry_an_error_into_the_document(layout: str) -> None:
    right = render_confirmation_text(EQUITY_FILL, EQUITY, layout, confirmation_id="CNF-0001")
    typo = render_confirmation_text(
        EQUITY_FILL, EQUITY, layout, confirmation_id="CNF-0001", quantity=Decimal("2100")
    )
    assert typo != right
    # The broker's own arithmetic follows the wrong quantity: 2,100 x 123.45 = 259,245.00; + 16.18 = 259,261.18.
    grouped = layout != "kestrel"
    assert ("259,245.00" if grouped else "259245.00") in typo
    assert ("259,261.18" if grouped else "259261.18") in typo
    assert ("148,156.18" if grouped else "148156.18") not in typo

    wrong_price = render_confirmation_text(
        EQUITY_FILL, EQUITY, layout, confirmation_id="CNF-0001", price=Decimal("132.45")
    )
    assert "132.45" in wrong_price and "123.45" not in wrong_price

    late = render_confirmation_text(
        EQUITY_FILL, EQUITY, layout, confirmation_id="CNF-0001", settle_date=dt.date(2020, 3, 17)
    )
    assert {"northbridge": "2020-03-17", "kestrel": "17-MAR-2020", "meridian": "17 March 2020"}[
        layout
    ] in late
    assert {"northbridge": "2020-03-16", "kestrel": "16-MAR-2020", "meridian": "16 March 2020"}[
        layout
    ] not in late


def test_the_sample_bond_fill_is_consistent_with_the_bond_maths() -> None:
    per_100 = accrued_interest(BOND_FILL.settle_date, BOND.maturity, BOND.coupon_rate_pct, 2, "ACT/ACT")  # type: ignore[arg-type]
    assert (per_100 * BOND_FILL.quantity / 100).quantize(Decimal("0.01")) == BOND_FILL.accrued_interest


def test_a_quantity_override_on_a_bond_rescales_the_accrued_interest() -> None:
    # Nominal 25,000 instead of 250,000: gross 25,000 x 101.125 / 100 = 25,281.25; accrued
    # 278.16 x 25,000 / 250,000 = 27.816 -> 27.82; net 25,281.25 + 27.82 - 28.10 = 25,280.97.
    text = render_confirmation_text(
        BOND_FILL, BOND, "northbridge", confirmation_id="C", quantity=Decimal("25000")
    )
    assert "25,281.25" in text and "27.82" in text and "25,280.97" in text


def test_yen_amounts_have_no_minor_unit() -> None:
    assert amount_in_words(Decimal("1500300"), "JPY") == "one million five hundred thousand three hundred yen"
    assert amount_in_words(Decimal("12.05"), "GBP") == "twelve pounds sterling and five pence"


def test_number_to_words() -> None:
    assert number_to_words(0) == "zero"
    assert number_to_words(15) == "fifteen"
    assert number_to_words(40) == "forty"
    assert number_to_words(101) == "one hundred one"
    assert number_to_words(2_000_019) == "two million nineteen"
    assert number_to_words(148_156) == "one hundred forty-eight thousand one hundred fifty-six"


def test_unknown_layout_and_mismatched_instrument_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown layout"):
        render_confirmation_text(EQUITY_FILL, EQUITY, "nope", confirmation_id="C")
    with pytest.raises(ValueError, match="not the fill's"):
        render_confirmation_text(EQUITY_FILL, BOND, "kestrel", confirmation_id="C")


def test_layout_for_broker_is_stable() -> None:
    assert layout_for_broker("kestrel") == "kestrel"
    assert layout_for_broker("Meridian & Co. Private Brokers") == "meridian"
    assert layout_for_broker("Some Other Broker") == layout_for_broker("Some Other Broker")
    assert layout_for_broker("Some Other Broker") in LAYOUTS


@pytest.mark.parametrize("layout", LAYOUTS)
def test_pdf_is_valid_and_reproducible(layout: str) -> None:
    text = render_confirmation_text(EQUITY_FILL, EQUITY, layout, confirmation_id="CNF-0001")
    first = render_confirmation_pdf(text, title="Confirmation CNF-0001")
    second = render_confirmation_pdf(text, title="Confirmation CNF-0001")
    assert first.startswith(b"%PDF-")
    assert first == second

    reader = pypdf.PdfReader(io.BytesIO(first))
    extracted = "\n".join(page.extract_text() for page in reader.pages)
    quantity, net = ("1200", "148156.18") if layout == "kestrel" else ("1,200", "148,156.18")
    assert quantity in extracted
    assert net in extracted
    assert reader.metadata is not None and reader.metadata.title == "Confirmation CNF-0001"

    other = render_confirmation_pdf(text.replace("CNF-0001", "CNF-0002"), title="Confirmation CNF-0001")
    assert other != first


# The fill that stopped a long run (seed 7 from 2007-01-03, on 2020-04-08): the desk sold one share
# at 4.97 under the minimum commission of 5.00, so the client owes 0.03.
DUST_SALE = dataclasses.replace(
    EQUITY_FILL,
    side=Side.SELL,
    quantity=Decimal("1"),
    price=Decimal("4.97"),
    gross_amount=Decimal("4.97"),
    commission=Decimal("5.00"),
    fees=Decimal("0.00"),
    net_amount=Decimal("-0.03"),  # 4.97 - 5.00
)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_sale_whose_charges_exceed_its_proceeds_is_confirmed_as_owed(layout: str) -> None:
    text = render_confirmation_text(DUST_SALE, EQUITY, layout, confirmation_id="CNF-0003")
    assert "0.03" in text
    if layout == "meridian":
        assert "The net amount payable by you is USD 0.03 (zero US dollars and three cents)." in text, text


def test_a_negative_amount_reads_minus() -> None:
    assert amount_in_words(Decimal("-0.03"), "GBP") == "minus zero pounds sterling and three pence"
