"""The live view's dq side: open issues by severity, and the values dq holds back with the last good
value used instead.

An ordinary dq client. On every refresh, GetStatus (the counts) and GetQuarantine (what is held
back now, its first page: more than a page never fits on a screen, and the count says how many).

dq answering UNAVAILABLE (not started, restarting, or still fetching market's reference data)
clears the figures and the panel says so; any other failure (a deadline on a busy machine) keeps
the last figures on screen, as the view's other sources do, and with none to keep the panel names
the error.
"""

from __future__ import annotations

import asyncio

import grpc

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from services.cli.view.model import DqBoard, dq_board
from services.cli.view.reporting import NOT_BUILT, RPC_TIMEOUT_S, failure_text

HELD_BACK_LISTED = 50  # more rows than any screen shows


class DqFeed:
    def __init__(self, channel: grpc.aio.Channel | None, address: str):
        """`channel` None: dq is not in this installation, and the panel says so."""
        self.stub = dq_pb2_grpc.DqServiceStub(channel) if channel is not None else None
        self.address = address
        self.latest: DqBoard | None = None  # None: no answer yet
        self.unavailable = False
        self.failure = ""  # the last error other than UNAVAILABLE, shown while there are no figures

    def board(self) -> DqBoard:
        if self.stub is None:
            return DqBoard(absent=NOT_BUILT)
        if self.unavailable:
            return DqBoard(absent=f"not answering at {self.address}")
        if self.latest is None:
            return DqBoard(absent=f"no figures from {self.address}: {self.failure or 'no answer yet'}")
        return self.latest

    async def poll(self) -> None:
        if self.stub is None:
            return
        try:
            status, quarantine = await asyncio.gather(
                self.stub.GetStatus(dq_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S),
                self.stub.GetQuarantine(
                    dq_pb2.GetQuarantineRequest(page_size=HELD_BACK_LISTED), timeout=RPC_TIMEOUT_S
                ),
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                self.unavailable, self.latest = True, None
            else:
                self.unavailable, self.failure = False, failure_text(error)
            return
        self.unavailable, self.failure = False, ""
        self.latest = dq_board(status, quarantine.entries)
