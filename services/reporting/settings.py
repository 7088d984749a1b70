"""reporting's own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import Settings


class ReportingSettings(Settings):
    reporting_use_ledger: bool = Field(
        default=True,
        description="true or false: whether reports show the ledger's NAV beside reporting's own",
    )
    reporting_use_dq: bool = Field(
        default=True,
        description="true or false: whether each day end waits for dq's quarantine and values a rejected"
        " price at the last good one (provisional NAV)",
    )
