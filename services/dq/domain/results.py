"""What one evaluation of one check found: CheckResult, and the names it carries.

A CheckResult is what a Great Expectations user expects of a validation result: whether it
succeeded, what was observed against what reference, by how much and against which threshold,
how many rows were unexpected (with a small sample), the statistics behind the verdict and one
line a person reads. Successful evaluations are results too: they let an open issue resolve
itself when the data comes right (issues.py).

Enum values are the contract's names without their prefix (IssueKind.PRICE_SPIKE is
ISSUE_KIND_PRICE_SPIKE; Severity.CRITICAL is SEVERITY_CRITICAL), so a codec maps them by name.
Kinds past ISSUE_KIND_HOLDINGS_BOOK_VS_LEDGER are not in dq.proto yet; they are plain strings
until the contract gains them.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType


class Family(enum.StrEnum):
    """What a check looks at."""

    PRICE = "price"
    FX = "fx"
    HOLDINGS = "holdings"
    REFERENCE = "reference"


class Severity(enum.StrEnum):
    """How bad a failure is. A critical price or FX failure quarantines the value."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class IssueKind(enum.StrEnum):
    """Which rule raised an issue: the contract's IssueKind names, and the new rules' names."""

    PRICE_VENDOR_MISMATCH = "PRICE_VENDOR_MISMATCH"
    PRICE_STALE = "PRICE_STALE"
    PRICE_SPIKE = "PRICE_SPIKE"
    PRICE_MISSING = "PRICE_MISSING"
    FX_TRIANGULATION = "FX_TRIANGULATION"
    FX_STALE = "FX_STALE"
    HOLDINGS_BOOK_VS_CUSTODIAN = "HOLDINGS_BOOK_VS_CUSTODIAN"
    HOLDINGS_BOOK_VS_LEDGER = "HOLDINGS_BOOK_VS_LEDGER"
    # Not in dq.proto yet.
    PRICE_NON_POSITIVE = "PRICE_NON_POSITIVE"
    PRICE_OFF_TICK = "PRICE_OFF_TICK"
    PRICE_VS_CURVE = "PRICE_VS_CURVE"
    FX_INVERSE = "FX_INVERSE"
    HOLDINGS_WEIGHTS = "HOLDINGS_WEIGHTS"
    HOLDINGS_MARKET_VALUE = "HOLDINGS_MARKET_VALUE"
    REFERENCE_IDENTIFIER = "REFERENCE_IDENTIFIER"
    REFERENCE_MISSING_FIELD = "REFERENCE_MISSING_FIELD"


# Every rule a check may declare, by family, with the kind of issue it raises.
RULE_KINDS: Mapping[Family, Mapping[str, IssueKind]] = MappingProxyType(
    {
        Family.PRICE: MappingProxyType(
            {
                "vendor_divergence": IssueKind.PRICE_VENDOR_MISMATCH,
                "stale": IssueKind.PRICE_STALE,
                "spike": IssueKind.PRICE_SPIKE,
                "missing": IssueKind.PRICE_MISSING,
                "non_positive": IssueKind.PRICE_NON_POSITIVE,
                "off_tick": IssueKind.PRICE_OFF_TICK,
                "vs_curve": IssueKind.PRICE_VS_CURVE,
            }
        ),
        Family.FX: MappingProxyType(
            {
                "triangulation": IssueKind.FX_TRIANGULATION,
                "inverse": IssueKind.FX_INVERSE,
                "stale": IssueKind.FX_STALE,
            }
        ),
        Family.HOLDINGS: MappingProxyType(
            {
                "weights": IssueKind.HOLDINGS_WEIGHTS,
                "market_value": IssueKind.HOLDINGS_MARKET_VALUE,
                "book_vs_custodian": IssueKind.HOLDINGS_BOOK_VS_CUSTODIAN,
                "book_vs_ledger": IssueKind.HOLDINGS_BOOK_VS_LEDGER,
            }
        ),
        Family.REFERENCE: MappingProxyType(
            {
                "identifier": IssueKind.REFERENCE_IDENTIFIER,
                "missing_field": IssueKind.REFERENCE_MISSING_FIELD,
            }
        ),
    }
)


class SubjectKind(enum.StrEnum):
    """What a result is about: an instrument, a currency pair or a mandate."""

    INSTRUMENT = "instrument"
    CURRENCY_PAIR = "currency_pair"
    MANDATE = "mandate"


# Vendors of the values dq checks, as market names them, and the names of the holdings feeds.
PRIMARY = "primary"
CROSS = "cross"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One evaluation of one check on one subject.

    success: True when the check passed. quarantine: the value is held back from downstream
    modules (a critical price or FX failure; never on success).
    subject / subject_kind: the instrument id, currency pair ("EURGBP") or mandate id.
    vendor: whose value was checked ("primary", "vendor_b", "cross"; for holdings the feed that
    looks wrong, "book", "custodian" or "ledger"; "" when the check blames no one).
    observed / reference: the value checked and what it was checked against (the other vendor,
    the last good value, the curve-implied price, the triangulated cross); None where there is
    none (a missing price has no observed value).
    deviation: what the rule measured, in its threshold's unit: a signed relative difference
    (observed / reference - 1) against a tolerance, a robust z against a spike's limit, business days
    against a staleness limit, a weight shortfall; threshold: the limit it was held to.
    value_date: the business date of the checked value. caused_by: the events checked, the
    checked value's own event first.
    unexpected_count: rows that failed, for checks over many rows (holdings); 1 or 0 otherwise.
    sample: up to a few failing rows, each a small mapping of strings.
    statistics: the figures behind the verdict (median, mad, z, peer_median ...).
    stale_business_days: for stale checks, the business days without a fresh value.
    message: one line a person reads.
    """

    check_id: str
    family: Family
    rule: str
    kind: IssueKind
    severity: Severity
    success: bool
    subject: str
    subject_kind: SubjectKind
    vendor: str
    observed: Decimal | None
    reference: Decimal | None
    deviation: float
    threshold: float
    value_date: dt.date
    caused_by: tuple[str, ...]
    message: str
    quarantine: bool = False
    unexpected_count: int = 0
    sample: tuple[Mapping[str, str], ...] = ()
    statistics: Mapping[str, float] = field(default_factory=dict)
    stale_business_days: int = 0

    @property
    def difference(self) -> Decimal | None:
        """observed - reference, where both are known."""
        if self.observed is None or self.reference is None:
            return None
        return self.observed - self.reference

    @property
    def instrument_id(self) -> str:
        return self.subject if self.subject_kind is SubjectKind.INSTRUMENT else ""

    @property
    def currency_pair(self) -> str:
        return self.subject if self.subject_kind is SubjectKind.CURRENCY_PAIR else ""

    @property
    def mandate_id(self) -> str:
        return self.subject if self.subject_kind is SubjectKind.MANDATE else ""


def quarantines(family: Family, severity: Severity, success: bool) -> bool:
    """Whether a result quarantines its value: a critical failure of a price or FX check."""
    return not success and severity is Severity.CRITICAL and family in (Family.PRICE, Family.FX)


def percent(fraction: float) -> str:
    """A signed relative difference as a person reads it: +6.6%, -0.25%, +0.0012%."""
    magnitude = abs(fraction) * 100
    places = 1 if magnitude >= 1 else 2 if magnitude >= 0.01 else 4
    return f"{fraction * 100:+.{places}f}%"


def row_text(row: Mapping[str, str]) -> str:
    """A sample row as one line: "instrument_id=EU-X quantity=200 reason=no primary price"."""
    return " ".join(f"{key}={value}" for key, value in row.items())
