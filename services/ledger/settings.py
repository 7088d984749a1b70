"""The ledger's own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import Settings


class LedgerSettings(Settings):
    # "" keeps the ledger in SQLite under <data dir>/ledger/; postgresql://... selects PostgreSQL.
    ledger_dsn: str = Field(
        default="", description="nothing (SQLite under the data directory) or postgresql://user@host/db"
    )
