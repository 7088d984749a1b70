"""The live view's market side: the clock, the stream's rate, the last prices and the last fills.

An ordinary market client: GetClock on every refresh, and a StreamEvents subscription
filtered to what the view shows. It starts a little before the head, so a view attached to a
suite whose clock has stopped still shows the last prices and fills, and it resumes where
it stopped when market restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

import grpc

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.cli.view.model import FillRow, PriceRow, date_text, decimal

VIEW_KINDS = ("market.regime", "price.tick", "trade.fill")
WATCHED_PRICES = 10
RECENT_FILLS = 8
BACKFILL_EVENTS = 5_000  # enough history for a day's prices and a few fills
RPC_TIMEOUT_S = 2.0
RECONNECT_S = 1.0  # between attempts to resume the stream while market is away


class MarketFeed:
    def __init__(self, channel: grpc.aio.Channel):
        self.stub = market_pb2_grpc.MarketServiceStub(channel)
        self.clock: market_pb2.Clock | None = None
        self.symbols: dict[str, str] = {}
        self.mandate_ids: list[str] = []
        self.prices: dict[str, PriceRow] = {}
        self.fills: deque[FillRow] = deque(maxlen=RECENT_FILLS)
        self.fill_count = 0
        self._next_seq = 0
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=10)

    async def connect(self) -> None:
        """Reference data and the clock; raises AioRpcError when market does not answer."""
        instruments = await self.stub.ListInstruments(
            market_pb2.ListInstrumentsRequest(page_size=1000), timeout=RPC_TIMEOUT_S
        )
        self.symbols = {i.instrument_id: i.symbol for i in instruments.instruments}
        mandates = await self.stub.ListMandates(market_pb2.ListMandatesRequest(), timeout=RPC_TIMEOUT_S)
        self.mandate_ids = [m.mandate_id for m in mandates.mandates]
        self.clock = await self.stub.GetClock(market_pb2.GetClockRequest(), timeout=RPC_TIMEOUT_S)
        self._next_seq = max(self.clock.oldest_seq, self.clock.head_seq + 1 - BACKFILL_EVENTS, 1)

    @property
    def events_per_second(self) -> float:
        if len(self._rate_window) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self._rate_window[0], self._rate_window[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    async def poll_clock(self) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError):
            self.clock = await self.stub.GetClock(market_pb2.GetClockRequest(), timeout=RPC_TIMEOUT_S)
            self._rate_window.append((time.monotonic(), self.clock.head_seq))

    async def follow(self) -> None:
        """Apply the filtered stream for as long as the view runs, resuming after market restarts."""
        while True:
            request = market_pb2.StreamEventsRequest(
                from_seq=self._next_seq, filter=market_pb2.EventFilter(kinds=VIEW_KINDS)
            )
            try:
                async for batch in self.stub.StreamEvents(request):
                    for event in batch.events:
                        self._apply(event)
                    self._next_seq = max(self._next_seq, batch.last_seq + 1)
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.OUT_OF_RANGE:
                    self._next_seq = 0  # retention passed the cursor: from the oldest retained
            await asyncio.sleep(RECONNECT_S)

    def _apply(self, event: market_pb2.MarketEvent) -> None:
        which = event.WhichOneof("payload")
        if which == "price":
            price = event.price
            if price.instrument_id in self.prices or len(self.prices) < WATCHED_PRICES:
                symbol = self.symbols.get(price.instrument_id, price.instrument_id)
                self.prices[price.instrument_id] = PriceRow(
                    symbol, decimal(price.price.value), price.currency
                )
        elif which == "fill":
            fill = event.fill
            self.fills.appendleft(
                FillRow(
                    trade_date=date_text(fill.trade_date),
                    mandate_id=fill.mandate_id,
                    side=market_pb2.Side.Name(fill.side).removeprefix("SIDE_"),
                    quantity=decimal(fill.quantity.value),
                    symbol=self.symbols.get(fill.instrument_id, fill.instrument_id),
                    price=decimal(fill.price.value),
                )
            )
            self.fill_count += 1

    def price_rows(self) -> tuple[PriceRow, ...]:
        return tuple(row for _, row in sorted(self.prices.items()))
