"""dq's own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

from pydantic import Field, FilePath

from services.common.settings import Settings


class DqSettings(Settings):
    # The checks dq runs: a TOML file; None = the shipped defaults
    # (services/dq/domain/default_checks.toml documents every rule and threshold).
    dq_checks: FilePath | None = Field(
        default=None,
        description="the path of an existing TOML file of dq's checks, or nothing for the defaults",
    )
    # True: each day end waits for the ledger's holdings as of it (book vs custodian vs ledger, and
    # the ledger's market values); False: book vs custodian only.
    dq_use_ledger: bool = Field(default=True, description="true or false")
