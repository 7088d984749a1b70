"""Bytes that are not the request message are the caller's mistake: INVALID_ARGUMENT, not UNKNOWN.

grpc-python deserializes a request before any handler runs, and a DecodeError there answers
UNKNOWN ("Unexpected DecodeError"), which a client reads as a server fault and may retry. This
interceptor takes the deserializer out of each handler and runs it first thing inside the call,
where a failure can be refused properly, naming the message that was expected. One place, for
every method of every service (health and reflection included).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from google.protobuf.message import DecodeError

Deserializer = Callable[[bytes], Any]
# What a grpc.aio server interceptor is given to look up a method's handler.
Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]]


async def _decode(
    deserialize: Deserializer, raw: bytes, context: grpc.aio.ServicerContext, method: str
) -> Any:
    try:
        return deserialize(raw)
    except DecodeError as error:
        expected = getattr(getattr(deserialize, "__self__", None), "DESCRIPTOR", None)
        what = expected.full_name if expected is not None else "its request message"
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{method}: the request body is not a valid {what} ({error}); send a serialized {what}",
        )


def _unary_request(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    deserialize = handler.request_deserializer
    if handler.response_streaming:
        behavior = handler.unary_stream
        if inspect.isasyncgenfunction(behavior):

            async def stream_items(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                request = await _decode(deserialize, raw, context, method)
                async for item in behavior(request, context):
                    yield item

            wrapped: Callable[..., Any] = stream_items
        else:

            async def stream_by_writes(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
                return await behavior(await _decode(deserialize, raw, context, method), context)

            wrapped = stream_by_writes
        return grpc.unary_stream_rpc_method_handler(
            wrapped, request_deserializer=None, response_serializer=handler.response_serializer
        )
    unary: Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]] = handler.unary_unary

    async def answer(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
        return await unary(await _decode(deserialize, raw, context, method), context)

    return grpc.unary_unary_rpc_method_handler(
        answer, request_deserializer=None, response_serializer=handler.response_serializer
    )


class RequestDecoding(grpc.aio.ServerInterceptor):  # type: ignore[misc]  # grpc.aio has no type stubs
    """Undecodable request bodies answer INVALID_ARGUMENT on every unary-request method."""

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None or handler.request_streaming:
            # Client-streaming requests are decoded by the library as they arrive; no service has one.
            return handler
        return _unary_request(handler, handler_call_details.method)
