"""The custodian's keying errors: a plausible typo in a quantity or a price (QUANTITY_TYPO, PRICE_TYPO)."""

from __future__ import annotations

import random
from decimal import Decimal


def _digits_typo(digits: str, rng: random.Random) -> str:
    """A plausible keying error in a digit string: transposed pair, dropped or doubled digit, or one digit off."""
    options: list[str] = []
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            options.append(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
    options.append(digits + "0")
    if len(digits) > 1:
        options.append(digits[:-1])
    last = int(digits[-1])
    options.append(digits[:-1] + str((last + 1) % 10))
    options = [o for o in options if o.lstrip("0") and o != digits]
    return options[rng.randrange(len(options))]


def quantity_typo(quantity: Decimal, rng: random.Random) -> Decimal:
    return Decimal(_digits_typo(str(int(quantity)), rng))


def price_typo(price: Decimal, rng: random.Random) -> Decimal:
    """A keying error in the price's digits, keeping its decimal places."""
    sign, digits, exponent = price.as_tuple()
    text = "".join(map(str, digits))
    places = -int(exponent) if isinstance(exponent, int) and exponent < 0 else 0
    while True:
        typo = _digits_typo(text, rng)
        if len(typo) == len(text):  # keep the magnitude's decimal places; a dropped digit shifts the point
            break
    return Decimal(f"{'-' if sign else ''}{int(typo)}").scaleb(-places)
