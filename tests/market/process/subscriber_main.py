"""A downstream subscriber in its own process, for the cross-process tracing test.

Usage: python -m tests.market.process.subscriber_main ADDRESS CURSOR_FILE UNTIL_SEQ
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from services.common.channels import PLAINTEXT
from services.common.cursor import FileCursorStore
from services.common.stream_client import EventStreamClient
from services.common.telemetry import init_telemetry, shutdown_telemetry


async def follow(address: str, cursor: Path, until_seq: int) -> None:
    client = EventStreamClient(
        address, FileCursorStore(cursor), lambda events: None, service="subscriber", security=PLAINTEXT
    )
    runner = asyncio.create_task(client.run())
    await client.wait_for_seq(until_seq, timeout=120)
    await client.stop()
    await runner


def main() -> None:
    address, cursor, until_seq = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    init_telemetry("subscriber")
    try:
        asyncio.run(follow(address, cursor, until_seq))
    finally:
        shutdown_telemetry()


if __name__ == "__main__":
    main()
