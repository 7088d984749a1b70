"""recon's replies as plain rows: what `opsuite breaks`, `break` and `recon` print, as a table or JSON.

One conversion for every command, so a break reads the same everywhere; values as every command
writes them (services/cli/wire.py): enums by their short lower-case names, dates as ISO text,
amounts as decimal strings, absent figures as None.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from opsuite.common.v1 import common_pb2
from opsuite.recon.v1 import recon_pb2
from services.cli.wire import date_text, decimal_text, short_names, time_text

Row = dict[str, Any]

KIND_NAMES = short_names(recon_pb2.BreakKind, "BREAK_KIND_")
STATUS_NAMES = short_names(recon_pb2.BreakStatus, "BREAK_STATUS_")
COMPARISON_NAMES = short_names(recon_pb2.Comparison, "COMPARISON_")
SCOPE_NAMES = short_names(recon_pb2.Scope, "SCOPE_")
ACTION_NAMES = short_names(recon_pb2.ActionKind, "ACTION_KIND_")
OPEN_STATUSES = (recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING)


def money_text(value: common_pb2.Money) -> str | None:
    return value.amount.value or None


def magnitude(amount: str | None) -> Decimal:
    """|amount|, with an absent amount below every present one (so it sorts last, largest first)."""
    return abs(Decimal(amount)) if amount is not None else Decimal(-1)


def break_row(brk: recon_pb2.Break) -> Row:
    """Every field of a break a person or a script may want, by the names the commands print."""
    return {
        "id": brk.break_id,
        "mandate": brk.mandate_id,
        "kind": KIND_NAMES.get(brk.kind, ""),
        "status": STATUS_NAMES.get(brk.status, ""),
        "comparison": COMPARISON_NAMES.get(brk.comparison, ""),
        "scope": SCOPE_NAMES.get(brk.scope, ""),
        "age": brk.age_business_days,
        "bucket": brk.aging_bucket,
        "amount": money_text(brk.amount_difference) if brk.HasField("amount_difference") else None,
        "currency": brk.currency,
        "base_amount": money_text(brk.base_amount_difference)
        if brk.HasField("base_amount_difference")
        else None,
        "base_currency": brk.base_amount_difference.currency,
        "instrument": brk.instrument_id,
        "opened_on": date_text(brk.first_seen_date),
        "last_seen_on": date_text(brk.last_seen_date),
        "resolved_at": time_text(brk.resolved_at),
        "resolved_by_event_id": brk.resolved_by_event_id,
        "summary": brk.description,
        "book_quantity": decimal_text(brk.book_quantity),
        "other_quantity": decimal_text(brk.other_quantity),
        "quantity_difference": decimal_text(brk.quantity_difference),
        "book_amount": money_text(brk.book_amount),
        "other_amount": money_text(brk.other_amount),
        "book_date": date_text(brk.book_date),
        "other_date": date_text(brk.other_date),
        "fill_id": brk.fill_id,
        "custodian_refs": list(brk.custodian_refs),
        "cash_flow_id": brk.cash_flow_id,
        "ledger_account": brk.ledger_account,
        "parent_break_id": brk.parent_break_id,
        "escalated": brk.escalated,
        "escalation_reason": brk.escalation_reason,
        "assignee": brk.assignee,
        "suspense_amount": money_text(brk.suspense_amount) if brk.HasField("suspense_amount") else None,
        "suspense_version": brk.suspense_version,
        "suspense_journal_id": brk.suspense_journal_id,
        "write_off_journal_id": brk.write_off_journal_id,
        "caused_by": list(brk.caused_by),
        "trace_id": brk.trace_id,
    }


def action_row(action: recon_pb2.BreakAction) -> Row:
    return {
        "action_id": action.action_id,
        "kind": ACTION_NAMES.get(action.kind, ""),
        "actor": action.actor,
        "sim_time": time_text(action.sim_time),
        "from_status": STATUS_NAMES.get(action.from_status, ""),
        "to_status": STATUS_NAMES.get(action.to_status, ""),
        "assignee": action.assignee,
        "comment": action.comment,
        "journal_id": action.journal_id,
        "amount": money_text(action.amount) if action.HasField("amount") else None,
        "currency": action.amount.currency,
        "event_id": action.event_id,
    }


def log_record_row(record: common_pb2.LogRecord) -> Row:
    return {
        "event_id": record.event_id,
        "source": record.source,
        "kind": record.kind,
        "sim_time": time_text(record.sim_time),
        "summary": record.summary,
        "caused_by": list(record.caused_by),
        "trace_id": record.trace_id,
    }


def by_age_then_amount(rows: list[Row]) -> list[Row]:
    """Oldest first, then the largest amount in the mandate's base currency, then by id."""
    return sorted(rows, key=lambda r: (-r["age"], -magnitude(r["base_amount"]), r["id"]))
