"""The FX checks, evaluated rate by rate as market publishes them (primaries first in a day).

- triangulation: a rate between two currencies other than USD (a cross, "EURJPY") against the
  product of the day's two primary USD legs (EURUSD x USDJPY; a leg quoted the other way round
  is inverted: EURGBP = EURUSD / GBPUSD). Fails when |cross - implied| > tolerance x implied.
- inverse: a pair against its inverse quoted the same day (EURUSD x USDEUR = 1). Fails when
  |product - 1| > tolerance.
- stale: a pair's rate unchanged for `days` business days or more (that many fails).
Rates are Decimal throughout; deviations are floats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.common.market_events import FxQuote
from services.dq.domain.config import Check, CheckSet
from services.dq.domain.price_series import Series
from services.dq.domain.results import PRIMARY, CheckResult, Family, SubjectKind, percent

PIVOT = "USD"
PAIR = SubjectKind.CURRENCY_PAIR


@dataclass(frozen=True, slots=True)
class _Rate:
    rate: Decimal
    event_id: str
    vendor: str


class FxChecks:
    """Per-event FX checks; state (today's rates, each pair's last change) via to_json / restore."""

    def __init__(self, checks: CheckSet) -> None:
        self._checks = checks
        self._day = -1
        self._date: dt.date | None = None
        self._today: dict[str, _Rate] = {}  # pair -> today's primary rate (or the last vendor's)
        self._series: dict[tuple[str, str], Series] = {}

    def rate(self, event_id: str, quote: FxQuote) -> list[CheckResult]:
        self._start(quote.rate_date)
        pair = quote.pair
        results: list[CheckResult] = []
        check = self._select("triangulation", pair)
        if check is not None and PIVOT not in (quote.base_currency, quote.quote_currency) and quote.rate > 0:
            legs = self._legs(quote.base_currency, quote.quote_currency)
            if legs is not None:
                results.append(self._triangulate(check, event_id, quote, *legs))
        check = self._select("inverse", pair)
        inverse = self._today.get(quote.quote_currency + quote.base_currency)
        if check is not None and inverse is not None:
            results.append(self._inverse(check, event_id, quote, inverse))
        series = self._series.setdefault((pair, quote.vendor), Series())
        check = self._select("stale", pair)
        if check is not None:
            results.append(self._stale(check, event_id, quote, series))
        series.publish(quote.rate, self._day)
        if quote.vendor == PRIMARY or pair not in self._today:
            self._today[pair] = _Rate(quote.rate, event_id, quote.vendor)
        return results

    # ------------------------------------------------------------ rules

    def _legs(self, base: str, quote: str) -> tuple[Decimal, Decimal, tuple[str, ...]] | None:
        """(units of USD per base, units of quote per USD, the legs' event ids) from primaries."""
        first = self._primary(base, PIVOT)
        second = self._primary(PIVOT, quote)
        if first is None or second is None:
            return None
        return first[0], second[0], (first[1], second[1])

    def _primary(self, base: str, quote: str) -> tuple[Decimal, str] | None:
        direct = self._today.get(base + quote)
        if direct is not None and direct.vendor == PRIMARY and direct.rate > 0:
            return direct.rate, direct.event_id
        inverse = self._today.get(quote + base)
        if inverse is not None and inverse.vendor == PRIMARY and inverse.rate > 0:
            return Decimal(1) / inverse.rate, inverse.event_id
        return None

    def _triangulate(
        self,
        check: Check,
        event_id: str,
        quote: FxQuote,
        base_in_usd: Decimal,
        usd_in_quote: Decimal,
        leg_events: tuple[str, ...],
    ) -> CheckResult:
        implied = base_in_usd * usd_in_quote
        difference = quote.rate - implied
        tolerance = check.decimal("tolerance")
        ok = abs(difference) <= tolerance * implied
        deviation = float(difference / implied)
        legs = f"{quote.base_currency}{PIVOT} x {PIVOT}{quote.quote_currency}"
        return check.result(
            success=ok,
            subject=quote.pair,
            subject_kind=PAIR,
            vendor=quote.vendor,
            observed=quote.rate,
            reference=implied.quantize(Decimal("1E-10")),
            deviation=deviation,
            threshold=float(tolerance),
            value_date=quote.rate_date,
            caused_by=(event_id, *leg_events),
            message=f"{quote.pair} {quote.vendor} {quote.rate} vs {implied:.6f} from {legs} ({percent(deviation)})",
        )

    def _inverse(self, check: Check, event_id: str, quote: FxQuote, inverse: _Rate) -> CheckResult:
        product = quote.rate * inverse.rate
        tolerance = check.decimal("tolerance")
        ok = abs(product - 1) <= tolerance
        deviation = float(product - 1)
        reverse = quote.quote_currency + quote.base_currency
        return check.result(
            success=ok,
            subject=quote.pair,
            subject_kind=PAIR,
            vendor=quote.vendor,
            observed=quote.rate,
            reference=(Decimal(1) / inverse.rate).quantize(Decimal("1E-10")) if inverse.rate else None,
            deviation=deviation,
            threshold=float(tolerance),
            value_date=quote.rate_date,
            caused_by=(event_id, inverse.event_id),
            message=f"{quote.pair} {quote.rate} x {reverse} {inverse.rate} = {product:.8f} ({percent(deviation)} off 1)",
        )

    def _stale(self, check: Check, event_id: str, quote: FxQuote, series: Series) -> CheckResult:
        days = series.stale_days(quote.rate, self._day)
        ok = days < check.whole("days")
        return check.result(
            success=ok,
            subject=quote.pair,
            subject_kind=PAIR,
            vendor=quote.vendor,
            observed=quote.rate,
            reference=series.previous,
            threshold=check.threshold("days"),
            value_date=quote.rate_date,
            caused_by=(event_id,),
            stale_business_days=days,
            message=f"{quote.pair} {quote.vendor} {quote.rate}"
            + (f" unchanged for {days} business day(s)" if days else " is fresh"),
        )

    # ------------------------------------------------------------ the day and the state

    def _select(self, rule: str, pair: str) -> Check | None:
        return self._checks.select(Family.FX, rule, {"currency_pair": pair})

    def _start(self, date: dt.date) -> None:
        if self._date is not None and date < self._date:
            raise ValueError(f"rate date {date} is before the day being checked, {self._date}")
        if self._date != date:
            self._day += 1
            self._date = date
            self._today = {}

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self._day,
            "date": self._date.isoformat() if self._date is not None else None,
            "today": {p: [str(r.rate), r.event_id, r.vendor] for p, r in sorted(self._today.items())},
            "series": {f"{p}|{v}": s.to_json() for (p, v), s in sorted(self._series.items())},
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        self._day = int(data["day"])
        self._date = dt.date.fromisoformat(data["date"]) if data["date"] is not None else None
        self._today = {p: _Rate(Decimal(r[0]), r[1], r[2]) for p, r in data["today"].items()}
        self._series = {}
        for key, value in data["series"].items():
            pair, vendor = key.split("|", 1)
            self._series[(pair, vendor)] = Series.restore(value)
