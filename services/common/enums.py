"""Domain enums <-> protobuf enums, by name: the domain's Side.BUY is the contract's SIDE_BUY.

One mapper for every service. Going out, an unmapped member is a bug (KeyError: ValueError
from protobuf). Coming in, a request's enum value is checked: UNSPECIFIED and numbers the
contract does not define are refused with INVALID_ARGUMENT naming the field and the allowed values.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, TypeVar

import grpc

from services.common.status import FieldViolation, RequestError

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

E = TypeVar("E", bound=enum.Enum)
V = TypeVar("V", bound=int)


def enum_to_proto(wrapper: _EnumTypeWrapper[V], prefix: str, member: enum.Enum) -> V:
    """The contract's value for a domain member whose value is the proto name without `prefix`."""
    return wrapper.Value(f"{prefix}{member.value}")


def enum_from_proto(wrapper: _EnumTypeWrapper[V], prefix: str, kind: type[E], value: int, field: str) -> E:
    """The domain member of a request's enum value; UNSPECIFIED and unknown numbers are refused."""
    name = ""
    if value in wrapper.values():
        name = wrapper.Name(value).removeprefix(prefix)
    if not name or name == "UNSPECIFIED" or name not in kind.__members__:
        allowed = ", ".join(f"{prefix}{m.name}" for m in kind if m.name != "UNSPECIFIED")
        raise RequestError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{field}: {value} is not a valid value",
            violations=[FieldViolation(field, f"{value} is not one of {allowed}")],
            reason="INVALID_ENUM",
        )
    return kind[name]
