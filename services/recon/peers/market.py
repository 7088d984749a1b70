"""market's books at a day end, as recon asks for them."""

from __future__ import annotations

import asyncio
import logging

import grpc
import grpc.aio

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.stopping import unless_stopped

log = logging.getLogger(__name__)
RPC_TIMEOUT_S = 10.0


class MarketPeer:
    def __init__(self, stub: market_pb2_grpc.MarketServiceStub, stopping: asyncio.Event) -> None:
        self._stub = stub
        self._stopping = stopping

    async def snapshot(self, seq: int) -> market_pb2.Snapshot | None:
        """market's books at day end `seq`; None when market no longer keeps that day end.

        market keeps a day's books before it publishes the day's events, so one call answers.
        """
        request = market_pb2.GetSnapshotRequest(as_of_seq=seq)
        try:
            snapshot: market_pb2.Snapshot = await unless_stopped(
                self._stopping, lambda: self._stub.GetSnapshot(request, timeout=RPC_TIMEOUT_S)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.OUT_OF_RANGE:
                log.warning(
                    "market no longer keeps this day end's books: its check is skipped",
                    extra={"seq": seq, "error": error.details()},
                )
                return None
            raise
        if snapshot.as_of_seq != seq:
            raise RuntimeError(f"market answered the books at seq {snapshot.as_of_seq} for day end seq {seq}")
        return snapshot
