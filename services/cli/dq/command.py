"""opsuite dq: where data quality stands, and its subcommands (checks, issues, issue, ack, quarantine).

Each reads dq's DqService (OPSUITE_DQ_ADDR) and prints tables, or with `-o json` the same rows.
Errors are one line: exit 1 when dq cannot be reached, has no such issue or refuses to acknowledge a
resolved one; 2 when the request is wrong (argparse's own refusals: a bad date or severity; an
unknown kind, instrument or mandate; a date dq has not checked yet).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Callable, Sequence

import grpc
from rich.table import Table

from opsuite.common.v1 import common_pb2
from opsuite.dq.v1 import dq_pb2
from services.cli.client import FAILED, USAGE, CommandFailed, choose
from services.cli.dq.client import Dq, connect, no_issue
from services.cli.dq.rows import (
    KIND_NAMES,
    SEVERITY_ORDER,
    Row,
    check_row,
    entry_row,
    issue_row,
    newest_first,
    status_row,
)
from services.cli.output import grouped, numeric_column, print_json, print_tables
from services.common.paging import MAX_PAGE

RECENT_OPEN = 10  # open issues the status shows; `opsuite dq issues --status open` lists them all
ISSUE_ID = re.compile(r"dq-\d+")
OPEN_STATUSES = (dq_pb2.ISSUE_STATUS_OPEN, dq_pb2.ISSUE_STATUS_ACKNOWLEDGED)


def _proto_date(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def _severity(name: str) -> dq_pb2.Severity.ValueType:
    return dq_pb2.Severity.Value(f"SEVERITY_{name.upper()}")


def _status(name: str) -> dq_pb2.IssueStatus.ValueType:
    return dq_pb2.IssueStatus.Value(f"ISSUE_STATUS_{name.upper()}")


def _number(value: float) -> str:
    """A threshold or statistic as dq sent it, without a float's noise: 0.005, 2, 10.63."""
    return f"{value:.4g}" if abs(value) < 1e6 else grouped(round(value))


def _named(values: dict[str, float]) -> str:
    return ", ".join(f"{name}={_number(value)}" for name, value in values.items())


def _percent(fraction: float) -> str:
    return f"{fraction * 100:+.2f}%"


# ---------------------------------------------------------------- opsuite dq


def _open_issues(dq: Dq, limit: int) -> list[Row]:
    """The newest `limit` open issues, acknowledged ones included (they are open, and seen): ListIssues
    takes one status, so one call each, merged newest first."""
    rows = [
        issue_row(issue)
        for status in OPEN_STATUSES
        for issue in dq.list_issues(dq_pb2.ListIssuesRequest(status=status), limit)[0]
    ]
    return newest_first(rows)[:limit]


def status_tables(status: Row, recent: Sequence[Row]) -> list[Table]:
    checks = Table(title="checks")
    checks.add_column("check", no_wrap=True)
    numeric_column(checks, "checked")
    numeric_column(checks, "failed")
    numeric_column(checks, "open issues")
    checks.add_column("last checked", no_wrap=True)
    for check in status["checks"]:
        checks.add_row(
            check["check"],
            grouped(check["checked"]),
            grouped(check["failed"]),
            grouped(check["open_issues"]),
            check["last_checked_at"] or "never",
        )
    tables = [checks]
    if recent:
        shown = f"{len(recent)} of {grouped(status['open_issues'])}"
        tables.append(_issues_table(recent, f"most recent open issues ({shown})", dated=False))
    return tables


def _status_lines(status: Row) -> list[str]:
    if status["as_of_date"] is None:
        return [f"dq has not checked a day yet (market seq {grouped(status['head_seq'])} to check)"]
    severities = ", ".join(f"{grouped(status['open_by_severity'][name])} {name}" for name in SEVERITY_ORDER)
    lines = [
        f"dq as of {status['as_of_date']}: health {status['health']}",
        f"open issues: {grouped(status['open_issues'])} ({severities})",
        f"quarantined values: {grouped(status['quarantined'])}",
    ]
    if status["applied_seq"] < status["head_seq"]:
        lines.append(
            f"catching up: checked to market seq {grouped(status['applied_seq'])} of {grouped(status['head_seq'])}"
        )
    return lines


