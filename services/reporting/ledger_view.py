"""The ledger's equity at market for one mandate and day end, asked over gRPC (GetBalances)."""

from __future__ import annotations

import logging

import grpc
import grpc.aio

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from services.common.convert import date_to_proto, decimal_from_proto
from services.common.nav.valuation import DayValuation
from services.reporting.domain.comparison import Comparison, compare, equity_at_market, unavailable

log = logging.getLogger(__name__)

# How long a report waits for the ledger to book the day end it is about (GetBalances min_market_seq
# answers once the ledger has, or when the deadline is near).
WAIT_FOR_LEDGER_S = 2.0


class LedgerView:
    def __init__(self, stub: ledger_pb2_grpc.LedgerServiceStub) -> None:
        self._stub = stub

    async def __call__(self, valuation: DayValuation) -> Comparison:
        request = ledger_pb2.GetBalancesRequest(
            mandate_id=valuation.mandate_id, as_of=date_to_proto(valuation.date), min_market_seq=valuation.seq
        )
        try:
            response = await self._stub.GetBalances(request, timeout=WAIT_FOR_LEDGER_S)
        except grpc.aio.AioRpcError as error:
            log.info("the ledger did not answer", extra={"code": error.code().name, "error": error.details()})
            return unavailable(f"the ledger did not answer ({error.code().name}: {error.details()})")
        balances = [
            (b.account, decimal_from_proto(b.base_balance.amount, "base_balance")) for b in response.balances
        ]
        return compare(
            valuation.nav,
            equity_at_market(balances),
            response.market_seq,
            valuation.seq,
            valuation.base_currency,
        )


async def no_ledger(valuation: DayValuation) -> Comparison:
    return unavailable("reporting runs without a ledger (OPSUITE_REPORTING_USE_LEDGER=false)")
