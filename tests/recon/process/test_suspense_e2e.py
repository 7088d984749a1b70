"""Suspense through real processes: only unexplained cash, following its break, and a write-off.

A world without faults (seed 21 from 2020-02-03, 25 business days) where accounting books cash the
bank never moved, before recon starts (so every day end sees the same ledger):
- BAL-USD: a fee of 2,500.00 on day 3 (Dr Expenses:Fees, Cr Assets:Cash) and another of 500.00 on
  day 9. The bank reconciliation (custodian minus the ledger's cash + suspense) is +2,500.00 from
  day 3, +3,000.00 from day 9: nothing explains it, so recon posts v1 (2,500.00 into the ledger's
  cash, out of suspense) at day 6, when it is 3 business days old, and v2 (500.00) at day 9.
- FI-USD: 1,000.00 of interest the bank never paid on day 4 (Dr Assets:Cash, Cr Income:Interest),
  reversed on day 12: -1,000.00 from day 4, posted at day 7 (v1, -1,000.00), gone on day 12, when
  the break resolves and v2 reverses the suspense (+1,000.00).
Then, through recon's gRPC API: resolving the BAL-USD break by hand is refused, writing it off posts
its 3,000.00 from suspense to Income:WriteOffs:USD. At every day end the suspense invariants hold
(services/scoring/recon_truth.py check_invariants); the chain break -> suspense -> ledger is one
trace; a recon killed and restarted posts nothing twice.
"""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.eventlog import EventLog, open_event_log
from services.scoring.recon_observe import (
    MarketRun,
    observe_services,
    read_breaks,
    read_market,
    read_recon_journals,
)
from services.scoring.recon_truth import check_invariants
from tests.support.otlp import OtlpReceiver, ReceivedSpan
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

