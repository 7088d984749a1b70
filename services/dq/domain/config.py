"""dq's checks, declared in a TOML file (default_checks.toml documents every rule and threshold).

Each [[check]] names an id, a family, a rule of that family, a severity, a description, the
rule's thresholds and optionally a subject filter. Nothing is silently defaulted: an unknown
key, rule, severity or threshold, a missing threshold or a duplicate id is a ConfigError that
names the file, the check and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from services.common.market_events import AssetClass
from services.dq.domain.results import (
    RULE_KINDS,
    CheckResult,
    Family,
    IssueKind,
    Severity,
    SubjectKind,
    quarantines,
)

DEFAULT_FILE = "default_checks.toml"
_CHECK_KEYS = ("id", "family", "rule", "severity", "description", "thresholds", "subject")
_REQUIRED_KEYS = ("id", "family", "rule", "severity", "description")


class ConfigError(ValueError):
    """A checks file that cannot be used; the message names the file, the check and the fix."""


@dataclass(frozen=True, slots=True)
class _Limit:
    """What a threshold may be: a number >= low (> low when strict), <= high, whole or not."""

    low: float = 0.0
    strict: bool = False
    high: float | None = None
    whole: bool = False

    def describe(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        bound = f"> {self.low:g}" if self.strict else f">= {self.low:g}"
        return f"{kind} {bound}" + (f" and <= {self.high:g}" if self.high is not None else "")

    def allows(self, value: float) -> bool:
        if self.whole and value != int(value):
            return False
        if value < self.low or (self.strict and value == self.low):
            return False
        return self.high is None or value <= self.high


_FRACTION = _Limit()
_POSITIVE = _Limit(strict=True)
_COUNT = _Limit(low=1, whole=True)
_SHARE = _Limit(high=1.0)
_FLAG = _Limit(high=1.0, whole=True)
_E = TypeVar("_E", Family, Severity)
_REGIMES = ("calm", "tightening", "easing", "stress", "crisis")


@dataclass(frozen=True, slots=True)
class _Rule:
    required: Mapping[str, _Limit]
    optional: Mapping[str, tuple[_Limit, float]] = field(default_factory=dict)


_RULES: Mapping[tuple[Family, str], _Rule] = MappingProxyType(
    {
        (Family.PRICE, "vendor_divergence"): _Rule(
            {
                "tolerance": _FRACTION,
                "ticks": _FRACTION,
                "blame_ratio": _Limit(low=1),
                "blame_min_z": _FRACTION,
            }
        ),
        (Family.PRICE, "stale"): _Rule(
            {
                "days": _COUNT,
                "min_other_move": _FRACTION,
                "min_other_ticks": _FRACTION,
                "max_other_z": _POSITIVE,
                "peer_moved_share": _SHARE,
            }
        ),
        (Family.PRICE, "spike"): _Rule(
            {
                "z": _POSITIVE,
                "window": _Limit(low=2, whole=True),
                "min_history": _Limit(low=2, whole=True),
                "min_scale": _POSITIVE,
                "regime_scaling": _FLAG,
            }
        ),
        (Family.PRICE, "missing"): _Rule({"days": _COUNT}),
        (Family.PRICE, "non_positive"): _Rule({}),
        (Family.PRICE, "off_tick"): _Rule({}),
        (Family.PRICE, "vs_curve"): _Rule(
            {"tolerance": _FRACTION, "ticks": _FRACTION},
            {
                **{f"spread_multiplier_{regime}": (_POSITIVE, 1.0) for regime in _REGIMES},
                "spread_adjustment_per_day": (_Limit(strict=True, high=1.0), 1.0),
            },
        ),
        (Family.FX, "triangulation"): _Rule({"tolerance": _FRACTION}),
        (Family.FX, "inverse"): _Rule({"tolerance": _FRACTION}),
        (Family.FX, "stale"): _Rule({"days": _COUNT}),
        (Family.HOLDINGS, "weights"): _Rule({"tolerance": _FRACTION, "sample_size": _COUNT}),
        (Family.HOLDINGS, "market_value"): _Rule(
            {"tolerance": _FRACTION, "absolute": _FRACTION, "sample_size": _COUNT}
        ),
        (Family.HOLDINGS, "book_vs_custodian"): _Rule({"quantity": _FRACTION, "sample_size": _COUNT}),
        (Family.HOLDINGS, "book_vs_ledger"): _Rule({"quantity": _FRACTION, "sample_size": _COUNT}),
        (Family.REFERENCE, "identifier"): _Rule({}),
        (Family.REFERENCE, "missing_field"): _Rule({}),
    }
)
_SUBJECT_KEYS: Mapping[Family, tuple[str, ...]] = MappingProxyType(
    {
        Family.PRICE: ("asset_class", "currency", "market", "instrument_id"),
        Family.FX: ("currency_pair",),
        Family.HOLDINGS: ("mandate_id",),
        Family.REFERENCE: ("asset_class", "currency", "market", "instrument_id"),
    }
)


@dataclass(frozen=True, slots=True)
class Check:
    """One declared check. thresholds: the rule's numbers (optional ones filled in with their
    defaults); subject: attribute -> value, all of which a subject must have for the check to
    apply to it (empty applies to every subject of the family)."""

    check_id: str
    family: Family
    rule: str
    severity: Severity
    description: str
    thresholds: Mapping[str, float]
    subject: Mapping[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> IssueKind:
        return RULE_KINDS[self.family][self.rule]

    def threshold(self, name: str) -> float:
        return self.thresholds[name]

    def whole(self, name: str) -> int:
        return int(self.thresholds[name])

    def decimal(self, name: str) -> Decimal:
        """A threshold as an exact decimal, for comparisons with money and prices."""
        return Decimal(repr(self.thresholds[name]))

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return all(attributes.get(key) == value for key, value in self.subject.items())

    def result(
        self,
        *,
        success: bool,
        subject: str,
        subject_kind: SubjectKind,
        value_date: dt.date,
        caused_by: Sequence[str],
        message: str,
        vendor: str = "",
        observed: Decimal | None = None,
        reference: Decimal | None = None,
        deviation: float = 0.0,
        threshold: float = 0.0,
        unexpected_count: int | None = None,
        sample: Sequence[Mapping[str, str]] = (),
        statistics: Mapping[str, float] | None = None,
        stale_business_days: int = 0,
    ) -> CheckResult:
        """This check's result, its kind, severity and quarantine filled in."""
        return CheckResult(
            check_id=self.check_id,
            family=self.family,
            rule=self.rule,
            kind=self.kind,
            severity=self.severity,
            success=success,
            subject=subject,
            subject_kind=subject_kind,
            vendor=vendor,
            observed=observed,
            reference=reference,
            deviation=deviation,
            threshold=threshold,
            value_date=value_date,
            caused_by=tuple(caused_by),
            message=message,
            quarantine=quarantines(self.family, self.severity, success),
            unexpected_count=(0 if success else 1) if unexpected_count is None else unexpected_count,
            sample=tuple(MappingProxyType(dict(row)) for row in sample),
            statistics=MappingProxyType(dict(statistics or {})),
            stale_business_days=stale_business_days,
        )


