"""The live view as a person sees it: its panels drawn from the services' replies, at 80×24 in a real
terminal (tmux), attached to a finished suite by `opsuite view` and under `opsuite up`; reporting's
NAVs beside the ledger's books, and a plain line in their place when reporting does not answer;
dq's open issues and the values it holds back (in a real terminal: tests/dq/process/test_dq_view.py).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
from rich.console import Console

from opsuite.common.v1 import common_pb2, status_pb2
from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.cli.output import grouped
from services.cli.registry import free_port
from services.cli.view.dq import DqFeed
from services.cli.view.layout import Screen
from services.cli.view.live import LiveView
from services.cli.view.model import (
    CashRow,
    DqBoard,
    FillRow,
    NavBoard,
    NavRow,
    PriceRow,
    ServiceRow,
    ViewState,
    cash_rows,
    date_text,
    dq_board,
    nav_row,
    recon_summary,
)
from services.cli.view.panels import (
    REPORTING_TITLE,
    dq_panel,
    header,
    ledger_panel,
    percent_text,
    recon_panel,
    reporting_panel,
)
from services.cli.view.reporting import ReportingFeed
from services.cli.view.sources import Sources
from services.common.channels import PLAINTEXT
from services.common.settings import SERVICES
from tests.cli.conftest import RunningSuite, clean_environment
from tests.support.processes import ROOT
from tests.support.waiting import wait_until

PANEL_TITLES = ("last prices", "last fills", "ledger: cash and suspense", "recon as of", "services")


def _text(renderable: object, width: int = 80, height: int = 24) -> str:
    console = Console(width=width, height=height, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def _ends(line: str) -> list[tuple[str, int]]:
    """Each word of a line with the column it ends at."""
    return [(m.group(), m.end()) for m in re.finditer(r"\S+", line)]


# ---------------------------------------------------------------- panels, without a server


def _trial_balance(mandate: str, base: str, lines: list[tuple[str, str, str]]) -> ledger_pb2.TrialBalance:
    balance = ledger_pb2.TrialBalance(
        mandate_id=mandate, base_currency=base, balanced=True, journal_count=1234, posting_count=5678
    )
    for account, currency, amount in lines:
        line = balance.lines.add(account=account, currency=currency)
        line.balance.amount.value, line.balance.currency = amount, currency
    return balance


def test_the_ledger_panel_puts_each_mandates_cash_beside_its_suspense() -> None:
    rows = cash_rows(
        _trial_balance(
            "EQ-EUR",
            "EUR",
            [
                ("Assets:Cash:EUR", "EUR", "-123600000.00"),
                ("Assets:Suspense:EUR", "EUR", "-4321.50"),
                ("Assets:Cash:USD", "USD", "1500.25"),
                ("Assets:Securities:EU-RHNA", "EUR", "999999.00"),
            ],
        )
    ) + cash_rows(_trial_balance("BAL-USD", "USD", [("Assets:Cash:USD", "USD", "8688658.03")]))

    assert [(r.mandate_id, r.currency, r.cash, r.suspense) for r in rows] == [
        ("EQ-EUR", "EUR", Decimal("-123600000.00"), Decimal("-4321.50")),  # the base currency first
        ("EQ-EUR", "USD", Decimal("1500.25"), Decimal(0)),
        ("BAL-USD", "USD", Decimal("8688658.03"), Decimal(0)),
    ]
    text = _text(ledger_panel(rows, limit=10, compact=True))
    eur = _line(text, "EQ-EUR")
    assert "-123,600,000.00" in eur and "EUR" in eur and "-4,321.50" in eur and "1,234" in eur
    bal = _line(text, "BAL-USD")
    assert "8,688,658.03" in bal
    # Right-aligned: the amounts of one column end in the same place.
    assert eur.index("-123,600,000.00") + len("-123,600,000.00") == bal.index("8,688,658.03") + len(
        "8,688,658.03"
    )
    assert "Securities" not in text and "999,999" not in text


def _break(mandate: str, kind: int, bucket: str, *, escalated: bool = False, age: int = 0) -> recon_pb2.Break:
    brk = recon_pb2.Break(
        break_id=f"BRK-{uuid.uuid4().hex[:20]}",
        mandate_id=mandate,
        kind=kind,  # type: ignore[arg-type]
        status=recon_pb2.BREAK_STATUS_OPEN,
        aging_bucket=bucket,
        age_business_days=age,
        escalated=escalated,
        escalation_reason="past its SLA of 3 business days" if escalated else "",
    )
    brk.base_amount_difference.amount.value, brk.base_amount_difference.currency = "-123600000.00", "EUR"
    return brk


def _reconciliation() -> recon_pb2.Reconciliation:
    reconciliation = recon_pb2.Reconciliation()
    reconciliation.as_of_date.year, reconciliation.as_of_date.month, reconciliation.as_of_date.day = (
        2020,
        3,
        2,
    )
    for mandate, breaks in {
        "EQ-EUR": [
            _break("EQ-EUR", recon_pb2.BREAK_KIND_CASH_MISMATCH, "8+", escalated=True, age=9),
            _break("EQ-EUR", recon_pb2.BREAK_KIND_CASH_MISMATCH, "0-1"),
            _break("EQ-EUR", recon_pb2.BREAK_KIND_SETTLEMENT_DATE_MISMATCH, "2-3"),
        ],
        "BAL-USD": [_break("BAL-USD", recon_pb2.BREAK_KIND_CASH_MISMATCH, "4-7")],
    }.items():
        entry = reconciliation.mandates.add(
            mandate_id=mandate, escalated_count=sum(b.escalated for b in breaks)
        )
        entry.open_breaks.extend(breaks)
        for label in ("0-1", "2-3", "4-7", "8+"):
            entry.buckets.add(bucket=label)
        entry.timing_items.add(item_id=f"T-{mandate}")
    return reconciliation


def test_the_recon_panel_counts_open_breaks_by_kind_and_aging_bucket() -> None:
    reconciliation = _reconciliation()
    escalated = [b for m in reconciliation.mandates for b in m.open_breaks if b.escalated]
    summary = recon_summary(reconciliation, escalated)

    assert (summary.open, summary.escalated, summary.timing_items) == (4, 1, 2)
    assert summary.buckets == ("0-1", "2-3", "4-7", "8+")
    text = _text(recon_panel(summary, limit=10, compact=True))
    assert "recon as of 2020-03-02: 4 open, 1 escalated, 2 timing" in text
    header = _line(text, "open breaks by kind")
    cash = _line(text, "cash ")
    # cash: one in 0-1, none in 2-3, one in 4-7, one in 8+; three open, one escalated, two mandates.
    assert cash.split()[1:7] == ["1", "0", "1", "1", "3", "1"], cash
    assert cash.rstrip().endswith("BAL-USD, EQ-EUR")
    # Right-aligned under their bucket: "8+" ends where the cash row's count in it ends.
    assert _ends(header)[7] == ("8+", _ends(cash)[4][1])
    assert _line(text, "settlement date").split()[2:7] == ["0", "1", "0", "0", "1"]
    assert summary.escalations[0].reason == "past its SLA of 3 business days"


def _clock() -> market_pb2.Clock:
    clock = market_pb2.Clock(head_seq=1234567, regime="crisis", running=True, business_days_per_second=2)
    clock.sim_date.year, clock.sim_date.month, clock.sim_date.day = 2020, 3, 16
    return clock


def _busy_state(services: tuple[ServiceRow, ...], supervised: bool) -> ViewState:
    reconciliation = _reconciliation()
    escalated = [b for m in reconciliation.mandates for b in m.open_breaks if b.escalated]
    cash = tuple(
        CashRow(m, c, Decimal("-123600000.00"), Decimal("-4321.50"), 12345, 67890, True)
        for m, c in [("BAL-USD", "USD"), ("EQ-EUR", "EUR"), ("EQ-EUR", "USD"), ("EQ-JPY", "JPY"),
                     ("FI-USD", "USD"), ("INC-GBP", "GBP")]
    )  # fmt: skip
    return ViewState(
        clock=_clock(),
        events_per_second=1234.4,
        done=False,
        prices=tuple(PriceRow(f"SYM{i}", Decimal("12345.678"), "JPY") for i in range(10)),
        fills=tuple(
            FillRow(
                "2020-03-16", "FI-USD", "BUY", Decimal(1_156_000), "PTRX 3 5/8 02/15/30", Decimal("101.4")
            )
            for _ in range(8)
        ),
        fill_count=4321,
        cash=cash,
        recon=recon_summary(reconciliation, escalated),
        services=services,
        not_built=("dq", "reporting", "documents"),
        supervised=supervised,
    )


def test_at_80_by_24_every_panel_stays_on_screen_with_fewer_rows() -> None:
    services = tuple(
        ServiceRow(name, "127.0.0.1:50051", state, restarts, 4242, 0, "2020-03-16", "1h02m03s")
        for name, state, restarts in [("market", "running", 0), ("ledger", "restarting in 4 s", 3),
                                      ("recon", "failed", 5)]
    )  # fmt: skip
    text = _text(Screen(_busy_state(services, supervised=True)))
    lines = text.rstrip("\n").splitlines()

    assert len(lines) <= 23, text
    for title in PANEL_TITLES:
        assert title in text, (title, text)
    assert "2020-03-16" in lines[0] and "seq 1,234,567" in lines[0] and "1,234 events/s" in lines[0]
    assert "of 10 watched" in text  # the prices panel says it shows fewer than it has
    assert "-123,600,000.00" in text and "-4,321.50" in text
    assert "12,345.678" in text and "1,156,000" in text
    ledger = _line(text, "ledger ")
    assert "restarting in 4 s" in ledger and " 3 " in ledger and "4242" in ledger
    assert re.search(r"^recon\s+failed\s+5\s", text, re.MULTILINE), text
    assert "not built in this release" in text


def _synthetic(clock: market_pb2.Clock) -> market_pb2.Clock:
    clock.real_data_end.year, clock.real_data_end.month, clock.real_data_end.day = 2024, 12, 31
    clock.sim_date.year, clock.sim_date.month, clock.sim_date.day = 2031, 5, 2
    origin = clock.synthetic
    origin.replayed.year, origin.replayed.month, origin.replayed.day = 2008, 9, 15
    origin.block_first.year, origin.block_first.month, origin.block_first.day = 2008, 9, 2
    origin.block_last.year, origin.block_last.month, origin.block_last.day = 2008, 9, 30
    return clock


def test_the_header_says_a_synthetic_day_and_the_real_block_it_was_drawn_from() -> None:
    clock = _synthetic(_clock())
    compact = _text(header(clock, 1234.4, done=False, compact=True)).splitlines()
    boxed = _text(header(clock, 1234.4, done=False, compact=False), width=120).splitlines()

    assert "2031-05-02" in compact[0]
    assert compact[1] == "synthetic (drawn from 2008-09-02 .. 2008-09-30)"
    assert all(len(line) <= 80 for line in compact)
    assert boxed[1].startswith("synthetic (drawn from 2008-09-02 .. 2008-09-30, replaying 2008-09-15)")
    assert boxed[1].rstrip().endswith("real data ended 2024-12-31")
    screen = _text(Screen(replace(_busy_state((), supervised=False), clock=clock)))
    assert "synthetic (drawn from 2008-09-02 .. 2008-09-30)" in screen.splitlines()[1]


def test_the_header_says_real_data_on_a_real_day_and_nothing_before_the_first() -> None:
    clock = _clock()
    assert _text(header(clock, 0, done=False, compact=True)).splitlines()[1] == "real data"
    clock.real_data_end.year, clock.real_data_end.month, clock.real_data_end.day = 2024, 12, 31
    boxed = _text(header(clock, 0, done=False, compact=False), width=120).splitlines()
    assert boxed[1].rstrip() == "real data (to 2024-12-31)"
    assert "synthetic" not in "".join(boxed)
    before = market_pb2.Clock(running=True)
    assert len(_text(header(before, 0, done=False, compact=True)).splitlines()) == 1


def test_the_plain_line_says_real_or_synthetic() -> None:
    view = LiveView(
        {n: f"h:{i}" for i, n in enumerate(SERVICES)}, None, plain=True, console=Console(), security=PLAINTEXT
    )
    sources = SimpleNamespace(recon=None, answers={}, dq_board=lambda: DqBoard(absent="not built"))

    def line(clock: market_pb2.Clock) -> str:
        market = SimpleNamespace(clock=clock, events_per_second=10.0, fill_count=3)
        return view.plain_line(market, sources)  # type: ignore[arg-type]

    assert line(_clock()).startswith("2020-03-16 real regime=crisis ")
    synthetic = line(_synthetic(_clock()))
    assert synthetic.startswith("2031-05-02 synthetic drawn_from=2008-09-02..2008-09-30 regime=crisis ")
    assert " real " not in synthetic


def test_a_large_console_gets_every_row_and_the_escalations() -> None:
    services = (ServiceRow("market", "127.0.0.1:50051", "serving", None, None, 0, "2020-03-16", "0h00m09s"),)
    text = _text(Screen(_busy_state(services, supervised=False)), width=200, height=60)

    assert "of 10 watched" not in text and text.count("SYM") == 10
    assert "escalated, oldest first (1)" in text and "past its SLA" in text
    assert "restarts" not in text  # attached to a suite, there are no processes of its own
    assert "127.0.0.1:50051" in text


def test_the_services_panel_takes_state_and_restarts_from_the_supervisor() -> None:
    running = SimpleNamespace(returncode=None, pid=101)
    crashed = SimpleNamespace(returncode=-9, pid=102)
    children = [
        SimpleNamespace(name="market", address="a:1", process=running, restarts=0, state="running"),
        SimpleNamespace(name="ledger", address="a:2", process=crashed, restarts=2, state="restarting in 4 s"),
        # A supervisor that says neither: the process tells.
        SimpleNamespace(name="recon", address="a:3", process=crashed),
    ]
    view = LiveView({"market": "a:1"}, children, plain=True, console=Console(), security=PLAINTEXT)
    rows = view.service_rows(SimpleNamespace(answers={}))  # type: ignore[arg-type]

    assert [(r.name, r.state, r.restarts, r.pid) for r in rows] == [
        ("market", "running", 0, 101),
        ("ledger", "restarting in 4 s", 2, 102),
        ("recon", "exited -9", 0, 102),
    ]


def test_attached_the_services_state_is_their_health() -> None:
    status = status_pb2.ServiceStatus(lag=12345, not_serving_reason="catching up")
    status.uptime.seconds = 90061
    view = LiveView(
        {n: f"h:{i}" for i, n in enumerate(SERVICES)}, None, plain=True, console=Console(), security=PLAINTEXT
    )
    answers = {
        "market": SimpleNamespace(health="SERVING", status=status_pb2.ServiceStatus()),
        "ledger": SimpleNamespace(health="NOT_SERVING", status=status),
    }
    rows = {r.name: r for r in view.service_rows(SimpleNamespace(answers=answers))}  # type: ignore[arg-type]

    assert rows["market"].state == "serving"
    assert rows["ledger"].state == "not serving: catching up"
    assert (rows["ledger"].lag, rows["ledger"].uptime) == (12345, "1d01h01m01s")
    assert rows["recon"].state == "-"  # not heard from yet


# ---------------------------------------------------------------- reporting's panel, without a server


def test_returns_show_as_signed_percentages_to_two_decimals() -> None:
    assert percent_text(0.012345) == "+1.23%"
    assert percent_text(-0.0456) == "-4.56%"
    assert percent_text(1.5) == "+150.00%"
    assert percent_text(0.00125) == "+0.12%"  # half-even on the decimal, as money rounds
    assert percent_text(0.00135) == "+0.14%"
    # Rounded to nothing, a figure has no direction to show.
    assert percent_text(-0.00004) == "0.00%" and percent_text(0.0) == "0.00%"
    assert percent_text(None) == "-" and percent_text(float("nan")) == "-"


def _summary(
    mandate: str, ccy: str, nav: str | None, per_unit: str = "", ytd: float = 0.0
) -> reporting_pb2.MandateSummary:
    summary = reporting_pb2.MandateSummary(mandate_id=mandate, base_currency=ccy, return_ytd=ytd)
    if nav is not None:  # reporting has valued a day end of it
        summary.nav_date.CopyFrom(common_pb2.Date(year=2020, month=2, day=27))
        summary.nav.amount.value, summary.nav.currency = nav, ccy
        summary.nav_per_unit.amount.value, summary.nav_per_unit.currency = per_unit, ccy
    return summary


def test_a_reporting_row_shows_nav_grouped_returns_signed_and_dashes_where_there_is_no_figure() -> None:
    rows = (
        nav_row(_summary("BAL-USD", "USD", "123456789.01", "101.2345", ytd=-0.0456), 0.012345),
        nav_row(_summary("EQ-EUR", "EUR", "-1500.25", "99.5", ytd=0.1), None),  # day return not fetched
        nav_row(_summary("EQ-JPY", "JPY", None, ytd=0.0), 0.5),  # not valued yet: its zeros mean nothing
    )
    assert rows[0] == NavRow(
        "BAL-USD", "2020-02-27", Decimal("123456789.01"), "USD", Decimal("101.2345"), 0.012345, -0.0456
    )
    assert (rows[2].nav_date, rows[2].nav, rows[2].nav_per_unit, rows[2].day_return, rows[2].ytd_return) == (
        "-", None, None, None, None,
    )  # fmt: skip

    text = _text(reporting_panel(NavBoard(rows=rows), limit=10, compact=True))
    assert REPORTING_TITLE in text
    assert _line(text, "BAL-USD").split() == [
        "BAL-USD", "2020-02-27", "123,456,789.01", "USD", "101.2345", "+1.23%", "-4.56%",
    ]  # fmt: skip
    assert _line(text, "EQ-EUR").split() == [
        "EQ-EUR", "2020-02-27", "-1,500.25", "EUR", "99.5", "-", "+10.00%",
    ]  # fmt: skip
    assert _line(text, "EQ-JPY").split() == ["EQ-JPY", "-", "-", "JPY", "-", "-", "-"]
    # Right-aligned: the NAVs of one column end in the same place.
    bal, eur = _line(text, "BAL-USD"), _line(text, "EQ-EUR")
    assert bal.index("123,456,789.01") + len("123,456,789.01") == eur.index("-1,500.25") + len("-1,500.25")


def test_reporting_without_figures_is_one_line_saying_why() -> None:
    assert _text(reporting_panel(NavBoard(absent="not answering at [::1]:50053"), 5, True)).strip() == (
        "reporting: not answering at [::1]:50053"  # an address with brackets is not taken for markup
    )
    assert _text(reporting_panel(NavBoard(), 5, True)).strip() == "reporting: no mandates yet"
    valued = NavBoard(rows=(nav_row(_summary("BAL-USD", "USD", "1.00", "1"), None),) * 5)
    assert _text(reporting_panel(valued, 0, True)).strip() == (
        f"{REPORTING_TITLE} of 5 mandates to 2020-02-27 (no room for rows)"
    )


def _nav_board() -> NavBoard:
    mandates = {"BAL-USD": "USD", "EQ-EUR": "EUR", "EQ-JPY": "JPY", "FI-USD": "USD", "INC-GBP": "GBP"}
    return NavBoard(
        rows=tuple(
            NavRow(m, "2020-03-16", Decimal("1234567890.12"), c, Decimal("101.2345"), 0.0123, -0.0456)
            for m, c in mandates.items()
        )
    )


def test_at_80_by_24_reporting_gives_way_to_the_ledgers_rows_and_at_80_by_40_shows_every_mandate() -> None:
    services = tuple(
        ServiceRow(name, "127.0.0.1:50051", "running", 0, 4242, 0, "2020-03-16", "1h02m03s")
        for name in ("market", "ledger", "recon", "reporting")
    )
    state = replace(_busy_state(services, supervised=True), reporting=_nav_board())

    small = _text(Screen(state))
    assert len(small.rstrip("\n").splitlines()) <= 23, small
    assert f"{REPORTING_TITLE} of 5 mandates to 2020-03-16 (no room for rows)" in small
    assert small.count("-123,600,000.00") == 6  # every cash row kept
    for title in PANEL_TITLES:
        assert title in small, (title, small)

    tall = _text(Screen(state), height=40)
    assert len(tall.rstrip("\n").splitlines()) <= 39, tall
    assert tall.count("1,234,567,890.12") == 5 and tall.count("-4.56%") == 5, tall


async def test_sources_say_reporting_is_not_answering_or_not_built() -> None:
    address = f"127.0.0.1:{free_port('127.0.0.1')}"  # nothing listens there
    sources = Sources({"reporting": address}, ["reporting"], PLAINTEXT)
    try:
        await sources.poll([])
        assert sources.nav_board() == NavBoard(absent=f"not answering at {address}")
    finally:
        await sources.close()

    without = Sources({"reporting": address}, [], PLAINTEXT)  # an installation without services/reporting
    try:
        await without.poll([])
        assert without.nav_board() == NavBoard(absent="not built in this release")
    finally:
        await without.close()


class _FakeReporting:
    """ReportingService's two calls the view makes, counted; ListMandates raises `error` when set."""

    def __init__(self, summaries: list[reporting_pb2.MandateSummary]):
        self.summaries = summaries
        self.error: grpc.aio.AioRpcError | None = None
        self.history_calls: list[tuple[str, str, str]] = []

    async def ListMandates(self, request: object, timeout: float) -> reporting_pb2.ListMandatesResponse:
        if self.error is not None:
            raise self.error
        return reporting_pb2.ListMandatesResponse(mandates=self.summaries)

    async def GetNavHistory(
        self, request: reporting_pb2.GetNavHistoryRequest, timeout: float
    ) -> reporting_pb2.GetNavHistoryResponse:
        start, end = date_text(request.dates.start), date_text(request.dates.end)
        self.history_calls.append((request.mandate_id, start, end))
        point = reporting_pb2.NavPoint(date=request.dates.end, daily_return=-0.0125)
        return reporting_pb2.GetNavHistoryResponse(mandate_id=request.mandate_id, points=[point])


