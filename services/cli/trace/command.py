"""opsuite trace <id>: one chain, from the market tick to the ledger journal, for the thing asked about.

It reads the combined event log (OPSUITE_EVENTLOG_URL, or the SQLite log under OPSUITE_DATA_DIR),
where every service records what it did with the ids of the events that caused it. The chain of
an event is what caused it (up to the fill), what it caused in turn, and the whole life of every
break on the way; the chain of a break is its causes, its own records (opened, aged, escalated,
resolved), the event that resolved it and the journals posted for it. Other breaks of the same
trade share its trace, so a trace is never taken whole unless a trace id is what was asked.

Market's events are kept only for its retention window (services/market/retention.py): a cause
that was trimmed is named, with the oldest seq market still keeps, so a chain that reaches past
retention says so rather than looking complete.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from rich.table import Table

from services.cli.output import print_json, print_tables
from services.cli.trace.lookup import (
    ACCEPTED,
    MARKET_SOURCE,
    BreakRef,
    NothingFound,
    Subject,
    break_of_record,
    subject_of,
)
from services.cli.trace.market_text import describe
from services.common.eventlog import EventLog, LogRecord
from services.common.eventlog.factory import DEFAULT_FILE
from services.common.eventlog.records import trace_order
from services.common.settings import Settings, load_settings


def _belongs(record: LogRecord, break_id: str) -> bool:
    """A record of this break (not of its next generation BRK-...-2), or a journal posted for it."""
    ref = break_of_record(record)
    return (ref is not None and ref.break_id == break_id) or break_id in record.caused_by


class Chain:
    """Records gathered by walking causes up and effects down, and the breaks met on the way."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.found: dict[str, LogRecord] = {}
        self.breaks: dict[str, BreakRef] = {}
        self.missing: set[str] = set()  # causes named but no longer in the log (past retention)

    def add(self, records: Iterable[LogRecord]) -> list[LogRecord]:
        """The records not found before, now found; each break record names its break."""
        new = []
        for record in records:
            if record.event_id in self.found:
                continue
            self.found[record.event_id] = record
            new.append(record)
            ref = break_of_record(record)
            if ref is not None:
                self.breaks.setdefault(ref.break_id, ref)
        return new

    def causes(self, records: Iterable[LogRecord]) -> None:
        frontier = list(records)
        while frontier:
            record = frontier.pop()
            for cause in record.caused_by:
                if cause.startswith("BRK-"):  # a journal posted for a break names the break
                    self.breaks.setdefault(cause, BreakRef(cause, trace_id=record.trace_id))
                    continue
                found = self.log.get(cause)
                if found is None:
                    self.missing.add(cause)
                frontier.extend(self.add([found] if found is not None else []))

    def effects(self, records: Iterable[LogRecord]) -> None:
        frontier = list(records)
        while frontier:
            record = frontier.pop()
            frontier.extend(self.add(self.log.effects_of(record.event_id)))

    def break_life(self, ref: BreakRef) -> list[LogRecord]:
        """Every record of one break: found through its trace, its causes and its own id."""
        candidates = [
            *(self.log.by_trace(ref.trace_id) if ref.trace_id else []),
            *(r for cause in ref.caused_by for r in self.log.effects_of(cause)),
            *self.log.effects_of(ref.break_id),
        ]
        return [r for r in candidates if _belongs(r, ref.break_id)]


@dataclass(frozen=True)
class Found:
    records: list[LogRecord]  # oldest first
    past_retention: tuple[str, ...] = ()  # causes named by the records that were trimmed
    oldest_retained_seq: int = 0  # market's oldest event still in the log

    def retention_note(self) -> str:
        if not self.past_retention:
            return ""
        shown = ", ".join(self.past_retention[:5]) + (" ..." if len(self.past_retention) > 5 else "")
        return (
            f"the chain reaches past market's retention: {len(self.past_retention):,} earlier event(s) "
            f"({shown}) are no longer in the event log, which keeps market's events from seq "
            f"{self.oldest_retained_seq:,} (OPSUITE_RETENTION_EVENTS, OPSUITE_RETENTION_DAYS)"
        )


def chain(log: EventLog, subject: Subject) -> Found:
    if not subject.grow:
        return Found(sorted(subject.seeds, key=trace_order))
    walk = Chain(log)
    seeds = walk.add(subject.seeds)
    walk.causes(seeds)
    walk.effects(seeds)
    walk.causes(walk.add(subject.extra))
    for ref in subject.breaks:
        walk.breaks.setdefault(ref.break_id, ref)
    done: set[str] = set()
    while pending := [ref for break_id, ref in walk.breaks.items() if break_id not in done]:
        for ref in pending:
            done.add(ref.break_id)
            life = walk.add(walk.break_life(ref))
            walk.causes(life)
            walk.effects(life)
    records = sorted(walk.found.values(), key=trace_order)
    if not walk.missing:
        return Found(records)
    return Found(records, tuple(sorted(walk.missing, key=_seq_order)), log.oldest(MARKET_SOURCE))


def _seq_order(event_id: str) -> tuple[int, str]:
    number = event_id.rpartition("-")[2]
    return (int(number) if number.isdigit() else 0, event_id)


def _open_log(settings: Settings) -> EventLog:
    from services.common.eventlog import open_event_log

    if not settings.eventlog_url and not (settings.data_dir / DEFAULT_FILE).exists():
        # Opening it would create an empty log and then report every id as unknown.
        raise NothingFound(
            f"there is no event log in {settings.data_dir}: start the suite with `opsuite up` "
            "(or point OPSUITE_DATA_DIR / OPSUITE_EVENTLOG_URL at its log)"
        )
    return open_event_log(settings.eventlog_url or None, settings.data_dir)


def _row(record: LogRecord) -> dict[str, object]:
    return {
        "sim_time": record.sim_time.isoformat(),
        "source": record.source,
        "kind": record.kind,
        "event_id": record.event_id,
        "what": describe(record),
        "caused_by": list(record.caused_by),
        "mandate_id": record.mandate_id,
        "trace_id": record.trace_id,
    }


def _table(subject: Subject, records: list[LogRecord]) -> Table:
    traces = sorted({r.trace_id for r in records if r.trace_id})
    out = Table(
        title=f"{subject.title}: {len(records):,} record(s), oldest first",
        caption=f"trace {', '.join(traces)}" if traces else None,
    )
    out.add_column("simulated time", no_wrap=True)
    out.add_column("kind", no_wrap=True)
    out.add_column("event", no_wrap=True)
    out.add_column("what", overflow="fold")
    for record in records:
        out.add_row(
            record.sim_time.strftime("%Y-%m-%d %H:%M"), record.kind, record.event_id, describe(record)
        )
    return out


def trace(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        log = _open_log(settings)
        try:
            subject = subject_of(args.id.strip(), log, settings)
            found = chain(log, subject)
        finally:
            log.close()
    except NothingFound as error:
        print(f"opsuite trace: nothing found for {args.id!r}: {error}. Accepted: {ACCEPTED}", file=sys.stderr)
        return 1
    if args.output == "json":
        print_json(
            {
                "subject": subject.title,
                "records": [_row(r) for r in found.records],
                "past_retention": list(found.past_retention),
                "oldest_retained_seq": found.oldest_retained_seq or None,
            }
        )
    else:
        print_tables(_table(subject, found.records))
        if found.past_retention:
            print(found.retention_note())
    return 0
