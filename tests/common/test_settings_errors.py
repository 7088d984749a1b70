"""A refused environment variable, as a person reads it: SettingsError, one line per variable naming
it, the value given and what it accepts, for every service's settings."""

from __future__ import annotations

import os

import pytest

from services.cli.settings import SupervisorSettings
from services.common.settings import Settings, SettingsError, load_settings
from services.ledger.settings import LedgerSettings
from services.market.settings import MarketSettings
from services.recon.settings import ReconSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OPSUITE_") or name == "FRED_API_KEY":
            monkeypatch.delenv(name)


SETTINGS_KINDS = (Settings, MarketSettings, LedgerSettings, ReconSettings, SupervisorSettings)


def test_every_setting_of_every_service_says_what_it_accepts() -> None:
    # The description is what a person reads when the variable is refused (SettingsError).
    missing = [
        f"{kind.__name__}.{name}"
        for kind in SETTINGS_KINDS
        for name, info in kind.model_fields.items()
        if not info.description
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("kind", "variable", "value", "line"),
    [
        (MarketSettings, "OPSUITE_SEED", "seven", "OPSUITE_SEED='seven': give a whole number"),
        (
            MarketSettings,
            "OPSUITE_START",
            "2020-13-01",
            "OPSUITE_START='2020-13-01': give a date as YYYY-MM-DD",
        ),
        (
            MarketSettings,
            "OPSUITE_FAULT_RATE",
            "-1",
            "OPSUITE_FAULT_RATE='-1': give a number 0 or more (1 is the seeded rate, 0 disables seeded faults)",
        ),
        (
            ReconSettings,
            "OPSUITE_RECON_USE_LEDGER",
            "maybe",
            "OPSUITE_RECON_USE_LEDGER='maybe': give true or false",
        ),
        (
            LedgerSettings,
            "OPSUITE_SHUTDOWN_GRACE_S",
            "-1",
            "OPSUITE_SHUTDOWN_GRACE_S='-1': give seconds, a number 0 or more",
        ),
        (
            SupervisorSettings,
            "OPSUITE_RESTART_LIMIT",
            "0",
            "OPSUITE_RESTART_LIMIT='0': give a whole number of failures, 1 or more",
        ),
        (
            Settings,
            "OPSUITE_LOG_LEVEL",
            "loud",
            "OPSUITE_LOG_LEVEL='loud': give DEBUG, INFO, WARNING, ERROR or CRITICAL",
        ),
    ],
)
def test_a_refused_variable_is_one_line_naming_it_the_value_and_what_it_accepts(
    monkeypatch: pytest.MonkeyPatch, kind: type[Settings], variable: str, value: str, line: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(kind)
    assert str(caught.value) == line
    assert isinstance(caught.value, ValueError)


def test_every_refused_variable_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSUITE_SPEED", "fast")
    monkeypatch.setenv("OPSUITE_DAYS", "many")
    monkeypatch.setenv("OPSUITE_MARKET_ADDR", "localhost")
    with pytest.raises(SettingsError) as caught:
        load_settings(MarketSettings)
    assert str(caught.value).splitlines() == [
        "OPSUITE_MARKET_ADDR='localhost': give host:port (port 0 means any free port)",
        "OPSUITE_SPEED='fast': give business days per second (a positive number) or 'max'",
        "OPSUITE_DAYS='many': give a whole number of business days, 0 or more (0: no end, or the end of the real data at max speed)",
    ]
