"""dq's storage: the issues, their changes, the values it rejected, and the cursor with the checks' state.

One SQLite file (services/common/sqlite.py) under the data directory. dq evaluates every event as
it arrives and commits at each day end, in one transaction: the day's issue changes (each issue's
latest form in `issues`, every change in `changes` for WatchIssues), the values it rejected that day
(`rejected`, read by a consumer valuing that day end), the checks' counters, and the cursor with
the in-memory state (open issues, last good values, each check's recent history). After a crash dq
resumes from the last day end it stored and applies the events since again: the same events give
the same issues, ids and change numbers.

A person's acknowledgement is committed at once in `acknowledged` and shows on every read from
then on (an open issue in it reads ACKNOWLEDGED); the consumer applies it to its issues at the next
day end, whose commit carries the issue's UPDATED change, so a replay after a crash gives the same
changes.
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from services.common.change_signal import CommitListeners
from services.common.eventlog import NewRecord
from services.common.eventlog.outbox import record_from_json, record_to_json
from services.common.sqlite import SqliteFile, migrate_schema
from services.dq.domain.issues import (
    ChangeKind,
    Issue,
    IssueChange,
    IssueStatus,
    QuarantineEntry,
    entry_from_json,
    entry_to_json,
    issue_from_json,
    issue_to_json,
)
from services.dq.domain.results import IssueKind, Severity, SubjectKind

SQLITE_FILE = "dq.sqlite3"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE dq_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            cursor INTEGER NOT NULL,
            first_date TEXT,
            as_of_date TEXT,
            state TEXT
        )""",
        "INSERT INTO dq_state (id, cursor, first_date, as_of_date, state) VALUES (1, 0, NULL, NULL, NULL)",
        # Each issue as of its latest change; the filters of ListIssues are columns.
        """CREATE TABLE issues (
            number INTEGER PRIMARY KEY,
            issue_id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            kind TEXT NOT NULL,
            severity INTEGER NOT NULL,
            subject_kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            value_date TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX issues_open ON issues (status, severity)",
        "CREATE INDEX issues_subject ON issues (subject, number)",
        """CREATE TABLE changes (
            change_seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            issue_id TEXT NOT NULL,
            data TEXT NOT NULL
        )""",
        """CREATE TABLE rejected (
            value_date TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            vendor TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (value_date, subject_kind, subject, vendor)
        ) WITHOUT ROWID""",
        # What is quarantined as of the last day end (replaced at each commit).
        """CREATE TABLE quarantine_now (
            subject_kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            vendor TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (subject_kind, subject, vendor)
        ) WITHOUT ROWID""",
        """CREATE TABLE check_counts (
            check_id TEXT PRIMARY KEY,
            checked INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            last_checked_at TEXT
        ) WITHOUT ROWID""",
        """CREATE TABLE acknowledged (
            issue_id TEXT PRIMARY KEY
        ) WITHOUT ROWID""",
        # The event-log records of the day ends' issue changes, until delivered (announcements.py).
        """CREATE TABLE outbox (
            outbox_id INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            record TEXT NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX outbox_undelivered ON outbox (outbox_id) WHERE delivered = 0",
    ),
)

SEVERITY_RANK = {Severity.INFO: 1, Severity.WARNING: 2, Severity.CRITICAL: 3}
_ACKNOWLEDGED = "issue_id IN (SELECT issue_id FROM acknowledged)"
STATUS_CLAUSES = {
    "OPEN": f"(status = 'OPEN' AND NOT {_ACKNOWLEDGED})",
    "ACKNOWLEDGED": f"(status = 'OPEN' AND {_ACKNOWLEDGED})",
    "RESOLVED": "status = 'RESOLVED'",
}


class SchemaTooNew(Exception):
    def __init__(self, found: int, known: int) -> None:
        super().__init__(f"dq's store has schema version {found}; this release knows up to {known}")


