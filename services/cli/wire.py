"""The contract's values as text for people and scripts, the same in every command.

Enums by their short lower-case names (the names the commands accept), dates as ISO text, decimals
as the wire's decimal strings (never floats, so no figure loses a cent on its way to a script),
absent values as None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from google.protobuf import timestamp_pb2

from opsuite.common.v1 import common_pb2

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

V = TypeVar("V", bound=int)


def short_names(enum: _EnumTypeWrapper[V], prefix: str) -> dict[V, str]:
    """Each value of `enum` but UNSPECIFIED -> its name without `prefix`, lower case."""
    return {
        enum.Value(name): name.removeprefix(prefix).lower()
        for name in enum.keys()  # noqa: SIM118  # an enum wrapper, not a dict: no iteration of its own
        if not name.endswith("_UNSPECIFIED")
    }


def decimal_text(value: common_pb2.Decimal) -> str | None:
    return value.value or None


def date_text(value: common_pb2.Date) -> str | None:
    if not value.year:
        return None
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def time_text(value: timestamp_pb2.Timestamp) -> str | None:
    if not (value.seconds or value.nanos):
        return None
    return value.ToDatetime().strftime("%Y-%m-%d %H:%M")
