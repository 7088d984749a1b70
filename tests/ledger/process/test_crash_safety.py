"""Crash safety: SIGKILL the ledger at random moments while it books a simulated year.

After each kill the ledger restarts from its stored cursor and state; at the
end its trial balances and journal count equal those of a ledger that was
never interrupted, on the same market.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import signal
import time
from pathlib import Path

import grpc
import pytest

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.ledger.store import open_store
from tests.ledger.process.conftest import start_ledger, wait_finished, world_env
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

YEAR = 252


def books(ledger: ServiceProcess, mandate_ids: list[str]) -> dict[str, ledger_pb2.TrialBalance]:
    with grpc.insecure_channel(ledger.address) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        return {m: stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=m)) for m in mandate_ids}


def _log_time(service: ServiceProcess, message: str) -> dt.datetime | None:
    for line in service.log_text().splitlines():
        record = json.loads(line)
        if record.get("message") == message:
            return dt.datetime.fromisoformat(record["time"])
    return None


@pytest.mark.slow
def test_killed_ledger_ends_with_the_same_books_as_an_uninterrupted_one(tmp_path: Path) -> None:
    market = start_service(
        "market", tmp_path / "market", world_env(OPSUITE_DAYS=str(YEAR), OPSUITE_START="2019-01-02")
    )
    try:
        market.wait_serving()
        head = wait_finished(market).head_seq
        with grpc.insecure_channel(market.address) as channel:
            mandate_ids = [
                m.mandate_id
                for m in market_pb2_grpc.MarketServiceStub(channel)
                .ListMandates(market_pb2.ListMandatesRequest())
                .mandates
            ]

        reference = start_ledger(tmp_path / "reference", market)
        # The log is read by a thread: the line written just before SERVING may still be on its way.
        listening = wait_until(lambda: _log_time(reference, "listening"), what="the listening line")
        caught_up = wait_until(
            lambda: _log_time(reference, "caught up with market"), what="the caught-up line"
        )
        booking_s = (caught_up - listening).total_seconds()  # what booking the whole year takes
        expected = books(reference, mandate_ids)
        assert reference.stop() == 0

        rng = random.Random(20261125)
        cursors_at_kill: list[int] = []
        env = {**world_env(), "OPSUITE_MARKET_ADDR": market.address}
        victim_dir = tmp_path / "victim"
        # Kill until at least three kills landed in the middle of the year (after some batches,
        # before the last); a kill during start-up or after catching up counts but is not enough.
        while sum(0 < c < head for c in cursors_at_kill) < 3:
            assert len(cursors_at_kill) < 30, f"kills never landed mid-year: {cursors_at_kill}"
            victim = start_service("ledger", victim_dir, env)
            wait_until(lambda: _log_time(victim, "listening"), what="the ledger to listen")  # noqa: B023
            time.sleep(rng.uniform(0.0, 1.0) * booking_s)  # a random moment of its booking
            victim.stop(signal.SIGKILL)
            store = open_store("", victim_dir / "ledger")
            cursors_at_kill.append(store.load_cursor()[0])
            store.close()
            if cursors_at_kill[-1] >= head:  # it finished: start the year again in a fresh store
                shutil.rmtree(victim_dir)

        survivor = start_ledger(victim_dir, market)
        actual = books(survivor, mandate_ids)
        assert survivor.stop() == 0
    finally:
        market.stop()
    for mandate_id in mandate_ids:
        assert actual[mandate_id].journal_count == expected[mandate_id].journal_count
        assert actual[mandate_id].lines == expected[mandate_id].lines
        assert actual[mandate_id].balanced
