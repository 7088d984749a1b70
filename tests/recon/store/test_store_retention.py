"""Retention: pruning the closed history before a horizon deletes exactly that, keeps every open break
and everything after the horizon, leaves the change feed after the oldest kept change as it was
(gap-free, change_seq going on), and the database refuses deleting anything not before it."""

from __future__ import annotations

import datetime as dt
import pathlib
import sqlite3
from collections.abc import Sequence

import pytest

from services.recon.domain.breaks import break_id_for, update
from services.recon.domain.records import Break, BreakAction
from services.recon.store import SQLITE_FILE, BreakChange, ChangesPruned, ReconStore, Retention, Updater
from tests.recon.store.scenario import (
    DAYS,
    HORIZON,
    OLD_ID,
    RECURRING,
    check,
    day_differences,
    diff,
    run_days,
)

AT = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


def comment(text: str) -> Updater:
    def change(brk: Break) -> tuple[Break, tuple[BreakAction, ...]]:
        return update(brk, actor="ana", at=AT, sim_time=AT, comment=text)

    return change


def last_change(feed: Sequence[BreakChange]) -> dict[str, int]:
    seqs: dict[str, int] = {}
    for change in feed:
        seqs[change.record.break_id] = change.change_seq
    return seqs


def test_a_prune_deletes_exactly_the_closed_history_before_the_horizon(store: ReconStore) -> None:
    heads = run_days(store, range(21))
    # A person comments on X2 (closed on day 4) after the horizon's day end: its history is recent.
    x2 = break_id_for(diff("X2", "7").item_key, 1)
    store.apply_update(x2, comment("checked with the custodian"))
    heads.update(run_days(store, range(21, 30)))
    head = store.head()
    feed = store.change_feed(0, 10_000)
    assert [c.change_seq for c in feed] == list(range(1, head + 1))
    stored = {bid: detail for bid in last_change(feed) if (detail := store.break_detail(bid))}
    assert stored.keys() == last_change(feed).keys()
    cut = heads[19] + 1  # the changes of the days before the horizon end with day 19's check
    gone = {bid for bid, seq in last_change(feed).items() if seq < cut and not stored[bid][0].status.is_open}
    # Closed before the horizon: X0..X17 (X18 closes on day 20) but X2, commented since; USD's
    # generations 1 and 2. Not the old open break.
    usd = [break_id_for(RECURRING.item_key, g) for g in (1, 2, 3)]
    assert gone == {break_id_for(diff(f"X{j}", "7").item_key, 1) for j in range(18)} - {x2} | set(usd[:2])
    actions_gone = sum(len(stored[bid][1]) for bid in gone)
    runs_before = store.counts()["check_runs"]

    pruned = store.prune(HORIZON)

    assert pruned.retention == Retention(HORIZON, cut) == store.retention()
    assert (pruned.breaks, pruned.actions, pruned.changes) == (len(gone), actions_gone, cut - 1)
    # 4 runs a check (2 mandates x 2 comparisons) on each of the 20 days before the horizon
    assert pruned.check_runs == 80 and store.counts()["check_runs"] == runs_before - 80
    assert {r.as_of_date for r in store.latest_runs()} == {DAYS[29]}
    # Everything else is as it was, with its whole history: the old open break, X2, what closed since.
    for bid, detail in stored.items():
        assert store.break_detail(bid) == (None if bid in gone else detail)
    assert {OLD_ID, x2, usd[2]} <= set(stored) - gone
    assert store.counts()["breaks"] == len(stored) - len(gone)
    # The feed after the oldest kept change is unchanged, gap-free, and goes on from the same head.
    assert store.head() == head
    assert store.change_feed(cut - 1, 10_000) == feed[cut - 1 :]
    with pytest.raises(ChangesPruned) as refused:
        store.change_feed(cut - 2, 10)
    assert (refused.value.oldest_change_seq, refused.value.horizon) == (cut, HORIZON)
    with pytest.raises(ChangesPruned):
        store.change_feed(0, 10)
    _, result = check(store, DAYS[29] + dt.timedelta(days=3), [], cursor=31)
    assert result.changes[0].change_seq == head + 1
    # The same horizon again, or an earlier one, changes nothing.
    assert store.prune(HORIZON)[1:] == store.prune(DAYS[5])[1:] == (0, 0, 0, 0)


def test_keep_spares_what_the_caller_needs_and_the_database_lets_only_that_go(
    store: ReconStore, tmp_path: pathlib.Path
) -> None:
    run_days(store, range(30))
    usd = [break_id_for(RECURRING.item_key, g) for g in (1, 2)]
    asked: dict[str, bool] = {}

    def keep(brk: Break, latest: bool) -> bool:
        asked[brk.break_id] = latest
        return brk.break_id == usd[1]

    store.prune(HORIZON, keep)
    # Every break offered is closed; only the latest generation of its key says latest.
    assert asked[usd[0]] is False and asked[usd[1]] is False  # generation 3 (open later) is the latest
    assert store.get_break(usd[0]) is None and store.get_break(usd[1]) is not None
    assert OLD_ID not in asked
    raw = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
    try:
        # Kept but before the horizon: the database lets it go (the horizon is its rule).
        raw.execute("BEGIN")
        raw.execute("DELETE FROM break_actions WHERE break_id = ?", (usd[1],))
        raw.execute("DELETE FROM breaks WHERE break_id = ?", (usd[1],))
        raw.execute("ROLLBACK")
    finally:
        raw.close()


