"""opsuite report <mandate>: one mandate's NAV, the ledger's beside it, performance and top holdings.

Reads reporting's GetReport. Errors are one line: exit 1 when reporting cannot be reached or has no
such mandate (or the --html file cannot be written), 2 when the request itself is wrong (a date outside
the valued history).

`--html FILE` writes one self-contained page instead of the tables (services/cli/report_html.py), with
charts from GetNavHistory over inception to the report's own day end, so it agrees with `--as-of`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from decimal import Decimal

import grpc
from google.protobuf import json_format
from rich.table import Table

from opsuite.common.v1 import common_pb2
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.cli.output import grouped, numeric_column, print_json, print_tables
from services.common.channels import open_blocking_channel
from services.common.settings import load_settings

CALL_TIMEOUT_S = 15.0
TOP_HOLDINGS = 10
HISTORY_PAGE = 1000  # reporting's largest page
PERIOD_NAMES = {
    reporting_pb2.PERIOD_DAY: "1D",
    reporting_pb2.PERIOD_MONTH_TO_DATE: "MTD",
    reporting_pb2.PERIOD_QUARTER_TO_DATE: "QTD",
    reporting_pb2.PERIOD_YEAR_TO_DATE: "YTD",
    reporting_pb2.PERIOD_ONE_YEAR: "1Y",
    reporting_pb2.PERIOD_SINCE_INCEPTION: "since inception",
}


def _money(money: common_pb2.Money) -> str:
    return f"{grouped(Decimal(money.amount.value or '0'))} {money.currency}"


def _percent(value: float) -> str:
    return f"{value * 100:+.2f}%"


def _date(date: common_pb2.Date) -> str:
    return dt.date(date.year, date.month, date.day).isoformat()


def fetch(mandate_id: str, as_of: dt.date | None) -> reporting_pb2.Report:
    settings = load_settings()
    address = settings.addr("reporting")
    request = reporting_pb2.GetReportRequest(mandate_id=mandate_id)
    if as_of is not None:
        request.as_of.CopyFrom(common_pb2.Date(year=as_of.year, month=as_of.month, day=as_of.day))
    with open_blocking_channel(settings, address) as channel:
        stub = reporting_pb2_grpc.ReportingServiceStub(channel)
        try:
            report: reporting_pb2.Report = stub.GetReport(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as error:
            raise _failure(error, address) from None
    return report


def fetch_history(mandate_id: str, end: common_pb2.Date) -> list[reporting_pb2.NavPoint]:
    """Every NAV point of the mandate from inception to `end` (the report's day end), oldest first."""
    settings = load_settings()
    address = settings.addr("reporting")
    request = reporting_pb2.GetNavHistoryRequest(mandate_id=mandate_id, page_size=HISTORY_PAGE)
    request.dates.end.CopyFrom(end)
    points: list[reporting_pb2.NavPoint] = []
    with open_blocking_channel(settings, address) as channel:
        stub = reporting_pb2_grpc.ReportingServiceStub(channel)
        while True:
            try:
                page: reporting_pb2.GetNavHistoryResponse = stub.GetNavHistory(
                    request, timeout=CALL_TIMEOUT_S
                )
            except grpc.RpcError as error:
                raise _failure(error, address) from None
            points.extend(page.points)
            if not page.next_page_token or page.next_page_token == request.page_token:
                return points
            request.page_token = page.next_page_token


class ReportFailed(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _failure(error: grpc.RpcError, address: str) -> ReportFailed:
    code = error.code()
    details = " ".join(str(error.details() or "").split())
    if code is grpc.StatusCode.UNAVAILABLE and "valued" not in details and "fetching" not in details:
        return ReportFailed(
            f"reporting does not answer at {address}: start the suite with `opsuite up`, or see where each"
            " service listens with `opsuite status`",
            1,
        )
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE):
        return ReportFailed(details, 2)
    return ReportFailed(details or code.name, 1)


def nav_table(report: reporting_pb2.Report) -> Table:
    out = Table(title=f"{report.mandate_id} at {_date(report.as_of)}", caption=report.name)
    out.add_column("", no_wrap=True)
    numeric_column(out, "amount")
    nav = report.nav
    for label, money in (
        ("securities", nav.securities_value),
        ("cash", nav.cash_value),
        ("accrued income", nav.accrued_income),
        ("liabilities", nav.liabilities),
        ("NAV", nav.nav),
        ("ledger's NAV", report.ledger.ledger_nav),
        ("difference", report.ledger.difference),
    ):
        out.add_row(label, _money(money) if money.amount.value else "-")
    out.add_row("units", grouped(Decimal(nav.units_outstanding.value or "0")))
    out.add_row("NAV per unit", _money(nav.nav_per_unit))
    out.add_row("ledger", f"{report.ledger.status}: {report.ledger.detail}")
    return out


def performance_table(report: reporting_pb2.Report) -> Table:
    out = Table(title="performance (time-weighted)")
    out.add_column("period", no_wrap=True)
    out.add_column("from", no_wrap=True)
    numeric_column(out, "return")
    numeric_column(out, "volatility")
    numeric_column(out, "P&L")
    numeric_column(out, "net flows")
    for p in report.performance:
        out.add_row(
            PERIOD_NAMES.get(p.period, str(p.period)),
            _date(p.start),
            _percent(p.portfolio_return) if p.has_return else "-",
            f"{p.volatility * 100:.2f}%" if p.volatility else "-",
            _money(p.pnl),
            _money(p.net_flows),
        )
    return out


def holdings_table(report: reporting_pb2.Report) -> Table:
    holdings = sorted(report.holdings, key=lambda h: -h.weight)[:TOP_HOLDINGS]
    out = Table(title=f"largest {len(holdings)} of {len(report.holdings)} holdings")
    out.add_column("instrument", no_wrap=True)
    out.add_column("name")
    numeric_column(out, "quantity")
    numeric_column(out, "price")
    numeric_column(out, "value")
    numeric_column(out, "weight")
    for h in holdings:
        out.add_row(
            h.instrument_id,
            h.name,
            grouped(Decimal(h.quantity.value)),
            h.price.value,
            _money(h.base_market_value),
            f"{h.weight * 100:.2f}%",
        )
    return out


def attribution_tables(report: reporting_pb2.Report) -> list[Table]:
    """Since inception, by asset class and, for a mandate in more than one currency, by currency."""
    tables = []
    for attribution in report.attribution:
        if attribution.period != reporting_pb2.PERIOD_SINCE_INCEPTION or attribution.dimension == "sector":
            continue
        by_currency = attribution.dimension == "currency"
        out = Table(
            title=f"attribution since inception by {attribution.dimension.replace('_', ' ')}"
            + (" (Karnosky-Singer)" if by_currency else ""),
            caption=f"active return {_percent(attribution.total_active_return)}, "
            f"not attributed {_percent(attribution.not_attributed)}",
        )
        out.add_column("group", no_wrap=True)
        for name in ("weight", "benchmark", "allocation", "selection", "interaction"):
            numeric_column(out, name)
        if by_currency:
            numeric_column(out, "currency")
            numeric_column(out, "cross")
        numeric_column(out, "total")
        for g in attribution.groups:
            effects = [g.allocation_effect, g.selection_effect, g.interaction_effect]
            if by_currency:
                effects += [g.currency_effect, g.cross_effect]
            out.add_row(
                g.group,
                f"{g.portfolio_weight * 100:.1f}%",
                f"{g.benchmark_weight * 100:.1f}%",
                *(_basis_points(e) for e in [*effects, g.total_effect]),
            )
        tables.append(out)
    return tables


def _basis_points(value: float) -> str:
    return f"{value * 10_000:+.1f} bp"


def report_command(args: argparse.Namespace) -> int:
    if args.attribution_period is not None and args.html is None:
        print(
            "opsuite report: --attribution-period chooses what --html's page shows; give --html FILE",
            file=sys.stderr,
        )
        return 2
    try:
        report = fetch(args.mandate, args.as_of)
    except ReportFailed as error:
        print(f"opsuite report: {error}", file=sys.stderr)
        return error.exit_code
    if args.html is not None:
        return _write_html(report, args)
    if args.output == "json":
        print_json(json_format.MessageToDict(report, preserving_proto_field_name=True))
        return 0
    print_tables(
        nav_table(report), performance_table(report), *attribution_tables(report), holdings_table(report)
    )
    for warning in report.warnings:
        print(f"warning: {warning}")
    return 0


def _write_html(report: reporting_pb2.Report, args: argparse.Namespace) -> int:
    from services.cli import report_html  # matplotlib loads only for the page

    try:
        history = fetch_history(report.mandate_id, report.as_of)
    except ReportFailed as error:
        print(f"opsuite report: {error}", file=sys.stderr)
        return error.exit_code
    period = report_html.PERIODS_BY_LABEL[args.attribution_period or "SI"]
    page = report_html.render_page(report, history, attribution_period=period)
    try:
        report_html.write_atomically(args.html, page)
    except OSError as error:
        reason = error.strerror or str(error)
        print(f"opsuite report: cannot write {args.html}: {reason}", file=sys.stderr)
        return 1
    print(f"wrote {args.html}", file=sys.stderr)
    return 0
