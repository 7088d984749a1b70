"""The canonical fields of a trade confirmation, and the records an extraction returns.

Every reader (PDF, text, MT515, FIX 4.4) gives its result as one Extraction: the same field names
whatever the format, each value as canonical text (dates YYYY-MM-DD, decimals with a '.' point and
no grouping, sides BUY or SELL), so the service and its clients compare documents field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

CANONICAL_FIELDS: tuple[str, ...] = (
    "trade_date",
    "settlement_date",
    "side",
    "quantity",
    "isin",
    "cusip",
    "security_name",
    "price",
    "currency",
    "gross_amount",
    "commission",
    "fees",
    "accrued_interest",
    "net_amount",
    "account",
    "counterparty",
    "trade_reference",
)

_KNOWN = frozenset(CANONICAL_FIELDS)


def _check_name(name: str) -> None:
    if name not in _KNOWN:
        raise ValueError(f"{name!r} is not a canonical field; the fields are {', '.join(CANONICAL_FIELDS)}")


@dataclass(frozen=True)
class Field:
    """One value read from a document.

    name: one of CANONICAL_FIELDS. value: the canonical text (never empty: a field not found is
    absent from the Extraction, not present with ""). confidence: 0 to 1, how sure the reader is
    (0.99 for a value read from a tagged message, lower for one found by position or wording).
    page: the 1-based page of a PDF, 0 for a document without pages (text, MT515, FIX).
    snippet: the text the value was read from, as printed, so a person can find it.
    """

    name: str
    value: str
    confidence: float
    page: int
    snippet: str

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not self.value:
            raise ValueError(f"{self.name}: an empty value; leave the field out instead")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"{self.name}: confidence {self.confidence} is not between 0 and 1")
        if self.page < 0:
            raise ValueError(f"{self.name}: page {self.page} is negative (1-based for PDFs, 0 for text)")


@dataclass(frozen=True)
class Extraction:
    """Everything read from one document.

    format: how the document came, "text", "pdf", "mt515" or "fix44". layout: which reader or
    template read it (e.g. "swift-mt515", "fix44-confirmation"). fields: at most one Field per
    canonical name, in CANONICAL_FIELDS order. warnings: what a person should check (a value
    computed rather than read, a checksum that does not match, a cancelled confirmation, ...).
    bond: the document gives the quantity as a face amount or the price as a percentage of par
    (MT515 FAMT/AMOR or 90A PRCT, FIX PriceType(423)=1), so the gross amount is quantity x price
    / 100 rather than quantity x price.
    instrument_ref: an instrument identifier the document prints that is neither an ISIN nor a
    CUSIP (market's own confirmations print its internal instrument id as "Security ID"), as
    printed, or None; it is not a canonical field, so it is never compared as one.
    """

    format: str
    layout: str
    fields: tuple[Field, ...]
    warnings: tuple[str, ...] = ()
    bond: bool = False
    instrument_ref: str | None = None

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for one in self.fields:
            if one.name in seen:
                raise ValueError(f"{one.name} given twice; an Extraction holds one value per field")
            seen.add(one.name)
        ordered = tuple(sorted(self.fields, key=lambda one: CANONICAL_FIELDS.index(one.name)))
        object.__setattr__(self, "fields", ordered)

    def field(self, name: str) -> Field | None:
        """The Field called name, or None when the document did not give it."""
        _check_name(name)
        return next((one for one in self.fields if one.name == name), None)

    def value(self, name: str) -> str | None:
        """The canonical value of the field called name, or None when the document did not give it."""
        found = self.field(name)
        return None if found is None else found.value

    def decimal(self, name: str) -> Decimal | None:
        """The field's value as a Decimal, or None when absent or not a number."""
        text = self.value(name)
        if text is None:
            return None
        try:
            return Decimal(text)
        except InvalidOperation:
            return None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict: format, layout, bond, fields (name -> value, confidence, page,
        snippet, in canonical order) and warnings, and instrument_ref when the document gave one."""
        result: dict[str, object] = {
            "format": self.format,
            "layout": self.layout,
            "bond": self.bond,
            "fields": {
                one.name: {
                    "value": one.value,
                    "confidence": one.confidence,
                    "page": one.page,
                    "snippet": one.snippet,
                }
                for one in self.fields
            },
            "warnings": list(self.warnings),
        }
        if self.instrument_ref is not None:
            result["instrument_ref"] = self.instrument_ref
        return result
