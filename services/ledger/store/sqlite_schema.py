"""The SQLite ledger schema and its migrations (PRAGMA user_version).

Money and quantities are INTEGER micro-units (x 10^6). The database itself refuses what would break
the ledger's invariants: postings are inserted first and the journal header last, and the header's
BEFORE INSERT trigger checks the postings sum to zero per currency and in base; postings for a
stored header, any UPDATE of journals or postings, and any DELETE of them that is not before the
recorded horizon of a period close, are refused by triggers, and so is a journal dated before that
horizon; postings reference their header through a deferred foreign key, so postings without a header
fail at commit.
"""

from __future__ import annotations

import sqlite3

from services.common.sqlite import migrate_schema
from services.ledger.store.database import CLOSED_PERIOD, IMMUTABLE, UNBALANCED
from services.ledger.store.errors import SchemaTooNew

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
           BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END""",
        f"""CREATE TRIGGER journals_balanced BEFORE INSERT ON journals
           WHEN (SELECT COUNT(*) FROM postings WHERE ledger_seq = NEW.ledger_seq) != NEW.posting_count
             OR EXISTS (SELECT 1 FROM postings WHERE ledger_seq = NEW.ledger_seq
                        AND mandate_id != NEW.mandate_id)
             OR EXISTS (SELECT 1 FROM postings WHERE ledger_seq = NEW.ledger_seq
                        GROUP BY currency HAVING SUM(amount) != 0)
             OR (SELECT SUM(base_amount) FROM postings WHERE ledger_seq = NEW.ledger_seq) != 0
           BEGIN SELECT RAISE(ABORT, '{UNBALANCED}'); END""",
        *(
            f"""CREATE TRIGGER {table}_never_{verb.lower()}d BEFORE {verb} ON {table}
               BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"""
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
    (
        # The transactional outbox: journals post() announced, until delivered to the event log;
        # keyed by the journal's ledger_seq (one announcement per journal, in posting order).
        """CREATE TABLE outbox (
            ledger_seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            delivered INTEGER NOT NULL CHECK (delivered IN (0, 1))
        )""",
        "CREATE INDEX outbox_undelivered ON outbox (ledger_seq) WHERE NOT delivered",
    ),
    (
        # The period close (OPSUITE_LEDGER_KEEP_DAYS): the horizon, and the setting the close ran with.
        "ALTER TABLE ledger_state ADD COLUMN closed_before TEXT",
        "ALTER TABLE ledger_state ADD COLUMN keep_days INTEGER NOT NULL DEFAULT 0",
        # A horizon only moves forward: moved back, it would reopen a period whose detail is gone
        # (and whose cumulative rows are pruned, so a posting there would start from a wrong total).
        """CREATE TRIGGER ledger_state_stays_closed BEFORE UPDATE OF closed_before ON ledger_state
           WHEN OLD.closed_before IS NOT NULL
             AND (NEW.closed_before IS NULL OR NEW.closed_before < OLD.closed_before)
           BEGIN SELECT RAISE(ABORT, 'ledger: a closed period stays closed'); END""",
        # The close deletes by effective date, and GetLedger lists by it.
        "CREATE INDEX journals_by_date ON journals (effective_date)",
        # Deletes: only what lies before the recorded horizon. A posting goes by its journal's
        # effective date, not by a ledger_seq bound: ledger_seq follows posting order, and a backdated
        # journal has a high seq and an early date (or a future-dated one the reverse). The store
        # deletes postings before their header, so the header is there to say its date; with no
        # horizon (or no header) the comparison is not true and the delete is refused.
        "DROP TRIGGER journals_never_deleted",
        "DROP TRIGGER postings_never_deleted",
        f"""CREATE TRIGGER journals_deleted_only_when_closed BEFORE DELETE ON journals
           WHEN NOT EXISTS (SELECT 1 FROM ledger_state AS s
                            WHERE s.id = 1 AND OLD.effective_date < s.closed_before)
           BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END""",
        f"""CREATE TRIGGER postings_deleted_only_when_closed BEFORE DELETE ON postings
           WHEN NOT EXISTS (SELECT 1 FROM journals AS j JOIN ledger_state AS s ON s.id = 1
                            WHERE j.ledger_seq = OLD.ledger_seq AND j.effective_date < s.closed_before)
           BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END""",
        # A closed period takes no postings (the store refuses first; this holds whatever the code does).
        f"""CREATE TRIGGER journals_in_open_period BEFORE INSERT ON journals
           WHEN NEW.effective_date < (SELECT closed_before FROM ledger_state WHERE id = 1)
           BEGIN SELECT RAISE(ABORT, '{CLOSED_PERIOD}'); END""",
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
