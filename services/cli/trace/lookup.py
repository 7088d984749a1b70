"""What an id given to `opsuite trace` names, and the records its chain grows from.

Every id the suite prints is accepted: a break id (recon's store), an event id (mkt-, rec-,
ldg-, ctl-), a 32-hex trace id, a journal id (its ldg- record), a fault id (market's ground
truth of the faults it injected) and the ids market's events carry: fills, custodian
references, confirmations and cash flows (found in the first market event that names them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.eventlog import EventLog, LogRecord
from services.common.settings import Settings

ACCEPTED = (
    "give a break id (BRK-...), an event id (mkt-42, rec-..., ldg-...), a 32-hex trace id, a fill "
    "(FIL-...), a fault (FLT-...), a custodian reference (CUS-...), a confirmation (CNF-...), a cash "
    "flow (CF-...) or a journal id"
)
TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")
# The recon record of a break: rec-<break id>-<what happened>; a later generation is BRK-<hash>-2.
BREAK_RECORD = re.compile(r"rec-(BRK-[0-9a-f]+(?:-\d+)?)-[a-z]")
MARKET_IDS = ("FIL-", "CUS-", "CNF-", "CF-")
SCAN_PAGE = 2000
MARKET_SOURCE = "market"
CALL_TIMEOUT_S = 10.0


class NothingFound(LookupError):
    """One line saying what was looked for and where."""


@dataclass(frozen=True)
class BreakRef:
    """A break, and what finds its records in the log: the events that caused it, its trace."""

    break_id: str
    caused_by: tuple[str, ...] = ()
    trace_id: str = ""
    resolved_by: str = ""  # the event whose arrival made its difference go away


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


def break_of_record(record: LogRecord) -> BreakRef | None:
    match = BREAK_RECORD.match(record.event_id)
    if match is None or record.source != "recon":
        return None
    return BreakRef(match.group(1), record.caused_by, record.trace_id)


def _stored_break(settings: Settings, break_id: str) -> BreakRef | None:
    """The break as recon stored it; None when it has none (or no store at all: nothing is created)."""
    from services.recon.store import SQLITE_FILE, open_store  # only breaks need recon's store

    path = settings.data_dir / "recon" / SQLITE_FILE
    if not path.exists():
        return None
    store = open_store(path.parent)
    try:
        found = store.get_break(break_id)
    finally:
        store.close()
    if found is None:
        return None
    return BreakRef(found.break_id, found.caused_by, found.trace_id, found.resolved_by_event_id)


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


def _retained_from(log: EventLog) -> str:
    """ ", among the events market still keeps (from seq N)" once retention has trimmed, else ""."""
    oldest = log.oldest(MARKET_SOURCE)
    if oldest <= 1:
        return ""
    return f" among the events market still keeps (from seq {oldest:,}; older ones are past its retention)"


def first_market_event(log: EventLog, identifier: str) -> LogRecord | None:
    """The first market event that names the identifier: the fill for a fill id, the booking for a
    custodian reference, the confirmation, the cash flow. A byte search first: decoding every
    event of a long run to find one would take far longer."""
    needle = identifier.encode()
    seq = 0  # 0: from the oldest event retained
    while True:
        page = log.read_payloads(MARKET_SOURCE, seq, SCAN_PAGE)
        if not page:
            return None
        for item in page:
            if needle in item.payload and _names(market_pb2.MarketEvent.FromString(item.payload), identifier):
                found = log.read(MARKET_SOURCE, item.seq, 1)
                return found[0] if found else None
        seq = page[-1].seq + 1


def _fault(settings: Settings, fault_id: str) -> market_pb2.InjectedFault | None:
    address = settings.addr("market")
    request = market_pb2.ListInjectedFaultsRequest(page_size=1000)
    with grpc.insecure_channel(address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        while True:
            try:
                reply: market_pb2.ListInjectedFaultsResponse = stub.ListInjectedFaults(
                    request, timeout=CALL_TIMEOUT_S
                )
            except grpc.RpcError as error:
                raise NothingFound(
                    f"fault ids are market's: market does not answer at {address} "
                    f"({error.code().name.lower()}); start the suite with `opsuite up`, or see `opsuite status`"
                ) from None
            for fault in reply.faults:
                if fault.fault_id == fault_id:
                    return fault
            if not reply.next_page_token:
                return None
            request.page_token = reply.next_page_token


def _fault_subject(settings: Settings, log: EventLog, fault_id: str) -> Subject:
    fault = _fault(settings, fault_id)
    if fault is None:
        raise NothingFound(f"market injected no fault {fault_id!r}")
    records = [log.get(e) for e in (*fault.event_ids, *fault.correction_event_ids)]
    seeds = tuple(r for r in records if r is not None)
    if not seeds:
        past = _retained_from(log)
        why = f"its events may be past market's retention{past}" if past else "not applied yet?"
        raise NothingFound(f"fault {fault_id} has no events in the event log ({why})")
    return Subject(f"fault {fault_id}: {fault.description}", seeds=seeds)


def subject_of(identifier: str, log: EventLog, settings: Settings) -> Subject:
    """What the identifier names; NothingFound with the reason when nothing in the suite has it."""
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
        ref = _stored_break(settings, identifier)
        if ref is None:
            raise NothingFound(f"no break {identifier!r} in recon's store")
        return _break(log, ref)
    record = log.get(identifier)
    if record is not None:
        # A break's record stands for the break: its whole life, not the one step.
        ref = break_of_record(record)
        if ref is None:
            return Subject(f"event {identifier}", (record,))
        return _break(log, _stored_break(settings, ref.break_id) or ref)
    journal = log.get(f"ldg-{identifier}")
    if journal is not None:
        return Subject(f"journal {identifier}", (journal,))
    if identifier.startswith("FLT-"):
        return _fault_subject(settings, log, identifier)
    if identifier.startswith(MARKET_IDS):
        first = first_market_event(log, identifier)
        if first is None:
            raise NothingFound(f"no market event names {identifier!r}{_retained_from(log)}")
        return Subject(f"{first.kind} {identifier}", (first,))
    raise NothingFound(f"no event, break, journal or trade is called {identifier!r}")
