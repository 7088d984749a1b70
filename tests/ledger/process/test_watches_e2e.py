"""WatchJournals and WatchTrialBalance against a real ledger following a live market (4 business days a
second): journals the ledger books from market's events after the watch started arrive, balanced and
the same as GetLedger lists; the watched trial balance comes again once the mandate's journals change
it. (That a cancelled watch frees its waiter, and every refusal: tests/ledger/service/test_watches.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from opsuite.ledger.v1 import ledger_pb2 as pb
from opsuite.ledger.v1 import ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.support.processes import ServiceProcess, start_service

LIVE = {"OPSUITE_SEED": "21", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "250", "OPSUITE_SPEED": "4"}
WAIT_S = 30.0  # a deadline for what must come, not a pause


@dataclass
class Live:
    market: ServiceProcess
    ledger: ServiceProcess
    stub: ledger_pb2_grpc.LedgerServiceStub
    mandates: list[str]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root: Path = tmp_path_factory.mktemp("live-ledger")
    market = start_service("market", root / "market", LIVE)
    ledger: ServiceProcess | None = None
    try:
        market.wait_serving()
        with grpc.insecure_channel(market.address) as mc:
            mandates = (
                market_pb2_grpc.MarketServiceStub(mc).ListMandates(market_pb2.ListMandatesRequest()).mandates
            )
        ledger = start_service(
            "ledger",
            root / "ledger",
            # A long grace: an open watch that held the ledger at SIGTERM would hold it 60 s.
            {**LIVE, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_SHUTDOWN_GRACE_S": "60"},
        )
        ledger.wait_serving()  # caught up with the live head
        with grpc.insecure_channel(ledger.address) as channel:
            yield Live(
                market, ledger, ledger_pb2_grpc.LedgerServiceStub(channel), [m.mandate_id for m in mandates]
            )
    finally:
        if ledger is not None:
            ledger.stop()
        market.stop()


def _balanced(journal: pb.Journal) -> bool:
    totals: dict[str, Decimal] = {}
    for posting in journal.postings:
        currency = posting.amount.currency
        totals[currency] = totals.get(currency, Decimal(0)) + Decimal(posting.amount.amount.value)
    return bool(journal.postings) and all(total == 0 for total in totals.values())


def test_journals_booked_after_the_watch_started_arrive_as_getledger_lists_them(live: Live) -> None:
    mandate = live.mandates[0]
    start = live.stub.GetTrialBalance(pb.GetTrialBalanceRequest(mandate_id=mandate)).market_seq
    stream = live.stub.WatchJournals(pb.WatchJournalsRequest(mandate_id=mandate), timeout=WAIT_S)
    batch = next(stream)  # the ledger books market's next events: no call of ours makes it
    stream.cancel()
    assert batch.journals and all(j.mandate_id == mandate for j in batch.journals)
    assert all(_balanced(j) for j in batch.journals)
    assert all(j.source_event_id.startswith("mkt-") for j in batch.journals)
    assert all(int(j.source_event_id.removeprefix("mkt-")) > start for j in batch.journals)
    seqs = [j.ledger_seq for j in batch.journals]
    assert seqs == sorted(seqs) and batch.head_ledger_seq >= seqs[-1]
    listed = live.stub.GetLedger(
        pb.GetLedgerRequest(mandate_id=mandate, page_token=str(seqs[0] - 1), page_size=len(seqs))
    ).journals
    assert list(listed) == list(batch.journals)


def test_the_trial_balance_comes_now_and_again_once_the_mandates_journals_change_it(live: Live) -> None:
    mandate = live.mandates[-1]
    stream = live.stub.WatchTrialBalance(pb.WatchTrialBalanceRequest(mandate_id=mandate), timeout=WAIT_S)
    now, later = next(stream), next(stream)
    stream.cancel()
    for balance in (now, later):
        assert balance.mandate_id == mandate and balance.balanced
        assert balance.base_totals.debit_total == balance.base_totals.credit_total
    assert later.journal_count > now.journal_count and later.as_of_ledger_seq > now.as_of_ledger_seq
    assert later.market_seq > now.market_seq


def test_sigterm_ends_open_watches_saying_where_to_resume_and_the_ledger_exits_0(live: Live) -> None:
    """Last in the module: it stops the ledger."""
    journals = live.stub.WatchJournals(pb.WatchJournalsRequest(), timeout=WAIT_S)
    balance = live.stub.WatchTrialBalance(
        pb.WatchTrialBalanceRequest(mandate_id=live.mandates[0]), timeout=WAIT_S
    )
    next(balance)
    started = time.monotonic()
    assert live.ledger.stop() == 0
    assert time.monotonic() - started < 30  # not held for the grace period (60 s here)
    for stream in (journals, balance):
        with pytest.raises(grpc.RpcError) as ended:
            for _ in stream:
                pass
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE, ended.value.details()
        assert "ledger is shutting down; watch again with" in (ended.value.details() or "")