SEED = "21"
WORLD = {"OPSUITE_SEED": SEED, "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "25", "OPSUITE_SPEED": "max"}
LVC = recon_pb2.COMPARISON_LEDGER_VS_CUSTODIAN
D = Decimal


def _date(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def manual(
    key: str, mandate: str, day: dt.date, debit: str, credit: str, amount: str
) -> ledger_pb2.PostJournalRequest:
    money = lambda value: common_pb2.Money(amount=common_pb2.Decimal(value=value), currency="USD")  # noqa: E731
    return ledger_pb2.PostJournalRequest(
        idempotency_key=key,
        mandate_id=mandate,
        kind=ledger_pb2.JOURNAL_KIND_MANUAL,
        effective_date=_date(day),
        memo=f"test: {key}",
        postings=[
            ledger_pb2.Posting(account=debit, amount=money(amount)),
            ledger_pb2.Posting(account=credit, amount=money(f"-{amount}")),
        ],
        posted_by="ops-test",
    )


@dataclass
class World:
    root: Path
    market: ServiceProcess
    ledger: ServiceProcess
    recon: ServiceProcess
    run: MarketRun
    ledger_stub: ledger_pb2_grpc.LedgerServiceStub
    recon_stub: recon_pb2_grpc.ReconServiceStub
    event_log: EventLog
    receiver: OtlpReceiver
    env: dict[str, str]


def _start_recon(world_env: dict[str, str], data_dir: Path) -> ServiceProcess:
    recon = start_service("recon", data_dir, world_env)
    recon.wait_serving()
    return recon


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("unexplained")
    env = {**WORLD, "OPSUITE_FAULT_RATE": "0", "OPSUITE_EVENTLOG_URL": f"sqlite:///{root}/eventlog.sqlite3"}
    processes: list[ServiceProcess] = []
    with OtlpReceiver() as receiver:
        try:
            market = start_service("market", root / "market", {**env, **receiver.env("market")})
            processes.append(market)
            market.wait_serving()
            with grpc.insecure_channel(market.address) as mc:
                stub = market_pb2_grpc.MarketServiceStub(mc)
                wait_until(
                    lambda: not stub.GetClock(market_pb2.GetClockRequest()).running, what="market's days"
                )
                run = read_market(stub)
            env = {**env, "OPSUITE_MARKET_ADDR": market.address}
            ledger = start_service("ledger", root / "ledger", {**env, **receiver.env("ledger")})
            processes.append(ledger)
            ledger.wait_serving()
            days = run.days
            with grpc.insecure_channel(ledger.address) as lc:
                ledger_stub = ledger_pb2_grpc.LedgerServiceStub(lc)
                for request in (
                    manual("fee-1", "BAL-USD", days[3], "Expenses:Fees:USD", "Assets:Cash:USD", "2500.00"),
                    manual("fee-2", "BAL-USD", days[9], "Expenses:Fees:USD", "Assets:Cash:USD", "500.00"),
                    manual(
                        "interest", "FI-USD", days[4], "Assets:Cash:USD", "Income:Interest:USD", "1000.00"
                    ),
                ):
                    ledger_stub.PostJournal(request)
                interest = ledger_stub.GetLedger(
                    ledger_pb2.GetLedgerRequest(mandate_id="FI-USD", kind=ledger_pb2.JOURNAL_KIND_MANUAL)
                ).journals[0]
                ledger_stub.ReverseJournal(
                    ledger_pb2.ReverseJournalRequest(
                        journal_id=interest.journal_id, reason="never paid", effective_date=_date(days[12]),
                        posted_by="ops-test",
                    )
                )  # fmt: skip
            env = {**env, "OPSUITE_LEDGER_ADDR": ledger.address}
            recon_env = {**env, **receiver.env("recon")}
            recon = _start_recon(recon_env, root / "recon")
            processes.append(recon)
            event_log = open_event_log(env["OPSUITE_EVENTLOG_URL"], root)
            with grpc.insecure_channel(ledger.address) as lc, grpc.insecure_channel(recon.address) as rc:
                world = World(
                    root, market, ledger, recon, run, ledger_pb2_grpc.LedgerServiceStub(lc),
                    recon_pb2_grpc.ReconServiceStub(rc), event_log, receiver, recon_env,
                )  # fmt: skip
                yield world
                processes[-1] = world.recon
            event_log.close()
        finally:
            for process in reversed(processes):
                code = process.stop()
                assert code == 0, f"{process.name} exited {code}:\n{process.log_text()[-3000:]}"


def _bank_breaks(world: World, mandate: str) -> list[recon_pb2.Break]:
    return [b for b in read_breaks(world.recon_stub) if b.comparison == LVC and b.mandate_id == mandate]


def _journals(world: World, mandate: str) -> list[ledger_pb2.Journal]:
    return sorted(
        (j for j in read_recon_journals(world.ledger_stub) if j.mandate_id == mandate),
        key=lambda j: j.idempotency_key,
    )


def _legs(journal: ledger_pb2.Journal) -> dict[str, Decimal]:
    return {p.account: D(p.amount.amount.value) for p in journal.postings}


def test_unexplained_cash_is_posted_to_suspense_and_adjusted_as_its_break_changes(world: World) -> None:
    days = world.run.days
    (brk,) = _bank_breaks(world, "BAL-USD")
    assert (brk.kind, brk.scope, brk.parent_break_id) == (
        recon_pb2.BREAK_KIND_CASH_MISMATCH,
        recon_pb2.SCOPE_CASH,
        "",
    )
    assert brk.first_seen_date == _date(days[3]) and D(brk.amount_difference.amount.value) == D("3000.00")
    assert (D(brk.suspense_amount.amount.value), brk.suspense_version) == (D("3000.00"), 2)
    v1, v2 = _journals(world, "BAL-USD")
    assert (v1.idempotency_key, v2.idempotency_key) == (
        f"recon:suspense:{brk.break_id}:v1",
        f"recon:suspense:{brk.break_id}:v2",
    )
    # posted when 3 business days old, adjusted the day the difference grew
    assert (v1.effective_date, v2.effective_date) == (_date(days[6]), _date(days[9]))
    assert _legs(v1) == {"Assets:Cash:USD": D("2500.00"), "Assets:Suspense:USD": D("-2500.00")}
    assert _legs(v2) == {"Assets:Cash:USD": D("500.00"), "Assets:Suspense:USD": D("-500.00")}
    assert brk.suspense_journal_id == v2.journal_id and list(v1.caused_by) == [brk.break_id]
    # the same fee seen by book vs ledger: cash + suspense, unchanged by the suspense journals
    (accounting,) = [
        b for b in read_breaks(world.recon_stub)
        if b.mandate_id == "BAL-USD" and b.comparison == recon_pb2.COMPARISON_BOOK_VS_LEDGER
    ]  # fmt: skip
    assert D(accounting.amount_difference.amount.value) == D("-3000.00")


def test_the_suspense_is_reversed_when_the_difference_goes(world: World) -> None:
    days = world.run.days
    (brk,) = _bank_breaks(world, "FI-USD")
    assert brk.status == recon_pb2.BREAK_STATUS_RESOLVED
    assert brk.first_seen_date == _date(days[4]) and brk.resolved_at.ToDatetime().date() == days[12]
    assert (D(brk.suspense_amount.amount.value), brk.suspense_version) == (D(0), 2)
    v1, v2 = _journals(world, "FI-USD")
    assert (v1.effective_date, v2.effective_date) == (_date(days[7]), _date(days[12]))
    assert _legs(v1) == {"Assets:Cash:USD": D("-1000.00"), "Assets:Suspense:USD": D("1000.00")}
    assert _legs(v2) == {"Assets:Cash:USD": D("1000.00"), "Assets:Suspense:USD": D("-1000.00")}
    history = world.recon_stub.GetBreak(recon_pb2.GetBreakRequest(break_id=brk.break_id)).history
    kinds = [a.kind for a in history if a.journal_id]
    assert kinds == [recon_pb2.ACTION_KIND_POSTED_TO_SUSPENSE, recon_pb2.ACTION_KIND_SUSPENSE_REVERSED]
    assert [D(a.amount.amount.value) for a in history if a.journal_id] == [D("-1000.00"), D("1000.00")]


def test_the_invariants_hold_at_every_day_end(world: World) -> None:
    observed = observe_services(
        {"market": world.market.address, "ledger": world.ledger.address, "recon": world.recon.address},
        seed=int(SEED),
        fault_rate=0.0,
    )
    checked = check_invariants(observed)
    assert checked["suspense_never_exceeds_its_break"], checked
    assert checked["suspense_never_moves_cash_away"], checked
    assert checked["cash_items_holding_suspense"] >= 10 and checked["toward"] == 4, checked
    # where suspense holds the whole difference, the ledger's cash is the custodian's
    for item in observed.cash:
        if item.suspense and item.custodian - item.ledger_cash - item.suspense == -item.suspense:
            assert item.ledger_cash == item.custodian, item


def test_one_trace_runs_from_the_break_through_its_suspense_span_to_the_ledger(world: World) -> None:
    posted = [b for b in read_breaks(world.recon_stub) if b.suspense_journal_id]
    assert posted

    def chains() -> dict[str, tuple[ReceivedSpan, ...]] | None:
        spans = {s.span_id: s for s in world.receiver.spans}
        found: dict[str, tuple[ReceivedSpan, ...]] = {}
        for brk in posted:
            named = [s for s in spans.values() if s.attributes.get("break.id") == brk.break_id]
            break_span = next((s for s in named if s.name == "recon.break"), None)
            suspense = [s for s in named if s.name == "recon.suspense"]
            if break_span is None or not suspense:
                return None
            ledger = [
                s for s in spans.values()
                if s.service == "ledger" and (client := spans.get(s.parent_span_id)) is not None
                and client.parent_span_id in {x.span_id for x in suspense}
            ]  # fmt: skip
            if len(ledger) < len(suspense):
                return None
            found[brk.break_id] = (break_span, *suspense, *ledger)
        return found

    found = wait_until(chains, timeout=30, what="the spans of recon and the ledger")
    for brk in posted:
        break_span, *rest = found[brk.break_id]
        assert all(s.trace_id == brk.trace_id for s in (break_span, *rest))
        assert all(s.parent_span_id == break_span.span_id for s in rest if s.name == "recon.suspense")


def test_a_bank_difference_cannot_be_resolved_by_hand_but_can_be_written_off(world: World) -> None:
    (brk,) = _bank_breaks(world, "BAL-USD")
    with pytest.raises(grpc.RpcError) as refused:
        world.recon_stub.UpdateBreak(
            recon_pb2.UpdateBreakRequest(
                break_id=brk.break_id, actor="ana", status=recon_pb2.BREAK_STATUS_RESOLVED
            )
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "written off" in (refused.value.details() or "")
    detail = world.recon_stub.UpdateBreak(
        recon_pb2.UpdateBreakRequest(
            break_id=brk.break_id,
            actor="ana",
            status=recon_pb2.BREAK_STATUS_WRITTEN_OFF,
            comment="bank is right",
        )
    )
    written = detail.record
    assert written.status == recon_pb2.BREAK_STATUS_WRITTEN_OFF and written.write_off_journal_id
    assert D(written.suspense_amount.amount.value) == 0
    assert detail.history[-1].kind in (
        recon_pb2.ACTION_KIND_WRITE_OFF_POSTED,
        recon_pb2.ACTION_KIND_COMMENTED,
    )
    (write_off,) = [
        j for j in read_recon_journals(world.ledger_stub) if j.journal_id == written.write_off_journal_id
    ]
    assert write_off.idempotency_key == f"recon:write-off:{brk.break_id}"
    assert write_off.effective_date == written.last_seen_date
    # the bank holds 3,000.00 more than the ledger's cash + suspense: suspense cleared, a gain booked
    assert _legs(write_off) == {"Assets:Suspense:USD": D("3000.00"), "Income:WriteOffs:USD": D("-3000.00")}
    last = world.run.days[-1]
    balances = world.ledger_stub.GetBalances(
        ledger_pb2.GetBalancesRequest(
            mandate_id="BAL-USD", accounts=["Assets:Cash:USD", "Assets:Suspense:USD"], as_of=_date(last)
        )
    ).balances
    held = {b.account: D(b.balance.amount.value) for b in balances}
    assert held.get("Assets:Suspense:USD", D(0)) == 0
    assert held["Assets:Cash:USD"] == world.run.custodian_cash[last, "BAL-USD"]["USD"]
    records = [r.kind for r in world.event_log.effects_of(brk.break_id) if r.source == "recon"]
    assert records.count("break.suspense_posted") == 1 and records.count("break.suspense_adjusted") == 1
    assert records.count("break.written_off") == 1


def test_a_killed_recon_resumes_without_posting_anything_twice(world: World) -> None:
    breaks_before = {b.break_id: b for b in read_breaks(world.recon_stub)}
    journals_before = sorted(j.idempotency_key for j in read_recon_journals(world.ledger_stub))
    records_before = world.event_log.head("recon")
    assert journals_before
    assert world.recon.stop(signal.SIGKILL) == -signal.SIGKILL
    world.recon = _start_recon(world.env, world.root / "recon")
    with grpc.insecure_channel(world.recon.address) as channel:
        stub = recon_pb2_grpc.ReconServiceStub(channel)
        breaks_after = {b.break_id: b for b in read_breaks(stub)}
    assert breaks_after == breaks_before
    assert sorted(j.idempotency_key for j in read_recon_journals(world.ledger_stub)) == journals_before
    assert world.event_log.head("recon") == records_before
