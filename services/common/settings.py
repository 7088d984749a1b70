"""Configuration every service reads, once, from the environment at start-up.

Only environment variables configure a service (the way a pod is configured).
This module holds what every service reads (where the services listen, the data
directory, the event log, logging, shutdown, TLS); each service subclasses Settings with
its own (services/<name>/settings.py), so a setting is spelled in one place.
"""

from __future__ import annotations

import pathlib
import typing
from typing import TypeVar, overload

import platformdirs
from pydantic import (
    AliasChoices,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
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
# The HTTP/JSON edge (services/edge/) is no gRPC service of SERVICES: it fronts them, over HTTP.
EDGE = "edge"
DEFAULT_EDGE_PORT = 8080


def _default_data_dir() -> pathlib.Path:
    return pathlib.Path(platformdirs.user_data_dir("opsuite"))


ADDRESS = "host:port (port 0 means any free port)"
PEM = "the path of a PEM file"


class SettingsError(ValueError):
    """Variables of the environment a service cannot start with: one line per variable, naming it,
    the value given and what it accepts (`OPSUITE_SPEED='fast': give business days per second ...`)."""


def _check_addr(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"not {ADDRESS}")
    return value


class Settings(BaseSettings):
    """Everything a service reads from its environment (prefix OPSUITE_).

    Every field says what it accepts in its `description`, phrased to follow "give": it is what
    a person reads when the variable's value is refused (SettingsError).
    """

    model_config = SettingsConfigDict(
        env_prefix="OPSUITE_",
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
    )

    data_dir: pathlib.Path = Field(default_factory=_default_data_dir, description="a directory path")
    market_addr: str = Field(default=f"127.0.0.1:{DEFAULT_PORTS['market']}", description=ADDRESS)
    recon_addr: str = Field(default=f"127.0.0.1:{DEFAULT_PORTS['recon']}", description=ADDRESS)
    reporting_addr: str = Field(default=f"127.0.0.1:{DEFAULT_PORTS['reporting']}", description=ADDRESS)
    dq_addr: str = Field(default=f"127.0.0.1:{DEFAULT_PORTS['dq']}", description=ADDRESS)
    documents_addr: str = Field(default=f"127.0.0.1:{DEFAULT_PORTS['documents']}", description=ADDRESS)
    ledger_addr: str = Field(default=f"127.0.0.1:{DEFAULT_PORTS['ledger']}", description=ADDRESS)
    # Where the HTTP/JSON edge listens (services/edge/), and where a browser or curl finds it.
    edge_addr: str = Field(default=f"127.0.0.1:{DEFAULT_EDGE_PORT}", description=ADDRESS)
    # "" means the embedded SQLite log under data_dir; redis://... selects Redis Streams.
    eventlog_url: str = Field(
        default="", description="nothing (SQLite under the data directory) or redis://host:port/db[#prefix]"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    shutdown_grace_s: float = Field(default=10.0, ge=0, description="seconds, a number 0 or more")
    # TLS for gRPC (services/common/channels.py): with a certificate and its key every gRPC server of
    # the process listens with TLS and every channel it opens dials TLS, verifying the server against
    # tls_ca (the system's roots when unset). Read once at start: a renewed certificate takes a restart.
    tls_cert: FilePath | None = Field(
        default=None, description=f"{PEM} (this process's certificate chain, with OPSUITE_TLS_KEY)"
    )
    tls_key: FilePath | None = Field(default=None, description=f"{PEM} (the private key of OPSUITE_TLS_CERT)")
    tls_ca: FilePath | None = Field(
        default=None, description=f"{PEM} (the CA certificates that sign the suite's certificates)"
    )
    tls_client_auth: bool = Field(
        default=False,
        description="true (servers require a client certificate signed by OPSUITE_TLS_CA) or false",
    )
    # Kubernetes' native gRPC probes cannot speak TLS: with TLS on, the same health servicer (so
    # the same liveness and readiness) answers grpc.health.v1, and nothing else, in plaintext here.
    health_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="a port from 1 to 65535 for a plaintext grpc.health.v1 server, or nothing",
    )

    @field_validator(
        "market_addr", "recon_addr", "reporting_addr", "dq_addr", "documents_addr", "ledger_addr", "edge_addr"
    )
    @classmethod
    def _addr_is_host_port(cls, value: str) -> str:
        return _check_addr(value)

    @field_validator("tls_cert", "tls_key", "tls_ca", "health_port", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # A manifest or a shell that sets the variable to "" means "not set", not the path "".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("tls_cert", "tls_key", "tls_ca")
    @classmethod
    def _is_pem(cls, value: pathlib.Path | None) -> pathlib.Path | None:
        if value is not None and b"-----BEGIN " not in value.read_bytes():
            raise ValueError("not a PEM file")
        return value

    @model_validator(mode="after")
    def _tls_is_whole(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            given, missing = ("CERT", "KEY") if self.tls_key is None else ("KEY", "CERT")
            raise ValueError(
                f"OPSUITE_TLS_{given} is set without OPSUITE_TLS_{missing}: give both (a certificate and "
                "its private key) to turn TLS on, or neither"
            )
        if self.tls_client_auth and (self.tls_ca is None or self.tls_cert is None):
            raise ValueError(
                "OPSUITE_TLS_CLIENT_AUTH=true needs OPSUITE_TLS_CERT, OPSUITE_TLS_KEY and OPSUITE_TLS_CA: "
                "give the CA that signs the clients' certificates and this process's own certificate"
            )
        return self

    @field_validator("log_level")
    @classmethod
    def _level_is_known(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("not a log level")
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
    """Read the environment once into `kind` (a service's subclass); keyword overrides win over it.

    SettingsError, naming every refused variable at once, when a value does not fit.
    """
    try:
        return kind(**overrides)  # type: ignore[arg-type]  # pydantic validates the overrides
    except ValidationError as error:
        raise SettingsError(
            "\n".join(_refusal(kind, problem) for problem in error.errors(include_url=False))
        ) from None


def _field(kind: type[Settings], name: str) -> tuple[FieldInfo | None, str]:
    """The field pydantic reports as `name` (a field name, or an alias such as FRED_API_KEY) and the
    environment variable it is read from: its first alias when it has one, else prefix + name."""
    prefix = str(kind.model_config.get("env_prefix", ""))
    for field, info in kind.model_fields.items():
        alias = info.validation_alias
        aliases = [a for a in alias.choices if isinstance(a, str)] if isinstance(alias, AliasChoices) else []
        if name == field or name in aliases:
            return info, aliases[0] if aliases else f"{prefix}{field}".upper()
    return None, name.upper()


def _refusal(kind: type[Settings], problem: ErrorDetails) -> str:
    """One line for one refused variable: its name, the value given, what it accepts."""
    if not problem["loc"]:  # a rule across variables (model_validator): its own sentence names them
        error = problem.get("ctx", {}).get("error")
        return str(error) if isinstance(error, ValueError) else problem["msg"]
    info, variable = _field(kind, str(problem["loc"][0]))
    accepts = info.description if info is not None else None
    # A secret (SecretStr: the edge's API token) is never echoed, not even when it is refused.
    given = "<the value given>" if info is not None and _is_secret(info) else repr(problem["input"])
    return f"{variable}={given}: {f'give {accepts}' if accepts else problem['msg']}"


def _is_secret(info: FieldInfo) -> bool:
    return SecretStr in (info.annotation, *typing.get_args(info.annotation))
