"""Configuration of every service, read once from the environment at start-up.

Only environment variables configure a service (the way a pod is configured),
so one typed object built here is the single place a setting is spelled.
"""

from __future__ import annotations

import datetime
import math
import pathlib

import platformdirs
from pydantic import AliasChoices, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("market", "recon", "reporting", "dq", "documents", "ledger")
DEFAULT_PORTS = {
    "market": 50051,
    "recon": 50052,
    "reporting": 50053,
    "dq": 50054,
    "documents": 50055,
    "ledger": 50056,
}


def _default_data_dir() -> pathlib.Path:
    return pathlib.Path(platformdirs.user_data_dir("opsuite"))


def _check_addr(variable: str, value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{variable} must be host:port (port 0 means any free port), got {value!r}")
    return value


class Settings(BaseSettings):
    """Everything a service reads from its environment (prefix OPSUITE_)."""

    model_config = SettingsConfigDict(
        env_prefix="OPSUITE_",
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
    )

    data_dir: pathlib.Path = Field(default_factory=_default_data_dir)
    market_addr: str = f"127.0.0.1:{DEFAULT_PORTS['market']}"
    recon_addr: str = f"127.0.0.1:{DEFAULT_PORTS['recon']}"
    reporting_addr: str = f"127.0.0.1:{DEFAULT_PORTS['reporting']}"
    dq_addr: str = f"127.0.0.1:{DEFAULT_PORTS['dq']}"
    documents_addr: str = f"127.0.0.1:{DEFAULT_PORTS['documents']}"
    ledger_addr: str = f"127.0.0.1:{DEFAULT_PORTS['ledger']}"
    # "" means the embedded SQLite log under data_dir; redis://... selects Redis Streams.
    eventlog_url: str = ""
    ledger_dsn: str = ""
    # recon's tolerances, aging, escalation and suspense rules: a TOML file; "" = the shipped defaults
    # (services/recon/domain/default_tolerances.toml documents every key).
    recon_config: pathlib.Path | None = None
    log_level: str = "INFO"
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    seed: int = 7
    start: datetime.date = datetime.date(2020, 1, 2)
    # Business days per second, or "max" for as fast as possible.
    speed: str = "1"
    # Business days to simulate; 0 runs until the data ends.
    days: int = Field(default=0, ge=0)
    # Multiplier on the seeded fault probabilities; 0 disables seeded faults.
    fault_rate: float = Field(default=1.0, ge=0)
    retention_events: int = Field(default=2_000_000, ge=1)
    # The key's conventional name has no prefix, so it is read as FRED_API_KEY.
    fred_api_key: str = Field(default="", validation_alias=AliasChoices("FRED_API_KEY", "fred_api_key"))

    @field_validator("speed")
    @classmethod
    def _speed_is_max_or_positive(cls, value: str) -> str:
        text = value.strip().lower()
        if text == "max":
            return text
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number > 0):
            raise ValueError(
                f"OPSUITE_SPEED must be 'max' or a positive number of business days per second "
                f"(for example 1 or 0.5), got {value!r}"
            )
        return text

    @field_validator(
        "market_addr", "recon_addr", "reporting_addr", "dq_addr", "documents_addr", "ledger_addr"
    )
    @classmethod
    def _addr_is_host_port(cls, value: str, info: ValidationInfo) -> str:
        return _check_addr(f"OPSUITE_{(info.field_name or 'addr').upper()}", value)

    @field_validator("log_level")
    @classmethod
    def _level_is_known(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(
                f"OPSUITE_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {value!r}"
            )
        return level

    @property
    def speed_days_per_second(self) -> float | None:
        """The live speed as a number, None in as-fast-as-possible mode."""
        return None if self.speed == "max" else float(self.speed)

    def addr(self, service: str) -> str:
        """Where `service` listens (for itself) and where the others find it."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
        return str(getattr(self, f"{service}_addr"))

    def service_dir(self, service: str) -> pathlib.Path:
        """The folder under data_dir that holds every file `service` writes, created on first use."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
        path = self.data_dir / service
        path.mkdir(parents=True, exist_ok=True)
        return path


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; keyword overrides win over it (for tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
