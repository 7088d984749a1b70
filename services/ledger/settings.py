"""The ledger's own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

from services.common.settings import Settings


class LedgerSettings(Settings):
    # "" keeps the ledger in SQLite under <data dir>/ledger/; postgresql://... selects PostgreSQL.
    ledger_dsn: str = ""
