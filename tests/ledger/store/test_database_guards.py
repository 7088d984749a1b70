"""What the database itself refuses, tried with raw SQL past the store's code."""

from __future__ import annotations

import pathlib

import pytest

from services.ledger.store import LedgerFilter, LedgerStore, SchemaTooNew, open_store
from services.ledger.store.factory import SQLITE_FILE
from tests.ledger.store.conftest import Raw, subscription

_POSTING = (
    "INSERT INTO postings (ledger_seq, posting_no, mandate_id, account, currency, amount, base_amount,"
    " quantity, instrument_id, lot_id, memo) VALUES ({seq}, {no}, 'BAL-USD', '{account}', 'USD',"
    " {amount}, {amount}, NULL, '', '', '')"
)


def _header(raw: Raw, seq: int, postings: int = 2) -> str:
    times = "0, 0" if raw.sqlite else "now(), now()"
    time_columns = "sim_time_us, posted_at_us" if raw.sqlite else "sim_time, posted_at"
    return (
        "INSERT INTO journals (ledger_seq, journal_id, idempotency_key, content_hash, mandate_id, kind,"
        f" effective_date, {time_columns}, memo, source_event_id, trace_id, caused_by, posted_by,"
        " reverses_journal_id, reversal_reason, posting_count) VALUES"
        f" ({seq}, 'raw-{seq}', 'raw-{seq}', '', 'BAL-USD', 'MANUAL', '2020-02-03', {times}, '', '', '',"
        f" '[]', 'raw', '', '', {postings})"
    )


def _journal(raw: Raw, seq: int, cash: str, capital: str) -> list[str]:
    """A raw journal in the store's own order: postings first, the header last."""
    return [
        _POSTING.format(seq=seq, no=0, account="Assets:Cash:USD", amount=raw.money(cash)),
        _POSTING.format(seq=seq, no=1, account="Equity:Capital:USD", amount=raw.money(capital)),
        _header(raw, seq),
    ]


def test_journals_and_postings_refuse_update_and_delete(store: LedgerStore, raw: Raw) -> None:
    store.post([subscription("s")], open_missing=True)
    for statement in (
        "UPDATE journals SET memo = 'edited'",
        "DELETE FROM journals",
        f"UPDATE postings SET amount = {raw.money('1')}",
        "DELETE FROM postings",
        *([] if raw.sqlite else ["TRUNCATE postings, journals"]),
    ):
        with pytest.raises(raw.error, match="immutable"):
            raw.run(statement)
    assert store.counts() == (1, 2)
    stored = store.find_by_key("s")
    assert stored is not None and stored.draft == subscription("s")


def test_accounts_only_close(store: LedgerStore, raw: Raw) -> None:
    store.post([subscription("s")], open_missing=True)
    for statement in ("UPDATE accounts SET currency = 'EUR'", "DELETE FROM accounts"):
        with pytest.raises(raw.error, match="account"):
            raw.run(statement)
    raw.run("UPDATE accounts SET closed_on = '2020-03-01' WHERE name = 'Assets:Cash:USD'")
    with pytest.raises(raw.error, match="account"):
        raw.run("UPDATE accounts SET closed_on = NULL WHERE name = 'Assets:Cash:USD'")


