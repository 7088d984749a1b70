"""documents' storage: the book's fills it matches against, the extractions it made, the policies it
answers from, and two outboxes (event-log records, breaks owed to recon), in one SQLite file.

Following market: each batch of events is committed with the cursor in one transaction, so a
restart resumes after the last batch stored and applies nothing twice (a fill is keyed by its id,
an extraction of a market confirmation by the confirmation's event id). An extraction and what it
owes (its event-log record, the break a mismatch raises) commit together; the relays deliver them
after the commit and at start-up, so a crash between the two loses nothing.

Policies: each version is a row (its passages and their embedding vectors with it, so a restart
does not embed the corpus again); a new version of a policy marks the previous one superseded.
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.common.eventlog import NewRecord
from services.common.eventlog.outbox import record_from_json, record_to_json
from services.common.sqlite import SqliteFile, migrate_schema
from services.documents.domain.matching import BookFill

SQLITE_FILE = "documents.sqlite3"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE documents_state (id INTEGER PRIMARY KEY CHECK (id = 1), cursor INTEGER NOT NULL)",
        "INSERT INTO documents_state (id, cursor) VALUES (1, 0)",
        """CREATE TABLE fills (
            fill_id TEXT PRIMARY KEY,
            mandate_id TEXT NOT NULL,
            instrument_id TEXT NOT NULL,
            side TEXT NOT NULL,
            quantity TEXT NOT NULL,
            price TEXT NOT NULL,
            trade_date TEXT NOT NULL,
            settle_date TEXT NOT NULL,
            currency TEXT NOT NULL,
            event_id TEXT NOT NULL,
            confirmation_id TEXT NOT NULL DEFAULT '',
            confirmation_event_id TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX fills_by_date ON fills (trade_date)",
        "CREATE INDEX fills_by_confirmation ON fills (confirmation_id)",
        """CREATE TABLE extractions (
            number INTEGER PRIMARY KEY,
            extraction_id TEXT NOT NULL UNIQUE,
            content_sha256 TEXT NOT NULL,
            source TEXT NOT NULL,
            created_at TEXT NOT NULL,
            response BLOB NOT NULL
        )""",
        "CREATE INDEX extractions_by_sha ON extractions (content_sha256)",
        """CREATE TABLE log_outbox (
            outbox_id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL,
            record TEXT NOT NULL
        )""",
        """CREATE TABLE break_outbox (
            outbox_id INTEGER PRIMARY KEY,
            extraction_id TEXT NOT NULL,
            request BLOB NOT NULL
        )""",
        """CREATE TABLE policies (
            policy_id TEXT NOT NULL,
            version TEXT NOT NULL,
            title TEXT NOT NULL,
            effective_date TEXT,
            content_type TEXT NOT NULL,
            content_sha256 TEXT NOT NULL,
            ingested_at TEXT NOT NULL,
            superseded_by TEXT NOT NULL DEFAULT '',
            shipped INTEGER NOT NULL,
            source TEXT NOT NULL,
            passage_count INTEGER NOT NULL,
            vectors BLOB NOT NULL,
            PRIMARY KEY (policy_id, version)
        )""",
    ),
)


class DocumentsStoreError(RuntimeError):
    """The store cannot be used (closed, or a file from a newer release)."""


@dataclass(frozen=True)
class PolicyRow:
    policy_id: str
    version: str
    title: str
    effective_date: dt.date | None
    content_type: str
    content_sha256: str
    ingested_at: dt.datetime
    superseded_by: str
    shipped: bool
    # What the passages are parsed from again at start-up: the Markdown text, or a PDF's page texts
    # as a JSON list (the PDF itself is not kept).
    source: str
    passage_count: int
    vectors: bytes  # float32 rows, one per passage, in the parse's order


@dataclass(frozen=True)
class KeptConfirmation:
    """A confirmation market sent: the fill it confirms and the event that carried it."""

    confirmation_id: str
    fill_id: str
    event_id: str


def _fill_row(fill: BookFill, event_id: str) -> tuple[object, ...]:
    return (
        fill.fill_id,
        fill.mandate_id,
        fill.instrument_id,
        fill.side,
        str(fill.quantity),
        str(fill.price),
        fill.trade_date.isoformat(),
        fill.settle_date.isoformat(),
        fill.currency,
        event_id,
    )


