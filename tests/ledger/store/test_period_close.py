"""The period close (OPSUITE_LEDGER_KEEP_DAYS) on both databases: it deletes exactly the journals
before the horizon and changes no balance from the horizon on; the database itself refuses any other
delete; the closed period takes no postings and answers no as-of question."""

from __future__ import annotations

import datetime as dt
import pathlib
import random
import sqlite3
from collections.abc import Callable, Sequence

import pytest

from services.common.calendar import BusinessCalendar
from services.common.sqlite import migrate_schema
from services.ledger.consumer import LedgerConsumer
from services.ledger.domain.records import Journal, JournalDraft, JournalKind
from services.ledger.domain.retention import MAX_SPAN, Retention
from services.ledger.domain.rules import LedgerBook
from services.ledger.domain.trial_balance import trial_balance_totals
from services.ledger.outbox import POSTED
from services.ledger.store import (
    ClosedPeriod,
    LedgerFilter,
    LedgerStore,
    PeriodClosed,
    TrialBalanceResult,
    open_store,
    postgres_schema,
    sqlite_schema,
)
from services.ledger.store.factory import SQLITE_FILE
from tests.ledger.store.conftest import DAY, Raw, draft, leg, subscription

WEEKDAYS = BusinessCalendar()
DAYS = [WEEKDAYS.add(DAY, n) for n in range(60)]  # 2020-02-03 .. 2020-04-24, weekdays
HORIZON = DAYS[35]  # 2020-03-23
LATER = DAYS[45]
NAMED = {
    "BAL-USD": ["Assets:Cash:USD", "Assets:Securities:AAPL", "Expenses:Commissions:USD", "Expenses:Fees:USD"],
    "EQ-EUR": ["Assets:Cash:EUR", "Equity:Capital:EUR"],
}


def _fee(key: str, day: dt.date, amount: str = "3.10", account: str = "Expenses:Fees:USD") -> JournalDraft:
    return draft(
        key, leg(account, amount), leg("Assets:Cash:USD", f"-{amount}"), day=day, kind=JournalKind.FEE
    )


def _book(store: LedgerStore) -> list[Journal]:
    """60 business days of two mandates, out of order where a ledger is: a journal dated at the end
    posted first (low ledger_seq, late date), backdated journals posted last (high seq, early date),
    and commissions only in the first weeks (an account whose last activity is before the horizon)."""
    rng = random.Random(20200203)
    store.post([_fee("future", DAYS[-1], "7.00")], open_missing=True)
    for n, day in enumerate(DAYS):
        qty = rng.randint(1, 20)
        cost = f"{qty * rng.randint(90, 110)}.{rng.randint(0, 99):02d}"
        drafts = [
            draft(
                f"buy-{n}",
                leg("Assets:Securities:AAPL", cost, quantity=str(qty), lot_id=f"L{n}", instrument_id="AAPL"),
                leg("Liabilities:PendingSettlement:USD", f"-{cost}"),
                day=day,
                kind=JournalKind.TRADE,
            ),
            draft(
                f"settle-{n}",
                leg("Liabilities:PendingSettlement:USD", cost),
                leg("Assets:Cash:USD", f"-{cost}"),
                day=day,
                kind=JournalKind.SETTLEMENT,
            ),
            subscription(f"eur-{n}", str(rng.randint(1, 300)), mandate="EQ-EUR", day=day),
        ]
        if n % 3 == 0:
            drafts.append(
                subscription(f"sub-{n}", f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}", day=day)
            )
        if n < 10:
            drafts.append(_fee(f"commission-{n}", day, "1.25", "Expenses:Commissions:USD"))
        store.post(drafts, open_missing=True)
    store.post(
        [_fee("backdated-closed", DAYS[5], "11.00"), _fee("backdated-kept", DAYS[40], "13.00")],
        open_missing=True,
    )
    return _all(store, LedgerFilter())


def _all(store: LedgerStore, flt: LedgerFilter) -> list[Journal]:
    out: list[Journal] = []
    while page := store.journals(flt, after_seq=out[-1].ledger_seq if out else 0, limit=500):
        out.extend(page)
    return out


Books = dict[tuple[str, dt.date | None], tuple[TrialBalanceResult, list[object]]]


def _books(store: LedgerStore, dates: Sequence[dt.date | None]) -> Books:
    """Every mandate's trial balance and named balances as of each date."""
    return {
        (mandate, day): (store.trial_balance(mandate, day), list(store.balances(mandate, names, day)))
        for mandate, names in NAMED.items()
        for day in dates
    }


def _as_of_dates(start: dt.date) -> list[dt.date | None]:
    """Every calendar day from start to past the last journal (weekends too), and "everything"."""
    span = (DAYS[-1] - start).days + 3
    return [*(start + dt.timedelta(days=d) for d in range(span)), None]


