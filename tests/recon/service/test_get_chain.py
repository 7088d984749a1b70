"""GetChain through a real in-process server and client, over recon's store and a combined event log
built by hand (tests/support/chain_log.py): the chain as the platform finds it, on the wire and read
back whole; NOT_FOUND with the command line's line; INVALID_ARGUMENT naming each malformed field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from opsuite.recon.v1 import recon_pb2 as pb
from services.common.eventlog import EventLog
from services.common.trace_chain import ACCEPTED, find_chain
from services.recon.chain import chain_from_proto, stored_break
from services.recon.store import BreakFilter, ReconStore
from tests.recon.service.conftest import Served, refused, serving
from tests.support.chain_log import TRACE, build


@pytest.fixture
async def with_log(filled_store: ReconStore, tmp_path: Path) -> AsyncIterator[tuple[Served, EventLog]]:
    log = build(tmp_path / "log")
    try:
        async with serving(filled_store, event_log=log) as served:
            yield served, log
    finally:
        log.close()


@pytest.mark.parametrize("identifier", ["J1", "rec-BRK-1-opened-2020-03-02", "FIL-1", TRACE])
async def test_the_chain_on_the_wire_is_the_platforms_chain(
    with_log: tuple[Served, EventLog], identifier: str
) -> None:
    served, log = with_log
    reply = await served.stub.GetChain(pb.GetChainRequest(id=identifier))
    expected = find_chain(identifier, log, lambda b: stored_break(served.store, b))
    assert chain_from_proto(reply) == expected
    assert reply.reaches_past_retention is False and reply.oldest_retained_seq == 0
    assert [r.record.event_id for r in reply.records][:1] == ["mkt-2"]
    fill = reply.records[0]
    assert (fill.record.source, fill.record.kind, fill.record.trace_id) == ("market", "trade.fill", TRACE)
    assert fill.description.startswith("FIL-1: BUY 1,000 US-NWSF @ 12.50")


async def test_a_break_of_recons_store_and_a_fault_with_its_events(with_log: tuple[Served, EventLog]) -> None:
    served, log = with_log
    break_id = served.store.breaks(BreakFilter(), limit=1)[0].break_id
    stored = await served.stub.GetChain(pb.GetChainRequest(id=break_id))
    assert stored.title == f"break {break_id}"  # the scenario's breaks have no records in this log
    fault = await served.stub.GetChain(pb.GetChainRequest(id="FLT-3", seed_event_ids=["mkt-3"]))
    assert fault.title == "fault FLT-3" and list(fault.break_ids) == ["BRK-1"]
    log.trim("market", 3)  # the fill, mkt-2, is past market's retention now
    trimmed = await served.stub.GetChain(pb.GetChainRequest(id="J1"))
    assert (trimmed.reaches_past_retention, list(trimmed.past_retention), trimmed.oldest_retained_seq) == (
        True,
        ["mkt-2"],
        3,
    )


@pytest.mark.parametrize(
    ("identifier", "reason"),
    [
        ("mkt-404", "no event, break, journal or trade is called 'mkt-404'"),
        ("BRK-00000000000000000000", "no break 'BRK-00000000000000000000' in recon's store"),
        ("CUS-404", "no market event names 'CUS-404'"),
    ],
)
async def test_an_id_nothing_has_is_not_found_saying_what_was_looked_for_and_where(
    with_log: tuple[Served, EventLog], identifier: str, reason: str
) -> None:
    served, _ = with_log
    message, violations, metadata = await refused(
        served.stub.GetChain(pb.GetChainRequest(id=identifier)), grpc.StatusCode.NOT_FOUND
    )
    assert message == f"nothing found for {identifier!r}: {reason}. Accepted: {ACCEPTED}"
    assert set(violations) == {"id"} and metadata == {"id": identifier}


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (pb.GetChainRequest(), {"id"}),
        (pb.GetChainRequest(id="BRK 1"), {"id"}),
        (pb.GetChainRequest(id="x" * 300), {"id"}),
        (pb.GetChainRequest(id="FLT-1"), {"seed_event_ids"}),
        (pb.GetChainRequest(id="mkt-2", seed_event_ids=["mkt-3"]), {"seed_event_ids"}),
        (
            pb.GetChainRequest(id="FLT-1", seed_event_ids=["mkt-3", "", "a b"]),
            {"seed_event_ids[1]", "seed_event_ids[2]"},
        ),
        (pb.GetChainRequest(id="", seed_event_ids=["\n"]), {"id", "seed_event_ids[0]", "seed_event_ids"}),
        (pb.GetChainRequest(id="FLT-1", seed_event_ids=["mkt-3"] * 257), {"seed_event_ids"}),
    ],
)
async def test_malformed_input_is_invalid_naming_every_field(
    with_log: tuple[Served, EventLog], request_: pb.GetChainRequest, fields: set[str]
) -> None:
    served, _ = with_log
    _, violations, _ = await refused(served.stub.GetChain(request_), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(violations) == fields


async def test_without_an_event_log_there_is_no_chain(served: Served) -> None:
    message, _, _ = await refused(
        served.stub.GetChain(pb.GetChainRequest(id="mkt-1")), grpc.StatusCode.FAILED_PRECONDITION
    )
    assert "no combined event log" in message
