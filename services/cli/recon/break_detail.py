"""opsuite break <id>: one break, where it comes from and what was done about it (recon's GetBreak).

Lineage is the parent break it is grouped under, the child breaks grouped under it, and the
events it is about (its causes, the trade's other messages in its trace, the event that resolved
it, the journals posted for it). Actions are recon's history of the break: opened, aged,
escalated, assigned, commented, status changes, suspense and write-off journals.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import grpc

from opsuite.recon.v1 import recon_pb2
from services.cli.client import FAILED, USAGE, CommandFailed
from services.cli.output import print_json
from services.cli.recon.break_tables import print_detail
from services.cli.recon.client import Recon, connect
from services.cli.recon.rows import Row, action_row, break_row, by_age_then_amount, log_record_row

BREAK_PREFIX = "BRK-"


def _is_event_of(record: Row, break_id: str) -> bool:
    """recon's lineage is the break's whole trace, which the other breaks of the same trade share;
    recon's own records are the history already. What is left: the trade's messages, and the
    journals the ledger posted for this break (not for a sibling)."""
    if record["source"] == "recon":
        return False
    return record["source"] != "ledger" or break_id in record["caused_by"]


def _role(event_id: str, brk: Row) -> str:
    if event_id in brk["caused_by"]:
        return "cause"
    return "resolved it" if event_id == brk["resolved_by_event_id"] else ""


def _parent(recon: Recon, parent_id: str) -> Row | None:
    try:
        return break_row(
            recon.call(recon.stub.GetBreak, recon_pb2.GetBreakRequest(break_id=parent_id)).record
        )
    except CommandFailed as error:
        if error.status is grpc.StatusCode.NOT_FOUND:
            return None  # the facts still name the parent's id; its record is simply not shown
        raise


def detail(recon: Recon, break_id: str) -> dict[str, Any]:
    found = recon.call(recon.stub.GetBreak, recon_pb2.GetBreakRequest(break_id=break_id))
    brk = break_row(found.record)
    parent = _parent(recon, brk["parent_break_id"]) if brk["parent_break_id"] else None
    children = recon.list_breaks(recon_pb2.ListBreaksRequest(parent_break_id=break_id))
    records = [log_record_row(r) for r in found.lineage.records]
    events = [r for r in records if _is_event_of(r, break_id)]
    for event in events:
        event["role"] = _role(event["event_id"], brk)
    return {
        "break": brk,
        "parent": parent,
        "children": by_age_then_amount([break_row(c) for c in children]),
        "events": events,
        "history": [action_row(a) for a in found.history],
    }


def break_command(args: argparse.Namespace) -> int:
    try:
        if not args.id.startswith(BREAK_PREFIX):
            raise CommandFailed(
                f"{args.id!r} is not a break id: they look like BRK-151c8ec8900aedee3119 "
                "(`opsuite breaks --status all` lists them)",
                USAGE,
            )
        with connect() as recon:
            found = detail(recon, args.id)
    except CommandFailed as error:
        if error.status is grpc.StatusCode.NOT_FOUND:
            # Once recon has pruned closed history (OPSUITE_RECON_KEEP_DAYS) its answer says since
            # when; that is worth more than the generic line.
            said = f" ({error})" if "pruned" in str(error) else ""
            error = CommandFailed(
                f"recon has no break {args.id!r}{said}; `opsuite breaks --status all` lists every break",
                FAILED,
            )
        print(f"opsuite break: {error}", file=sys.stderr)
        return error.exit_code
    if args.output == "json":
        print_json(found)
    else:
        print_detail(found)
    return 0
