"""Printed values to canonical text: decimals, dates and the side of a trade.

Each function takes a value as a document prints it and returns the canonical text (decimals with
a '.' point and no grouping, dates YYYY-MM-DD, sides BUY or SELL), or raises ValueError with a
message that says what was wrong and what to give instead.

Decimals (decimal_text): grouping by ',', '.', spaces (also no-break and thin spaces) and
apostrophes (Swiss 1'234'567.89); a currency code (USD) or symbol ($ € £ ¥) and '%' at either end
are dropped, and so is the sign, which may lead, trail or be parentheses. style="us" reads ',' as
grouping and '.' as the decimal point (Swiss numbers read as US: their grouping is the apostrophe),
style="eu" the other way round. style="auto" decides by the text: with both ',' and '.' the last one
is the decimal point; a separator that appears more than once groups; a lone separator followed by
anything but three digits is the decimal point. A lone separator followed by exactly three digits
is ambiguous (1,234 is 1234 in New York and 1.234 in Frankfurt): auto reads it the US way, so
"1,234" is 1234 and "1.234" (or a price "98.765") is 1.234 (98.765), except that a grouping cannot
start with 0 ("0,125" is 0.125) nor sit beside space or apostrophe grouping ("1 234,567" is
1234.567). Give the style when the document's convention is known. Indian grouping (12,34,567.89)
is read too. The printed scale is kept ("171.10" stays "171.10"); canonical_decimal drops trailing
zeros for quantities ("2500.00" is "2500").

Dates (date_text): ISO (2020-03-12, with or without a time), YYYYMMDD (SWIFT and FIX: 20200312),
numeric day and month in either order (03/12/2020, 12.03.2020, 3-12-20), and month names (12-MAR-2020,
12 March 2020, March 12, 2020, Mar 12 2020, 12th March 2020; parsed by python-dateutil). The day and
month order of a numeric date is never guessed: order="dmy" or "mdy" says it; "auto" reads dots as
day first (12.03.2020) and otherwise accepts the date only when a number above 12 decides which is
the day, and raises for 03/12/2020. A two-digit year is the last number (unless order="ymd") and
means 2000-2068 for 00-68, 1969-1999 for 69-99 (as strptime's %y). A date with no day or no year
(March 2020) raises: nothing is filled in from today's date.

Sides (side_text): Buy, B, Bought, Purchase, BUYI, Kauf are BUY; Sell, S, Sold, Sale, Sell short,
Verkauf are SELL, for the client. perspective="broker" says the words are the broker's (the
document's author's), so a bare Buy is the client's SELL. Wording that names the parties is read
the same in both perspectives: "we have purchased for your account" and "you bought" are the
client's BUY, "we sold to you" a BUY, "we bought from you" a SELL; "we bought" alone (as principal
or as the client's agent?) raises.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from dateutil import parser as dateutil_parser  # type: ignore[import-untyped]

DecimalStyle = Literal["us", "eu", "auto"]
DateOrder = Literal["mdy", "dmy", "ymd", "auto"]
Perspective = Literal["client", "broker"]

# Characters that only ever group digits, whatever the style.
_ALWAYS_GROUPING = frozenset(" \u00a0\u202f\u2009'\u2019")
_EDGE = re.compile(r"^(?:[A-Za-z]{3}(?![A-Za-z])|[$€£¥%+\-\u2212\s])+")
_EDGE_END = re.compile(r"(?:(?<![A-Za-z])[A-Za-z]{3}|[$€£¥%+\-\u2212\s])+$")
_BODY = re.compile(r"^[0-9.,\s'\u2019]+$")


def decimal_text(printed: str, style: DecimalStyle = "auto") -> str:
    """The printed number as canonical decimal text, keeping its printed scale (see the module)."""
    body, negative = _strip_sign_and_currency(printed)
    integer, fraction = _split_decimal(printed, body, style)
    digits = f"{'-' if negative else ''}{integer or '0'}{'.' + fraction if fraction else ''}"
    try:
        number = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the checks above leave only digits
        raise ValueError(f"{printed!r} is not a number") from None
    if number == 0:
        number = abs(number)
    return format(number, "f")


def canonical_decimal(text: str, style: DecimalStyle = "auto") -> str:
    """The number with trailing zeros dropped, for quantities: "2,500" and "2500.00" are "2500",
    "12.50" is "12.5"."""
    number = Decimal(decimal_text(text, style))
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def _strip_sign_and_currency(printed: str) -> tuple[str, bool]:
    text = printed.strip()
    if not text:
        raise ValueError("an empty value is not a number")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    lead = _EDGE.match(text)
    head = lead.group(0) if lead else ""
    rest = text[len(head) :]
    trail = _EDGE_END.search(rest)
    tail = trail.group(0) if trail else ""
    body = rest[: len(rest) - len(tail)].strip()
    signs = [ch for ch in head + tail if ch in "+-\u2212"]
    if len(signs) > 1 or (signs and negative):
        raise ValueError(f"{printed!r} has more than one sign")
    negative = negative or signs == ["-"] or signs == ["\u2212"]
    if not body or not any(ch.isdigit() for ch in body):
        raise ValueError(f"{printed!r} is not a number: it has no digits")
    if not _BODY.match(body):
        bad = next(ch for ch in body if not (ch.isdigit() or ch in ".,'\u2019" or ch.isspace()))
        raise ValueError(
            f"{printed!r} is not a number: {bad!r} is neither a digit, a separator nor a currency code at either end"
        )
    return body, negative


def _split_decimal(printed: str, body: str, style: DecimalStyle) -> tuple[str, str]:
    """(integer digits, fraction digits) of a body of digits and separators."""
    point = _decimal_point(body, style)
    if point is None:
        integer_part, fraction = body, ""
    else:
        if body.count(point) > 1:
            raise ValueError(
                f"{printed!r} has {body.count(point)} decimal points {point!r}"
                + (" (is it the other style?)" if style != "auto" else "")
            )
        integer_part, fraction = body.split(point)
    if fraction and not fraction.isdigit():
        other = "eu" if style == "us" else "us"
        hint = f"; is it style={other!r}?" if style != "auto" else ""
        raise ValueError(f"{printed!r}: only digits may follow the decimal point {point!r}{hint}")
    return _ungroup(printed, integer_part), fraction


def _decimal_point(body: str, style: DecimalStyle) -> str | None:
    if style == "us":
        return "." if "." in body else None
    if style == "eu":
        return "," if "," in body else None
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        return "," if body.rfind(",") > body.rfind(".") else "."
    if not (commas or dots):
        return None
    mark = "," if commas else "."
    if max(commas, dots) > 1:
        return None  # a separator that repeats groups
    before, after = body.split(mark)
    spaced = any(ch in _ALWAYS_GROUPING for ch in body)
    grouping_reading = (
        mark == ","
        and len(after) == 3
        and not spaced
        and 1 <= len(before) <= 3
        and not before.startswith("0")
    )
    return None if grouping_reading else mark


def _ungroup(printed: str, integer_part: str) -> str:
    """The integer digits, after checking that every separator groups them in threes (or the
    Indian 2-2-3)."""
    if integer_part.isdigit() or not integer_part:
        return integer_part
    groups = re.split(r"[.,\s'\u2019]", integer_part)
    separators = {"space" if ch.isspace() else ch for ch in integer_part if not ch.isdigit()}
    if len(separators) > 1 or not all(group.isdigit() for group in groups):
        raise ValueError(f"{printed!r} groups its digits in more than one way")
    sizes = [len(group) for group in groups]
    western = 1 <= sizes[0] <= 3 and all(size == 3 for size in sizes[1:])
    indian = 1 <= sizes[0] <= 2 and sizes[-1] == 3 and all(size == 2 for size in sizes[1:-1])
    if not (western or indian):
        shown = "-".join(str(size) for size in sizes)
        raise ValueError(
            f"{printed!r} groups its digits {shown}: groups after the first must have three digits"
        )
    return "".join(groups)


_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMERIC = re.compile(r"^(\d{1,2})([-/. ])(\d{1,2})\2(\d{2}|\d{4})(?: \d{1,2}:\d{2}.*)?$")
_ORDER_NAMES = {"mdy": "month first", "dmy": "day first", "ymd": "year first"}


def date_text(printed: str, order: DateOrder = "auto") -> str:
    """The printed date as YYYY-MM-DD (see the module for the forms and the day/month order)."""
    text = printed.strip()
    if not text:
        raise ValueError("an empty value is not a date")
    iso = _ISO.match(text) or _COMPACT.match(text)
    if iso:
        return _make_date(printed, int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    numeric = _NUMERIC.match(text)
    if numeric:
        first, separator, second, last = numeric.groups()
        return _numeric_date(printed, int(first), separator, int(second), last, order)
    if not any(ch.isalpha() for ch in text):
        raise ValueError(
            f"{printed!r} is not a date I can read: give YYYY-MM-DD, DD/MM/YYYY or MM/DD/YYYY with the order, "
            "or a month name (12 March 2020)"
        )
    return _named_month_date(printed, text, order)


def _make_date(printed: str, year: int, month: int, day: int) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError as error:
        raise ValueError(f"{printed!r} is not a date: {error}") from None


def _two_digit_year(year: str) -> int:
    value = int(year)
    if len(year) == 4:
        return value
    return 2000 + value if value < 69 else 1900 + value


def _numeric_date(printed: str, first: int, separator: str, second: int, last: str, order: DateOrder) -> str:
    if order == "ymd":
        return _make_date(printed, _two_digit_year(f"{first:02d}"), second, int(last))
    year = _two_digit_year(last)
    if order == "auto" and separator == ".":
        order = "dmy"
    if order == "dmy":
        return _make_date(printed, year, second, first)
    if order == "mdy":
        return _make_date(printed, year, first, second)
    if first > 12 and second > 12:
        raise ValueError(f"{printed!r} is not a date: neither {first} nor {second} is a month")
    if first == second or first > 12:
        return _make_date(printed, year, second, first)
    if second > 12:
        return _make_date(printed, year, first, second)
    month_first = _make_date(printed, year, first, second)
    day_first = _make_date(printed, year, second, first)
    raise ValueError(
        f"{printed!r} is ambiguous: {month_first} month first or {day_first} day first; "
        "give the order (order='mdy' or order='dmy')"
    )


# Two defaults that differ in year, month and day: a component the text lacks shows as a difference.
_DEFAULTS = (datetime(1904, 1, 1), datetime(1908, 2, 2))


def _named_month_date(printed: str, text: str, order: DateOrder) -> str:
    readings = []
    for default in _DEFAULTS:
        try:
            parsed = dateutil_parser.parse(
                text, default=default, dayfirst=order == "dmy", yearfirst=order == "ymd"
            )
        except (ValueError, OverflowError) as error:
            reason = str(error).split(":", 1)[0] if "out of range" in str(error) else ""
            if reason:
                raise ValueError(f"{printed!r} is not a date: {reason}") from None
            raise ValueError(
                f"{printed!r} is not a date I can read: give YYYY-MM-DD, or the day, a month name and "
                "the year (12 March 2020)"
            ) from None
        if not isinstance(parsed, datetime):  # pragma: no cover - dateutil returns datetimes
            raise ValueError(f"{printed!r} is not a date")
        readings.append(parsed.date())
    if readings[0] != readings[1]:
        missing = [
            name
            for name, a, b in (
                ("year", readings[0].year, readings[1].year),
                ("month", readings[0].month, readings[1].month),
                ("day", readings[0].day, readings[1].day),
            )
            if a != b
        ]
        raise ValueError(f"{printed!r} is not a whole date: it has no {' and no '.join(missing)}")
    return readings[0].isoformat()


_BUY_WORDS = frozenset(
    {
        "buy", "buys", "bought", "bot", "purchase", "purchased", "purchases", "buyi", "kauf", "compra", "compras",
        "acquisto", "acquisti", "aankoop", "kupno", "achat", "kjøp", "köp",
    }
)  # fmt: skip
_SELL_WORDS = frozenset(
    {
        "sell", "sells", "sold", "sale", "sales", "verkauf", "short", "venta", "ventas", "venda", "vendas",
        "vendita", "vendite", "verkoop", "sprzedaż", "vente", "salg", "sälj", "försäljning",
    }
)  # fmt: skip
# A single letter is a side only when it is the whole value (B or S in a column).
_LETTERS = {"b": "BUY", "s": "SELL"}
_CLIENT_MARKERS = ("your account", "for you", "your behalf", "as agent", "as your agent", "you ")


def side_text(printed: str, perspective: Perspective = "client") -> str:
    """BUY or SELL for the client (see the module for the wording read)."""
    words = re.findall(r"[^\W\d_]+", printed.lower())
    text = " ".join(words) + " "
    if len(words) == 1 and words[0] in _LETTERS:
        words = ["buy" if _LETTERS[words[0]] == "BUY" else "sell"]
    buys = [word for word in words if word in _BUY_WORDS]
    sells = [word for word in words if word in _SELL_WORDS]
    if not (buys or sells):
        raise ValueError(f"{printed!r} names no side: give Buy or Sell (or B/S, Bought/Sold)")
    if buys and sells:
        raise ValueError(f"{printed!r} names both sides ({buys[0]}, {sells[0]})")
    verb = "BUY" if buys else "SELL"
    if " to you " in f" {text}":
        if verb != "SELL":
            raise ValueError(f"{printed!r}: 'to you' reads only with a sale (we sold to you)")
        return "BUY"
    if " from you " in f" {text}":
        if verb != "BUY":
            raise ValueError(f"{printed!r}: 'from you' reads only with a purchase (we bought from you)")
        return "SELL"
    if any(f" {marker}" in f" {text}" for marker in _CLIENT_MARKERS):
        return verb
    if {"we", "us", "our"} & set(words):
        raise ValueError(
            f"{printed!r} does not say whose side it is: 'we' could be the broker as principal or as "
            "your agent; look for 'for your account', 'to you' or 'from you'"
        )
    if perspective == "broker":
        return "SELL" if verb == "BUY" else "BUY"
    return verb