def _rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


async def test_the_day_return_is_asked_once_per_mandate_and_nav_date() -> None:
    fake = _FakeReporting(
        [_summary("BAL-USD", "USD", "100.00", "1", ytd=0.02), _summary("EQ-JPY", "JPY", None)]
    )
    feed = ReportingFeed(None, "127.0.0.1:1")
    feed.stub = fake  # type: ignore[assignment]

    await feed.poll()
    await feed.poll()  # same NAV date: nothing new to ask
    assert fake.history_calls == [("BAL-USD", "2020-02-27", "2020-02-27")]  # not EQ-JPY: not valued yet
    assert [(r.mandate_id, r.day_return, r.ytd_return) for r in feed.board().rows] == [
        ("BAL-USD", -0.0125, 0.02),
        ("EQ-JPY", None, None),
    ]

    fake.summaries[0].nav_date.day = 28  # the next day end: its own return, asked once
    await feed.poll()
    assert fake.history_calls[1:] == [("BAL-USD", "2020-02-28", "2020-02-28")]

    fake.error = _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
    await feed.poll()
    assert feed.board().rows[0].nav_date == "2020-02-28"  # a slow answer keeps the last figures
    fake.error = _rpc_error(grpc.StatusCode.UNAVAILABLE, "restarting")
    await feed.poll()
    assert feed.board() == NavBoard(absent="not answering at 127.0.0.1:1")
    fake.error = _rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "40 portfolio returns\n but 39")
    await feed.poll()
    assert feed.board() == NavBoard(
        absent="no figures from 127.0.0.1:1: INVALID_ARGUMENT: 40 portfolio returns but 39"
    )


