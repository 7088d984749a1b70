"""An in-memory MarketService.StreamEvents with market's semantics, for testing subscribers.

Honours from_seq (0 = oldest retained), the kind-prefix and mandate filters,
max_batch_size, live following of appended events, and OUT_OF_RANGE with the
oldest retained seq when the cursor is too old.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import grpc
import grpc.aio

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.channels import PLAINTEXT, TransportSecurity, add_port
from services.common.status import abort


def make_event(
    seq: int, kind: str = "price.tick", *, traceparent: str = "", mandate_id: str = ""
) -> market_pb2.MarketEvent:
    return market_pb2.MarketEvent(
        envelope=common_pb2.EventEnvelope(
            seq=seq,
            event_id=f"mkt-{seq}",
            source="market",
            kind=kind,
            traceparent=traceparent,
            mandate_id=mandate_id,
        )
    )


class FakeMarket(market_pb2_grpc.MarketServiceServicer):
    """Events live in a list shared by every server object built on this servicer."""

    def __init__(self, events: Sequence[market_pb2.MarketEvent] = (), *, oldest_seq: int = 1) -> None:
        self.events: list[market_pb2.MarketEvent] = list(events)
        self.oldest_seq = oldest_seq
        self.requests: list[market_pb2.StreamEventsRequest] = []
        self._appended = asyncio.Condition()

    @property
    def head_seq(self) -> int:
        return self.events[-1].envelope.seq if self.events else 0

    async def append(self, *events: market_pb2.MarketEvent) -> None:
        async with self._appended:
            self.events.extend(events)
            self._appended.notify_all()

    def _keep(self, event: market_pb2.MarketEvent, request: market_pb2.StreamEventsRequest) -> bool:
        kinds, mandates = request.filter.kinds, request.filter.mandate_ids
        envelope = event.envelope
        if kinds and not any(envelope.kind.startswith(prefix) for prefix in kinds):
            return False
        return not (mandates and envelope.mandate_id and envelope.mandate_id not in mandates)

    async def StreamEvents(
        self, request: market_pb2.StreamEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[market_pb2.EventBatch]:
        self.requests.append(request)
        from_seq = request.from_seq or self.oldest_seq
        if from_seq < self.oldest_seq:
            await abort(
                context,
                grpc.StatusCode.OUT_OF_RANGE,
                f"from_seq {from_seq} is older than the oldest retained seq {self.oldest_seq}",
                reason="CURSOR_TOO_OLD",
                metadata={"oldest_seq": str(self.oldest_seq)},
            )
        size = request.max_batch_size or 256
        next_seq = from_seq
        while True:
            async with self._appended:
                await self._appended.wait_for(lambda wanted=next_seq: self.head_seq >= wanted)
            scanned = [e for e in self.events if e.envelope.seq >= next_seq][:size]
            next_seq = scanned[-1].envelope.seq + 1
            yield market_pb2.EventBatch(
                events=[e for e in scanned if self._keep(e, request)],
                head_seq=self.head_seq,
                last_seq=scanned[-1].envelope.seq,
            )


async def start_server(
    servicer: FakeMarket, address: str = "127.0.0.1:0", security: TransportSecurity = PLAINTEXT
) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    market_pb2_grpc.add_MarketServiceServicer_to_server(servicer, server)
    port = add_port(server, security, address)
    await server.start()
    return server, port
