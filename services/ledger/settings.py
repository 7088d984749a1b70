"""The ledger's own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import Settings
from services.ledger.domain.retention import DEFAULT_KEEP_DAYS

DEFAULT_BATCHES_PER_COMMIT = 8


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
    # Several stream batches per transaction while catching up (consumer.py); a batch at market's head
    # commits at once. 1 commits every batch as it comes.
    ledger_batches_per_commit: int = Field(
        default=DEFAULT_BATCHES_PER_COMMIT,
        ge=1,
        le=1000,
        description=(
            "a whole number from 1 to 1000: the stream batches (of up to 512 events) the ledger books in"
            " one transaction while it is behind market's head (default"
            f" {DEFAULT_BATCHES_PER_COMMIT}; a batch at the head commits at once; 1 commits each batch)"
        ),
    )
