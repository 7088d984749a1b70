"""A chain as recon's GetChain gives it (what `opsuite trace` prints), as the break and trace pages
show it: a row per record, oldest first, with the stage of the path it stands for (the market tick
and the fill, the custodian, the break and its aging, the journal), and a link for every id a person
can follow: the record itself and its causes to their own trace page, breaks to their break page,
and the fills, custodian references, confirmations and cash flows its line names.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BREAK_ID = re.compile(r"BRK-[0-9a-f]+(?:-\d+)?")
# The trade ids market's events carry (fills, custodian references and corrections, confirmations,
# cash flows), which GetChain accepts. A fault id (FLT-) needs its events, which only market has.
TRADE_ID = re.compile(r"\b(?:FIL|CUS|CNF|CF)-(?:[A-Z]{2}-)?\d+(?:-[A-Z])?\b")
_LINKED = re.compile(f"{BREAK_ID.pattern}|{TRADE_ID.pattern}")

# The stages of a break's path, in the order a chain meets them.
STAGES = (
    "tick",
    "fill",
    "confirmation",
    "custodian",
    "cash flow",
    "break",
    "aging",
    "suspense",
    "journal",
    "closed",
)


@dataclass(frozen=True)
class ChainEntry:
    """One record of a chain (GetChain's ChainRecord): the log's record and its line."""

    source: str
    event_id: str
    kind: str
    sim_time: dt.datetime | None
    trace_id: str
    caused_by: tuple[str, ...]
    mandate_id: str
    description: str
    break_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    text: str
    href: str  # "" for plain text


@dataclass(frozen=True)
class ChainRow:
    entry: ChainEntry
    stage: str
    event: Link
    what: tuple[Link, ...]  # the line, its ids linked
    causes: tuple[Link, ...]
    breaks: tuple[Link, ...]


def trace_href(identifier: str) -> str:
    return "/trace/" + urllib.parse.quote(identifier, safe="")


def break_href(break_id: str) -> str:
    return "/breaks/" + urllib.parse.quote(break_id, safe="")


def href_of(identifier: str) -> str:
    """A break id to its break page; any other id to its trace page."""
    return break_href(identifier) if BREAK_ID.fullmatch(identifier) else trace_href(identifier)


def link(identifier: str) -> Link:
    return Link(identifier, href_of(identifier))


def linkify(text: str) -> tuple[Link, ...]:
    """The text in pieces, each break id and trade id in it a link:
    linkify("FIL-1 (CUS-2) settled") == (Link("FIL-1", "/trace/FIL-1"), Link(" (", ""), ...)."""
    pieces: list[Link] = []
    position = 0
    for found in _LINKED.finditer(text):
        if found.start() > position:
            pieces.append(Link(text[position : found.start()], ""))
        pieces.append(link(found.group()))
        position = found.end()
    if position < len(text):
        pieces.append(Link(text[position:], ""))
    return tuple(pieces)


def stage_of(source: str, kind: str) -> str:
    """Which part of the path a record stands for: "tick", "fill", "custodian", "break", "aging",
    "closed", "journal", ...; the source itself for what has no stage of its own."""
    if source == "market":
        if kind.startswith("price.") or kind == "fx.rate":
            return "tick"
        if kind in ("trade.fill", "trade.fx"):
            return "fill"
        if kind == "trade.confirmation":
            return "confirmation"
        if kind.startswith("custodian."):
            return "custodian"
        if kind.startswith("cashflow.") or kind.startswith("corporate_action."):
            return "cash flow"
        return "market"
    if source == "recon":
        if kind in ("break.opened", "break.reopened", "break.raised"):
            return "break"
        if kind in ("break.aged", "break.escalated"):
            return "aging"
        if kind.startswith("break.suspense"):
            return "suspense"
        if kind.startswith("break.") and any(w in kind for w in ("resolved", "written_off", "closed")):
            return "closed"
        return "recon"
    if source == "ledger":
        return "journal"
    return source


def chain_rows(entries: Iterable[ChainEntry]) -> list[ChainRow]:
    return [
        ChainRow(
            entry=entry,
            stage=stage_of(entry.source, entry.kind),
            event=Link(entry.event_id, trace_href(entry.event_id)),
            what=linkify(entry.description),
            causes=tuple(link(cause) for cause in entry.caused_by),
            breaks=tuple(Link(b, break_href(b)) for b in entry.break_ids),
        )
        for entry in entries
    ]


def path_of(rows: Sequence[ChainRow]) -> tuple[str, ...]:
    """The stages the chain passes through, in the path's order ("tick", "fill", "custodian",
    "break", "aging", "journal"), each once; stages of no path (a dq issue) after them."""
    seen = {row.stage for row in rows}
    known = tuple(stage for stage in STAGES if stage in seen)
    others = tuple(sorted(seen - set(STAGES)))
    return known + others


def journal_ids(rows: Sequence[ChainRow]) -> tuple[str, ...]:
    """The ledger journals in the chain (a ledger record's event id is ldg-<journal id>)."""
    return tuple(
        row.entry.event_id.removeprefix("ldg-")
        for row in rows
        if row.entry.source == "ledger" and row.entry.event_id.startswith("ldg-")
    )
