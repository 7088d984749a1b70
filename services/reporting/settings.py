"""reporting's own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import Settings


class ReportingSettings(Settings):
    reporting_use_ledger: bool = Field(
        default=True,
        description="true or false: whether reports show the ledger's NAV beside reporting's own",
    )