def test_the_database_refuses_deleting_anything_not_before_the_horizon(
    store: ReconStore, tmp_path: pathlib.Path
) -> None:
    run_days(store, range(30))
    raw = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
    x1 = break_id_for(diff("X1", "7").item_key, 1)
    x25 = break_id_for(diff("X25", "7").item_key, 1)
    try:
        # Before any prune there is no horizon: nothing may be deleted, not even an old closed break.
        for statement in (
            f"DELETE FROM break_actions WHERE break_id = '{x1}'",
            f"DELETE FROM breaks WHERE break_id = '{x1}'",
            "DELETE FROM check_runs WHERE as_of_date < '2024-03-05'",
            "DELETE FROM break_changes WHERE change_seq = 1",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="recon: "):
                raw.execute(statement)
        store.prune(HORIZON)
        oldest = store.retention().oldest_change_seq
        for statement in (
            # the old open break, its actions, and a break closed after the horizon
            f"DELETE FROM breaks WHERE break_id = '{OLD_ID}'",
            f"DELETE FROM break_actions WHERE break_id = '{OLD_ID}'",
            f"DELETE FROM break_actions WHERE break_id = '{x25}'",
            f"DELETE FROM breaks WHERE break_id = '{x25}'",
            # the oldest change kept, a run of the horizon's date
            f"DELETE FROM break_changes WHERE change_seq = {oldest}",
            f"DELETE FROM check_runs WHERE as_of_date = '{HORIZON.isoformat()}'",
            # rewriting history is still refused
            "UPDATE break_changes SET kind = 'UPDATED'",
            "UPDATE check_runs SET matched_count = 0",
            f"UPDATE breaks SET generation = 9 WHERE break_id = '{x25}'",
            # the horizon only moves forward, the oldest kept change too and never past the head + 1
            "UPDATE recon_retention SET horizon = '2024-03-05'",
            "UPDATE recon_retention SET horizon = NULL",
            f"UPDATE recon_retention SET oldest_change_seq = {oldest - 1}",
            f"UPDATE recon_retention SET oldest_change_seq = {store.head() + 2}",
            "DELETE FROM recon_retention",
            # and change_seq stays gap-free
            f"INSERT INTO break_changes (change_seq, break_id, kind, action_id, record)"
            f" VALUES ({store.head() + 2}, '{x25}', 'UPDATED', '', '{{}}')",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="recon: "):
                raw.execute(statement)
    finally:
        raw.close()
    assert store.get_break(OLD_ID) is not None and store.get_break(x25) is not None


def test_when_every_change_was_pruned_change_seq_goes_on_from_the_head(store: ReconStore) -> None:
    heads = run_days(store, range(3))
    quiet = DAYS[3]  # a day end that changes no break: its check still records where the feed ends
    _, result = check(store, quiet, [*day_differences(2)[:1], diff("X2", "7")], cursor=4)
    # A horizon after the quiet day: the feed is cut after its check, the whole feed.
    head = store.head()
    assert result.head == head and head > heads[2]
    pruned = store.prune(quiet + dt.timedelta(days=1))
    assert pruned.retention.oldest_change_seq == head + 1 and pruned.changes == head
    assert store.head() == head and store.change_feed(head, 10) == []
    _, later = check(store, DAYS[5], [diff("NEW", "1")], cursor=6)
    assert later.changes[0].change_seq == head + 1


def test_history_from_before_day_heads_is_kept_until_the_horizon_passes_a_recorded_day_end(
    store: ReconStore, tmp_path: pathlib.Path
) -> None:
    run_days(store, range(20))
    # As a store from before retention: its day ends' heads were never recorded.
    raw = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
    raw.execute("DELETE FROM day_heads")
    raw.close()
    heads = run_days(store, range(20, 30))
    pruned = store.prune(HORIZON)  # DAYS[20] is the first day end recorded: nothing before it
    assert pruned.retention == Retention(HORIZON, 1) and (pruned.breaks, pruned.changes) == (0, 0)
    assert pruned.check_runs == 80  # runs carry their own date
    assert len(store.change_feed(0, 10_000)) == store.head()
    # Once the horizon passes it, the feed is cut there.
    later = store.prune(DAYS[22])
    assert later.retention.oldest_change_seq == heads[21] + 1 and later.changes == heads[21]
    assert later.breaks > 0
