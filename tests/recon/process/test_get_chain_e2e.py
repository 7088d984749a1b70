"""GetChain as a user (the HTTP edge, grpcurl, `opsuite trace`) calls it, on a real run: market with
two custodian faults injected at the start (no seeded ones), the ledger and recon as processes, one
combined event log. The chain recon serves is the one the platform finds over the same files; the
command prints the same whether recon gives it or the files do (recon not answering); an unknown id is
NOT_FOUND saying what was looked for and where, a malformed one INVALID_ARGUMENT."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.eventlog import open_event_log
from services.common.trace_chain import ACCEPTED, find_chain
from services.recon.chain import chain_from_proto, stored_break
from services.recon.store import open_store
from tests.support.finished_suite import run_opsuite
from tests.support.ports import free_ports
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

FAULTS = (market_pb2.FAULT_KIND_CUSTODIAN_DROP_TRADE, market_pb2.FAULT_KIND_CUSTODIAN_QUANTITY_TYPO)
# A third fault, on EQ-EUR's first fill (seed 21): an EU-RHNA buy whose tick priced a BAL-USD fill too.
SIBLING_MANDATE = "EQ-EUR"
WORLD = {"OPSUITE_SEED": "21", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "25", "OPSUITE_FAULT_RATE": "0"}


@dataclass
class World:
    root: Path
    market: ServiceProcess
    recon: ServiceProcess
    recon_stub: recon_pb2_grpc.ReconServiceStub
    faults: list[market_pb2.InjectedFault]
    env: dict[str, str]  # what points `opsuite trace` at this run (recon's data dir, the log, addresses)

    def trace(self, *args: str, recon: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "COLUMNS": "200"}
        if not recon:  # nothing listens there: recon "is not running"
            env["OPSUITE_RECON_ADDR"] = f"127.0.0.1:{free_ports(1)[0]}"
        return run_opsuite("trace", *args, env=env)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("chain")
    # A live clock (4 business days a second) so the faults injected at the start hit its first fills.
    env = {**WORLD, "OPSUITE_SPEED": "4", "OPSUITE_EVENTLOG_URL": f"sqlite:///{root}/eventlog.sqlite3"}
    processes: list[ServiceProcess] = []
    try:
        # The faults are injected with InjectFault, which market refuses unless it is allowed.
        market = start_service("market", root / "market", {**env, "OPSUITE_ALLOW_FAULT_INJECTION": "true"})
        processes.append(market)
        market.wait_serving()
        with grpc.insecure_channel(market.address) as mc:
            market_stub = market_pb2_grpc.MarketServiceStub(mc)
            for kind in FAULTS:
                market_stub.InjectFault(market_pb2.InjectFaultRequest(kind=kind))
            market_stub.InjectFault(market_pb2.InjectFaultRequest(kind=FAULTS[1], mandate_id=SIBLING_MANDATE))
            wait_until(
                lambda: not market_stub.GetClock(market_pb2.GetClockRequest()).running,
                what="the market to finish its days",
            )
            faults = list(market_stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest()).faults)
        peers = {**env, "OPSUITE_MARKET_ADDR": market.address}
        ledger = start_service("ledger", root / "ledger", peers)
        processes.append(ledger)
        ledger.wait_serving()
        recon = start_service("recon", root / "recon", {**peers, "OPSUITE_LEDGER_ADDR": ledger.address})
        processes.append(recon)
        recon.wait_serving()  # every day end checked
        trace_env = {
            "OPSUITE_DATA_DIR": str(root / "recon"),
            "OPSUITE_EVENTLOG_URL": env["OPSUITE_EVENTLOG_URL"],
            "OPSUITE_MARKET_ADDR": market.address,
            "OPSUITE_RECON_ADDR": recon.address,
        }
        with grpc.insecure_channel(recon.address) as rc:
            yield World(root, market, recon, recon_pb2_grpc.ReconServiceStub(rc), faults, trace_env)
    finally:
        for process in reversed(processes):
            process.stop()


def _fault_break(
    world: World, kind: int, mandate: str = ""
) -> tuple[market_pb2.InjectedFault, recon_pb2.Break]:
    """A fault of that kind (requested for that mandate, "" for one the simulation chose) and the
    trade-level break recon opened for its fill."""
    fault = next(
        f
        for f in world.faults
        if f.kind == kind
        and f.fill_id
        and (f.mandate_id == mandate if mandate else f.mandate_id != SIBLING_MANDATE)
    )
    breaks = world.recon_stub.ListBreaks(recon_pb2.ListBreaksRequest(page_size=1000)).breaks
    found = next(b for b in breaks if b.fill_id == fault.fill_id and not b.parent_break_id)
    return fault, found


def _offline(world: World, identifier: str, seeds: list[str] | None = None) -> object:
    """The platform's chain over the same files, as `opsuite trace` reads them without recon."""
    log = open_event_log(world.env["OPSUITE_EVENTLOG_URL"], world.root)
    store = open_store(world.root / "recon" / "recon")
    try:
        return find_chain(identifier, log, lambda b: stored_break(store, b), fault_events=seeds)
    finally:
        store.close()
        log.close()


