"""What `opsuite up` itself reads from the environment (prefix OPSUITE_), beside every service's settings."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import Settings


class SupervisorSettings(Settings):
    # Failures in a row after which a crashing service is given up on (and the suite stopped).
    restart_limit: int = Field(default=5, ge=1, description="a whole number of failures, 1 or more")
    # The first restart's delay; each further failure in a row doubles it, up to 30 s.
    restart_backoff_s: float = Field(default=1.0, gt=0, description="seconds, a number above 0")
    # How long a service may take to report SERVING (market replays its log first).
    start_timeout_s: float = Field(default=180.0, gt=0, description="seconds, a number above 0")
