"""GetBalances answers kept for the day-end askers (services/ledger/kept_answers.py), through a real
in-process server: a kept answer is served only while the books it was read from stand; a journal
posted, a period closed or a request naming accounts is read afresh."""

from __future__ import annotations

import datetime as dt

import grpc

from opsuite.ledger.v1 import ledger_pb2 as pb
from services.common.convert import date_to_proto
from services.ledger.domain.records import Account
from services.ledger.kept_answers import KeptAnswers
from tests.ledger.service.test_closed_period import FIRST, HORIZON, Ledger, _subscription, ledger
from tests.support.refusals import refusal

__all__ = ["ledger"]  # the fixture, shared with the closed-period tests

MANDATE = "BAL-USD"


def _whole(as_of: dt.date) -> pb.GetBalancesRequest:
    return pb.GetBalancesRequest(mandate_id=MANDATE, as_of=date_to_proto(as_of))


def _cash(answer: pb.GetBalancesResponse) -> str:
    return next(b.balance.amount.value for b in answer.balances if b.account == "Assets:Cash:USD")


async def test_a_second_ask_of_the_same_books_is_the_kept_answer_and_a_posting_is_seen_at_once(
    ledger: Ledger,
) -> None:
    day = FIRST + dt.timedelta(weeks=2)
    for week in range(3):
        await ledger.stub.PostJournal(_subscription(f"w{week}", FIRST + dt.timedelta(weeks=week)))
    kept = ledger.servicer.kept_answers
    first = await ledger.stub.GetBalances(_whole(day))
    again = await ledger.stub.GetBalances(_whole(day))
    assert (kept.misses, kept.hits) == (1, 1)
    assert again == first and _cash(first) == "300.00"  # three subscriptions of 100.00 up to the day
    # A journal dated on the day changes the books: the next answer has it.
    await ledger.stub.PostJournal(_subscription("late", day, "25.00"))
    after = await ledger.stub.GetBalances(_whole(day))
    assert _cash(after) == "325.00" and after.market_seq == first.market_seq
    assert (kept.misses, kept.hits) == (2, 1)
    # One dated after it changes the books but not the day's balances: read again, the same lines.
    await ledger.stub.PostJournal(_subscription("later", day + dt.timedelta(days=1), "5.00"))
    assert (await ledger.stub.GetBalances(_whole(day))).balances == after.balances
    assert (kept.misses, kept.hits) == (3, 1)


async def test_a_journal_of_another_mandate_leaves_the_kept_answer_standing(ledger: Ledger) -> None:
    await ledger.stub.PostJournal(_subscription("w0", FIRST))
    kept = ledger.servicer.kept_answers
    first = await ledger.stub.GetBalances(_whole(FIRST))
    other = _subscription("fi", FIRST, "70.00")
    other.mandate_id = "FI-USD"
    await ledger.stub.PostJournal(other)
    assert await ledger.stub.GetBalances(_whole(FIRST)) == first
    assert (kept.misses, kept.hits) == (1, 1)  # kept: BAL-USD's books did not move
    # FI-USD's own answer has its journal; BAL-USD's next journal is seen at once.
    fi = await ledger.stub.GetBalances(pb.GetBalancesRequest(mandate_id="FI-USD", as_of=date_to_proto(FIRST)))
    assert _cash(fi) == "70.00"
    await ledger.stub.PostJournal(_subscription("w0-late", FIRST, "1.00"))
    assert _cash(await ledger.stub.GetBalances(_whole(FIRST))) == "101.00"
    assert (kept.misses, kept.hits) == (3, 1)


async def test_a_period_closed_after_an_answer_was_kept_refuses_the_ask(ledger: Ledger) -> None:
    for week in range(6):
        await ledger.stub.PostJournal(_subscription(f"w{week}", FIRST + dt.timedelta(weeks=week)))
    before_horizon = HORIZON - dt.timedelta(days=1)
    assert _cash(await ledger.stub.GetBalances(_whole(before_horizon))) == "400.00"
    assert ledger.store.close_period(HORIZON, keep_days=20) is not None
    said = await refusal(ledger.stub.GetBalances(_whole(before_horizon)), grpc.StatusCode.FAILED_PRECONDITION)
    assert said.reason == "PERIOD_CLOSED"


async def test_a_request_naming_accounts_sees_an_account_opened_without_a_journal(ledger: Ledger) -> None:
    await ledger.stub.PostJournal(_subscription("w0", FIRST))
    named = pb.GetBalancesRequest(
        mandate_id=MANDATE, accounts=["Assets:Cash:EUR"], as_of=date_to_proto(FIRST)
    )
    await refusal(ledger.stub.GetBalances(named), grpc.StatusCode.NOT_FOUND)
    # Opening an account posts no journal, so the books' last_seq stands; the named ask still sees it.
    ledger.store.open_accounts([Account(MANDATE, "Assets:Cash:EUR", "EUR", FIRST)])
    answer = await ledger.stub.GetBalances(named)
    assert [(b.account, b.balance.amount.value) for b in answer.balances] == [("Assets:Cash:EUR", "0.00")]
    assert (ledger.servicer.kept_answers.hits, ledger.servicer.kept_answers.misses) == (0, 0)


def test_the_least_recently_used_answer_goes_first_and_other_books_are_never_served() -> None:
    kept = KeptAnswers(size=2)
    books = (7, None)
    kept.keep(("A", FIRST), books, b"a")
    kept.keep(("B", FIRST), books, b"b")
    assert kept.get(("A", FIRST), books) == b"a"  # A is now the most recently used
    kept.keep(("C", FIRST), books, b"c")
    assert kept.get(("B", FIRST), books) is None  # B went
    assert kept.get(("A", FIRST), books) == b"a"
    assert kept.get(("A", FIRST), (8, None)) is None  # a journal posted since
    assert kept.get(("A", FIRST), (7, HORIZON)) is None  # a period closed since
    assert (kept.hits, kept.misses) == (2, 3)
