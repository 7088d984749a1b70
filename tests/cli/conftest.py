"""The command-line tests read the shared finished suite (tests/support/finished_suite.py, registered
for every folder by tests/conftest.py); its helpers stay importable from here."""

from __future__ import annotations

from tests.support.finished_suite import RunningSuite, clean_environment, run_opsuite

__all__ = ["RunningSuite", "clean_environment", "run_opsuite"]