@dataclass(frozen=True, slots=True)
class CheckSet:
    """The checks of one file, in file order."""

    checks: tuple[Check, ...]
    # select()'s answers: a pure function of its arguments, asked for every price of every day.
    _selected: dict[tuple[Family, str, frozenset[tuple[str, str]]], Check | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def get(self, check_id: str) -> Check:
        for check in self.checks:
            if check.check_id == check_id:
                return check
        raise KeyError(f"no check {check_id!r}")

    def of_rule(self, family: Family, rule: str) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.family is family and c.rule == rule)

    def select(self, family: Family, rule: str, attributes: Mapping[str, str]) -> Check | None:
        """The check of this rule that applies to a subject with these attributes: the most
        specific match (most subject keys), the first in the file among equals; None if none."""
        key = (family, rule, frozenset(attributes.items()))
        try:
            return self._selected[key]
        except KeyError:
            pass
        matching = [c for c in self.of_rule(family, rule) if c.matches(attributes)]
        chosen = max(matching, key=lambda c: (len(c.subject), -self.checks.index(c))) if matching else None
        self._selected[key] = chosen
        return chosen


def load_checks(path: Path | None = None) -> CheckSet:
    """The checks declared in a TOML file; None reads the packaged default_checks.toml."""
    if path is None:
        text = resources.files("services.dq.domain").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
        return parse_checks(text, DEFAULT_FILE)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the checks file ({error.strerror})") from None
    return parse_checks(text, str(path))


