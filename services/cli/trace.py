"""opsuite trace <break id | event id | trace id>: one chain, from the market tick to the ledger journal.

It reads the combined event log (OPSUITE_EVENTLOG_URL, or the SQLite log under
OPSUITE_DATA_DIR) where every service records what it did with its trace id
and the ids of the events that caused it. The chain is everything in the
trace, plus the causes and effects of the starting event, in simulated time.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from opsuite.market.v1 import market_pb2
from services.common.eventlog import EventLog, LogRecord, open_event_log
from services.common.settings import load_settings

TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")


def describe(record: LogRecord) -> str:
    """The record's own summary, or a line read from a market event's payload."""
    if record.summary or record.source != "market" or not record.payload:
        return record.summary
    event = market_pb2.MarketEvent.FromString(record.payload)
    which = event.WhichOneof("payload")
    if which == "fill":
        f = event.fill
        side = market_pb2.Side.Name(f.side).removeprefix("SIDE_")
        return f"{f.fill_id}: {side} {f.quantity.value} {f.instrument_id} @ {f.price.value} (net {f.net_amount.amount.value} {f.net_amount.currency})"
    if which == "custodian_trade":
        t = event.custodian_trade
        return f"custodian booked {t.custodian_ref} for {t.fill_id}: {t.quantity.value} {t.instrument_id} @ {t.price.value}"
    if which == "settlement":
        s = event.settlement
        state = market_pb2.SettlementState.Name(s.state).removeprefix("SETTLEMENT_STATE_")
        return f"{s.fill_id} {state.lower()} at the custodian {s.reason}".rstrip()
    if which == "confirmation":
        return f"{event.confirmation.confirmation_id} from {event.confirmation.broker} for {event.confirmation.fill_id}"
    if which == "price":
        return f"{event.price.instrument_id} {event.price.price.value} {event.price.currency} ({event.price.vendor})"
    return which or ""


def resolve_trace_id(identifier: str, log: EventLog) -> tuple[str, LogRecord | None]:
    """The trace id an identifier stands for, and the log record it names (if it names one)."""
    if TRACE_ID.fullmatch(identifier):
        return identifier.lower(), None
    if identifier.startswith("BRK-"):
        from services.recon.store import open_store  # only this path needs recon's store

        store = open_store(load_settings().service_dir("recon"))
        try:
            found = store.get_break(identifier)
        finally:
            store.close()
        if found is None:
            raise LookupError(f"no break {identifier!r} in recon's store")
        return found.trace_id, None
    record = log.get(identifier)
    if record is None:
        raise LookupError(f"no event {identifier!r} in the event log (nor a break id or a 32-hex trace id)")
    return record.trace_id, record


def chain(log: EventLog, trace_id: str, start: LogRecord | None) -> list[LogRecord]:
    """Everything in the trace, plus the causes and effects of the starting record, in order."""
    found: dict[str, LogRecord] = {r.event_id: r for r in log.by_trace(trace_id)} if trace_id else {}
    frontier: list[LogRecord] = [start] if start is not None else list(found.values())
    seen: set[str] = set()
    while frontier:
        record = frontier.pop()
        if record.event_id in seen:
            continue
        seen.add(record.event_id)
        found.setdefault(record.event_id, record)
        causes: Iterable[LogRecord | None] = (log.get(cause) for cause in record.caused_by)
        frontier.extend(r for r in (*causes, *log.effects_of(record.event_id)) if r is not None)
    return sorted(found.values(), key=lambda r: (r.sim_time, r.recorded_at, r.source, r.seq))


def trace(args: argparse.Namespace) -> int:
    settings = load_settings()
    log = open_event_log(settings.eventlog_url or None, settings.data_dir)
    try:
        try:
            trace_id, start = resolve_trace_id(args.id, log)
        except LookupError as error:
            print(f"opsuite trace: {error}", file=sys.stderr)
            return 2
        records = chain(log, trace_id, start)
    finally:
        log.close()
    table = Table(title=f"trace {trace_id or '(none)'}", expand=True)
    for column in ("simulated time", "service", "kind", "event", "what"):
        table.add_column(column, overflow="fold")
    for record in records:
        table.add_row(
            record.sim_time.strftime("%Y-%m-%d %H:%M"),
            record.source,
            record.kind,
            record.event_id,
            describe(record),
        )
    Console(width=max(120, Console().width)).print(table)
    return 0 if records else 1
