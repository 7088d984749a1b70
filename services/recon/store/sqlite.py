"""The recon store on one SQLite file in WAL mode.

One writer connection behind a lock (BEGIN IMMEDIATE also serialises writers of other processes)
and one read connection per thread, so readers never wait for the writer; every read method is one
snapshot. The database refuses what would break the store's invariants: triggers keep actions, runs
and the change feed append-only, keep a break's identity fixed, and make change_seq gap-free; once
closed history is pruned (`prune`), they refuse deleting anything at or after the recorded horizon.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import pathlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal, InvalidOperation
from typing import Any

from services.common.change_signal import CommitListeners
from services.common.sqlite import SqliteFile, migrate_schema
from services.recon.domain.records import Break, BreakAction, CheckRun, TimingItem
from services.recon.store import rows
from services.recon.store.base import (
    BreakChange,
    BreakFilter,
    ChangeKind,
    CommitResult,
    KeepBreak,
    Pruned,
    Retention,
    Summary,
    Updater,
)
from services.recon.store.changes import change_kind
from services.recon.store.errors import (
    ChangesPruned,
    ConflictingRecord,
    ReconStoreError,
    SchemaTooNew,
    StaleRead,
    UnknownBreak,
)

_log = logging.getLogger(__name__)
_IN_CHUNK = 500  # far below SQLite's bound-parameter limit
_OPEN = ("OPEN", "INVESTIGATING")
_APPEND_ONLY = "recon: {table} are append-only"

# SQL of the retention rules, shared by the triggers and the store's queries.
_HORIZON = "(SELECT horizon FROM recon_retention WHERE id = 1)"
_OLDEST = "(SELECT oldest_change_seq FROM recon_retention WHERE id = 1)"
# The change feed's head: its last change, or just before the oldest kept when every change was pruned.
_HEAD = f"MAX(IFNULL((SELECT MAX(change_seq) FROM break_changes), 0), {_OLDEST} - 1)"
# A break the horizon lets go: closed, a horizon recorded, and none of its changes kept (so nothing
# happened to it since before the horizon). {brk}: the break's alias (OLD in a trigger).
_PRUNABLE = (
    "({brk}.status IN ('RESOLVED', 'WRITTEN_OFF')"
    f" AND {_HORIZON} IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM break_changes AS kept"
    f"  WHERE kept.break_id = {{brk}}.break_id AND kept.change_seq >= {_OLDEST}))"
)

# Each migration takes the schema from version i to i+1; never edit one that shipped, append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE recon_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            cursor INTEGER NOT NULL,
            state TEXT
        )""",
        "INSERT INTO recon_state (id, cursor, state) VALUES (1, 0, NULL)",
        # The latest state of each break. Decimals TEXT (exact), times INTEGER UTC microseconds.
        """CREATE TABLE breaks (
            break_id TEXT PRIMARY KEY,
            item_key TEXT NOT NULL,
            generation INTEGER NOT NULL CHECK (generation >= 1),
            mandate_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('OPEN', 'INVESTIGATING', 'RESOLVED', 'WRITTEN_OFF')),
            comparison TEXT NOT NULL,
            scope TEXT NOT NULL,
            first_seen_date TEXT NOT NULL,
            last_seen_date TEXT NOT NULL,
            opened_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            opened_in_run_id TEXT NOT NULL,
            last_run_id TEXT NOT NULL,
            instrument_id TEXT NOT NULL,
            currency TEXT NOT NULL,
            account TEXT NOT NULL,
            fill_id TEXT NOT NULL,
            custodian_refs TEXT NOT NULL,
            ledger_account TEXT NOT NULL,
            book_quantity TEXT,
            other_quantity TEXT,
            quantity_difference TEXT,
            book_amount TEXT,
            other_amount TEXT,
            amount_difference TEXT,
            base_currency TEXT NOT NULL,
            base_amount_difference TEXT,
            book_date TEXT,
            other_date TEXT,
            tolerance_absolute TEXT,
            tolerance_relative TEXT,
            age_business_days INTEGER NOT NULL,
            aging_bucket TEXT NOT NULL,
            escalated INTEGER NOT NULL CHECK (escalated IN (0, 1)),
            escalation_reason TEXT NOT NULL,
            assignee TEXT NOT NULL,
            resolved_at INTEGER,
            resolved_by_event_id TEXT NOT NULL,
            suspense_journal_id TEXT NOT NULL,
            caused_by TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            description TEXT NOT NULL,
            UNIQUE (item_key, generation)
        )""",
        "CREATE INDEX breaks_in_order ON breaks (opened_at, break_id)",
        "CREATE INDEX breaks_by_mandate ON breaks (mandate_id, opened_at, break_id)",
        """CREATE INDEX breaks_open ON breaks (opened_at, break_id)
           WHERE status IN ('OPEN', 'INVESTIGATING')""",
        """CREATE TRIGGER breaks_never_deleted BEFORE DELETE ON breaks
           BEGIN SELECT RAISE(ABORT, 'recon: breaks are never deleted'); END""",
        """CREATE TRIGGER breaks_keep_identity BEFORE UPDATE ON breaks
           WHEN NEW.break_id IS NOT OLD.break_id OR NEW.item_key IS NOT OLD.item_key
             OR NEW.generation IS NOT OLD.generation OR NEW.mandate_id IS NOT OLD.mandate_id
             OR NEW.opened_at IS NOT OLD.opened_at OR NEW.first_seen_date IS NOT OLD.first_seen_date
           BEGIN SELECT RAISE(ABORT, 'recon: a break keeps its identity'); END""",
        """CREATE TABLE break_actions (
            action_seq INTEGER PRIMARY KEY,
            action_id TEXT NOT NULL UNIQUE,
            break_id TEXT NOT NULL REFERENCES breaks (break_id),
            kind TEXT NOT NULL,
            actor TEXT NOT NULL CHECK (actor != ''),
            at INTEGER NOT NULL,
            sim_time INTEGER NOT NULL,
            from_status TEXT NOT NULL,
            to_status TEXT NOT NULL,
            assignee TEXT NOT NULL,
            comment TEXT NOT NULL,
            journal_id TEXT NOT NULL
        )""",
        "CREATE INDEX break_actions_by_break ON break_actions (break_id, action_seq)",
        """CREATE TABLE check_runs (
            run_seq INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            mandate_id TEXT NOT NULL,
            comparison TEXT NOT NULL,
            as_of_date TEXT NOT NULL,
            as_of_seq INTEGER NOT NULL,
            "trigger" TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            finished_at INTEGER NOT NULL,
            compared_count INTEGER NOT NULL,
            matched_count INTEGER NOT NULL,
            matched_within_tolerance_count INTEGER NOT NULL,
            unmatched_count INTEGER NOT NULL,
            timing_item_count INTEGER NOT NULL,
            breaks_opened INTEGER NOT NULL,
            breaks_resolved INTEGER NOT NULL,
            trace_id TEXT NOT NULL,
            UNIQUE (run_id, mandate_id, comparison)
        )""",
        "CREATE INDEX check_runs_latest ON check_runs (mandate_id, comparison, run_seq)",
        # Each stored change of a break, with the break as it was right after it (JSON of its row).
        """CREATE TABLE break_changes (
            change_seq INTEGER PRIMARY KEY,
            break_id TEXT NOT NULL REFERENCES breaks (break_id),
            kind TEXT NOT NULL CHECK (kind IN ('OPENED', 'UPDATED', 'AGED', 'ESCALATED', 'RESOLVED')),
            action_id TEXT NOT NULL,
            record TEXT NOT NULL
        )""",
        """CREATE TRIGGER break_changes_gap_free BEFORE INSERT ON break_changes
           WHEN NEW.change_seq IS NOT (SELECT IFNULL(MAX(change_seq), 0) + 1 FROM break_changes)
           BEGIN SELECT RAISE(ABORT, 'recon: change_seq must be the next one'); END""",
        *(
            f"""CREATE TRIGGER {table}_never_{verb.lower()}d BEFORE {verb} ON {table}
               BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY.format(table=table)}'); END"""
            for table in ("break_actions", "check_runs", "break_changes")
            for verb in ("UPDATE", "DELETE")
        ),
        # The timing items of the latest check of each (mandate, comparison): replaced, not kept.
        """CREATE TABLE timing_items (
            mandate_id TEXT NOT NULL,
            comparison TEXT NOT NULL,
            item_id TEXT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (mandate_id, comparison, item_id)
        ) WITHOUT ROWID""",
    ),
    # Issue 10: parents, cash-flow breaks, suspense that follows its break, write-offs.
    (
        "ALTER TABLE breaks ADD COLUMN parent_break_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE breaks ADD COLUMN cash_flow_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE breaks ADD COLUMN suspense_amount TEXT",
        "ALTER TABLE breaks ADD COLUMN suspense_version INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE breaks ADD COLUMN write_off_journal_id TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX breaks_by_parent ON breaks (parent_break_id, opened_at, break_id)",
        "ALTER TABLE break_actions ADD COLUMN amount TEXT",
    ),
    # Issue 12: retention. Closed history before a horizon may be pruned; the triggers that refused
    # every DELETE now refuse deleting anything at or after the horizon (and keep change_seq going
    # on from the oldest kept change when every change before it is gone).
    (
        # The horizon pruned to (NULL: nothing pruned) and the lowest change_seq the feed still has.
        """CREATE TABLE recon_retention (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            horizon TEXT,
            oldest_change_seq INTEGER NOT NULL CHECK (oldest_change_seq >= 1)
        )""",
        "INSERT INTO recon_retention (id, horizon, oldest_change_seq) VALUES (1, NULL, 1)",
        # The change feed's head once each day end's check was committed: where the feed's changes of
        # a date end, so a horizon (a date) becomes a change_seq to cut the feed at. Dates before the
        # first check after this migration have no row: their changes are kept until the horizon
        # passes that check (never cut a feed at a guess).
        """CREATE TABLE day_heads (
            as_of_date TEXT PRIMARY KEY,
            head INTEGER NOT NULL CHECK (head >= 0)
        ) WITHOUT ROWID""",
        # Deleting a break checks its changes, and the foreign key checks them too: index them.
        "CREATE INDEX break_changes_by_break ON break_changes (break_id, change_seq)",
        "DROP TRIGGER breaks_never_deleted",
        "DROP TRIGGER break_actions_never_deleted",
        "DROP TRIGGER check_runs_never_deleted",
        "DROP TRIGGER break_changes_never_deleted",
        "DROP TRIGGER break_changes_gap_free",
        f"""CREATE TRIGGER breaks_deleted_only_before_horizon BEFORE DELETE ON breaks
           WHEN NOT {_PRUNABLE.format(brk="OLD")}
           BEGIN SELECT RAISE(ABORT, 'recon: only a break closed before the retention horizon may be deleted');
           END""",
        f"""CREATE TRIGGER break_actions_deleted_only_before_horizon BEFORE DELETE ON break_actions
           WHEN EXISTS (SELECT 1 FROM breaks AS b WHERE b.break_id = OLD.break_id
                        AND NOT {_PRUNABLE.format(brk="b")})
           BEGIN SELECT RAISE(ABORT, 'recon: only the actions of a break pruned may be deleted'); END""",
        f"""CREATE TRIGGER check_runs_deleted_only_before_horizon BEFORE DELETE ON check_runs
           WHEN NOT IFNULL(OLD.as_of_date < {_HORIZON}, 0)
           BEGIN SELECT RAISE(ABORT, 'recon: only check runs before the retention horizon may be deleted');
           END""",
        f"""CREATE TRIGGER break_changes_deleted_only_before_horizon BEFORE DELETE ON break_changes
           WHEN OLD.change_seq >= {_OLDEST}
           BEGIN SELECT RAISE(ABORT, 'recon: only changes before the oldest kept change_seq may be deleted');
           END""",
        f"""CREATE TRIGGER break_changes_gap_free BEFORE INSERT ON break_changes
           WHEN NEW.change_seq IS NOT {_HEAD} + 1
           BEGIN SELECT RAISE(ABORT, 'recon: change_seq must be the next one'); END""",
        # The horizon and the oldest kept change only move forward, never past the head + 1.
        f"""CREATE TRIGGER recon_retention_forward BEFORE UPDATE ON recon_retention
           WHEN NEW.id IS NOT OLD.id
             OR NEW.oldest_change_seq < OLD.oldest_change_seq
             OR NEW.oldest_change_seq > {_HEAD} + 1
             OR (OLD.horizon IS NOT NULL AND (NEW.horizon IS NULL OR NEW.horizon < OLD.horizon))
           BEGIN SELECT RAISE(ABORT, 'recon: the retention horizon only moves forward, up to the head');
           END""",
        """CREATE TRIGGER recon_retention_never_deleted BEFORE DELETE ON recon_retention
           BEGIN SELECT RAISE(ABORT, 'recon: the retention record is never deleted'); END""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the file's schema to SCHEMA_VERSION; returns the version found before."""
    return migrate_schema(
        conn,
        MIGRATIONS,
        lambda found, known: SchemaTooNew(f"recon schema version {found} is newer than this code ({known})"),
    )


def _abs_at_least(amount: str | None, threshold: str) -> int:
    """SQL function: |amount| >= threshold, compared as exact decimals (TEXT never compares numerically)."""
    if amount is None:
        return 0
    try:
        return int(abs(Decimal(amount)) >= Decimal(threshold))
    except InvalidOperation:
        return 0


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _upsert_sql() -> str:
    names = rows.BREAK.names
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n != "break_id")
    return (
        f"INSERT INTO breaks ({rows.BREAK.columns}) VALUES ({_marks(len(names))})"
        f" ON CONFLICT (break_id) DO UPDATE SET {updates}"
    )


