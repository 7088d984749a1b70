"""How the dashboard writes figures: thousands separators, a currency's decimals, signed percentages,
ages in business days, dates and simulated times. Pure functions of plain values.

Money and quantities arrive as the wire's decimal strings and stay Decimal to the page: a figure is
never converted through float, so what the page shows is what the service sent, grouped by
thousands. Returns and other analytics travel as double on the wire and are formatted as such.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from services.common.text import grouped

# What a cell shows when there is no value (unset on the wire, or nothing to compute from).
MISSING = "–"

# Decimals a currency's amounts are written with (its minor unit); an amount with more keeps them.
CURRENCY_PLACES: Mapping[str, int] = MappingProxyType({"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0})


def decimal_or_none(text: str | None) -> Decimal | None:
    """The decimal a wire string holds; None for the empty string (unset) or a string that is not a
    finite number."""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _places_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    return max(0, -exponent)


def number(value: Decimal | str | int | None, places: int | None = None) -> str:
    """A number with thousands separators: its own decimals, or `places` of them (half-even).
    number("-1234567.5") == "-1,234,567.5"; number(None) == MISSING. A negative zero is written 0."""
    if isinstance(value, str):
        value = decimal_or_none(value)
    if value is None:
        return MISSING
    text = grouped(value, places)
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def amount(value: Decimal | str | None, currency: str = "") -> str:
    """An amount of `currency` with at least its minor unit's decimals (USD 2, JPY 0), more when the
    value has them (nothing is rounded away): amount("1234.5", "USD") == "1,234.50"."""
    if isinstance(value, str):
        value = decimal_or_none(value)
    if value is None:
        return MISSING
    places = max(CURRENCY_PLACES.get(currency, 0), _places_of(value))
    return number(value, places)


def money(value: Decimal | str | None, currency: str) -> str:
    """amount() followed by the currency code: "1,234.50 USD"."""
    text = amount(value, currency)
    return text if text == MISSING or not currency else f"{text} {currency}"


def percent(fraction: float | None, places: int = 2, *, signed: bool = True) -> str:
    """A fraction as a percentage: percent(0.01234) == "+1.23 %"; MISSING for None or NaN."""
    if fraction is None or not math.isfinite(fraction):
        return MISSING
    value = round(fraction * 100, places)
    if value == 0:
        value = 0.0  # no "-0.00 %"
    sign = "+" if signed else ""
    return f"{value:{sign},.{places}f} %"


def decimal_percent(fraction: Decimal | None, places: int = 2) -> str:
    """An exact fraction (a drawdown worked out from NAVs per unit) as a signed percentage."""
    if fraction is None:
        return MISSING
    value = (fraction * 100).quantize(Decimal(1).scaleb(-places))
    if value == 0:
        value = abs(value)
    return f"{value:+,.{places}f} %"


def age(business_days: int) -> str:
    """An age in business days, as a person says it: "today", "1 business day", "12 business days"."""
    if business_days <= 0:
        return "today"
    unit = "business day" if business_days == 1 else "business days"
    return f"{business_days:,} {unit}"


def date_text(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else MISSING


def sim_time_text(moment: dt.datetime | None) -> str:
    """A simulated time to the minute, as `opsuite trace` prints it: "2020-01-07 16:30"."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else MISSING


def clock_time_text(moment: dt.datetime | None) -> str:
    """A wall-clock time of day in UTC, for "unavailable since": "14:02:31 UTC"."""
    if moment is None:
        return MISSING
    return moment.astimezone(dt.UTC).strftime("%H:%M:%S UTC")


def sign_class(value: Decimal | float | None) -> str:
    """ "neg" for a negative figure, "pos" for a positive one, "" otherwise (a CSS class)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return "neg" if value < 0 else "pos" if value > 0 else ""


def enum_text(name: str, prefix: str) -> str:
    """BREAK_KIND_PRICE_MISMATCH, "BREAK_KIND_" -> "price mismatch"."""
    return name.removeprefix(prefix).lower().replace("_", " ")


def speed_text(business_days_per_second: float, as_fast_as_possible: bool) -> str:
    """The clock's speed: "as fast as possible", "1 business day a second", "2 business days a
    second", "a business day every 4 seconds"."""
    if as_fast_as_possible:
        return "as fast as possible"
    if business_days_per_second <= 0 or not math.isfinite(business_days_per_second):
        return MISSING
    if business_days_per_second >= 1:
        count = f"{business_days_per_second:g}"
        unit = "business day" if count == "1" else "business days"
        return f"{count} {unit} a second"
    return f"a business day every {1 / business_days_per_second:g} seconds"
