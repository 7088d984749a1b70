"""A service that is up but cannot answer yet (market replaying its log after a restart) says so:
its own methods answer UNAVAILABLE with the reason, never data from a half-restored state.
Health, reflection and GetStatus keep answering, so an operator sees why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import grpc
import grpc.aio

from services.common.request_decoding import Continuation


def _refusing(handler: grpc.RpcMethodHandler, reason: str) -> grpc.RpcMethodHandler:
    async def refuse(request: object, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNAVAILABLE, f"{reason}; retry in a moment")

    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(
            refuse,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return grpc.unary_unary_rpc_method_handler(
        refuse,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class Availability(grpc.aio.ServerInterceptor):  # type: ignore[misc]  # grpc.aio has no type stubs
    """unavailable() returns why the service cannot answer yet, "" once it can. `services` (the
    service's own full names) is filled once they are registered."""

    def __init__(self, unavailable: Callable[[], str]) -> None:
        self._unavailable = unavailable
        self.services: Sequence[str] = ()

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        service = handler_call_details.method.strip("/").partition("/")[0]
        if handler is None or service not in self.services:
            return handler
        reason = self._unavailable()
        return _refusing(handler, reason) if reason else handler
