from __future__ import annotations

import datetime
import pathlib

import pytest

from services.common.settings import DEFAULT_PORTS, SERVICES, Settings, SettingsError, load_settings
from services.ledger.settings import LedgerSettings
from services.market.settings import MarketSettings
from services.recon.settings import ReconSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("OPSUITE_") or name == "FRED_API_KEY":
            monkeypatch.delenv(name)


def test_defaults_follow_the_port_table() -> None:
    settings = load_settings(MarketSettings)
    for service in SERVICES:
        assert settings.addr(service) == f"127.0.0.1:{DEFAULT_PORTS[service]}"
    assert settings.speed == "1"
    assert settings.start == datetime.date(2007, 10, 1)
    assert settings.eventlog_url == ""
    assert settings.fred_api_key == ""


def test_reads_every_variable_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setenv("OPSUITE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPSUITE_LEDGER_ADDR", "127.0.0.1:0")
    monkeypatch.setenv("OPSUITE_SEED", "42")
    monkeypatch.setenv("OPSUITE_START", "2008-09-15")
    monkeypatch.setenv("OPSUITE_SPEED", "MAX")
    monkeypatch.setenv("OPSUITE_DAYS", "20")
    monkeypatch.setenv("OPSUITE_FAULT_RATE", "0")
    monkeypatch.setenv("OPSUITE_SHUTDOWN_GRACE_S", "2.5")
    monkeypatch.setenv("OPSUITE_EVENTLOG_URL", "redis://localhost:6379/0")
    monkeypatch.setenv("FRED_API_KEY", "k123")
    settings = load_settings(MarketSettings)
    assert settings.data_dir == tmp_path
    assert settings.addr("ledger") == "127.0.0.1:0"
    assert settings.seed == 42
    assert settings.start == datetime.date(2008, 9, 15)
    assert settings.speed == "max"
    assert settings.speed_days_per_second is None
    assert settings.days == 20
    assert settings.fault_rate == 0
    assert settings.shutdown_grace_s == 2.5
    assert settings.eventlog_url == "redis://localhost:6379/0"
    assert settings.fred_api_key == "k123"


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSUITE_SEED", "42")
    monkeypatch.setenv("OPSUITE_SPEED", "0.5")
    settings = load_settings(MarketSettings, seed=9, fred_api_key="given")
    assert settings.seed == 9
    assert settings.speed_days_per_second == 0.5
    assert settings.fred_api_key == "given"


@pytest.mark.parametrize("bad", ["fast", "0", "-1", "nan", "inf", ""])
def test_bad_speed_names_the_variable_and_the_accepted_forms(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("OPSUITE_SPEED", bad)
    with pytest.raises(SettingsError) as caught:
        load_settings(MarketSettings)
    assert str(caught.value) == (
        f"OPSUITE_SPEED={bad!r}: give business days per second (a positive number) or 'max'"
    )


def test_bad_address_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSUITE_RECON_ADDR", "localhost")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == "OPSUITE_RECON_ADDR='localhost': give host:port (port 0 means any free port)"


def test_service_dir_is_created_under_data_dir(tmp_path: pathlib.Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    path = settings.service_dir("ledger")
    assert path == tmp_path / "data" / "ledger"
    assert path.is_dir()
    with pytest.raises(ValueError, match="unknown service"):
        settings.service_dir("nope")
    with pytest.raises(ValueError, match="unknown service"):
        settings.addr("nope")


def test_each_service_reads_its_own_settings_and_the_common_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setenv("OPSUITE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPSUITE_LEDGER_DSN", "postgresql://db/ledger")
    (tmp_path / "recon.toml").write_text("")  # it must exist: recon reads it at start-up
    monkeypatch.setenv("OPSUITE_RECON_CONFIG", str(tmp_path / "recon.toml"))
    monkeypatch.setenv("OPSUITE_SPEED", "not a speed")  # market's: no other service validates it
    assert load_settings(LedgerSettings).ledger_dsn == "postgresql://db/ledger"
    assert load_settings(ReconSettings).recon_config == tmp_path / "recon.toml"
    for kind in (Settings, LedgerSettings, ReconSettings):
        settings = load_settings(kind)
        assert settings.data_dir == tmp_path
        assert not hasattr(settings, "speed")
    # What every service reads is in the common Settings only.
    assert set(Settings.model_fields) == {
        "data_dir",
        *(f"{name}_addr" for name in SERVICES),
        "edge_addr",  # the HTTP/JSON edge, which fronts the services (services/edge/)
        "eventlog_url",
        "log_level",
        "shutdown_grace_s",
        # TLS for gRPC, in and out (services/common/channels.py), and plaintext health for probes.
        "tls_cert",
        "tls_key",
        "tls_ca",
        "tls_client_auth",
        "health_port",
    }
