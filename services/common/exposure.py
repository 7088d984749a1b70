"""What a process exposes where it listens: a warning when other machines can reach it unprotected.

Every address defaults to 127.0.0.1 (settings.py), where only this machine reaches the suite. A
process told to listen elsewhere (0.0.0.0, a routable address, a name that resolves to one) says
once, as a WARNING at start-up, what it exposes there and how to close it:
- a gRPC service without TLS (OPSUITE_TLS_CERT and OPSUITE_TLS_KEY): anyone who reaches the port
  calls every RPC, writes among them, and reads the answers on the wire;
- the edge without an API token (OPSUITE_API_TOKEN): anyone who reaches it makes every write (a
  fault injected, a break updated, a policy ingested, a confirmation uploaded); without TLS: its
  calls to the services are plaintext, and it answers plain HTTP itself (a proxy or an ingress in
  front of it terminates TLS).
The process still starts: a pod listens on its own address behind NetworkPolicies, and a person on a
trusted network may want the suite on it; the warning makes the choice a deliberate one.
"""

from __future__ import annotations

import ipaddress
import logging
import socket

# Hosts that mean every interface of the machine.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "*"})
LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})
TLS_VARIABLES = "OPSUITE_TLS_CERT and OPSUITE_TLS_KEY"


def _host(address: str) -> str:
    return address.rpartition(":")[0].strip().strip("[]")


def reachable_from_elsewhere(address: str) -> bool:
    """True unless `address` (host:port) listens on loopback alone. A name is judged by every address
    it resolves to; one that does not resolve counts as reachable (nothing shows it is not)."""
    host = _host(address)
    if host in WILDCARD_HOSTS:
        return True
    if host.lower() in LOOPBACK_NAMES:
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return True
    return not found or not all(ipaddress.ip_address(str(ip).split("%")[0]).is_loopback for ip in found)


def service_exposure(service: str, address: str, variable: str, *, tls: bool) -> str:
    """The warning for a gRPC service listening on `address`, "" when there is nothing to say."""
    if tls or not reachable_from_elsewhere(address):
        return ""
    return (
        f"{service} listens on {address}, which other machines can reach, without TLS: anyone who reaches "
        "the port can call every RPC, writes among them, and read the answers on the wire. Give "
        f"{TLS_VARIABLES} (with OPSUITE_TLS_CA and OPSUITE_TLS_CLIENT_AUTH=true to admit only the suite's "
        f"own clients), or listen on 127.0.0.1 ({variable})"
    )


def edge_exposure(address: str, *, tls: bool, token: bool) -> str:
    """The warning for the edge listening on `address`, "" when there is nothing to say."""
    if (tls and token) or not reachable_from_elsewhere(address):
        return ""
    exposed, fixes = [], []
    if not token:
        exposed.append(
            "with no API token, anyone who reaches it can inject faults, update breaks, ingest policies "
            "and upload confirmations"
        )
        fixes.append(
            "set OPSUITE_API_TOKEN to a secret (every request but GET then needs it as a bearer token)"
        )
    if not tls:
        exposed.append(
            "without TLS, its calls to the services are plaintext and it answers plain HTTP, the token "
            "included, unless a proxy in front of it terminates TLS"
        )
        fixes.append(f"give {TLS_VARIABLES} and put it behind a proxy or ingress that terminates TLS")
    fix = "; ".join(fixes)
    return (
        f"the edge listens on {address}, which other machines can reach: {'; '.join(exposed)}. "
        f"{fix[:1].upper()}{fix[1:]}; or listen on 127.0.0.1 (OPSUITE_EDGE_ADDR)"
    )


def warn(logger: logging.Logger, warning: str, address: str) -> None:
    """Log the warning (if any) once, as a WARNING naming the address."""
    if warning:
        logger.warning("exposed beyond this machine", extra={"address": address, "warning": warning})