class StoreClosed(Exception):
    def __init__(self) -> None:
        super().__init__("dq's store is closed")


@dataclass(frozen=True, slots=True)
class CheckCount:
    check_id: str
    checked: int
    failed: int
    last_checked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class IssueFilter:
    """ListIssues' filters: each set one narrows (empty kinds: every kind)."""

    kinds: frozenset[IssueKind] = frozenset()
    min_severity: Severity | None = None
    statuses: frozenset[str] = frozenset()  # OPEN, ACKNOWLEDGED, RESOLVED
    subject_kind: SubjectKind | None = None
    subject: str = ""
    first_date: dt.date | None = None
    last_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class DayCommit:
    """What one day end commits."""

    cursor: int
    as_of_date: dt.date
    state: str
    changes: Sequence[IssueChange]
    rejected: Sequence[QuarantineEntry]  # the values of the day dq rejected
    quarantined: Sequence[QuarantineEntry]  # everything held back at the day end
    counts: Sequence[CheckCount]
    # issue id -> the trace of the event that raised it ("" for none)
    trace_ids: Mapping[str, str] = field(default_factory=dict)
    # The event-log records of the changes, delivered after the commit (announcements.py).
    records: Sequence[NewRecord] = ()


def _migrate(conn: sqlite3.Connection) -> None:
    migrate_schema(conn, MIGRATIONS, SchemaTooNew)


def _number(issue_id: str) -> int:
    return int(issue_id.removeprefix("dq-"))


