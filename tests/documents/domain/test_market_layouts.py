"""Market's own confirmations (northbridge, kestrel, meridian) read back field by field.

Each confirmation is rendered by market (render_confirmation_text, and as a PDF by
services/market/pdf.py, read back with pypdf) from a fill built here by hand, or from a short
simulation run, and every field the document states must come back as the fill has it: equities
and bonds, purchases and sales, dollars, pounds and yen (no decimals), a sale whose charges exceed
its proceeds (a negative net amount), a name too long for one PDF line, and the overrides that
carry a custodian's error into the document (the document's figures are then the truth).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import ROUND_HALF_EVEN, Decimal

import pypdf
import pytest

from services.documents.domain.extract import extract_document
from services.documents.domain.fields import Extraction
from services.documents.domain.templates import Template, load_builtin_templates
from services.market.pdf import render_confirmation_pdf
from services.market.sim.confirmations import BROKER_NAMES, LAYOUTS, render_confirmation_text
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.records import AssetClass, Confirmation, Fill, Instrument, Side
from services.market.sim.universe import is_bond
from tests.market.conftest import SYNTHETIC_START, synthetic_history

TEMPLATES: tuple[Template, ...] = load_builtin_templates()

EQUITY = Instrument(
    instrument_id="US-TSTI",
    symbol="TSTI",
    name="Test Industries",
    asset_class=AssetClass.EQUITY,
    currency="USD",
    sector="Industrials",
    market="US",
    tick_size=Decimal("0.01"),
    settlement_days=2,
)
YEN_EQUITY = Instrument(
    instrument_id="JP-7203",
    symbol="7203",
    name="Toyoda Motors",
    asset_class=AssetClass.EQUITY,
    currency="JPY",
    sector="Consumer",
    market="JP",
    tick_size=Decimal("1"),
    settlement_days=2,
)
TREASURY = Instrument(
    instrument_id="UST-20300215",
    symbol="T 1 1/2 02/15/30",
    name="United States Treasury 1.500% 15 Feb 2030",
    asset_class=AssetClass.GOVERNMENT_BOND,
    currency="USD",
    sector="Government",
    market="US",
    tick_size=Decimal("0.0078125"),
    settlement_days=1,
    coupon_rate_pct=Decimal("1.5"),
    maturity=dt.date(2030, 2, 15),
    coupons_per_year=2,
    issuer="United States Treasury",
    day_count="ACT/ACT",
)
STERLING_BOND = Instrument(
    instrument_id="GNRI-20410915",
    symbol="GNRI 4 1/8 09/15/41",
    name="Greater Northern Railway Infrastructure Holdings 4.125% 15 Sep 2041",  # wider than a PDF line
    asset_class=AssetClass.CORPORATE_BOND,
    currency="GBP",
    sector="Industrials",
    market="UK",
    tick_size=Decimal("0.001"),
    settlement_days=2,
    coupon_rate_pct=Decimal("4.125"),
    maturity=dt.date(2041, 9, 15),
    coupons_per_year=2,
    issuer="Greater Northern Railway Infrastructure Holdings",
    day_count="30/360",
)


def make_fill(
    instrument: Instrument,
    side: Side,
    quantity: str,
    price: str,
    *,
    commission: str = "0",
    fees: str = "0",
    accrued: str = "0",
    mandate: str = "EQ-USD",
) -> Fill:
    """A fill whose amounts agree, as market computes them (gross = quantity x price, / 100 for a
    bond; net = gross + accrued, plus the charges on a purchase and less them on a sale)."""
    places = Decimal(1) if instrument.currency == "JPY" else Decimal("0.01")

    def money(value: Decimal) -> Decimal:
        return value.quantize(places, rounding=ROUND_HALF_EVEN)

    scale = Decimal("0.01") if is_bond(instrument) else Decimal(1)
    gross = money(Decimal(quantity) * Decimal(price) * scale)
    charges = money(Decimal(commission)) + money(Decimal(fees))
    net = gross + money(Decimal(accrued)) + (charges if side is Side.BUY else -charges)
    return Fill(
        fill_id="FIL-0000042",
        order_id="ORD-0000042",
        mandate_id=mandate,
        instrument_id=instrument.instrument_id,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        currency=instrument.currency,
        gross_amount=gross,
        accrued_interest=money(Decimal(accrued)),
        commission=money(Decimal(commission)),
        fees=money(Decimal(fees)),
        net_amount=net,
        trade_date=dt.date(2020, 3, 12),
        settle_date=dt.date(2020, 3, 16),
        broker="any",
    )


FILLS = {
    "equity buy": (EQUITY, make_fill(EQUITY, Side.BUY, "1200", "123.45", commission="14.81", fees="1.37")),
    "equity sell": (EQUITY, make_fill(EQUITY, Side.SELL, "3507", "48.1", commission="50.61", fees="3.92")),
    "odd lot": (EQUITY, make_fill(EQUITY, Side.BUY, "12.5", "1234.5678", commission="5.00")),
    "yen sell": (YEN_EQUITY, make_fill(YEN_EQUITY, Side.SELL, "153800", "2149", commission="132206", fees="331", mandate="EQ-JPY")),
    "treasury buy": (TREASURY, make_fill(TREASURY, Side.BUY, "9607000", "99.78125", accrued="56454.18", mandate="FI-USD")),
    "treasury sell": (TREASURY, make_fill(TREASURY, Side.SELL, "250000", "101.125", accrued="278.16", mandate="FI-USD")),
    "long bond sell": (STERLING_BOND, make_fill(STERLING_BOND, Side.SELL, "682000", "97.991", accrued="9661.67", mandate="INC-GBP")),
    # one share sold under the minimum commission: the client pays, the net amount is negative
    "negative net": (EQUITY, make_fill(EQUITY, Side.SELL, "1", "2.50", commission="5.00", fees="0.01")),
}  # fmt: skip


def pdf_text(content: bytes) -> list[str]:
    return [page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def read(text: str, pdf: bool) -> Extraction:
    if pdf:
        return extract_document(
            render_confirmation_pdf(text, title="confirmation"), "application/pdf", TEMPLATES, pdf_text
        )
    return extract_document(text.encode("utf-8"), "text/plain", TEMPLATES, pdf_text)


def _canonical(value: Decimal) -> str:
    return "0" if value == 0 else format(value.normalize(), "f")


def _money(value: Decimal, currency: str) -> str:
    return format(value.quantize(Decimal(1) if currency == "JPY" else Decimal("0.01")), "f")


def expected(fill: Fill, instrument: Instrument, layout: str, confirmation_id: str) -> dict[str, str]:
    """Every field market's confirmation of the fill states, in canonical text."""
    broker = BROKER_NAMES[layout]
    truth = {
        "trade_date": fill.trade_date.isoformat(),
        "settlement_date": fill.settle_date.isoformat(),
        "side": fill.side.value,
        "quantity": _canonical(fill.quantity),
        "security_name": instrument.name,
        "price": _canonical(fill.price),
        "currency": fill.currency,
        "gross_amount": _money(fill.gross_amount, fill.currency),
        "commission": _money(fill.commission, fill.currency),
        "fees": _money(fill.fees, fill.currency),
        "net_amount": _money(fill.net_amount, fill.currency),
        "account": fill.mandate_id,
        "counterparty": broker if layout == "meridian" else broker.upper(),
        "trade_reference": confirmation_id,
    }
    if is_bond(instrument):
        truth["accrued_interest"] = _money(fill.accrued_interest, fill.currency)
    return truth