_UPSERT_BREAK = _upsert_sql()
_INSERT_ACTION = (
    f"INSERT INTO break_actions ({rows.ACTION.columns}) VALUES ({_marks(len(rows.ACTION.names))})"
)
_INSERT_RUN = f"INSERT INTO check_runs ({rows.RUN.columns}) VALUES ({_marks(len(rows.RUN.names))})"
_BREAK_ORDER = "ORDER BY b.opened_at, b.break_id"


def _material(before: Break, after: Break) -> bool:
    """Whether a break changed in more than when it was last seen (a re-check of the same day does not)."""
    return (
        dataclasses.replace(after, last_seen_date=before.last_seen_date, last_run_id=before.last_run_id)
        != before
    )


def _prepare_connection(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys=ON")
    conn.create_function("recon_abs_at_least", 2, _abs_at_least, deterministic=True)


class SqliteReconStore:
    """ReconStore on one SQLite file; the file and its parent directory are created when missing."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        self._db = SqliteFile(
            self.path,
            migrate=migrate,
            closed_error=lambda: ReconStoreError("recon store is closed"),
            prepare=_prepare_connection,
        )
        self._listeners = CommitListeners("recon")

    # ------------------------------------------------------------------ connections

    def _snapshot(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.snapshot()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.write()

    # ------------------------------------------------------------------ writing

    def subscribe(self, listener: Callable[[int], None]) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def _notify(self, head: int) -> None:
        self._listeners.notify(head)

    def commit_check(
        self,
        runs: Sequence[CheckRun],
        breaks_changed: Sequence[Break],
        actions: Sequence[BreakAction],
        *,
        cursor: int | None,
        state: str | None,
        timing_items: Sequence[TimingItem] | None = None,
        expected_head: int | None = None,
    ) -> CommitResult:
        ids = [b.break_id for b in breaks_changed]
        if len(set(ids)) != len(ids):
            raise ValueError("commit_check: a break id appears twice; give each break's latest state once")
        try:
            with self._write() as conn:
                head = self._head(conn)
                if expected_head is not None and head != expected_head:
                    raise StaleRead(expected_head, head)
                self._insert_runs(conn, runs)
                stored = self._breaks_by_id(conn, ids)
                changed: list[tuple[Break | None, Break]] = []
                for brk in breaks_changed:
                    before = stored.get(brk.break_id)
                    if before == brk:
                        continue
                    conn.execute(_UPSERT_BREAK, rows.BREAK.to_row(brk))
                    if before is None or _material(before, brk):
                        changed.append((before, brk))
                self._insert_actions(conn, actions)
                by_break: dict[str, list[BreakAction]] = {}
                for action in actions:
                    by_break.setdefault(action.break_id, []).append(action)
                changes = [
                    self._append_change(conn, head + i + 1, before, brk, by_break.get(brk.break_id, ()))
                    for i, (before, brk) in enumerate(changed)
                ]
                if timing_items is not None:
                    self._replace_timing_items(conn, runs, timing_items)
                if cursor is not None and runs:
                    # A day end's check: where the feed's changes of its date end (for prune).
                    conn.execute(
                        "INSERT INTO day_heads (as_of_date, head) VALUES (?, ?)"
                        " ON CONFLICT (as_of_date) DO UPDATE SET head = MAX(head, excluded.head)",
                        (max(r.as_of_date for r in runs).isoformat(), head + len(changes)),
                    )
                conn.execute(
                    "UPDATE recon_state SET cursor = IFNULL(?, cursor),"
                    " state = CASE WHEN ? THEN ? ELSE state END WHERE id = 1",
                    (cursor, state is not None, state),
                )
        except sqlite3.IntegrityError as error:
            raise ReconStoreError(f"the database refused the check: {error}") from error
        result = CommitResult(tuple(changes), head + len(changes))
        if changes:
            self._notify(result.head)
        return result

    def apply_update(self, break_id: str, change: Updater) -> tuple[Break, tuple[BreakAction, ...], int]:
        try:
            with self._write() as conn:
                before = self._breaks_by_id(conn, [break_id]).get(break_id)
                if before is None:
                    raise UnknownBreak(break_id)
                after, actions = change(before)
                actions = tuple(actions)
                if after.break_id != break_id or any(a.break_id != break_id for a in actions):
                    raise ValueError(f"apply_update: the change of {break_id} must stay on that break")
                seq = self._head(conn) + 1
                conn.execute(_UPSERT_BREAK, rows.BREAK.to_row(after))
                self._insert_actions(conn, actions)
                self._append_change(conn, seq, before, after, actions)
        except sqlite3.IntegrityError as error:
            raise ReconStoreError(f"the database refused the update of {break_id}: {error}") from error
        self._notify(seq)
        return after, actions, seq

    @staticmethod
    def _head(conn: sqlite3.Connection) -> int:
        return int(conn.execute(f"SELECT {_HEAD}").fetchone()[0])

    @staticmethod
    def _append_change(
        conn: sqlite3.Connection,
        seq: int,
        before: Break | None,
        after: Break,
        actions: Sequence[BreakAction],
    ) -> BreakChange:
        kind, action = change_kind(before, after, actions)
        conn.execute(
            "INSERT INTO break_changes (change_seq, break_id, kind, action_id, record) VALUES (?, ?, ?, ?, ?)",
            (seq, after.break_id, kind.value, action.action_id if action else "", rows.BREAK.to_json(after)),
        )
        return BreakChange(seq, kind, after, action)

    @staticmethod
    def _insert_runs(conn: sqlite3.Connection, runs: Sequence[CheckRun]) -> None:
        for run in runs:
            row = rows.RUN.to_row(run)
            found = conn.execute(
                f"SELECT {rows.RUN.columns} FROM check_runs WHERE run_id = ? AND mandate_id = ? AND comparison = ?",
                (run.run_id, run.mandate_id, run.comparison.value),
            ).fetchone()
            if found is None:
                conn.execute(_INSERT_RUN, row)
            elif tuple(found) != row:
                raise ConflictingRecord(
                    f"check run {run.run_id} ({run.mandate_id}, {run.comparison.value}) is already"
                    " stored with other figures"
                )

    @staticmethod
    def _insert_actions(conn: sqlite3.Connection, actions: Sequence[BreakAction]) -> None:
        for action in actions:
            row = rows.ACTION.to_row(action)
            found = conn.execute(
                f"SELECT {rows.ACTION.columns} FROM break_actions WHERE action_id = ?", (action.action_id,)
            ).fetchone()
            if found is None:
                conn.execute(_INSERT_ACTION, row)
            elif tuple(found) != row:
                raise ConflictingRecord(f"action {action.action_id} is already stored with other content")

    @staticmethod
    def _replace_timing_items(
        conn: sqlite3.Connection, runs: Sequence[CheckRun], items: Sequence[TimingItem]
    ) -> None:
        pairs = {(r.mandate_id, r.comparison.value) for r in runs}
        stray = {(i.mandate_id, i.comparison.value) for i in items} - pairs
        if stray:
            raise ValueError(f"commit_check: timing items of {sorted(stray)} have no run in this commit")
        conn.executemany("DELETE FROM timing_items WHERE mandate_id = ? AND comparison = ?", sorted(pairs))
        conn.executemany(
            "INSERT INTO timing_items (mandate_id, comparison, item_id, record) VALUES (?, ?, ?, ?)",
            [(i.mandate_id, i.comparison.value, i.item_id, rows.TIMING.to_json(i)) for i in items],
        )

    def prune(self, horizon: dt.date, keep: KeepBreak | None = None) -> Pruned:
        try:
            with self._write() as conn:
                before = self._retention(conn)
                if before.horizon is not None and horizon <= before.horizon:
                    return Pruned(before, 0, 0, 0, 0)
                # The feed is cut after the day end of the latest date checked before the horizon:
                # every change up to there was made before the horizon. No such date recorded (a
                # store older than day_heads): the feed stays whole until the horizon passes one.
                mark = conn.execute(
                    "SELECT head FROM day_heads WHERE as_of_date < ? ORDER BY as_of_date DESC LIMIT 1",
                    (horizon.isoformat(),),
                ).fetchone()
                oldest = max(before.oldest_change_seq, mark[0] + 1) if mark else before.oldest_change_seq
                # First the horizon, so the triggers let exactly what is before it go.
                conn.execute(
                    "UPDATE recon_retention SET horizon = ?, oldest_change_seq = ? WHERE id = 1",
                    (horizon.isoformat(), oldest),
                )
                changes = conn.execute("DELETE FROM break_changes WHERE change_seq < ?", (oldest,)).rowcount
                candidates = conn.execute(
                    f"SELECT {rows.BREAK.prefixed('b')}, b.generation = (SELECT MAX(x.generation)"
                    " FROM breaks AS x WHERE x.item_key = b.item_key)"
                    f" FROM breaks AS b WHERE {_PRUNABLE.format(brk='b')} {_BREAK_ORDER}"
                ).fetchall()
                going: list[str] = []
                for *row, latest in candidates:
                    brk = rows.BREAK.from_row(row)
                    if keep is None or not keep(brk, bool(latest)):
                        going.append(brk.break_id)
                actions = 0
                for chunk in _chunks(going):
                    marks = _marks(len(chunk))
                    actions += conn.execute(
                        f"DELETE FROM break_actions WHERE break_id IN ({marks})", chunk
                    ).rowcount
                    conn.execute(f"DELETE FROM breaks WHERE break_id IN ({marks})", chunk)
                # The latest run of each (mandate, comparison) stays whatever its age: it is what
                # GetReconciliation reports for a mandate not checked since.
                runs = conn.execute(
                    "DELETE FROM check_runs WHERE as_of_date < ? AND run_seq NOT IN"
                    " (SELECT MAX(run_seq) FROM check_runs GROUP BY mandate_id, comparison)",
                    (horizon.isoformat(),),
                ).rowcount
                conn.execute("DELETE FROM day_heads WHERE as_of_date < ?", (horizon.isoformat(),))
                after = self._retention(conn)
        except sqlite3.IntegrityError as error:
            raise ReconStoreError(f"the database refused the prune to {horizon}: {error}") from error
        return Pruned(after, len(going), actions, runs, changes)

    @staticmethod
    def _retention(conn: sqlite3.Connection) -> Retention:
        horizon, oldest = conn.execute(
            "SELECT horizon, oldest_change_seq FROM recon_retention WHERE id = 1"
        ).fetchone()
        return Retention(None if horizon is None else dt.date.fromisoformat(horizon), oldest)

    def retention(self) -> Retention:
        with self._snapshot() as conn:
            return self._retention(conn)

    # ------------------------------------------------------------------ reading

    @staticmethod
    def _breaks_by_id(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, Break]:
        found: dict[str, Break] = {}
        for chunk in _chunks(sorted(set(ids))):
            for row in conn.execute(
                f"SELECT {rows.BREAK.columns} FROM breaks WHERE break_id IN ({_marks(len(chunk))})", chunk
            ):
                brk = rows.BREAK.from_row(row)
                found[brk.break_id] = brk
        return found

    @staticmethod
    def _select_breaks(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[Break]:
        return [
            rows.BREAK.from_row(row)
            for row in conn.execute(
                f"SELECT {rows.BREAK.prefixed('b')} FROM breaks AS b WHERE {where}", params
            )
        ]

    @staticmethod
    def _actions(conn: sqlite3.Connection, break_id: str) -> tuple[BreakAction, ...]:
        return tuple(
            rows.ACTION.from_row(row)
            for row in conn.execute(
                f"SELECT {rows.ACTION.columns} FROM break_actions WHERE break_id = ? ORDER BY action_seq",
                (break_id,),
            )
        )

    def get_break(self, break_id: str) -> Break | None:
        with self._snapshot() as conn:
            return self._breaks_by_id(conn, [break_id]).get(break_id)

    def break_detail(self, break_id: str) -> tuple[Break, tuple[BreakAction, ...]] | None:
        with self._snapshot() as conn:
            brk = self._breaks_by_id(conn, [break_id]).get(break_id)
            return None if brk is None else (brk, self._actions(conn, break_id))

    def actions(self, break_id: str) -> list[BreakAction]:
        with self._snapshot() as conn:
            return list(self._actions(conn, break_id))

    def breaks(self, flt: BreakFilter, after: str = "", limit: int = 100) -> list[Break]:
        if limit <= 0:
            return []
        where: list[str] = []
        params: list[Any] = []
        if flt.mandate_id:
            where.append("b.mandate_id = ?")
            params.append(flt.mandate_id)
        if flt.kinds:
            where.append(f"b.kind IN ({_marks(len(flt.kinds))})")
            params.extend(sorted(k.value for k in flt.kinds))
        if flt.statuses:
            where.append(f"b.status IN ({_marks(len(flt.statuses))})")
            params.extend(sorted(s.value for s in flt.statuses))
        if flt.open_only:
            where.append(f"b.status IN ({_marks(len(_OPEN))})")
            params.extend(_OPEN)
        if flt.min_age:
            where.append("b.age_business_days >= ?")
            params.append(flt.min_age)
        if flt.max_age is not None:
            where.append("b.age_business_days <= ?")
            params.append(flt.max_age)
        if flt.min_abs_base_amount is not None:
            where.append("recon_abs_at_least(b.base_amount_difference, ?)")
            params.append(str(flt.min_abs_base_amount))
        if flt.instrument_id:
            where.append("b.instrument_id = ?")
            params.append(flt.instrument_id)
        if flt.aging_bucket:
            where.append("b.aging_bucket = ?")
            params.append(flt.aging_bucket)
        if flt.escalated_only:
            where.append("b.escalated = 1")
        if flt.top_level_only:
            where.append("b.parent_break_id = ''")
        if flt.parent_break_id:
            where.append("b.parent_break_id = ?")
            params.append(flt.parent_break_id)
        with self._snapshot() as conn:
            if after:
                mark = conn.execute("SELECT opened_at FROM breaks WHERE break_id = ?", (after,)).fetchone()
                if mark is None:
                    raise UnknownBreak(after)
                where.append("(b.opened_at, b.break_id) > (?, ?)")
                params.extend([mark[0], after])
            return self._select_breaks(
                conn, f"{' AND '.join(where) or 'true'} {_BREAK_ORDER} LIMIT ?", [*params, limit]
            )

    @classmethod
    def _open(cls, conn: sqlite3.Connection, mandate_id: str) -> list[Break]:
        return cls._select_breaks(
            conn,
            f"b.status IN ('OPEN', 'INVESTIGATING') AND (? = '' OR b.mandate_id = ?) {_BREAK_ORDER}",
            (mandate_id, mandate_id),
        )

    def open_breaks(self, mandate_id: str = "") -> list[Break]:
        with self._snapshot() as conn:
            return self._open(conn, mandate_id)

    def suspense_candidates(self) -> list[Break]:
        with self._snapshot() as conn:
            return self._select_breaks(
                conn,
                "b.comparison = 'LEDGER_VS_CUSTODIAN' AND (b.status IN ('OPEN', 'INVESTIGATING')"
                " OR b.suspense_amount IS NOT NULL OR b.status = 'WRITTEN_OFF')"
                f" {_BREAK_ORDER}",
                (),
            )

    def open_breaks_at_head(self, mandate_id: str = "") -> tuple[int, list[Break]]:
        with self._snapshot() as conn:
            return self._head(conn), self._open(conn, mandate_id)

    def latest_by_key(self) -> dict[str, Break]:
        with self._snapshot() as conn:
            latest = self._select_breaks(
                conn,
                "b.generation = (SELECT MAX(x.generation) FROM breaks AS x WHERE x.item_key = b.item_key)"
                " ORDER BY b.item_key",
                (),
            )
        return {b.item_key: b for b in latest}

    def latest_for(self, keys: Iterable[str]) -> dict[str, Break]:
        wanted = sorted(set(keys))
        with self._snapshot() as conn:
            # An open break is always its key's latest generation (a key reopens only once closed).
            found = {
                b.item_key: b for b in self._select_breaks(conn, "b.status IN ('OPEN', 'INVESTIGATING')", ())
            }
            for start in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[start : start + _IN_CHUNK]
                marks = ", ".join("?" * len(chunk))
                for brk in self._select_breaks(
                    conn,
                    f"b.item_key IN ({marks}) AND b.generation = (SELECT MAX(x.generation)"
                    " FROM breaks AS x WHERE x.item_key = b.item_key)",
                    chunk,
                ):
                    found[brk.item_key] = brk
        return found

    @staticmethod
    def _latest_runs(conn: sqlite3.Connection, mandate_id: str) -> list[CheckRun]:
        return [
            rows.RUN.from_row(row)
            for row in conn.execute(
                f"SELECT {rows.RUN.columns} FROM check_runs WHERE run_seq IN (SELECT MAX(run_seq)"
                " FROM check_runs WHERE ? = '' OR mandate_id = ? GROUP BY mandate_id, comparison)"
                " ORDER BY mandate_id, comparison",
                (mandate_id, mandate_id),
            )
        ]

    def latest_runs(self, mandate_id: str = "") -> list[CheckRun]:
        with self._snapshot() as conn:
            return self._latest_runs(conn, mandate_id)

    @staticmethod
    def _timing_items(conn: sqlite3.Connection, mandate_id: str) -> list[TimingItem]:
        return [
            rows.TIMING.from_json(record)
            for (record,) in conn.execute(
                "SELECT record FROM timing_items WHERE ? = '' OR mandate_id = ?"
                " ORDER BY mandate_id, comparison, item_id",
                (mandate_id, mandate_id),
            )
        ]

    def timing_items(self, mandate_id: str = "") -> list[TimingItem]:
        with self._snapshot() as conn:
            return self._timing_items(conn, mandate_id)

    def summary(self, mandate_id: str = "") -> Summary:
        with self._snapshot() as conn:
            return Summary(
                tuple(self._latest_runs(conn, mandate_id)),
                tuple(self._open(conn, mandate_id)),
                tuple(self._timing_items(conn, mandate_id)),
            )

    def change_feed(self, after_change_seq: int, limit: int) -> list[BreakChange]:
        if limit <= 0:
            return []
        with self._snapshot() as conn:
            kept = self._retention(conn)
            if after_change_seq < kept.oldest_change_seq - 1:
                raise ChangesPruned(after_change_seq, kept.oldest_change_seq, kept.horizon)
            found = conn.execute(
                f"SELECT c.change_seq, c.kind, c.record, a.action_id IS NOT NULL, {rows.ACTION.prefixed('a')}"
                " FROM break_changes AS c LEFT JOIN break_actions AS a"
                "  ON a.action_id = c.action_id AND c.action_id != ''"
                " WHERE c.change_seq > ? ORDER BY c.change_seq LIMIT ?",
                (after_change_seq, limit),
            ).fetchall()
        return [
            BreakChange(
                change_seq=seq,
                kind=ChangeKind(kind),
                record=rows.BREAK.from_json(record),
                action=rows.ACTION.from_row(action) if has_action else None,
            )
            for seq, kind, record, has_action, *action in found
        ]

    def head(self) -> int:
        with self._snapshot() as conn:
            return self._head(conn)

    def load_cursor(self) -> tuple[int, str | None]:
        with self._snapshot() as conn:
            cursor, state = conn.execute("SELECT cursor, state FROM recon_state WHERE id = 1").fetchone()
        return cursor, state

    def counts(self) -> Mapping[str, int]:
        with self._snapshot() as conn:
            return {
                table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("breaks", "break_actions", "check_runs", "break_changes", "timing_items")
            }

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"SqliteReconStore({str(self.path)!r})"
