"""The embedded ledger store: one SQLite file in WAL mode.

Money and quantities are INTEGER micro-units (x 10^6). The database itself refuses what would break
the ledger's invariants: postings are inserted first and the journal header last, and the header's
BEFORE INSERT trigger checks the postings sum to zero per currency and in base; postings for a
stored header, and any UPDATE or DELETE of journals or postings, are refused by triggers; postings
reference their header through a deferred foreign key, so postings without a header fail at commit.

One writer connection behind a lock (BEGIN IMMEDIATE also serialises writers of other processes)
and one read connection per thread, so readers never wait for the writer.
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import uuid6

from services.common.sqlite import SqliteFile, migrate_schema
from services.ledger.domain.records import Account, BalanceLine, Journal, JournalDraft, JournalKind, Posting
from services.ledger.store import batch
from services.ledger.store.base import LedgerFilter, PostResult, TrialBalanceResult
from services.ledger.store.errors import (
    ClosedAccount,
    LedgerStoreError,
    OutOfRange,
    SchemaTooNew,
    Unbalanced,
    UnknownAccount,
)

_IN_CHUNK = 500  # SQLite's bound-parameter limit is 32766; stay far below it
_UNBALANCED = "ledger: journal does not balance"
_IMMUTABLE = "ledger: journals and postings are immutable"

# Each migration takes the schema from version i to i+1; never edit one that shipped, append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE ledger_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_seq INTEGER NOT NULL,
            cursor INTEGER NOT NULL,
            state TEXT
        )""",
        "INSERT INTO ledger_state (id, last_seq, cursor, state) VALUES (1, 0, 0, NULL)",
        """CREATE TABLE accounts (
            mandate_id TEXT NOT NULL,
            name TEXT NOT NULL,
            currency TEXT NOT NULL,
            opened_on TEXT NOT NULL,
            instrument_id TEXT NOT NULL,
            closed_on TEXT,
            description TEXT NOT NULL,
            PRIMARY KEY (mandate_id, name)
        ) WITHOUT ROWID""",
        """CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
           BEGIN SELECT RAISE(ABORT, 'ledger: accounts are never deleted'); END""",
        # The chart only ever closes an account, or opens it earlier for a backdated first use.
        """CREATE TRIGGER accounts_only_close BEFORE UPDATE ON accounts
           WHEN NEW.mandate_id IS NOT OLD.mandate_id OR NEW.name IS NOT OLD.name
             OR NEW.currency IS NOT OLD.currency OR NEW.instrument_id IS NOT OLD.instrument_id
             OR NEW.description IS NOT OLD.description OR NEW.opened_on > OLD.opened_on
             OR (OLD.closed_on IS NOT NULL AND NEW.closed_on IS NOT OLD.closed_on)
           BEGIN SELECT RAISE(ABORT, 'ledger: an account may only be closed'); END""",
        """CREATE TABLE journals (
            ledger_seq INTEGER PRIMARY KEY,
            journal_id TEXT NOT NULL UNIQUE,
            idempotency_key TEXT NOT NULL UNIQUE,
            content_hash TEXT NOT NULL,
            mandate_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            effective_date TEXT NOT NULL,
            sim_time_us INTEGER NOT NULL,
            posted_at_us INTEGER NOT NULL,
            memo TEXT NOT NULL,
            source_event_id TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            caused_by TEXT NOT NULL,
            posted_by TEXT NOT NULL,
            reverses_journal_id TEXT NOT NULL,
            reversal_reason TEXT NOT NULL,
            posting_count INTEGER NOT NULL CHECK (posting_count > 0)
        )""",
        "CREATE INDEX journals_by_mandate ON journals (mandate_id, ledger_seq)",
        "CREATE INDEX journals_by_source ON journals (source_event_id) WHERE source_event_id != ''",
        "CREATE INDEX journals_by_trace ON journals (trace_id) WHERE trace_id != ''",
        # A journal is reversed at most once, whatever the code above does.
        """CREATE UNIQUE INDEX journals_reversal ON journals (reverses_journal_id)
           WHERE reverses_journal_id != ''""",
        """CREATE TABLE postings (
            ledger_seq INTEGER NOT NULL REFERENCES journals (ledger_seq) DEFERRABLE INITIALLY DEFERRED,
            posting_no INTEGER NOT NULL,
            mandate_id TEXT NOT NULL,
            account TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (typeof(amount) = 'integer'),
            base_amount INTEGER NOT NULL CHECK (typeof(base_amount) = 'integer'),
            quantity INTEGER CHECK (quantity IS NULL OR typeof(quantity) = 'integer'),
            instrument_id TEXT NOT NULL,
            lot_id TEXT NOT NULL,
            memo TEXT NOT NULL,
            PRIMARY KEY (ledger_seq, posting_no)
        ) WITHOUT ROWID""",
        "CREATE INDEX postings_by_account ON postings (account, ledger_seq)",
        f"""CREATE TRIGGER postings_before_header BEFORE INSERT ON postings
           WHEN EXISTS (SELECT 1 FROM journals WHERE ledger_seq = NEW.ledger_seq)
           BEGIN SELECT RAISE(ABORT, '{_IMMUTABLE}'); END""",
        f"""CREATE TRIGGER journals_balanced BEFORE INSERT ON journals
           WHEN (SELECT COUNT(*) FROM postings WHERE ledger_seq = NEW.ledger_seq) != NEW.posting_count
             OR EXISTS (SELECT 1 FROM postings WHERE ledger_seq = NEW.ledger_seq
                        AND mandate_id != NEW.mandate_id)
             OR EXISTS (SELECT 1 FROM postings WHERE ledger_seq = NEW.ledger_seq
                        GROUP BY currency HAVING SUM(amount) != 0)
             OR (SELECT SUM(base_amount) FROM postings WHERE ledger_seq = NEW.ledger_seq) != 0
           BEGIN SELECT RAISE(ABORT, '{_UNBALANCED}'); END""",
        *(
            f"""CREATE TRIGGER {table}_never_{verb.lower()}d BEFORE {verb} ON {table}
               BEGIN SELECT RAISE(ABORT, '{_IMMUTABLE}'); END"""
            for table in ("journals", "postings")
            for verb in ("UPDATE", "DELETE")
        ),
        # Cumulative totals up to and including effective_date, per (mandate, account, currency).
        """CREATE TABLE balances (
            mandate_id TEXT NOT NULL,
            account TEXT NOT NULL,
            currency TEXT NOT NULL,
            effective_date TEXT NOT NULL,
            debit INTEGER NOT NULL,
            credit INTEGER NOT NULL,
            base_debit INTEGER NOT NULL,
            base_credit INTEGER NOT NULL,
            quantity INTEGER,
            -- an overflowing running total turns REAL in SQLite: refuse it rather than lose cents
            CHECK (typeof(debit) = 'integer' AND typeof(credit) = 'integer'
                   AND typeof(base_debit) = 'integer' AND typeof(base_credit) = 'integer'
                   AND (quantity IS NULL OR typeof(quantity) = 'integer')),
            PRIMARY KEY (mandate_id, account, currency, effective_date)
        ) WITHOUT ROWID""",
        # Which (account, currency) pairs have balances: a trial balance reads one row per pair.
        """CREATE TABLE balance_keys (
            mandate_id TEXT NOT NULL,
            account TEXT NOT NULL,
            currency TEXT NOT NULL,
            PRIMARY KEY (mandate_id, account, currency)
        ) WITHOUT ROWID""",
        # Cumulative journal and posting counts (and highest ledger_seq) up to and including the date.
        """CREATE TABLE day_totals (
            mandate_id TEXT NOT NULL,
            effective_date TEXT NOT NULL,
            journal_count INTEGER NOT NULL,
            posting_count INTEGER NOT NULL,
            max_seq INTEGER NOT NULL,
            PRIMARY KEY (mandate_id, effective_date)
        ) WITHOUT ROWID""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the file's schema to SCHEMA_VERSION; returns the version found before."""
    return migrate_schema(
        conn,
        MIGRATIONS,
        lambda found, known: SchemaTooNew(f"ledger schema version {found} is newer than this code ({known})"),
    )


