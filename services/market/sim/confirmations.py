"""Broker trade confirmations as documents: text in one of several house layouts (the PDF of a text is
services/market/pdf.py).

Each layout is a different broker house with its own habits (labels, date
style, number grouping, side wording, amounts in words), because the documents
service has to extract confirmations that do not share a template. Every layout
states the same facts: broker, confirmation id, account, trade and settle dates,
side, quantity, security (symbol, name, id), price, currency, gross amount,
commission, fees, accrued interest (bonds), net amount.

The override arguments put a custodian's error into the document. A different
quantity or price recomputes gross, accrued and net as the broker would have
(quantity x price, divided by 100 for bonds priced per 100 nominal), so the
document stays internally consistent and differs from the fill the way a real
wrong confirmation does.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

from services.market.sim.records import Fill, Instrument, Side
from services.market.sim.universe import is_bond

LAYOUTS: tuple[str, ...] = ("northbridge", "kestrel", "meridian")
BROKER_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "northbridge": "Northbridge Securities LLC",
        "kestrel": "Kestrel Capital Markets Ltd",
        "meridian": "Meridian & Co. Private Brokers",
    }
)
MINOR_UNITS: Mapping[str, int] = MappingProxyType({"JPY": 0})  # every other currency has 2
CURRENCY_WORDS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "USD": ("US dollars", "cents"),
        "EUR": ("euros", "cents"),
        "GBP": ("pounds sterling", "pence"),
        "JPY": ("yen", ""),
    }
)
_WRAP = 78


def layout_for_broker(broker: str) -> str:
    """The layout a broker's confirmations use: a layout key or house name maps to itself,
    any other name to a fixed layout chosen by its characters (stable across runs, unlike hash())."""
    lowered = broker.lower()
    for layout, name in BROKER_NAMES.items():
        if lowered == layout or lowered == name.lower():
            return layout
    return LAYOUTS[sum(broker.encode()) % len(LAYOUTS)]


# ---------------------------------------------------------------- the facts of one confirmation


class _Terms:
    """The figures a confirmation states, after any override."""

    def __init__(
        self,
        fill: Fill,
        instrument: Instrument,
        quantity: Decimal | None,
        price: Decimal | None,
        settle_date: dt.date | None,
    ) -> None:
        self.is_bond = is_bond(instrument)
        self.quantity = fill.quantity if quantity is None else quantity
        self.price = fill.price if price is None else price
        self.settle_date = fill.settle_date if settle_date is None else settle_date
        self.currency = fill.currency
        self.commission = fill.commission
        self.fees = fill.fees
        if quantity is None and price is None:
            self.gross, self.accrued, self.net = fill.gross_amount, fill.accrued_interest, fill.net_amount
            return
        scale = Decimal(1) / 100 if self.is_bond else Decimal(1)
        self.gross = self._money(self.quantity * self.price * scale)
        self.accrued = (
            self._money(fill.accrued_interest * self.quantity / fill.quantity)
            if fill.quantity
            else fill.accrued_interest
        )
        charges = self.commission + self.fees
        self.net = self.gross + self.accrued + (charges if fill.side == Side.BUY else -charges)

    def _money(self, amount: Decimal) -> Decimal:
        exponent = Decimal(1).scaleb(-MINOR_UNITS.get(self.currency, 2))
        return amount.quantize(exponent, rounding=ROUND_HALF_EVEN)


# ---------------------------------------------------------------- formatting helpers


def _plain(value: Decimal) -> str:
    """A decimal without exponent notation, as published (trailing zeros kept)."""
    return f"{value:f}"


def _grouped(value: Decimal) -> str:
    return f"{value:,f}"


def _amount(value: Decimal, currency: str, grouped: bool = True) -> str:
    places = MINOR_UNITS.get(currency, 2)
    quantized = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return f"{quantized:,f}" if grouped else f"{quantized:f}"


def _quantity(value: Decimal, grouped: bool = True) -> str:
    normal = value.normalize() if value == value.to_integral_value() else value
    text = f"{normal:,f}" if grouped else f"{normal:f}"
    return text


def _date_iso(day: dt.date) -> str:
    return day.isoformat()


def _date_dmy_upper(day: dt.date) -> str:
    return day.strftime("%d-%b-%Y").upper()  # 12-MAR-2020; %b is English under the C locale


def _date_long(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"  # 12 March 2020


_NBSP = "\x00"  # stands for a space that line wrapping must not break at


def _keep(text: str) -> str:
    """Keep a figure, date or name on one line when a paragraph is wrapped."""
    return text.replace(" ", _NBSP)


_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))


def number_to_words(n: int) -> str:
    """English words for a non-negative integer: 123450 -> "one hundred twenty-three thousand four hundred fifty"."""
    if n < 0:
        raise ValueError("negative numbers have no words here")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{number_to_words(high)} {name}" + (f" {number_to_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def amount_in_words(value: Decimal, currency: str) -> str:
    """ "twelve pounds sterling and five pence"; a negative amount reads "minus ..."."""
    if value < 0:
        return f"minus {amount_in_words(-value, currency)}"
    major_name, minor_name = CURRENCY_WORDS.get(currency, (currency, "hundredths"))
    places = MINOR_UNITS.get(currency, 2)
    quantized = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    major = int(quantized)
    words = f"{number_to_words(major)} {major_name}"
    if places:
        minor = int((quantized - major).scaleb(places))
        words += f" and {number_to_words(minor) if minor else 'no'} {minor_name}"
    return words


def _quantity_in_words(value: Decimal) -> str:
    if value == value.to_integral_value():
        return number_to_words(int(value))
    whole, _, fraction = _plain(value).partition(".")
    return f"{number_to_words(int(whole))} point {' '.join(_ONES[int(d)] for d in fraction)}"


# ---------------------------------------------------------------- layouts


def _northbridge(fill: Fill, instrument: Instrument, terms: _Terms, confirmation_id: str) -> str:
    ccy = terms.currency
    side = "Buy" if fill.side == Side.BUY else "Sell"
    rows = [
        ("Confirmation ID", confirmation_id),
        ("Account", fill.mandate_id),
        ("Trade Date", _date_iso(fill.trade_date)),
        ("Settlement Date", _date_iso(terms.settle_date)),
        ("Side", side),
        ("Quantity" + (" (nominal)" if terms.is_bond else ""), _quantity(terms.quantity)),
        ("Security", f"{instrument.symbol} - {instrument.name}"),
        ("Security ID", instrument.instrument_id),
        ("Price" + (" (clean, per 100)" if terms.is_bond else ""), _grouped(terms.price)),
        ("Currency", ccy),
        ("Gross Amount", _amount(terms.gross, ccy)),
        ("Commission", _amount(terms.commission, ccy)),
        ("Fees", _amount(terms.fees, ccy)),
    ]
    if terms.is_bond:
        rows.append(("Accrued Interest", _amount(terms.accrued, ccy)))
    rows.append(("Net Amount", _amount(terms.net, ccy)))
    width = max(len(label) for label, _ in rows)
    lines = [
        BROKER_NAMES["northbridge"].upper(),
        "TRADE CONFIRMATION",
        "",
        *(f"{label + ':':<{width + 1}} {value}" for label, value in rows),
        "",
        "Please notify us of any discrepancy within two business days.",
    ]
    return "\n".join(lines) + "\n"


def _table(headers: list[str], values: list[str]) -> list[str]:
    widths = [max(len(h), len(v)) for h, v in zip(headers, values, strict=True)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    head = "|" + "|".join(f" {h:<{w}} " for h, w in zip(headers, widths, strict=True)) + "|"
    row = "|" + "|".join(f" {v:<{w}} " for v, w in zip(values, widths, strict=True)) + "|"
    return [rule, head, rule, row, rule]


def _kestrel(fill: Fill, instrument: Instrument, terms: _Terms, confirmation_id: str) -> str:
    ccy = terms.currency
    side = "BUY" if fill.side == Side.BUY else "SELL"
    first = _table(
        [
            "CONTRACT REF",
            "ACCOUNT",
            "TRADE DATE",
            "SETTLE DATE",
            "B/S",
            "NOMINAL" if terms.is_bond else "QUANTITY",
        ],
        [
            confirmation_id,
            fill.mandate_id,
            _date_dmy_upper(fill.trade_date),
            _date_dmy_upper(terms.settle_date),
            side,
            _quantity(terms.quantity, grouped=False),
        ],
    )
    second = _table(
        ["SYMBOL", "SECURITY", "SECURITY ID", "CCY", "PRICE"],
        [instrument.symbol, instrument.name, instrument.instrument_id, ccy, _plain(terms.price)],
    )
    amount_headers = ["GROSS", "COMMISSION", "FEES"]
    amount_values = [_amount(v, ccy, grouped=False) for v in (terms.gross, terms.commission, terms.fees)]
    if terms.is_bond:
        amount_headers.append("ACCRUED INT")
        amount_values.append(_amount(terms.accrued, ccy, grouped=False))
    third = _table([*amount_headers, "NET"], [*amount_values, _amount(terms.net, ccy, grouped=False)])
    lines = [
        f"{BROKER_NAMES['kestrel'].upper():<48}CONTRACT NOTE",
        "",
        *first,
        "",
        *second,
        "",
        *third,
        "",
        f"AMOUNTS IN {ccy}. " + ("BOND PRICE CLEAN PER 100 NOMINAL. " if terms.is_bond else "") + "E&OE.",
    ]
    return "\n".join(lines) + "\n"


def _meridian(fill: Fill, instrument: Instrument, terms: _Terms, confirmation_id: str) -> str:
    ccy = terms.currency
    verb = "bought" if fill.side == Side.BUY else "sold"
    quantity = f"{_quantity_in_words(terms.quantity)} ({_quantity(terms.quantity)})"
    security = f"{_keep(instrument.name)} ({_keep(instrument.symbol)}, identifier {instrument.instrument_id})"
    trade_date, settle = _keep(_date_long(fill.trade_date)), _keep(_date_long(terms.settle_date))

    def money(value: Decimal) -> str:
        return _keep(f"{ccy} {_amount(value, ccy)}")

    if terms.is_bond:
        holding = f"a nominal amount of {ccy} {quantity} of {security}"
        price = f"a clean price of {_keep(_grouped(terms.price))} per 100 nominal"
    else:
        holding = f"{quantity} shares of {security}"
        price = f"a price of {_keep(f'{ccy} {_grouped(terms.price)}')} per share"
    charges = "added to" if fill.side == Side.BUY else "deducted from"
    # A sale whose charges exceed its proceeds (one share under the minimum commission) leaves the
    # client owing the difference: the broker words it as payable, not as a negative sum due.
    owed = fill.side == Side.BUY or terms.net < 0
    payable = "payable by you" if owed else "due to you"
    paragraphs = [
        f"We confirm that on {trade_date} we {verb} on your behalf {holding} at {price}, "
        f"for settlement on {settle}.",
        f"The gross consideration is {money(terms.gross)} ({amount_in_words(terms.gross, ccy)}). "
        f"Our commission of {money(terms.commission)} and fees of {money(terms.fees)} are {charges} it.",
    ]
    if terms.is_bond:
        paragraphs.append(
            f"Accrued interest to the settlement date of {money(terms.accrued)} "
            f"({amount_in_words(terms.accrued, ccy)}) is added to the consideration."
        )
    net = abs(terms.net)
    paragraphs.append(f"The net amount {payable} is {money(net)} ({amount_in_words(net, ccy)}).")
    lines = [
        BROKER_NAMES["meridian"],
        "",
        _date_long(fill.trade_date),
        f"Our reference: {confirmation_id}",
        f"Your account: {fill.mandate_id}",
        "",
        "Dear Client,",
        "",
    ]
    for paragraph in paragraphs:
        wrapped = textwrap.wrap(paragraph, _WRAP, break_on_hyphens=False, break_long_words=False)
        lines.extend(line.replace(_NBSP, " ") for line in wrapped)
        lines.append("")
    lines.extend(["Yours faithfully,", "", f"Settlements Desk, {BROKER_NAMES['meridian']}"])
    return "\n".join(lines) + "\n"


_RENDERERS = {"northbridge": _northbridge, "kestrel": _kestrel, "meridian": _meridian}


def render_confirmation_text(
    fill: Fill,
    instrument: Instrument,
    layout: str,
    *,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    settle_date: dt.date | None = None,
    confirmation_id: str,
    replaces: str = "",
) -> str:
    """The confirmation of a fill in a broker layout; overrides carry a custodian error into it. A
    corrected confirmation (`replaces`: the id of the one it cancels) opens with a line saying so,
    as brokers head a corrected confirmation."""
    if layout not in _RENDERERS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {LAYOUTS}")
    if instrument.instrument_id != fill.instrument_id:
        raise ValueError(f"instrument {instrument.instrument_id} is not the fill's {fill.instrument_id}")
    terms = _Terms(fill, instrument, quantity, price, settle_date)
    text = _RENDERERS[layout](fill, instrument, terms, confirmation_id)
    if replaces:
        text = f"CORRECTED CONFIRMATION - CANCELS AND REPLACES {replaces}\n\n{text}"
    return text