def _fill_of(row: sqlite3.Row | tuple[object, ...]) -> BookFill:
    (fill_id, mandate, instrument, side, quantity, price, trade, settle, currency, confirmation) = row
    return BookFill(
        fill_id=str(fill_id),
        mandate_id=str(mandate),
        instrument_id=str(instrument),
        side=str(side),
        quantity=Decimal(str(quantity)),
        price=Decimal(str(price)),
        trade_date=dt.date.fromisoformat(str(trade)),
        settle_date=dt.date.fromisoformat(str(settle)),
        currency=str(currency),
        confirmation_id=str(confirmation),
    )


_FILL_COLUMNS = "fill_id, mandate_id, instrument_id, side, quantity, price, trade_date, settle_date, currency, confirmation_id"


class DocumentsStore:
    def __init__(self, path: pathlib.Path) -> None:
        self._file = SqliteFile(
            path,
            migrate=lambda conn: migrate_schema(
                conn,
                MIGRATIONS,
                lambda found, known: DocumentsStoreError(
                    f"{path} has schema version {found}; this release knows up to {known}"
                ),
            ),
            closed_error=lambda: DocumentsStoreError("the documents store is closed"),
        )

    # ------------------------------------------------------------ following market

    def cursor(self) -> int:
        with self._file.snapshot() as conn:
            return int(conn.execute("SELECT cursor FROM documents_state").fetchone()[0])

    def commit_batch(
        self,
        cursor: int,
        fills: Sequence[tuple[BookFill, str]],
        confirmations: Sequence[KeptConfirmation],
        extractions: Sequence[tuple[str, str, str, dt.datetime, bytes]] = (),
        records: Sequence[NewRecord] = (),
        breaks: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """One batch of market's events: its fills (with their event ids), the confirmations of
        fills, the extractions made of them (id, sha256, source, created, response), what they owe,
        and the cursor, in one transaction."""
        with self._file.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO fills (fill_id, mandate_id, instrument_id, side, quantity, price,"
                " trade_date, settle_date, currency, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_fill_row(fill, event_id) for fill, event_id in fills],
            )
            conn.executemany(
                "UPDATE fills SET confirmation_id = ?, confirmation_event_id = ? WHERE fill_id = ?",
                [(c.confirmation_id, c.event_id, c.fill_id) for c in confirmations],
            )
            self._insert_extractions(conn, extractions, records, breaks)
            conn.execute("UPDATE documents_state SET cursor = ?", (cursor,))

    def fill(self, fill_id: str) -> BookFill | None:
        with self._file.snapshot() as conn:
            row = conn.execute(f"SELECT {_FILL_COLUMNS} FROM fills WHERE fill_id = ?", (fill_id,)).fetchone()
        return _fill_of(row) if row is not None else None

    def fill_event_id(self, fill_id: str) -> str:
        with self._file.snapshot() as conn:
            row = conn.execute("SELECT event_id FROM fills WHERE fill_id = ?", (fill_id,)).fetchone()
        return str(row[0]) if row is not None else ""

    def fill_by_confirmation(self, confirmation_id: str) -> BookFill | None:
        with self._file.snapshot() as conn:
            row = conn.execute(
                f"SELECT {_FILL_COLUMNS} FROM fills WHERE confirmation_id = ?", (confirmation_id,)
            ).fetchone()
        return _fill_of(row) if row is not None else None

    def fills_on(self, trade_dates: Iterable[dt.date]) -> list[BookFill]:
        dates = sorted({d.isoformat() for d in trade_dates})
        if not dates:
            return []
        marks = ", ".join("?" for _ in dates)
        with self._file.snapshot() as conn:
            rows = conn.execute(
                f"SELECT {_FILL_COLUMNS} FROM fills WHERE trade_date IN ({marks}) ORDER BY fill_id", dates
            ).fetchall()
        return [_fill_of(row) for row in rows]

    def fill_count(self) -> int:
        with self._file.snapshot() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM fills").fetchone()[0])

    # ------------------------------------------------------------ extractions and their outboxes

    def record_extraction(
        self,
        extraction_id: str,
        content_sha256: str,
        source: str,
        created_at: dt.datetime,
        response: bytes,
        records: Sequence[NewRecord] = (),
        breaks: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        with self._file.write() as conn:
            self._insert_extractions(
                conn, [(extraction_id, content_sha256, source, created_at, response)], records, breaks
            )

    @staticmethod
    def _insert_extractions(
        conn: sqlite3.Connection,
        extractions: Sequence[tuple[str, str, str, dt.datetime, bytes]],
        records: Sequence[NewRecord],
        breaks: Sequence[tuple[str, bytes]],
    ) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO extractions (extraction_id, content_sha256, source, created_at, response)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (eid, sha, source, created.isoformat(), response)
                for eid, sha, source, created, response in extractions
            ],
        )
        conn.executemany(
            "INSERT INTO log_outbox (event_id, record) VALUES (?, ?)",
            [(r.event_id, json.dumps(record_to_json(r), separators=(",", ":"))) for r in records],
        )
        conn.executemany("INSERT INTO break_outbox (extraction_id, request) VALUES (?, ?)", list(breaks))

    def extraction(self, extraction_id: str) -> bytes | None:
        with self._file.snapshot() as conn:
            row = conn.execute(
                "SELECT response FROM extractions WHERE extraction_id = ?", (extraction_id,)
            ).fetchone()
        return bytes(row[0]) if row is not None else None

    def update_extraction(self, extraction_id: str, response: bytes) -> None:
        with self._file.write() as conn:
            conn.execute(
                "UPDATE extractions SET response = ? WHERE extraction_id = ?", (response, extraction_id)
            )

    def extraction_count(self) -> int:
        with self._file.snapshot() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM extractions").fetchone()[0])

    def undelivered(self, limit: int) -> list[tuple[int, NewRecord]]:
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT outbox_id, record FROM log_outbox ORDER BY outbox_id LIMIT ?", (limit,)
            ).fetchall()
        return [(int(outbox_id), record_from_json(json.loads(text))) for outbox_id, text in rows]

    def mark_delivered(self, outbox_ids: list[int]) -> None:
        with self._file.write() as conn:
            conn.executemany("DELETE FROM log_outbox WHERE outbox_id = ?", [(i,) for i in outbox_ids])

    def breaks_owed(self, limit: int) -> list[tuple[int, str, bytes]]:
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT outbox_id, extraction_id, request FROM break_outbox ORDER BY outbox_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [(int(i), str(e), bytes(r)) for i, e, r in rows]

    def break_raised(self, outbox_id: int) -> None:
        with self._file.write() as conn:
            conn.execute("DELETE FROM break_outbox WHERE outbox_id = ?", (outbox_id,))

    # ------------------------------------------------------------ policies

    def policies(self, include_superseded: bool = False) -> list[PolicyRow]:
        where = "" if include_superseded else "WHERE superseded_by = ''"
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT policy_id, version, title, effective_date, content_type, content_sha256, ingested_at,"
                f" superseded_by, shipped, source, passage_count, vectors FROM policies {where}"
                " ORDER BY policy_id, ingested_at"
            ).fetchall()
        return [
            PolicyRow(
                policy_id=str(r[0]),
                version=str(r[1]),
                title=str(r[2]),
                effective_date=dt.date.fromisoformat(r[3]) if r[3] else None,
                content_type=str(r[4]),
                content_sha256=str(r[5]),
                ingested_at=dt.datetime.fromisoformat(str(r[6])),
                superseded_by=str(r[7]),
                shipped=bool(r[8]),
                source=str(r[9]),
                passage_count=int(r[10]),
                vectors=bytes(r[11]),
            )
            for r in rows
        ]

    def store_policy(self, row: PolicyRow) -> None:
        """A new version: stored, and every older current version of the same policy superseded by it."""
        with self._file.write() as conn:
            conn.execute(
                "UPDATE policies SET superseded_by = ? WHERE policy_id = ? AND superseded_by = '' AND version != ?",
                (row.version, row.policy_id, row.version),
            )
            conn.execute(
                "INSERT OR REPLACE INTO policies (policy_id, version, title, effective_date, content_type,"
                " content_sha256, ingested_at, superseded_by, shipped, source, passage_count, vectors)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?)",
                (
                    row.policy_id,
                    row.version,
                    row.title,
                    row.effective_date.isoformat() if row.effective_date else None,
                    row.content_type,
                    row.content_sha256,
                    row.ingested_at.isoformat(),
                    int(row.shipped),
                    row.source,
                    row.passage_count,
                    row.vectors,
                ),
            )

    def close(self) -> None:
        self._file.close()


def open_store(directory: pathlib.Path) -> DocumentsStore:
    return DocumentsStore(directory / SQLITE_FILE)
