"""A closed period through a real in-process server and client: what the ledger answers about dates
before the horizon of a period close (OPSUITE_LEDGER_KEEP_DAYS), and that it writes nothing there."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import grpc
import grpc.aio
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2 as pb
from opsuite.ledger.v1 import ledger_pb2_grpc
from services.common.convert import date_to_proto
from services.ledger.server import LedgerContext, LedgerServicer, register
from services.ledger.store import LedgerStore, open_store
from tests.support.refusals import refusal

FIRST = dt.date(2020, 2, 3)
HORIZON = dt.date(2020, 3, 2)
TODAY = dt.date(2020, 3, 31)
CLOSED = "the ledger closed the period before 2020-03-02 (OPSUITE_LEDGER_KEEP_DAYS keeps 20 business days); "


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
            base_currencies={"BAL-USD": "USD", "FI-USD": "USD"},
            rates=lambda mandate, base: lambda currency: Decimal(1),
            today=lambda: TODAY,
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
        await server.stop(None)
        store.close()


def _subscription(key: str, day: dt.date, amount: str = "100.00") -> pb.PostJournalRequest:
    def money(value: str) -> common_pb2.Money:
        return common_pb2.Money(amount=common_pb2.Decimal(value=value), currency="USD")

    return pb.PostJournalRequest(
        idempotency_key=key,
        mandate_id="BAL-USD",
        kind=pb.JOURNAL_KIND_SUBSCRIPTION,
        effective_date=date_to_proto(day),
        memo="subscription",
        postings=[
            pb.Posting(account="Assets:Cash:USD", amount=money(amount)),
            pb.Posting(account="Equity:Capital:USD", amount=money(f"-{amount}")),
        ],
    )


async def _closed_ledger(ledger: Ledger) -> dict[str, str]:
    """Journals every week from FIRST, one of them (before the horizon) reversed; then the close.
    Returns key -> journal id of what was posted."""
    ids: dict[str, str] = {}
    for week in range(9):
        day = FIRST + dt.timedelta(weeks=week)
        ids[f"w{week}"] = (await ledger.stub.PostJournal(_subscription(f"w{week}", day))).journal.journal_id
    reversed_ = await ledger.stub.ReverseJournal(
        pb.ReverseJournalRequest(journal_id=ids["w1"], reason="wrong")
    )
    ids["reversal"] = reversed_.reversal.journal_id  # dated today: kept
    result = ledger.store.close_period(HORIZON, keep_days=20)
    assert result is not None and result.journals == 4  # w0 .. w3
    return ids


async def test_a_journal_dated_before_the_horizon_is_refused_and_nothing_is_written(ledger: Ledger) -> None:
    await _closed_ledger(ledger)
    before = await ledger.stub.GetTrialBalance(pb.GetTrialBalanceRequest(mandate_id="BAL-USD"))
    said = await refusal(
        ledger.stub.PostJournal(_subscription("late", HORIZON - dt.timedelta(days=1))),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert said.message == CLOSED + (
        "journal 'late' dated 2020-03-01 cannot be posted into it: date it 2020-03-02 or later. Nothing was written."
    )
    assert said.reason == "PERIOD_CLOSED"
    assert said.violations == {"effective_date": "before 2020-03-02, the first date kept"}
    assert said.metadata == {"closed_before": "2020-03-02", "keep_days": "20"}
    # A retry of a journal the close deleted: refused by its date, never posted twice.
    retry = await refusal(
        ledger.stub.PostJournal(_subscription("w0", FIRST)), grpc.StatusCode.FAILED_PRECONDITION
    )
    assert retry.message.startswith(CLOSED + "journal 'w0' dated 2020-02-03 cannot be posted into it")
    assert await ledger.stub.GetTrialBalance(pb.GetTrialBalanceRequest(mandate_id="BAL-USD")) == before
    # On the horizon the period is open.
    posted = await ledger.stub.PostJournal(_subscription("on-time", HORIZON))
    assert not posted.replayed


async def test_balances_before_the_horizon_are_refused_naming_the_first_date_kept(ledger: Ledger) -> None:
    await _closed_ledger(ledger)
    day_before = date_to_proto(HORIZON - dt.timedelta(days=1))
    for call in (
        ledger.stub.GetBalances(pb.GetBalancesRequest(mandate_id="BAL-USD", as_of=day_before)),
        ledger.stub.GetTrialBalance(pb.GetTrialBalanceRequest(mandate_id="BAL-USD", as_of=day_before)),
    ):
        said = await refusal(call, grpc.StatusCode.FAILED_PRECONDITION)
        assert (
            said.message
            == CLOSED + "balances as of 2020-03-01 are no longer kept: ask as of 2020-03-02 or later"
        )
        assert (said.reason, said.violations) == (
            "PERIOD_CLOSED",
            {"as_of": "before 2020-03-02, the first date kept"},
        )
    # As of the horizon: the five weekly subscriptions up to it (the reversal is dated today), balanced.
    trial = await ledger.stub.GetTrialBalance(
        pb.GetTrialBalanceRequest(mandate_id="BAL-USD", as_of=date_to_proto(HORIZON))
    )
    assert trial.balanced and trial.journal_count == 5
    cash = await ledger.stub.GetBalances(
        pb.GetBalancesRequest(
            mandate_id="BAL-USD", accounts=["Assets:Cash:USD"], as_of=date_to_proto(HORIZON)
        )
    )
    assert [b.balance.amount.value for b in cash.balances] == ["500.00"]
    now = await ledger.stub.GetTrialBalance(pb.GetTrialBalanceRequest(mandate_id="BAL-USD"))
    assert now.balanced and now.journal_count == 10  # nine subscriptions and the reversal, as booked


async def test_the_ledger_lists_what_it_keeps_and_refuses_a_range_reaching_before_it(ledger: Ledger) -> None:
    ids = await _closed_ledger(ledger)
    listed = await ledger.stub.GetLedger(pb.GetLedgerRequest(mandate_id="BAL-USD"))
    assert [j.journal_id for j in listed.journals] == [ids[f"w{n}"] for n in range(4, 9)] + [ids["reversal"]]
    by_kind = await ledger.stub.GetLedger(pb.GetLedgerRequest(kind=pb.JOURNAL_KIND_REVERSAL))
    assert [j.journal_id for j in by_kind.journals] == [ids["reversal"]]
    from_horizon = await ledger.stub.GetLedger(
        pb.GetLedgerRequest(dates=common_pb2.DateRange(start=date_to_proto(HORIZON)))
    )
    assert from_horizon.journals == listed.journals
    said = await refusal(
        ledger.stub.GetLedger(
            pb.GetLedgerRequest(
                dates=common_pb2.DateRange(start=date_to_proto(FIRST), end=date_to_proto(TODAY))
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert said.message == CLOSED + (
        "the journals before it are deleted (balances from it on stay exact), so no listing can start at"
        " 2020-02-03: 2020-03-02 is the first date kept"
    )
    assert (said.reason, said.violations) == (
        "PERIOD_CLOSED",
        {"dates.start": "before 2020-03-02, the first date kept"},
    )


async def test_reversing_a_journal_of_the_closed_period_is_not_found_naming_the_close(ledger: Ledger) -> None:
    ids = await _closed_ledger(ledger)
    said = await refusal(
        ledger.stub.ReverseJournal(pb.ReverseJournalRequest(journal_id=ids["w0"], reason="late")),
        grpc.StatusCode.NOT_FOUND,
    )
    assert said.message == (
        f"no journal '{ids['w0']}'; GetLedger lists the journals there are. The ledger closed the period"
        " before 2020-03-02 (OPSUITE_LEDGER_KEEP_DAYS keeps 20 business days) and keeps no journal dated before it"
    )
    assert (said.reason, said.metadata) == ("JOURNAL_NOT_FOUND", {"closed_before": "2020-03-02"})
    # A retried reversal whose original is gone: not reversed twice, and the kept reversal is named.
    again = await refusal(
        ledger.stub.ReverseJournal(pb.ReverseJournalRequest(journal_id=ids["w1"], reason="wrong")),
        grpc.StatusCode.NOT_FOUND,
    )
    assert again.message.endswith(f"; it was reversed by journal {ids['reversal']}, which is kept")
    assert again.metadata == {"closed_before": "2020-03-02", "reversed_by_journal_id": ids["reversal"]}
    reversals = await ledger.stub.GetLedger(pb.GetLedgerRequest(kind=pb.JOURNAL_KIND_REVERSAL))
    assert len(reversals.journals) == 1
    # A kept journal reverses as ever, on its own date or later.
    kept = await ledger.stub.ReverseJournal(
        pb.ReverseJournalRequest(journal_id=ids["w5"], reason="wrong", effective_date=date_to_proto(FIRST))
    )
    assert kept.reversal.effective_date == date_to_proto(FIRST + dt.timedelta(weeks=5))
