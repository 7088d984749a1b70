"""GetChain's side in recon: a chain found over recon's own store and the combined event log, and the
chain on the wire (opsuite.recon.v1.Chain) both ways, since `opsuite trace` reads it back.

The chain itself is the platform's (services/common/trace_chain/), the one implementation the command
line also runs on a finished run's files. recon hosts it because the lookup of a break id is its own
store, and it already reads and writes the combined event log; it reads nothing else for it (no other
service's files, no market call: market's events are in the log).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from opsuite.common.v1 import common_pb2
from opsuite.recon.v1 import recon_pb2
from services.common.convert import timestamp_from_proto, timestamp_to_proto
from services.common.eventlog import EventLog
from services.common.status import FieldViolation, invalid_argument
from services.common.trace_chain import FAULT_PREFIX, BadId, BreakRef, ChainLink, TracedChain, find_chain
from services.common.trace_chain.lookup import MAX_SEED_EVENTS, check_id
from services.recon.store import ReconStore


def stored_break(store: ReconStore, break_id: str) -> BreakRef | None:
    """The break as recon's store holds it, as a chain needs it; None when it has none."""
    found = store.get_break(break_id)
    if found is None:
        return None
    return BreakRef(found.break_id, found.caused_by, found.trace_id, found.resolved_by_event_id)


def chain_of(
    store: ReconStore,
    event_log: EventLog,
    identifier: str,
    seed_event_ids: Sequence[str] | None,
    deadline: float | None,
) -> TracedChain:
    """find_chain over recon's store and the log (blocking: run it in a worker thread). deadline is
    seconds from now, None for none."""
    return find_chain(
        identifier,
        event_log,
        lambda break_id: stored_break(store, break_id),
        fault_events=seed_event_ids,
        deadline=None if deadline is None else time.monotonic() + deadline,
    )


def chain_request(request: recon_pb2.GetChainRequest) -> tuple[str, tuple[str, ...] | None]:
    """GetChain's id (stripped) and a fault's seed events (None without); INVALID_ARGUMENT naming
    every malformed field at once."""
    violations: list[FieldViolation] = []
    identifier = ""
    try:
        identifier = check_id(request.id)
    except BadId as error:
        violations.append(FieldViolation("id", str(error)))
    seeds: list[str] = []
    for index, event_id in enumerate(request.seed_event_ids[:MAX_SEED_EVENTS]):
        try:
            seeds.append(check_id(event_id))
        except BadId as error:
            violations.append(FieldViolation(f"seed_event_ids[{index}]", str(error)))
    fault = request.id.strip().startswith(FAULT_PREFIX)
    if len(request.seed_event_ids) > MAX_SEED_EVENTS:
        violations.append(
            FieldViolation(
                "seed_event_ids", f"at most {MAX_SEED_EVENTS}, got {len(request.seed_event_ids):,}"
            )
        )
    elif request.seed_event_ids and not fault:
        violations.append(FieldViolation("seed_event_ids", "given only with a fault id (FLT-...)"))
    elif fault and not request.seed_event_ids:
        violations.append(
            FieldViolation(
                "seed_event_ids",
                "a fault id needs the fault's events: which events a fault hit is market's ground truth, "
                "which no service reads (MarketService/ListInjectedFaults: event_ids, correction_event_ids)",
            )
        )
    if violations:
        raise invalid_argument(violations)
    return identifier, (tuple(seeds) if fault else None)


def chain_to_proto(chain: TracedChain) -> recon_pb2.Chain:
    return recon_pb2.Chain(
        title=chain.title,
        records=[
            recon_pb2.ChainRecord(
                record=common_pb2.LogRecord(
                    source=link.source,
                    seq=link.seq,
                    event_id=link.event_id,
                    kind=link.kind,
                    sim_time=timestamp_to_proto(link.sim_time),
                    trace_id=link.trace_id,
                    caused_by=link.caused_by,
                    mandate_id=link.mandate_id,
                    summary=link.summary,
                ),
                description=link.description,
                break_ids=link.break_ids,
            )
            for link in chain.links
        ],
        break_ids=chain.break_ids,
        reaches_past_retention=bool(chain.past_retention),
        past_retention=chain.past_retention,
        oldest_retained_seq=chain.oldest_retained_seq if chain.past_retention else 0,
    )


def chain_from_proto(message: recon_pb2.Chain) -> TracedChain:
    """What chain_to_proto sent, as it was found (for `opsuite trace`, which prints it)."""
    return TracedChain(
        title=message.title,
        links=tuple(
            ChainLink(
                source=r.record.source,
                seq=r.record.seq,
                event_id=r.record.event_id,
                kind=r.record.kind,
                sim_time=timestamp_from_proto(r.record.sim_time),
                trace_id=r.record.trace_id,
                caused_by=tuple(r.record.caused_by),
                mandate_id=r.record.mandate_id,
                summary=r.record.summary,
                description=r.description,
                break_ids=tuple(r.break_ids),
            )
            for r in message.records
        ),
        break_ids=tuple(message.break_ids),
        past_retention=tuple(message.past_retention),
        oldest_retained_seq=message.oldest_retained_seq,
    )
