"""The ledger as a holdings feed for dq: each mandate's positions and market values at a day end.

dq asks the ledger for a mandate's balances as of the day end once the ledger has booked it
(GetBalances with min_market_seq), waiting for as long as it takes (services/common/peer_wait.py),
so that every day end is checked against the ledger whatever the timing. A securities account
(Assets:Securities:<ID>) carries the position's quantity; with Assets:Unrealized:<ID> its balance in
the instrument's currency is the market value the ledger states (cost plus the mark).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from services.common.convert import date_to_proto, decimal_from_proto
from services.common.peer_wait import NotYet, PeerWait
from services.common.stopping import unless_stopped
from services.dq.domain.holdings import FeedHoldings, StatedValue

SECURITIES = "Assets:Securities:"
UNREALIZED = "Assets:Unrealized:"
RPC_TIMEOUT_S = 30.0
ZERO = Decimal(0)


class LedgerFeed:
    def __init__(self, stub: ledger_pb2_grpc.LedgerServiceStub, wait: PeerWait) -> None:
        self._stub = stub
        self._wait = wait

    async def holdings(
        self, mandate_ids: Iterable[str], date: dt.date, day_end_seq: int
    ) -> dict[str, FeedHoldings]:
        """Each mandate's positions and market values in the ledger as of the day end."""
        return {m: await self.mandate(m, date, day_end_seq) for m in mandate_ids}

    async def mandate(self, mandate_id: str, date: dt.date, day_end_seq: int) -> FeedHoldings:
        return await self._wait.until_answered(
            f"waiting for the ledger to book market seq {day_end_seq}",
            lambda: self._ask(mandate_id, date, day_end_seq),
        )

    async def _ask(self, mandate_id: str, date: dt.date, day_end_seq: int) -> FeedHoldings:
        request = ledger_pb2.GetBalancesRequest(
            mandate_id=mandate_id, as_of=date_to_proto(date), min_market_seq=day_end_seq
        )
        reply: ledger_pb2.GetBalancesResponse = await unless_stopped(
            self._wait.stopping, lambda: self._stub.GetBalances(request, timeout=RPC_TIMEOUT_S)
        )
        if reply.market_seq < day_end_seq:
            raise NotYet(f"the ledger has booked market seq {reply.market_seq} so far")
        return holdings_of(reply.balances)


def holdings_of(balances: Iterable[ledger_pb2.AccountBalance]) -> FeedHoldings:
    quantities: dict[str, Decimal] = {}
    values: dict[str, Decimal] = {}
    for line in balances:
        account = line.account
        if account.startswith(SECURITIES):
            iid = line.instrument_id or account.removeprefix(SECURITIES)
            quantities[iid] = quantities.get(iid, ZERO) + decimal_from_proto(line.quantity, "quantity")
            values[iid] = values.get(iid, ZERO) + decimal_from_proto(line.balance.amount, "balance")
        elif account.startswith(UNREALIZED):
            iid = line.instrument_id or account.removeprefix(UNREALIZED)
            values[iid] = values.get(iid, ZERO) + decimal_from_proto(line.balance.amount, "balance")
    held = {iid: q for iid, q in quantities.items() if q}
    return FeedHoldings(
        held, [StatedValue(iid, quantity, values.get(iid, ZERO)) for iid, quantity in sorted(held.items())]
    )
