"""Every gRPC connection of the suite, in or out, plaintext or TLS as the settings say.

With OPSUITE_TLS_CERT and OPSUITE_TLS_KEY set, every server listens with TLS and every channel
dials TLS, verifying the server's certificate against OPSUITE_TLS_CA (the system's roots when it is
unset) and presenting the process's own certificate, so a server with OPSUITE_TLS_CLIENT_AUTH=true
(mutual TLS) admits the suite's own processes and no one else. A process with only OPSUITE_TLS_CA
(a command-line client of a suite that does not ask for client certificates) dials TLS too.

A certificate must name the host its clients dial: `market` in a cluster, `127.0.0.1` (an IP SAN)
or `localhost` on one machine.

Channels are made by grpc.aio.secure_channel / insecure_channel looked up at call time: the
OpenTelemetry instrumentation (telemetry.py) replaces those attributes, so a channel made after
init_telemetry carries the trace context whichever of the two it is.
"""

from __future__ import annotations

import functools
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio

from services.common.settings import Settings

Options = Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class TransportSecurity:
    """The PEM bytes a process secures its gRPC connections with; all None is plaintext."""

    certificate_chain: bytes | None = None
    private_key: bytes | None = None
    root_certificates: bytes | None = None
    client_auth: bool = False

    @property
    def serves_tls(self) -> bool:
        return self.certificate_chain is not None and self.private_key is not None

    @property
    def dials_tls(self) -> bool:
        return self.serves_tls or self.root_certificates is not None

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )

    def server_credentials(self) -> grpc.ServerCredentials:
        assert self.private_key is not None and self.certificate_chain is not None
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate_chain)],
            root_certificates=self.root_certificates if self.client_auth else None,
            require_client_auth=self.client_auth,
        )

    def describe(self) -> str:
        """What a log line says about the port: plaintext, TLS, or mutual TLS."""
        if not self.serves_tls:
            return "plaintext"
        return "mutual TLS" if self.client_auth else "TLS"


PLAINTEXT = TransportSecurity()

# Where a connection's security comes from: a process's settings, or (tests, tools) given as is.
Security = Settings | TransportSecurity


@functools.lru_cache(maxsize=8)
def _read(
    cert: pathlib.Path | None, key: pathlib.Path | None, ca: pathlib.Path | None, client_auth: bool
) -> TransportSecurity:
    return TransportSecurity(
        certificate_chain=cert.read_bytes() if cert else None,
        private_key=key.read_bytes() if key else None,
        root_certificates=ca.read_bytes() if ca else None,
        client_auth=client_auth,
    )


def transport_security(source: Security) -> TransportSecurity:
    """The security `source` configures (files read once per process and paths)."""
    if isinstance(source, TransportSecurity):
        return source
    return _read(source.tls_cert, source.tls_key, source.tls_ca, source.tls_client_auth)


def open_channel(source: Security, target: str, *, options: Options | None = None) -> grpc.aio.Channel:
    """A grpc.aio channel to `target` (host:port), TLS when `source` says so."""
    security = transport_security(source)
    if security.dials_tls:
        return grpc.aio.secure_channel(target, security.channel_credentials(), options=options)
    return grpc.aio.insecure_channel(target, options=options)


def open_blocking_channel(source: Security, target: str, *, options: Options | None = None) -> grpc.Channel:
    """A synchronous channel to `target` (the command line's one-shot calls), TLS when `source` says so."""
    security = transport_security(source)
    if security.dials_tls:
        return grpc.secure_channel(target, security.channel_credentials(), options=options)
    return grpc.insecure_channel(target, options=options)


def add_port(server: grpc.aio.Server, source: Security, address: str) -> int:
    """Bind `server` to `address` (host:port), with TLS when `source` has a certificate; the port bound.

    RuntimeError when it cannot bind, as grpc raises it.
    """
    security = transport_security(source)
    if security.serves_tls:
        port: int = server.add_secure_port(address, security.server_credentials())
    else:
        port = server.add_insecure_port(address)
    return port
