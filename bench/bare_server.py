"""The ceiling: a bare grpc.aio server streaming pre-built batches of the same sizes.

Usage: python -m bench.bare_server BATCH_FILE
It loads serialized EventBatch messages captured from market (length-prefixed
in BATCH_FILE) and yields them as they are, with no work per message. It
prints its port on the first line of standard output.
"""

from __future__ import annotations

import asyncio
import struct
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

METHOD = "/bench.Bare/Stream"


def load_batches(path: Path) -> list[bytes]:
    data, batches, i = path.read_bytes(), [], 0
    while i < len(data):
        (length,) = struct.unpack_from(">I", data, i)
        batches.append(data[i + 4 : i + 4 + length])
        i += 4 + length
    return batches


async def main() -> None:
    batches = load_batches(Path(sys.argv[1]))

    async def stream(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        for batch in batches:
            yield batch

    handler = grpc.method_handlers_generic_handler(
        "bench.Bare",
        {
            "Stream": grpc.unary_stream_rpc_method_handler(
                stream, request_deserializer=None, response_serializer=None
            )
        },
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main())
