"""The domain's records <-> SQL rows and JSON, losslessly.

Decimals are TEXT in their exact notation (str(Decimal("1.50")) is "1.50", never a float), dates
ISO text, times INTEGER microseconds since the epoch in UTC, tuples of ids a JSON list, enums their
value. A column is named after its field, so the SQL and the records stay easy to compare; a field
added to a record fails loudly until a migration adds its column.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, NamedTuple, TypeVar

from services.recon.domain.records import (
    ActionKind,
    Break,
    BreakAction,
    BreakKind,
    BreakStatus,
    CheckRun,
    Comparison,
    Scope,
    TimingItem,
)

T = TypeVar("T")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def to_micros(moment: dt.datetime) -> int:
    """Exact integer microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


class Conv(NamedTuple):
    """How one field travels: Python -> SQL value, and back. None stays None both ways."""

    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


DECIMAL = Conv(str, Decimal)
DATE = Conv(dt.date.isoformat, dt.date.fromisoformat)
TIME = Conv(to_micros, from_micros)
IDS = Conv(lambda ids: json.dumps(list(ids)), lambda text: tuple(json.loads(text)))
BOOL = Conv(int, bool)


def enum_conv(kind: type[enum.Enum]) -> Conv:
    return Conv(lambda member: member.value, kind)


class RecordCodec(Generic[T]):
    """Rows of one record type; `columns` in field order, quoted for SQL (a field may be a keyword)."""

    def __init__(self, record: type[T], convs: Mapping[str, Conv]) -> None:
        self.record = record
        self.names: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(record))  # type: ignore[arg-type]
        unknown = set(convs) - set(self.names)
        if unknown:
            raise AssertionError(f"{record.__name__} has no field(s) {sorted(unknown)}")
        self._convs = tuple(convs.get(name) for name in self.names)
        self.columns = ", ".join(f'"{name}"' for name in self.names)

    def prefixed(self, alias: str) -> str:
        return ", ".join(f'{alias}."{name}"' for name in self.names)

    def to_row(self, record: T) -> tuple[Any, ...]:
        values = (getattr(record, name) for name in self.names)
        return tuple(
            value if conv is None or value is None else conv.encode(value)
            for conv, value in zip(self._convs, values, strict=True)
        )

    def from_row(self, row: Sequence[Any]) -> T:
        return self.record(
            *(
                value if conv is None or value is None else conv.decode(value)
                for conv, value in zip(self._convs, row, strict=True)
            )
        )

    def to_json(self, record: T) -> str:
        return json.dumps(dict(zip(self.names, self.to_row(record), strict=True)), separators=(",", ":"))

    def from_json(self, text: str) -> T:
        """A record from its JSON; a field added after the JSON was written takes its default."""
        data = json.loads(text)
        missing = [name for name in self.names if name not in data]
        if missing:
            defaults = {
                f.name: f.default
                for f in dataclasses.fields(self.record)  # type: ignore[arg-type]
                if f.default is not dataclasses.MISSING
            }
            unknown = [name for name in missing if name not in defaults]
            if unknown:
                raise KeyError(f"{self.record.__name__} JSON lacks {unknown}")
            data = {**data, **{name: self._encoded_default(name, defaults[name]) for name in missing}}
        return self.from_row([data[name] for name in self.names])

    def _encoded_default(self, name: str, value: Any) -> Any:
        conv = self._convs[self.names.index(name)]
        return value if conv is None or value is None else conv.encode(value)


BREAK = RecordCodec(
    Break,
    {
        "kind": enum_conv(BreakKind),
        "status": enum_conv(BreakStatus),
        "comparison": enum_conv(Comparison),
        "scope": enum_conv(Scope),
        "first_seen_date": DATE,
        "last_seen_date": DATE,
        "opened_at": TIME,
        "updated_at": TIME,
        "custodian_refs": IDS,
        **{
            name: DECIMAL
            for name in (
                "book_quantity",
                "other_quantity",
                "quantity_difference",
                "book_amount",
                "other_amount",
                "amount_difference",
                "base_amount_difference",
                "tolerance_absolute",
                "tolerance_relative",
                "suspense_amount",
            )
        },
        "book_date": DATE,
        "other_date": DATE,
        "escalated": BOOL,
        "resolved_at": TIME,
        "caused_by": IDS,
    },
)

ACTION = RecordCodec(
    BreakAction,
    {
        "kind": enum_conv(ActionKind),
        "at": TIME,
        "sim_time": TIME,
        "from_status": enum_conv(BreakStatus),
        "to_status": enum_conv(BreakStatus),
        "amount": DECIMAL,
    },
)

RUN = RecordCodec(
    CheckRun,
    {
        "comparison": enum_conv(Comparison),
        "as_of_date": DATE,
        "started_at": TIME,
        "finished_at": TIME,
    },
)

TIMING = RecordCodec(
    TimingItem,
    {
        "comparison": enum_conv(Comparison),
        "scope": enum_conv(Scope),
        "quantity_difference": DECIMAL,
        "amount_difference": DECIMAL,
        "expected_settle_date": DATE,
        "grace_until": DATE,
        "caused_by": IDS,
    },
)
