"""The ledger's own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import Settings
from services.ledger.domain.retention import DEFAULT_KEEP_DAYS


class LedgerSettings(Settings):
    # "" keeps the ledger in SQLite under <data dir>/ledger/; postgresql://... selects PostgreSQL.
    ledger_dsn: str = Field(
        default="", description="nothing (SQLite under the data directory) or postgresql://user@host/db"
    )
    # The period close (domain/retention.py, docs/ledger-design.md): journals dated before the horizon
    # are deleted, balances from the horizon on stay exact, and the closed period takes no postings.
    ledger_keep_days: int = Field(
        default=DEFAULT_KEEP_DAYS,
        ge=0,
        description=(
            "a whole number 0 or more: the business days of journal detail the ledger keeps before its"
            f" latest date ({DEFAULT_KEEP_DAYS}, the default, is about five years; older journals are"
            " deleted by a period close, balances stay exact; 0 keeps every journal)"
        ),
    )