# ---------------------------------------------------------------- dq's panel, without a server


def _dq_status(held_back: int, critical: int = 1, warning: int = 2) -> dq_pb2.DqStatus:
    status = dq_pb2.DqStatus(
        health="critical" if held_back or critical else "degraded" if warning else "ok",
        open_issue_count=critical + warning,
        quarantined_count=held_back,
        as_of_date=common_pb2.Date(year=2020, month=3, day=2),
    )
    for severity, count in (
        (dq_pb2.SEVERITY_CRITICAL, critical),
        (dq_pb2.SEVERITY_WARNING, warning),
        (dq_pb2.SEVERITY_INFO, 0),
    ):
        status.open_by_severity.add(severity=severity, count=count)
    return status


def _held_back(instrument: str, rejected: str, last_good: str | None, issue: str) -> dq_pb2.QuarantineEntry:
    entry = dq_pb2.QuarantineEntry(
        subject_kind=dq_pb2.SUBJECT_KIND_PRICE,
        instrument_id=instrument,
        vendor="vendor_b",
        rejected_date=common_pb2.Date(year=2020, month=3, day=2),
        issue_id=issue,
    )
    entry.rejected_value.value = rejected
    if last_good is not None:
        entry.last_good_value.value = last_good
        entry.last_good_date.CopyFrom(common_pb2.Date(year=2020, month=2, day=28))
    return entry