def _micros_of_time(value: dt.datetime) -> int:
    """UTC microseconds since the epoch; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _time_of_micros(micros: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)


def _optional_micros(value: Decimal | None) -> int | None:
    return None if value is None else batch.to_micros(value)


def _optional_decimal(micros: int | None) -> Decimal | None:
    return None if micros is None else batch.from_micros(micros)


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(count: int) -> str:
    return ",".join("?" * count)


_JOURNAL_COLUMNS = (
    "j.ledger_seq, j.journal_id, j.posted_at_us, j.mandate_id, j.kind, j.effective_date, j.sim_time_us,"
    " j.idempotency_key, j.memo, j.source_event_id, j.trace_id, j.caused_by, j.posted_by,"
    " j.reverses_journal_id, j.reversal_reason,"
    " IFNULL((SELECT r.journal_id FROM journals AS r"
    "  WHERE r.reverses_journal_id = j.journal_id AND r.reverses_journal_id != ''), '')"
)
_POSTING_COLUMNS = "ledger_seq, account, amount, currency, base_amount, quantity, instrument_id, lot_id, memo"
_LINE_COLUMNS = "b.debit, b.credit, b.base_debit, b.base_credit, b.quantity"


def _line(account: str, currency: str, row: Sequence[Any], instrument_id: str) -> BalanceLine:
    debit, credit, base_debit, base_credit, quantity = row
    return BalanceLine(
        account=account,
        currency=currency,
        debit_total=batch.from_micros(debit),
        credit_total=batch.from_micros(credit),
        base_debit_total=batch.from_micros(base_debit),
        base_credit_total=batch.from_micros(base_credit),
        quantity=_optional_decimal(quantity),
        instrument_id=instrument_id,
    )


def _account_of_row(row: Sequence[Any]) -> Account:
    mandate_id, name, currency, opened_on, instrument_id, closed_on, description = row
    return Account(
        mandate_id=mandate_id,
        name=name,
        currency=currency,
        opened_on=dt.date.fromisoformat(opened_on),
        instrument_id=instrument_id,
        closed_on=None if closed_on is None else dt.date.fromisoformat(closed_on),
        description=description,
    )


def _enforce_foreign_keys(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys=ON")


class SqliteLedgerStore:
    """LedgerStore on one SQLite file; the file and its parent directory are created when missing."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        self._db = SqliteFile(
            self.path,
            migrate=migrate,
            closed_error=lambda: LedgerStoreError("ledger store is closed"),
            prepare=_enforce_foreign_keys,
        )

    # ------------------------------------------------------------------ connections

    def _snapshot(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.snapshot()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.write()

    # ------------------------------------------------------------------ writing

    def post(
        self,
        drafts: Sequence[JournalDraft],
        *,
        open_missing: bool,
        cursor: int | None = None,
        state: str | None = None,
    ) -> list[PostResult]:
        drafts = list(drafts)
        for draft in drafts:
            batch.check_draft(draft)
        posted_at = dt.datetime.now(dt.UTC)
        new_drafts: list[JournalDraft] = []
        try:
            with self._write() as conn:
                last_seq = conn.execute("SELECT last_seq FROM ledger_state WHERE id = 1").fetchone()[0]
                plan = batch.plan_keys(drafts, self._stored_keys(conn, drafts), last_seq + 1)
                new_drafts = [drafts[index] for index in plan.new]
                accounts = batch.plan_accounts(
                    new_drafts, self._existing_accounts(conn, new_drafts), open_missing=open_missing
                )
                batch.check_reversals(new_drafts, self._reversal_targets(conn, new_drafts))
                ids = [str(uuid6.uuid7()) for _ in new_drafts]
                seqs = [last_seq + 1 + offset for offset in range(len(new_drafts))]
                self._write_accounts(conn, accounts)
                self._write_journals(
                    conn, new_drafts, seqs, ids, [plan.hashes[i] for i in plan.new], posted_at
                )
                self._write_balances(conn, new_drafts, seqs)
                conn.execute(
                    "UPDATE ledger_state SET last_seq = ?, cursor = IFNULL(?, cursor),"
                    " state = CASE WHEN ? THEN ? ELSE state END WHERE id = 1",
                    (last_seq + len(new_drafts), cursor, state is not None, state),
                )
                replayed = self._load(
                    conn, sorted({s for s in plan.replays if s is not None and s <= last_seq})
                )
        except sqlite3.IntegrityError as error:
            raise self._refusal(error, new_drafts) from error
        except sqlite3.OperationalError as error:
            if "integer overflow" in str(error):
                raise OutOfRange(f"a running total is out of the ledger's range: {error}") from error
            raise
        fresh = {
            seq: Journal(journal_id=jid, ledger_seq=seq, posted_at=posted_at, draft=draft)
            for seq, jid, draft in zip(seqs, ids, new_drafts, strict=True)
        }
        return batch.results(plan, last_seq, fresh, replayed)

    @staticmethod
    def _refusal(error: sqlite3.IntegrityError, new_drafts: Sequence[JournalDraft]) -> LedgerStoreError:
        text = str(error)
        if _UNBALANCED in text:
            return Unbalanced(batch.imbalance_of(new_drafts), text)
        if "CHECK constraint failed" in text:
            return OutOfRange(f"a running total is out of the ledger's range ({text})")
        return LedgerStoreError(f"the database refused the batch: {text}")

    @staticmethod
    def _stored_keys(conn: sqlite3.Connection, drafts: Sequence[JournalDraft]) -> dict[str, batch.StoredKey]:
        keys = sorted({draft.idempotency_key for draft in drafts})
        found: dict[str, batch.StoredKey] = {}
        for chunk in _chunks(keys):
            for key, seq, journal_id, digest in conn.execute(
                "SELECT idempotency_key, ledger_seq, journal_id, content_hash FROM journals"
                f" WHERE idempotency_key IN ({_marks(len(chunk))})",
                chunk,
            ):
                found[key] = batch.StoredKey(seq, journal_id, digest)
        return found

    @staticmethod
    def _existing_accounts(
        conn: sqlite3.Connection, drafts: Sequence[JournalDraft]
    ) -> dict[batch.AccountKey, Account]:
        names: dict[str, set[str]] = {}
        for draft in drafts:
            names.setdefault(draft.mandate_id, set()).update(p.account for p in draft.postings)
        found: dict[batch.AccountKey, Account] = {}
        for mandate_id, accounts in names.items():
            for chunk in _chunks(sorted(accounts)):
                for row in conn.execute(
                    "SELECT mandate_id, name, currency, opened_on, instrument_id, closed_on, description"
                    f" FROM accounts WHERE mandate_id = ? AND name IN ({_marks(len(chunk))})",
                    (mandate_id, *chunk),
                ):
                    account = _account_of_row(row)
                    found[(account.mandate_id, account.name)] = account
        return found

    @staticmethod
    def _reversal_targets(
        conn: sqlite3.Connection, drafts: Sequence[JournalDraft]
    ) -> dict[str, batch.StoredJournalRef]:
        targets = sorted({d.reverses_journal_id for d in drafts if d.reverses_journal_id})
        found: dict[str, batch.StoredJournalRef] = {}
        for chunk in _chunks(targets):
            for journal_id, mandate_id, reversed_by in conn.execute(
                "SELECT j.journal_id, j.mandate_id, IFNULL((SELECT r.journal_id FROM journals AS r"
                "  WHERE r.reverses_journal_id = j.journal_id AND r.reverses_journal_id != ''), '')"
                f" FROM journals AS j WHERE j.journal_id IN ({_marks(len(chunk))})",
                chunk,
            ):
                found[journal_id] = batch.StoredJournalRef(mandate_id, reversed_by)
        return found

    @staticmethod
    def _write_accounts(conn: sqlite3.Connection, plan: batch.AccountPlan) -> None:
        conn.executemany(
            "INSERT INTO accounts (mandate_id, name, currency, opened_on, instrument_id, closed_on,"
            " description) VALUES (?, ?, ?, ?, ?, NULL, ?)",
            [
                (a.mandate_id, a.name, a.currency, a.opened_on.isoformat(), a.instrument_id, a.description)
                for a in plan.opened.values()
            ],
        )
        conn.executemany(
            "UPDATE accounts SET opened_on = ? WHERE mandate_id = ? AND name = ?",
            [(day.isoformat(), mandate_id, name) for (mandate_id, name), day in plan.earlier.items()],
        )

    @staticmethod
    def _write_journals(
        conn: sqlite3.Connection,
        drafts: Sequence[JournalDraft],
        seqs: Sequence[int],
        ids: Sequence[str],
        hashes: Sequence[str],
        posted_at: dt.datetime,
    ) -> None:
        # Postings first: the header's trigger checks them, and refuses postings that come after it.
        conn.executemany(
            "INSERT INTO postings (ledger_seq, posting_no, mandate_id, account, currency, amount,"
            " base_amount, quantity, instrument_id, lot_id, memo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    seq,
                    number,
                    draft.mandate_id,
                    p.account,
                    p.currency,
                    batch.to_micros(p.amount),
                    batch.to_micros(p.base_amount),  # type: ignore[arg-type]  # checked by check_draft
                    _optional_micros(p.quantity),
                    p.instrument_id,
                    p.lot_id,
                    p.memo,
                )
                for seq, draft in zip(seqs, drafts, strict=True)
                for number, p in enumerate(draft.postings)
            ],
        )
        posted_us = _micros_of_time(posted_at)
        conn.executemany(
            "INSERT INTO journals (ledger_seq, journal_id, idempotency_key, content_hash, mandate_id, kind,"
            " effective_date, sim_time_us, posted_at_us, memo, source_event_id, trace_id, caused_by,"
            " posted_by, reverses_journal_id, reversal_reason, posting_count)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    seq,
                    journal_id,
                    draft.idempotency_key,
                    digest,
                    draft.mandate_id,
                    str(draft.kind),
                    draft.effective_date.isoformat(),
                    _micros_of_time(draft.sim_time),
                    posted_us,
                    draft.memo,
                    draft.source_event_id,
                    draft.trace_id,
                    json.dumps(list(draft.caused_by)),
                    draft.posted_by,
                    draft.reverses_journal_id,
                    draft.reversal_reason,
                    len(draft.postings),
                )
                for seq, journal_id, digest, draft in zip(seqs, ids, hashes, drafts, strict=True)
            ],
        )

    @staticmethod
    def _write_balances(
        conn: sqlite3.Connection, drafts: Sequence[JournalDraft], seqs: Sequence[int]
    ) -> None:
        """Add the batch to the cumulative tables: insert each missing (key, date) row as a copy of the
        latest earlier row, then add the deltas to every row on or after the date. All inserts come
        before all updates, so each inserted row holds the pre-batch total at its date."""
        deltas = batch.balance_deltas(drafts)
        keys = sorted({(m, a, c) for m, a, c, _ in deltas})
        conn.executemany(
            "INSERT INTO balance_keys (mandate_id, account, currency) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            keys,
        )
        rows = [(m, a, c, d.isoformat(), delta) for (m, a, c, d), delta in sorted(deltas.items())]
        conn.executemany(
            "INSERT INTO balances (mandate_id, account, currency, effective_date, debit, credit,"
            " base_debit, base_credit, quantity)"
            " SELECT ?1, ?2, ?3, ?4, IFNULL(p.debit, 0), IFNULL(p.credit, 0), IFNULL(p.base_debit, 0),"
            " IFNULL(p.base_credit, 0), p.quantity"
            " FROM (SELECT 1) LEFT JOIN (SELECT debit, credit, base_debit, base_credit, quantity"
            "  FROM balances WHERE mandate_id = ?1 AND account = ?2 AND currency = ?3 AND effective_date < ?4"
            "  ORDER BY effective_date DESC LIMIT 1) AS p"
            " WHERE true ON CONFLICT DO NOTHING",
            [(m, a, c, d) for m, a, c, d, _ in rows],
        )
        conn.executemany(
            "UPDATE balances SET debit = debit + ?5, credit = credit + ?6, base_debit = base_debit + ?7,"
            " base_credit = base_credit + ?8,"
            " quantity = CASE WHEN ?9 IS NULL THEN quantity ELSE IFNULL(quantity, 0) + ?9 END"
            " WHERE mandate_id = ?1 AND account = ?2 AND currency = ?3 AND effective_date >= ?4",
            [
                (
                    m,
                    a,
                    c,
                    d,
                    batch.to_micros(delta.debit),
                    batch.to_micros(delta.credit),
                    batch.to_micros(delta.base_debit),
                    batch.to_micros(delta.base_credit),
                    _optional_micros(delta.quantity),
                )
                for m, a, c, d, delta in rows
            ],
        )
        days = sorted(batch.day_deltas(zip(seqs, drafts, strict=True)).items())
        conn.executemany(
            "INSERT INTO day_totals (mandate_id, effective_date, journal_count, posting_count, max_seq)"
            " SELECT ?1, ?2, IFNULL(p.journal_count, 0), IFNULL(p.posting_count, 0), IFNULL(p.max_seq, 0)"
            " FROM (SELECT 1) LEFT JOIN (SELECT journal_count, posting_count, max_seq FROM day_totals"
            "  WHERE mandate_id = ?1 AND effective_date < ?2 ORDER BY effective_date DESC LIMIT 1) AS p"
            " WHERE true ON CONFLICT DO NOTHING",
            [(m, d.isoformat()) for (m, d), _ in days],
        )
        conn.executemany(
            "UPDATE day_totals SET journal_count = journal_count + ?3, posting_count = posting_count + ?4,"
            " max_seq = max(max_seq, ?5) WHERE mandate_id = ?1 AND effective_date >= ?2",
            [(m, d.isoformat(), day.journals, day.postings, day.max_seq) for (m, d), day in days],
        )

    def open_accounts(self, accounts: Sequence[Account]) -> int:
        existing = {(a.mandate_id, a.name) for a in self.accounts(include_closed=True)}
        plan = batch.AccountPlan(
            opened={(a.mandate_id, a.name): a for a in accounts if (a.mandate_id, a.name) not in existing}
        )
        if plan.opened:
            with self._write() as conn:
                self._write_accounts(conn, plan)
        return len(plan.opened)

    def close_account(self, mandate_id: str, name: str, closed_on: dt.date) -> None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT closed_on FROM accounts WHERE mandate_id = ? AND name = ?", (mandate_id, name)
            ).fetchone()
            if row is None:
                raise UnknownAccount(name, mandate_id)
            if row[0] is not None:
                raise ClosedAccount(name, mandate_id, dt.date.fromisoformat(row[0]))
            conn.execute(
                "UPDATE accounts SET closed_on = ? WHERE mandate_id = ? AND name = ?",
                (closed_on.isoformat(), mandate_id, name),
            )

    # ------------------------------------------------------------------ reading

    @staticmethod
    def _load(conn: sqlite3.Connection, seqs: Sequence[int]) -> dict[int, Journal]:
        """The journals with these ledger_seqs, with their postings and reversal links."""
        headers: list[Sequence[Any]] = []
        for chunk in _chunks(seqs):
            headers.extend(
                conn.execute(
                    f"SELECT {_JOURNAL_COLUMNS} FROM journals AS j WHERE j.ledger_seq IN ({_marks(len(chunk))})",
                    chunk,
                )
            )
        return SqliteLedgerStore._assemble(conn, headers)

    @staticmethod
    def _assemble(conn: sqlite3.Connection, headers: Sequence[Sequence[Any]]) -> dict[int, Journal]:
        postings: dict[int, list[Posting]] = {}
        seqs = [row[0] for row in headers]
        for chunk in _chunks(seqs):
            for seq, account, amount, currency, base, quantity, instrument, lot, memo in conn.execute(
                f"SELECT {_POSTING_COLUMNS} FROM postings WHERE ledger_seq IN ({_marks(len(chunk))})"
                " ORDER BY ledger_seq, posting_no",
                chunk,
            ):
                postings.setdefault(seq, []).append(
                    Posting(
                        account=account,
                        amount=batch.from_micros(amount),
                        currency=currency,
                        base_amount=batch.from_micros(base),
                        quantity=_optional_decimal(quantity),
                        instrument_id=instrument,
                        lot_id=lot,
                        memo=memo,
                    )
                )
        journals: dict[int, Journal] = {}
        for row in headers:
            (seq, journal_id, posted_us, mandate_id, kind, effective, sim_us, key, memo, source,
             trace, caused_by, posted_by, reverses, reason, reversed_by) = row  # fmt: skip
            draft = JournalDraft(
                mandate_id=mandate_id,
                kind=JournalKind(kind),
                effective_date=dt.date.fromisoformat(effective),
                sim_time=_time_of_micros(sim_us),
                postings=tuple(postings.get(seq, ())),
                idempotency_key=key,
                memo=memo,
                source_event_id=source,
                trace_id=trace,
                caused_by=tuple(json.loads(caused_by)),
                posted_by=posted_by,
                reverses_journal_id=reverses,
                reversal_reason=reason,
            )
            journals[seq] = Journal(
                journal_id=journal_id,
                ledger_seq=seq,
                posted_at=_time_of_micros(posted_us),
                draft=draft,
                reversed_by_journal_id=reversed_by,
            )
        return journals

    def load_cursor(self) -> tuple[int, str | None]:
        with self._snapshot() as conn:
            cursor, state = conn.execute("SELECT cursor, state FROM ledger_state WHERE id = 1").fetchone()
        return cursor, state

    def _one(self, where: str, value: str) -> Journal | None:
        with self._snapshot() as conn:
            headers = conn.execute(
                f"SELECT {_JOURNAL_COLUMNS} FROM journals AS j WHERE {where}", (value,)
            ).fetchall()
            journals = self._assemble(conn, headers)
        return next(iter(journals.values()), None)

    def get_journal(self, journal_id: str) -> Journal | None:
        return self._one("j.journal_id = ?", journal_id)

    def find_by_key(self, idempotency_key: str) -> Journal | None:
        return self._one("j.idempotency_key = ?", idempotency_key)

    def journals(self, flt: LedgerFilter, *, after_seq: int = 0, limit: int = 100) -> list[Journal]:
        if limit <= 0:
            return []
        where = ["j.ledger_seq > ?"]
        params: list[object] = [after_seq]
        if flt.mandate_id:
            where.append("j.mandate_id = ?")
            params.append(flt.mandate_id)
        if flt.date_from is not None:
            where.append("j.effective_date >= ?")
            params.append(flt.date_from.isoformat())
        if flt.date_to is not None:
            where.append("j.effective_date <= ?")
            params.append(flt.date_to.isoformat())
        if flt.source_event_id:
            where.append("j.source_event_id = ? AND j.source_event_id != ''")
            params.append(flt.source_event_id)
        if flt.trace_id:
            where.append("j.trace_id = ? AND j.trace_id != ''")
            params.append(flt.trace_id)
        if flt.kind is not None:
            where.append("j.kind = ?")
            params.append(str(flt.kind))
        if flt.account_prefix:
            exact, low, high = batch.prefix_range(flt.account_prefix)
            where.append(
                "j.ledger_seq IN (SELECT p.ledger_seq FROM postings AS p"
                " WHERE (p.account = ? OR (p.account >= ? AND p.account < ?)) AND p.ledger_seq > ?)"
            )
            params.extend([exact, low, high, after_seq])
        params.append(limit)
        with self._snapshot() as conn:
            headers = conn.execute(
                f"SELECT {_JOURNAL_COLUMNS} FROM journals AS j WHERE {' AND '.join(where)}"
                " ORDER BY j.ledger_seq LIMIT ?",
                params,
            ).fetchall()
            journals = self._assemble(conn, headers)
        return [journals[row[0]] for row in headers]

    def trial_balance(self, mandate_id: str, as_of: dt.date | None) -> TrialBalanceResult:
        until = (as_of or batch.END_OF_TIME).isoformat()
        with self._snapshot() as conn:
            rows = conn.execute(
                f"SELECT k.account, k.currency, {_LINE_COLUMNS}, a.instrument_id FROM balance_keys AS k"
                " JOIN balances AS b ON b.mandate_id = k.mandate_id AND b.account = k.account"
                "  AND b.currency = k.currency AND b.effective_date = (SELECT x.effective_date FROM balances AS x"
                "   WHERE x.mandate_id = k.mandate_id AND x.account = k.account AND x.currency = k.currency"
                "   AND x.effective_date <= ? ORDER BY x.effective_date DESC LIMIT 1)"
                " JOIN accounts AS a ON a.mandate_id = k.mandate_id AND a.name = k.account"
                " WHERE k.mandate_id = ? ORDER BY k.account, k.currency",
                (until, mandate_id),
            ).fetchall()
            day = conn.execute(
                "SELECT journal_count, posting_count, max_seq FROM day_totals"
                " WHERE mandate_id = ? AND effective_date <= ? ORDER BY effective_date DESC LIMIT 1",
                (mandate_id, until),
            ).fetchone()
        lines = tuple(_line(row[0], row[1], row[2:7], row[7]) for row in rows if any(row[2:7]))
        journals, postings, max_seq = day or (0, 0, 0)
        return TrialBalanceResult(mandate_id, as_of, lines, journals, postings, max_seq)

    def balances(self, mandate_id: str, accounts: Sequence[str], as_of: dt.date | None) -> list[BalanceLine]:
        if not accounts:
            return list(self.trial_balance(mandate_id, as_of).lines)
        until = (as_of or batch.END_OF_TIME).isoformat()
        lines: list[BalanceLine] = []
        with self._snapshot() as conn:
            for name in dict.fromkeys(accounts):
                row = conn.execute(
                    "SELECT mandate_id, name, currency, opened_on, instrument_id, closed_on, description"
                    " FROM accounts WHERE mandate_id = ? AND name = ?",
                    (mandate_id, name),
                ).fetchone()
                if row is None:
                    raise UnknownAccount(name, mandate_id)
                account = _account_of_row(row)
                found = [
                    _line(name, currency, values, account.instrument_id)
                    for currency, *values in conn.execute(
                        f"SELECT k.currency, {_LINE_COLUMNS} FROM balance_keys AS k"
                        " JOIN balances AS b ON b.mandate_id = k.mandate_id AND b.account = k.account"
                        "  AND b.currency = k.currency AND b.effective_date = (SELECT x.effective_date"
                        "   FROM balances AS x WHERE x.mandate_id = k.mandate_id AND x.account = k.account"
                        "   AND x.currency = k.currency AND x.effective_date <= ?"
                        "   ORDER BY x.effective_date DESC LIMIT 1)"
                        " WHERE k.mandate_id = ? AND k.account = ? ORDER BY k.currency",
                        (until, mandate_id, name),
                    )
                    if any(values)
                ]
                lines.extend(found or [_zero_line(account)])
        return lines

    def accounts(self, mandate_id: str = "", *, include_closed: bool = False) -> list[Account]:
        where = ["(? = '' OR mandate_id = ?)"]
        if not include_closed:
            where.append("closed_on IS NULL")
        with self._snapshot() as conn:
            rows = conn.execute(
                "SELECT mandate_id, name, currency, opened_on, instrument_id, closed_on, description"
                f" FROM accounts WHERE {' AND '.join(where)} ORDER BY mandate_id, name",
                (mandate_id, mandate_id),
            ).fetchall()
        return [_account_of_row(row) for row in rows]

    def counts(self) -> tuple[int, int]:
        with self._snapshot() as conn:
            journals = conn.execute("SELECT last_seq FROM ledger_state WHERE id = 1").fetchone()[0]
            # Each mandate's latest cumulative row counts all its postings.
            postings = conn.execute(
                "SELECT IFNULL(SUM(d.posting_count), 0) FROM day_totals AS d"
                " WHERE d.effective_date = (SELECT MAX(x.effective_date) FROM day_totals AS x"
                "  WHERE x.mandate_id = d.mandate_id)"
            ).fetchone()[0]
        return journals, postings

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"SqliteLedgerStore({str(self.path)!r})"


def _zero_line(account: Account) -> BalanceLine:
    zero = Decimal(0)
    return BalanceLine(
        account=account.name,
        currency=account.currency,
        debit_total=zero,
        credit_total=zero,
        base_debit_total=zero,
        base_credit_total=zero,
        quantity=zero if account.instrument_id and account.name.startswith("Assets:Securities:") else None,
        instrument_id=account.instrument_id,
    )
