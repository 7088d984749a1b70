"""Writing: exact round trips, the change feed, idempotent replays, atomicity, the database's guards,
the cursor and state, reopening, workflow updates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import sqlite3
from collections.abc import Callable
from decimal import Decimal

import pytest

from services.recon.domain.breaks import TransitionRefused, break_id_for, update
from services.recon.domain.records import ActionKind, Break, BreakAction, BreakStatus, TimingItem
from services.recon.domain.suspense import LedgerJournal, record_journal
from services.recon.store import (
    SQLITE_FILE,
    ChangeKind,
    ConflictingRecord,
    ReconStore,
    ReconStoreError,
    SchemaTooNew,
    StaleRead,
    UnknownBreak,
    open_store,
)
from tests.recon.store.scenario import (
    BVC,
    BVL,
    EUR_FUND,
    MON,
    MONDAY,
    TUE,
    TUESDAY,
    USD_FUND,
    WED,
    check,
    runs_for,
)

AT = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
SIM = dt.datetime(2024, 3, 12, 10, 0, tzinfo=dt.UTC)


def everything_set(brk: Break) -> Break:
    """A break with every optional field set, with awkward exact decimals (exponents, trailing zeros)."""
    return dataclasses.replace(
        brk,
        account="SUB-1",
        fill_id="FILL-9",
        custodian_refs=("CUS-1", "CUS-2"),
        ledger_account="Assets:Securities:AAPL",
        book_quantity=Decimal("1000.000"),
        other_quantity=Decimal("8E+2"),
        quantity_difference=Decimal("-200.000"),
        book_amount=Decimal("170000.10"),
        other_amount=Decimal("136000.08"),
        amount_difference=Decimal("-34000.02"),
        base_amount_difference=Decimal("-0.000000001"),
        book_date=dt.date(2024, 3, 13),
        other_date=dt.date(2024, 3, 14),
        tolerance_absolute=Decimal("0"),
        tolerance_relative=Decimal("0.0001"),
        assignee="ana",
        resolved_at=dt.datetime(2024, 3, 12, 23, 59, 59, 999999, tzinfo=dt.UTC),
        resolved_by_event_id="mkt-99",
        suspense_journal_id="J-1",
        caused_by=("mkt-7", "cus-3"),
        escalated=True,
        escalation_reason="because",
    )


def test_breaks_runs_and_actions_round_trip_exactly(store: ReconStore) -> None:
    advanced, _ = check(store, MON, MONDAY)
    for brk in advanced.breaks:
        assert store.get_break(brk.break_id) == brk
    assert [a for b in advanced.breaks for a in store.actions(b.break_id)] == sorted(
        advanced.actions, key=lambda a: [b.break_id for b in advanced.breaks].index(a.break_id)
    )
    full = everything_set(advanced.breaks[0])
    store.commit_check((), [full], (), cursor=None, state=None)
    stored = store.get_break(full.break_id)
    assert stored == full
    assert (
        stored is not None
        and str(stored.other_quantity) == "8E+2"
        and str(stored.book_quantity) == "1000.000"
    )
    assert store.latest_runs() == sorted(
        runs_for(MON, 0, MONDAY, advanced), key=lambda r: (r.mandate_id, r.comparison.value)
    )


def test_every_change_gets_the_next_change_seq_with_the_break_as_it_was(store: ReconStore) -> None:
    _, first = check(store, MON, MONDAY)
    _, second = check(store, TUE, TUESDAY)
    feed = store.change_feed(0, 100)
    assert feed == [*first.changes, *second.changes]
    assert [c.change_seq for c in feed] == list(range(1, len(feed) + 1)) and store.head() == len(feed) == 7
    assert second.head == 7
    # Monday opened three breaks; AAPL opened escalated, and the change names the opening.
    assert [(c.kind, c.action.kind if c.action else None) for c in first.changes] == [
        (ChangeKind.OPENED, ActionKind.OPENED)
    ] * 3
    by_kind = {(c.kind, c.record.instrument_id or c.record.currency) for c in second.changes}
    # Tuesday: USD cash resolved itself, AAPL and SAP one business day older, MSFT opened vs the ledger.
    assert by_kind == {
        (ChangeKind.RESOLVED, "USD"),
        (ChangeKind.AGED, "AAPL"),
        (ChangeKind.AGED, "SAP"),
        (ChangeKind.OPENED, "MSFT"),
    }
    aapl = break_id_for(MONDAY[0].item_key, 1)
    ages = [c.record.age_business_days for c in feed if c.record.break_id == aapl]
    assert ages == [0, 1]  # each change keeps the break as it was then
    assert store.change_feed(5, 1)[0].change_seq == 6 and store.change_feed(7, 10) == []


def test_replaying_a_committed_check_changes_nothing(store: ReconStore) -> None:
    advanced, _ = check(store, MON, MONDAY)
    runs = runs_for(MON, 0, MONDAY, advanced)
    before = (store.counts(), store.head(), store.change_feed(0, 100))
    # A retry of the very same commit (the caller did not learn it had succeeded) writes nothing.
    again = store.commit_check(runs, advanced.breaks, advanced.actions, cursor=None, state=None)
    assert again.changes == () and again.head == before[1]
    assert (store.counts(), store.head(), store.change_feed(0, 100)) == before
    # Recomputing the same run from the stored breaks opens nothing: other figures under the same
    # run id are refused rather than silently rewriting what the run found.
    with pytest.raises(ConflictingRecord, match="RUN-2024-03-11-0"):
        check(store, MON, MONDAY)
    assert (store.counts(), store.head(), store.change_feed(0, 100)) == before
    # A second run the same day sees the same differences: new runs recorded, no break change.
    _, later = check(store, MON, MONDAY, n=1)
    assert later.changes == ()
    assert store.counts()["check_runs"] == before[0]["check_runs"] + 4
    assert {r.run_id for r in store.latest_runs()} == {"RUN-2024-03-11-1"}


def test_a_failing_commit_leaves_nothing(store: ReconStore) -> None:
    advanced, _ = check(store, MON, MONDAY, cursor=10, state='{"day": 1}')
    before = (store.counts(), store.head(), store.load_cursor(), store.latest_by_key())
    tuesday_runs = runs_for(TUE, 0, TUESDAY, advanced)
    changed = [dataclasses.replace(b, assignee="x") for b in advanced.breaks]
    orphan = BreakAction(
        "ACT-orphan", "BRK-nowhere", ActionKind.COMMENTED, "ana", AT, SIM, BreakStatus.OPEN, BreakStatus.OPEN
    )
    with pytest.raises(ReconStoreError):  # the action names no break: refused by the foreign key
        store.commit_check(tuesday_runs, changed, [orphan], cursor=11, state="{}")
    conflicting = dataclasses.replace(runs_for(MON, 0, MONDAY, advanced)[0], compared_count=999)
    with pytest.raises(ConflictingRecord):  # the run id is stored with other figures
        store.commit_check([*tuesday_runs, conflicting], changed, (), cursor=11, state="{}")
    with pytest.raises(ValueError, match="twice"):
        store.commit_check((), [changed[0], changed[0]], (), cursor=11, state=None)
    with pytest.raises(StaleRead):
        store.commit_check(tuesday_runs, changed, (), cursor=11, state=None, expected_head=2)
    assert (store.counts(), store.head(), store.load_cursor(), store.latest_by_key()) == before
    store.commit_check(tuesday_runs, changed, (), cursor=11, state=None, expected_head=3)
    assert store.head() == 6 and store.load_cursor() == (11, '{"day": 1}')


def test_cursor_and_state_are_committed_with_the_check(store: ReconStore) -> None:
    assert store.load_cursor() == (0, None)
    check(store, MON, MONDAY, cursor=41, state='{"pending": []}')
    assert store.load_cursor() == (41, '{"pending": []}')
    check(store, TUE, TUESDAY)  # None leaves both as they are
    assert store.load_cursor() == (41, '{"pending": []}')
    check(store, WED, TUESDAY, cursor=97, state="")
    assert store.load_cursor() == (97, "")


def test_reopening_keeps_ids_ages_and_the_feed(opener: Callable[[], ReconStore]) -> None:
    first = opener()
    check(first, MON, MONDAY, cursor=5)
    check(first, TUE, TUESDAY, cursor=6)
    before = (first.latest_by_key(), first.change_feed(0, 100), first.latest_runs(), first.load_cursor())
    first.close()
    with pytest.raises(ReconStoreError, match="closed"):
        first.head()
    again = opener()
    assert (
        again.latest_by_key(),
        again.change_feed(0, 100),
        again.latest_runs(),
        again.load_cursor(),
    ) == before
    advanced, result = check(again, WED, TUESDAY, cursor=7)
    aapl = break_id_for(MONDAY[0].item_key, 1)
    assert {b.break_id: b.age_business_days for b in advanced.breaks}[aapl] == 2
    assert advanced.opened == () and result.changes[0].change_seq == len(before[1]) + 1


def test_the_database_refuses_rewriting_history(store: ReconStore, tmp_path: pathlib.Path) -> None:
    check(store, MON, MONDAY)
    raw = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
    try:
        for statement in (
            "UPDATE break_actions SET actor = 'mallory'",
            "DELETE FROM break_actions",
            "UPDATE check_runs SET matched_count = 0",
            "DELETE FROM check_runs",
            "UPDATE break_changes SET kind = 'UPDATED'",
            "DELETE FROM break_changes",
            "DELETE FROM breaks",
            "UPDATE breaks SET generation = 2",
            "UPDATE breaks SET first_seen_date = '2020-01-01'",
            "INSERT INTO break_changes (change_seq, break_id, kind, action_id, record)"
            " SELECT 10, break_id, 'UPDATED', '', '{}' FROM breaks LIMIT 1",
        ):
            with pytest.raises(sqlite3.DatabaseError):
                raw.execute(statement)
        raw.execute("UPDATE breaks SET assignee = 'bo'")  # the latest state itself may change
    finally:
        raw.close()
    assert store.counts()["break_actions"] == 4 and store.head() == 3


def test_a_newer_schema_is_refused(tmp_path: pathlib.Path) -> None:
    open_store(tmp_path).close()
    raw = sqlite3.connect(tmp_path / SQLITE_FILE)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(SchemaTooNew):
        open_store(tmp_path)


def test_apply_update_records_actions_and_one_change(store: ReconStore) -> None:
    check(store, MON, MONDAY)
    aapl = break_id_for(MONDAY[0].item_key, 1)
    heads: list[int] = []
    unsubscribe = store.subscribe(heads.append)

    def assign_and_investigate(brk: Break) -> tuple[Break, tuple[BreakAction, ...]]:
        return update(
            brk,
            actor="ana",
            at=AT,
            sim_time=SIM,
            assignee="bo",
            status=BreakStatus.INVESTIGATING,
            comment="asked",
        )

    after, actions, seq = store.apply_update(aapl, assign_and_investigate)
    assert (after.assignee, after.status, seq) == ("bo", BreakStatus.INVESTIGATING, 4)
    assert [a.kind for a in actions] == [ActionKind.ASSIGNED, ActionKind.STATUS_CHANGED, ActionKind.COMMENTED]
    assert store.get_break(aapl) == after
    history = store.actions(aapl)
    assert [a.kind for a in history] == [ActionKind.OPENED, ActionKind.ESCALATED, *[a.kind for a in actions]]
    assert all(a.actor == "ana" and a.at == AT for a in history[2:])
    [change] = store.change_feed(3, 10)
    assert (change.kind, change.record, change.action) == (ChangeKind.UPDATED, after, actions[-1])
    assert heads == [4]

    def write_off(brk: Break) -> tuple[Break, tuple[BreakAction, ...]]:
        return update(brk, actor="ana", at=AT, sim_time=SIM, status=BreakStatus.WRITTEN_OFF)

    store.apply_update(aapl, write_off)
    assert store.change_feed(4, 10)[0].kind is ChangeKind.RESOLVED
    unsubscribe()
    counts = store.counts()
    with pytest.raises(TransitionRefused):  # a written-off break stays closed; nothing is written
        store.apply_update(
            aapl, lambda brk: update(brk, actor="ana", at=AT, sim_time=SIM, status=BreakStatus.OPEN)
        )
    with pytest.raises(UnknownBreak):
        store.apply_update("BRK-none", write_off)
    assert store.counts() == counts and heads == [4, 5]  # nothing after unsubscribing


def test_suspense_posting_is_a_change_too(store: ReconStore) -> None:
    advanced, _ = check(store, MON, MONDAY)
    cash = next(b for b in advanced.breaks if b.currency == "USD" and b.instrument_id == "")
    twelve = Decimal("12.00")
    journal = LedgerJournal(
        cash.break_id, cash.mandate_id, "USD", ActionKind.POSTED_TO_SUSPENSE, f"recon:suspense:{cash.break_id}:v1", 1, MON,
        twelve, (("Assets:Cash:USD", twelve), ("Assets:Suspense:USD", -twelve)), "memo",
    )  # fmt: skip
    posted, action = record_journal(cash, journal, "J-42", at=AT, sim_time=SIM)
    result = store.commit_check((), [posted], [action], cursor=None, state=None)
    [change] = result.changes
    assert (change.kind, change.action, change.record.suspense_journal_id) == (
        ChangeKind.UPDATED,
        action,
        "J-42",
    )
    # What it holds and the action's amount are stored exactly.
    stored = store.get_break(cash.break_id)
    assert stored is not None and (stored.suspense_amount, stored.suspense_version) == (twelve, 1)
    assert store.actions(cash.break_id)[-1].amount == twelve


def test_timing_items_are_replaced_per_mandate_and_comparison(store: ReconStore) -> None:
    def item(item_id: str, mandate: str, comparison: object = BVC) -> TimingItem:
        return TimingItem(
            item_id, mandate, comparison, MONDAY[0].scope, "AAPL", "USD", "FILL-1",  # type: ignore[arg-type]
            Decimal("-100"), None, dt.date(2024, 3, 13), dt.date(2024, 3, 15), ("mkt-1",),
        )  # fmt: skip

    advanced, _ = check(store, MON, ())
    runs = runs_for(MON, 0, (), advanced)
    first = [item("TIM-1", USD_FUND), item("TIM-2", EUR_FUND), item("TIM-3", USD_FUND, BVL)]
    store.commit_check(runs, (), (), cursor=None, state=None, timing_items=first)
    assert store.timing_items() == sorted(first, key=lambda i: (i.mandate_id, i.comparison.value, i.item_id))
    usd_bvc_only = [r for r in runs if r.mandate_id == USD_FUND and r.comparison is BVC]
    store.commit_check(usd_bvc_only, (), (), cursor=None, state=None, timing_items=[item("TIM-4", USD_FUND)])
    assert {i.item_id for i in store.timing_items()} == {"TIM-2", "TIM-3", "TIM-4"}
    assert {i.item_id for i in store.timing_items(EUR_FUND)} == {"TIM-2"}
    with pytest.raises(ValueError, match="no run"):
        store.commit_check(
            usd_bvc_only, (), (), cursor=None, state=None, timing_items=[item("TIM-5", EUR_FUND)]
        )
    assert {i.item_id for i in store.summary(USD_FUND).timing_items} == {"TIM-3", "TIM-4"}