def _dq_entries() -> list[dq_pb2.QuarantineEntry]:
    return [
        _held_back("US-NWSF", "188.27", "160.46", "dq-13"),
        _held_back("JP-2817", "5087", "12345.5", "dq-11"),
        _held_back("UK-MRSY", "12.30", None, "dq-1"),  # nothing of it has passed yet
    ]


def test_the_dq_board_counts_open_issues_by_severity_and_lists_what_is_held_back() -> None:
    board = dq_board(_dq_status(held_back=3), _dq_entries())

    assert (board.as_of, board.health, board.open, board.held_back) == ("2020-03-02", "critical", 3, 3)
    assert board.open_by_severity == (("critical", 1), ("warning", 2), ("info", 0))
    assert [
        (r.subject, r.vendor, r.rejected, r.last_good, r.last_good_date, r.issue_id) for r in board.rows
    ] == [
        ("US-NWSF", "vendor_b", Decimal("188.27"), Decimal("160.46"), "2020-02-28", "dq-13"),
        ("JP-2817", "vendor_b", Decimal("5087"), Decimal("12345.5"), "2020-02-28", "dq-11"),
        ("UK-MRSY", "vendor_b", Decimal("12.30"), None, "-", "dq-1"),
    ]
    # A count dq says is larger than the page it sent (the view asks for one page) is kept.
    assert dq_board(_dq_status(held_back=60), _dq_entries()).held_back == 60


