"""Which services exist in this installation, and where they listen."""

from __future__ import annotations

import importlib.util
import socket

from services.common.settings import EDGE, SERVICES, Settings

# The order `opsuite up` names them in (it starts market, then the followers at once: suite/up.py).
START_ORDER = ("market", "ledger", "dq", "recon", "reporting", "documents")
# Every service but market follows market's stream (services/common/follower.py).
MARKET_FOLLOWERS = tuple(name for name in START_ORDER if name != "market")


def available_services() -> list[str]:
    """Services that can be started (those with a services/<name>/__main__.py), in start order."""
    assert sorted(START_ORDER) == sorted(SERVICES)
    found = []
    for name in START_ORDER:
        try:
            if importlib.util.find_spec(f"services.{name}.__main__") is not None:
                found.append(name)
        except ModuleNotFoundError:
            continue
    return found


def edge_available() -> bool:
    """True when this installation has the HTTP/JSON edge (services/edge/), which `opsuite up` starts
    after every service it fronts."""
    try:
        return importlib.util.find_spec(f"services.{EDGE}.__main__") is not None
    except ModuleNotFoundError:
        return False


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def concrete_addresses(settings: Settings) -> dict[str, str]:
    """Every service's address, and the edge's, with port 0 replaced by a free port, so the others
    can find it (and `opsuite up` can print it)."""
    addresses = {}
    for name in (*SERVICES, EDGE):
        host, port = split_address(settings.edge_addr if name == EDGE else settings.addr(name))
        addresses[name] = f"{host}:{port or free_port(host)}"
    return addresses
