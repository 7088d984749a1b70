"""The day's primary FX rates, and the rate of any currency in any other through USD (the ledger and
reporting convert with the same rates).

Only primary quotes are kept: the published crosses may be distorted by an
injected fault, the primary pairs (EURUSD, GBPUSD, USDJPY) are the record.
A cross is computed from them in Decimal, so the same quotes always give
the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

PIVOT = "USD"
ONE = Decimal(1)


class FxRates:
    def __init__(self, pairs: Mapping[str, Decimal] | None = None) -> None:
        self.pairs: dict[str, Decimal] = dict(pairs or {})  # "EURUSD" -> USD per EUR

    def update(self, base_currency: str, quote_currency: str, rate: Decimal) -> None:
        if rate <= 0:
            raise ValueError(f"FX rate {base_currency}{quote_currency} must be positive, not {rate}")
        self.pairs[base_currency + quote_currency] = rate

    def _direct(self, ccy: str, into: str) -> Decimal | None:
        if ccy == into:
            return ONE
        rate = self.pairs.get(ccy + into)
        if rate is not None:
            return rate
        inverse = self.pairs.get(into + ccy)
        return ONE / inverse if inverse is not None else None

    def rate(self, ccy: str, into: str) -> Decimal:
        """Units of `into` per one unit of `ccy`; ValueError when no quote connects them."""
        direct = self._direct(ccy, into)
        if direct is not None:
            return direct
        first, second = self._direct(ccy, PIVOT), self._direct(PIVOT, into)
        if first is None or second is None:
            raise ValueError(f"no primary FX rate yet to convert {ccy} into {into}")
        return first * second
