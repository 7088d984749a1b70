"""The chain of anything the suite prints an id for, from the market tick to the ledger journal, read
from the combined event log: one implementation for `opsuite trace` (on a finished run's files) and
recon's GetChain (services/recon/chain.py, over its own store and the log).

    chain = find_chain("BRK-...", log, find_break)   # TracedChain, or NothingFound / BadId

records.py holds what a chain is, lookup.py what an id names, walk.py how a chain grows from it and
market_text.py the line a person reads for a market event.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.common.eventlog import EventLog
from services.common.trace_chain.lookup import (
    FAULT_PREFIX,
    BreakLookup,
    check_id,
    check_seed_events,
    subject_of,
)
from services.common.trace_chain.records import (
    ACCEPTED,
    BadId,
    BreakRef,
    ChainLink,
    NothingFound,
    ScanTimedOut,
    TracedChain,
    nothing_found_line,
)
from services.common.trace_chain.walk import grow

__all__ = [
    "ACCEPTED",
    "FAULT_PREFIX",
    "BadId",
    "BreakLookup",
    "BreakRef",
    "ChainLink",
    "NothingFound",
    "ScanTimedOut",
    "TracedChain",
    "check_id",
    "check_seed_events",
    "find_chain",
    "nothing_found_line",
]


def find_chain(
    identifier: str,
    log: EventLog,
    find_break: BreakLookup,
    *,
    fault_events: Sequence[str] | None = None,
    deadline: float | None = None,
) -> TracedChain:
    """The chain of what the id names. find_break: the break store's lookup of a break id.
    fault_events: with a fault id, the events that carry it (see lookup.subject_of). deadline: a
    time.monotonic() after which a search of market's events stops (ScanTimedOut).

    Raises BadId for an id nothing can have, NothingFound (the reason) for one nothing has."""
    subject = subject_of(check_id(identifier), log, find_break, fault_events=fault_events, deadline=deadline)
    return grow(log, subject)
