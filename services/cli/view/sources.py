"""The live view's other sources: the ledger's trial balances, recon's open breaks, reporting's NAVs
(view/reporting.py), dq's issues and quarantine (view/dq.py), every service's status.

One channel per service for the view's lifetime; every poll runs concurrently with a short
deadline, and a source that does not answer keeps its last figures on screen (a restarting
service shows as such in the services panel, its books do not vanish).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import grpc

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.cli.suite.status import Answer, probe
from services.cli.view.dq import DqFeed
from services.cli.view.model import (
    OPEN_STATUSES,
    CashRow,
    DqBoard,
    NavBoard,
    ReconSummary,
    cash_rows,
    recon_summary,
)
from services.cli.view.reporting import ReportingFeed
from services.common.channels import Security, open_channel

RPC_TIMEOUT_S = 2.0
STATUS_TIMEOUT_S = 1.0
ESCALATIONS_LISTED = 5


class Sources:
    def __init__(self, addresses: dict[str, str], names: Sequence[str], security: Security):
        self.names = list(names)
        self.channels = {name: open_channel(security, addresses[name]) for name in self.names}
        self.cash: dict[str, list[CashRow]] = {}
        self.recon: ReconSummary | None = None
        self.answers: dict[str, Answer] = {}
        self.reporting = ReportingFeed(self.channels.get("reporting"), addresses.get("reporting", "-"))
        self.dq = DqFeed(self.channels.get("dq"), addresses.get("dq", "-"))

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()

    async def poll(self, mandate_ids: Sequence[str]) -> None:
        await asyncio.gather(
            self._poll_ledger(mandate_ids),
            self._poll_recon(),
            self.reporting.poll(),
            self.dq.poll(),
            self._poll_statuses(),
        )

    def nav_board(self) -> NavBoard:
        return self.reporting.board()

    def dq_board(self) -> DqBoard:
        return self.dq.board()

    def cash_rows(self, mandate_ids: Sequence[str]) -> tuple[CashRow, ...] | None:
        if "ledger" not in self.channels:
            return None
        return tuple(row for mandate_id in mandate_ids for row in self.cash.get(mandate_id, ()))

    async def _poll_ledger(self, mandate_ids: Sequence[str]) -> None:
        channel = self.channels.get("ledger")
        if channel is None:
            return
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)

        async def one(mandate_id: str) -> None:
            with contextlib.suppress(grpc.aio.AioRpcError):
                balance = await stub.GetTrialBalance(
                    ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate_id), timeout=RPC_TIMEOUT_S
                )
                self.cash[mandate_id] = cash_rows(balance)

        await asyncio.gather(*(one(m) for m in mandate_ids))

    async def _poll_recon(self) -> None:
        channel = self.channels.get("recon")
        if channel is None:
            return
        stub = recon_pb2_grpc.ReconServiceStub(channel)
        # The escalated items to work: top-level only, as a child is never escalated on its own.
        escalated = recon_pb2.ListBreaksRequest(
            statuses=OPEN_STATUSES, escalated_only=True, top_level_only=True, page_size=ESCALATIONS_LISTED
        )
        with contextlib.suppress(grpc.aio.AioRpcError):
            reconciliation, listed = await asyncio.gather(
                stub.GetReconciliation(recon_pb2.GetReconciliationRequest(), timeout=RPC_TIMEOUT_S),
                stub.ListBreaks(escalated, timeout=RPC_TIMEOUT_S),
            )
            self.recon = recon_summary(reconciliation, listed.breaks)

    async def _poll_statuses(self) -> None:
        answers = await asyncio.gather(*(probe(self.channels[n], STATUS_TIMEOUT_S) for n in self.names))
        self.answers = dict(zip(self.names, answers, strict=True))
