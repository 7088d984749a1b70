"""Growing a chain over the combined event log, from the records an id names (lookup.py).

The chain of an event is what caused it (up to the price tick the fill was priced on), what it caused
in turn, and the whole life of every break on the way; the chain of a break is its causes, its own
records (opened, aged, escalated, resolved), the event that resolved it and the journals posted for
it. Other breaks of the same trade share its trace, so a trace is never taken whole unless a trace id
is what was asked.

Causes are walked up only, never back down: a tick causes every fill of its instrument that day, so
the effects of an ancestor would bring in the other fills (and theirs). The one exception is the
ledger's journals that booked an ancestor (journal.booked, services/ledger/outbox.py): the journal
of the fill and of its settlement belong to the chain, and the ledger records no journal of a tick
(its marks are not in the log), so a tick stays a root cause.

Market's events are kept only for its retention window (services/market/retention.py): a cause
that was trimmed is named, with the oldest seq market still keeps, so a chain that reaches past
retention says so rather than looking complete.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.common.eventlog import EventLog, LogRecord
from services.common.eventlog.records import trace_order
from services.common.trace_chain.lookup import MARKET_SOURCE, Subject, break_of_record, breaks_of
from services.common.trace_chain.market_text import describe
from services.common.trace_chain.records import BreakRef, ChainLink, TracedChain

LEDGER_SOURCE = "ledger"
BOOKED_KIND = "journal.booked"  # services/ledger/outbox.py BOOKED: a journal booked from market's stream


def _belongs(record: LogRecord, break_id: str) -> bool:
    """A record of this break (not of its next generation BRK-...-2), or a journal posted for it."""
    ref = break_of_record(record)
    return (ref is not None and ref.break_id == break_id) or break_id in record.caused_by


class _Walk:
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
                    continue
                new = self.add([found])
                frontier.extend(new)
                for ancestor in new:
                    frontier.extend(self.add(self.bookings(ancestor)))

    def bookings(self, record: LogRecord) -> list[LogRecord]:
        """The ledger's journals that booked a market event (its trade, settlement, cash flow); none of
        its other effects."""
        if record.source != MARKET_SOURCE:
            return []
        return [
            r
            for r in self.log.effects_of(record.event_id)
            if r.source == LEDGER_SOURCE and r.kind == BOOKED_KIND
        ]

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


def link_of(record: LogRecord) -> ChainLink:
    """A record of the log as a chain shows it: without its payload, with its line and its breaks."""
    return ChainLink(
        source=record.source,
        seq=record.seq,
        event_id=record.event_id,
        kind=record.kind,
        sim_time=record.sim_time,
        trace_id=record.trace_id,
        caused_by=record.caused_by,
        mandate_id=record.mandate_id,
        summary=record.summary,
        description=describe(record),
        break_ids=breaks_of(record),
    )


def _seq_order(event_id: str) -> tuple[int, str]:
    number = event_id.rpartition("-")[2]
    return (int(number) if number.isdigit() else 0, event_id)


def grow(log: EventLog, subject: Subject) -> TracedChain:
    """The chain of what the subject names, oldest first."""
    if not subject.grow:
        links = tuple(link_of(r) for r in sorted(subject.seeds, key=trace_order))
        return TracedChain(subject.title, links, tuple(sorted({b for link in links for b in link.break_ids})))
    walk = _Walk(log)
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
    links = tuple(link_of(r) for r in sorted(walk.found.values(), key=trace_order))
    breaks = tuple(sorted(walk.breaks))
    if not walk.missing:
        return TracedChain(subject.title, links, breaks)
    missing = tuple(sorted(walk.missing, key=_seq_order))
    return TracedChain(subject.title, links, breaks, missing, log.oldest(MARKET_SOURCE))
