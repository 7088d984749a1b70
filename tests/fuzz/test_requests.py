"""The fuzz suite's own machinery, fast: requests generated from any descriptor (maps, oneofs,
recursion, proto2 closed enums), raw bodies that really do not decode, and values handed out by a
service offered again under the request fields' names."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2, struct_pb2
from google.protobuf.message import DecodeError, Message
from hypothesis import HealthCheck, given, settings

from opsuite.documents.v1 import documents_pb2
from opsuite.ledger.v1 import ledger_pb2
from opsuite.market.v1 import market_pb2
from tests.fuzz.requests import (
    Call,
    Plausible,
    Requests,
    length_delimited,
    nested,
    request_keys,
    shared_fields,
    tag,
    varint,
)
from tests.fuzz.targets import SERVED, targets

FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
REQUESTS = Requests(Plausible())


def _round_trip(message: Message) -> None:
    body = message.SerializePartialToString(deterministic=True)
    again = type(message).FromString(body)
    assert again.SerializePartialToString(deterministic=True) == body


@FAST
@given(REQUESTS.message(struct_pb2.Struct.DESCRIPTOR))
def test_maps_oneofs_and_recursive_messages_are_generated_and_serialize(message: Message) -> None:
    _round_trip(message)


@FAST
@given(REQUESTS.message(descriptor_pb2.FileDescriptorProto.DESCRIPTOR))
def test_proto2_messages_with_closed_enums_and_optional_fields_serialize(message: Message) -> None:
    _round_trip(message)


@FAST
@given(REQUESTS.calls(ledger_pb2.DESCRIPTOR.services_by_name["LedgerService"].methods_by_name["PostJournal"]))
def test_a_call_is_a_serialized_request_or_a_raw_body(call: Call) -> None:
    if call.request is not None:
        assert ledger_pb2.PostJournalRequest.FromString(call.body) == call.request
    else:
        assert call.how != "message"


@pytest.mark.parametrize(
    "body",
    [
        # postings[0].account (field 6, then 1) holding bytes that are not UTF-8
        nested((6, 1), b"\xc3\x28"),
        # mandate_id (field 2) as a varint cut short
        tag(2, 0) + b"\xff\xff",
        # a varint of 11 bytes
        tag(3, 0) + b"\xff" * 10 + b"\x01",
        # a length past the end of the body
        tag(5, 2) + varint(1_000) + b"memo",
        # field number 0
        b"\x00\x01",
    ],
)
def test_the_raw_bodies_do_not_decode(body: bytes) -> None:
    with pytest.raises(DecodeError):
        ledger_pb2.PostJournalRequest.FromString(body)


def test_the_wire_helpers_write_protobuf() -> None:
    assert varint(300) == b"\xac\x02"
    request = ledger_pb2.PostJournalRequest.FromString(length_delimited(2, b"BAL-USD"))
    assert request.mandate_id == "BAL-USD"


def test_values_handed_out_are_offered_again_under_the_request_fields_names() -> None:
    plausible = Plausible()
    plausible.harvest(
        market_pb2.ListMandatesResponse(
            mandates=[market_pb2.Mandate(mandate_id="BAL-USD"), market_pb2.Mandate(mandate_id="EQ-EUR")],
            next_page_token="2",
        )
    )
    plausible.harvest(market_pb2.Clock(head_seq=2_663))
    assert plausible.count("string", ["mandate_id"]) == 0  # not before the next freeze
    plausible.freeze()
    assert plausible.pick("string", request_keys("mandate_ids"), 1) == "EQ-EUR"
    assert plausible.pick("string", request_keys("page_token"), 0) == "2"
    assert plausible.pick("int", request_keys("min_market_seq"), 0) == 2_663
    assert request_keys("account_prefix") == ["account_prefix", "account"]


def test_a_reply_sharing_fields_with_a_request_is_its_template() -> None:
    shared = shared_fields(ledger_pb2.PostJournalRequest.DESCRIPTOR, ledger_pb2.Journal.DESCRIPTOR)
    assert {"mandate_id", "kind", "effective_date", "postings", "idempotency_key"} <= set(shared)
    plausible = Plausible()
    plausible.harvest(ledger_pb2.GetLedgerResponse(journals=[ledger_pb2.Journal(mandate_id="BAL-USD")]))
    plausible.freeze()
    assert [name for name, _ in plausible.sources(ledger_pb2.PostJournalRequest.DESCRIPTOR)] == [
        "opsuite.ledger.v1.Journal"
    ]


def test_an_offered_sample_is_a_template_and_its_values_serve_its_own_request_type_only() -> None:
    plausible = Plausible()
    document = b"%PDF-1.4 " + b"x" * 30_000  # larger than a harvested template may be
    plausible.offer(
        documents_pb2.ExtractConfirmationRequest(content=document, content_type="application/pdf")
    )
    plausible.freeze()
    extract = documents_pb2.ExtractConfirmationRequest.DESCRIPTOR
    assert plausible.pick("bytes", request_keys("content", extract.full_name), 0) == document
    assert (
        plausible.pick(
            "bytes", request_keys("content", documents_pb2.IngestPolicyRequest.DESCRIPTOR.full_name), 0
        )
        is None
    )
    assert plausible.pick("string", request_keys("content_type"), 0) is None
    assert [name for name, _ in plausible.sources(extract)] == [extract.full_name]

    contents: list[bytes] = []

    @FAST
    @given(Requests(plausible).message(extract))
    def generated(request: Message) -> None:
        assert isinstance(request, documents_pb2.ExtractConfirmationRequest)
        contents.append(request.content)

    generated()
    assert document in contents


def test_every_method_of_every_served_service_is_a_target_reads_first() -> None:
    found = targets()
    for process, files in SERVED.items():
        for file in files:
            for service in file.services_by_name.values():
                for method in service.methods:
                    assert any(t.process == process and t.method is method for t in found), method.full_name
        paths = {t.path for t in found if t.process == process}
        assert {"/grpc.health.v1.Health/Check", "/opsuite.common.v1.StatusService/GetStatus"} <= paths
    writes = [t.writes for t in found]
    assert writes == sorted(writes)
    assert {t.method.name for t in found if t.writes} == {
        "AcknowledgeEvents",
        "AcknowledgeIssue",
        "InjectFault",
        "PostJournal",
        "ReverseJournal",
        "UpdateBreak",
        "RunCheck",
        "RaiseBreak",
        "ExtractConfirmation",
        "IngestPolicy",
    }