def test_a_close_deletes_exactly_the_journals_before_the_horizon_and_changes_no_balance(
    store: LedgerStore, raw: Raw
) -> None:
    journals = _book(store)
    assert any(j.draft.effective_date >= HORIZON for j in journals[:1])  # seq 1 is dated at the end
    before = _books(store, _as_of_dates(HORIZON))
    counts = store.counts()
    cumulative = "SELECT (SELECT COUNT(*) FROM balances) + (SELECT COUNT(*) FROM day_totals)"
    cumulative_rows = raw.scalar(cumulative)

    result = store.close_period(HORIZON, keep_days=25)

    kept = [j for j in journals if j.draft.effective_date >= HORIZON]
    gone = [j for j in journals if j.draft.effective_date < HORIZON]
    assert result is not None
    assert (result.closed_before, result.previous, result.journals, result.postings) == (
        HORIZON,
        None,
        len(gone),
        sum(len(j.postings) for j in gone),
    )
    assert store.closed_period() == ClosedPeriod(HORIZON, 25)
    # Exactly the journals before the horizon went, whatever their ledger_seq (backdated, future-dated).
    assert _all(store, LedgerFilter(kept_only=True)) == kept
    assert raw.scalar("SELECT COUNT(*) FROM journals") == len(kept)
    assert raw.scalar("SELECT COUNT(*) FROM postings") == sum(len(j.postings) for j in kept)
    assert store.find_by_key("backdated-closed") is None and store.find_by_key("backdated-kept") is not None
    assert store.first_date() == HORIZON
    # The books as of every date from the horizon on, and the trial balance, are exactly as before.
    assert _books(store, _as_of_dates(HORIZON)) == before
    for mandate in NAMED:
        assert trial_balance_totals(store.trial_balance(mandate, None).lines).balanced
    assert store.counts() == counts  # as booked: the closed journals are still in the balances
    # Per key, at most one cumulative row is left before the horizon (the one as-of the horizon reads).
    assert raw.scalar(cumulative) == cumulative_rows - result.balance_rows  # type: ignore[operator]
    left = raw.scalar(f"SELECT COUNT(*) FROM balances WHERE effective_date < '{HORIZON.isoformat()}'")
    assert 0 < left <= raw.scalar("SELECT COUNT(*) FROM balance_keys")  # type: ignore[operator]

    # A second close moves on the same way.
    again = store.close_period(LATER, keep_days=25)
    assert again is not None and (again.closed_before, again.previous) == (LATER, HORIZON)
    assert store.books_position().closed_before == LATER  # what the kept GetBalances answers are keyed on
    assert _all(store, LedgerFilter(kept_only=True)) == [j for j in kept if j.draft.effective_date >= LATER]
    assert _books(store, _as_of_dates(LATER)) == {
        key: value for key, value in before.items() if key[1] is None or key[1] >= LATER
    }


def test_reads_before_the_horizon_are_refused_naming_the_first_date_kept(store: LedgerStore) -> None:
    _book(store)
    store.close_period(HORIZON, keep_days=25)
    day_before = HORIZON - dt.timedelta(days=1)
    for read in (
        lambda: store.trial_balance("BAL-USD", day_before),
        lambda: store.balances("BAL-USD", ["Assets:Cash:USD"], day_before),
        lambda: store.balances("BAL-USD", [], DAY),
        lambda: store.journals(LedgerFilter()),
        lambda: store.journals(LedgerFilter(date_from=day_before, date_to=LATER)),
    ):
        with pytest.raises(PeriodClosed) as refused:
            read()
        assert refused.value.closed_before == HORIZON
        assert str(refused.value).startswith(
            "the ledger closed the period before 2020-03-23 (OPSUITE_LEDGER_KEEP_DAYS keeps 25 business days); "
        )
        assert "2020-03-23" in refused.value.detail
    assert str(_refusal(lambda: store.trial_balance("BAL-USD", day_before))).endswith(
        "balances as of 2020-03-22 are no longer kept: ask as of 2020-03-23 or later"
    )
    # From the horizon on, and asked for what is kept, the answers are there.
    assert store.trial_balance("BAL-USD", HORIZON).lines
    first = store.journals(LedgerFilter(date_from=HORIZON), limit=1)
    assert first == store.journals(LedgerFilter(kept_only=True), limit=1)
    assert (
        store.journals(LedgerFilter(kept_only=True, date_from=LATER), limit=1)[0].draft.effective_date
        >= LATER
    )


def _refusal(read: Callable[[], object]) -> PeriodClosed:
    with pytest.raises(PeriodClosed) as refused:
        read()
    return refused.value


