"""Redelivery (services/common/redelivery.py): what a failed delivery left owed is retried with
backoff until an attempt delivers it, with no commit to set it off; and stopping ends the retries."""

from __future__ import annotations

import asyncio

from services.common.redelivery import Redelivery

TIMEOUT_S = 10.0


class Peer:
    """A peer that refuses the first `refusals` attempts, then takes what is owed."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.attempts = 0
        self.delivered = asyncio.Event()

    async def attempt(self) -> bool:
        self.attempts += 1
        if self.attempts <= self.refusals:
            return False
        self.delivered.set()
        return True


async def test_a_failed_delivery_is_retried_until_it_succeeds() -> None:
    peer = Peer(refusals=3)
    redelivery = Redelivery("a test's items", peer.attempt, initial_s=0.001, max_s=0.004)
    stopping = asyncio.Event()
    task = asyncio.create_task(redelivery.run(stopping))
    redelivery.ask()  # the one ask a commit makes; the retries need no other
    await asyncio.wait_for(peer.delivered.wait(), TIMEOUT_S)
    assert (peer.attempts, redelivery.retries) == (4, 3)
    stopping.set()
    await asyncio.wait_for(task, TIMEOUT_S)
    assert peer.attempts == 4  # nothing owed: no attempt after the one that delivered


async def test_an_attempt_that_raises_is_retried_too() -> None:
    calls = 0
    done = asyncio.Event()

    async def attempt() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug in one attempt")
        done.set()
        return True

    redelivery = Redelivery("a test's items", attempt, initial_s=0.001)
    stopping = asyncio.Event()
    task = asyncio.create_task(redelivery.run(stopping))
    redelivery.ask()
    await asyncio.wait_for(done.wait(), TIMEOUT_S)
    stopping.set()
    await asyncio.wait_for(task, TIMEOUT_S)
    assert calls == 2


async def test_stopping_ends_the_retries_of_a_peer_that_never_takes_them() -> None:
    peer = Peer(refusals=10**9)
    redelivery = Redelivery("a test's items", peer.attempt, initial_s=0.001, max_s=0.002)
    stopping = asyncio.Event()
    task = asyncio.create_task(redelivery.run(stopping))
    redelivery.ask()
    while peer.attempts < 3:
        await asyncio.sleep(0)  # yields to the retries; the attempts count is the readiness
    stopping.set()
    await asyncio.wait_for(task, TIMEOUT_S)
    assert not peer.delivered.is_set()
