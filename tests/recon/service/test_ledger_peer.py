"""recon's LedgerPeer against a scripted ledger on a real port (a grpc.aio server in process).

A day-end check waits for the ledger as long as it takes (pausing 0.5 s doubling to 10 s), says why
on health meanwhile and takes it back once the ledger answers; it ends at once when recon stops. An
on-demand check asks once and says why not. A suspense journal is posted once the ledger answers,
the same request every time (so the same effective date and idempotency key: the break's and its
version).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import grpc
import grpc.aio
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from services.cli.registry import free_port
from services.common.status import abort
from services.common.stopping import Stopped
from services.recon.app import PEER_CHANNEL_OPTIONS
from services.recon.checker import DayEndChecker
from services.recon.domain.check import Reference
from services.recon.domain.followed import DayEnd, FollowedState
from services.recon.domain.records import Break, BreakKind, Comparison, Scope
from services.recon.domain.suspense import due_journal
from services.recon.peers import ledger as ledger_peer
from services.recon.peers.ledger import LedgerPeer, LedgerUnavailable, reconnection
from tests.recon.builders import BREAK_DAY, CONFIG, M, a_break

DAY_END = DayEnd(
    seq=100,
    date=dt.date(2024, 3, 13),
    sim_time=dt.datetime(2024, 3, 13, 23, 59, tzinfo=dt.UTC),
    event_id="mkt-100",
)
RESTARTING = "the ledger is restarting"
WAITING_100 = "waiting for the ledger to book market seq 100"

Answer = Callable[[object, grpc.aio.ServicerContext], Awaitable[object]]


async def unavailable(request: object, context: grpc.aio.ServicerContext) -> object:
    await context.abort(grpc.StatusCode.UNAVAILABLE, RESTARTING)


async def never(request: object, context: grpc.aio.ServicerContext) -> object:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def booked_at(seq: int) -> Answer:
    async def answer(request: object, context: grpc.aio.ServicerContext) -> object:
        assert isinstance(request, ledger_pb2.GetBalancesRequest)
        cash = ledger_pb2.AccountBalance(
            account="Assets:Cash:USD",
            balance=common_pb2.Money(amount=common_pb2.Decimal(value="10"), currency="USD"),
        )
        return ledger_pb2.GetBalancesResponse(mandate_id=request.mandate_id, balances=[cash], market_seq=seq)

    return answer


def posted(journal_id: str) -> Answer:
    async def answer(request: object, context: grpc.aio.ServicerContext) -> object:
        return ledger_pb2.PostJournalResponse(journal=ledger_pb2.Journal(journal_id=journal_id))

    return answer


def refused(code: grpc.StatusCode, **metadata: str) -> Answer:
    async def answer(request: object, context: grpc.aio.ServicerContext) -> object:
        await abort(context, code, f"refused: {code.name}", reason=code.name, metadata=metadata)

    return answer


class ScriptedLedger(ledger_pb2_grpc.LedgerServiceServicer):
    """Answers each call with the next answer of its script (then `then`), and keeps the requests."""

    def __init__(self) -> None:
        self.balances: list[Answer] = []
        self.posts: list[Answer] = []
        self.then_balances: Answer = booked_at(DAY_END.seq)
        self.then_posts: Answer = posted("J-1")
        self.balance_requests: list[ledger_pb2.GetBalancesRequest] = []
        self.post_requests: list[ledger_pb2.PostJournalRequest] = []

    async def GetBalances(  # type: ignore[override]
        self, request: ledger_pb2.GetBalancesRequest, context: grpc.aio.ServicerContext
    ) -> object:
        self.balance_requests.append(request)
        return await (self.balances.pop(0) if self.balances else self.then_balances)(request, context)

    async def PostJournal(  # type: ignore[override]
        self, request: ledger_pb2.PostJournalRequest, context: grpc.aio.ServicerContext
    ) -> object:
        self.post_requests.append(request)
        return await (self.posts.pop(0) if self.posts else self.then_posts)(request, context)


class Health:
    """What serve.HealthControl hears from the peer."""

    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    async def backend_down(self, backend: str, reason: str) -> None:
        self.events.append(("down", backend, reason))

    async def backend_up(self, backend: str) -> None:
        self.events.append(("up", backend))


@contextlib.asynccontextmanager
async def ledger_on(address: str) -> AsyncIterator[ScriptedLedger]:
    scripted = ScriptedLedger()
    server = grpc.aio.server()
    ledger_pb2_grpc.add_LedgerServiceServicer_to_server(scripted, server)
    server.add_insecure_port(address)
    await server.start()
    try:
        yield scripted
    finally:
        await server.stop(None)


@contextlib.asynccontextmanager
async def peer_of(
    address: str, *, reconnect: bool = False, **options: float
) -> AsyncIterator[tuple[LedgerPeer, Health, asyncio.Event]]:
    """A peer as recon's app makes it (reconnect: its pauses end when the channel connects again)."""
    async with grpc.aio.insecure_channel(address, options=PEER_CHANNEL_OPTIONS) as channel:
        stopping, health = asyncio.Event(), Health()
        options = {"retry_initial_s": 0.01, "retry_max_s": 0.02, **options}
        yield (
            LedgerPeer(
                ledger_pb2_grpc.LedgerServiceStub(channel),
                stopping,
                health=health,
                reconnected=reconnection(channel) if reconnect else None,
                **options,
            ),
            health,
            stopping,
        )