def test_a_post_before_the_horizon_is_refused_and_changes_nothing(store: LedgerStore, raw: Raw) -> None:
    _book(store)
    store.close_period(HORIZON, keep_days=25)
    books, counts, cursor = _books(store, [HORIZON, None]), store.counts(), store.load_cursor()
    # A retry of a journal the close deleted (same key, same content, so the same date) is refused,
    # not posted a second time; and a batch with one such journal writes nothing of the others.
    for batch in (
        [_fee("backdated-closed", DAYS[5], "11.00")],
        [_fee("fresh", LATER), _fee("late", HORIZON - dt.timedelta(days=1))],
    ):
        refused = _refusal(lambda: store.post(batch, open_missing=True, cursor=99, state="x"))  # noqa: B023
        assert (
            "dated" in refused.detail
            and "date it 2020-03-23 or later. Nothing was written." in refused.detail
        )
    assert (_books(store, [HORIZON, None]), store.counts(), store.load_cursor()) == (books, counts, cursor)
    assert store.find_by_key("fresh") is None
    assert raw.scalar("SELECT COUNT(*) FROM journals WHERE idempotency_key = 'fresh'") == 0
    # On the horizon itself the period is open.
    [posted] = store.post([_fee("on-the-horizon", HORIZON)], open_missing=True)
    assert not posted.replayed and store.counts()[0] == counts[0] + 1


def test_the_database_refuses_deleting_what_the_close_keeps(store: LedgerStore, raw: Raw) -> None:
    _book(store)
    store.close_period(HORIZON, keep_days=25)
    kept = raw.scalar("SELECT MIN(ledger_seq) FROM journals")  # seq 1: dated at the end, kept
    on_horizon = raw.scalar(f"SELECT MAX(ledger_seq) FROM journals WHERE effective_date = '{HORIZON}'")
    for statement in (
        f"DELETE FROM journals WHERE ledger_seq = {on_horizon}",
        f"DELETE FROM postings WHERE ledger_seq = {on_horizon}",
        f"DELETE FROM postings WHERE ledger_seq = {kept}",
        "DELETE FROM journals",
        "UPDATE journals SET memo = 'edited'",
        f"UPDATE postings SET memo = 'edited' WHERE ledger_seq = {kept}",
        *([] if raw.sqlite else ["TRUNCATE postings, journals"]),
    ):
        with pytest.raises(raw.error, match="immutable"):
            raw.run(statement)
    # The horizon never moves back (that would reopen a period whose detail is gone) ...
    for moved in ("NULL", f"'{DAY}'"):
        with pytest.raises(raw.error, match="stays closed"):
            raw.run(f"UPDATE ledger_state SET closed_before = {moved}")
    # ... and the closed period takes no journal, whatever writes it.
    seq = raw.scalar("SELECT last_seq FROM ledger_state") + 1  # type: ignore[operator]
    with pytest.raises(raw.error, match="period is closed"):
        raw.run(*_raw_journal(raw, seq, HORIZON - dt.timedelta(days=1)))
    assert raw.scalar("SELECT COUNT(*) FROM journals") == len(_all(store, LedgerFilter(kept_only=True)))
    # What the database allows is exactly a delete before the recorded horizon: postings first.
    raw.run(
        f"UPDATE ledger_state SET closed_before = '{LATER}'",
        f"DELETE FROM postings WHERE ledger_seq IN (SELECT ledger_seq FROM journals WHERE effective_date < '{LATER}')",
        f"DELETE FROM journals WHERE effective_date < '{LATER}'",
    )
    assert raw.scalar(f"SELECT COUNT(*) FROM journals WHERE effective_date < '{LATER}'") == 0


def _raw_journal(raw: Raw, seq: int, day: dt.date) -> list[str]:
    """A balanced journal in raw SQL, postings first and the header last (the store's order)."""
    times = ("sim_time_us, posted_at_us", "0, 0") if raw.sqlite else ("sim_time, posted_at", "now(), now()")
    posting = (
        "INSERT INTO postings (ledger_seq, posting_no, mandate_id, account, currency, amount, base_amount,"
        " quantity, instrument_id, lot_id, memo) VALUES ({seq}, {no}, 'BAL-USD', '{account}', 'USD',"
        " {amount}, {amount}, NULL, '', '', '')"
    )
    return [
        posting.format(seq=seq, no=0, account="Assets:Cash:USD", amount=raw.money("5")),
        posting.format(seq=seq, no=1, account="Equity:Capital:USD", amount=raw.money("-5")),
        "INSERT INTO journals (ledger_seq, journal_id, idempotency_key, content_hash, mandate_id, kind,"
        f" effective_date, {times[0]}, memo, source_event_id, trace_id, caused_by, posted_by,"
        " reverses_journal_id, reversal_reason, posting_count) VALUES"
        f" ({seq}, 'raw-{seq}', 'raw-{seq}', '', 'BAL-USD', 'MANUAL', '{day}', {times[1]}, '', '', '',"
        " '[]', 'raw', '', '', 2)",
    ]


