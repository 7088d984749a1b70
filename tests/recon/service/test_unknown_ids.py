"""Unknown ids in recon's requests, through a real in-process server and client: a mandate,
instrument or break recon does not know is NOT_FOUND naming what it knows, never an empty page or
"nothing reconciled yet"; a known mandate not reconciled yet is FAILED_PRECONDITION; and before
recon has read market's mandates it answers UNAVAILABLE (retry) rather than guess."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from opsuite.recon.v1 import recon_pb2 as pb
from services.recon.domain.check import Reference
from services.recon.domain.records import InstrumentRef
from services.recon.store import ReconStore
from tests.recon.service.conftest import Served, refused, serving
from tests.recon.store.scenario import EUR_FUND, USD_FUND

NEW_FUND = "NEW-USD"  # a mandate market has that no check has reached yet
REFERENCE = Reference(
    {USD_FUND: "USD", EUR_FUND: "EUR", NEW_FUND: "USD"},
    {name: InstrumentRef("EQUITY", "USD") for name in ("AAPL", "MSFT", "SAP", "NVDA")},
)
KNOWN_MANDATES = f"known: {', '.join(sorted((USD_FUND, EUR_FUND, NEW_FUND)))}"


@pytest.fixture
async def known(filled_store: ReconStore) -> AsyncIterator[Served]:
    """recon serving the scenario's store, having read market's mandates and instruments."""
    async with serving(filled_store, reference=lambda: REFERENCE) as served:
        yield served


async def test_list_breaks_of_an_unknown_mandate_is_not_found(known: Served) -> None:
    assert await refused(
        known.stub.ListBreaks(pb.ListBreaksRequest(mandate_id="NOPE")), grpc.StatusCode.NOT_FOUND
    ) == (
        f"unknown mandate 'NOPE'; {KNOWN_MANDATES}",
        {"mandate_id": "unknown mandate"},
        {},
    )
    # A known mandate without breaks is an empty page, as before.
    assert list((await known.stub.ListBreaks(pb.ListBreaksRequest(mandate_id=NEW_FUND))).breaks) == []


async def test_list_breaks_of_an_unknown_instrument_or_parent_is_not_found(known: Served) -> None:
    message, violations, _ = await refused(
        known.stub.ListBreaks(pb.ListBreaksRequest(instrument_id="APPL")), grpc.StatusCode.NOT_FOUND
    )
    assert message == "unknown instrument 'APPL'; known: AAPL, MSFT, NVDA, SAP"
    assert violations == {"instrument_id": "unknown instrument"}
    message, violations, metadata = await refused(
        known.stub.ListBreaks(pb.ListBreaksRequest(parent_break_id="BRK-nope")), grpc.StatusCode.NOT_FOUND
    )
    assert message == "no break 'BRK-nope'; ListBreaks shows the breaks there are"
    assert violations == {"parent_break_id": "unknown break 'BRK-nope'"} and metadata == {
        "break_id": "BRK-nope"
    }
    # A known instrument without breaks is an empty page.
    assert list((await known.stub.ListBreaks(pb.ListBreaksRequest(instrument_id="NVDA"))).breaks) == []


async def test_get_reconciliation_tells_unknown_from_not_reconciled_yet(known: Served) -> None:
    assert await refused(
        known.stub.GetReconciliation(pb.GetReconciliationRequest(mandate_id="NOPE")),
        grpc.StatusCode.NOT_FOUND,
    ) == (f"unknown mandate 'NOPE'; {KNOWN_MANDATES}", {"mandate_id": "unknown mandate"}, {})
    message, _, _ = await refused(
        known.stub.GetReconciliation(pb.GetReconciliationRequest(mandate_id=NEW_FUND)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert message == (
        f"mandate '{NEW_FUND}' is not reconciled yet: the first check runs at the first simulated day end; "
        "retry after it"
    )
    reply = await known.stub.GetReconciliation(pb.GetReconciliationRequest(mandate_id=EUR_FUND))
    assert [m.mandate_id for m in reply.mandates] == [EUR_FUND]


async def test_watch_breaks_of_an_unknown_mandate_is_not_found(known: Served) -> None:
    assert await refused(
        known.stub.WatchBreaks(pb.WatchBreaksRequest(mandate_id="NOPE")).read(), grpc.StatusCode.NOT_FOUND
    ) == (f"unknown mandate 'NOPE'; {KNOWN_MANDATES}", {"mandate_id": "unknown mandate"}, {})


async def test_run_check_of_an_unknown_mandate_is_not_found_and_checks_nothing(
    filled_store: ReconStore,
) -> None:
    checked: list[str | None] = []

    async def run_check(mandate_id: str | None) -> list[object]:
        checked.append(mandate_id)
        return []

    async with serving(filled_store, reference=lambda: REFERENCE, run_check=run_check) as served:
        message, _, _ = await refused(
            served.stub.RunCheck(pb.RunCheckRequest(mandate_id="NOPE")), grpc.StatusCode.NOT_FOUND
        )
    assert message == f"unknown mandate 'NOPE'; {KNOWN_MANDATES}"
    assert checked == []


async def test_before_recon_has_read_market_an_id_is_answered_unavailable(filled_store: ReconStore) -> None:
    async with serving(filled_store, reference=lambda: None) as served:
        message, _, _ = await refused(
            served.stub.ListBreaks(pb.ListBreaksRequest(mandate_id=USD_FUND)), grpc.StatusCode.UNAVAILABLE
        )
        assert message == (
            "recon has not read market's mandates and instruments yet (it does at start-up), so it cannot "
            "tell a known id from an unknown one; retry once recon reports SERVING"
        )
        # What names no mandate or instrument needs no reference: answered as usual.
        assert len((await served.stub.ListBreaks(pb.ListBreaksRequest())).breaks) == 4
