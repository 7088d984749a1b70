"""WatchJournals and WatchTrialBalance through a real in-process server over a real SQLite store: a
journal posted (PostJournal, or the follower's post from a worker thread) reaches a watch that was
waiting for it, filtered; a cancelled watch frees its waiter; bad filters are refused naming the
field; a draining ledger ends every watch saying where to resume."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2 as pb
from opsuite.ledger.v1 import ledger_pb2_grpc
from services.common.convert import date_to_proto
from services.ledger.domain.records import JournalDraft, JournalKind, Posting
from services.ledger.server import LedgerContext, LedgerServicer, register
from services.ledger.store import LedgerStore, open_store
from tests.support.refusals import refusal
from tests.support.waiting import wait_until

DAY = dt.date(2020, 3, 2)
WAIT_S = 10.0  # a deadline for a message that must come, not a pause


@dataclass
class Ledger:
    stub: ledger_pb2_grpc.LedgerServiceStub
    store: LedgerStore
    servicer: LedgerServicer


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    store = open_store("", tmp_path)
    servicer = LedgerServicer(
        store,
        LedgerContext(
            base_currencies={"BAL-USD": "USD", "EQ-EUR": "EUR"},
            rates=lambda mandate, base: lambda currency: Decimal(1),
            today=lambda: DAY,
        ),
    )
    server = grpc.aio.server()
    register(server, servicer)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Ledger(ledger_pb2_grpc.LedgerServiceStub(channel), store, servicer)
    finally:
        servicer.close()
        await server.stop(None)
        store.close()


def _subscription(key: str, amount: str, mandate: str = "BAL-USD", ccy: str = "USD") -> pb.PostJournalRequest:
    def money(value: str) -> common_pb2.Money:
        return common_pb2.Money(amount=common_pb2.Decimal(value=value), currency=ccy)

    return pb.PostJournalRequest(
        idempotency_key=key,
        mandate_id=mandate,
        kind=pb.JOURNAL_KIND_SUBSCRIPTION,
        effective_date=date_to_proto(DAY),
        memo="subscription",
        postings=[
            pb.Posting(account=f"Assets:Cash:{ccy}", amount=money(amount)),
            pb.Posting(account=f"Equity:Capital:{ccy}", amount=money(f"-{amount}")),
        ],
    )


async def _next(call: Any) -> Any:
    message = await asyncio.wait_for(call.read(), WAIT_S)
    assert message is not grpc.aio.EOF, "the watch ended"
    return message


async def _waiting(ledger: Ledger, count: int) -> None:
    await asyncio.to_thread(
        wait_until,
        lambda: ledger.servicer.watchers.waiting == count,
        timeout=WAIT_S,
        what=f"{count} waiter(s)",
    )


async def test_a_posted_journal_reaches_a_waiting_watch_with_its_postings(ledger: Ledger) -> None:
    first = await ledger.stub.PostJournal(_subscription("s-1", "100.00"))
    call = ledger.stub.WatchJournals(pb.WatchJournalsRequest())  # from now on: s-1 is not sent
    await _waiting(ledger, 1)
    posted = await ledger.stub.PostJournal(_subscription("s-2", "250.50"))
    batch = await _next(call)
    assert [j.journal_id for j in batch.journals] == [posted.journal.journal_id]
    assert batch.head_ledger_seq == posted.journal.ledger_seq == first.journal.ledger_seq + 1
    journal = batch.journals[0]
    assert (journal.kind, journal.memo, journal.effective_date) == (
        pb.JOURNAL_KIND_SUBSCRIPTION,
        "subscription",
        date_to_proto(DAY),
    )
    assert [(p.account, p.amount.amount.value, p.amount.currency) for p in journal.postings] == [
        ("Assets:Cash:USD", "250.50", "USD"),
        ("Equity:Capital:USD", "-250.50", "USD"),
    ]
    call.cancel()
    await _waiting(ledger, 0)  # the cancelled watch no longer waits


async def test_a_watch_resumes_after_a_ledger_seq_then_follows_the_followers_posts(ledger: Ledger) -> None:
    ids = [(await ledger.stub.PostJournal(_subscription(f"s-{i}", f"{i}.00"))).journal for i in range(1, 4)]
    call = ledger.stub.WatchJournals(pb.WatchJournalsRequest(after_ledger_seq=ids[0].ledger_seq))
    replayed = await _next(call)
    assert [j.ledger_seq for j in replayed.journals] == [ids[1].ledger_seq, ids[2].ledger_seq]
    # The follower posts its batches from a worker thread: the commit there wakes the watch.
    draft = JournalDraft(
        idempotency_key="mkt:mkt-9",
        mandate_id="BAL-USD",
        kind=JournalKind.SUBSCRIPTION,
        effective_date=DAY,
        sim_time=dt.datetime(2020, 3, 2, 23, tzinfo=dt.UTC),
        memo="subscription",
        postings=(
            Posting("Assets:Cash:USD", Decimal("5.00"), "USD", base_amount=Decimal("5.00")),
            Posting("Equity:Capital:USD", Decimal("-5.00"), "USD", base_amount=Decimal("-5.00")),
        ),
        source_event_id="mkt-9",
    )
    [result] = await asyncio.to_thread(ledger.store.post, [draft], open_missing=True)
    live = await _next(call)
    assert [(j.ledger_seq, j.source_event_id) for j in live.journals] == [
        (result.journal.ledger_seq, "mkt-9")
    ]
    call.cancel()


async def test_filters_by_mandate_account_prefix_and_kind(ledger: Ledger) -> None:
    eur = ledger.stub.WatchJournals(pb.WatchJournalsRequest(mandate_id="EQ-EUR"))
    cash = ledger.stub.WatchJournals(pb.WatchJournalsRequest(account_prefix="Assets:Cash:EUR"))
    reversals = ledger.stub.WatchJournals(pb.WatchJournalsRequest(kind=pb.JOURNAL_KIND_REVERSAL))
    await _waiting(ledger, 3)
    usd = await ledger.stub.PostJournal(_subscription("u-1", "10.00"))
    euro = await ledger.stub.PostJournal(_subscription("e-1", "20.00", "EQ-EUR", "EUR"))
    reversal = await ledger.stub.ReverseJournal(
        pb.ReverseJournalRequest(journal_id=usd.journal.journal_id, reason="typo")
    )
    assert [j.journal_id for j in (await _next(eur)).journals] == [euro.journal.journal_id]
    assert [j.journal_id for j in (await _next(cash)).journals] == [euro.journal.journal_id]
    seen = await _next(reversals)
    assert [j.journal_id for j in seen.journals] == [reversal.reversal.journal_id]
    assert seen.head_ledger_seq == reversal.reversal.ledger_seq
    for call in (eur, cash, reversals):
        call.cancel()
    await _waiting(ledger, 0)


async def test_the_trial_balance_is_sent_now_then_again_when_a_journal_changes_it(ledger: Ledger) -> None:
    await ledger.stub.PostJournal(_subscription("s-1", "100.00"))
    call = ledger.stub.WatchTrialBalance(pb.WatchTrialBalanceRequest(mandate_id="BAL-USD"))
    now = await _next(call)
    assert (now.mandate_id, now.balanced, now.journal_count) == ("BAL-USD", True, 1)
    await _waiting(ledger, 1)
    # Another mandate's journal wakes the watch but changes nothing it shows: nothing is sent.
    await ledger.stub.PostJournal(_subscription("e-1", "20.00", "EQ-EUR", "EUR"))
    await ledger.stub.PostJournal(_subscription("s-2", "50.00"))
    changed = await _next(call)
    assert changed.journal_count == 2
    cash = next(line for line in changed.lines if line.account == "Assets:Cash:USD")
    assert cash.balance.amount.value == "150.00"
    assert changed.as_of_ledger_seq == 3
    call.cancel()
    await _waiting(ledger, 0)


async def test_bad_filters_are_invalid_naming_each_field_and_unknown_mandates_not_found(
    ledger: Ledger,
) -> None:
    said = await refusal(
        ledger.stub.WatchJournals(
            pb.WatchJournalsRequest(account_prefix="Cash:USD", kind=99, mandate_id="M" * 300)
        ).read(),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(said.violations) == {"account_prefix", "kind", "mandate_id"}
    assert "Assets, Liabilities, Equity, Income, Expenses" in said.violations["account_prefix"]
    said = await refusal(
        ledger.stub.WatchJournals(pb.WatchJournalsRequest(mandate_id="NOPE")).read(),
        grpc.StatusCode.NOT_FOUND,
    )
    assert said.message == "unknown mandate 'NOPE'; known: BAL-USD, EQ-EUR"
    said = await refusal(
        ledger.stub.WatchJournals(pb.WatchJournalsRequest(after_ledger_seq=5)).read(),
        grpc.StatusCode.OUT_OF_RANGE,
    )
    assert said.violations == {"after_ledger_seq": "at most 0"} and said.metadata == {"head": "0"}
    said = await refusal(
        ledger.stub.WatchTrialBalance(pb.WatchTrialBalanceRequest()).read(), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert set(said.violations) == {"mandate_id"}
    await refusal(
        ledger.stub.WatchTrialBalance(pb.WatchTrialBalanceRequest(mandate_id="NOPE")).read(),
        grpc.StatusCode.NOT_FOUND,
    )
    assert ledger.servicer.watchers.waiting == 0


async def test_a_draining_ledger_ends_each_watch_saying_where_to_resume(ledger: Ledger) -> None:
    posted = await ledger.stub.PostJournal(_subscription("s-1", "100.00"))
    journals = ledger.stub.WatchJournals(pb.WatchJournalsRequest())
    balance = ledger.stub.WatchTrialBalance(pb.WatchTrialBalanceRequest(mandate_id="BAL-USD"))
    await _next(balance)
    await _waiting(ledger, 2)
    ledger.servicer.close()
    said = await refusal(journals.read(), grpc.StatusCode.UNAVAILABLE)
    assert f"watch again with after_ledger_seq={posted.journal.ledger_seq}" in said.message
    said = await refusal(balance.read(), grpc.StatusCode.UNAVAILABLE)
    assert "ledger is shutting down" in said.message
    await refusal(ledger.stub.WatchJournals(pb.WatchJournalsRequest()).read(), grpc.StatusCode.UNAVAILABLE)