def test_the_dq_panel_puts_each_rejected_value_beside_its_last_good_one() -> None:
    board = dq_board(_dq_status(held_back=3), _dq_entries())
    text = _text(dq_panel(board, limit=10, compact=True))

    assert "dq 2020-03-02: critical, open 1 crit 2 warn 0 info, 3 held back" in text
    boxed = _text(dq_panel(board, limit=10, compact=False), width=120)
    assert "dq as of 2020-03-02: critical, open 1 critical 2 warning 0 info, 3 held back" in boxed
    assert _line(text, "US-NWSF").split() == [
        "US-NWSF",
        "vendor_b",
        "188.27",
        "160.46",
        "2020-02-28",
        "dq-13",
    ]
    assert _line(text, "JP-2817").split() == [
        "JP-2817",
        "vendor_b",
        "5,087",
        "12,345.5",
        "2020-02-28",
        "dq-11",
    ]
    assert _line(text, "UK-MRSY").split() == ["UK-MRSY", "vendor_b", "12.30", "none", "yet", "-", "dq-1"]
    # Right-aligned: the rejected values end in one column, the last good ones in another.
    nwsf, jp = _line(text, "US-NWSF"), _line(text, "JP-2817")
    assert nwsf.index("188.27") + len("188.27") == jp.index("5,087") + len("5,087")
    assert nwsf.index("160.46") + len("160.46") == jp.index("12,345.5") + len("12,345.5")

    cut = _text(dq_panel(board, limit=1, compact=True))
    assert "1 of 3 held back" in cut and "US-NWSF" in cut and "JP-2817" not in cut


