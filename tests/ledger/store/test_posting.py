"""post(): exact round trip, ledger_seq, idempotency, accounts, reversals, cursor atomicity, reopening."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest

from services.ledger.domain.records import Account, JournalKind
from services.ledger.store import (
    AlreadyReversed,
    BooksPosition,
    ClosedAccount,
    IdempotencyConflict,
    InvalidDraft,
    LedgerFilter,
    LedgerStore,
    TooPrecise,
    Unbalanced,
    UnknownAccount,
    UnknownJournal,
)
from tests.ledger.store.conftest import DAY, draft, leg, subscription


def buy(key: str = "mkt:mkt-7", day: dt.date = DAY):
    """A trade-date buy: 100 AAPL at 150.25 gross 15025.00, commission 7.50, fees 0.125 -> net 15032.625."""
    return draft(
        key,
        leg("Assets:Securities:AAPL", "15025.00", quantity="100", lot_id="fill-1", instrument_id="AAPL"),
        leg("Expenses:Commissions:USD", "7.50"),
        leg("Expenses:Fees:USD", "0.125", memo="sec fee"),
        leg("Liabilities:PendingSettlement:USD", "-15032.625"),
        day=day,
        kind=JournalKind.TRADE,
        memo="BUY 100 AAPL",
        source_event_id="mkt-7",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        caused_by=("mkt-5", "mkt-6"),
        posted_by="ledger",
    )


def test_post_reads_back_exactly(store: LedgerStore) -> None:
    posted = store.post([buy()], open_missing=True)
    assert [r.replayed for r in posted] == [False]
    journal = posted[0].journal
    assert journal.ledger_seq == 1
    assert uuid.UUID(journal.journal_id).version == 7
    assert journal.posted_at.tzinfo is not None
    for stored in (store.get_journal(journal.journal_id), store.find_by_key("mkt:mkt-7")):
        assert stored is not None
        assert stored.draft == buy()
        assert stored.journal_id == journal.journal_id
        assert stored.posted_at == journal.posted_at
        assert stored.reversed_by_journal_id == ""
    stored = store.get_journal(journal.journal_id)
    assert stored is not None
    securities = stored.postings[0]
    assert (securities.quantity, securities.lot_id, securities.instrument_id) == (
        Decimal(100),
        "fill-1",
        "AAPL",
    )
    assert stored.postings[2].amount == Decimal("0.125") and stored.postings[2].memo == "sec fee"
    assert stored.draft.caused_by == ("mkt-5", "mkt-6")
    assert store.get_journal(str(uuid.uuid4())) is None
    assert store.find_by_key("nope") is None
    assert store.counts() == (1, 4)


def test_ledger_seq_is_gap_free_even_after_a_refused_batch(store: LedgerStore) -> None:
    store.post([subscription("a"), subscription("b")], open_missing=True)
    with pytest.raises(UnknownAccount):
        store.post([subscription("c"), subscription("d", mandate="EQ-EUR")], open_missing=False)
    store.post([subscription("e"), subscription("f", day=DAY - dt.timedelta(days=3))], open_missing=True)
    seqs = [j.ledger_seq for j in store.journals(LedgerFilter())]
    assert seqs == [1, 2, 3, 4]
    assert [j.draft.idempotency_key for j in store.journals(LedgerFilter())] == ["a", "b", "e", "f"]


def test_same_key_same_content_replays_and_writes_nothing(store: LedgerStore) -> None:
    first = store.post([buy(), subscription("s1")], open_missing=True)
    before = store.counts()
    # A retry may carry another sim_time, trace id or caused_by: the content is what counts.
    retry = buy().__class__(**{**_fields(buy()), "trace_id": "f" * 32, "caused_by": ()})
    again = store.post([retry, subscription("s2"), subscription("s1")], open_missing=True)
    assert [r.replayed for r in again] == [True, False, True]
    assert again[0].journal.journal_id == first[0].journal.journal_id
    assert again[0].journal.draft == buy()  # the stored journal, not the retry
    assert again[2].journal.journal_id == first[1].journal.journal_id
    assert store.counts() == (before[0] + 1, before[1] + 2)
    # Within one batch, a repeated key is posted once.
    twice = store.post([subscription("s3"), subscription("s3")], open_missing=True)
    assert [r.replayed for r in twice] == [False, True]
    assert twice[0].journal.journal_id == twice[1].journal.journal_id
    assert store.counts()[0] == before[0] + 2


def _fields(value: object) -> dict[str, object]:
    return {name: getattr(value, name) for name in value.__slots__}  # type: ignore[attr-defined]


def test_same_key_other_content_is_refused_and_nothing_of_the_batch_is_written(store: LedgerStore) -> None:
    original = store.post([subscription("k", "1000")], open_missing=True, cursor=3, state="s3")[0].journal
    before = store.counts()
    with pytest.raises(IdempotencyConflict) as refused:
        store.post(
            [subscription("fresh", mandate="EQ-EUR"), subscription("k", "1000.01")],
            open_missing=True,
            cursor=9,
            state="s9",
        )
    assert refused.value.key == "k" and refused.value.journal_id == original.journal_id
    assert store.counts() == before
    assert store.find_by_key("fresh") is None
    assert store.accounts("EQ-EUR") == []
    assert store.load_cursor() == (3, "s3")
    # Two drafts of one batch with one key and different content conflict too.
    with pytest.raises(IdempotencyConflict):
        store.post([subscription("x", "1"), subscription("x", "2")], open_missing=True)
    assert store.counts() == before


def test_accounts_open_on_first_use_or_are_refused(store: LedgerStore) -> None:
    with pytest.raises(UnknownAccount) as refused:
        store.post([subscription("s")], open_missing=False)
    assert (refused.value.account, refused.value.mandate_id) == ("Assets:Cash:USD", "BAL-USD")
    store.post([buy(day=DAY + dt.timedelta(days=1)), subscription("s")], open_missing=True)
    chart = {a.name: a for a in store.accounts("BAL-USD")}
    assert chart["Assets:Securities:AAPL"] == Account(
        "BAL-USD", "Assets:Securities:AAPL", "USD", DAY + dt.timedelta(days=1), "AAPL"
    )
    assert chart["Assets:Cash:USD"].opened_on == DAY and chart["Assets:Cash:USD"].currency == "USD"
    # Known accounts post without open_missing; a backdated use opens the account earlier.
    store.post([buy("mkt:mkt-8", day=DAY - dt.timedelta(days=2))], open_missing=False)
    assert {a.name: a for a in store.accounts()}["Assets:Securities:AAPL"].opened_on == DAY - dt.timedelta(
        days=2
    )
    assert [a.name for a in store.accounts()] == sorted(chart)


def test_closed_account_is_refused(store: LedgerStore) -> None:
    store.post([subscription("s"), subscription("e", mandate="EQ-EUR")], open_missing=True)
    store.close_account("BAL-USD", "Equity:Capital:USD", DAY + dt.timedelta(days=5))
    with pytest.raises(ClosedAccount) as refused:
        store.post([subscription("t", day=DAY + dt.timedelta(days=1))], open_missing=True)
    assert refused.value.closed_on == DAY + dt.timedelta(days=5)
    assert refused.value.account == "Equity:Capital:USD"
    assert [a.name for a in store.accounts("BAL-USD")] == ["Assets:Cash:USD"]
    closed = [a for a in store.accounts(include_closed=True) if a.closed_on is not None]
    assert [(a.mandate_id, a.name) for a in closed] == [("BAL-USD", "Equity:Capital:USD")]
    assert [a.mandate_id for a in store.accounts(include_closed=True)] == [
        "BAL-USD",
        "BAL-USD",
        "EQ-EUR",
        "EQ-EUR",
    ]
    with pytest.raises(ClosedAccount):
        store.close_account("BAL-USD", "Equity:Capital:USD", DAY)
    with pytest.raises(UnknownAccount):
        store.close_account("BAL-USD", "Assets:Cash:EUR", DAY)


def test_reversal_links_and_is_allowed_once(store: LedgerStore) -> None:
    original = store.post([subscription("s", "250")], open_missing=True)[0].journal
    reversal = draft(
        "rev:s",
        leg("Assets:Cash:USD", "-250"),
        leg("Equity:Capital:USD", "250"),
        kind=JournalKind.REVERSAL,
        reverses_journal_id=original.journal_id,
        reversal_reason="wrong amount",
    )
    posted = store.post([reversal], open_missing=False)[0].journal
    stored = store.get_journal(original.journal_id)
    assert stored is not None and stored.reversed_by_journal_id == posted.journal_id
    again = store.get_journal(posted.journal_id)
    assert again is not None and again.draft.reverses_journal_id == original.journal_id
    assert again.draft.reversal_reason == "wrong amount"
    with pytest.raises(AlreadyReversed) as refused:
        store.post(
            [reversal.__class__(**{**_fields(reversal), "idempotency_key": "rev:s:2"})], open_missing=False
        )
    assert refused.value.reversed_by_journal_id == posted.journal_id
    with pytest.raises(UnknownJournal):
        store.post(
            [
                reversal.__class__(
                    **{**_fields(reversal), "idempotency_key": "r3", "reverses_journal_id": "x"}
                )
            ],
            open_missing=False,
        )
    second = store.post([subscription("s2", "5")], open_missing=True)[0].journal
    twice = [
        reversal.__class__(
            **{**_fields(reversal), "idempotency_key": key, "reverses_journal_id": second.journal_id}
        )
        for key in ("r4", "r5")
    ]
    with pytest.raises(AlreadyReversed):
        store.post(twice, open_missing=False)
    assert store.counts() == (3, 6)


def test_cursor_and_state_commit_with_the_journals(store: LedgerStore) -> None:
    assert store.load_cursor() == (0, None)
    store.post([subscription("a")], open_missing=True, cursor=10, state='{"lots": []}')
    assert store.load_cursor() == (10, '{"lots": []}')
    with pytest.raises(UnknownAccount):
        store.post([subscription("b", mandate="EQ-EUR")], open_missing=False, cursor=20, state="later")
    assert store.load_cursor() == (10, '{"lots": []}')
    # A batch with no journals still moves the cursor; a None state leaves the blob alone.
    store.post([], open_missing=True, cursor=30)
    assert store.load_cursor() == (30, '{"lots": []}')
    store.post([], open_missing=True, state="")
    assert store.load_cursor() == (30, "")
    # Where the books stand: the cursor, the last journal's seq (one journal posted), no close yet.
    assert store.books_position() == BooksPosition(market_seq=30, last_seq=1, closed_before=None)


def test_refusals_before_the_database(store: LedgerStore) -> None:
    with pytest.raises(TooPrecise):
        store.post([subscription("p", "0.0000001")], open_missing=True)
    with pytest.raises(TooPrecise):
        store.post([draft("q", leg("Assets:Securities:X", "0", quantity="0.1234567"))], open_missing=True)
    missing_base = leg("Assets:Cash:USD", "1").__class__("Assets:Cash:USD", Decimal(1), "USD")
    with pytest.raises(InvalidDraft):
        store.post([draft("b", missing_base)], open_missing=True)
    with pytest.raises(InvalidDraft):
        store.post([draft("e")], open_missing=True)
    assert store.counts() == (0, 0)
    assert store.accounts(include_closed=True) == []


def test_unbalanced_draft_is_refused_by_the_database(store: LedgerStore) -> None:
    with pytest.raises(Unbalanced) as refused:
        store.post(
            [subscription("ok"), draft("bad", leg("Assets:Cash:USD", "10"), leg("Equity:Capital:USD", "-9"))],
            open_missing=True,
            cursor=4,
        )
    assert refused.value.imbalance == {"USD": Decimal(1), "base": Decimal(1)}
    # Base amounts must balance too, even when every currency does.
    with pytest.raises(Unbalanced) as refused:
        store.post(
            [
                draft(
                    "fx",
                    leg("Assets:Cash:EUR", "10", "EUR", base="11.00"),
                    leg("Equity:Capital:EUR", "-10", "EUR", base="-10.99"),
                )
            ],
            open_missing=True,
        )
    assert refused.value.imbalance == {"base": Decimal("0.01")}
    assert store.counts() == (0, 0)
    assert store.load_cursor() == (0, None)


def test_reopening_keeps_everything(opener: Callable[[], LedgerStore]) -> None:
    store = opener()
    posted = store.post(
        [buy(), subscription("s", day=DAY - dt.timedelta(days=1))], open_missing=True, cursor=42, state="st"
    )
    store.close_account("BAL-USD", "Expenses:Fees:USD", DAY + dt.timedelta(days=9))
    before = (
        store.journals(LedgerFilter()),
        store.trial_balance("BAL-USD", None),
        store.accounts(include_closed=True),
        store.counts(),
    )
    store.close()
    again = opener()
    after = (
        again.journals(LedgerFilter()),
        again.trial_balance("BAL-USD", None),
        again.accounts(include_closed=True),
        again.counts(),
    )
    assert after == before
    assert again.load_cursor() == (42, "st")
    assert [j.journal_id for j in after[0]] == [r.journal.journal_id for r in posted]
    assert again.post([subscription("t")], open_missing=False)[0].journal.ledger_seq == 3


def test_concurrent_writers_and_readers_keep_ledger_seq_gap_free(store: LedgerStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(worker: int) -> int:
        for n in range(5):
            store.post([subscription(f"w{worker}:{n}:{k}", "1") for k in range(3)], open_missing=True)
            store.trial_balance("BAL-USD", None)
        return worker

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sorted(pool.map(work, range(4))) == [0, 1, 2, 3]
    journals = store.journals(LedgerFilter(), limit=1000)
    assert [j.ledger_seq for j in journals] == list(range(1, 61))
    cash = store.balances("BAL-USD", ["Assets:Cash:USD"], None)[0]
    # 4 workers x 5 batches x 3 journals of 1 USD each.
    assert cash.debit_total == 60
    assert store.trial_balance("BAL-USD", None).journal_count == 60