class DqStore:
    def __init__(self, path: pathlib.Path) -> None:
        self._file = SqliteFile(path, migrate=_migrate, closed_error=StoreClosed)
        self._listeners = CommitListeners("dq")
        # Acknowledgements made through this store object since it opened: the consumer reads the
        # table again only when it moved, not at every batch.
        self.acknowledgements = 0

    def close(self) -> None:
        self._file.close()

    # ------------------------------------------------------------ writing

    def load(self) -> tuple[int, dt.date | None, str | None]:
        """The cursor (the seq of the last stored day end, 0 before any), its date, and the state then."""
        with self._file.snapshot() as conn:
            cursor, date, state = conn.execute(
                "SELECT cursor, as_of_date, state FROM dq_state WHERE id = 1"
            ).fetchone()
        return int(cursor), dt.date.fromisoformat(date) if date else None, state

    def checked_dates(self) -> tuple[dt.date, dt.date] | None:
        """The first and the last day end dq has checked; None before the first."""
        with self._file.snapshot() as conn:
            first, last = conn.execute("SELECT first_date, as_of_date FROM dq_state WHERE id = 1").fetchone()
        return (dt.date.fromisoformat(first), dt.date.fromisoformat(last)) if first and last else None

    def commit_day(self, day: DayCommit) -> None:
        with self._file.write() as conn:
            for change in day.changes:
                issue = change.issue
                data = json.dumps(issue_to_json(issue), separators=(",", ":"))
                # An update keeps the trace of the event that raised the issue.
                conn.execute(
                    "INSERT INTO issues (number, issue_id, status, kind, severity, subject_kind, subject,"
                    " value_date, trace_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (number) DO UPDATE SET status = excluded.status, severity = excluded.severity,"
                    " value_date = excluded.value_date, data = excluded.data,"
                    " trace_id = CASE WHEN issues.trace_id = '' THEN excluded.trace_id ELSE issues.trace_id END",
                    (
                        _number(issue.issue_id),
                        issue.issue_id,
                        issue.status.value,
                        issue.kind.value,
                        SEVERITY_RANK[issue.severity],
                        issue.subject_kind.value,
                        issue.subject,
                        issue.value_date.isoformat(),
                        day.trace_ids.get(issue.issue_id, ""),
                        data,
                    ),
                )
                conn.execute(
                    "INSERT OR REPLACE INTO changes (change_seq, kind, issue_id, data) VALUES (?, ?, ?, ?)",
                    (change.change_seq, change.kind.value, issue.issue_id, data),
                )
            for entry in day.rejected:
                conn.execute(
                    "INSERT OR REPLACE INTO rejected (value_date, subject_kind, subject, vendor, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        entry.rejected_date.isoformat(),
                        entry.subject_kind.value,
                        entry.subject,
                        entry.vendor,
                        json.dumps(entry_to_json(entry), separators=(",", ":")),
                    ),
                )
            conn.execute("DELETE FROM quarantine_now")
            for entry in day.quarantined:
                conn.execute(
                    "INSERT INTO quarantine_now (subject_kind, subject, vendor, data) VALUES (?, ?, ?, ?)",
                    (
                        entry.subject_kind.value,
                        entry.subject,
                        entry.vendor,
                        json.dumps(entry_to_json(entry), separators=(",", ":")),
                    ),
                )
            for count in day.counts:
                conn.execute(
                    "INSERT OR REPLACE INTO check_counts (check_id, checked, failed, last_checked_at)"
                    " VALUES (?, ?, ?, ?)",
                    (
                        count.check_id,
                        count.checked,
                        count.failed,
                        count.last_checked_at.isoformat() if count.last_checked_at else None,
                    ),
                )
            for record in day.records:
                # A day end applied again after a crash makes the same records: kept once.
                conn.execute(
                    "INSERT OR IGNORE INTO outbox (event_id, record) VALUES (?, ?)",
                    (record.event_id, json.dumps(record_to_json(record), separators=(",", ":"))),
                )
            conn.execute(
                "UPDATE dq_state SET cursor = ?, first_date = COALESCE(first_date, ?), as_of_date = ?, state = ?"
                " WHERE id = 1",
                (day.cursor, day.as_of_date.isoformat(), day.as_of_date.isoformat(), day.state),
            )
        if day.changes:
            self._notify(max(c.change_seq for c in day.changes))

    def undelivered(self, limit: int) -> list[tuple[int, NewRecord]]:
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT outbox_id, record FROM outbox WHERE delivered = 0 ORDER BY outbox_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [(int(outbox_id), record_from_json(json.loads(text))) for outbox_id, text in rows]

    def mark_delivered(self, outbox_ids: list[int]) -> None:
        with self._file.write() as conn:
            conn.executemany(
                "UPDATE outbox SET delivered = 1 WHERE outbox_id = ?", [(i,) for i in outbox_ids]
            )

    def acknowledge(self, issue_id: str) -> None:
        with self._file.write() as conn:
            conn.execute("INSERT OR IGNORE INTO acknowledged (issue_id) VALUES (?)", (issue_id,))
        self.acknowledgements += 1

    def acknowledged(self) -> set[str]:
        with self._file.snapshot() as conn:
            return {row[0] for row in conn.execute("SELECT issue_id FROM acknowledged")}

    # ------------------------------------------------------------ change feed

    def subscribe(self, listener: Callable[[int], None]) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def _notify(self, head: int) -> None:
        self._listeners.notify(head)

    def head(self) -> int:
        with self._file.snapshot() as conn:
            return int(conn.execute("SELECT COALESCE(MAX(change_seq), 0) FROM changes").fetchone()[0])

    def changes_after(self, after: int, limit: int) -> list[IssueChange]:
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT change_seq, kind, data FROM changes WHERE change_seq > ? ORDER BY change_seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [
            IssueChange(int(seq), ChangeKind(kind), issue_from_json(json.loads(data)))
            for seq, kind, data in rows
        ]

    # ------------------------------------------------------------ reading

    def issue(self, issue_id: str) -> Issue | None:
        with self._file.snapshot() as conn:
            row = conn.execute(
                f"SELECT data, {_ACKNOWLEDGED} FROM issues WHERE issue_id = ?", (issue_id,)
            ).fetchone()
        return _read(*row) if row else None

    def issues(self, where: IssueFilter, offset: int, limit: int) -> list[Issue]:
        """Issues matching the filter, newest first."""
        clauses, params = _where(where)
        with self._file.snapshot() as conn:
            rows = conn.execute(
                f"SELECT data, {_ACKNOWLEDGED} FROM issues {clauses} ORDER BY number DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return [_read(data, acknowledged) for data, acknowledged in rows]

    def open_at_head(self) -> tuple[int, list[Issue]]:
        """The change feed's head and the open issues then (oldest first), from one snapshot."""
        with self._file.snapshot() as conn:
            head = int(conn.execute("SELECT COALESCE(MAX(change_seq), 0) FROM changes").fetchone()[0])
            rows = conn.execute(
                f"SELECT data, {_ACKNOWLEDGED} FROM issues WHERE status = 'OPEN' ORDER BY number"
            ).fetchall()
        return head, [_read(data, acknowledged) for data, acknowledged in rows]

    def trace_id(self, issue_id: str) -> str:
        with self._file.snapshot() as conn:
            row = conn.execute("SELECT trace_id FROM issues WHERE issue_id = ?", (issue_id,)).fetchone()
        return str(row[0]) if row else ""

    def quarantined_now(self) -> list[QuarantineEntry]:
        """What is held back as of the last day end."""
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT data FROM quarantine_now ORDER BY subject_kind, subject, vendor"
            ).fetchall()
        return [entry_from_json(json.loads(data)) for (data,) in rows]

    def rejected_on(self, date: dt.date) -> list[QuarantineEntry]:
        """Every value of that business date dq rejected."""
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT data FROM rejected WHERE value_date = ? ORDER BY subject_kind, subject, vendor",
                (date.isoformat(),),
            ).fetchall()
        return [entry_from_json(json.loads(data)) for (data,) in rows]

    def counts(self) -> list[CheckCount]:
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT check_id, checked, failed, last_checked_at FROM check_counts ORDER BY check_id"
            ).fetchall()
        return [
            CheckCount(check_id, int(checked), int(failed), dt.datetime.fromisoformat(at) if at else None)
            for check_id, checked, failed, at in rows
        ]

    def open_by_severity(self) -> dict[Severity, int]:
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT severity, COUNT(*) FROM issues WHERE status = 'OPEN' GROUP BY severity"
            ).fetchall()
        by_rank = {rank: severity for severity, rank in SEVERITY_RANK.items()}
        return {by_rank[int(rank)]: int(count) for rank, count in rows}