def test_dq_without_rows_is_one_line_with_its_counts() -> None:
    calm = dq_board(_dq_status(held_back=0, critical=0, warning=0), [])
    assert _text(dq_panel(calm, 5, True)).strip() == (
        "dq 2020-03-02: ok, open 0 crit 0 warn 0 info, nothing held back"
    )
    held = dq_board(_dq_status(held_back=3), _dq_entries())
    assert _text(dq_panel(held, 0, True)).strip() == (
        "dq 2020-03-02: critical, open 1 crit 2 warn 0 info, 3 held back (no room)"
    )
    assert _text(dq_panel(held, 0, False), width=120).strip() == (
        "dq as of 2020-03-02: critical, open 1 critical 2 warning 0 info, 3 held back (no room for rows)"
    )
    assert _text(dq_panel(DqBoard(absent="not answering at [::1]:50054"), 5, True)).strip() == (
        "dq: not answering at [::1]:50054"  # an address with brackets is not taken for markup
    )


def test_at_80_by_24_dq_keeps_its_counts_and_every_cash_row_and_at_80_by_40_its_rows() -> None:
    services = tuple(
        ServiceRow(name, "127.0.0.1:50051", "running", 0, 4242, 0, "2020-03-16", "1h02m03s")
        for name in ("market", "ledger", "dq", "recon", "reporting")
    )
    state = replace(
        _busy_state(services, supervised=True),
        reporting=_nav_board(),
        dq=dq_board(_dq_status(held_back=3), _dq_entries()),
    )

    small = _text(Screen(state))
    assert len(small.rstrip("\n").splitlines()) <= 23, small
    assert "dq 2020-03-02: critical, open 1 crit 2 warn 0 info, 3 held back (no room)" in small
    assert small.count("-123,600,000.00") == 6  # every cash row kept
    # The line dq's counts take is the market's last tick: its panels are down to their titles.
    assert "last prices (0 of 10 watched)" in small and "last fills (4,321 seen, none shown)" in small
    for title in PANEL_TITLES:
        assert title in small, (title, small)

    tall = _text(Screen(state), height=40)
    assert len(tall.rstrip("\n").splitlines()) <= 39, tall
    for instrument in ("US-NWSF", "JP-2817", "UK-MRSY"):
        assert _line(tall, instrument), tall


def test_the_plain_line_says_dq_open_issues_and_values_held_back() -> None:
    view = LiveView(
        {n: f"h:{i}" for i, n in enumerate(SERVICES)}, None, plain=True, console=Console(), security=PLAINTEXT
    )
    market = SimpleNamespace(clock=_clock(), events_per_second=10.0, fill_count=3)

    def line(board: DqBoard) -> str:
        sources = SimpleNamespace(recon=None, answers={}, dq_board=lambda: board)
        return view.plain_line(market, sources)  # type: ignore[arg-type]

    assert " dq_open=3 quarantined=3" in line(dq_board(_dq_status(held_back=3), _dq_entries()))
    # A dq that does not answer has no counts to give (the services' state says it is down).
    assert "dq_open" not in line(DqBoard(absent="not answering at h:3"))


async def test_sources_say_dq_is_not_answering_or_not_built() -> None:
    address = f"127.0.0.1:{free_port('127.0.0.1')}"  # nothing listens there
    sources = Sources({"dq": address}, ["dq"], PLAINTEXT)
    try:
        await sources.poll([])
        assert sources.dq_board() == DqBoard(absent=f"not answering at {address}")
    finally:
        await sources.close()

    without = Sources({"dq": address}, [], PLAINTEXT)  # an installation without services/dq
    try:
        await without.poll([])
        assert without.dq_board() == DqBoard(absent="not built in this release")
    finally:
        await without.close()


class _FakeDq:
    """DqService's two calls the view makes; both raise `error` when set."""

    def __init__(self, status: dq_pb2.DqStatus, entries: list[dq_pb2.QuarantineEntry]):
        self.status = status
        self.entries = entries
        self.error: grpc.aio.AioRpcError | None = None
        self.page_sizes: list[int] = []

    async def GetStatus(self, request: object, timeout: float) -> dq_pb2.DqStatus:
        if self.error is not None:
            raise self.error
        return self.status

    async def GetQuarantine(
        self, request: dq_pb2.GetQuarantineRequest, timeout: float
    ) -> dq_pb2.GetQuarantineResponse:
        self.page_sizes.append(request.page_size)
        if self.error is not None:
            raise self.error
        return dq_pb2.GetQuarantineResponse(entries=self.entries)


async def test_the_dq_feed_keeps_its_last_figures_through_a_slow_answer_and_clears_them_when_down() -> None:
    fake = _FakeDq(_dq_status(held_back=3), _dq_entries())
    feed = DqFeed(None, "127.0.0.1:1")
    feed.stub = fake  # type: ignore[assignment]

    await feed.poll()
    assert feed.board() == dq_board(fake.status, fake.entries)
    assert fake.page_sizes == [50]  # one page: more never fits on a screen, the count says how many

    fake.error = _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
    await feed.poll()
    assert feed.board().held_back == 3  # a slow answer keeps the last figures
    fake.error = _rpc_error(grpc.StatusCode.UNAVAILABLE, "dq is fetching the mandates from market")
    await feed.poll()
    assert feed.board() == DqBoard(absent="not answering at 127.0.0.1:1")
    fake.error = _rpc_error(grpc.StatusCode.INTERNAL, "store\n closed")
    await feed.poll()
    assert feed.board() == DqBoard(absent="no figures from 127.0.0.1:1: INTERNAL: store closed")


