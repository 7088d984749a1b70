"""One enum mapper for every service: by name out, validated in."""

from __future__ import annotations

import grpc
import pytest

from opsuite.ledger.v1 import ledger_pb2
from opsuite.market.v1 import market_pb2
from services.common.enums import enum_from_proto, enum_to_proto
from services.common.status import RequestError
from services.ledger.domain.records import JournalKind
from services.market.sim.records import Side


def test_a_member_goes_out_as_the_contract_value_of_its_name() -> None:
    assert enum_to_proto(market_pb2.Side, "SIDE_", Side.SELL) == market_pb2.SIDE_SELL
    assert enum_to_proto(ledger_pb2.JournalKind, "JOURNAL_KIND_", JournalKind.MANUAL) == (
        ledger_pb2.JOURNAL_KIND_MANUAL
    )


def test_every_domain_member_has_a_contract_value_and_comes_back() -> None:
    for kind in JournalKind:
        value = enum_to_proto(ledger_pb2.JournalKind, "JOURNAL_KIND_", kind)
        assert enum_from_proto(ledger_pb2.JournalKind, "JOURNAL_KIND_", JournalKind, value, "kind") is kind


@pytest.mark.parametrize("value", [ledger_pb2.JOURNAL_KIND_UNSPECIFIED, 999, -1])
def test_unspecified_and_unknown_values_are_refused_naming_the_field_and_the_choices(value: int) -> None:
    with pytest.raises(RequestError) as caught:
        enum_from_proto(ledger_pb2.JournalKind, "JOURNAL_KIND_", JournalKind, value, "draft.kind")
    error = caught.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_ENUM"
    assert error.message == f"draft.kind: {value} is not a valid value"
    (violation,) = error.violations
    assert violation.field == "draft.kind"
    assert "JOURNAL_KIND_MANUAL" in violation.description
    assert "JOURNAL_KIND_UNSPECIFIED" not in violation.description
