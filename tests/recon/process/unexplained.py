"""Unexplained cash for process tests: suspense holds only cash nothing explains, so a test that needs
suspense journals books some in the ledger itself, a fee the bank never charged, and reverses it."""

from __future__ import annotations

import datetime as dt

import grpc

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from services.market.fred import load_macro
from tests.support.processes import ServiceProcess
from tests.support.waiting import wait_until

RPC_TIMEOUT_S = 30.0


def business_days(start: dt.date, days: int) -> list[dt.date]:
    """market's business days of a run (its calendar is the macro history's dates from `start`)."""
    history = load_macro(start, start + dt.timedelta(days=days * 2 + 30)).days
    return [d.date for d in history if d.date >= start][:days]


def _date(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def book_unexplained_fee(
    ledger: ServiceProcess,
    mandate: str,
    currency: str,
    amount: str,
    on: dt.date,
    reversed_on: dt.date | None = None,
    key: str = "test:unexplained-fee",
) -> None:
    """Dr Expenses:Fees / Cr Assets:Cash `amount` effective `on` (and its reversal effective
    `reversed_on`), asked again while the ledger is not ready to answer."""

    def money(value: str) -> common_pb2.Money:
        return common_pb2.Money(amount=common_pb2.Decimal(value=value), currency=currency)

    request = ledger_pb2.PostJournalRequest(
        idempotency_key=key,
        mandate_id=mandate,
        kind=ledger_pb2.JOURNAL_KIND_MANUAL,
        effective_date=_date(on),
        memo="a fee the bank never charged",
        postings=[
            ledger_pb2.Posting(account=f"Expenses:Fees:{currency}", amount=money(amount)),
            ledger_pb2.Posting(account=f"Assets:Cash:{currency}", amount=money(f"-{amount}")),
        ],
        posted_by="ops-test",
    )
    assert ledger.wait_listening(), ledger.log_text()[-3000:]
    with grpc.insecure_channel(ledger.address) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)

        def post() -> ledger_pb2.Journal | None:
            try:
                return stub.PostJournal(request, timeout=RPC_TIMEOUT_S).journal
            except grpc.RpcError as error:
                if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    return None
                raise

        fee = wait_until(post, timeout=120, what="the ledger to take a manual journal")
        if reversed_on is not None:
            stub.ReverseJournal(
                ledger_pb2.ReverseJournalRequest(
                    journal_id=fee.journal_id,
                    reason="not charged",
                    effective_date=_date(reversed_on),
                    posted_by="ops-test",
                ),
                timeout=RPC_TIMEOUT_S,
            )
