"""GetReconciliation, ListBreaks and GetBreak through a real server and client."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.recon.v1 import recon_pb2 as pb
from services.common.eventlog.records import LogRecord
from services.recon.codec import Lineage
from services.recon.domain.breaks import break_id_for
from services.recon.domain.records import Break
from tests.recon.service.conftest import Served, ServeFactory, refused
from tests.recon.store.scenario import EUR_FUND, MONDAY, USD_FUND

AAPL = break_id_for(MONDAY[0].item_key, 1)
USD_CASH = break_id_for(MONDAY[1].item_key, 1)


def subjects(breaks: list[pb.Break]) -> list[str]:
    return [b.instrument_id or b.currency for b in breaks]


async def test_get_reconciliation_summarises_each_mandate(served: Served) -> None:
    reply = await served.stub.GetReconciliation(pb.GetReconciliationRequest())
    assert (reply.as_of_date.year, reply.as_of_date.month, reply.as_of_date.day) == (2024, 3, 12)
    usd, eur = reply.mandates
    assert (usd.mandate_id, eur.mandate_id) == (USD_FUND, EUR_FUND)
    assert [r.comparison for r in usd.latest_runs] == [
        pb.COMPARISON_BOOK_VS_CUSTODIAN,
        pb.COMPARISON_BOOK_VS_LEDGER,
    ]
    assert {r.run_id for r in usd.latest_runs} == {"RUN-2024-03-12-0"}
    # Open breaks oldest first, with age and bucket; the auto-resolved USD cash break is not among them.
    assert [(b.instrument_id, b.age_business_days, b.aging_bucket, b.escalated) for b in usd.open_breaks] == [
        ("AAPL", 1, "0-1", True),
        ("MSFT", 0, "0-1", False),
    ]
    assert usd.escalated_count == 1 and eur.escalated_count == 0
    # Every configured bucket is listed; 0-1 holds AAPL |-100000.00| + MSFT |-4000| = 104000.00 USD.
    assert [(c.bucket, c.count, c.base_amount.amount.value, c.base_amount.currency) for c in usd.buckets] == [
        ("0-1", 2, "104000.00", "USD"),
        ("2-3", 0, "0", "USD"),
        ("4-7", 0, "0", "USD"),
        ("8+", 0, "0", "USD"),
    ]
    assert (eur.buckets[0].bucket, eur.buckets[0].count, eur.buckets[0].base_amount.amount.value) == (
        "0-1",
        1,
        "7500.50",
    )
    assert subjects(list(eur.open_breaks)) == ["SAP"]
    only = await served.stub.GetReconciliation(pb.GetReconciliationRequest(mandate_id=EUR_FUND))
    assert [m.mandate_id for m in only.mandates] == [EUR_FUND] and only.mandates[0] == eur
    message, violations, _ = await refused(
        served.stub.GetReconciliation(pb.GetReconciliationRequest(mandate_id="NOPE")),
        grpc.StatusCode.NOT_FOUND,
    )
    assert "NOPE" in message and "mandate_id" in violations


async def test_list_breaks_pages_oldest_first(served: Served) -> None:
    everything = (await served.stub.ListBreaks(pb.ListBreaksRequest())).breaks
    assert (
        sorted(subjects(list(everything))[:3]) == ["AAPL", "SAP", "USD"]
        and everything[3].instrument_id == "MSFT"
    )
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await served.stub.ListBreaks(pb.ListBreaksRequest(page_size=1, page_token=token))
        seen.extend(b.break_id for b in page.breaks)
        pages += 1
        if not (token := page.next_page_token):
            break
    assert seen == [b.break_id for b in everything] and pages == 4


async def test_a_page_stops_at_its_byte_budget_whatever_size_was_asked(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a budget smaller than two breaks, every page holds one break (never none) and says where
    to go on, even though 1,000 were asked for; together the pages list every break once."""
    everything = [b.break_id for b in (await served.stub.ListBreaks(pb.ListBreaksRequest())).breaks]
    one_break = min(b.ByteSize() for b in (await served.stub.ListBreaks(pb.ListBreaksRequest())).breaks)
    monkeypatch.setattr("services.recon.server.MAX_PAGE_BYTES", one_break)
    seen: list[str] = []
    token = ""
    while True:
        page = await served.stub.ListBreaks(pb.ListBreaksRequest(page_size=1000, page_token=token))
        assert len(page.breaks) == 1
        seen.extend(b.break_id for b in page.breaks)
        if not (token := page.next_page_token):
            break
    assert seen == everything and len(seen) == 4


