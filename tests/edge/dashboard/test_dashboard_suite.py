"""The dashboard of the edge `opsuite up` started, against the shared finished suite (tests/conftest.py):
the page and its event stream show what the services answer over gRPC (the clock, the trial
balances, the NAVs), a break's page shows exactly the chain `opsuite trace` prints, a trace page any
id's chain, and the NAV charts' series follow GetNavHistory. Nothing is slept for: each wait is on an
event or a condition, bounded.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from decimal import Decimal

import grpc
import httpx
import pytest

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.edge.dashboard.domain.formatting import amount
from tests.edge.dashboard.events import EventStream
from tests.support.finished_suite import RunningSuite
from tests.support.waiting import wait_until

PANELS = {"clock", "breaks", "nav", "dq", "ledger", "documents", "status"}


def _answers(http: httpx.Client, path: str) -> bool:
    try:
        return http.get(path).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def client(finished_suite: RunningSuite) -> Iterator[httpx.Client]:
    """The suite's own edge, once it serves (opsuite up starts it last, after the suite has caught up)."""
    with httpx.Client(base_url=finished_suite.edge_url, timeout=60) as http:
        wait_until(
            lambda: _answers(http, "/healthz"),
            timeout=60,
            what=f"the suite's edge at {finished_suite.edge_url}",
        )
        yield http


def _channel(suite: RunningSuite, service: str) -> grpc.Channel:
    return grpc.insecure_channel(suite.addresses[service])


def _mandates(suite: RunningSuite) -> list[str]:
    with _channel(suite, "market") as channel:
        reply = market_pb2_grpc.MarketServiceStub(channel).ListMandates(
            market_pb2.ListMandatesRequest(), timeout=10
        )
    return sorted(m.mandate_id for m in reply.mandates)


def _cells(row: str) -> list[str]:
    """The text of each cell of a table row (tags dropped, entities decoded, spaces collapsed)."""
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", c.replace("<br>", " "))).split()) for c in cells]


def _chain_rows(page: str) -> list[list[str]]:
    table = re.search(r'<table class="chain">(.*?)</table>', page, re.S)
    assert table, "no chain table on the page"
    return [_cells(row) for row in re.findall(r'<tr class="stage-[^"]*">(.*?)</tr>', table.group(1), re.S)]


def _table_rows(page: str, css_class: str) -> dict[str, list[str]]:
    """The body rows of the first table of that class, by their first cell."""
    table = re.search(rf'<table class="{css_class}">(.*?)</table>', page, re.S)
    assert table, f"no {css_class} table on the page"
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(1), re.S)
    assert body
    rows = [_cells(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]
    return {row[0].split()[0]: row for row in rows}


def test_the_page_shows_the_clock_the_nav_and_the_trial_balances_the_services_answer(
    finished_suite: RunningSuite, client: httpx.Client
) -> None:
    with _channel(finished_suite, "market") as channel:
        clock = market_pb2_grpc.MarketServiceStub(channel).GetClock(market_pb2.GetClockRequest(), timeout=10)
    day = f"{clock.sim_date.year:04d}-{clock.sim_date.month:02d}-{clock.sim_date.day:02d}"
    mandates = _mandates(finished_suite)
    balances = {}
    with _channel(finished_suite, "ledger") as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        for mandate_id in mandates:
            balances[mandate_id] = stub.GetTrialBalance(
                ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate_id), timeout=10
            )
    with _channel(finished_suite, "reporting") as channel:
        listed = reporting_pb2_grpc.ReportingServiceStub(channel).ListMandates(
            reporting_pb2.ListMandatesRequest(), timeout=10
        )

    def page_when_every_panel_has_its_figures() -> str | None:
        page = client.get("/").text
        ready = (
            f'data-sim-date="{day}"' in page
            and all(m in page for m in mandates)
            and not re.search(r"Connecting to \w+ at", page)  # a panel whose feed has not answered yet
            and "waiting for its trial balance" not in page
        )
        return page if ready else None

    page = wait_until(
        page_when_every_panel_has_its_figures, timeout=60, what="every panel of / to show the suite"
    )
    assert client.get("/").headers["content-type"].startswith("text/html")
    # Keyboard and reading: a skip link to the main content, labelled controls, headed panels.
    assert '<a class="skip" href="#main">' in page and '<main id="main"' in page
    assert '<label for="confirmation-file">' in page and '<label for="question">' in page
    assert '<label for="nav-mandate">' in page
    for heading in (
        "Simulated clock",
        "Open breaks",
        "NAV and returns",
        "Data quality",
        "Ledger",
        "Documents",
    ):
        assert f">{heading}" in page
    assert clock.regime in page

    ledger = _table_rows(page, "ledger")
    for mandate_id, balance in balances.items():
        row = ledger[mandate_id]
        base = balance.base_currency
        assert row[1] == amount(balance.base_totals.debit_total.amount.value, base), row
        assert row[2] == amount(balance.base_totals.credit_total.amount.value, base), row
        assert row[3] == ("yes" if balance.balanced else "no")
        assert row[4] == f"{balance.journal_count:,}"
        assert "," in row[1]  # thousands separators, from the Decimal

    nav = _table_rows(page, "nav")
    for summary in listed.mandates:
        row = nav[summary.mandate_id]
        assert summary.name in row[0]
        assert row[2] == f"{amount(summary.nav.amount.value, summary.base_currency)} {summary.base_currency}"
        assert row[3] == amount(summary.nav_per_unit.amount.value, "")

    # The finished suite's custodian corrected every fault by its last day: no open break.
    with _channel(finished_suite, "recon") as channel:
        still_open = recon_pb2_grpc.ReconServiceStub(channel).ListBreaks(
            recon_pb2.ListBreaksRequest(
                statuses=[recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING]
            ),
            timeout=10,
        )
    if not still_open.breaks:
        assert "No open breaks" in page


