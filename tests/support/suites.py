"""Long suites (chaos, fuzz, outages) run in full under CI and in a quick mode locally.

Full mode: CI=true (what .ci/run sets) or OPSUITE_TEST_FULL=1. Quick mode keeps the same checks
over fewer kills, requests or days, so a developer gets the answer in a fraction of the time.
Each suite prints what it did (kills, requests, seed) so a failure can be replayed.
"""

from __future__ import annotations

import os

_TRUE = {"1", "true", "yes"}


def full() -> bool:
    """True when the long suites must run in full (CI, or asked for with OPSUITE_TEST_FULL=1)."""
    return (
        os.environ.get("CI", "").lower() in _TRUE or os.environ.get("OPSUITE_TEST_FULL", "").lower() in _TRUE
    )


def scaled(full_value: int, quick_value: int) -> int:
    """full_value in full mode, quick_value otherwise."""
    return full_value if full() else quick_value