def parse_checks(text: str, source: str) -> CheckSet:
    """The checks declared in TOML text; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    unknown = sorted(set(data) - {"check"})
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key(s) {', '.join(unknown)}; only [[check]] tables")
    entries = data.get("check", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: declares no [[check]] table")
    checks: list[Check] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        check = _check(entry, f"{source}: check #{number}", source)
        if check.check_id in seen:
            raise ConfigError(
                f"{source}: check {check.check_id!r} is declared twice (checks #{seen[check.check_id]} and #{number})"
            )
        seen[check.check_id] = number
        checks.append(check)
    return CheckSet(tuple(checks))


def _check(entry: Any, where: str, source: str) -> Check:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: must be a table")
    check_id = entry.get("id")
    if not isinstance(check_id, str) or not check_id.strip():
        raise ConfigError(f"{where}: id is missing; give each check a unique id string")
    where = f"{source}: check {check_id!r}"
    unknown = sorted(set(entry) - set(_CHECK_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_CHECK_KEYS)}")
    for key in _REQUIRED_KEYS:
        if not isinstance(entry.get(key), str):
            raise ConfigError(f"{where}: {key} is missing or not a string")
    family = _choice(entry["family"], Family, where, "family")
    severity = _choice(entry["severity"], Severity, where, "severity")
    rule_name = entry["rule"]
    rule = _RULES.get((family, rule_name))
    if rule is None:
        allowed = ", ".join(sorted(RULE_KINDS[family]))
        raise ConfigError(
            f"{where}: unknown rule {rule_name!r} for family {family.value!r}; allowed: {allowed}"
        )
    return Check(
        check_id=check_id,
        family=family,
        rule=rule_name,
        severity=severity,
        description=entry["description"],
        thresholds=MappingProxyType(_thresholds(entry.get("thresholds", {}), rule, rule_name, where)),
        subject=MappingProxyType(_subject(entry.get("subject", {}), family, where)),
    )


def _choice(value: str, enum_type: type[_E], where: str, key: str) -> _E:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise ConfigError(f"{where}: {key} {value!r} is not one of {allowed}") from None


def _thresholds(table: Any, rule: _Rule, rule_name: str, where: str) -> dict[str, float]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: thresholds must be a table of numbers")
    allowed = [*rule.required, *rule.optional]
    for name in table:
        if name not in allowed:
            names = ", ".join(allowed) if allowed else "none"
            raise ConfigError(
                f"{where}: thresholds.{name} is not a threshold of rule {rule_name!r}; allowed: {names}"
            )
    out: dict[str, float] = {}
    for name, limit in rule.required.items():
        if name not in table:
            raise ConfigError(
                f"{where}: thresholds.{name} is missing; rule {rule_name!r} needs {', '.join(rule.required)}"
            )
        out[name] = _number(table[name], limit, f"{where}: thresholds.{name}")
    for name, (limit, default) in rule.optional.items():
        out[name] = _number(table[name], limit, f"{where}: thresholds.{name}") if name in table else default
    return out


def _number(value: Any, limit: _Limit, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not limit.allows(float(value)):
        raise ConfigError(f"{where} must be {limit.describe()}, not {value!r}")
    return float(value)


def _subject(table: Any, family: Family, where: str) -> dict[str, str]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: subject must be a table of strings")
    allowed = _SUBJECT_KEYS[family]
    out: dict[str, str] = {}
    for key, value in table.items():
        if key not in allowed:
            raise ConfigError(
                f"{where}: subject.{key} is not a subject of family {family.value!r}; allowed: {', '.join(allowed)}"
            )
        if not isinstance(value, str):
            raise ConfigError(f"{where}: subject.{key} must be a string, not {value!r}")
        if key == "asset_class" and value not in _asset_classes():
            raise ConfigError(
                f"{where}: subject.asset_class {value!r} is not one of {', '.join(_asset_classes())}"
            )
        out[key] = value
    return out


def _asset_classes() -> tuple[str, ...]:
    return tuple(member.value for member in AssetClass)


def rules() -> Iterable[tuple[Family, str]]:
    """Every (family, rule) a check may declare."""
    return tuple(_RULES)
