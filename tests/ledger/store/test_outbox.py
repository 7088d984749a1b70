"""The transactional outbox on both backends: post(announce=...) and the relay to the event log."""

from __future__ import annotations

import datetime as dt
import pathlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence

import pytest

from services.common.eventlog import EventLog, LogRecord, NewRecord, open_event_log
from services.common.sqlite import migrate_schema
from services.ledger.domain.records import JournalKind
from services.ledger.outbox import BOOKED, POSTED, REVERSED, OutboxRelay, announcement, stream_kind
from services.ledger.store import LedgerStore, Unbalanced, open_store, postgres_schema, sqlite_schema
from services.ledger.store.factory import SQLITE_FILE
from tests.ledger.store.conftest import DAY, Raw, draft, leg, subscription


@pytest.fixture
def event_log(tmp_path: pathlib.Path) -> Iterator[EventLog]:
    log = open_event_log(None, tmp_path)
    yield log
    log.close()


class FailingOnce:
    """The real event log, except that appending `event_id` fails the first time (an outage)."""

    def __init__(self, log: EventLog, event_id: str) -> None:
        self.log = log
        self.event_id = event_id
        self.failed = False

    def append(self, source: str, records: Sequence[NewRecord]) -> list[LogRecord]:
        if not self.failed and any(r.event_id == self.event_id for r in records):
            self.failed = True
            raise ConnectionError("event log unreachable")
        return self.log.append(source, records)


def _outbox_rows(raw: Raw) -> object:
    return raw.scalar("SELECT COUNT(*) FROM outbox")


def test_announce_writes_one_row_per_new_journal_and_none_for_replays(store: LedgerStore, raw: Raw) -> None:
    posted = store.post(
        [subscription("a"), subscription("b"), subscription("a")], open_missing=True, announce=POSTED
    )
    assert [r.replayed for r in posted] == [False, False, True]
    assert _outbox_rows(raw) == 2
    store.post([subscription("a"), subscription("b")], open_missing=True, announce=POSTED)  # a retry
    store.post([subscription("c")], open_missing=True)  # not announced
    assert _outbox_rows(raw) == 2
    items = store.undelivered()
    assert [(i.kind, i.journal) for i in items] == [(POSTED, posted[0].journal), (POSTED, posted[1].journal)]
    assert [i.outbox_id for i in items] == sorted(i.outbox_id for i in items)


def test_a_refused_batch_leaves_no_outbox_row(store: LedgerStore, raw: Raw) -> None:
    unbalanced = draft("u", leg("Assets:Cash:USD", "10.00"), leg("Equity:Capital:USD", "-9.99"))
    with pytest.raises(Unbalanced):
        store.post([subscription("s"), unbalanced], open_missing=True, announce=POSTED)
    assert _outbox_rows(raw) == 0
    assert store.undelivered() == [] and store.counts() == (0, 0)


def test_undelivered_and_mark_delivered(opener: Callable[[], LedgerStore]) -> None:
    store = opener()
    keys = [f"k{n}" for n in range(5)]
    posted = store.post([subscription(k) for k in keys], open_missing=True, announce=POSTED)
    first = store.undelivered(limit=2)
    assert [i.journal.draft.idempotency_key for i in first] == keys[:2]
    store.mark_delivered([first[0].outbox_id, posted[3].journal.ledger_seq])
    store.mark_delivered([first[0].outbox_id])  # marking twice is harmless
    assert [i.journal.draft.idempotency_key for i in store.undelivered()] == ["k1", "k2", "k4"]
    store.close()
    assert [i.journal.draft.idempotency_key for i in opener().undelivered()] == [
        "k1",
        "k2",
        "k4",
    ]  # persisted


def test_announcement_is_the_event_log_record_of_the_journal(store: LedgerStore) -> None:
    journal = store.post(
        [subscription("s", memo="seed money", trace_id="ab" * 16, caused_by=("mkt-1",), posted_by="api")],
        open_missing=True,
    )[0].journal
    record = announcement(journal, REVERSED)
    assert record == NewRecord(
        event_id=f"ldg-{journal.journal_id}",
        kind=REVERSED,
        sim_time=dt.datetime.combine(DAY, dt.time(23, 59, 59, 999999), tzinfo=dt.UTC),
        trace_id="ab" * 16,
        caused_by=("mkt-1",),
        mandate_id="BAL-USD",
        summary=f"journal {journal.journal_id} (JOURNAL_KIND_SUBSCRIPTION) posted by api: seed money",
    )


def test_the_relay_delivers_in_order_once(store: LedgerStore, event_log: EventLog) -> None:
    posted = store.post([subscription(f"k{n}") for n in range(3)], open_missing=True, announce=POSTED)
    relay = OutboxRelay(store, event_log)
    assert relay.deliver() == 3
    assert [r.event_id for r in event_log.read("ledger", 0, 100)] == [
        f"ldg-{p.journal.journal_id}" for p in posted
    ]
    assert store.undelivered() == [] and relay.deliver() == 0


def test_a_record_already_in_the_log_counts_as_delivered(store: LedgerStore, event_log: EventLog) -> None:
    [posted] = store.post([subscription("s")], open_missing=True, announce=POSTED)
    # A crash between the append and mark_delivered: the record is in the log, the row not marked.
    event_log.append("ledger", [announcement(posted.journal, POSTED)])
    assert OutboxRelay(store, event_log).deliver() == 1
    assert store.undelivered() == [] and event_log.head("ledger") == 1


