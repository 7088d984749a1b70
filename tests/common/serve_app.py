"""A minimal service served by services.common.serve.run, for the graceful-shutdown test.

It serves a generic "opsuite.test.v1.SlowService/Work" that logs "work started",
waits until shutdown has begun and then works a while longer: an in-flight call
that SIGTERM must not cut short.
on_stop writes a marker file, standing in for persisting a cursor. It runs
under the name "market" because serve() listens on settings.addr(name).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

import grpc
import grpc.aio

from services.common.serve import HealthControl, Service, run
from services.common.settings import load_settings

SERVICE = "opsuite.test.v1.SlowService"
WORK_SECONDS = 1.0
_log = logging.getLogger("serve_app")
_draining = asyncio.Event()


async def work(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    _log.info("work started")
    await _draining.wait()
    await asyncio.sleep(WORK_SECONDS)  # simulated work still running after shutdown began
    return b"done:" + request


async def on_draining() -> None:
    _draining.set()


def register(server: grpc.aio.Server) -> Sequence[str]:
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Work": grpc.unary_unary_rpc_method_handler(work)}
    )
    server.add_generic_rpc_handlers((handler,))
    return [SERVICE]


def main() -> None:
    settings = load_settings()
    marker = settings.service_dir("market") / "stopped"

    async def on_start(health: HealthControl) -> None:
        _log.info("started")

    async def on_stop() -> None:
        marker.write_text("cursor saved\n")

    run(
        Service(
            name="market", register=register, on_start=on_start, on_stop=on_stop, on_draining=on_draining
        ),
        settings,
    )


if __name__ == "__main__":
    sys.exit(main())