def test_the_event_stream_sends_every_panel_rendered_and_live(
    finished_suite: RunningSuite, client: httpx.Client
) -> None:
    stream = EventStream(f"{finished_suite.edge_url}/events")
    try:
        assert stream.status_code == 200
        assert stream.headers is not None
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-store"
        latest = stream.panels(PANELS, timeout=30)
        assert stream.retry_ms == 2000
        for name, payload in latest.items():
            assert payload["version"] >= 1 and "<" in payload["html"], name
        for name in PANELS - {"status"}:
            if latest[name]["state"] != "live":  # a feed may still be connecting: wait for it
                stream.wait_panel(name, 30, f"the {name} panel to be live", state="live")
        if latest["status"]["down"]:
            stream.wait_panel("status", 30, "every service to be live", down=[])
        mandates = _mandates(finished_suite)
        assert sorted(m["mandate_id"] for m in latest["nav"]["mandates"]) == mandates
    finally:
        stream.close()


def _a_break_with_a_long_chain(suite: RunningSuite) -> str:
    with _channel(suite, "recon") as channel:
        listed = recon_pb2_grpc.ReconServiceStub(channel).ListBreaks(
            recon_pb2.ListBreaksRequest(top_level_only=True, page_size=100), timeout=10
        )
    # A trade break of the custodian's: fill, custodian, break, aging, correction, resolution.
    trade = [
        b
        for b in listed.breaks
        if b.scope == recon_pb2.SCOPE_TRADE
        and b.comparison == recon_pb2.COMPARISON_BOOK_VS_CUSTODIAN
        and b.age_business_days >= 2
    ]
    assert trade, "the finished suite has no trade-level break that aged"
    return max(trade, key=lambda b: b.age_business_days).break_id


def test_a_break_page_shows_exactly_the_chain_opsuite_trace_prints(
    finished_suite: RunningSuite, client: httpx.Client
) -> None:
    break_id = _a_break_with_a_long_chain(finished_suite)
    answer = client.get(f"/breaks/{break_id}")
    assert answer.status_code == 200, answer.text[:2000]
    page = answer.text
    traced = finished_suite.opsuite("trace", break_id, "-o", "json")
    assert traced.returncode == 0, traced.stderr
    records = json.loads(traced.stdout)["records"]
    rows = _chain_rows(page)
    # Simulated time, stage, kind, record, what, caused by: the same records, in the same order.
    assert [(r[2], r[3], r[4]) for r in rows] == [(x["kind"], x["event_id"], x["what"]) for x in records]
    assert [r[0] for r in rows] == [x["sim_time"][:16].replace("T", " ") for x in records]
    stages = [r[1] for r in rows]
    assert (
        stages[:2] == ["tick", "fill"] and "custodian" in stages and "break" in stages and "aging" in stages
    )
    # Every record links to its own trace page; its causes too; the break's id links to this page.
    for record in records:
        assert f'href="/trace/{record["event_id"]}"' in page
        for cause in record["caused_by"]:
            assert f'href="/trace/{cause}"' in page or f'href="/breaks/{cause}"' in page
    assert f'href="/breaks/{break_id}"' in page  # the break's id in its records' lines
    assert "Its history" in page and "opened" in page
    # The page follows the break live.
    assert f'data-break="{break_id}"' in page and "/dashboard/static/break.js" in page
    live = client.get(f"/breaks/{break_id}/live")
    assert live.status_code == 200 and _chain_rows(live.text) == rows