def test_the_horizon_never_passes_an_undelivered_record_nor_moves_back(store: LedgerStore, raw: Raw) -> None:
    store.post([subscription("early", day=DAYS[0]), _fee("fee", DAYS[1])], open_missing=True)
    [announced] = store.post([_fee("announced", DAYS[3])], open_missing=True, announce=POSTED)
    store.post([_fee("delivered", DAYS[4])], open_missing=True, announce=POSTED)
    store.mark_delivered(
        [i.outbox_id for i in store.undelivered() if i.journal.draft.idempotency_key == "delivered"]
    )
    store.post([_fee(f"late-{n}", day) for n, day in enumerate(DAYS[5:10])], open_missing=True)

    # The relay still has to read "announced": the close stops at its date.
    result = store.close_period(DAYS[8], keep_days=3)
    assert result is not None and result.closed_before == DAYS[3] and result.journals == 2
    assert [i.journal.journal_id for i in store.undelivered()] == [announced.journal.journal_id]
    assert store.close_period(DAYS[8], keep_days=3) is None  # still held back: nothing moves
    store.mark_delivered([announced.journal.ledger_seq])
    result = store.close_period(DAYS[8], keep_days=3)
    assert result is not None and (result.previous, result.closed_before, result.journals) == (
        DAYS[3],
        DAYS[8],
        5,
    )
    # Delivered outbox rows went with their journals.
    assert raw.scalar("SELECT COUNT(*) FROM outbox") == 0
    # Never back, never in place.
    assert store.close_period(DAYS[6], keep_days=3) is None
    assert store.close_period(DAYS[8], keep_days=3) is None
    assert store.closed_period() == ClosedPeriod(DAYS[8], 3)


def test_the_consumer_closes_in_bounded_steps_up_to_the_retention_horizon(
    opener: Callable[[], LedgerStore],
) -> None:
    """A store that never closed (an upgrade of a long run) reaches its horizon by closes of at most
    MAX_SPAN business days each; then nothing is due until the horizon can move a whole step."""
    store = opener()
    days = [WEEKDAYS.add(DAY, n) for n in range(200)]
    store.post([subscription(f"s-{n}", "10", day=day) for n, day in enumerate(days)], open_missing=True)
    consumer = LedgerConsumer(store, lambda: LedgerBook({}, {}), Retention(20))
    latest = days[-1]
    before = store.trial_balance("BAL-USD", None)

    closes = consumer.close_due(latest)

    horizon = WEEKDAYS.add(latest, -20)
    assert closes == -(-WEEKDAYS.count_between(days[0], horizon) // MAX_SPAN)  # ceil: 179 / 63 -> 3
    assert store.closed_period() == ClosedPeriod(horizon, 20)
    assert store.first_date() == horizon
    assert store.trial_balance("BAL-USD", None) == before
    assert consumer.close_due(WEEKDAYS.add(latest, Retention(20).step - 1)) == 0
    assert consumer.close_due(WEEKDAYS.add(latest, Retention(20).step)) == 1


def test_a_ledger_from_before_the_close_gains_it_on_open(dsn: str, tmp_path: pathlib.Path) -> None:
    """A schema-version-2 database holding a journal is migrated on open: nothing closed yet, deletes
    still refused, and a close then works."""
    if not dsn:
        conn = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
        migrate_schema(conn, sqlite_schema.MIGRATIONS[:2], lambda found, known: AssertionError(found))
        conn.close()
        raw = Raw(dsn, tmp_path)
    else:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute("CREATE TABLE ledger_schema (version integer NOT NULL)")
            pg.execute("INSERT INTO ledger_schema (version) VALUES (2)")
            for statement in (*postgres_schema.MIGRATIONS[0], *postgres_schema.MIGRATIONS[1]):
                pg.execute(statement)
        raw = Raw(dsn, tmp_path)
    try:
        raw.run(*_raw_journal(raw, 1, DAY), "UPDATE ledger_state SET last_seq = 1")
        store = open_store(dsn, tmp_path)
        try:
            assert store.closed_period() == ClosedPeriod()
            assert store.get_journal("raw-1") is not None
            with pytest.raises(raw.error, match="immutable"):
                raw.run("DELETE FROM postings")
            store.post([subscription("s", day=LATER)], open_missing=True)
            result = store.close_period(HORIZON, keep_days=25)
            assert result is not None and result.journals == 1
            assert store.get_journal("raw-1") is None and store.find_by_key("s") is not None
        finally:
            store.close()
    finally:
        raw.close()