async def test_list_breaks_filters(served: Served) -> None:
    async def listed(**fields: object) -> list[str]:
        return subjects(list((await served.stub.ListBreaks(pb.ListBreaksRequest(**fields))).breaks))  # type: ignore[arg-type]

    assert await listed(mandate_id=EUR_FUND) == ["SAP"]
    assert await listed(kinds=[pb.BREAK_KIND_CASH_MISMATCH]) == ["USD"]
    assert await listed(statuses=[pb.BREAK_STATUS_RESOLVED]) == ["USD"]
    assert sorted(await listed(statuses=[pb.BREAK_STATUS_OPEN], min_age_business_days=1)) == ["AAPL", "SAP"]
    assert len(await listed(max_age_business_days=0)) == 4  # 0 means no upper bound
    assert sorted(await listed(max_age_business_days=1, min_age_business_days=1)) == ["AAPL", "SAP"]
    assert sorted(await listed(min_base_amount=common_pb2.Decimal(value="7500.50"))) == ["AAPL", "SAP"]
    assert await listed(escalated_only=True) == ["AAPL"]
    assert await listed(instrument_id="MSFT") == ["MSFT"]
    assert await listed(aging_bucket="2-3") == []
    assert len(await listed(aging_bucket="0-1")) == 4


async def test_list_breaks_reports_every_bad_field(served: Served) -> None:
    request = pb.ListBreaksRequest(
        kinds=[pb.BREAK_KIND_UNSPECIFIED],
        statuses=[pb.BREAK_STATUS_OPEN, 42],
        min_age_business_days=5,
        max_age_business_days=2,
        min_base_amount=common_pb2.Decimal(value="lots"),
        aging_bucket="9-10",
        page_size=5000,
    )
    _, violations, _ = await refused(served.stub.ListBreaks(request), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(violations) == {
        "kinds[0]",
        "statuses[1]",
        "max_age_business_days",
        "min_base_amount",
        "aging_bucket",
        "page_size",
    }
    assert "0-1, 2-3, 4-7, 8+" in violations["aging_bucket"]
    _, violations, _ = await refused(
        served.stub.ListBreaks(
            pb.ListBreaksRequest(min_age_business_days=-1, min_base_amount=common_pb2.Decimal(value="-1"))
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(violations) == {"min_age_business_days", "min_base_amount"}
    _, violations, _ = await refused(
        served.stub.ListBreaks(pb.ListBreaksRequest(page_token="BRK-made-up")),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(violations) == {"page_token"}


async def test_get_break_with_history_and_its_own_lineage(served: Served) -> None:
    detail = await served.stub.GetBreak(pb.GetBreakRequest(break_id=AAPL))
    stored = served.store.get_break(AAPL)
    assert stored is not None
    assert detail.record.break_id == AAPL and detail.record.quantity_difference.value == "-200"
    assert detail.record.base_amount_difference.amount.value == "-100000.00"
    assert detail.record.base_amount_difference.currency == "USD"
    assert not detail.record.HasField("book_date") and not detail.record.HasField("resolved_at")
    assert [a.kind for a in detail.history] == [pb.ACTION_KIND_OPENED, pb.ACTION_KIND_ESCALATED]
    assert all(a.actor == "recon" for a in detail.history)
    assert list(detail.lineage.caused_by) == ["mkt-7"] and detail.lineage.trace_id == stored.trace_id
    assert len(detail.lineage.records) == 0
    resolved = await served.stub.GetBreak(pb.GetBreakRequest(break_id=USD_CASH))
    assert resolved.record.status == pb.BREAK_STATUS_RESOLVED and resolved.record.HasField("resolved_at")
    assert [a.kind for a in resolved.history] == [pb.ACTION_KIND_OPENED, pb.ACTION_KIND_AUTO_RESOLVED]


async def test_get_break_refusals(served: Served) -> None:
    message, violations, metadata = await refused(
        served.stub.GetBreak(pb.GetBreakRequest(break_id="BRK-unknown")), grpc.StatusCode.NOT_FOUND
    )
    assert "BRK-unknown" in message and "break_id" in violations and metadata == {"break_id": "BRK-unknown"}
    _, violations, _ = await refused(
        served.stub.GetBreak(pb.GetBreakRequest()), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert set(violations) == {"break_id"}


async def test_get_break_asks_the_lineage_callable(serve: ServeFactory) -> None:
    asked: list[str] = []
    tick = LogRecord(
        source="market",
        seq=7,
        event_id="mkt-7",
        kind="trade.fill",
        sim_time=dt.datetime(2024, 3, 11, 15, 0, tzinfo=dt.UTC),
        payload=b"",
        trace_id="ab" * 16,
        caused_by=(),
        mandate_id=USD_FUND,
        summary="fill of AAPL",
        recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )

    async def lineage(brk: Break) -> Lineage:
        asked.append(brk.break_id)
        return Lineage(caused_by=brk.caused_by, trace_id="ab" * 16, records=(tick,))

    async with serve(lineage=lineage) as served:
        detail = await served.stub.GetBreak(pb.GetBreakRequest(break_id=AAPL))
    assert asked == [AAPL]
    [record] = detail.lineage.records
    assert (record.source, record.seq, record.event_id, record.kind, record.summary) == (
        "market",
        7,
        "mkt-7",
        "trade.fill",
        "fill of AAPL",
    )
    assert detail.lineage.trace_id == "ab" * 16 and record.sim_time.ToDatetime(tzinfo=dt.UTC) == tick.sim_time
