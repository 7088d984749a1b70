"""recon's own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

import pathlib

from services.common.settings import Settings


class ReconSettings(Settings):
    # recon's tolerances, aging, escalation and suspense rules: a TOML file; None = the shipped
    # defaults (services/recon/domain/default_tolerances.toml documents every key).
    recon_config: pathlib.Path | None = None
