"""How `opsuite break` prints one break: its facts, its parent and children, its events, its history.

The facts read top to bottom as a person checks a break (what, where, how old, how much, who has
it, what suspense holds), leaving out what does not apply to its kind.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from services.cli.output import grouped, print_tables
from services.cli.recon.breaks import table as breaks_table
from services.cli.recon.rows import Row


def _money(amount: str | None, currency: str) -> str:
    return f"{grouped(amount)} {currency}".strip() if amount is not None else ""


def _facts(brk: Row) -> list[tuple[str, str]]:
    """(label, value) pairs a person reads top to bottom; empty values are left out."""
    status = brk["status"]
    if brk["resolved_at"]:
        by = f" by {brk['resolved_by_event_id']}" if brk["resolved_by_event_id"] else ""
        status = f"{status} at {brk['resolved_at']}{by}"
    quantities = [
        f"{label} {grouped(brk[key])}"
        for label, key in (
            ("book", "book_quantity"),
            ("other", "other_quantity"),
            ("difference", "quantity_difference"),
        )
        if brk[key] is not None
    ]
    amounts = [
        f"{label} {_money(brk[key], brk['currency'])}"
        for label, key in (("book", "book_amount"), ("other", "other_amount"), ("difference", "amount"))
        if brk[key] is not None
    ]
    dates = [
        f"{label} {brk[key]}" for label, key in (("book", "book_date"), ("other", "other_date")) if brk[key]
    ]
    suspense = ""
    if brk["suspense_amount"] is not None:
        suspense = (
            f"{_money(brk['suspense_amount'], brk['currency'])} held, in {brk['suspense_version']} journal(s); "
            f"latest {brk['suspense_journal_id']}"
        )
    pairs = [
        ("summary", brk["summary"]),
        ("mandate", brk["mandate"]),
        ("kind", f"{brk['kind']} ({brk['comparison'].replace('_', ' ')}, {brk['scope'].replace('_', ' ')})"),
        ("status", status),
        ("age", f"{brk['age']} business day(s), bucket {brk['bucket']}"),
        ("seen", f"first {brk['opened_on']}, last {brk['last_seen_on']}"),
        ("instrument", brk["instrument"]),
        ("cash flow", brk["cash_flow_id"]),
        ("fill", brk["fill_id"]),
        ("custodian refs", ", ".join(brk["custodian_refs"])),
        ("ledger account", brk["ledger_account"]),
        ("quantity", " · ".join(quantities)),
        ("amount", " · ".join(amounts)),
        ("base amount", _money(brk["base_amount"], brk["base_currency"])),
        ("dates", " · ".join(dates)),
        ("grouped under", brk["parent_break_id"]),
        ("escalated", f"yes: {brk['escalation_reason']}" if brk["escalated"] else "no"),
        ("assignee", brk["assignee"]),
        ("suspense", suspense),
        ("write-off journal", brk["write_off_journal_id"]),
        ("trace", brk["trace_id"]),
    ]
    return [(label, value) for label, value in pairs if value]


def facts_table(brk: Row) -> Table:
    out = Table(title=f"break {brk['id']}", show_header=False)
    out.add_column("field", no_wrap=True, style="bold")
    out.add_column("value", overflow="fold")
    for label, value in _facts(brk):
        out.add_row(label, value)
    return out


def events_table(events: list[Row]) -> Table:
    out = Table(title="events it is about")
    out.add_column("simulated time", no_wrap=True)
    out.add_column("kind", no_wrap=True)
    out.add_column("event", no_wrap=True)
    out.add_column("role", no_wrap=True)
    # Market's records carry no summary of their own (their payload says it all, and trace reads it).
    described = any(event["summary"] for event in events)
    if described:
        out.add_column("what", overflow="fold")
    for event in events:
        cells = [event["sim_time"] or "", event["kind"], event["event_id"], event["role"]]
        out.add_row(*cells, *([event["summary"]] if described else []))
    return out


def _action_detail(action: Row) -> str:
    parts = []
    if action["from_status"] != action["to_status"]:
        parts.append(f"{action['from_status']} → {action['to_status']}")
    if action["assignee"]:
        parts.append(f"assigned to {action['assignee']}")
    if action["comment"]:
        parts.append(action["comment"])
    if action["journal_id"]:
        parts.append(f"journal {action['journal_id']}")
    if action["amount"] is not None:
        parts.append(_money(action["amount"], action["currency"]))
    return "; ".join(parts)


def history_table(history: list[Row]) -> Table:
    out = Table(title="history, oldest first")
    out.add_column("simulated time", no_wrap=True)
    out.add_column("action", no_wrap=True)
    out.add_column("by", no_wrap=True)
    out.add_column("detail", overflow="fold")
    for action in history:
        out.add_row(action["sim_time"] or "", action["kind"], action["actor"], _action_detail(action))
    return out


def print_detail(found: dict[str, Any]) -> None:
    brk = found["break"]
    parent = found["parent"]
    lines = [facts_table(brk)]
    if parent is not None:
        lines.append(breaks_table([parent], "grouped under (parent)"))
    if found["children"]:
        lines.append(breaks_table(found["children"], f"grouped under it ({len(found['children'])} children)"))
    if found["events"]:
        lines.append(events_table(found["events"]))
    lines.append(history_table(found["history"]))
    print_tables(*lines)
    print(f"the whole chain, from the trade to the journal: opsuite trace {brk['id']}")
