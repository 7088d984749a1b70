"""The PostgreSQL ledger schema and its migrations (table ledger_schema holds the version).

The database refuses what would break the ledger's invariants: a statement trigger on journals
checks that each journal it inserted sums to zero per currency and in base and has exactly the
postings its header counts (migration 4; before it, a deferred constraint trigger per journal at
commit); a statement trigger on postings refuses legs for a journal already stored, so postings come
before their header as on SQLite (before migration 4: for a journal stored by an earlier transaction); triggers refuse UPDATE and TRUNCATE of journals and postings, any DELETE of them
that is not before the recorded horizon of a period close, and a journal dated before that horizon;
postings reference their journal through a deferred foreign key.

The balance check fired once per journal (a constraint trigger on journals, reading its postings)
rather than once per posting: measured here on batches of 500 three-leg journals, per-posting
checks ran at about 5.3k journals/s, per-journal at about 9.5k. Since migration 4 it fires once per
statement, over the statement's journals at once (bench/README.md, "Ledger").
"""

from __future__ import annotations

import psycopg

from services.ledger.store.database import CLOSED_PERIOD, IMMUTABLE, UNBALANCED
from services.ledger.store.errors import SchemaTooNew

_MIGRATION_LOCK = 0x1ED6E5  # pg_advisory_xact_lock key: one migrator at a time

_C = 'COLLATE "C"'  # byte order for names: the same order as SQLite, and prefix ranges that work

