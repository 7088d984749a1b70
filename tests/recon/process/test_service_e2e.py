"""recon as a user runs it: real market, ledger and recon processes sharing one combined event log.

Each world: market runs its days, the ledger and recon follow it (each with its own data
directory, the same OPSUITE_EVENTLOG_URL), and recon is SERVING once it has checked every
day end. Without faults nothing breaks, on any of the three comparisons; with the custodian's
faults each is a break naming the events that carry it, traced from the fill, with the position and
cash breaks it causes grouped under it, and nothing in suspense: every cash difference is explained.
(Suspense, which holds only unexplained cash, is followed through real processes in
test_suspense_e2e.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.cli.registry import free_port
from services.common.eventlog import EventLog, open_event_log
from tests.support.otlp import OtlpReceiver
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

SEED = "21"
START = "2020-02-03"
DAYS = "25"
CUSTODIAN_FAULTS = {
    market_pb2.FAULT_KIND_CUSTODIAN_DROP_TRADE: recon_pb2.BREAK_KIND_MISSING_AT_CUSTODIAN,
    market_pb2.FAULT_KIND_CUSTODIAN_QUANTITY_TYPO: recon_pb2.BREAK_KIND_QUANTITY_MISMATCH,
    market_pb2.FAULT_KIND_CUSTODIAN_DUPLICATE_TRADE: recon_pb2.BREAK_KIND_DUPLICATE_AT_CUSTODIAN,
}


@dataclass
class World:
    market: ServiceProcess
    ledger: ServiceProcess
    recon: ServiceProcess
    clock: market_pb2.Clock
    market_stub: market_pb2_grpc.MarketServiceStub
    ledger_stub: ledger_pb2_grpc.LedgerServiceStub
    recon_stub: recon_pb2_grpc.ReconServiceStub
    event_log: EventLog
    receiver: OtlpReceiver | None


def _start_recon(data_dir: Path, env: dict[str, str]) -> ServiceProcess:
    return start_service("recon", data_dir, env)


def _world(
    root: Path, *, fault_rate: str | None, speed: str, inject: bool, receiver: OtlpReceiver | None = None
) -> Iterator[World]:
    eventlog_url = f"sqlite:///{root}/eventlog.sqlite3"
    env = {
        "OPSUITE_SEED": SEED,
        "OPSUITE_START": START,
        "OPSUITE_DAYS": DAYS,
        "OPSUITE_SPEED": speed,
        "OPSUITE_EVENTLOG_URL": eventlog_url,
        **({"OPSUITE_FAULT_RATE": fault_rate} if fault_rate is not None else {}),
        # The world that injects faults (InjectFault) says so; market refuses them otherwise.
        **({"OPSUITE_ALLOW_FAULT_INJECTION": "true"} if inject else {}),
    }
    processes: list[ServiceProcess] = []

    def traced(name: str) -> dict[str, str]:
        return {**env, **(receiver.env(name) if receiver is not None else {})}

    try:
        market = start_service("market", root / "market", traced("market"))
        processes.append(market)
        market.wait_serving()
        with grpc.insecure_channel(market.address) as mc:
            market_stub = market_pb2_grpc.MarketServiceStub(mc)
            if inject:
                # One of each custodian trade fault (the default rate seeds none of these in 25 days).
                for kind in CUSTODIAN_FAULTS:
                    market_stub.InjectFault(market_pb2.InjectFaultRequest(kind=kind))
            clock = wait_until(
                lambda: (c := market_stub.GetClock(market_pb2.GetClockRequest())) and not c.running and c,
                what="the market to finish its days",
            )
            ledger = start_service(
                "ledger", root / "ledger", {**traced("ledger"), "OPSUITE_MARKET_ADDR": market.address}
            )
            processes.append(ledger)
            ledger.wait_serving()
            recon = _start_recon(
                root / "recon",
                {
                    **traced("recon"),
                    "OPSUITE_MARKET_ADDR": market.address,
                    "OPSUITE_LEDGER_ADDR": ledger.address,
                },
            )
            processes.append(recon)
            recon.wait_serving()  # SERVING: every day end checked
            event_log = open_event_log(eventlog_url, root)
            with grpc.insecure_channel(ledger.address) as lc, grpc.insecure_channel(recon.address) as rc:
                world = World(
                    market,
                    ledger,
                    recon,
                    clock,
                    market_stub,
                    ledger_pb2_grpc.LedgerServiceStub(lc),
                    recon_pb2_grpc.ReconServiceStub(rc),
                    event_log,
                    receiver,
                )
                yield world
                processes[-1] = world.recon  # a test may have restarted it
            event_log.close()
    finally:
        for process in reversed(processes):
            code = process.stop()
            assert code == 0, f"{process.name} exited {code}:\n{process.log_text()[-3000:]}"


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _world(tmp_path_factory.mktemp("clean"), fault_rate="0", speed="max", inject=False)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # A live clock (4 business days a second) so the faults injected at the start hit its first fills.
    yield from _world(tmp_path_factory.mktemp("faulty"), fault_rate=None, speed="4", inject=True)


def _all_breaks(stub: recon_pb2_grpc.ReconServiceStub, **filters: object) -> list[recon_pb2.Break]:
    found: list[recon_pb2.Break] = []
    token = ""
    while True:
        page = stub.ListBreaks(recon_pb2.ListBreaksRequest(page_size=100, page_token=token, **filters))
        found.extend(page.breaks)
        if not (token := page.next_page_token):
            return found


def _mandates(world: World) -> list[str]:
    reply = world.market_stub.ListMandates(market_pb2.ListMandatesRequest(page_size=100))
    return [m.mandate_id for m in reply.mandates]


# ---------------------------------------------------------------- no faults


def test_without_faults_every_day_end_matches_on_both_comparisons(clean: World) -> None:
    assert _all_breaks(clean.recon_stub) == []
    recon = clean.recon_stub.GetReconciliation(recon_pb2.GetReconciliationRequest())
    assert recon.as_of_date == clean.clock.sim_date
    by_mandate = {m.mandate_id: m for m in recon.mandates}
    assert sorted(by_mandate) == sorted(_mandates(clean))
    for mandate, summary in by_mandate.items():
        runs = {r.comparison: r for r in summary.latest_runs}
        assert set(runs) == {
            recon_pb2.COMPARISON_BOOK_VS_CUSTODIAN,
            recon_pb2.COMPARISON_BOOK_VS_LEDGER,
            recon_pb2.COMPARISON_LEDGER_VS_CUSTODIAN,
        }, mandate
        for run in runs.values():
            assert run.as_of_date == clean.clock.sim_date
            assert run.matched_count > 0 and run.breaks_opened == 0, (mandate, run)
            assert run.compared_count == run.matched_count + run.unmatched_count
        assert list(summary.open_breaks) == []
    # Nothing broke, so recon wrote nothing to the combined log; market's events are all there.
    assert clean.event_log.head("recon") == 0
    assert clean.event_log.head("market") == clean.clock.head_seq


def test_run_check_rechecks_the_latest_day_end(clean: World) -> None:
    mandate = _mandates(clean)[0]
    reply = clean.recon_stub.RunCheck(recon_pb2.RunCheckRequest(mandate_id=mandate))
    assert {r.mandate_id for r in reply.runs} == {mandate}
    assert {r.comparison for r in reply.runs} == {
        recon_pb2.COMPARISON_BOOK_VS_CUSTODIAN,
        recon_pb2.COMPARISON_BOOK_VS_LEDGER,
        recon_pb2.COMPARISON_LEDGER_VS_CUSTODIAN,
    }
    assert all(r.as_of_date == clean.clock.sim_date and r.breaks_opened == 0 for r in reply.runs)
    with pytest.raises(grpc.RpcError) as refused:
        clean.recon_stub.RunCheck(recon_pb2.RunCheckRequest(mandate_id="NO-SUCH-FUND"))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


def test_without_a_ledger_recon_catches_up_on_book_vs_custodian(clean: World, tmp_path: Path) -> None:
    recon = _start_recon(
        tmp_path / "recon",
        {
            "OPSUITE_MARKET_ADDR": clean.market.address,
            "OPSUITE_RECON_USE_LEDGER": "false",
            "OPSUITE_EVENTLOG_URL": f"sqlite:///{tmp_path}/eventlog.sqlite3",
        },
    )
    try:
        recon.wait_serving(timeout=60)
        with grpc.insecure_channel(recon.address) as channel:
            stub = recon_pb2_grpc.ReconServiceStub(channel)
            summary = stub.GetReconciliation(recon_pb2.GetReconciliationRequest())
            assert _all_breaks(stub) == []
        assert sorted(m.mandate_id for m in summary.mandates) == sorted(_mandates(clean))
        for mandate in summary.mandates:
            assert [r.comparison for r in mandate.latest_runs] == [recon_pb2.COMPARISON_BOOK_VS_CUSTODIAN]
            assert mandate.latest_runs[0].matched_count > 0
        assert "book vs custodian only" in recon.log_text()
    finally:
        assert recon.stop() == 0


def test_recon_waits_for_a_ledger_that_starts_after_it(clean: World, tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port('127.0.0.1')}"  # nothing listens there yet
    eventlog = {"OPSUITE_EVENTLOG_URL": f"sqlite:///{tmp_path}/eventlog.sqlite3"}
    recon = _start_recon(
        tmp_path / "recon",
        {"OPSUITE_MARKET_ADDR": clean.market.address, "OPSUITE_LEDGER_ADDR": address, **eventlog},
    )
    processes = [recon]
    try:
        assert recon.wait_listening()
        with grpc.insecure_channel(recon.address) as channel:
            status = status_pb2_grpc.StatusServiceStub(channel)
            waiting = wait_until(
                lambda: (
                    (s := status.GetStatus(status_pb2.GetStatusRequest())).not_serving_reason.startswith(
                        "waiting for the ledger to book market seq "
                    )
                    and s
                ),
                what="recon to say it waits for the ledger",
            )
        assert not waiting.serving and "the ledger answered UNAVAILABLE" in waiting.not_serving_reason
        ledger = start_service(
            "ledger",
            tmp_path / "ledger",
            {"OPSUITE_MARKET_ADDR": clean.market.address, **eventlog},
            address=address,
        )
        processes.append(ledger)
        ledger.wait_serving()
        recon.wait_serving()  # every day end checked, against the ledger too
        with grpc.insecure_channel(recon.address) as channel:
            stub = recon_pb2_grpc.ReconServiceStub(channel)
            summary = stub.GetReconciliation(recon_pb2.GetReconciliationRequest())
            assert _all_breaks(stub) == []
        assert summary.as_of_date == clean.clock.sim_date
        for mandate in summary.mandates:
            assert {r.comparison for r in mandate.latest_runs} == {
                recon_pb2.COMPARISON_BOOK_VS_CUSTODIAN,
                recon_pb2.COMPARISON_BOOK_VS_LEDGER,
                recon_pb2.COMPARISON_LEDGER_VS_CUSTODIAN,
            }
    finally:
        for process in reversed(processes):
            assert process.stop() == 0


# ---------------------------------------------------------------- faults


def _custodian_faults(world: World) -> list[market_pb2.InjectedFault]:
    reply = world.market_stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest(page_size=1000))
    return [
        f for f in reply.faults if f.kind in CUSTODIAN_FAULTS and f.status == market_pb2.FAULT_STATUS_APPLIED
    ]


def test_each_custodian_fault_is_a_break_naming_its_events(faulty: World) -> None:
    faults = _custodian_faults(faulty)
    assert {f.kind for f in faults} == set(CUSTODIAN_FAULTS), faults
    breaks = _all_breaks(faulty.recon_stub)
    for fault in faults:
        # The fill and the custodian's trade records among the fault's events (not the confirmation).
        trade_events = {
            e
            for e in fault.event_ids
            if (record := faulty.event_log.get(e)) is not None
            and record.kind in ("trade.fill", "custodian.trade")
        }
        assert trade_events, fault
        hits = [
            b
            for b in breaks
            if b.kind == CUSTODIAN_FAULTS[fault.kind]
            and b.fill_id == fault.fill_id
            and trade_events <= set(b.caused_by)
        ]
        assert len(hits) == 1, (fault, [(b.kind, b.fill_id, list(b.caused_by)) for b in breaks])
        brk = hits[0]
        assert brk.first_seen_date == fault.applied_date
        # The break's trace is the fill's: its span descends from the market event's span.
        fill_event = next(e for e in brk.caused_by if faulty.event_log.get(e).kind == "trade.fill")
        assert brk.trace_id == faulty.event_log.get(fill_event).trace_id != ""


def test_get_break_returns_its_lineage_from_tick_to_recon(faulty: World) -> None:
    (dropped,) = [
        b
        for b in _all_breaks(faulty.recon_stub, kinds=[recon_pb2.BREAK_KIND_MISSING_AT_CUSTODIAN])
        if b.scope == recon_pb2.SCOPE_TRADE
    ]
    detail = faulty.recon_stub.GetBreak(recon_pb2.GetBreakRequest(break_id=dropped.break_id))
    lineage = detail.lineage
    assert lineage.trace_id == dropped.trace_id and list(lineage.caused_by) == list(dropped.caused_by)
    kinds = [(r.source, r.kind) for r in lineage.records]
    assert ("market", "trade.fill") in kinds
    assert ("recon", "break.opened") in kinds
    opened = next(r for r in lineage.records if r.kind == "break.opened" and dropped.break_id in r.summary)
    assert opened.trace_id == dropped.trace_id and set(opened.caused_by) == set(dropped.caused_by)
    # In simulated time, the fill comes before the break.
    assert kinds.index(("market", "trade.fill")) < kinds.index(("recon", "break.opened"))
    assert detail.history[0].kind == recon_pb2.ACTION_KIND_OPENED


def test_position_and_cash_breaks_are_grouped_under_the_fault_and_nothing_reaches_suspense(
    faulty: World,
) -> None:
    breaks = _all_breaks(faulty.recon_stub)
    by_id = {b.break_id: b for b in breaks}
    balance = [b for b in breaks if b.scope in (recon_pb2.SCOPE_POSITION, recon_pb2.SCOPE_CASH)]
    for brk in balance:
        # one fault, one item to work: each consequence names the item-level break behind it
        parent = by_id[brk.parent_break_id]
        assert parent.scope in (recon_pb2.SCOPE_TRADE, recon_pb2.SCOPE_CASH_FLOW), brk
        assert parent.mandate_id == brk.mandate_id and not brk.escalated
    top = _all_breaks(faulty.recon_stub, top_level_only=True)
    assert {b.break_id for b in top} == {b.break_id for b in breaks if not b.parent_break_id}
    for parent_id in {b.parent_break_id for b in balance}:
        children = _all_breaks(faulty.recon_stub, parent_break_id=parent_id)
        assert {b.break_id for b in children} == {
            b.break_id for b in balance if b.parent_break_id == parent_id
        }
    # Every cash difference between the ledger and the custodian is explained by a break of the
    # custodian's: none is posted to suspense.
    assert all(not b.suspense_journal_id and not b.suspense_version for b in breaks)
    journals = faulty.ledger_stub.GetLedger(
        ledger_pb2.GetLedgerRequest(kind=ledger_pb2.JOURNAL_KIND_SUSPENSE, page_size=1000)
    ).journals
    assert list(journals) == []
