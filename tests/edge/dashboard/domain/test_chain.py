"""A chain (GetChain) as the break and trace pages show it: stages, links, the path."""

from __future__ import annotations

import datetime as dt

import pytest

from services.edge.dashboard.domain.chain import (
    ChainEntry,
    Link,
    break_href,
    chain_rows,
    href_of,
    journal_ids,
    linkify,
    path_of,
    stage_of,
    trace_href,
)

T = dt.datetime(2020, 1, 7, 16, 30, tzinfo=dt.UTC)


def entry(source: str, kind: str, event_id: str, description: str = "", **fields: object) -> ChainEntry:
    return ChainEntry(
        source=source,
        event_id=event_id,
        kind=kind,
        sim_time=T,
        trace_id="1dec9466d590665f2ea04c73f7f81c0c",
        caused_by=tuple(fields.get("caused_by", ())),  # type: ignore[arg-type]
        mandate_id="EQ-EUR",
        description=description,
        break_ids=tuple(fields.get("break_ids", ())),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("source", "kind", "stage"),
    [
        ("market", "price.tick", "tick"),
        ("market", "fx.rate", "tick"),
        ("market", "trade.fill", "fill"),
        ("market", "trade.confirmation", "confirmation"),
        ("market", "custodian.trade", "custodian"),
        ("market", "custodian.settlement", "custodian"),
        ("market", "cashflow.dividend", "cash flow"),
        ("market", "clock.day_end", "market"),
        ("recon", "break.opened", "break"),
        ("recon", "break.aged", "aging"),
        ("recon", "break.escalated", "aging"),
        ("recon", "break.suspense_posted", "suspense"),
        ("recon", "break.resolved", "closed"),
        ("recon", "break.written_off", "closed"),
        ("recon", "check.run", "recon"),
        ("ledger", "journal.posted", "journal"),
        ("documents", "document.mismatched", "documents"),
        ("dq", "dq.issue.raised", "dq"),
    ],
)
def test_stage_of_a_record(source: str, kind: str, stage: str) -> None:
    assert stage_of(source, kind) == stage


def test_links_are_escaped_paths() -> None:
    assert trace_href("mkt-1106") == "/trace/mkt-1106"
    assert trace_href("a/b c") == "/trace/a%2Fb%20c"
    assert break_href("BRK-a9bd6511b8865649a35a") == "/breaks/BRK-a9bd6511b8865649a35a"
    assert href_of("BRK-e4ac721e8618acf43067-2") == "/breaks/BRK-e4ac721e8618acf43067-2"
    assert href_of("ldg-01J") == "/trace/ldg-01J"


def test_linkify_links_breaks_and_trade_ids_in_a_line() -> None:
    text = (
        "custodian correction CUS-CX-0000002: cancel trade of CUS-0000150; see FIL-0000150 and CNF-0000150-C."
    )
    pieces = linkify(text)
    assert "".join(p.text for p in pieces) == text
    assert [p.text for p in pieces if p.href] == [
        "CUS-CX-0000002",
        "CUS-0000150",
        "FIL-0000150",
        "CNF-0000150-C",
    ]
    assert linkify("break BRK-a9bd6511b8865649a35a opened") == (
        Link("break ", ""),
        Link("BRK-a9bd6511b8865649a35a", "/breaks/BRK-a9bd6511b8865649a35a"),
        Link(" opened", ""),
    )
    assert linkify("") == ()
    # A fault id needs its events, which only market has: not linked.
    assert [p.href for p in linkify("FLT-0000001")] == [""]


def test_rows_and_path_of_a_break_down_to_its_suspense_journal() -> None:
    entries = [
        entry("market", "trade.fill", "mkt-1106", "FIL-0000150: BUY 3,817 EU-RHNA"),
        entry("market", "custodian.trade", "mkt-1173", caused_by=["mkt-1106"]),
        entry(
            "recon",
            "break.opened",
            "rec-BRK-ab-opened-2020-01-07",
            caused_by=["mkt-1106", "mkt-1173"],
            break_ids=["BRK-ab"],
        ),
        entry("recon", "break.aged", "rec-BRK-ab-aged-2020-01-09", break_ids=["BRK-ab"]),
        entry("ledger", "journal.posted", "ldg-01JSUSPENSE", caused_by=["BRK-ab"], break_ids=["BRK-ab"]),
    ]
    rows = chain_rows(entries)
    assert [r.stage for r in rows] == ["fill", "custodian", "break", "aging", "journal"]
    assert rows[0].event == Link("mkt-1106", "/trace/mkt-1106")
    assert rows[0].what[0] == Link("FIL-0000150", "/trace/FIL-0000150")
    assert rows[2].causes == (Link("mkt-1106", "/trace/mkt-1106"), Link("mkt-1173", "/trace/mkt-1173"))
    assert rows[4].causes == (Link("BRK-ab", "/breaks/BRK-ab"),)
    assert rows[4].breaks == (Link("BRK-ab", "/breaks/BRK-ab"),)
    assert path_of(rows) == ("fill", "custodian", "break", "aging", "journal")
    assert journal_ids(rows) == ("01JSUSPENSE",)


def test_path_puts_stages_of_no_path_last() -> None:
    rows = chain_rows([entry("dq", "dq.issue.raised", "dq-1-raised"), entry("market", "price.tick", "mkt-1")])
    assert path_of(rows) == ("tick", "dq")
    assert path_of([]) == ()
