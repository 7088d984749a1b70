"""Retention through real processes: a recon keeping 10 business days of closed history follows 60
business days (raised fault rate, so breaks open and close all along) beside a recon keeping
everything, on the same market and ledger.

The pruning recon ends with the other's breaks less exactly closed history before its horizon (every
open break, the old one included; every break as the other has it), refuses a watch from before its
oldest kept change, answers NOT_FOUND for a pruned break saying so, and its change feed from the
oldest kept change is the other's. A ledger fee the bank never charged, booked on day 3 and never
reversed, keeps a ledger-vs-custodian break open from then to the end: an open break far older than
the horizon.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.recon.domain.retention import PRUNE_EVERY_BUSINESS_DAYS
from services.recon.store import SQLITE_FILE, open_store
from tests.recon.process.unexplained import book_unexplained_fee, business_days
from tests.support.processes import ServiceProcess, finished_market, start_service

SEED, START, DAYS = "7", dt.date(2019, 1, 2), 60
KEEP_DAYS = 10
RPC_TIMEOUT_S = 30.0
OPEN = (recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING)
_RUN_DATE = re.compile(r"RUN-(\d{4}-\d{2}-\d{2})-")


def _breaks(stub: recon_pb2_grpc.ReconServiceStub) -> dict[str, recon_pb2.Break]:
    found: dict[str, recon_pb2.Break] = {}
    token = ""
    while True:
        page = stub.ListBreaks(
            recon_pb2.ListBreaksRequest(page_size=500, page_token=token), timeout=RPC_TIMEOUT_S
        )
        found.update((b.break_id, b) for b in page.breaks)
        if not (token := page.next_page_token):
            return found


def _feed(stub: recon_pb2_grpc.ReconServiceStub, after: int, head: int) -> list[tuple[int, int, str]]:
    """(change_seq, kind, break id) of the changes after `after` up to `head`."""
    call = stub.WatchBreaks(recon_pb2.WatchBreaksRequest(after_change_seq=after), timeout=RPC_TIMEOUT_S)
    seen: list[tuple[int, int, str]] = []
    for change in call:
        seen.append((change.change_seq, change.kind, change.record.break_id))
        if change.change_seq >= head:
            call.cancel()
            return seen
    raise AssertionError(f"the watch ended at {seen[-1:]} before {head}")


def _family(break_id: str) -> tuple[str, int]:
    """(the item key's hash, generation) of a break id: generations of one key share the hash."""
    digest, _, generation = break_id.removeprefix("BRK-").partition("-")
    return digest, int(generation or 1)


def _date(date: common_pb2.Date) -> dt.date:
    return dt.date(date.year, date.month, date.day)


def _closed_on(brk: recon_pb2.Break) -> dt.date:
    """The business date of the last check that touched a closed break (the one that closed it)."""
    found = _RUN_DATE.match(brk.last_run_id)
    assert found, brk.last_run_id
    return dt.date.fromisoformat(found.group(1))


@pytest.fixture
def recons(tmp_path: Path) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    env = {
        "OPSUITE_SEED": SEED,
        "OPSUITE_START": START.isoformat(),
        "OPSUITE_DAYS": str(DAYS),
        "OPSUITE_SPEED": "max",
        "OPSUITE_FAULT_RATE": "4",
    }
    processes: list[ServiceProcess] = []
    try:
        market = finished_market(tmp_path / "market", env)
        processes.append(market)
        followed = {**env, "OPSUITE_MARKET_ADDR": market.address}
        ledger = start_service("ledger", tmp_path / "ledger", followed)
        processes.append(ledger)
        book_unexplained_fee(ledger, "EQ-EUR", "EUR", "2500.00", business_days(START, DAYS)[3])
        wired = {**followed, "OPSUITE_LEDGER_ADDR": ledger.address}
        pruning = start_service(
            "recon", tmp_path / "pruning", {**wired, "OPSUITE_RECON_KEEP_DAYS": str(KEEP_DAYS)}
        )
        processes.append(pruning)
        everything = start_service(
            "recon", tmp_path / "everything", {**wired, "OPSUITE_RECON_KEEP_DAYS": "0"}
        )
        processes.append(everything)
        ledger.wait_serving(timeout=300)
        pruning.wait_serving(timeout=600)  # SERVING: every day end checked
        everything.wait_serving(timeout=600)
        yield pruning, everything
    finally:
        for process in reversed(processes):
            code = process.stop()
            assert code == 0, f"{process.name} exited {code}:\n{process.log_text()[-3000:]}"


@pytest.mark.slow
def test_a_recon_keeping_ten_days_prunes_exactly_the_closed_history_before_its_horizon(
    recons: tuple[ServiceProcess, ServiceProcess], tmp_path: Path
) -> None:
    pruning, everything = recons
    days = business_days(START, DAYS)
    # Prunes when 11 day ends were checked (horizon: day 0), then every 21 business days: the last
    # with 53 checked, to day 42.
    horizon = days[2 * PRUNE_EVERY_BUSINESS_DAYS]
    with (
        grpc.insecure_channel(pruning.address) as pc,
        grpc.insecure_channel(everything.address) as ec,
    ):
        kept_stub, full_stub = recon_pb2_grpc.ReconServiceStub(pc), recon_pb2_grpc.ReconServiceStub(ec)
        kept, full = _breaks(kept_stub), _breaks(full_stub)

        # Every open break is there, the old one included; every kept break is as the other has it.
        open_ids = {i for i, b in full.items() if b.status in OPEN}
        assert open_ids == {i for i, b in kept.items() if b.status in OPEN}
        fee = [
            b for b in kept.values()
            if b.mandate_id == "EQ-EUR" and b.comparison == recon_pb2.COMPARISON_LEDGER_VS_CUSTODIAN
            and b.status in OPEN
        ]  # fmt: skip
        assert fee and min(_date(b.first_seen_date) for b in fee) < days[KEEP_DAYS] < horizon
        assert set(kept) <= set(full)
        for break_id, brk in kept.items():
            assert brk == full[break_id], break_id

        # What went: closed breaks, none touched since before the horizon.
        pruned = set(full) - set(kept)
        assert len(pruned) > 10, len(pruned)
        for break_id in pruned:
            brk = full[break_id]
            assert brk.status not in OPEN and _closed_on(brk) < horizon, (break_id, brk.last_run_id)
        # What stayed though closed before the horizon: the latest generation of its item key only
        # (it numbers that key's next break), never an older one.
        latest: dict[str, int] = {}
        for break_id in full:
            digest, generation = _family(break_id)
            latest[digest] = max(latest.get(digest, 0), generation)
        for break_id, brk in kept.items():
            if brk.status not in OPEN and _closed_on(brk) < horizon:
                digest, generation = _family(break_id)
                assert generation == latest[digest], break_id

        # A watch from the first change is refused, naming the oldest kept change and what to do.
        with pytest.raises(grpc.RpcError) as refused:
            next(
                iter(
                    kept_stub.WatchBreaks(
                        recon_pb2.WatchBreaksRequest(after_change_seq=1), timeout=RPC_TIMEOUT_S
                    )
                )
            )
        assert refused.value.code() == grpc.StatusCode.OUT_OF_RANGE
        said = refused.value.details()
        oldest = int(re.search(r"the oldest change kept, (\d+)", said).group(1))  # type: ignore[union-attr]
        assert f"before {horizon.isoformat()}" in said and "after_change_seq=0" in said and oldest > 2
        # From there on, the feed is the other recon's, change for change.
        current = kept_stub.WatchBreaks(recon_pb2.WatchBreaksRequest(), timeout=RPC_TIMEOUT_S)
        head = next(iter(current)).change_seq  # an open break as it is now, at the head
        current.cancel()
        tail = _feed(kept_stub, oldest - 1, head)
        assert tail == _feed(full_stub, oldest - 1, head)
        assert [seq for seq, _, _ in tail] == list(range(oldest, head + 1))

        stayed_old = sum(1 for b in kept.values() if b.status not in OPEN and _closed_on(b) < horizon)
        print(
            f"\n{len(full)} breaks, {len(open_ids)} open; pruned {len(pruned)}, kept {len(kept)} "
            f"({stayed_old} closed before {horizon} as the latest of their key); feed {oldest}..{head}"
        )

        # A pruned break: NOT_FOUND, saying it may have been closed before the horizon and pruned.
        gone = min(pruned)
        with pytest.raises(grpc.RpcError) as missing:
            kept_stub.GetBreak(recon_pb2.GetBreakRequest(break_id=gone), timeout=RPC_TIMEOUT_S)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        assert f"closed before {horizon.isoformat()} and pruned" in (missing.value.details() or "")
        assert (
            full_stub.GetBreak(
                recon_pb2.GetBreakRequest(break_id=gone), timeout=RPC_TIMEOUT_S
            ).record.break_id
            == gone
        )

    # One log line per prune, naming what went.
    prunes = [line for line in pruning.log_text().splitlines() if "pruned closed history" in line]
    assert len(prunes) == 3, prunes
    assert not [line for line in everything.log_text().splitlines() if "pruned closed history" in line]
    # On disk: the rows a year would have kept are gone (runs of the days before the horizon, the feed
    # before the oldest kept change, the pruned breaks).
    assert pruning.stop() == 0 and everything.stop() == 0
    assert (tmp_path / "pruning" / "recon" / SQLITE_FILE).exists()  # where recon keeps it: open, not create
    small = open_store(tmp_path / "pruning" / "recon")
    big = open_store(tmp_path / "everything" / "recon")
    try:
        assert small.retention().horizon == horizon and small.retention().oldest_change_seq == oldest
        counted, all_counted = small.counts(), big.counts()
        assert counted["breaks"] == len(kept) and all_counted["breaks"] == len(full)
        assert counted["break_changes"] == head - oldest + 1 and all_counted["break_changes"] == head
        assert counted["check_runs"] < all_counted["check_runs"]
        assert min(r.as_of_date for r in small.latest_runs()) >= horizon
    finally:
        small.close()
        big.close()
