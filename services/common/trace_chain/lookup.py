"""What an id given to `opsuite trace` (or recon's GetChain) names, and the records its chain grows from.

Every id the suite prints is accepted: a break id (recon's store, through the lookup the caller
gives), an event id (mkt-, rec-, ldg-, ctl-, dq-...), a 32-hex trace id, a journal id (its ldg-
record), the ids market's events carry: fills, custodian references, confirmations and cash flows
(found in the first market event that names them), and a fault id with the events that carry the
fault. Which events those are is market's ground truth, which no service reads: the caller (the
command line, a person) asks market and passes them in.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from opsuite.market.v1 import market_pb2
from services.common.eventlog import EventLog, LogRecord
from services.common.limits import MAX_NAME_CHARS
from services.common.trace_chain.records import BadId, BreakRef, NothingFound, ScanTimedOut

TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")
# The recon record of a break: rec-<break id>-<what happened>; a later generation is BRK-<hash>-2.
BREAK_RECORD = re.compile(r"rec-(BRK-[0-9a-f]+(?:-\d+)?)-[a-z]")
# Printable ASCII without spaces: every id the suite makes (event ids, break, journal and trade ids).
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
MARKET_IDS = ("FIL-", "CUS-", "CNF-", "CF-")
FAULT_PREFIX = "FLT-"
SCAN_PAGE = 2000
MARKET_SOURCE = "market"
MAX_SEED_EVENTS = 256  # a fault's events and its corrections' are a handful

# A break id -> the break as its store holds it, None when it has none.
BreakLookup = Callable[[str], BreakRef | None]


@dataclass(frozen=True)
class Subject:
    """What an id names. grow: the chain is seeds plus their causes, their effects and the whole life
    of each break met on the way; otherwise the seeds are the chain (a trace id: its records)."""

    title: str
    seeds: tuple[LogRecord, ...] = ()
    breaks: tuple[BreakRef, ...] = ()
    grow: bool = True
    # Shown with its causes, never with its effects: the event that resolved a break also
    # resolved its siblings, whose lives are not this break's chain.
    extra: tuple[LogRecord, ...] = ()


def check_id(identifier: str) -> str:
    """The id without surrounding blanks; BadId when nothing in the suite can have it."""
    stripped = identifier.strip()
    if not stripped:
        raise BadId("an id is required")
    if len(stripped) > MAX_NAME_CHARS:
        raise BadId(f"an id has at most {MAX_NAME_CHARS:,} characters, got {len(stripped):,}")
    if not _PRINTABLE.fullmatch(stripped):
        raise BadId("an id is printable ASCII with no spaces or control characters")
    return stripped


def check_seed_events(identifier: str, event_ids: Sequence[str]) -> tuple[str, ...]:
    """A fault's event ids, checked: given only with a fault id, and each an id (BadId naming it)."""
    if not identifier.startswith(FAULT_PREFIX):
        raise BadId("seed event ids are given only with a fault id (FLT-...)")
    if len(event_ids) > MAX_SEED_EVENTS:
        raise BadId(f"at most {MAX_SEED_EVENTS} seed event ids, got {len(event_ids):,}")
    checked = []
    for index, event_id in enumerate(event_ids):
        try:
            checked.append(check_id(event_id))
        except BadId as error:
            raise BadId(f"seed event id {index}: {error}") from None
    return tuple(checked)


def break_of_record(record: LogRecord) -> BreakRef | None:
    match = BREAK_RECORD.match(record.event_id)
    if match is None or record.source != "recon":
        return None
    return BreakRef(match.group(1), record.caused_by, record.trace_id)


def breaks_of(record: LogRecord) -> tuple[str, ...]:
    """The breaks a record is of (recon's record of a break) or was posted for (a journal naming its
    break among its causes)."""
    own = break_of_record(record)
    named = tuple(cause for cause in record.caused_by if cause.startswith("BRK-"))
    if own is None:
        return named
    return (own.break_id, *(b for b in named if b != own.break_id))


def _break(log: EventLog, ref: BreakRef) -> Subject:
    resolution = log.get(ref.resolved_by) if ref.resolved_by else None
    return Subject(f"break {ref.break_id}", breaks=(ref,), extra=(resolution,) if resolution else ())


def _is_map(descriptor: FieldDescriptor) -> bool:
    """A map field: its entries are keyed pairs, and no id this command takes is a map key."""
    kind = descriptor.message_type
    return kind is not None and kind.GetOptions().map_entry


