"""The edge's own settings (environment, prefix OPSUITE_); where it listens is OPSUITE_EDGE_ADDR, in
the settings every service reads (services/common/settings.py)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import Settings


class EdgeSettings(Settings):
    edge_deadline_s: float = Field(
        default=30.0,
        gt=0,
        description="seconds, a number above 0: the deadline of a call whose request gives none"
        " (grpc-timeout or X-Request-Timeout)",
    )
    edge_max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="bytes, a whole number of 1024 or more: a larger request body is refused (413)",
    )
