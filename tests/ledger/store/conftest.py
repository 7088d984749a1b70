"""Every store test runs on both backends: SQLite in tmp_path and a fresh PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import pathlib
import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from services.ledger.domain.records import JournalDraft, JournalKind, Posting
from services.ledger.store import LedgerStore, open_store
from services.ledger.store.factory import SQLITE_FILE

DAY = dt.date(2020, 2, 3)


@pytest.fixture(params=["sqlite", "postgres"])
def dsn(request: pytest.FixtureRequest) -> str:
    """ "" for SQLite, or the DSN of a fresh PostgreSQL database."""
    return "" if request.param == "sqlite" else request.getfixturevalue("postgres_dsn")


@pytest.fixture
def opener(dsn: str, tmp_path: pathlib.Path) -> Iterator[Callable[[], LedgerStore]]:
    """Opens (or reopens) the store of this test; every store opened is closed afterwards."""
    opened: list[LedgerStore] = []

    def open_() -> LedgerStore:
        store = open_store(dsn, tmp_path)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Callable[[], LedgerStore]) -> LedgerStore:
    return opener()


class Raw:
    """A plain connection to the store's database, to try what the code never does."""

    def __init__(self, dsn: str, data_dir: pathlib.Path) -> None:
        self.sqlite = not dsn
        if self.sqlite:
            self.conn = sqlite3.connect(data_dir / SQLITE_FILE, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.error: type[Exception] = sqlite3.DatabaseError
        else:
            import psycopg

            self.conn = psycopg.connect(dsn, autocommit=True)  # type: ignore[assignment]
            self.error = psycopg.DatabaseError

    def money(self, value: str) -> str:
        """A SQL literal for an amount in the backend's representation (SQLite: micro-units)."""
        return str(int(Decimal(value) * 10**6)) if self.sqlite else value

    def run(self, *statements: str) -> None:
        """The statements in one transaction."""
        self.conn.execute("BEGIN")
        try:
            for statement in statements:
                self.conn.execute(statement)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def scalar(self, query: str) -> object:
        return self.conn.execute(query).fetchone()[0]  # type: ignore[index]

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def raw(dsn: str, tmp_path: pathlib.Path, store: LedgerStore) -> Iterator[Raw]:
    connection = Raw(dsn, tmp_path)
    yield connection
    connection.close()


def leg(
    account: str,
    amount: str,
    currency: str = "USD",
    *,
    base: str | None = None,
    quantity: str | None = None,
    lot_id: str = "",
    instrument_id: str = "",
    memo: str = "",
) -> Posting:
    """A posting; base_amount defaults to the amount (a base-currency leg)."""
    return Posting(
        account=account,
        amount=Decimal(amount),
        currency=currency,
        base_amount=Decimal(amount if base is None else base),
        quantity=None if quantity is None else Decimal(quantity),
        instrument_id=instrument_id,
        lot_id=lot_id,
        memo=memo,
    )


def draft(
    key: str,
    *postings: Posting,
    mandate: str = "BAL-USD",
    day: dt.date = DAY,
    kind: JournalKind = JournalKind.MANUAL,
    **fields: object,
) -> JournalDraft:
    return JournalDraft(
        mandate_id=mandate,
        kind=kind,
        effective_date=day,
        sim_time=dt.datetime.combine(day, dt.time(16, 30), tzinfo=dt.UTC),
        postings=postings,
        idempotency_key=key,
        **fields,  # type: ignore[arg-type]
    )


def subscription(
    key: str, amount: str = "1000", *, mandate: str = "BAL-USD", day: dt.date = DAY, **fields: object
) -> JournalDraft:
    """Dr Cash, Cr Capital: the simplest balanced journal."""
    ccy = mandate.rsplit("-", 1)[-1]
    return draft(
        key,
        leg(f"Assets:Cash:{ccy}", amount, ccy),
        leg(f"Equity:Capital:{ccy}", f"-{amount}", ccy),
        mandate=mandate,
        day=day,
        kind=JournalKind.SUBSCRIPTION,
        **fields,
    )
