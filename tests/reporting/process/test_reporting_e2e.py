"""reporting as a user runs it: real market, ledger and reporting processes, probed with grpcurl.

Market simulates its days without faults, the ledger books them, reporting values them; then every
mandate's report shows reporting's NAV and the ledger's equity at market side by side, equal to the
cent on every day end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from tests.market.process.test_grpcurl import _grpcurl
from tests.reporting.process.conftest import Suite
from tests.support.processes import ServiceProcess


def grpcurl(
    service: ServiceProcess, method: str, body: dict[str, object] | None = None
) -> subprocess.CompletedProcess[str]:
    args = ["-d", json.dumps(body)] if body is not None else []
    return subprocess.run(
        [_grpcurl(), "-plaintext", *args, service.address, f"opsuite.reporting.v1.ReportingService/{method}"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_mandate_is_listed_with_its_latest_nav(suite: Suite) -> None:
    result = grpcurl(suite.reporting, "ListMandates", {})
    assert result.returncode == 0, result.stderr
    mandates = json.loads(result.stdout)["mandates"]
    assert [m["mandate_id"] for m in mandates] == ["BAL-USD", "EQ-EUR", "EQ-JPY", "FI-USD", "INC-GBP"]
    for mandate in mandates:
        assert Decimal(mandate["nav"]["amount"]["value"]) > 0, mandate
        assert mandate["nav_date"] == {"year": 2020, "month": 3, "day": 16}, mandate


def test_a_report_shows_the_ledgers_nav_beside_reportings_equal_to_the_cent(suite: Suite) -> None:
    result = grpcurl(suite.reporting, "GetReport", {"mandate_id": "BAL-USD"})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    nav = Decimal(report["nav"]["nav"]["amount"]["value"])
    assert report["ledger"]["status"] == "AGREES", report["ledger"]
    assert Decimal(report["ledger"]["ledger_nav"]["amount"]["value"]) == nav
    # NAV is its parts: securities + cash + accrued income - liabilities.
    parts = {
        k: Decimal(report["nav"][k]["amount"]["value"])
        for k in ("securities_value", "cash_value", "accrued_income")
    }
    liabilities = Decimal(report["nav"].get("liabilities", {}).get("amount", {}).get("value", "0"))
    assert parts["securities_value"] + parts["cash_value"] + parts["accrued_income"] - liabilities == nav
    assert [p["period"] for p in report["performance"]] == [
        "PERIOD_DAY",
        "PERIOD_MONTH_TO_DATE",
        "PERIOD_QUARTER_TO_DATE",
        "PERIOD_YEAR_TO_DATE",
        "PERIOD_ONE_YEAR",
        "PERIOD_SINCE_INCEPTION",
    ]
    holdings = report["holdings"]
    assert any(h["asset_class"] == "ASSET_CLASS_GOVERNMENT_BOND" for h in holdings)


def _value(money: common_pb2.Money) -> Decimal:
    return Decimal(money.amount.value)


def test_every_day_end_of_every_mandate_agrees_with_the_ledger(suite: Suite) -> None:
    with grpc.insecure_channel(suite.reporting.address) as channel:
        stub = reporting_pb2_grpc.ReportingServiceStub(channel)
        compared = 0
        for mandate_id in ("BAL-USD", "EQ-EUR", "EQ-JPY", "FI-USD", "INC-GBP"):
            history = stub.GetNavHistory(
                reporting_pb2.GetNavHistoryRequest(mandate_id=mandate_id, page_size=1000)
            )
            assert len(history.points) == 30
            assert not history.next_page_token
            for point in history.points:
                report = stub.GetReport(
                    reporting_pb2.GetReportRequest(mandate_id=mandate_id, as_of=point.date)
                )
                assert report.as_of == point.date
                assert _value(report.nav.nav) == _value(point.nav)
                assert report.ledger.status == "AGREES", (mandate_id, point.date, report.ledger.detail)
                assert _value(report.ledger.ledger_nav) == _value(point.nav)
                compared += 1
    assert compared == 150


def test_unknown_mandates_and_dates_outside_the_history_are_refused_with_what_to_ask(suite: Suite) -> None:
    unknown = grpcurl(suite.reporting, "GetReport", {"mandate_id": "BAL-GBP"})
    assert unknown.returncode != 0
    assert "NotFound" in unknown.stderr and "BAL-USD" in unknown.stderr, unknown.stderr
    early = grpcurl(
        suite.reporting,
        "GetReport",
        {"mandate_id": "BAL-USD", "as_of": {"year": 2019, "month": 12, "day": 31}},
    )
    assert "OutOfRange" in early.stderr and "2020-02-03 to 2020-03-16" in early.stderr, early.stderr
    backwards = grpcurl(
        suite.reporting,
        "GetNavHistory",
        {
            "mandate_id": "BAL-USD",
            "dates": {
                "start": {"year": 2020, "month": 3, "day": 2},
                "end": {"year": 2020, "month": 2, "day": 3},
            },
        },
    )
    assert "InvalidArgument" in backwards.stderr, backwards.stderr


def opsuite_report(suite: Suite, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    env["OPSUITE_REPORTING_ADDR"] = suite.reporting.address
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "report", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_opsuite_report_prints_the_nav_beside_the_ledgers_and_the_periods(suite: Suite) -> None:
    result = opsuite_report(suite, "FI-USD", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ledger"]["status"] == "AGREES"
    assert report["ledger"]["ledger_nav"] == report["nav"]["nav"]
    table = opsuite_report(suite, "FI-USD", "--as-of", "2020-03-02")
    assert table.returncode == 0, table.stderr
    assert (
        "FI-USD at 2020-03-02" in table.stdout
        and "AGREES" in table.stdout
        and "since inception" in table.stdout
    )
    nav = report["nav"]["nav"]["amount"]["value"]
    assert nav not in table.stdout  # the table shows the 2020-03-02 NAV, not the latest


def test_opsuite_report_says_in_one_line_what_is_wrong(suite: Suite) -> None:
    early = opsuite_report(suite, "FI-USD", "--as-of", "2019-01-02")
    assert early.returncode == 2
    assert early.stderr.strip().splitlines() == [
        "opsuite report: as_of 2019-01-02 is outside the valued history, 2020-02-03 to 2020-03-16"
    ]
    unknown = opsuite_report(suite, "NOPE")
    assert unknown.returncode == 1 and "unknown mandate 'NOPE'; known: BAL-USD" in unknown.stderr


def test_a_report_attributes_each_periods_active_return_by_sector_asset_class_and_currency(
    suite: Suite,
) -> None:
    with grpc.insecure_channel(suite.reporting.address) as channel:
        report = reporting_pb2_grpc.ReportingServiceStub(channel).GetReport(
            reporting_pb2.GetReportRequest(mandate_id="BAL-USD")
        )
    performance = {p.period: p for p in report.performance}
    inception = performance[reporting_pb2.PERIOD_SINCE_INCEPTION]
    assert inception.benchmark_return != 0
    # February and March 2020: the fund fell, so every risk measure is defined.
    for measure in ("sharpe_ratio", "sortino_ratio", "max_drawdown", "information_ratio", "beta"):
        assert inception.HasField(measure), measure
    assert inception.max_drawdown < 0 and not performance[reporting_pb2.PERIOD_DAY].HasField("sharpe_ratio")
    seen = {(a.period, a.dimension) for a in report.attribution}
    for period in (reporting_pb2.PERIOD_MONTH_TO_DATE, reporting_pb2.PERIOD_SINCE_INCEPTION):
        # BAL-USD holds European equities in euros: attributed by currency too (Karnosky-Singer).
        assert {(period, "sector"), (period, "asset_class"), (period, "currency")} <= seen
    for attribution in report.attribution:
        effects = sum(g.total_effect for g in attribution.groups)
        assert abs(effects - attribution.total_active_return) < 1e-12
        assert abs(
            attribution.total_allocation_effect + attribution.total_selection_effect
            + attribution.total_interaction_effect + attribution.total_currency_effect
            + attribution.total_cross_effect - attribution.total_active_return
        ) < 1e-12  # fmt: skip
        # What the effects do not explain is the time-weighted active return less theirs.
        active = performance[attribution.period].active_return
        assert attribution.not_attributed == pytest.approx(
            active - attribution.total_active_return, abs=1e-15
        )
        groups = {g.group for g in attribution.groups}
        if attribution.dimension == "asset_class":
            assert groups == {"EQUITY", "GOVERNMENT_BOND", "CORPORATE_BOND", "Cash"}
            assert attribution.total_currency_effect == 0 and attribution.total_cross_effect == 0
        if attribution.dimension == "currency":
            assert groups == {"USD", "EUR"}
            if attribution.period == reporting_pb2.PERIOD_SINCE_INCEPTION:
                euro = next(g for g in attribution.groups if g.group == "EUR")
                assert euro.currency_effect != 0 and euro.portfolio_weight > 0 and euro.benchmark_weight > 0
    # A mandate in one currency has no currency bet to explain.
    with grpc.insecure_channel(suite.reporting.address) as channel:
        single = reporting_pb2_grpc.ReportingServiceStub(channel).GetReport(
            reporting_pb2.GetReportRequest(mandate_id="INC-GBP")
        )
    assert single.attribution and {a.dimension for a in single.attribution} == {"sector", "asset_class"}


def test_the_nav_historys_cumulative_returns_end_at_the_reports_since_inception_returns(suite: Suite) -> None:
    with grpc.insecure_channel(suite.reporting.address) as channel:
        stub = reporting_pb2_grpc.ReportingServiceStub(channel)
        report = stub.GetReport(reporting_pb2.GetReportRequest(mandate_id="EQ-EUR"))
        # Two pages, so the second page's cumulative figures carry the first page's growth.
        first = stub.GetNavHistory(reporting_pb2.GetNavHistoryRequest(mandate_id="EQ-EUR", page_size=20))
        second = stub.GetNavHistory(
            reporting_pb2.GetNavHistoryRequest(
                mandate_id="EQ-EUR", page_size=20, page_token=first.next_page_token
            )
        )
    assert len(first.points) == 20 and len(second.points) == 10 and not second.next_page_token
    (inception,) = [p for p in report.performance if p.period == reporting_pb2.PERIOD_SINCE_INCEPTION]
    last = second.points[-1]
    assert last.cumulative_return == pytest.approx(inception.portfolio_return, abs=1e-12)
    assert last.benchmark_cumulative_return == pytest.approx(inception.benchmark_return, abs=1e-12)
    assert first.points[0].benchmark_daily_return == 0  # no benchmark return on the first day
    assert any(p.benchmark_daily_return for p in second.points)


def test_opsuite_report_prints_the_attribution_since_inception_by_currency(suite: Suite) -> None:
    with grpc.insecure_channel(suite.reporting.address) as channel:
        report = reporting_pb2_grpc.ReportingServiceStub(channel).GetReport(
            reporting_pb2.GetReportRequest(mandate_id="BAL-USD")
        )
    by_currency = next(
        a
        for a in report.attribution
        if a.dimension == "currency" and a.period == reporting_pb2.PERIOD_SINCE_INCEPTION
    )
    euro = next(g for g in by_currency.groups if g.group == "EUR")
    table = opsuite_report(suite, "BAL-USD")
    assert table.returncode == 0, table.stderr
    assert "attribution since inception by asset class" in table.stdout
    assert "attribution since inception by currency (Karnosky-Singer)" in table.stdout
    euro_row = next(line for line in table.stdout.splitlines() if line.strip("│ ").startswith("EUR "))
    # The euro's currency and total effects as the service sent them, in basis points.
    assert f"{euro.currency_effect * 10_000:+.1f} bp" in euro_row
    assert f"{euro.total_effect * 10_000:+.1f} bp" in euro_row