def _names(message: Message, identifier: str) -> bool:
    """Whether any string field of the message, at any depth, is exactly the identifier."""
    for descriptor, value in message.ListFields():
        if descriptor.type == descriptor.TYPE_STRING:
            if value == identifier or (not isinstance(value, str) and identifier in value):
                return True
        elif descriptor.type == descriptor.TYPE_MESSAGE and not _is_map(descriptor):
            items = [value] if isinstance(value, Message) else list(value)
            if any(_names(item, identifier) for item in items):
                return True
    return False


def retained_from(log: EventLog) -> str:
    """ ", among the events market still keeps (from seq N)" once retention has trimmed, else ""."""
    oldest = log.oldest(MARKET_SOURCE)
    if oldest <= 1:
        return ""
    return f" among the events market still keeps (from seq {oldest:,}; older ones are past its retention)"


def first_market_event(log: EventLog, identifier: str, deadline: float | None = None) -> LogRecord | None:
    """The first market event that names the identifier: the fill for a fill id, the booking for a
    custodian reference, the confirmation, the cash flow. A byte search first: decoding every
    event of a long run to find one would take far longer. deadline: a time.monotonic() past which
    the search stops with ScanTimedOut (a caller's deadline), None for no limit."""
    needle = identifier.encode()
    seq = 0  # 0: from the oldest event retained
    while True:
        if deadline is not None and time.monotonic() > deadline:
            raise ScanTimedOut(f"searching market's events for {identifier!r} ran out of time at seq {seq:,}")
        page = log.read_payloads(MARKET_SOURCE, seq, SCAN_PAGE)
        if not page:
            return None
        for item in page:
            if needle in item.payload and _names(market_pb2.MarketEvent.FromString(item.payload), identifier):
                found = log.read(MARKET_SOURCE, item.seq, 1)
                return found[0] if found else None
        seq = page[-1].seq + 1


def _fault_subject(log: EventLog, fault_id: str, event_ids: Sequence[str]) -> Subject:
    records = [log.get(e) for e in event_ids]
    seeds = tuple(r for r in records if r is not None)
    if not seeds:
        past = retained_from(log)
        why = f"its events may be past market's retention{past}" if past else "not applied yet?"
        raise NothingFound(f"fault {fault_id} has no events in the event log ({why})")
    return Subject(f"fault {fault_id}", seeds=seeds)


def subject_of(
    identifier: str,
    log: EventLog,
    find_break: BreakLookup,
    *,
    fault_events: Sequence[str] | None = None,
    deadline: float | None = None,
) -> Subject:
    """What the identifier names; NothingFound with the reason when nothing in the suite has it.

    fault_events: for a fault id (FLT-...), the events that carry the fault and its corrections (as
    market's ListInjectedFaults gives them); a fault id without them is BadId. The identifier is
    expected checked (check_id)."""
    if fault_events is not None:
        return _fault_subject(log, identifier, check_seed_events(identifier, fault_events))
    if TRACE_ID.fullmatch(identifier):
        trace_id = identifier.lower()
        if not trace_id.strip("0"):
            raise NothingFound(
                "the all-zero trace id is the W3C 'no trace': nothing is ever recorded under it"
            )
        records = log.by_trace(trace_id)
        if not records:
            raise NothingFound(f"no record of trace {trace_id} in the event log")
        return Subject(f"trace {trace_id}", seeds=tuple(records), grow=False)
    if identifier.startswith("BRK-"):
        ref = find_break(identifier)
        if ref is None:
            raise NothingFound(f"no break {identifier!r} in recon's store")
        return _break(log, ref)
    record = log.get(identifier)
    if record is not None:
        # A break's record stands for the break: its whole life, not the one step.
        ref = break_of_record(record)
        if ref is None:
            return Subject(f"event {identifier}", (record,))
        return _break(log, find_break(ref.break_id) or ref)
    journal = log.get(f"ldg-{identifier}")
    if journal is not None:
        return Subject(f"journal {identifier}", (journal,))
    if identifier.startswith(FAULT_PREFIX):
        raise BadId(
            "a fault id names market's ground truth, which services never read: give the fault's "
            "events (MarketService/ListInjectedFaults: event_ids, then correction_event_ids) with it"
        )
    if identifier.startswith(MARKET_IDS):
        first = first_market_event(log, identifier, deadline)
        if first is None:
            raise NothingFound(f"no market event names {identifier!r}{retained_from(log)}")
        return Subject(f"{first.kind} {identifier}", (first,))
    raise NothingFound(f"no event, break, journal or trade is called {identifier!r}")