# ---------------------------------------------------------------- in a real terminal


class Terminal:
    """A tmux server of our own (its own socket) running one command in an 80×24 window."""

    def __init__(self, command: list[str], env: dict[str, str], width: int = 80, height: int = 24):
        self.socket = f"opsuite-test-{uuid.uuid4().hex[:8]}"
        # The pane keeps the command's exit code on screen, then waits for a key.
        script = f'{shlex.join(command)}; echo "exit code $?"; read _'
        self._tmux(
            "new-session", "-d", "-x", str(width), "-y", str(height), "-s", "t", "-c", str(ROOT), script,
            env=env,
        )  # fmt: skip

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run(
            ["tmux", "-u", "-L", self.socket, *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def wait_for(self, *texts: str, timeout: float = 60) -> str:
        found: list[str] = []

        def shown() -> bool:
            found[:] = [self.screen()]
            return all(text in found[0] for text in texts)

        try:
            wait_until(shown, timeout=timeout, what=f"{texts} on the screen")
        except AssertionError as error:
            raise AssertionError(f"{error}; the screen:\n{found[0] if found else ''}") from None
        return found[0]

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def _cash_by_mandate(suite: RunningSuite) -> dict[str, str]:
    with grpc.insecure_channel(suite.addresses["market"]) as channel:
        mandates = market_pb2_grpc.MarketServiceStub(channel).ListMandates(market_pb2.ListMandatesRequest())
    found = {}
    with grpc.insecure_channel(suite.addresses["ledger"]) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        for mandate in mandates.mandates:
            balance = stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate.mandate_id))
            found[mandate.mandate_id] = grouped(cash_rows(balance)[0].cash)
    return found


def _clock_of(suite: RunningSuite) -> market_pb2.Clock:
    with grpc.insecure_channel(suite.addresses["market"]) as channel:
        clock: market_pb2.Clock = market_pb2_grpc.MarketServiceStub(channel).GetClock(
            market_pb2.GetClockRequest()
        )
    return clock


def test_opsuite_view_at_80_by_24_shows_every_panel(
    finished_suite: RunningSuite, terminals: list[Terminal]
) -> None:
    cash = _cash_by_mandate(finished_suite)
    clock = _clock_of(finished_suite)
    terminal = Terminal(
        [sys.executable, "-m", "services.cli", "view"], env={**clean_environment(), **finished_suite.env}
    )
    terminals.append(terminal)

    screen = terminal.wait_for(*PANEL_TITLES, *cash.values())
    lines = screen.splitlines()
    date = f"{clock.sim_date.year:04d}-{clock.sim_date.month:02d}-{clock.sim_date.day:02d}"
    assert date in lines[0] and f"seq {grouped(clock.head_seq)}" in lines[0] and "stopped" in lines[0]
    # Each mandate's cash on its own row, right-aligned in one column, beside its suspense.
    rows = {mandate: _line(screen, mandate + " ") for mandate in cash}
    ends = {row.index(figure) + len(figure) for row, figure in zip(rows.values(), cash.values(), strict=True)}
    assert len(ends) == 1, rows
    assert all(re.search(r"\s0(\.00)?\s", row) for row in rows.values())  # nothing in suspense
    assert "none open" in screen  # 40 days of seed 7: every break has been resolved
    for name in ("market", "ledger", "recon"):
        assert re.search(rf"^{name}\s+serving\s+0\s+{date}", screen, re.MULTILINE), screen
    assert "not built in this release" not in screen  # every service is built

    terminal.send("C-c")
    assert "exit code 0" in terminal.wait_for("exit code")


def _navs_by_mandate(suite: RunningSuite) -> dict[str, tuple[reporting_pb2.MandateSummary, float]]:
    """Each mandate as reporting lists it, with the daily return of its NAV date."""
    found = {}
    with grpc.insecure_channel(suite.addresses["reporting"]) as channel:
        stub = reporting_pb2_grpc.ReportingServiceStub(channel)
        for summary in stub.ListMandates(reporting_pb2.ListMandatesRequest(), timeout=30).mandates:
            day = common_pb2.DateRange(start=summary.nav_date, end=summary.nav_date)
            history = stub.GetNavHistory(
                reporting_pb2.GetNavHistoryRequest(mandate_id=summary.mandate_id, dates=day), timeout=30
            )
            found[summary.mandate_id] = (summary, history.points[-1].daily_return)
    return found


def test_opsuite_view_shows_each_mandates_nav_as_reporting_lists_it(
    finished_suite: RunningSuite, terminals: list[Terminal]
) -> None:
    navs = _navs_by_mandate(finished_suite)
    assert len(navs) == 5, navs
    expected = {
        mandate: [
            mandate,
            date_text(summary.nav_date),
            grouped(Decimal(summary.nav.amount.value)),
            summary.nav.currency,
            grouped(Decimal(summary.nav_per_unit.amount.value)),
            percent_text(day_return),
            percent_text(summary.return_ytd),
        ]
        for mandate, (summary, day_return) in navs.items()
    }
    # 40 rows: at 24 the ledger's rows come first and reporting's shrink to one line.
    terminal = Terminal(
        [sys.executable, "-m", "services.cli", "view"],
        env={**clean_environment(), **finished_suite.env},
        height=40,
    )
    terminals.append(terminal)

    def rows() -> dict[str, list[str]]:
        screen = terminal.screen()
        if REPORTING_TITLE not in screen:
            return {}
        panel = screen.split(REPORTING_TITLE, 1)[1]  # the ledger's rows start with the ids too
        return {m: line.split() for m in expected for line in panel.splitlines() if line.startswith(m + " ")}

    try:
        wait_until(lambda: rows() == expected, timeout=60, what="a row per mandate in reporting's panel")
    except AssertionError as error:
        raise AssertionError(f"{error}; expected {expected}; the screen:\n{terminal.screen()}") from None
    assert all(row[1] != "-" and row[5] != "-" for row in expected.values())  # every figure was there

    terminal.send("C-c")
    assert "exit code 0" in terminal.wait_for("exit code")


