"""RaiseBreak through real market and recon processes: another service's finding becomes a recon
break of its own kind, once per key, in the combined event log, and the workflow applies to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import timestamp_pb2

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.eventlog import EventLog, open_event_log
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until


@dataclass
class World:
    recon: recon_pb2_grpc.ReconServiceStub
    mandate_id: str
    instrument_id: str
    clock: market_pb2.Clock
    event_log: EventLog


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("raise")
    eventlog_url = f"sqlite:///{root}/eventlog.sqlite3"
    env = {
        "OPSUITE_SEED": "5",
        "OPSUITE_START": "2020-02-03",
        "OPSUITE_DAYS": "6",
        "OPSUITE_SPEED": "max",
        "OPSUITE_FAULT_RATE": "0",
        "OPSUITE_EVENTLOG_URL": eventlog_url,
    }
    processes: list[ServiceProcess] = []
    try:
        market = start_service("market", root / "market", env)
        processes.append(market)
        market.wait_serving()
        with grpc.insecure_channel(market.address) as mc:
            market_stub = market_pb2_grpc.MarketServiceStub(mc)
            clock = wait_until(
                lambda: (c := market_stub.GetClock(market_pb2.GetClockRequest())) and not c.running and c,
                what="the market to finish its days",
            )
            mandate = market_stub.ListMandates(market_pb2.ListMandatesRequest(page_size=1)).mandates[0]
            instrument = market_stub.ListInstruments(
                market_pb2.ListInstrumentsRequest(page_size=1)
            ).instruments[0]
        recon = start_service(
            "recon",
            root / "recon",
            {**env, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_RECON_USE_LEDGER": "false"},
        )
        processes.append(recon)
        recon.wait_serving()
        event_log = open_event_log(eventlog_url, root)
        with grpc.insecure_channel(recon.address) as rc:
            yield World(
                recon_pb2_grpc.ReconServiceStub(rc),
                mandate.mandate_id,
                instrument.instrument_id,
                clock,
                event_log,
            )
        event_log.close()
    finally:
        for process in reversed(processes):
            assert process.stop() == 0, process.log_text()[-3000:]


def _request(world: World, key: str = "9f2c" * 16, **changes: object) -> recon_pb2.RaiseBreakRequest:
    values: dict[str, object] = {
        "kind": recon_pb2.BREAK_KIND_CONFIRMATION_MISMATCH,
        "source": "documents",
        "idempotency_key": key,
        "mandate_id": world.mandate_id,
        "fill_id": "FILL-TEST-1",
        "instrument_id": world.instrument_id,
        "description": "the broker confirms 2,520, the book filled 2,500",
        "caused_by": ["doc-9f2c"],
        "differences": [recon_pb2.RaisedDifference(field="quantity", other_value="2520", book_value="2500")],
        "book_quantity": common_pb2.Decimal(value="2500"),
        "other_quantity": common_pb2.Decimal(value="2520"),
    }
    values.update(changes)
    return recon_pb2.RaiseBreakRequest(**values)  # type: ignore[arg-type]


def test_a_raised_break_is_opened_once_and_logged(world: World) -> None:
    first = world.recon.RaiseBreak(_request(world))
    brk = first.record
    assert first.created
    assert brk.kind == recon_pb2.BREAK_KIND_CONFIRMATION_MISMATCH
    assert brk.comparison == recon_pb2.COMPARISON_CONFIRMATION_VS_BOOK
    assert brk.status == recon_pb2.BREAK_STATUS_OPEN
    assert brk.first_seen_date == world.clock.sim_date  # dated by the latest day end checked
    assert brk.quantity_difference.value == "20"
    assert list(brk.caused_by) == ["doc-9f2c"]
    again = world.recon.RaiseBreak(_request(world))
    assert not again.created and again.record.break_id == brk.break_id
    listed = world.recon.ListBreaks(recon_pb2.ListBreaksRequest(mandate_id=world.mandate_id, page_size=100))
    assert [b.break_id for b in listed.breaks if b.kind == recon_pb2.BREAK_KIND_CONFIRMATION_MISMATCH] == [
        brk.break_id
    ]
    opened = [r for r in world.event_log.effects_of("doc-9f2c")]
    assert [r.kind for r in opened] == ["break.opened"], opened
    assert brk.break_id in opened[0].summary


def test_a_check_does_not_resolve_it_and_a_person_can(world: World) -> None:
    brk = world.recon.RaiseBreak(_request(world, key="ab" * 32)).record
    world.recon.RunCheck(recon_pb2.RunCheckRequest(mandate_id=world.mandate_id))
    detail = world.recon.GetBreak(recon_pb2.GetBreakRequest(break_id=brk.break_id))
    assert detail.record.status == recon_pb2.BREAK_STATUS_OPEN
    world.recon.UpdateBreak(
        recon_pb2.UpdateBreakRequest(
            break_id=brk.break_id, actor="ops", status=recon_pb2.BREAK_STATUS_RESOLVED
        )
    )
    world.recon.RunCheck(recon_pb2.RunCheckRequest(mandate_id=world.mandate_id))
    detail = world.recon.GetBreak(recon_pb2.GetBreakRequest(break_id=brk.break_id))
    assert detail.record.status == recon_pb2.BREAK_STATUS_RESOLVED  # not reopened by the check
    again = world.recon.RaiseBreak(_request(world, key="ab" * 32))  # same document: nothing changes
    assert not again.created and again.record.status == recon_pb2.BREAK_STATUS_RESOLVED


def test_a_break_raised_as_of_a_checked_day_is_aged_through_the_checks_since(world: World) -> None:
    """Raised as of Monday 3 February (the run's first day) after recon checked 3 .. 10 February:
    opened then, at the time it was found, and carried through the five checks since, as if it had
    arrived in time: age 5 in bucket 4-7, not yet escalated (the SLA of 5 business days is passed
    at age 6), the latest check's run last; its records: opened, aged into 2-3 (5 Feb, age 2),
    aged into 4-7 (7 Feb, age 4)."""
    found_at = timestamp_pb2.Timestamp(seconds=1_580_747_400)  # 2020-02-03 16:30 UTC
    brk = world.recon.RaiseBreak(
        _request(
            world,
            key="ee" * 32,
            caused_by=["doc-late"],
            as_of_date=common_pb2.Date(year=2020, month=2, day=3),
            found_at=found_at,
        )
    ).record
    assert world.clock.sim_date == common_pb2.Date(year=2020, month=2, day=10)
    assert brk.first_seen_date == common_pb2.Date(year=2020, month=2, day=3)
    assert brk.opened_at == found_at
    assert (brk.age_business_days, brk.aging_bucket, brk.escalated) == (5, "4-7", False)
    assert brk.last_run_id.startswith("RUN-2020-02-10-") and brk.opened_in_run_id.startswith("RAISED-")
    records = [(r.kind, r.event_id) for r in world.event_log.effects_of("doc-late")]
    assert records == [
        ("break.opened", f"rec-{brk.break_id}-opened-2020-02-03"),
        ("break.aged", f"rec-{brk.break_id}-aged-2020-02-05"),
        ("break.aged", f"rec-{brk.break_id}-aged-2020-02-07"),
    ]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"kind": recon_pb2.BREAK_KIND_QUANTITY_MISMATCH}, grpc.StatusCode.INVALID_ARGUMENT, "kind"),
        ({"idempotency_key": ""}, grpc.StatusCode.INVALID_ARGUMENT, "idempotency_key"),
        ({"fill_id": "", "instrument_id": ""}, grpc.StatusCode.INVALID_ARGUMENT, "fill_id"),
        (
            {"book_quantity": common_pb2.Decimal(value="lots")},
            grpc.StatusCode.INVALID_ARGUMENT,
            "book_quantity",
        ),
        ({"mandate_id": "NO-SUCH-FUND"}, grpc.StatusCode.NOT_FOUND, "mandate_id"),
        (
            {"found_at": timestamp_pb2.Timestamp(seconds=10**12)},
            grpc.StatusCode.INVALID_ARGUMENT,
            "found_at",
        ),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    world: World, changes: dict[str, object], code: grpc.StatusCode, field: str
) -> None:
    before = world.recon.ListBreaks(recon_pb2.ListBreaksRequest(page_size=100))
    with pytest.raises(grpc.RpcError) as refused:
        world.recon.RaiseBreak(_request(world, key="cd" * 32, **changes))
    assert refused.value.code() == code
    assert field in (refused.value.details() or "") or code == grpc.StatusCode.NOT_FOUND
    assert world.recon.ListBreaks(recon_pb2.ListBreaksRequest(page_size=100)) == before
