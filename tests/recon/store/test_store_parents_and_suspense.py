"""The store and issue 10's fields: parents and their filters, what may owe the ledger a journal, the
new fields stored exactly, and a schema-1 file migrated in place with its breaks and change feed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pathlib
import sqlite3
from collections.abc import Callable
from decimal import Decimal

from services.recon.domain.records import BreakStatus, Comparison, Scope
from services.recon.store import BreakFilter, ReconStore, rows
from services.recon.store.sqlite import MIGRATIONS, SCHEMA_VERSION
from tests.recon.builders import a_break

AT = dt.datetime(2024, 3, 13, 23, 59, tzinfo=dt.UTC)


def test_parents_are_stored_and_filtered(store: ReconStore) -> None:
    trade = a_break("BRK-a", scope=Scope.TRADE, fill_id="F1")
    child = a_break(
        "BRK-b", scope=Scope.CASH, currency="USD", parent_break_id="BRK-a", opened_at=AT + dt.timedelta(1)
    )
    other = a_break("BRK-c", scope=Scope.CASH, currency="EUR", opened_at=AT + dt.timedelta(2))
    store.commit_check((), [trade, child, other], (), cursor=None, state=None)
    assert [b.break_id for b in store.breaks(BreakFilter(top_level_only=True))] == ["BRK-a", "BRK-c"]
    assert [b.break_id for b in store.breaks(BreakFilter(parent_break_id="BRK-a"))] == ["BRK-b"]
    assert store.breaks(BreakFilter(parent_break_id="BRK-b")) == []
    assert store.breaks(BreakFilter(parent_break_id="BRK-a", top_level_only=True)) == []


def test_the_new_fields_are_stored_exactly(store: ReconStore) -> None:
    brk = a_break(
        "BRK-1", comparison=Comparison.LEDGER_VS_CUSTODIAN, scope=Scope.CASH, currency="USD", cash_flow_id="CF-1",
        parent_break_id="BRK-0", suspense_amount=Decimal("2500.10"), suspense_version=3,
        write_off_journal_id="J-9",
    )  # fmt: skip
    store.commit_check((), [brk], (), cursor=None, state=None)
    assert store.get_break("BRK-1") == brk
    assert str(store.get_break("BRK-1").suspense_amount) == "2500.10"  # type: ignore[union-attr]
    # and in the change feed
    (change,) = store.change_feed(0, 10)
    assert change.record == brk


def test_the_breaks_that_may_owe_the_ledger_a_journal(store: ReconStore) -> None:
    lvc = {"comparison": Comparison.LEDGER_VS_CUSTODIAN, "scope": Scope.CASH, "currency": "USD"}
    breaks = [
        a_break("BRK-open", **lvc),
        a_break("BRK-held", **lvc, status=BreakStatus.RESOLVED, suspense_amount=Decimal(0), opened_at=AT + dt.timedelta(1)),
        a_break("BRK-never", **lvc, status=BreakStatus.RESOLVED, opened_at=AT + dt.timedelta(2)),
        a_break("BRK-written", **lvc, status=BreakStatus.WRITTEN_OFF, opened_at=AT + dt.timedelta(3)),
        a_break("BRK-other", scope=Scope.CASH, currency="USD", opened_at=AT + dt.timedelta(4)),
        a_break("BRK-investigating", **lvc, status=BreakStatus.INVESTIGATING, opened_at=AT + dt.timedelta(5)),
    ]  # fmt: skip
    store.commit_check((), breaks, (), cursor=None, state=None)
    assert [b.break_id for b in store.suspense_candidates()] == [
        "BRK-open",
        "BRK-held",
        "BRK-written",
        "BRK-investigating",
    ]


def test_a_schema_1_file_is_migrated_with_its_breaks_and_change_feed(
    tmp_path: pathlib.Path, opener: Callable[[], ReconStore]
) -> None:
    path = tmp_path / "recon.sqlite3"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    old = a_break("BRK-old")
    names = [n for n in rows.BREAK.names if n not in ("parent_break_id", "cash_flow_id", "suspense_amount",
                                                       "suspense_version", "write_off_journal_id")]  # fmt: skip
    values = dict(zip(rows.BREAK.names, rows.BREAK.to_row(old), strict=True))
    conn.execute(
        f"INSERT INTO breaks ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [values[n] for n in names],
    )
    record = {n: values[n] for n in names}
    conn.execute(
        "INSERT INTO break_changes (change_seq, break_id, kind, action_id, record) VALUES (1, 'BRK-old', 'OPENED', '', ?)",
        (json.dumps(record),),
    )
    conn.commit()
    conn.close()
    store = opener()
    assert store.get_break("BRK-old") == old  # the new fields take their defaults
    (change,) = store.change_feed(0, 10)
    assert change.record == old
    assert SCHEMA_VERSION == len(MIGRATIONS) == 3
    later = dataclasses.replace(old, parent_break_id="BRK-p")
    store.commit_check((), [later], (), cursor=None, state=None)
    assert store.get_break("BRK-old") == later
