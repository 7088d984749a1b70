"""Fixed loopback ports picked up front, for services that must come back on the same address.

A killed service's port is free until it listens again. Ports from the kernel's ephemeral range
(what bind to port 0 and every outgoing connection get) could be handed to another socket in that
gap, so these are drawn below that range, where the kernel never assigns one by itself.
"""

from __future__ import annotations

import contextlib
import random
import socket
from pathlib import Path

LOW = 20_000


def _ephemeral_start() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return 32_768


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports, free a moment ago and outside the ephemeral range."""
    high = max(LOW + 1_000, _ephemeral_start())
    chosen: list[int] = []
    with contextlib.ExitStack() as stack:
        for port in random.sample(range(LOW, high), high - LOW):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise RuntimeError(f"fewer than {count} free ports between {LOW} and {high}")
