"""Configuration every service reads, once, from the environment at start-up.

Only environment variables configure a service (the way a pod is configured).
This module holds what every service reads (where the services listen, the data
directory, the event log, logging, shutdown); each service subclasses Settings with
its own (services/<name>/settings.py), so a setting is spelled in one place.
"""

from __future__ import annotations

import pathlib
from typing import TypeVar, overload

import platformdirs
from pydantic import Field, ValidationInfo, field_validator
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
    log_level: str = "INFO"
    shutdown_grace_s: float = Field(default=10.0, ge=0)

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


S = TypeVar("S", bound=Settings)


@overload
def load_settings(**overrides: object) -> Settings: ...
@overload
def load_settings(kind: type[S], /, **overrides: object) -> S: ...
def load_settings(kind: type[Settings] = Settings, /, **overrides: object) -> Settings:
    """Read the environment once into `kind` (a service's subclass); keyword overrides win over it."""
    return kind(**overrides)  # type: ignore[arg-type]  # pydantic validates the overrides