@pytest.mark.parametrize("kind", FAULTS)
def test_the_chain_of_an_injected_faults_break_from_fill_to_break(world: World, kind: int) -> None:
    fault, brk = _fault_break(world, kind)
    chain = world.recon_stub.GetChain(recon_pb2.GetChainRequest(id=brk.break_id), timeout=30)
    assert chain.title == f"break {brk.break_id}"
    ids = [r.record.event_id for r in chain.records]
    # The events the break names, from the fill the fault hit on.
    assert brk.fill_id == fault.fill_id and set(brk.caused_by) <= set(ids), (brk.caused_by, ids)
    assert f"rec-{brk.break_id}-opened-{brk.first_seen_date.year:04d}" in " ".join(ids)
    times = [r.record.sim_time.ToDatetime() for r in chain.records]
    assert times == sorted(times)  # trace order
    fill = next(r for r in chain.records if r.record.kind == "trade.fill")
    assert fill.record.source == "market" and fill.description.startswith(f"{brk.fill_id}: ")
    assert brk.break_id in chain.break_ids
    assert all(
        brk.break_id in r.break_ids
        for r in chain.records
        if r.record.event_id.startswith(f"rec-{brk.break_id}-")
    )
    assert not chain.reaches_past_retention
    # One implementation: recon's answer is the platform's chain over the same files.
    assert chain_from_proto(chain) == _offline(world, brk.break_id)


@pytest.mark.parametrize(
    ("kind", "mandate"), [(FAULTS[0], ""), (FAULTS[1], ""), (FAULTS[1], SIBLING_MANDATE)]
)
def test_a_custodian_faults_chain_goes_from_the_tick_to_the_journals_that_booked_the_fill(
    world: World, kind: int, mandate: str
) -> None:
    """The chain starts at the price.tick the desk filled on, the tick's only record there: none of
    its other effects (the other fills of that instrument that day, theirs) comes with it. Then the
    fill, the custodian's events of it, the break's records, and the ledger's journals that booked the
    fill (journal.booked, caused by the fill) and its settlement when the custodian settled it."""
    _, brk = _fault_break(world, kind, mandate)
    chain = world.recon_stub.GetChain(recon_pb2.GetChainRequest(id=brk.break_id), timeout=30)
    records = [r.record for r in chain.records]
    ids = [r.event_id for r in records]
    fill = next(r for r in records if r.kind == "trade.fill")
    tick = records[0]
    assert tick.kind == "price.tick" and tuple(fill.caused_by) == (tick.event_id,)
    assert [r.event_id for r in records if r.kind == "price.tick"] == [tick.event_id]
    log = open_event_log(world.env["OPSUITE_EVENTLOG_URL"], world.root)
    try:
        other_fills = [r.event_id for r in log.effects_of(tick.event_id) if r.event_id != fill.event_id]
        others = [*other_fills, *(r.event_id for f in other_fills for r in log.effects_of(f))]
        custodian = [r for r in log.effects_of(fill.event_id) if r.kind.startswith("custodian.")]
        settled = [r for r in custodian if r.kind == "custodian.settlement"]
        booked = {
            r.event_id: r
            for r in log.read("ledger", 0, 1_000_000)
            if r.kind == "journal.booked" and fill.event_id in r.caused_by
        }
    finally:
        log.close()
    if mandate:  # the tick priced another mandate's fill too, with its own journal
        assert other_fills and any(i.startswith("ldg-") for i in others)
    assert not set(others) & set(ids), "the tick's other effects came with it"
    if kind == market_pb2.FAULT_KIND_CUSTODIAN_QUANTITY_TYPO:
        assert custodian and {r.event_id for r in custodian if r.kind == "custodian.trade"} <= set(ids)
    assert any(i.startswith(f"rec-{brk.break_id}-opened-") for i in ids)
    # The trade's journal, booked from the fill (and the settlement's, when it came), with a line
    # naming its account, amount and currency.
    trade = [r for r in records if r.kind == "journal.booked" and tuple(r.caused_by) == (fill.event_id,)]
    assert len(trade) == 1 and trade[0].source == "ledger"
    assert "(JOURNAL_KIND_TRADE) booked " + fill.event_id in trade[0].summary
    assert "PendingSettlement:" in trade[0].summary
    assert set(booked) <= set(ids)
    if settled:
        assert any("(JOURNAL_KIND_SETTLEMENT)" in booked[i].summary for i in booked)


