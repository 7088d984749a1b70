"""opsuite recon: where reconciliation stands, one row per mandate (recon's GetReconciliation).

Per mandate: the last business day checked, the open breaks (and how many of them are items to
work, the rest being grouped under a parent), their aging buckets, escalations, what suspense
holds and the timing items still waiting on a settlement; then the open breaks by kind.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from rich.table import Table

from opsuite.recon.v1 import recon_pb2
from services.cli.client import CommandFailed
from services.cli.output import grouped, numeric_column, print_json, print_tables
from services.cli.recon.client import Recon, connect
from services.cli.recon.rows import KIND_NAMES
from services.cli.wire import date_text, decimal_text

Summary = dict[str, Any]


def _suspense(breaks: list[recon_pb2.Break]) -> dict[str, str]:
    """Cash held in suspense by open breaks, per currency; Decimal sums so no cent goes astray."""
    held: defaultdict[str, Decimal] = defaultdict(Decimal)
    for brk in breaks:
        if brk.HasField("suspense_amount") and brk.suspense_amount.amount.value:
            held[brk.suspense_amount.currency or brk.currency] += Decimal(brk.suspense_amount.amount.value)
    return {currency: str(amount) for currency, amount in sorted(held.items()) if amount}


def mandate_summary(mandate: recon_pb2.MandateReconciliation) -> Summary:
    open_breaks = list(mandate.open_breaks)
    checked = [date_text(run.as_of_date) for run in mandate.latest_runs if run.HasField("as_of_date")]
    return {
        "mandate": mandate.mandate_id,
        "last_checked": max((d for d in checked if d), default=None),
        "open_breaks": len(open_breaks),
        "to_work": sum(1 for b in open_breaks if not b.parent_break_id),
        "escalated": mandate.escalated_count,
        "buckets": {
            b.bucket: {
                "count": b.count,
                "base_amount": decimal_text(b.base_amount.amount) or "0",
                "currency": b.base_amount.currency,
            }
            for b in mandate.buckets
        },
        "by_kind": dict(sorted(Counter(KIND_NAMES.get(b.kind, "") for b in open_breaks).items())),
        "suspense": _suspense(open_breaks),
        "timing_items": len(mandate.timing_items),
    }


def summarise(recon: Recon, mandate_id: str) -> dict[str, Any]:
    if mandate_id:
        recon.check_mandate(mandate_id)
    reply = recon.call(
        recon.stub.GetReconciliation, recon_pb2.GetReconciliationRequest(mandate_id=mandate_id)
    )
    return {
        "as_of_date": date_text(reply.as_of_date),
        "mandates": [mandate_summary(m) for m in reply.mandates],
    }


def _held(suspense: dict[str, str]) -> str:
    return ", ".join(f"{grouped(amount)} {currency}" for currency, amount in suspense.items()) or "0"


def overview_table(summary: dict[str, Any]) -> Table:
    mandates = summary["mandates"]
    labels = list(dict.fromkeys(label for m in mandates for label in m["buckets"]))
    out = Table(title=f"reconciliation as of {summary['as_of_date'] or '(no check yet)'}")
    out.add_column("mandate", no_wrap=True)
    out.add_column("last checked", no_wrap=True)
    numeric_column(out, "open breaks")
    numeric_column(out, "to work")
    for label in labels:
        numeric_column(out, f"aged {label}")
    numeric_column(out, "escalated")
    numeric_column(out, "suspense")
    numeric_column(out, "timing items")
    for m in mandates:
        out.add_row(
            m["mandate"],
            m["last_checked"] or "never",
            grouped(m["open_breaks"]),
            grouped(m["to_work"]),
            *(grouped(m["buckets"].get(label, {}).get("count", 0)) for label in labels),
            grouped(m["escalated"]),
            _held(m["suspense"]),
            grouped(m["timing_items"]),
        )
    return out


def kinds_table(summary: dict[str, Any]) -> Table:
    out = Table(title="open breaks by kind")
    out.add_column("mandate", no_wrap=True)
    out.add_column("kind", no_wrap=True)
    numeric_column(out, "open")
    for m in summary["mandates"]:
        for kind, count in m["by_kind"].items():
            out.add_row(m["mandate"], kind, grouped(count))
    return out


def recon_command(args: argparse.Namespace) -> int:
    try:
        with connect() as recon:
            summary = summarise(recon, args.mandate or "")
    except CommandFailed as error:
        print(f"opsuite recon: {error}", file=sys.stderr)
        return error.exit_code
    if args.output == "json":
        print_json(summary)
        return 0
    tables = [overview_table(summary)]
    if any(m["by_kind"] for m in summary["mandates"]):
        tables.append(kinds_table(summary))
    print_tables(*tables)
    if not summary["mandates"]:
        print("recon has checked no mandate yet: it checks at each simulated day end")
    elif not tables[1:]:
        print("no open breaks")
    return 0
