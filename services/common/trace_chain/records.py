"""What a chain is, once found: the records of the combined event log that make it up, each with the
line a person reads, in trace order, and what the chain could not reach. Plain frozen records, shared
by the two places that show a chain (`opsuite trace` and recon's GetChain) and the wire between them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ACCEPTED = (
    "give a break id (BRK-...), an event id (mkt-42, rec-..., ldg-...), a 32-hex trace id, a fill "
    "(FIL-...), a fault (FLT-...), a custodian reference (CUS-...), a confirmation (CNF-...), a cash "
    "flow (CF-...) or a journal id"
)


class NothingFound(LookupError):
    """One line saying what was looked for and where (the reason only: nothing_found_line adds the
    id and the ids accepted)."""


class BadId(ValueError):
    """An id no record, break or trade can have (empty, too long, spaces or control characters)."""


class ScanTimedOut(TimeoutError):
    """The search of market's events for an id ran past the caller's deadline."""


def nothing_found_line(identifier: str, reason: str) -> str:
    """The one line `opsuite trace` prints, and GetChain's NOT_FOUND message, for an id with no chain."""
    return f"nothing found for {identifier!r}: {reason}. Accepted: {ACCEPTED}"


@dataclass(frozen=True)
class BreakRef:
    """A break, and what finds its records in the log: the events that caused it, its trace."""

    break_id: str
    caused_by: tuple[str, ...] = ()
    trace_id: str = ""
    resolved_by: str = ""  # the event whose arrival made its difference go away


@dataclass(frozen=True)
class ChainLink:
    """One record of a chain: the log's record without its payload, and the line a person reads.

    description: the record's own summary, or for a market event a line read from the event.
    break_ids: the breaks the record is of (a recon record of a break) or was posted for (a suspense
    journal names its break among its causes); () for the others.
    """

    source: str
    seq: int
    event_id: str
    kind: str
    sim_time: dt.datetime  # timezone-aware UTC
    trace_id: str
    caused_by: tuple[str, ...]
    mandate_id: str
    summary: str
    description: str
    break_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class TracedChain:
    """A chain in trace order (simulated time, then arrival), its title ("break BRK-...", "trace ...",
    "trade.fill FIL-..."), every break met on the way, and the causes its records name that market's
    retention has trimmed from the log, with the oldest seq market still keeps (0 when none is missing).
    """

    title: str
    links: tuple[ChainLink, ...]
    break_ids: tuple[str, ...] = ()
    past_retention: tuple[str, ...] = ()
    oldest_retained_seq: int = 0

    @property
    def trace_ids(self) -> tuple[str, ...]:
        return tuple(sorted({link.trace_id for link in self.links if link.trace_id}))

    def retention_note(self) -> str:
        """One line when the chain reaches past market's retention, else ""."""
        if not self.past_retention:
            return ""
        shown = ", ".join(self.past_retention[:5]) + (" ..." if len(self.past_retention) > 5 else "")
        return (
            f"the chain reaches past market's retention: {len(self.past_retention):,} earlier event(s) "
            f"({shown}) are no longer in the event log, which keeps market's events from seq "
            f"{self.oldest_retained_seq:,} (OPSUITE_RETENTION_EVENTS, OPSUITE_RETENTION_DAYS)"
        )
