"""`python -m tests.edge.drain_helper`: the edge's real serve() (signals, uvicorn, shutdown) over the test
contract, whose ShelfService runs in the same process. It logs "slow call started" when a Slow call
reaches the service, so a test can send SIGTERM while that call is in flight."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import grpc.aio

from services.common.channels import PLAINTEXT
from services.common.logs import configure_logging
from services.common.settings import load_settings
from services.edge.app import create_app
from services.edge.process import serve
from services.edge.routes import build_routes
from services.edge.settings import EdgeSettings
from services.edge.upstream import AddressedChannels
from tests.edge import edgetest

_log = logging.getLogger("drain_helper")


async def main() -> int:
    slow = edgetest.HANDLERS["Slow"]

    async def announced(request: Any, context: grpc.aio.ServicerContext) -> Any:
        _log.info("slow call started")
        return await slow(request, context)

    edgetest.HANDLERS["Slow"] = announced
    async with edgetest.shelf_server() as (address, _health):
        routes = build_routes([edgetest.edgetest_file()])
        app = create_app(routes, AddressedChannels({edgetest.SERVICE: address}, security=PLAINTEXT))
        return await serve(app, load_settings(EdgeSettings))


if __name__ == "__main__":
    configure_logging("edge")
    sys.exit(asyncio.run(main()))