def test_a_fault_is_traced_from_the_events_market_says_it_hit(world: World) -> None:
    fault, brk = _fault_break(world, FAULTS[0])
    seeds = [*fault.event_ids, *fault.correction_event_ids]
    chain = world.recon_stub.GetChain(recon_pb2.GetChainRequest(id=fault.fault_id, seed_event_ids=seeds))
    assert chain.title == f"fault {fault.fault_id}" and brk.break_id in chain.break_ids
    assert chain_from_proto(chain) == _offline(world, fault.fault_id, seeds)


def _grpcurl(world: World, body: dict[str, object]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    assert binary is not None, "grpcurl is missing from the virtualenv: the dev extra installs it"
    return subprocess.run(
        [
            binary,
            "-plaintext",
            "-d",
            json.dumps(body),
            world.recon.address,
            "opsuite.recon.v1.ReconService/GetChain",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_grpcurl_gets_a_chain_by_reflection_and_is_told_what_was_not_found(world: World) -> None:
    _, brk = _fault_break(world, FAULTS[1])
    result = _grpcurl(world, {"id": brk.break_id})
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["title"] == f"break {brk.break_id}"
    assert reply["records"][0]["record"]["source"] == "market"
    assert brk.break_id in reply["break_ids"]  # grpcurl prints the proto names
    unknown = _grpcurl(world, {"id": "BRK-00000000000000000000"})
    assert unknown.returncode != 0
    assert "Code: NotFound" in unknown.stderr
    assert (
        "nothing found for 'BRK-00000000000000000000': no break 'BRK-00000000000000000000' in recon's store. "
        f"Accepted: {ACCEPTED}"
    ) in " ".join(unknown.stderr.split())
    malformed = _grpcurl(world, {"id": "BRK 1"})
    assert "Code: InvalidArgument" in malformed.stderr and "printable ASCII" in malformed.stderr
    fault = _grpcurl(world, {"id": world.faults[0].fault_id})
    assert "Code: InvalidArgument" in fault.stderr and "seed_event_ids" in fault.stderr


@pytest.mark.parametrize("what", ["break", "fill", "fault"])
def test_opsuite_trace_prints_the_same_from_recon_and_from_the_files(world: World, what: str) -> None:
    fault, brk = _fault_break(world, FAULTS[0])
    identifier = {"break": brk.break_id, "fill": brk.fill_id, "fault": fault.fault_id}[what]
    for output in ((), ("-o", "json")):
        served = world.trace(identifier, *output)
        offline = world.trace(identifier, *output, recon=False)
        assert served.returncode == offline.returncode == 0, (served.stderr, offline.stderr)
        assert served.stderr == ""  # recon answered: nothing read from the files
        assert offline.stderr.startswith("opsuite trace: recon does not answer at 127.0.0.1:")
        assert served.stdout == offline.stdout
    assert f"rec-{brk.break_id}-opened" in served.stdout


@pytest.mark.parametrize("identifier", ["BRK-00000000000000000000", "nope", "CNF-404"])
def test_opsuite_trace_says_the_same_nothing_found_either_way(world: World, identifier: str) -> None:
    served, offline = world.trace(identifier), world.trace(identifier, recon=False)
    assert served.returncode == offline.returncode == 1
    assert served.stderr == offline.stderr
    assert served.stderr.startswith(f"opsuite trace: nothing found for {identifier!r}: ")
    assert served.stderr.strip().endswith(f"Accepted: {ACCEPTED}") and served.stdout == offline.stdout == ""