@pytest.fixture
def address() -> str:
    return f"127.0.0.1:{free_port('127.0.0.1')}"


def cash_break(**changes: object) -> Break:
    fields: dict[str, object] = {
        "kind": BreakKind.CASH_MISMATCH,
        "comparison": Comparison.LEDGER_VS_CUSTODIAN,
        "scope": Scope.CASH,
        "currency": "USD",
        "amount_difference": Decimal("-12.34"),
        "age_business_days": 3,
        "first_seen_date": BREAK_DAY - dt.timedelta(days=5),
        **changes,
    }
    return a_break("BRK-1", **fields)


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


# ---------------------------------------------------------------- a day-end check waits


async def test_a_day_end_check_waits_until_the_ledger_has_booked_it_and_says_why_meanwhile(
    address: str,
) -> None:
    async with ledger_on(address) as ledger, peer_of(address) as (peer, health, _):
        ledger.balances = [unavailable, unavailable, booked_at(99), booked_at(100)]
        found = await peer.balances(DAY_END, [M])
    assert {m: [b.account for b in lines] for m, lines in found.items()} == {M: ["Assets:Cash:USD"]}
    # Every ask is for the day end's date once the ledger has booked its seq.
    assert [(r.mandate_id, r.min_market_seq, r.as_of) for r in ledger.balance_requests] == [
        (M, 100, common_pb2.Date(year=2024, month=3, day=13))
    ] * 4
    # NOT_SERVING with what recon waits for and what the ledger answered (once per new reason), then back.
    assert health.events == [
        ("down", "ledger", f"{WAITING_100}: the ledger answered UNAVAILABLE: {RESTARTING}"),
        ("down", "ledger", f"{WAITING_100}: the ledger has booked market seq 99 so far"),
        ("up", "ledger"),
    ]
    assert not peer.waiting.is_set() and peer.waiting_for == ""


async def test_a_ledger_that_answers_at_once_is_not_reported(address: str) -> None:
    async with ledger_on(address) as ledger, peer_of(address) as (peer, health, _):
        found = await peer.balances(DAY_END, [M, "EQ-JPY"])
    assert sorted(found) == [M, "EQ-JPY"] and len(ledger.balance_requests) == 2
    assert health.events == []


