"""The chain of an id over a combined event log built by hand (tests/support/chain_log.py): what each
kind of id names, how the chain grows (causes up, effects down, the whole life of each break met,
never a sibling break's), the line for each record, the breaks met, retention, and the refusals.
`opsuite trace` and recon's GetChain both run exactly this (services/common/trace_chain)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.eventlog import EventLog
from services.common.trace_chain import (
    ACCEPTED,
    BadId,
    BreakRef,
    NothingFound,
    TracedChain,
    find_chain,
    nothing_found_line,
)
from tests.support.chain_log import TRACE, build

STORED = {"BRK-1": BreakRef("BRK-1", ("mkt-2", "mkt-3"), TRACE)}


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    log = build(tmp_path)
    yield log
    log.close()


def _chain(log: EventLog, identifier: str, **options: object) -> TracedChain:
    return find_chain(identifier, log, STORED.get, **options)  # type: ignore[arg-type]


def _ids(chain: TracedChain) -> list[str]:
    return [link.event_id for link in chain.links]


BRK_1 = [
    "mkt-2",
    "mkt-3",
    "rec-BRK-1-opened-2020-03-02",
    "rec-BRK-1-aged-2020-03-05",
    "rec-BRK-1-suspense-v1",
    "ldg-J1",
]


@pytest.mark.parametrize("identifier", ["BRK-1", " BRK-1 ", "rec-BRK-1-aged-2020-03-05", "ldg-J1", "J1"])
def test_a_break_its_records_and_its_journal_lead_to_the_same_chain_and_no_sibling(
    log: EventLog, identifier: str
) -> None:
    chain = _chain(log, identifier)
    assert _ids(chain) == BRK_1  # in trace order: simulated time, then arrival
    assert chain.break_ids == ("BRK-1",)  # BRK-2 shares the fill and the trace, not this chain
    assert not chain.past_retention and chain.oldest_retained_seq == 0
    titles = {"BRK-1": "break BRK-1", "ldg-J1": "event ldg-J1", "J1": "journal J1"}
    assert chain.title == titles.get(identifier.strip(), "break BRK-1")


def test_each_record_carries_its_line_and_the_breaks_it_is_of(log: EventLog) -> None:
    links = {link.event_id: link for link in _chain(log, "BRK-1").links}
    fill = links["mkt-2"]
    assert fill.description == "FIL-1: BUY 1,000 US-NWSF @ 12.50 (net 12,508.75 USD) for BAL-USD"
    assert (fill.source, fill.seq, fill.kind, fill.trace_id, fill.summary) == (
        "market",
        2,
        "trade.fill",
        TRACE,
        "",
    )
    assert links["mkt-3"].description == "custodian booked CUS-7 for FIL-1: 100 US-NWSF @ 12.50"
    assert links["rec-BRK-1-aged-2020-03-05"].description == "BRK-1 aged 3 days"
    assert {event_id: link.break_ids for event_id, link in links.items()} == {
        "mkt-2": (),
        "mkt-3": (),
        "rec-BRK-1-opened-2020-03-02": ("BRK-1",),
        "rec-BRK-1-aged-2020-03-05": ("BRK-1",),
        "rec-BRK-1-suspense-v1": ("BRK-1",),
        "ldg-J1": ("BRK-1",),
    }


@pytest.mark.parametrize("identifier", ["mkt-2", "FIL-1"])
def test_a_fill_leads_to_every_break_it_caused(log: EventLog, identifier: str) -> None:
    chain = _chain(log, identifier)
    assert chain.break_ids == ("BRK-1", "BRK-2")
    assert "rec-BRK-2-opened-2020-03-02" in _ids(chain) and "mkt-1" not in _ids(chain)
    assert chain.title == ("event mkt-2" if identifier == "mkt-2" else "trade.fill FIL-1")


def test_a_trace_id_is_its_records_only_and_a_custodian_reference_its_booking(log: EventLog) -> None:
    chain = _chain(log, TRACE.upper())
    assert chain.title == f"trace {TRACE}" and chain.trace_ids == (TRACE,)
    assert "mkt-1" not in _ids(chain) and chain.break_ids == ("BRK-1", "BRK-2")
    assert _chain(log, "CUS-7").title == "custodian.trade CUS-7"


def test_a_fault_grows_from_the_events_it_was_given(log: EventLog) -> None:
    chain = _chain(log, "FLT-9", fault_events=["mkt-3"])
    assert chain.title == "fault FLT-9" and chain.break_ids == ("BRK-1",)
    assert _ids(chain)[0] == "mkt-3" and "ldg-J1" in _ids(chain)
    with pytest.raises(
        NothingFound, match=r"fault FLT-9 has no events in the event log \(not applied yet\?\)"
    ):
        _chain(log, "FLT-9", fault_events=["mkt-99"])


def test_a_chain_past_retention_names_the_causes_trimmed(log: EventLog) -> None:
    log.trim("market", 3)  # market keeps mkt-3 on: the fill is gone
    chain = _chain(log, "BRK-1")
    assert _ids(chain) == BRK_1[1:]
    assert (chain.past_retention, chain.oldest_retained_seq) == (("mkt-2",), 3)
    assert chain.retention_note().startswith(
        "the chain reaches past market's retention: 1 earlier event(s) (mkt-2) are no longer in the event log, "
        "which keeps market's events from seq 3"
    )
    with pytest.raises(NothingFound) as trimmed:
        _chain(log, "FIL-404")
    assert str(trimmed.value) == (
        "no market event names 'FIL-404' among the events market still keeps (from seq 3; older ones are "
        "past its retention)"
    )


@pytest.mark.parametrize(
    ("identifier", "reason"),
    [
        ("mkt-999", "no event, break, journal or trade is called 'mkt-999'"),
        ("BRK-9", "no break 'BRK-9' in recon's store"),
        ("0" * 32, "the all-zero trace id is the W3C 'no trace': nothing is ever recorded under it"),
        ("ab" * 16, f"no record of trace {'ab' * 16} in the event log"),
        ("CNF-1", "no market event names 'CNF-1'"),
    ],
)
def test_an_id_nothing_has_says_what_was_looked_for_and_where(
    log: EventLog, identifier: str, reason: str
) -> None:
    with pytest.raises(NothingFound) as nothing:
        _chain(log, identifier)
    assert str(nothing.value) == reason
    assert (
        nothing_found_line(identifier, reason)
        == f"nothing found for {identifier!r}: {reason}. Accepted: {ACCEPTED}"
    )


@pytest.mark.parametrize(
    ("identifier", "options", "problem"),
    [
        ("", {}, "an id is required"),
        ("   ", {}, "an id is required"),
        ("BRK 1", {}, "printable ASCII with no spaces or control characters"),
        ("mkt-\x00", {}, "printable ASCII"),
        ("é", {}, "printable ASCII"),
        ("x" * 257, {}, "at most 256 characters, got 257"),
        ("FLT-9", {}, "a fault id names market's ground truth, which services never read"),
        ("mkt-2", {"fault_events": ["mkt-3"]}, "seed event ids are given only with a fault id"),
        ("FLT-9", {"fault_events": ["mkt 3"]}, "seed event id 0: an id is printable ASCII"),
    ],
)
def test_an_id_nothing_can_have_is_refused_saying_why(
    log: EventLog, identifier: str, options: dict[str, object], problem: str
) -> None:
    with pytest.raises(BadId, match=problem):
        _chain(log, identifier, **options)


def _tick_log(data_dir: Path) -> EventLog:
    """One tick priced two fills (mkt-2 of BRK-7, mkt-3 another mandate's); the ledger booked both
    fills and the first one's settlement, and posted a suspense journal caused by the other fill."""
    from services.common.eventlog import NewRecord, open_event_log
    from tests.support.chain_log import T0

    def market(seq: int, kind: str, caused_by: tuple[str, ...], hour: int) -> NewRecord:
        return NewRecord(
            f"mkt-{seq}", kind, T0.replace(hour=hour), trace_id=TRACE, caused_by=caused_by, seq=seq
        )

    def ledger(event_id: str, caused_by: tuple[str, ...], kind: str = "journal.booked") -> NewRecord:
        return NewRecord(event_id, kind, T0, trace_id=TRACE, caused_by=caused_by, summary=event_id)

    log = open_event_log(None, data_dir)
    log.append(
        "market",
        [
            market(1, "price.tick", (), 16),
            market(2, "trade.fill", ("mkt-1",), 16),
            market(3, "trade.fill", ("mkt-1",), 16),
            market(4, "custodian.trade", ("mkt-2",), 17),
            market(5, "custodian.settlement", ("mkt-4", "mkt-2"), 17),
            market(6, "trade.confirmation", ("mkt-3",), 17),
        ],
    )
    log.append(
        "recon",
        [
            NewRecord(
                "rec-BRK-7-opened-2020-03-02",
                "break.opened",
                T0.replace(hour=23),
                caused_by=("mkt-2", "mkt-4"),
            )
        ],
    )
    log.append(
        "ledger",
        [
            ledger("ldg-fill", ("mkt-2",)),
            ledger("ldg-other-fill", ("mkt-3",)),
            ledger("ldg-settlement", ("mkt-5", "mkt-4", "mkt-2")),
            ledger("ldg-posted", ("mkt-3",), kind="journal.posted"),
        ],
    )
    return log


def test_a_tick_is_a_root_cause_only_and_the_fills_journals_come_with_it(tmp_path: Path) -> None:
    """The break's causes go up to the tick, never back down to the tick's other fills; the ledger's
    journals that booked the fill and its settlement join the chain (and the settlement with them)."""
    log = _tick_log(tmp_path)
    try:
        chain = find_chain("BRK-7", log, {"BRK-7": BreakRef("BRK-7", ("mkt-2", "mkt-4"), "")}.get)
        ids = _ids(chain)
        assert ids[0] == "mkt-1"
        assert set(ids) == {
            "mkt-1",
            "mkt-2",
            "mkt-4",
            "mkt-5",
            "rec-BRK-7-opened-2020-03-02",
            "ldg-fill",
            "ldg-settlement",
        }
        # The fill's own chain walks its effects down, and its cause up only: not the other fill.
        fill = _ids(find_chain("mkt-2", log, {}.get))
        assert fill[0] == "mkt-1" and not {"mkt-3", "mkt-6", "ldg-other-fill", "ldg-posted"} & set(fill)
    finally:
        log.close()
