"""Tolerances as configuration: absolute and relative thresholds per comparison, scope, asset class, currency.

A difference d = other - book is within tolerance when
    |d| <= absolute   or   |d| <= relative * |book|
using the thresholds of d's direction (above: other > book, below: other < book);
both directions share `absolute` / `relative` unless a rule overrides one
(symmetric by default). At the edge is within. Relative is measured against
the internal book, the book of record, so a position missing from the book
(book 0) only ever gets the absolute threshold. Comparisons are exact Decimal.

Rules are selected by specificity: a rule matches when each of its selectors
(comparison, scope, asset_class, currency) equals the item's or is "*"; of the
matching rules the most specific wins, comparing in this order: asset_class
set, currency set, comparison set. No rule matching means zero tolerance.
Two rules with identical selectors are refused when loading.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.recon.domain.records import Comparison, Scope

ANY = "*"
ZERO = Decimal(0)
_EXACT = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation])


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Thresholds for one direction each: absolute in units (quantity) or currency (cash), relative a fraction."""

    absolute_above: Decimal = ZERO
    relative_above: Decimal = ZERO
    absolute_below: Decimal = ZERO
    relative_below: Decimal = ZERO

    @classmethod
    def symmetric(cls, absolute: Decimal | str = ZERO, relative: Decimal | str = ZERO) -> Tolerance:
        a, r = Decimal(absolute), Decimal(relative)
        return cls(a, r, a, r)

    def thresholds(self, difference: Decimal) -> tuple[Decimal, Decimal]:
        """(absolute, relative) that apply to a difference of this sign."""
        if difference > 0:
            return self.absolute_above, self.relative_above
        return self.absolute_below, self.relative_below

    @property
    def is_symmetric(self) -> bool:
        return self.absolute_above == self.absolute_below and self.relative_above == self.relative_below


EXACT = Tolerance()


def within(book: Decimal, other: Decimal, tolerance: Tolerance) -> bool:
    """Whether other - book is inside the tolerance; at the edge counts as inside. Exact."""
    difference = _EXACT.subtract(other, book)
    if difference == 0:
        return True
    absolute, relative = tolerance.thresholds(difference)
    size = abs(difference)
    return size <= absolute or size <= _EXACT.multiply(relative, abs(book))


@dataclass(frozen=True, slots=True)
class ToleranceRule:
    comparison: str
    scope: str
    asset_class: str
    currency: str
    tolerance: Tolerance

    def matches(self, comparison: Comparison, scope: Scope, asset_class: str, currency: str) -> bool:
        return (
            self.comparison in (ANY, comparison)
            and self.scope in (ANY, scope)
            and self.asset_class in (ANY, asset_class)
            and self.currency in (ANY, currency)
        )

    @property
    def specificity(self) -> tuple[bool, bool, bool, bool]:
        return (self.asset_class != ANY, self.currency != ANY, self.comparison != ANY, self.scope != ANY)


@dataclass(frozen=True, slots=True)
class ToleranceRules:
    rules: tuple[ToleranceRule, ...]

    def lookup(
        self, comparison: Comparison, scope: Scope, asset_class: str = "", currency: str = ""
    ) -> Tolerance:
        best: ToleranceRule | None = None
        for rule in self.rules:
            if rule.matches(comparison, scope, asset_class, currency) and (
                best is None or rule.specificity > best.specificity
            ):
                best = rule
        return EXACT if best is None else best.tolerance

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> ToleranceRules:
        """Rules from the `[[tolerance]]` tables of the configuration (see default_tolerances.toml)."""
        rules: list[ToleranceRule] = []
        seen: set[tuple[str, str, str, str]] = set()
        for i, record in enumerate(records):
            where = f"tolerance[{i}]"
            unknown = set(record) - _RULE_KEYS
            if unknown:
                raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}")
            comparison = _selector(record, "comparison", {c.value for c in Comparison}, where)
            scope = _selector(record, "scope", {s.value for s in Scope}, where)
            asset_class = str(record.get("asset_class", ANY))
            currency = str(record.get("currency", ANY))
            selector = (comparison, scope, asset_class, currency)
            if selector in seen:
                raise ValueError(f"{where}: a rule for {selector} is already defined")
            seen.add(selector)
            absolute = parse_decimal(record.get("absolute", 0), f"{where}.absolute")
            relative = parse_decimal(record.get("relative", 0), f"{where}.relative")
            tolerance = Tolerance(
                absolute_above=parse_decimal(
                    record.get("absolute_above", absolute), f"{where}.absolute_above"
                ),
                relative_above=parse_decimal(
                    record.get("relative_above", relative), f"{where}.relative_above"
                ),
                absolute_below=parse_decimal(
                    record.get("absolute_below", absolute), f"{where}.absolute_below"
                ),
                relative_below=parse_decimal(
                    record.get("relative_below", relative), f"{where}.relative_below"
                ),
            )
            rules.append(ToleranceRule(comparison, scope, asset_class, currency, tolerance))
        return cls(tuple(rules))


_RULE_KEYS = {
    "comparison",
    "scope",
    "asset_class",
    "currency",
    "absolute",
    "relative",
    "absolute_above",
    "relative_above",
    "absolute_below",
    "relative_below",
}


def _selector(record: Mapping[str, Any], key: str, allowed: set[str], where: str) -> str:
    value = str(record.get(key, ANY))
    if value != ANY and value not in allowed:
        raise ValueError(f"{where}.{key}: {value!r} is not one of {sorted(allowed)} or '*'")
    return value


def parse_decimal(value: object, where: str) -> Decimal:
    """Thresholds are exact: strings or integers, never TOML/JSON floats (0.1 is not exact in binary)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f'{where}: write {value!r} as a string, for example "0.01" (floats are not exact)')
    try:
        number = Decimal(value)
    except decimal.InvalidOperation:
        raise ValueError(f"{where}: {value!r} is not a decimal number") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{where}: {value!r} must be a finite number >= 0")
    return number


def distinct(tolerances: Sequence[Tolerance]) -> tuple[Tolerance, ...]:
    """The distinct tolerances in first-seen order (the matcher's tolerance classes)."""
    return tuple(dict.fromkeys(tolerances))
