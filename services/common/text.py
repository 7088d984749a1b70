"""Numbers as a person reads them, written once for every place that prints one (the command line,
the lines `opsuite trace` and recon's GetChain give for market's events)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def grouped(value: Decimal | int | float | str, places: int | None = None) -> str:
    """`value` with thousands separators, its own decimals kept unless `places` says how many.

    grouped("-123600000.5") == "-123,600,000.5"; grouped(1234567) == "1,234,567";
    grouped("12.345", 2) == "12.34" (half-even, as Decimal quantizes); non-numbers come back as given.
    """
    if isinstance(value, float):
        value = Decimal(repr(value))
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
    elif number.as_tuple().exponent > 0:  # type: ignore[operator]  # finite, so an int
        number = number.quantize(Decimal(1))  # 1E+3 prints as 1,000
    return f"{number:,}" if places is None else f"{number:,.{places}f}"
