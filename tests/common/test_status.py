"""Rich error statuses as a real client sees them, through a real aio server on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import grpc.aio
import pytest
from google.rpc import status_pb2
from grpc_status import rpc_status

from services.common.status import (
    FieldViolation,
    RequestError,
    abort,
    clip,
    details_of,
    echo,
    invalid_argument,
    rpc_errors,
    to_rpc_status,
)

SERVICE = "opsuite.test.v1.ErrorService"


async def _abort_with_violations(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    await abort(
        context,
        grpc.StatusCode.INVALID_ARGUMENT,
        "journal is not valid",
        violations=[
            FieldViolation("legs[0].amount", "must not be zero"),
            FieldViolation("journal_id", "required"),
        ],
        reason="INVALID_JOURNAL",
        metadata={"journal_id": "J-1"},
    )


@rpc_errors
async def _raise_request_error(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise RequestError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "journal does not balance",
        reason="UNBALANCED",
        metadata={"diff": "0.01"},
    )


@rpc_errors
async def _raise_value_error(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise ValueError("page_size must be positive")


@rpc_errors
async def _stream_then_fail(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    yield b"first"
    raise invalid_argument([FieldViolation("from_seq", "beyond the head")])


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "Abort": grpc.unary_unary_rpc_method_handler(_abort_with_violations),
                    "Precondition": grpc.unary_unary_rpc_method_handler(_raise_request_error),
                    "Value": grpc.unary_unary_rpc_method_handler(_raise_value_error),
                    "Stream": grpc.unary_stream_rpc_method_handler(_stream_then_fail),
                },
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as client:
        yield client
    await server.stop(None)


async def _fail(channel: grpc.aio.Channel, method: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary(f"/{SERVICE}/{method}")(b"", timeout=10)
    return caught.value


async def test_abort_carries_bad_request_and_error_info(channel: grpc.aio.Channel) -> None:
    error = await _fail(channel, "Abort")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "journal is not valid"
    status = rpc_status.from_call(error)
    assert status is not None
    bad_request, info = details_of(status)
    assert bad_request is not None and info is not None
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("legs[0].amount", "must not be zero"),
        ("journal_id", "required"),
    ]
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "INVALID_JOURNAL",
        "opsuite",
        {"journal_id": "J-1"},
    )


async def test_decorator_turns_request_error_into_its_status(channel: grpc.aio.Channel) -> None:
    error = await _fail(channel, "Precondition")
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(error)
    assert status is not None
    bad_request, info = details_of(status)
    assert bad_request is None
    assert info is not None and info.reason == "UNBALANCED" and info.metadata["diff"] == "0.01"


async def test_decorator_turns_value_error_into_invalid_argument(channel: grpc.aio.Channel) -> None:
    error = await _fail(channel, "Value")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "page_size must be positive"


async def test_decorator_on_a_stream_keeps_what_was_sent(channel: grpc.aio.Channel) -> None:
    call = channel.unary_stream(f"/{SERVICE}/Stream")(b"", timeout=10)
    received = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for message in call:
            received.append(message)
    assert received == [b"first"]
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)
    assert status is not None
    bad_request, _ = details_of(status)
    assert bad_request is not None and bad_request.field_violations[0].field == "from_seq"


def test_decorator_refuses_a_sync_handler() -> None:
    def handler(request: bytes, context: object) -> bytes:
        return request

    with pytest.raises(TypeError):
        rpc_errors(handler)


def test_a_long_text_is_clipped_to_its_byte_budget_saying_how_long_it_was() -> None:
    assert clip("short", 512) == "short"
    exactly = "x" * 512
    assert clip(exactly, 512) == exactly  # at the limit: untouched
    one_over = "x" * 513
    clipped = clip(one_over, 512)
    assert len(clipped.encode()) <= 512 and clipped.endswith("... (513 characters cut to fit)")
    # Multi-byte characters are never split: "é" is 2 bytes in UTF-8.
    accented = clip("é" * 1000, 100)
    assert len(accented.encode()) <= 100 and accented.startswith("é") and "\ufffd" not in accented


def test_a_refusal_with_many_violations_keeps_the_first_eight_and_counts_the_rest() -> None:
    violations = [FieldViolation(f"postings[{i}].amount", "y" * 1000) for i in range(20)]
    status = to_rpc_status(grpc.StatusCode.INVALID_ARGUMENT, "m" * 10_000, violations=violations)
    decoded = status_pb2.Status.FromString(dict(status.trailing_metadata)["grpc-status-details-bin"])
    bad_request, _ = details_of(decoded)
    assert bad_request is not None
    fields = [v.field for v in bad_request.field_violations]
    assert fields == [f"postings[{i}].amount" for i in range(8)] + [""]
    assert bad_request.field_violations[-1].description == "and 12 more problems"
    assert all(len(v.description.encode()) <= 192 for v in bad_request.field_violations)
    assert len(status.details.encode()) <= 512


def test_an_echoed_value_is_quoted_whole_or_by_its_start_and_length() -> None:
    assert echo("M-1") == "'M-1'"
    assert echo("x" * 64) == repr("x" * 64)  # at the limit: whole
    assert echo("x" * 65) == f"{'x' * 64!r}... (65 characters)"
