"""Choose the ledger's storage backend from its DSN (OPSUITE_LEDGER_DSN)."""

from __future__ import annotations

import pathlib

from services.ledger.store.base import LedgerStore

SQLITE_FILE = "ledger.sqlite3"


def open_store(dsn: str, data_dir: pathlib.Path) -> LedgerStore:
    """ "" -> SQLite at data_dir/ledger.sqlite3; "postgresql://..." (or "postgres://...") -> PostgreSQL."""
    if not dsn:
        from services.ledger.store.sqlite import open_sqlite

        return open_sqlite(pathlib.Path(data_dir) / SQLITE_FILE)
    if dsn.startswith(("postgresql://", "postgres://")):
        from services.ledger.store.postgres import open_postgres

        return open_postgres(dsn)
    raise ValueError(
        f'unsupported ledger DSN {dsn.split("@")[-1]!r}: expected "" (SQLite under the data directory)'
        " or postgresql://user@host:port/database"
    )