def test_opsuite_view_says_reporting_is_not_answering_and_shows_the_rest(
    finished_suite: RunningSuite, terminals: list[Terminal]
) -> None:
    cash = _cash_by_mandate(finished_suite)
    nowhere = f"127.0.0.1:{free_port('127.0.0.1')}"
    terminal = Terminal(
        [sys.executable, "-m", "services.cli", "view"],
        env={**clean_environment(), **finished_suite.env, "OPSUITE_REPORTING_ADDR": nowhere},
    )
    terminals.append(terminal)

    screen = terminal.wait_for(f"reporting: not answering at {nowhere}", *PANEL_TITLES, *cash.values())
    assert REPORTING_TITLE not in screen
    assert "none open" in screen  # recon's panel as ever

    terminal.send("C-c")
    assert "exit code 0" in terminal.wait_for("exit code")


def test_opsuite_view_plain_prints_lines_until_interrupted(
    finished_suite: RunningSuite, tmp_path: Path
) -> None:
    clock = _clock_of(finished_suite)
    out = tmp_path / "view.out"
    with out.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "view", "--plain"],
            cwd=ROOT,
            env={**clean_environment(), **finished_suite.env},
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_until(lambda: "breaks_open=" in out.read_text(), timeout=30, what="a plain line")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    line = next(line for line in out.read_text().splitlines() if "breaks_open=" in line)
    assert f"seq={grouped(clock.head_seq)}" in line and "breaks_open=0 escalated=0" in line, line
    with grpc.insecure_channel(finished_suite.addresses["dq"]) as channel:
        dq = dq_pb2_grpc.DqServiceStub(channel).GetStatus(dq_pb2.GetStatusRequest(), timeout=30)
    assert f"dq_open={dq.open_issue_count} quarantined={dq.quarantined_count}" in line, line


def test_opsuite_view_without_a_suite_says_so(tmp_path: Path) -> None:
    from services.cli.registry import free_port

    address = f"127.0.0.1:{free_port('127.0.0.1')}"
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "view"],
        cwd=ROOT,
        env={**clean_environment(), "OPSUITE_MARKET_ADDR": address, "OPSUITE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"market does not answer at {address}" in result.stdout
    assert "opsuite up" in result.stdout


def test_opsuite_up_shows_a_restarted_service_at_80_by_24(tmp_path: Path, terminals: list[Terminal]) -> None:
    env = {
        **clean_environment(),
        "OPSUITE_SHUTDOWN_GRACE_S": "5",
        "OPSUITE_DOCUMENTS_USE_MODEL": "false",  # the view of a restart needs no SOP assistant
        **{f"OPSUITE_{name.upper()}_ADDR": "127.0.0.1:0" for name in (*SERVICES, "edge")},
    }
    terminal = Terminal(
        [sys.executable, "-m", "services.cli", "up", "--speed", "max", "--days", "10", "--seed", "3",
         "--data-dir", str(tmp_path)],
        env=env,
    )  # fmt: skip
    terminals.append(terminal)
    row = re.compile(
        r"^ledger\s+(?P<state>running|serving)\s+(?P<restarts>\d+)\s+(?P<pid>\d+)\s", re.MULTILINE
    )
    terminal.wait_for(*PANEL_TITLES, timeout=180)

    def ledger(restarts: str) -> dict[str, str] | None:
        found = row.search(terminal.screen())
        return found.groupdict() if found and found["restarts"] == restarts else None

    first = wait_until(lambda: ledger("0"), timeout=60, what="the ledger running, never restarted")
    assert first is not None

    os.kill(int(first["pid"]), signal.SIGKILL)

    again = wait_until(lambda: ledger("1"), timeout=120, what="the ledger restarted once")
    assert again is not None
    assert again["pid"] != first["pid"]
    screen = terminal.screen()
    for title in PANEL_TITLES:
        assert title in screen, screen
    assert re.search(r"^market\s+running\s+0\s+\d+", screen, re.MULTILINE), screen

    terminal.send("C-c")
    assert "exit code 0" in terminal.wait_for("exit code", timeout=120)


def test_a_small_screen_drops_other_currency_cash_lines_before_any_mandates_base_cash() -> None:
    from services.cli.view.panels import rows_within

    def row(mandate: str, ccy: str) -> CashRow:
        return CashRow(mandate, ccy, Decimal(1), Decimal(0), 1, 2, True)

    rows = [
        row("BAL-USD", "USD"),
        row("BAL-USD", "EUR"),
        row("EQ-EUR", "EUR"),
        row("EQ-EUR", "GBP"),
        row("FI-USD", "USD"),
    ]
    assert rows_within(rows, 5) == rows
    # Four lines: every mandate's first (base) line, then the first other-currency line, in order.
    assert rows_within(rows, 4) == [rows[0], rows[1], rows[2], rows[4]]
    assert rows_within(rows, 3) == [rows[0], rows[2], rows[4]]
    assert rows_within(rows, 2) == [rows[0], rows[2]]
