"""The ledger store, once for both databases: post() and every read, over a Database (database.py).

post() checks and plans the batch with batch.py against what the database holds, then writes
postings before headers (SQLite's header trigger checks the postings already stored; PostgreSQL
checks at commit), the cumulative totals, the outbox rows, and the cursor, in one transaction.

close_period() is the only delete: the journals before a recorded horizon, and the cumulative rows
that no as-of question at or after it reads. Every read that would reach before the horizon is
refused (PeriodClosed) in the same snapshot that reads the horizon, so no answer is ever built from
a partial record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import uuid6

from services.common.change_signal import CommitListeners
from services.common.market_events import MARKET_EVENT_ID_PREFIX
from services.ledger.domain.records import Account, BalanceLine, Journal, JournalDraft, JournalKind, Posting
from services.ledger.store import batch
from services.ledger.store.base import (
    Announce,
    BooksPosition,
    ClosedPeriod,
    CloseResult,
    LedgerFilter,
    OutboxItem,
    PostResult,
    TrialBalanceResult,
)
from services.ledger.store.database import Database, Session, chunks, marks
from services.ledger.store.errors import ClosedAccount, PeriodClosed, UnknownAccount

_ACCOUNT_COLUMNS = "mandate_id, name, currency, opened_on, instrument_id, closed_on, description"
_POSTING_COLUMNS = (
    "ledger_seq", "posting_no", "mandate_id", "account", "currency", "amount", "base_amount", "quantity",
    "instrument_id", "lot_id", "memo",
)  # fmt: skip
_REVERSED_BY = (
    "COALESCE((SELECT r.journal_id FROM journals AS r"
    "  WHERE r.reverses_journal_id = j.journal_id AND r.reverses_journal_id <> ''), '')"
)


def _announced(
    announce: Announce, drafts: Sequence[JournalDraft], seqs: Sequence[int]
) -> list[tuple[int, str]]:
    """(ledger_seq, outbox kind) of each new journal post() announces."""
    if not announce:
        return []
    if isinstance(announce, str):
        return [(seq, announce) for seq in seqs]
    return [(seq, kind) for seq, draft in zip(seqs, drafts, strict=True) if (kind := announce(draft))]


class SqlLedgerStore:
    """LedgerStore on a Database (SQLite or PostgreSQL); see base.py for the invariants."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._listeners = CommitListeners("ledger")
        # Each (account, currency) key k with its latest cumulative row b on or before a date (the
        # first "?"): a trial balance reads one row per key.
        self._latest = (
            "SELECT {}, b.debit, b.credit, b.base_debit, b.base_credit, b.quantity"
            f" FROM balance_keys AS k {db.latest_balance}"
        )
        self._header_columns = (
            "ledger_seq", "journal_id", "idempotency_key", "content_hash", "mandate_id", "kind",
            "effective_date", db.sim_time_column, db.posted_at_column, "memo", "source_event_id",
            "trace_id", "caused_by", "posted_by", "reverses_journal_id", "reversal_reason", "posting_count",
        )  # fmt: skip
        self._select_journals = (
            f"SELECT j.ledger_seq, j.journal_id, j.{db.posted_at_column}, j.mandate_id, j.kind,"
            f" j.effective_date, j.{db.sim_time_column}, j.idempotency_key, j.memo, j.source_event_id,"
            f" j.trace_id, j.caused_by, j.posted_by, j.reverses_journal_id, j.reversal_reason, {_REVERSED_BY}"
            " FROM journals AS j"
        )

    # ------------------------------------------------------------------ writing

    def post(
        self,
        drafts: Sequence[JournalDraft],
        *,
        open_missing: bool,
        cursor: int | None = None,
        state: str | None = None,
        announce: Announce = None,
    ) -> list[PostResult]:
        drafts = list(drafts)
        figures = [batch.check_draft(draft) for draft in drafts]
        new_drafts: list[JournalDraft] = []
        try:
            with self.db.write() as conn:
                last_seq, posted_at = self.db.begin_post(conn)
                plan = batch.plan_keys(drafts, self._stored_keys(conn, drafts), last_seq + 1, figures)
                new_drafts = [drafts[index] for index in plan.new]
                # Read under the writers' lock: a close cannot slip in between this and the insert.
                period = self._closed(conn)
                batch.check_open_period(new_drafts, period.closed_before, period.keep_days)
                accounts = batch.plan_accounts(
                    new_drafts, self._existing_accounts(conn, new_drafts), open_missing=open_missing
                )
                batch.check_reversals(new_drafts, self._reversal_targets(conn, new_drafts))
                ids = [str(uuid6.uuid7()) for _ in new_drafts]
                seqs = [last_seq + 1 + offset for offset in range(len(new_drafts))]
                self._write_accounts(conn, accounts)
                if new_drafts:
                    hashes = [plan.hashes[i] for i in plan.new]
                    new_figures = [figures[i] for i in plan.new]
                    self._write_journals(conn, new_drafts, new_figures, seqs, ids, hashes, posted_at)
                    self.db.write_totals(conn, new_drafts, seqs)
                    announced = _announced(announce, new_drafts, seqs)
                    if announced:
                        conn.executemany(
                            "INSERT INTO outbox (ledger_seq, kind, delivered) VALUES (?, ?, ?)",
                            [(seq, kind, False) for seq, kind in announced],
                        )
                conn.execute(
                    "UPDATE ledger_state SET last_seq = ?, cursor = COALESCE(?, cursor),"
                    " state = CASE WHEN ? THEN ? ELSE state END WHERE id = 1",
                    (last_seq + len(new_drafts), cursor, state is not None, state),
                )
                replayed = self._load(
                    conn, sorted({s for s in plan.replays if s is not None and s <= last_seq})
                )
        except Exception as error:
            refused = self.db.refusal(error, new_drafts)
            if refused is None:
                raise
            raise refused from error
        if new_drafts:
            self._listeners.notify(last_seq + len(new_drafts))
        fresh = {
            seq: Journal(journal_id=jid, ledger_seq=seq, posted_at=posted_at, draft=draft)
            for seq, jid, draft in zip(seqs, ids, new_drafts, strict=True)
        }
        return batch.results(plan, last_seq, fresh, replayed)

    @staticmethod
    def _stored_keys(conn: Session, drafts: Sequence[JournalDraft]) -> dict[str, batch.StoredKey]:
        keys = sorted({draft.idempotency_key for draft in drafts})
        found: dict[str, batch.StoredKey] = {}
        for chunk in chunks(keys):
            for key, seq, journal_id, digest in conn.execute(
                "SELECT idempotency_key, ledger_seq, journal_id, content_hash FROM journals"
                f" WHERE idempotency_key IN ({marks(len(chunk))})",
                chunk,
            ):
                found[key] = batch.StoredKey(seq, journal_id, digest)
        return found

    def _existing_accounts(
        self, conn: Session, drafts: Sequence[JournalDraft]
    ) -> dict[batch.AccountKey, Account]:
        names: dict[str, set[str]] = {}
        for draft in drafts:
            names.setdefault(draft.mandate_id, set()).update(p.account for p in draft.postings)
        found: dict[batch.AccountKey, Account] = {}
        for mandate_id, accounts in names.items():
            for account in self._chart(conn, mandate_id, sorted(accounts)):
                found[(account.mandate_id, account.name)] = account
        return found

    @staticmethod
    def _reversal_targets(conn: Session, drafts: Sequence[JournalDraft]) -> dict[str, batch.StoredJournalRef]:
        targets = sorted({d.reverses_journal_id for d in drafts if d.reverses_journal_id})
        found: dict[str, batch.StoredJournalRef] = {}
        for chunk in chunks(targets):
            for journal_id, mandate_id, reversed_by in conn.execute(
                f"SELECT j.journal_id, j.mandate_id, {_REVERSED_BY}"
                f" FROM journals AS j WHERE j.journal_id IN ({marks(len(chunk))})",
                chunk,
            ):
                found[journal_id] = batch.StoredJournalRef(mandate_id, reversed_by)
        return found

    def _write_accounts(self, conn: Session, plan: batch.AccountPlan) -> None:
        if plan.opened:
            conn.executemany(
                f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                [
                    (
                        a.mandate_id,
                        a.name,
                        a.currency,
                        self.db.date(a.opened_on),
                        a.instrument_id,
                        a.description,
                    )
                    for a in plan.opened.values()
                ],
            )
        if plan.earlier:
            conn.executemany(
                "UPDATE accounts SET opened_on = ? WHERE mandate_id = ? AND name = ?",
                [(self.db.date(day), mandate_id, name) for (mandate_id, name), day in plan.earlier.items()],
            )

    def _write_journals(
        self,
        conn: Session,
        drafts: Sequence[JournalDraft],
        figures: Sequence[Sequence[batch.Micros]],
        seqs: Sequence[int],
        ids: Sequence[str],
        hashes: Sequence[str],
        posted_at: dt.datetime,
    ) -> None:
        db = self.db
        if db.money_in_micros:  # check_draft's figures are the column values
            rows = [
                (seq, number, d.mandate_id, p.account, p.currency, amount, base, quantity, p.instrument_id,
                 p.lot_id, p.memo)
                for seq, d, legs in zip(seqs, drafts, figures, strict=True)
                for number, (p, (amount, base, quantity)) in enumerate(zip(d.postings, legs, strict=True))
            ]  # fmt: skip
        else:
            rows = [
                (seq, number, d.mandate_id, p.account, p.currency, db.money(p.amount),
                 db.money(p.base_amount),  # type: ignore[arg-type]  # checked by check_draft
                 self._optional_money(p.quantity), p.instrument_id, p.lot_id, p.memo)
                for seq, d in zip(seqs, drafts, strict=True)
                for number, p in enumerate(d.postings)
            ]  # fmt: skip
        db.insert(conn, "postings", _POSTING_COLUMNS, rows)
        posted = db.time(posted_at)
        db.insert(
            conn,
            "journals",
            self._header_columns,
            [
                (seq, journal_id, d.idempotency_key, digest, d.mandate_id, str(d.kind),
                 db.date(d.effective_date), db.time(d.sim_time), posted, d.memo, d.source_event_id,
                 d.trace_id, json.dumps(list(d.caused_by)), d.posted_by, d.reverses_journal_id,
                 d.reversal_reason, len(d.postings))
                for seq, journal_id, digest, d in zip(seqs, ids, hashes, drafts, strict=True)
            ],
        )  # fmt: skip

    def _optional_money(self, value: Decimal | None) -> Any:
        return None if value is None else self.db.money(value)

    def open_accounts(self, accounts: Sequence[Account]) -> int:
        existing = {(a.mandate_id, a.name) for a in self.accounts(include_closed=True)}
        plan = batch.AccountPlan(
            opened={(a.mandate_id, a.name): a for a in accounts if (a.mandate_id, a.name) not in existing}
        )
        if plan.opened:
            with self.db.write() as conn:
                self._write_accounts(conn, plan)
        return len(plan.opened)

    def close_account(self, mandate_id: str, name: str, closed_on: dt.date) -> None:
        with self.db.write() as conn:
            row = conn.execute(
                f"SELECT closed_on FROM accounts WHERE mandate_id = ? AND name = ?{self.db.for_update}",
                (mandate_id, name),
            ).fetchone()
            if row is None:
                raise UnknownAccount(name, mandate_id)
            if row[0] is not None:
                raise ClosedAccount(name, mandate_id, self.db.day(row[0]))
            conn.execute(
                "UPDATE accounts SET closed_on = ? WHERE mandate_id = ? AND name = ?",
                (self.db.date(closed_on), mandate_id, name),
            )

    # ------------------------------------------------------------------ the outbox

    def undelivered(self, limit: int = 100, known: Mapping[int, Journal] | None = None) -> list[OutboxItem]:
        known = known or {}
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT ledger_seq, kind FROM outbox WHERE NOT delivered ORDER BY ledger_seq LIMIT ?",
                (limit,),
            ).fetchall()
            journals = self._load(conn, [seq for seq, _ in rows if seq not in known])
        return [OutboxItem(seq, kind, known[seq] if seq in known else journals[seq]) for seq, kind in rows]

    def mark_delivered(self, outbox_ids: Sequence[int]) -> None:
        with self.db.write() as conn:
            for chunk in chunks(sorted(set(outbox_ids))):
                conn.execute(
                    f"UPDATE outbox SET delivered = ? WHERE ledger_seq IN ({marks(len(chunk))})",
                    (True, *chunk),
                )

    # ------------------------------------------------------------------ reading

    def _load(self, conn: Session, seqs: Sequence[int]) -> dict[int, Journal]:
        """The journals with these ledger_seqs, with their postings and reversal links."""
        headers: list[Sequence[Any]] = []
        for chunk in chunks(seqs):
            headers.extend(
                conn.execute(f"{self._select_journals} WHERE j.ledger_seq IN ({marks(len(chunk))})", chunk)
            )
        return self._assemble(conn, headers)

    def _assemble(self, conn: Session, headers: Sequence[Sequence[Any]]) -> dict[int, Journal]:
        db = self.db
        postings: dict[int, list[Posting]] = {}
        for chunk in chunks([row[0] for row in headers]):
            for seq, account, amount, currency, base, quantity, instrument, lot, memo in conn.execute(
                "SELECT ledger_seq, account, amount, currency, base_amount, quantity, instrument_id, lot_id, memo"
                f" FROM postings WHERE ledger_seq IN ({marks(len(chunk))}) ORDER BY ledger_seq, posting_no",
                chunk,
            ):
                postings.setdefault(seq, []).append(
                    Posting(
                        account=account,
                        amount=db.decimal(amount),
                        currency=currency,
                        base_amount=db.decimal(base),
                        quantity=None if quantity is None else db.decimal(quantity),
                        instrument_id=instrument,
                        lot_id=lot,
                        memo=memo,
                    )
                )
        journals: dict[int, Journal] = {}
        for row in headers:
            (seq, journal_id, posted_at, mandate_id, kind, effective, sim_time, key, memo, source,
             trace, caused_by, posted_by, reverses, reason, reversed_by) = row  # fmt: skip
            draft = JournalDraft(
                mandate_id=mandate_id,
                kind=JournalKind(kind),
                effective_date=db.day(effective),
                sim_time=db.moment(sim_time),
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
            journals[seq] = Journal(journal_id, seq, db.moment(posted_at), draft, reversed_by)
        return journals

    def subscribe(self, listener: Callable[[int], None]) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def head(self) -> int:
        with self.db.snapshot() as conn:
            return int(conn.execute("SELECT last_seq FROM ledger_state WHERE id = 1").fetchone()[0])

    def first_kept_seq(self) -> int:
        with self.db.snapshot() as conn:
            first = conn.execute("SELECT MIN(ledger_seq) FROM journals").fetchone()[0]
        return 0 if first is None else int(first)

    def load_cursor(self) -> tuple[int, str | None]:
        with self.db.snapshot() as conn:
            cursor, state = conn.execute("SELECT cursor, state FROM ledger_state WHERE id = 1").fetchone()
        return cursor, state

    def books_position(self, mandate_id: str = "") -> BooksPosition:
        with self.db.snapshot() as conn:
            cursor, last_seq, closed_before = conn.execute(
                "SELECT cursor, last_seq, closed_before FROM ledger_state WHERE id = 1"
            ).fetchone()
            if mandate_id:  # journals_by_mandate answers it from the index
                (last_seq,) = conn.execute(
                    "SELECT coalesce(max(ledger_seq), 0) FROM journals WHERE mandate_id = ?", (mandate_id,)
                ).fetchone()
        return BooksPosition(cursor, last_seq, None if closed_before is None else self.db.day(closed_before))

    def _one(self, where: str, value: str) -> Journal | None:
        with self.db.snapshot() as conn:
            headers = conn.execute(f"{self._select_journals} WHERE {where}", (value,)).fetchall()
            journals = self._assemble(conn, headers)
        return next(iter(journals.values()), None)

    def get_journal(self, journal_id: str) -> Journal | None:
        return self._one("j.journal_id = ?", journal_id)

    def find_by_key(self, idempotency_key: str) -> Journal | None:
        return self._one("j.idempotency_key = ?", idempotency_key)

    def journals(self, flt: LedgerFilter, *, after_seq: int = 0, limit: int = 100) -> list[Journal]:
        if limit <= 0:
            return []
        with self.db.snapshot() as conn:
            date_from = self._listed_from(conn, flt)
            return self._journals(conn, flt, date_from, after_seq, limit)

    def _listed_from(self, conn: Session, flt: LedgerFilter) -> dt.date | None:
        """Where a listing starts: the filter's date_from, cut at the horizon for kept_only; refused
        when it reaches into the closed period (a listing missing its start must not pass for whole)."""
        period = self._closed(conn)
        horizon = period.closed_before
        if horizon is None or (flt.date_from is not None and flt.date_from >= horizon):
            return flt.date_from
        if flt.kept_only:
            return horizon
        asked = "the ledger's start" if flt.date_from is None else flt.date_from.isoformat()
        raise PeriodClosed(
            horizon,
            period.keep_days,
            f"the journals before it are deleted (balances from it on stay exact), so no listing can"
            f" start at {asked}: {horizon.isoformat()} is the first date kept",
        )

    def _journals(
        self, conn: Session, flt: LedgerFilter, date_from: dt.date | None, after_seq: int, limit: int
    ) -> list[Journal]:
        where = ["j.ledger_seq > ?"]
        params: list[object] = [after_seq]
        if flt.mandate_id:
            where.append("j.mandate_id = ?")
            params.append(flt.mandate_id)
        if date_from is not None:
            where.append("j.effective_date >= ?")
            params.append(self.db.date(date_from))
        if flt.date_to is not None:
            where.append("j.effective_date <= ?")
            params.append(self.db.date(flt.date_to))
        if flt.source_event_id:
            where.append("j.source_event_id = ? AND j.source_event_id <> ''")
            params.append(flt.source_event_id)
        if flt.trace_id:
            where.append("j.trace_id = ? AND j.trace_id <> ''")
            params.append(flt.trace_id)
        if flt.kind is not None:
            where.append("j.kind = ?")
            params.append(str(flt.kind))
        if flt.exclude_market:
            where.append("j.source_event_id NOT LIKE ?")
            params.append(f"{MARKET_EVENT_ID_PREFIX}%")
        if flt.account_prefix:
            exact, low, high = batch.prefix_range(flt.account_prefix)
            where.append(
                "j.ledger_seq IN (SELECT p.ledger_seq FROM postings AS p"
                " WHERE (p.account = ? OR (p.account >= ? AND p.account < ?)) AND p.ledger_seq > ?)"
            )
            params.extend([exact, low, high, after_seq])
        params.append(limit)
        headers = conn.execute(
            f"{self._select_journals} WHERE {' AND '.join(where)} ORDER BY j.ledger_seq LIMIT ?", params
        ).fetchall()
        journals = self._assemble(conn, headers)
        return [journals[row[0]] for row in headers]

    def trial_balance(self, mandate_id: str, as_of: dt.date | None) -> TrialBalanceResult:
        until = self.db.date(as_of or batch.END_OF_TIME)
        with self.db.snapshot() as conn:
            self._check_as_of(conn, as_of)
            rows = conn.execute(
                self._latest.format("a.instrument_id, k.account, k.currency")
                + " JOIN accounts AS a ON a.mandate_id = k.mandate_id AND a.name = k.account"
                " WHERE k.mandate_id = ? ORDER BY k.account, k.currency",
                (until, mandate_id),
            ).fetchall()
            day = conn.execute(
                "SELECT journal_count, posting_count, max_seq FROM day_totals"
                " WHERE mandate_id = ? AND effective_date <= ? ORDER BY effective_date DESC LIMIT 1",
                (mandate_id, until),
            ).fetchone()
        lines = tuple(self._line(row[1], row[2], row[3:8], row[0]) for row in rows if any(row[3:8]))
        journals, postings, max_seq = day or (0, 0, 0)
        return TrialBalanceResult(mandate_id, as_of, lines, journals, postings, max_seq)

    def balances(self, mandate_id: str, accounts: Sequence[str], as_of: dt.date | None) -> list[BalanceLine]:
        if not accounts:
            return list(self.trial_balance(mandate_id, as_of).lines)
        names = list(dict.fromkeys(accounts))
        until = self.db.date(as_of or batch.END_OF_TIME)
        with self.db.snapshot() as conn:
            self._check_as_of(conn, as_of)
            chart = {account.name: account for account in self._chart(conn, mandate_id, names)}
            for name in names:
                if name not in chart:
                    raise UnknownAccount(name, mandate_id)
            rows = [
                row
                for chunk in chunks(names)
                for row in conn.execute(
                    self._latest.format("k.account, k.currency")
                    + f" WHERE k.mandate_id = ? AND k.account IN ({marks(len(chunk))})"
                    " ORDER BY k.account, k.currency",
                    (until, mandate_id, *chunk),
                )
            ]
        found: dict[str, list[BalanceLine]] = {}
        for row in rows:
            if any(row[2:7]):
                found.setdefault(row[0], []).append(
                    self._line(row[0], row[1], row[2:7], chart[row[0]].instrument_id)
                )
        return [line for name in names for line in (found.get(name) or [_zero_line(chart[name])])]

    def _check_as_of(self, conn: Session, as_of: dt.date | None) -> None:
        """An as-of date before the horizon is refused: the cumulative rows that answered it are pruned."""
        if as_of is None:
            return
        period = self._closed(conn)
        if period.closed_before is not None and as_of < period.closed_before:
            first = period.closed_before.isoformat()
            raise PeriodClosed(
                period.closed_before,
                period.keep_days,
                f"balances as of {as_of.isoformat()} are no longer kept: ask as of {first} or later",
            )

    def _chart(self, conn: Session, mandate_id: str, names: Sequence[str]) -> list[Account]:
        """The mandate's accounts with these names (those that exist)."""
        return [
            self._account(row)
            for chunk in chunks(names)
            for row in conn.execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE mandate_id = ? AND name IN ({marks(len(chunk))})",
                (mandate_id, *chunk),
            )
        ]

    def accounts(self, mandate_id: str = "", *, include_closed: bool = False) -> list[Account]:
        closed = "" if include_closed else " AND closed_on IS NULL"
        with self.db.snapshot() as conn:
            rows = conn.execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE (? = '' OR mandate_id = ?){closed}"
                " ORDER BY mandate_id, name",
                (mandate_id, mandate_id),
            ).fetchall()
        return [self._account(row) for row in rows]

    def counts(self) -> tuple[int, int]:
        with self.db.snapshot() as conn:
            journals = conn.execute("SELECT last_seq FROM ledger_state WHERE id = 1").fetchone()[0]
            # Each mandate's latest cumulative row counts all its postings.
            postings = conn.execute(
                "SELECT COALESCE(SUM(d.posting_count), 0) FROM day_totals AS d"
                " WHERE d.effective_date = (SELECT MAX(x.effective_date) FROM day_totals AS x"
                "  WHERE x.mandate_id = d.mandate_id)"
            ).fetchone()[0]
        return journals, int(postings)

    # ------------------------------------------------------------------ the period close

    def _closed(self, conn: Session) -> ClosedPeriod:
        closed_before, keep_days = conn.execute(
            "SELECT closed_before, keep_days FROM ledger_state WHERE id = 1"
        ).fetchone()
        return ClosedPeriod(None if closed_before is None else self.db.day(closed_before), keep_days)

    def closed_period(self) -> ClosedPeriod:
        with self.db.snapshot() as conn:
            return self._closed(conn)

    def first_date(self) -> dt.date | None:
        with self.db.snapshot() as conn:
            first = conn.execute("SELECT MIN(effective_date) FROM journals").fetchone()[0]
        return None if first is None else self.db.day(first)

    def close_period(self, before: dt.date, *, keep_days: int) -> CloseResult | None:
        db = self.db
        with db.write() as conn:
            db.begin_post(conn)  # the writers' lock: no batch is half-planned against the old horizon
            previous = self._closed(conn).closed_before
            # A journal whose record the relay has yet to deliver stays until it is delivered (the
            # relay reads the journal): the horizon stops at the earliest such journal for now.
            pending = conn.execute(
                "SELECT MIN(j.effective_date) FROM outbox AS o JOIN journals AS j ON j.ledger_seq = o.ledger_seq"
                " WHERE NOT o.delivered"
            ).fetchone()[0]
            horizon = before if pending is None else min(before, db.day(pending))
            if previous is not None and horizon <= previous:
                return None
            until = db.date(horizon)
            # The horizon first: the delete triggers allow exactly what lies before the recorded one.
            conn.execute(
                "UPDATE ledger_state SET closed_before = ?, keep_days = ? WHERE id = 1", (until, keep_days)
            )
            closed = "SELECT ledger_seq FROM journals WHERE effective_date < ?"
            conn.execute(f"DELETE FROM outbox WHERE delivered AND ledger_seq IN ({closed})", (until,))
            # Postings before their headers: their trigger reads the header's effective date.
            postings = conn.execute(f"DELETE FROM postings WHERE ledger_seq IN ({closed})", (until,)).rowcount
            journals = conn.execute("DELETE FROM journals WHERE effective_date < ?", (until,)).rowcount
            # The cumulative tables: per key, a row before the horizon is needed only if no later row
            # on or before the horizon exists (then it is what as-of the horizon reads). Rows on or
            # after the horizon stay as they are, so every as-of answer from the horizon on is unchanged.
            pruned = 0
            for table, key in (
                ("balances", ("mandate_id", "account", "currency")),
                ("day_totals", ("mandate_id",)),
            ):
                same_key = " AND ".join(f"x.{column} = {table}.{column}" for column in key)
                pruned += conn.execute(
                    f"DELETE FROM {table} WHERE effective_date < ? AND EXISTS (SELECT 1 FROM {table} AS x"
                    f" WHERE {same_key} AND x.effective_date > {table}.effective_date AND x.effective_date <= ?)",
                    (until, until),
                ).rowcount
        return CloseResult(horizon, previous, journals, postings, pruned)

    def _line(self, account: str, currency: str, values: Sequence[Any], instrument_id: str) -> BalanceLine:
        debit, credit, base_debit, base_credit, quantity = values
        return BalanceLine(
            account=account,
            currency=currency,
            debit_total=self.db.decimal(debit),
            credit_total=self.db.decimal(credit),
            base_debit_total=self.db.decimal(base_debit),
            base_credit_total=self.db.decimal(base_credit),
            quantity=None if quantity is None else self.db.decimal(quantity),
            instrument_id=instrument_id,
        )

    def _account(self, row: Sequence[Any]) -> Account:
        mandate_id, name, currency, opened_on, instrument_id, closed_on, description = row
        closed = None if closed_on is None else self.db.day(closed_on)
        return Account(mandate_id, name, currency, self.db.day(opened_on), instrument_id, closed, description)

    def close(self) -> None:
        self.db.close()

    def __repr__(self) -> str:
        return f"SqlLedgerStore({self.db!r})"


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