async def test_the_pause_between_asks_doubles_from_half_a_second_to_ten(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []

    async def no_pause(stopping: asyncio.Event, seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(ledger_peer, "pause", no_pause)
    async with ledger_on(address) as ledger, grpc.aio.insecure_channel(address) as channel:
        peer = LedgerPeer(ledger_pb2_grpc.LedgerServiceStub(channel), asyncio.Event())
        ledger.balances = [unavailable] * 8
        await peer.balances(DAY_END, [M])
        assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
        # A later wait starts from half a second again.
        pauses.clear()
        ledger.balances = [unavailable] * 2
        await peer.balances(DAY_END, [M])
        assert pauses == [0.5, 1.0]


async def test_a_ledger_that_starts_after_recon_is_asked_as_soon_as_it_listens(address: str) -> None:
    # A pause of a minute between asks: the channel connecting again ends it.
    async with peer_of(address, reconnect=True, retry_initial_s=60) as (peer, health, _):
        asking = asyncio.create_task(peer.balances(DAY_END, [M]))
        await until(lambda: health.events)
        [(down, backend, reason)] = health.events
        assert (down, backend) == ("down", "ledger")
        assert reason.startswith(f"{WAITING_100}: the ledger answered UNAVAILABLE: ")
        assert not asking.done()
        async with ledger_on(address):
            async with asyncio.timeout(20):
                found = await asking
        assert list(found) == [M] and health.events[-1] == ("up", "ledger")


async def test_a_connected_ledger_that_answers_unavailable_is_asked_after_each_pause_only(
    address: str,
) -> None:
    async with (
        ledger_on(address) as ledger,
        peer_of(address, reconnect=True, retry_initial_s=0.25, retry_max_s=0.25) as (peer, _, stopping),
    ):
        ledger.then_balances = unavailable  # the ledger itself answers: its channel stays connected
        asking = asyncio.create_task(peer.balances(DAY_END, [M]))
        await asyncio.sleep(1.0)
        stopping.set()
        with pytest.raises(Stopped):
            await asking
    # At 0, 0.25, 0.5, 0.75 and 1.0 s at most; not in a loop.
    assert 2 <= len(ledger.balance_requests) <= 5


async def test_a_wait_on_a_call_the_ledger_never_answers_ends_at_once_when_recon_stops(address: str) -> None:
    async with ledger_on(address) as ledger, peer_of(address, wait_s=600) as (peer, _, stopping):
        ledger.balances = [never]
        asking = asyncio.create_task(peer.balances(DAY_END, [M]))
        await until(lambda: ledger.balance_requests)
        stopping.set()
        async with asyncio.timeout(5):
            with pytest.raises(Stopped):
                await asking


async def test_a_wait_between_asks_ends_at_once_when_recon_stops(address: str) -> None:
    async with (
        ledger_on(address) as ledger,
        peer_of(address, retry_initial_s=600) as (peer, health, stopping),
    ):
        ledger.then_balances = unavailable
        asking = asyncio.create_task(peer.balances(DAY_END, [M]))
        await until(lambda: health.events)
        stopping.set()
        async with asyncio.timeout(5):
            with pytest.raises(Stopped):
                await asking
        assert len(ledger.balance_requests) == 1
        # Nothing asked once recon stops.
        with pytest.raises(Stopped):
            await peer.balances(DAY_END, [M])
        assert len(ledger.balance_requests) == 1


# ---------------------------------------------------------------- an on-demand check asks once


async def test_an_on_demand_check_asks_once_and_says_why_the_ledger_cannot_answer(address: str) -> None:
    async with ledger_on(address) as ledger, peer_of(address) as (peer, health, _):
        ledger.balances = [unavailable, booked_at(99), booked_at(100)]
        with pytest.raises(LedgerUnavailable) as down:
            await peer.balances_now(DAY_END, [M])
        with pytest.raises(LedgerUnavailable) as behind:
            await peer.balances_now(DAY_END, [M])
        found = await peer.balances_now(DAY_END, [M])
    assert (down.value.reason, down.value.code) == (
        f"the ledger cannot answer for market seq 100: the ledger answered UNAVAILABLE: {RESTARTING}",
        "UNAVAILABLE",
    )
    assert (behind.value.reason, behind.value.code) == (
        "the ledger cannot answer for market seq 100: the ledger has booked market seq 99 so far",
        "",
    )
    assert list(found) == [M] and len(ledger.balance_requests) == 3
    assert health.events == []  # a refused on-demand check is the caller's answer, not recon's health


async def test_an_on_demand_check_is_refused_at_once_while_a_day_end_check_waits(address: str) -> None:
    async with ledger_on(address) as ledger, peer_of(address, retry_initial_s=600) as (peer, _, stopping):
        ledger.then_balances = unavailable
        day_end = asyncio.create_task(peer.balances(DAY_END, [M]))
        await until(peer.waiting.is_set)
        with pytest.raises(LedgerUnavailable) as refused_now:
            await peer.balances_now(DAY_END, [M])
        assert len(ledger.balance_requests) == 1  # not asked again
        assert refused_now.value.reason == f"{WAITING_100}: the ledger answered UNAVAILABLE: {RESTARTING}"
        assert refused_now.value.code == "UNAVAILABLE"
        stopping.set()
        with pytest.raises(Stopped):
            await day_end


class NoMarket:
    """market's books at a day end: none (an on-demand check then records nothing)."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    async def snapshot(self, seq: int) -> None:
        self.asked.append(seq)


def checker_of(peer: LedgerPeer, market: NoMarket) -> DayEndChecker:
    # The store and the event log are never reached: no snapshot, nothing to commit.
    return DayEndChecker(None, None, market, peer, Reference({}, {}), CONFIG)  # type: ignore[arg-type]


async def test_an_on_demand_check_behind_a_day_end_check_is_refused_once_that_one_waits(address: str) -> None:
    released = asyncio.Event()

    async def slow_then_unavailable(request: object, context: grpc.aio.ServicerContext) -> object:
        await released.wait()
        return await unavailable(request, context)

    async with ledger_on(address) as ledger, peer_of(address, retry_initial_s=600) as (peer, _, stopping):
        market = NoMarket()
        checker = checker_of(peer, market)
        ledger.balances = [slow_then_unavailable]
        ledger.then_balances = unavailable

        async def day_end_check() -> None:
            async with checker.lock:  # as DayEndChecker.day_end holds it around its check
                await peer.balances(DAY_END, [M])

        day_end = asyncio.create_task(day_end_check())
        await until(lambda: ledger.balance_requests)
        on_demand = asyncio.create_task(checker.on_demand(FollowedState(), DAY_END, None))
        await asyncio.sleep(0.05)
        assert not on_demand.done()  # behind the day-end check, which has not started waiting yet
        released.set()
        with pytest.raises(LedgerUnavailable) as refused_now:
            async with asyncio.timeout(5):
                await on_demand
        assert refused_now.value.reason.startswith(WAITING_100)
        assert market.asked == []  # nothing checked
        assert checker.lock.locked()  # still the day-end check's
        stopping.set()
        with pytest.raises(Stopped):
            await day_end
        assert not checker.lock.locked()


async def test_an_on_demand_check_behind_a_day_end_check_that_answers_runs_after_it(address: str) -> None:
    async with ledger_on(address), peer_of(address) as (peer, _, _):
        market = NoMarket()
        checker = checker_of(peer, market)
        await checker.lock.acquire()  # a day-end check in progress
        on_demand = asyncio.create_task(checker.on_demand(FollowedState(), DAY_END, None))
        await asyncio.sleep(0.05)
        assert not on_demand.done() and market.asked == []
        checker.lock.release()
        async with asyncio.timeout(5):
            assert await on_demand == ()
        assert market.asked == [100] and not checker.lock.locked()


# ---------------------------------------------------------------- suspense journals


def posting(brk: Break):  # type: ignore[no-untyped-def]
    journal = due_journal(brk, CONFIG, DAY_END.date)
    assert journal is not None
    return journal


async def test_a_suspense_journal_is_posted_once_the_ledger_answers_with_the_same_request(
    address: str,
) -> None:
    brk = cash_break()
    async with ledger_on(address) as ledger, peer_of(address) as (peer, health, _):
        ledger.posts = [unavailable, unavailable, posted("J-7")]
        journal_id = await peer.post_journal(brk, posting(brk), "")
    assert journal_id == "J-7"
    first, *again = ledger.post_requests
    assert again == [first, first]  # the same journal, so the ledger's idempotency holds
    assert first.idempotency_key == "recon:suspense:BRK-1:v1"
    assert first.effective_date == common_pb2.Date(year=2024, month=3, day=13)  # the day end that made it due
    # custodian minus ledger is -12.34: the ledger's cash comes down to the custodian's, suspense takes it
    assert [(p.account, p.amount.amount.value) for p in first.postings] == [
        ("Assets:Cash:USD", "-12.34"),
        ("Assets:Suspense:USD", "12.34"),
    ]
    assert (first.kind, list(first.caused_by), first.posted_by) == (
        ledger_pb2.JOURNAL_KIND_SUSPENSE,
        ["BRK-1"],
        "recon",
    )
    assert health.events == [
        (
            "down",
            "ledger",
            "waiting for the ledger to post recon:suspense:BRK-1:v1: "
            f"the ledger answered UNAVAILABLE: {RESTARTING}",
        ),
        ("up", "ledger"),
    ]


async def test_a_suspense_journal_the_ledger_refuses_is_not_waited_for(address: str) -> None:
    brk = cash_break()
    async with ledger_on(address) as ledger, peer_of(address) as (peer, health, _):
        ledger.posts = [refused(grpc.StatusCode.INVALID_ARGUMENT)]
        assert await peer.post_journal(brk, posting(brk), "") == ""
        ledger.posts = [refused(grpc.StatusCode.ALREADY_EXISTS, journal_id="J-0")]
        assert await peer.post_journal(brk, posting(brk), "") == "J-0"
    assert len(ledger.post_requests) == 2 and health.events == []


async def test_a_suspense_journal_of_an_on_demand_check_is_tried_once(address: str) -> None:
    brk = cash_break()
    async with ledger_on(address) as ledger, peer_of(address) as (peer, health, _):
        ledger.posts = [unavailable]
        assert await peer.post_journal(brk, posting(brk), "", wait=False) == ""
    assert len(ledger.post_requests) == 1 and health.events == []