def check(
    extraction: Extraction, truth: dict[str, str], layout: str, instrument: Instrument, pdf: bool
) -> None:
    assert {one.name: one.value for one in extraction.fields} == truth
    assert extraction.layout == layout
    assert extraction.format == ("pdf" if pdf else "text")
    assert extraction.warnings == ()
    assert extraction.bond is is_bond(instrument)
    assert extraction.instrument_ref == instrument.instrument_id
    assert {one.page for one in extraction.fields} <= ({0, 1} if pdf else {0})


@pytest.mark.parametrize("pdf", [False, True], ids=["text", "pdf"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", sorted(FILLS))
def test_every_field_of_a_hand_built_fill_comes_back(case: str, layout: str, pdf: bool) -> None:
    instrument, fill = FILLS[case]
    text = render_confirmation_text(fill, instrument, layout, confirmation_id="CNF-0000042")
    check(read(text, pdf), expected(fill, instrument, layout, "CNF-0000042"), layout, instrument, pdf)


def test_a_negative_net_amount_is_read_signed_in_every_layout() -> None:
    instrument, fill = FILLS["negative net"]
    assert fill.net_amount == Decimal("-2.51")
    for layout in LAYOUTS:
        text = render_confirmation_text(fill, instrument, layout, confirmation_id="CNF-1")
        assert read(text, pdf=False).value("net_amount") == "-2.51", layout
    meridian = render_confirmation_text(fill, instrument, "meridian", confirmation_id="CNF-1")
    assert "The net amount payable by you is USD 2.51" in " ".join(meridian.split())


@pytest.mark.parametrize("pdf", [False, True], ids=["text", "pdf"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_overrides_put_the_documents_figures_in_the_extraction(layout: str, pdf: bool) -> None:
    instrument, fill = FILLS["equity buy"]  # 1,200 at 123.45; commission 14.81, fees 1.37
    quantity = render_confirmation_text(
        fill, instrument, layout, quantity=Decimal("1300"), confirmation_id="CNF-2"
    )
    extraction = read(quantity, pdf)
    assert (
        extraction.value("quantity"),
        extraction.value("gross_amount"),
        extraction.value("net_amount"),
    ) == (
        "1300",
        "160485.00",
        "160501.18",
    )
    price = render_confirmation_text(
        fill, instrument, layout, price=Decimal("123.54"), confirmation_id="CNF-3"
    )
    extraction = read(price, pdf)
    assert (extraction.value("price"), extraction.value("gross_amount"), extraction.value("net_amount")) == (
        "123.54",
        "148248.00",
        "148264.18",
    )
    settle = render_confirmation_text(
        fill, instrument, layout, settle_date=dt.date(2020, 3, 17), confirmation_id="CNF-4"
    )
    assert read(settle, pdf).value("settlement_date") == "2020-03-17"
    bond, bond_fill = FILLS["treasury sell"]  # 250,000 at 101.125, accrued 278.16
    nominal = render_confirmation_text(
        bond_fill, bond, layout, quantity=Decimal("200000"), confirmation_id="CNF-5"
    )
    extraction = read(nominal, pdf)
    assert {
        name: extraction.value(name)
        for name in ("quantity", "gross_amount", "accrued_interest", "net_amount")
    } == {
        "quantity": "200000",
        "gross_amount": "202250.00",
        "accrued_interest": "222.53",  # 278.16 x 200,000 / 250,000
        "net_amount": "202472.53",
    }


def _simulated_confirmations() -> list[tuple[Confirmation, Fill, Instrument]]:
    simulation = Simulation(
        SimConfig(seed=5, start=SYNTHETIC_START, days=4, fault_rate=0.0), synthetic_history()
    )
    found = []
    while not simulation.finished:
        result = simulation.step()
        assert result is not None
        for event in result.events:
            if event.kind == "trade.confirmation":
                confirmation = event.payload
                assert isinstance(confirmation, Confirmation)
                record = simulation.confirmation(confirmation.confirmation_id)
                assert record is not None
                found.append((confirmation, record[1], record[2]))
    return found


def test_a_simulation_runs_confirmations_read_back_as_their_fills() -> None:
    confirmations = _simulated_confirmations()
    layouts = {confirmation.layout for confirmation, _, _ in confirmations}
    assert layouts == set(LAYOUTS)
    assert any(is_bond(instrument) for _, _, instrument in confirmations)
    assert {fill.side for _, fill, _ in confirmations} == {Side.BUY, Side.SELL}
    for number, (confirmation, fill, instrument) in enumerate(confirmations):
        pdf = number % 5 == 0  # a PDF now and then: rendering one takes a while
        truth = expected(fill, instrument, confirmation.layout, confirmation.confirmation_id)
        check(read(confirmation.text, pdf), truth, confirmation.layout, instrument, pdf)
