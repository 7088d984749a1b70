"""The consumer books several stream batches per transaction while market's head is ahead, on both
backends: the cursor moves only with the journals and state of the events up to it, a batch at the
head commits at once, and the books are those of one transaction per batch."""

from __future__ import annotations

import asyncio
import functools
import pathlib
from collections.abc import Callable

from opsuite.market.v1 import market_pb2
from services.ledger.consumer import BOOKED_KINDS, LedgerConsumer
from services.ledger.domain.retention import Retention
from services.ledger.domain.rules import LedgerBook
from services.ledger.store import LedgerStore, open_store
from tests.ledger.domain.sim_runs import simulated_run

BATCH = 120  # events per stream batch: a short run still gives a dozen batches


@functools.cache
def _stream(seed: int, days: int) -> tuple[list[list[market_pb2.MarketEvent]], Callable[[], LedgerBook]]:
    """A simulated run as the ledger's subscription delivers it: wire events in stream batches."""
    from services.market import codec

    run = simulated_run(seed, days, 1.0)
    wire = []
    for seq, event in enumerate(run.events(), start=1):
        message = codec.event_to_proto(event)
        message.envelope.seq = seq
        if message.envelope.kind.startswith(BOOKED_KINDS):
            wire.append(message)
    return [wire[i : i + BATCH] for i in range(0, len(wire), BATCH)], run.book


def _consumer(
    store: LedgerStore, head: int, per_commit: int, retention: Retention | None = None
) -> LedgerConsumer:
    _, book = _stream(7, 15)
    return LedgerConsumer(
        store,
        book,
        retention,
        batches_per_commit=per_commit,
        market_head=lambda: head,
    )


def _books(store: LedgerStore) -> dict[str, object]:
    mandates = sorted({a.mandate_id for a in store.accounts()})
    return {m: store.trial_balance(m, None) for m in mandates}


def _journals(store: LedgerStore) -> list[tuple[object, ...]]:
    from services.ledger.store import LedgerFilter

    journals = store.journals(LedgerFilter(), limit=100_000)
    return [(j.ledger_seq, j.draft.idempotency_key, j.draft.postings) for j in journals]


def test_batches_commit_together_while_behind_and_at_once_at_the_head(
    store: LedgerStore, tmp_path: pathlib.Path
) -> None:
    batches, _ = _stream(7, 15)
    head = batches[-1][-1].envelope.seq
    assert len(batches) >= 10
    consumer = _consumer(store, head, per_commit=4)
    cursors = []

    async def follow() -> None:
        for events in batches:
            consumer.apply(events)
            await consumer.save(events[-1].envelope.seq)
            cursors.append(store.load_cursor()[0])
            assert consumer.cursor == cursors[-1]  # what the follower acknowledges: the stored cursor

    asyncio.run(follow())
    ends = [events[-1].envelope.seq for events in batches]
    # Every fourth batch commits the three before it with it; the last is at the head: it commits at once.
    committed_at = [i for i in range(len(ends)) if (i + 1) % 4 == 0 or i == len(ends) - 1]
    assert cursors == [max((ends[c] for c in committed_at if c <= i), default=0) for i in range(len(ends))]
    assert store.load_cursor() == (head, consumer.book.to_json())

    # The same stream, one transaction per batch: the same journals, postings and balances.
    reference = open_store("", tmp_path / "one-by-one")
    try:
        single = _consumer(reference, head, per_commit=1)

        async def follow_single() -> None:
            for events in batches:
                single.apply(events)
                await single.save(events[-1].envelope.seq)
                assert reference.load_cursor()[0] == events[-1].envelope.seq

        asyncio.run(follow_single())
        assert _journals(store) == _journals(reference)
        assert _books(store) == _books(reference)
    finally:
        reference.close()


def test_flush_commits_the_batches_held_and_wakes_a_reader_waiting_for_them(store: LedgerStore) -> None:
    """What a stop does (app.py) and what a read with min_market_seq waits on (wait_for_cursor)."""
    batches, _ = _stream(7, 15)
    consumer = _consumer(store, head=10**9, per_commit=100)  # far behind: everything is held

    async def scenario() -> None:
        for events in batches[:3]:
            consumer.apply(events)
            await consumer.save(events[-1].envelope.seq)
        held = batches[2][-1].envelope.seq
        assert store.load_cursor()[0] == 0 and consumer.cursor == 0
        assert await consumer.wait_for_cursor(held, 0.05) == 0  # not committed: the wait times out
        reader = asyncio.create_task(consumer.wait_for_cursor(held, 10))
        consumer.apply(batches[3])  # half a batch: its save has not come
        await consumer.flush()
        assert store.load_cursor()[0] == 0  # nothing committed while a batch is half applied
        await consumer.save(batches[3][-1].envelope.seq)
        await consumer.flush()
        assert store.load_cursor()[0] == batches[3][-1].envelope.seq
        assert await reader == batches[3][-1].envelope.seq

    asyncio.run(scenario())


def test_a_close_never_takes_journals_held_for_the_next_commit(store: LedgerStore) -> None:
    """The app asks for a close every few seconds, between batches: it counts from the date committed,
    not from the date the rules have reached, or the held journals would land in a closed period."""
    batches, _ = _stream(7, 15)
    head = batches[-1][-1].envelope.seq
    consumer = _consumer(store, head, per_commit=3, retention=Retention(1))

    async def follow() -> None:
        for events in batches:
            consumer.apply(events)
            await consumer.save(events[-1].envelope.seq)
            await consumer.close_when_due()  # as LedgerRuntime._close_when_due does

    asyncio.run(follow())
    assert store.load_cursor()[0] == head
    assert consumer.journals_posted > 0 and store.closed_period().closed_before is not None
