"""recon's own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

from pydantic import Field, FilePath

from services.common.settings import Settings


class ReconSettings(Settings):
    # recon's tolerances, aging, escalation and suspense rules: a TOML file; None = the shipped
    # defaults (services/recon/domain/default_tolerances.toml documents every key).
    recon_config: FilePath | None = Field(
        default=None,
        description="the path of an existing TOML file of recon's rules, or nothing for the defaults",
    )
    # False: recon has no ledger (book vs custodian only, no suspense journals). True: every check
    # compares with the ledger at OPSUITE_LEDGER_ADDR, waiting for it while it cannot answer.
    recon_use_ledger: bool = Field(default=True, description="true or false")