def test_the_database_refuses_unbalanced_journals(store: LedgerStore, raw: Raw) -> None:
    store.post([subscription("s")], open_missing=True)  # opens the accounts, seq 1
    with pytest.raises(raw.error, match="does not balance"):
        raw.run(*_journal(raw, 2, "10.00", "-9.99"))
    # A header claiming more postings than it has is refused too.
    with pytest.raises(raw.error, match="does not balance"):
        raw.run(
            _POSTING.format(seq=2, no=0, account="Assets:Cash:USD", amount=raw.money("0")), _header(raw, 2, 2)
        )
    # Postings without a header fail at commit (deferred foreign key).
    with pytest.raises(raw.error):
        raw.run(_POSTING.format(seq=3, no=0, account="Assets:Cash:USD", amount=raw.money("0")))
    assert raw.scalar("SELECT COUNT(*) FROM journals") == 1
    # The same SQL with balanced amounts goes in: the refusals above were about the balance.
    raw.run(*_journal(raw, 2, "10.00", "-10.00"))
    assert raw.scalar("SELECT COUNT(*) FROM journals") == 2
    # ... and nothing can be added to a stored journal, balanced or not.
    with pytest.raises(raw.error, match="immutable"):
        raw.run(
            _POSTING.format(seq=2, no=2, account="Assets:Cash:USD", amount=raw.money("5")),
            _POSTING.format(seq=2, no=3, account="Equity:Capital:USD", amount=raw.money("-5")),
        )
    assert raw.scalar("SELECT COUNT(*) FROM postings") == 4


def test_a_newer_schema_is_refused(dsn: str, tmp_path: pathlib.Path, store: LedgerStore, raw: Raw) -> None:
    store.post([subscription("s")], open_missing=True)
    store.close()
    raw.run("PRAGMA user_version = 99" if raw.sqlite else "UPDATE ledger_schema SET version = 99")
    with pytest.raises(SchemaTooNew):
        open_store(dsn, tmp_path)


def test_open_store_picks_the_backend(tmp_path: pathlib.Path) -> None:
    store = open_store("", tmp_path)
    try:
        assert store.journals(LedgerFilter()) == []
    finally:
        store.close()
    assert (tmp_path / SQLITE_FILE).exists()
    with pytest.raises(ValueError, match="postgresql://"):
        open_store("mysql://root@localhost/ledger", tmp_path)


def test_a_journals_postings_come_before_its_header_even_in_one_transaction(
    store: LedgerStore, raw: Raw
) -> None:
    """The balance is checked when the header goes in (PostgreSQL: once per statement since schema
    version 4, no longer at commit), so a leg added after the header, in the same transaction, would
    go unchecked: it is refused on both backends."""
    store.post([subscription("s")], open_missing=True)
    header_first = [_header(raw, 2), *_journal(raw, 2, "10.00", "-10.00")[:2]]
    with pytest.raises(raw.error, match="does not balance"):  # a header without its postings yet
        raw.run(*header_first)
    # Balanced postings, then a header, then one more pair that keeps it balanced: refused all the same.
    with pytest.raises(raw.error, match="immutable"):
        raw.run(
            *_journal(raw, 2, "10.00", "-10.00"),
            _POSTING.format(seq=2, no=2, account="Assets:Cash:USD", amount=raw.money("5")),
            _POSTING.format(seq=2, no=3, account="Equity:Capital:USD", amount=raw.money("-5")),
        )
    assert raw.scalar("SELECT COUNT(*) FROM journals") == 1
    assert raw.scalar("SELECT COUNT(*) FROM postings") == 2


def test_several_journals_in_one_statement_are_each_checked(store: LedgerStore, raw: Raw) -> None:
    """One statement of headers (the store's COPY or executemany): one unbalanced journal among
    balanced ones refuses the statement, naming it."""
    store.post([subscription("s")], open_missing=True)
    postings = [
        *_journal(raw, 2, "10.00", "-10.00")[:2],
        *_journal(raw, 3, "10.00", "-9.99")[:2],
        *_journal(raw, 4, "1.00", "-1.00")[:2],
    ]
    headers = [_header(raw, seq) for seq in (2, 3, 4)]
    values = ", ".join(h[h.index("VALUES") + len("VALUES") :] for h in headers)
    with pytest.raises(raw.error, match=r"does not balance" + ("" if raw.sqlite else r" \(ledger_seq 3: ")):
        raw.run(*postings, headers[0][: headers[0].index("VALUES") + len("VALUES")] + values)
    assert raw.scalar("SELECT COUNT(*) FROM journals") == 1