def show_status(args: argparse.Namespace) -> int:
    with connect() as dq:
        status = status_row(dq.status())
        if args.output == "json":
            # Every open issue for a script; the table shows the newest few.
            recent = _open_issues(dq, max(status["open_issues"], 1))
            print_json({"status": status, "open_issues": recent})
            return 0
        recent = _open_issues(dq, RECENT_OPEN)
    for line in _status_lines(status):
        print(line)
    print_tables(*status_tables(status, recent))
    if not recent and status["as_of_date"] is not None:
        print("no open issues")
    elif status["open_issues"] > len(recent):
        print(
            f"the other {status['open_issues'] - len(recent):,} open: `opsuite dq issues --status open` "
            "(and `--status acknowledged`)"
        )
    return 0


# ---------------------------------------------------------------- opsuite dq checks


def show_checks(args: argparse.Namespace) -> int:
    with connect() as dq:
        request = dq_pb2.ListChecksRequest(page_size=MAX_PAGE)
        checks: list[Row] = []
        while True:
            reply = dq.call(dq.stub.ListChecks, request)
            checks.extend(check_row(check) for check in reply.checks)
            source = reply.source
            if not reply.next_page_token or reply.next_page_token == request.page_token:
                break
            request.page_token = reply.next_page_token
    if args.output == "json":
        print_json({"source": source, "checks": checks})
        return 0
    origin = "the shipped defaults" if source == "defaults" else f"{source} (OPSUITE_DQ_CHECKS)"
    table = Table(title=f"{len(checks)} checks, from {origin}")
    table.add_column("id", no_wrap=True)
    table.add_column("family", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("thresholds", overflow="fold")
    table.add_column("subject", no_wrap=True)
    table.add_column("description", overflow="fold")
    for check in checks:
        table.add_row(
            check["id"],
            check["family"],
            check["rule"],
            check["severity"],
            _named(check["thresholds"]) or "-",
            check["subject"] or "all",
            check["description"],
        )
    print_tables(table)
    return 0


# ---------------------------------------------------------------- opsuite dq issues


def issues_request(args: argparse.Namespace) -> dq_pb2.ListIssuesRequest:
    if args.first is not None and args.last is not None and args.last < args.first:
        raise CommandFailed(f"--to {args.last} is before --from {args.first}", USAGE)
    request = dq_pb2.ListIssuesRequest(
        kinds=choose(args.kind or [], KIND_NAMES, "dq issue kind", "--kind"),
        instrument_id=args.instrument or "",
        mandate_id=args.mandate or "",
    )
    if args.status:
        request.status = _status(args.status)
    if args.min_severity:
        request.min_severity = _severity(args.min_severity)
    if args.first is not None:
        request.dates.start.CopyFrom(_proto_date(args.first))
    if args.last is not None:
        request.dates.end.CopyFrom(_proto_date(args.last))
    return request


def _what(args: argparse.Namespace, request: dq_pb2.ListIssuesRequest, count: int) -> str:
    """The filters in words, for the title and for the line printed when nothing matches."""
    narrowed = [" or ".join(KIND_NAMES[k] for k in request.kinds)] if request.kinds else []
    narrowed += [f"{args.min_severity} or worse"] if args.min_severity else []
    narrowed += [args.instrument or args.mandate] if args.instrument or args.mandate else []
    if args.first or args.last:
        narrowed.append(f"value dates {args.first or '...'} to {args.last or '...'}")
    noun = "issue" if count == 1 else "issues"
    what = f"{args.status} {noun}" if args.status else noun
    return f"{what} ({', '.join(narrowed)})" if narrowed else what


def _issues_table(rows: Sequence[Row], title: str, *, dated: bool = True) -> Table:
    """Issues as rows; not `dated` (the status's, all open) leaves out the value date."""
    table = Table(title=title)
    table.add_column("id", no_wrap=True)
    if dated:
        table.add_column("date", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("subject", no_wrap=True)
    table.add_column("vendor", no_wrap=True)
    table.add_column("message", overflow="fold")
    for row in rows:
        date = [row["value_date"] or ""] if dated else []
        table.add_row(
            row["id"],
            *date,
            row["severity"],
            row["status"],
            row["kind"],
            row["subject"],
            row["vendor"],
            row["message"],
        )
    return table


def _about_subject(error: CommandFailed) -> bool:
    """dq's refusal of an unknown instrument or mandate (NOT_FOUND naming it)."""
    return error.status is grpc.StatusCode.NOT_FOUND


def show_issues(args: argparse.Namespace) -> int:
    request = issues_request(args)
    with connect() as dq:
        try:
            found, more = dq.list_issues(request, args.limit)
        except CommandFailed as error:
            if _about_subject(error):  # a filter the person typed: theirs to fix
                raise CommandFailed(error.details, USAGE, error.status) from None
            raise
    rows = [issue_row(issue) for issue in found]
    what = _what(args, request, len(rows))
    if args.output == "json":
        print_json(rows)
    elif not rows:
        print(f"no {what}")
    else:
        title = f"the newest {len(rows):,} {what}" if more else f"{len(rows):,} {what}, newest first"
        print_tables(_issues_table(rows, title))
        if more:
            print(f"more match: --limit {args.limit * 2} shows more, or narrow the filters")
    return 0


# ---------------------------------------------------------------- opsuite dq issue, ack


def _checked_id(issue_id: str) -> str:
    if not ISSUE_ID.fullmatch(issue_id):
        raise CommandFailed(
            f"{issue_id!r} is not an issue id: they look like dq-12 (`opsuite dq issues` lists them)", USAGE
        )
    return issue_id


def _facts(issue: Row) -> list[tuple[str, str]]:
    """(label, value) pairs a person reads top to bottom; empty values are left out."""
    status = issue["status"]
    if issue["resolved_at"]:
        by = f" by {issue['resolved_by_event_id']}" if issue["resolved_by_event_id"] else ""
        status = f"{status} at {issue['resolved_at']}{by}"
    subject = f"{issue['subject']} ({issue['subject_kind'].replace('_', ' ')})" if issue["subject"] else ""
    figures = [
        f"{label} {grouped(issue[key])}"
        for label, key in (("observed", "observed"), ("reference", "reference"), ("difference", "difference"))
        if issue[key] is not None
    ]
    sample = ", ".join(issue["unexpected_sample"])
    unexpected = f"{issue['unexpected_count']}" + (f": {sample}" if sample else "")
    pairs = [
        ("message", issue["message"]),
        ("kind", f"{issue['kind'].replace('_', ' ')}, {issue['severity']}"),
        ("status", status),
        ("subject", subject),
        ("vendor", issue["vendor"]),
        ("value date", issue["value_date"] or ""),
        ("figures", " · ".join(figures)),
        ("deviation", _percent(issue["deviation"]) if issue["deviation"] else ""),
        # In the rule's own unit, which the contract does not name (a fraction, a z, days): as sent.
        ("threshold", f"{_number(issue['threshold'])} (rule {issue['rule']})" if issue["threshold"] else ""),
        (
            "stale for",
            f"{issue['stale_business_days']} business day(s)" if issue["stale_business_days"] else "",
        ),
        ("statistics", _named(issue["statistics"])),
        ("unexpected rows", unexpected if sample or issue["unexpected_count"] > 1 else ""),
        ("held back now", "yes: downstream uses the last good value" if issue["quarantined"] else "no"),
        ("check", issue["check_id"]),
        ("seen", f"first {issue['first_seen']}, last {issue['last_seen']}"),
        ("caused by", ", ".join(issue["caused_by"])),
        ("trace", issue["trace_id"]),
    ]
    return [(label, value) for label, value in pairs if value]


def print_issue(issue: Row) -> None:
    table = Table(title=f"issue {issue['id']}", show_header=False)
    table.add_column("field", no_wrap=True, style="bold")
    table.add_column("value", overflow="fold")
    for label, value in _facts(issue):
        table.add_row(label, value)
    print_tables(table)
    # dq records the issue in the combined event log as <id>-raised, caused by the events it checked.
    print(f"the events it is about, from the price to the issue: opsuite trace {issue['id']}-raised")


def show_issue(args: argparse.Namespace) -> int:
    issue_id = _checked_id(args.id)
    with connect() as dq:
        issue = issue_row(dq.find_issue(issue_id))
    if args.output == "json":
        print_json(issue)
    else:
        print_issue(issue)
    return 0


def acknowledge(args: argparse.Namespace) -> int:
    issue_id = _checked_id(args.id)
    with connect() as dq:
        try:
            issue = issue_row(
                dq.call(dq.stub.AcknowledgeIssue, dq_pb2.AcknowledgeIssueRequest(issue_id=issue_id))
            )
        except CommandFailed as error:
            if error.status is grpc.StatusCode.NOT_FOUND:
                raise no_issue(issue_id) from None
            if error.status is grpc.StatusCode.FAILED_PRECONDITION:  # resolved: dq says so in its words
                raise CommandFailed(error.details, FAILED, error.status) from None
            raise
    if args.output == "json":
        print_json(issue)
    else:
        print(
            f"{issue['id']}: {issue['status']} ({issue['severity']} {issue['kind']}, {issue['subject']}); "
            "it resolves by itself once the data comes right"
        )
    return 0


# ---------------------------------------------------------------- opsuite dq quarantine


def _quarantine(dq: Dq, as_of: dt.date | None) -> list[Row]:
    request = dq_pb2.GetQuarantineRequest(page_size=MAX_PAGE)
    if as_of is not None:
        request.as_of_date.CopyFrom(_proto_date(as_of))
    rows: list[Row] = []
    while True:
        try:
            reply = dq.call(dq.stub.GetQuarantine, request)
        except CommandFailed as error:
            if error.status is grpc.StatusCode.OUT_OF_RANGE:  # a day dq has not checked yet
                checked = status_row(dq.status())["as_of_date"] or "no day yet"
                raise CommandFailed(
                    f"--as-of {as_of} is past the last day dq has checked ({checked}); `opsuite dq` says how far it has got",
                    USAGE,
                    error.status,
                ) from None
            raise
        rows.extend(entry_row(entry) for entry in reply.entries)
        if not reply.next_page_token or reply.next_page_token == request.page_token:
            return rows
        request.page_token = reply.next_page_token


def _value(value: str | None, date: str | None) -> str:
    if value is None:
        return "none yet"
    return f"{grouped(value)} ({date})" if date else grouped(value)


def _values(count: int) -> str:
    return f"{count:,} value" + ("" if count == 1 else "s")


def show_quarantine(args: argparse.Namespace) -> int:
    with connect() as dq:
        rows = _quarantine(dq, args.as_of)
        as_of = args.as_of.isoformat() if args.as_of else status_row(dq.status())["as_of_date"]
    if args.output == "json":
        print_json({"as_of_date": as_of, "held_now": args.as_of is None, "entries": rows})
        return 0
    if args.as_of is None:
        title = f"{_values(len(rows))} held back as of {as_of}, each replaced by its last good value"
        empty = f"nothing held back as of {as_of or '(no day checked yet)'}"
    else:
        title = f"{_values(len(rows))} of {as_of} dq rejected (held back that day)"
        empty = f"dq rejected no value of {as_of}"
    if not rows:
        print(empty)
        return 0
    table = Table(title=title)
    table.add_column("subject", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("vendor", no_wrap=True)
    numeric_column(table, "rejected")
    numeric_column(table, "last good")
    table.add_column("issue", no_wrap=True)
    table.add_column("since", no_wrap=True)
    for row in rows:
        table.add_row(
            row["subject"],
            row["subject_kind"].replace("_", " "),
            row["vendor"],
            _value(row["rejected_value"], row["rejected_date"]),
            _value(row["last_good_value"], row["last_good_date"]),
            row["issue_id"],
            row["since"] or "",
        )
    print_tables(table)
    return 0


SUBCOMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: show_status,
    "checks": show_checks,
    "issues": show_issues,
    "issue": show_issue,
    "ack": acknowledge,
    "quarantine": show_quarantine,
}


def dq_command(args: argparse.Namespace) -> int:
    name = args.dq_command
    try:
        return SUBCOMMANDS[name](args)
    except CommandFailed as error:
        print(f"opsuite dq{' ' + name if name else ''}: {error}", file=sys.stderr)
        return error.exit_code
