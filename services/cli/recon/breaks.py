"""opsuite breaks: recon's breaks as a person works them, oldest first, without grpcurl.

The filters go to recon's ListBreaks (every page); the order is the one a person works in: the
oldest break first, then the largest amount (in the mandate's base currency).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence

import grpc
from rich.table import Table

from opsuite.recon.v1 import recon_pb2
from services.cli.client import CommandFailed, choose
from services.cli.output import grouped, numeric_column, print_json, print_tables
from services.cli.recon.client import connect
from services.cli.recon.rows import (
    KIND_NAMES,
    OPEN_STATUSES,
    STATUS_NAMES,
    Row,
    break_row,
    by_age_then_amount,
)
from services.common.convert import decimal_to_proto

EVERY_STATUS = "all"


def statuses(given: Sequence[str] | None) -> list[recon_pb2.BreakStatus.ValueType]:
    """None: the open ones (OPEN and INVESTIGATING); "all": every status (recon's empty filter)."""
    if not given:
        return list(OPEN_STATUSES)
    chosen = choose(given, STATUS_NAMES, "break status", "--status", also=(EVERY_STATUS,))
    wants_all = any(part.strip().lower() == EVERY_STATUS for text in given for part in text.split(","))
    return [] if wants_all else chosen


def request_of(args: argparse.Namespace) -> recon_pb2.ListBreaksRequest:
    request = recon_pb2.ListBreaksRequest(
        mandate_id=args.mandate or "",
        kinds=choose(args.kind or [], KIND_NAMES, "break kind", "--kind"),
        statuses=statuses(args.status),
        min_age_business_days=args.min_age or 0,
    )
    if args.min_amount is not None:
        request.min_base_amount.CopyFrom(decimal_to_proto(args.min_amount))
    return request


def _what(args: argparse.Namespace, request: recon_pb2.ListBreaksRequest) -> str:
    """The filters in words, for the title and for the line printed when nothing matches."""
    statuses = " or ".join(STATUS_NAMES[s] for s in request.statuses)
    narrowed = [" or ".join(KIND_NAMES[k] for k in request.kinds)] if request.kinds else []
    narrowed += [args.mandate] if args.mandate else []
    narrowed += [f"aged {args.min_age}+ business days"] if args.min_age else []
    if args.min_amount is not None:
        narrowed.append(f"at least {grouped(args.min_amount)} in base currency")
    what = f"{statuses} breaks" if statuses else "breaks of any status"
    return f"{what} ({', '.join(narrowed)})" if narrowed else what


def _amount(row: Row) -> str:
    return f"{grouped(row['amount'])}" if row["amount"] is not None else ""


def table(rows: Iterable[Row], title: str) -> Table:
    out = Table(title=title)
    out.add_column("id", no_wrap=True)
    out.add_column("mandate", no_wrap=True)
    out.add_column("kind", no_wrap=True)
    out.add_column("status", no_wrap=True)
    numeric_column(out, "age")
    out.add_column("bucket", no_wrap=True)
    numeric_column(out, "amount")
    out.add_column("ccy", no_wrap=True)
    out.add_column("instrument", no_wrap=True)
    out.add_column("opened on", no_wrap=True)
    out.add_column("summary", overflow="fold")
    for row in rows:
        out.add_row(
            row["id"],
            row["mandate"],
            row["kind"],
            row["status"],
            grouped(row["age"]),
            row["bucket"],
            _amount(row),
            row["currency"],
            row["instrument"] or row["cash_flow_id"],
            row["opened_on"] or "",
            row["summary"],
        )
    return out


def _about_mandate(error: CommandFailed) -> bool:
    """recon's refusal of an unknown mandate (NOT_FOUND, or INVALID_ARGUMENT naming mandate_id)."""
    return error.status is grpc.StatusCode.NOT_FOUND or (
        error.status is grpc.StatusCode.INVALID_ARGUMENT and "mandate" in str(error)
    )


def list_rows(args: argparse.Namespace) -> tuple[list[Row], str]:
    request = request_of(args)
    with connect() as recon:
        try:
            found = recon.list_breaks(request)
        except CommandFailed as error:
            if args.mandate and _about_mandate(error):
                raise recon.unknown_mandate(args.mandate) from None
            raise
        if not found and args.mandate:
            # Until recon refuses an unknown mandate itself, an empty answer may be a typo.
            recon.check_mandate(args.mandate)
    return by_age_then_amount([break_row(b) for b in found]), _what(args, request)


def breaks_command(args: argparse.Namespace) -> int:
    try:
        rows, what = list_rows(args)
    except CommandFailed as error:
        print(f"opsuite breaks: {error}", file=sys.stderr)
        return error.exit_code
    if args.output == "json":
        print_json(rows)
    elif not rows:
        print(f"no {what}")
    else:
        print_tables(table(rows, f"{len(rows):,} {what}, oldest first"))
    return 0
