"""A service's own methods answer UNAVAILABLE with its reason while it says it cannot answer yet;
other services on the same server (health here) are untouched; once the reason clears, calls pass."""

from __future__ import annotations

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from services.common.availability import Availability

SERVICE = "opsuite.test.v1.EchoService"


async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def count(request: bytes, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
    for n in range(3):
        yield bytes([n])


async def test_own_methods_are_refused_with_the_reason_until_it_clears() -> None:
    reason = ["restoring the run"]
    availability = Availability(lambda: reason[0])
    server = grpc.aio.server(interceptors=[availability])
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "Echo": grpc.unary_unary_rpc_method_handler(echo),
                    "Count": grpc.unary_stream_rpc_method_handler(count),
                },
            ),
        )
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    availability.services = [SERVICE]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            echo_call = channel.unary_unary(f"/{SERVICE}/Echo")
            count_call = channel.unary_stream(f"/{SERVICE}/Count")
            for call in (echo_call(b"x"), count_call(b"")):
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    if isinstance(call, grpc.aio.UnaryStreamCall):
                        async for _ in call:
                            pass
                    else:
                        await call
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
                assert refused.value.details() == "restoring the run; retry in a moment"
            # Health is another service on the same server: it answers throughout.
            checked = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert checked.status == health_pb2.HealthCheckResponse.SERVING
            reason[0] = ""
            assert await echo_call(b"x") == b"x"
            assert [b async for b in count_call(b"")] == [b"\x00", b"\x01", b"\x02"]
    finally:
        await server.stop(None)
