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
    # Business days of closed history recon keeps (breaks closed before the horizon with their
    # actions, older check runs and change-feed rows are pruned; open breaks never are): the store
    # stays bounded however long the suite runs. 0 keeps everything. See domain/retention.py.
    recon_keep_days: int = Field(
        default=1260,  # about five simulated years (252 business days a year)
        ge=0,
        description="a whole number of business days, 0 or more (0 keeps every closed break)",
    )