def _read(data: str, acknowledged: int) -> Issue:
    issue = issue_from_json(json.loads(data))
    if acknowledged and issue.status is IssueStatus.OPEN and not issue.acknowledged:
        return replace(issue, acknowledged=True)
    return issue


def _where(where: IssueFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []

    def among(column: str, values: Iterable[str]) -> None:
        chosen = sorted(values)
        clauses.append(f"{column} IN ({', '.join('?' * len(chosen))})")
        params.extend(chosen)

    if where.kinds:
        among("kind", (k.value for k in where.kinds))
    if where.min_severity is not None:
        clauses.append("severity >= ?")
        params.append(SEVERITY_RANK[where.min_severity])
    if where.statuses:
        clauses.append("(" + " OR ".join(STATUS_CLAUSES[status] for status in sorted(where.statuses)) + ")")
    if where.subject_kind is not None:
        clauses.append("subject_kind = ?")
        params.append(where.subject_kind.value)
    if where.subject:
        clauses.append("subject = ?")
        params.append(where.subject)
    if where.first_date is not None:
        clauses.append("value_date >= ?")
        params.append(where.first_date.isoformat())
    if where.last_date is not None:
        clauses.append("value_date <= ?")
        params.append(where.last_date.isoformat())
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def open_store(service_dir: pathlib.Path) -> DqStore:
    return DqStore(service_dir / SQLITE_FILE)


def counts_by_id(counts: Iterable[CheckCount]) -> Mapping[str, CheckCount]:
    return {c.check_id: c for c in counts}
