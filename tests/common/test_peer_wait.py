"""PeerWait: a day end's ask of a peer, repeated until it answers, with health saying what it waits for."""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio
import pytest

from services.common.peer_wait import NotYet, PeerWait
from services.common.stopping import Stopped


def _error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class Health:
    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    async def backend_down(self, backend: str, reason: str) -> None:
        self.said.append(("down", f"{backend}: {reason}"))

    async def backend_up(self, backend: str) -> None:
        self.said.append(("up", backend))


async def test_asks_again_while_the_peer_is_down_or_behind_then_reports_it_back() -> None:
    answers: list[object] = [
        _error(grpc.StatusCode.UNAVAILABLE, "connection refused"),
        NotYet("at seq 7"),
        "balances",
    ]

    async def ask() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, str)
        return answer

    health = Health()
    wait = PeerWait("ledger", asyncio.Event(), health, retry_initial_s=0.001)
    assert await wait.until_answered("waiting for the ledger to book seq 9", ask) == "balances"
    assert health.said == [
        (
            "down",
            "ledger: waiting for the ledger to book seq 9: ledger answered UNAVAILABLE: connection refused",
        ),
        ("down", "ledger: waiting for the ledger to book seq 9: at seq 7"),
        ("up", "ledger"),
    ]


async def test_a_refusal_is_raised_and_shutting_down_ends_a_wait() -> None:
    async def refused() -> str:
        raise _error(grpc.StatusCode.INVALID_ARGUMENT, "no such mandate")

    wait = PeerWait("dq", asyncio.Event(), retry_initial_s=0.001)
    with pytest.raises(grpc.aio.AioRpcError):
        await wait.until_answered("x", refused)
    # OUT_OF_RANGE is waited on only where the caller says it means "behind".
    behind = PeerWait(
        "dq", asyncio.Event(), also_wait_on=(grpc.StatusCode.OUT_OF_RANGE,), retry_initial_s=0.001
    )
    stopping = behind.stopping

    async def not_checked_yet() -> str:
        stopping.set()  # the service shuts down while it waits
        raise _error(
            grpc.StatusCode.OUT_OF_RANGE, "as_of_date 2020-03-02 is past the last day dq has checked"
        )

    with pytest.raises(Stopped):
        await behind.until_answered("waiting for dq to check 2020-03-02", not_checked_yet)