# Each migration takes the schema from version i to i+1; never edit one that shipped, append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE ledger_state (
            id integer PRIMARY KEY CHECK (id = 1),
            last_seq bigint NOT NULL,
            cursor bigint NOT NULL,
            state text
        )""",
        "INSERT INTO ledger_state (id, last_seq, cursor, state) VALUES (1, 0, 0, NULL)",
        f"""CREATE TABLE accounts (
            mandate_id text {_C} NOT NULL,
            name text {_C} NOT NULL,
            currency text NOT NULL,
            opened_on date NOT NULL,
            instrument_id text NOT NULL,
            closed_on date,
            description text NOT NULL,
            PRIMARY KEY (mandate_id, name)
        )""",
        """CREATE FUNCTION ledger_account_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'UPDATE' OR NEW.mandate_id IS DISTINCT FROM OLD.mandate_id
                OR NEW.name IS DISTINCT FROM OLD.name OR NEW.currency IS DISTINCT FROM OLD.currency
                OR NEW.instrument_id IS DISTINCT FROM OLD.instrument_id
                OR NEW.description IS DISTINCT FROM OLD.description OR NEW.opened_on > OLD.opened_on
                OR (OLD.closed_on IS NOT NULL AND NEW.closed_on IS DISTINCT FROM OLD.closed_on) THEN
                RAISE EXCEPTION 'ledger: an account may only be closed (% refused)', TG_OP
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END $$""",
        """CREATE TRIGGER accounts_only_close BEFORE UPDATE OR DELETE ON accounts
           FOR EACH ROW EXECUTE FUNCTION ledger_account_change()""",
        f"""CREATE TABLE journals (
            ledger_seq bigint PRIMARY KEY,
            journal_id text NOT NULL UNIQUE,
            idempotency_key text NOT NULL UNIQUE,
            content_hash text NOT NULL,
            mandate_id text {_C} NOT NULL,
            kind text NOT NULL,
            effective_date date NOT NULL,
            sim_time timestamptz NOT NULL,
            posted_at timestamptz NOT NULL DEFAULT transaction_timestamp(),
            memo text NOT NULL,
            source_event_id text NOT NULL,
            trace_id text NOT NULL,
            caused_by text NOT NULL,
            posted_by text NOT NULL,
            reverses_journal_id text NOT NULL,
            reversal_reason text NOT NULL,
            posting_count integer NOT NULL CHECK (posting_count > 0)
        )""",
        "CREATE INDEX journals_by_mandate ON journals (mandate_id, ledger_seq)",
        "CREATE INDEX journals_by_source ON journals (source_event_id) WHERE source_event_id <> ''",
        "CREATE INDEX journals_by_trace ON journals (trace_id) WHERE trace_id <> ''",
        """CREATE UNIQUE INDEX journals_reversal ON journals (reverses_journal_id)
           WHERE reverses_journal_id <> ''""",
        f"""CREATE TABLE postings (
            ledger_seq bigint NOT NULL REFERENCES journals (ledger_seq) DEFERRABLE INITIALLY DEFERRED,
            posting_no integer NOT NULL,
            mandate_id text {_C} NOT NULL,
            account text {_C} NOT NULL,
            currency text NOT NULL,
            amount numeric NOT NULL,
            base_amount numeric NOT NULL,
            quantity numeric,
            instrument_id text NOT NULL,
            lot_id text NOT NULL,
            memo text NOT NULL,
            PRIMARY KEY (ledger_seq, posting_no)
        )""",
        "CREATE INDEX postings_by_account ON postings (account, ledger_seq)",
        f"""CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{IMMUTABLE} (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$""",
        *(
            f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
               FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"""
            for table in ("journals", "postings")
        ),
        *(
            f"""CREATE TRIGGER {table}_never_truncated BEFORE TRUNCATE ON {table}
               FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"""
            for table in ("journals", "postings")
        ),
        # At commit, once per journal: it has all its postings, one mandate, and sums to zero.
        f"""CREATE FUNCTION ledger_check_journal() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            off text;
        BEGIN
            SELECT string_agg(s.currency || ' ' || s.total, ', ' ORDER BY s.currency) INTO off FROM (
                SELECT p.currency, SUM(p.amount) AS total FROM postings AS p
                WHERE p.ledger_seq = NEW.ledger_seq GROUP BY p.currency HAVING SUM(p.amount) <> 0
                UNION ALL
                SELECT 'base', SUM(p.base_amount) FROM postings AS p
                WHERE p.ledger_seq = NEW.ledger_seq HAVING SUM(p.base_amount) <> 0
                UNION ALL
                SELECT 'postings', COUNT(*) FROM postings AS p
                WHERE p.ledger_seq = NEW.ledger_seq HAVING COUNT(*) <> NEW.posting_count
                UNION ALL
                SELECT 'mandate ' || p.mandate_id, COUNT(*) FROM postings AS p
                WHERE p.ledger_seq = NEW.ledger_seq AND p.mandate_id <> NEW.mandate_id
                GROUP BY p.mandate_id
            ) AS s;
            IF off IS NOT NULL THEN
                RAISE EXCEPTION '{UNBALANCED} (ledger_seq %: %)', NEW.ledger_seq, off
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE CONSTRAINT TRIGGER journals_balanced AFTER INSERT ON journals
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_journal()""",
        # Per statement: postings only join journals written in this transaction (posted_at defaults
        # to the transaction's start), so a stored journal never gains a leg.
        f"""CREATE FUNCTION ledger_postings_of_new_journals() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_postings AS n JOIN journals AS j ON j.ledger_seq = n.ledger_seq
                       WHERE j.posted_at <> transaction_timestamp()) THEN
                RAISE EXCEPTION '{IMMUTABLE} (postings added to a stored journal)'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER postings_of_new_journals AFTER INSERT ON postings
           REFERENCING NEW TABLE AS new_postings
           FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_of_new_journals()""",
        f"""CREATE TABLE balances (
            mandate_id text {_C} NOT NULL,
            account text {_C} NOT NULL,
            currency text {_C} NOT NULL,
            effective_date date NOT NULL,
            debit numeric NOT NULL,
            credit numeric NOT NULL,
            base_debit numeric NOT NULL,
            base_credit numeric NOT NULL,
            quantity numeric,
            PRIMARY KEY (mandate_id, account, currency, effective_date)
        )""",
        f"""CREATE TABLE balance_keys (
            mandate_id text {_C} NOT NULL,
            account text {_C} NOT NULL,
            currency text {_C} NOT NULL,
            PRIMARY KEY (mandate_id, account, currency)
        )""",
        f"""CREATE TABLE day_totals (
            mandate_id text {_C} NOT NULL,
            effective_date date NOT NULL,
            journal_count bigint NOT NULL,
            posting_count bigint NOT NULL,
            max_seq bigint NOT NULL,
            PRIMARY KEY (mandate_id, effective_date)
        )""",
    ),
    (
        # The transactional outbox: journals post() announced, until delivered to the event log;
        # keyed by the journal's ledger_seq (one announcement per journal, in posting order).
        """CREATE TABLE outbox (
            ledger_seq bigint PRIMARY KEY,
            kind text NOT NULL,
            delivered boolean NOT NULL
        )""",
        "CREATE INDEX outbox_undelivered ON outbox (ledger_seq) WHERE NOT delivered",
    ),
    (
        # The period close (OPSUITE_LEDGER_KEEP_DAYS): the horizon, and the setting the close ran with.
        "ALTER TABLE ledger_state ADD COLUMN closed_before date, ADD COLUMN keep_days integer NOT NULL DEFAULT 0",
        # A horizon only moves forward: moved back, it would reopen a period whose detail is gone
        # (and whose cumulative rows are pruned, so a posting there would start from a wrong total).
        """CREATE FUNCTION ledger_stays_closed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ledger: a closed period stays closed (% to %)', OLD.closed_before, NEW.closed_before
                USING ERRCODE = 'restrict_violation';
        END $$""",
        """CREATE TRIGGER ledger_state_stays_closed BEFORE UPDATE OF closed_before ON ledger_state
           FOR EACH ROW WHEN (OLD.closed_before IS NOT NULL
                              AND (NEW.closed_before IS NULL OR NEW.closed_before < OLD.closed_before))
           EXECUTE FUNCTION ledger_stays_closed()""",
        # The close deletes by effective date, and GetLedger lists by it.
        "CREATE INDEX journals_by_date ON journals (effective_date)",
        # UPDATE stays refused always; DELETE only before the recorded horizon. A posting goes by its
        # journal's effective date, not by a ledger_seq bound: ledger_seq follows posting order, and a
        # backdated journal has a high seq and an early date (a future-dated one the reverse). The
        # store deletes postings before their header, so the header is there to say its date; with
        # no horizon (or no header) the delete is refused. TRUNCATE stays refused (migration 1).
        "DROP TRIGGER journals_immutable ON journals",
        "DROP TRIGGER postings_immutable ON postings",
        *(
            f"""CREATE TRIGGER {table}_never_updated BEFORE UPDATE ON {table}
               FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"""
            for table in ("journals", "postings")
        ),
        f"""CREATE FUNCTION ledger_delete_closed_journal() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            horizon date;
        BEGIN
            SELECT s.closed_before INTO horizon FROM ledger_state AS s WHERE s.id = 1;
            IF horizon IS NULL OR NOT OLD.effective_date < horizon THEN
                RAISE EXCEPTION '{IMMUTABLE} (DELETE of journal % dated %: the period closed before %)',
                    OLD.ledger_seq, OLD.effective_date, COALESCE(horizon::text, 'nothing')
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN OLD;
        END $$""",
        f"""CREATE FUNCTION ledger_delete_closed_posting() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            horizon date;
            day date;
        BEGIN
            SELECT s.closed_before INTO horizon FROM ledger_state AS s WHERE s.id = 1;
            SELECT j.effective_date INTO day FROM journals AS j WHERE j.ledger_seq = OLD.ledger_seq;
            IF horizon IS NULL OR day IS NULL OR NOT day < horizon THEN
                RAISE EXCEPTION '{IMMUTABLE} (DELETE of a posting of journal % dated %: the period closed before %)',
                    OLD.ledger_seq, COALESCE(day::text, 'unknown'), COALESCE(horizon::text, 'nothing')
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN OLD;
        END $$""",
        """CREATE TRIGGER journals_deleted_only_when_closed BEFORE DELETE ON journals
           FOR EACH ROW EXECUTE FUNCTION ledger_delete_closed_journal()""",
        """CREATE TRIGGER postings_deleted_only_when_closed BEFORE DELETE ON postings
           FOR EACH ROW EXECUTE FUNCTION ledger_delete_closed_posting()""",
        # A closed period takes no postings (the store refuses first; this holds whatever the code
        # does). Once per statement, over the rows it inserted, like the postings check above.
        f"""CREATE FUNCTION ledger_journals_in_open_period() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_journals AS n JOIN ledger_state AS s ON s.id = 1
                       WHERE n.effective_date < s.closed_before) THEN
                RAISE EXCEPTION '{CLOSED_PERIOD}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER journals_in_open_period AFTER INSERT ON journals
           REFERENCING NEW TABLE AS new_journals
           FOR EACH STATEMENT EXECUTE FUNCTION ledger_journals_in_open_period()""",
    ),
    (
        # The balance check once per statement over the journals it inserted, set-based, rather than a
        # deferred trigger per journal at commit (a stream commit stores about 1,300 journals; their
        # checks took about half of the commit). It holds as the deferred one did because a journal's
        # postings must come before its header: a posting for a journal already stored is refused, one
        # stored in this transaction included (the store writes postings first, as on SQLite).
        f"""CREATE OR REPLACE FUNCTION ledger_postings_of_new_journals() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_postings AS n JOIN journals AS j ON j.ledger_seq = n.ledger_seq) THEN
                RAISE EXCEPTION '{IMMUTABLE} (postings added to a stored journal)'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NULL;
        END $$""",
        "DROP TRIGGER journals_balanced ON journals",
        f"""CREATE FUNCTION ledger_check_new_journals() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            seq bigint;
            off text;
        BEGIN
            WITH legs AS (
                SELECT n.ledger_seq, n.posting_count, n.mandate_id AS header_mandate, p.ledger_seq AS leg,
                    p.mandate_id, p.currency, p.amount, p.base_amount
                FROM new_journals AS n LEFT JOIN postings AS p ON p.ledger_seq = n.ledger_seq
            )
            SELECT s.ledger_seq, string_agg(s.what || ' ' || s.total, ', ' ORDER BY s.what) INTO seq, off FROM (
                SELECT l.ledger_seq, l.currency AS what, SUM(l.amount) AS total FROM legs AS l
                WHERE l.leg IS NOT NULL GROUP BY l.ledger_seq, l.currency HAVING SUM(l.amount) <> 0
                UNION ALL
                SELECT l.ledger_seq, 'base', SUM(l.base_amount) FROM legs AS l
                WHERE l.leg IS NOT NULL GROUP BY l.ledger_seq HAVING SUM(l.base_amount) <> 0
                UNION ALL
                SELECT l.ledger_seq, 'postings', COUNT(l.leg) FROM legs AS l
                GROUP BY l.ledger_seq, l.posting_count HAVING COUNT(l.leg) <> l.posting_count
                UNION ALL
                SELECT l.ledger_seq, 'mandate ' || l.mandate_id, COUNT(*) FROM legs AS l
                WHERE l.mandate_id <> l.header_mandate GROUP BY l.ledger_seq, l.mandate_id
            ) AS s GROUP BY s.ledger_seq ORDER BY s.ledger_seq LIMIT 1;
            IF off IS NOT NULL THEN
                RAISE EXCEPTION '{UNBALANCED} (ledger_seq %: %)', seq, off USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER journals_balanced AFTER INSERT ON journals REFERENCING NEW TABLE AS new_journals
           FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_new_journals()""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: psycopg.Connection) -> int:
    """Bring the database to SCHEMA_VERSION under an advisory lock; returns the version found before.
    A database from a newer release is refused."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS ledger_schema (version integer NOT NULL)")
        row = conn.execute("SELECT version FROM ledger_schema").fetchone()
        if row is None:
            conn.execute("INSERT INTO ledger_schema (version) VALUES (0)")
        found = 0 if row is None else row[0]
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(f"ledger schema version {found} is newer than this code ({SCHEMA_VERSION})")
        for target in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[target - 1]:
                conn.execute(statement)
            conn.execute("UPDATE ledger_schema SET version = %s", (target,))
    return found