def test_a_failed_append_is_retried_by_the_next_delivery(store: LedgerStore, event_log: EventLog) -> None:
    posted = store.post([subscription(f"k{n}") for n in range(3)], open_missing=True, announce=POSTED)
    ids = [f"ldg-{p.journal.journal_id}" for p in posted]
    relay = OutboxRelay(store, FailingOnce(event_log, ids[1]))  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        relay.deliver()  # the items go in one append: none of them is in the log
    assert event_log.read("ledger", 0, 100) == []
    assert [i.journal.journal_id for i in store.undelivered()] == [p.journal.journal_id for p in posted]
    assert relay.deliver() == 3
    assert [r.event_id for r in event_log.read("ledger", 0, 100)] == ids
    assert store.undelivered() == []


def test_a_batch_with_a_record_already_in_the_log_is_delivered_one_by_one(
    store: LedgerStore, event_log: EventLog
) -> None:
    posted = store.post([subscription(f"k{n}") for n in range(3)], open_missing=True, announce=POSTED)
    # A crash between the append of the middle one and its mark: the batch append is refused whole.
    event_log.append("ledger", [announcement(posted[1].journal, POSTED)])
    assert OutboxRelay(store, event_log).deliver() == 3
    assert [r.event_id for r in event_log.read("ledger", 0, 100)] == [
        f"ldg-{posted[i].journal.journal_id}" for i in (1, 0, 2)
    ]
    assert store.undelivered() == []


def test_stream_journals_are_announced_by_kind_caused_by_what_they_booked(
    store: LedgerStore, event_log: EventLog
) -> None:
    """The consumer's announce: a trade, a settlement and a cash flow are recorded as journal.booked,
    caused by the market event booked (a settlement also by what it settles), with the money leg in
    the summary; a mark is not recorded."""
    base = {"trace_id": "ab" * 16}
    trade = draft(
        "mkt:mkt-7",
        leg("Expenses:Fees:USD", "1200.00"),
        leg("Liabilities:PendingSettlement:USD", "-1200.00"),
        kind=JournalKind.TRADE,
        source_event_id="mkt-7",
        caused_by=("mkt-2",),
        memo="BUY 120 US-AAA @ 10.00 (FIL-1)",
        **base,
    )
    settlement = draft(
        "mkt:mkt-9",
        leg("Liabilities:PendingSettlement:USD", "1200.00"),
        leg("Assets:Cash:USD", "-1200.00"),
        kind=JournalKind.SETTLEMENT,
        source_event_id="mkt-9",
        caused_by=("mkt-8", "mkt-7"),
        **base,
    )
    mark = draft(
        "mkt:mkt-10",
        leg("Expenses:Fees:USD", "5.00"),
        leg("Income:UnrealizedGains:USD", "-5.00"),
        kind=JournalKind.MARK_TO_MARKET,
        source_event_id="mkt-10",
        caused_by=(),
        **base,
    )
    posted = store.post([trade, settlement, mark], open_missing=True, announce=stream_kind)
    assert [i.kind for i in store.undelivered()] == [BOOKED, BOOKED]
    assert OutboxRelay(store, event_log).deliver() == 2
    trade_record, settlement_record = event_log.read("ledger", 0, 100)
    trade_id = posted[0].journal.journal_id
    assert (trade_record.event_id, trade_record.kind, trade_record.caused_by) == (
        f"ldg-{trade_id}",
        BOOKED,
        ("mkt-7",),
    )
    assert trade_record.summary == (
        f"journal {trade_id} (JOURNAL_KIND_TRADE) booked mkt-7: Cr Liabilities:PendingSettlement:USD "
        "1,200.00 USD; BUY 120 US-AAA @ 10.00 (FIL-1)"
    )
    assert trade_record.sim_time == dt.datetime.combine(DAY, dt.time(16, 30), tzinfo=dt.UTC)
    assert trade_record.trace_id == "ab" * 16
    assert settlement_record.caused_by == ("mkt-9", "mkt-8", "mkt-7")
    assert "Dr Liabilities:PendingSettlement:USD 1,200.00 USD" in settlement_record.summary
    # A replayed batch (a restart before the cursor moved) announces nothing again.
    store.post([trade, settlement, mark], open_missing=True, announce=stream_kind)
    assert store.undelivered() == []


def test_a_record_the_log_refuses_does_not_block_the_ones_after_it(
    store: LedgerStore, event_log: EventLog, caplog: pytest.LogCaptureFixture
) -> None:
    # A trace id the event log will never take (not 32 hex characters), committed with its journal.
    posted = store.post(
        [subscription("bad", trace_id="_MARKETEVENT"), subscription("good")],
        open_missing=True,
        announce=POSTED,
    )
    assert OutboxRelay(store, event_log).deliver() == 2
    assert [r.event_id for r in event_log.read("ledger", 0, 100)] == [f"ldg-{posted[1].journal.journal_id}"]
    assert store.undelivered() == []
    assert any(
        r.message == "the event log refused a journal's record; it is left out of the log"
        and getattr(r, "journal_id", "") == posted[0].journal.journal_id
        for r in caplog.records
    )


def test_a_ledger_from_before_the_outbox_gains_it_on_open(dsn: str, tmp_path: pathlib.Path) -> None:
    """A schema-version-1 database (no outbox table) is migrated on open and keeps its journals."""
    if not dsn:
        conn = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
        migrate_schema(conn, sqlite_schema.MIGRATIONS[:1], lambda found, known: AssertionError(found))
        conn.close()
    else:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute("CREATE TABLE ledger_schema (version integer NOT NULL)")
            pg.execute("INSERT INTO ledger_schema (version) VALUES (1)")
            for statement in postgres_schema.MIGRATIONS[0]:
                pg.execute(statement)
    store = open_store(dsn, tmp_path)
    try:
        store.post([subscription("s")], open_missing=True, announce=POSTED)
        assert [i.journal.draft.idempotency_key for i in store.undelivered()] == ["s"]
    finally:
        store.close()
