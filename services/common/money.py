"""Currencies' minor units and the one rounding of computed money: half-even to the minor unit.

The ledger, reporting and market round computed amounts (a mark, an accrual, a value converted
into the base currency) the same way, so their figures agree to the cent
(docs/reporting-conventions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

MINOR_UNITS: Mapping[str, int] = MappingProxyType({"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0})
_QUANTA: Mapping[str, Decimal] = MappingProxyType(
    {ccy: Decimal(1).scaleb(-places) for ccy, places in MINOR_UNITS.items()}
)


def quantum(ccy: str) -> Decimal:
    """The currency's minor unit (0.01, or 1 for JPY); KeyError for a currency not in MINOR_UNITS."""
    try:
        return _QUANTA[ccy]
    except KeyError:
        raise KeyError(f"currency {ccy!r} is not one of {', '.join(MINOR_UNITS)}") from None


def quantize_money(amount: Decimal, ccy: str) -> Decimal:
    """Half-even to the currency's minor unit (for computed amounts only: inputs are never rounded)."""
    return amount.quantize(quantum(ccy), rounding=ROUND_HALF_EVEN)