def test_a_trace_page_shows_any_id_s_chain_and_says_when_there_is_none(
    finished_suite: RunningSuite, client: httpx.Client
) -> None:
    break_id = _a_break_with_a_long_chain(finished_suite)
    with _channel(finished_suite, "recon") as channel:
        stub = recon_pb2_grpc.ReconServiceStub(channel)
        fill_event = (
            stub.GetChain(recon_pb2.GetChainRequest(id=break_id), timeout=60).records[0].record.event_id
        )
        chain = stub.GetChain(recon_pb2.GetChainRequest(id=fill_event), timeout=60)
    answer = client.get(f"/trace/{fill_event}")
    assert answer.status_code == 200
    rows = _chain_rows(answer.text)
    assert [r[3] for r in rows] == [item.record.event_id for item in chain.records]
    assert [r[4] for r in rows] == [item.description for item in chain.records]
    assert f"<h1>{html.escape(chain.title)}</h1>" in answer.text
    for found in chain.break_ids:
        assert f'href="/breaks/{found}"' in answer.text

    missing = client.get("/trace/mkt-999999999")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "nothing found for" in html.unescape(missing.text)
    blank = client.get("/trace/%20")
    assert blank.status_code == 400
    unknown = client.get("/breaks/BRK-0000000000")
    assert unknown.status_code == 404 and "BRK-0000000000" in unknown.text


def test_the_nav_charts_follow_get_nav_history(finished_suite: RunningSuite, client: httpx.Client) -> None:
    mandate_id = "EQ-EUR"
    points: list[reporting_pb2.NavPoint] = []
    with _channel(finished_suite, "reporting") as channel:
        stub = reporting_pb2_grpc.ReportingServiceStub(channel)
        token = ""
        while True:
            reply = stub.GetNavHistory(
                reporting_pb2.GetNavHistoryRequest(mandate_id=mandate_id, page_size=1000, page_token=token),
                timeout=10,
            )
            points += reply.points
            token = reply.next_page_token
            if not token:
                break
    data = wait_until(
        lambda: (
            (r := client.get(f"/dashboard/nav/{mandate_id}")).status_code == 200
            and len(r.json()["x"]) == len(points)
            and r.json()
        ),
        timeout=30,
        what=f"the NAV feed to hold {mandate_id}'s history",
    )
    assert data["base_currency"] == "EUR" and len(points) > 30
    assert data["portfolio"] == pytest.approx([100 * (1 + p.cumulative_return) for p in points])
    assert data["benchmark"] == pytest.approx([100 * (1 + p.benchmark_cumulative_return) for p in points])
    # The drawdown from the NAVs per unit, worked out here independently: the running peak.
    peak = Decimal(0)
    expected = []
    for point in points:
        value = Decimal(point.nav_per_unit.amount.value)
        peak = max(peak, value)
        expected.append(float((value / peak - 1) * 100))
    assert data["drawdown_pct"] == pytest.approx(expected)
    assert min(expected) < 0  # EQ-EUR fell in February 2020
    assert client.get("/dashboard/nav/NOPE").status_code == 404


def test_the_page_s_files_are_the_edge_s_own(client: httpx.Client) -> None:
    page = client.get("/").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith(("/", "#", "data:")) for s in sources), sources
    for path in ("/dashboard/static/dashboard.js", "/dashboard/static/dashboard.css",
                 "/dashboard/static/vendor/uplot/uPlot.iife.min.js", "/dashboard/static/vendor/uplot/uPlot.min.css"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    assert "MIT" in client.get("/dashboard/static/vendor/uplot/LICENSE").text
