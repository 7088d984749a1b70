"""What `opsuite up` checks before it starts anything: the data directory is ours, the addresses free.

A second suite on the same data directory would have two markets appending to one event log; one on
the same addresses would find the first suite's services answering its health checks. Both are
refused up front, with the owner's pid and what to do, instead of failing half-way through start-up.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from services.cli.registry import split_address

LOCK_FILE = "opsuite.lock"


class Refused(Exception):
    """A reason not to start, written for the person who typed the command."""


@dataclass
class DataDirLock:
    """An exclusive flock on <data dir>/opsuite.lock, held for the supervisor's whole life.

    The kernel releases a flock when its holder dies, however it dies, so a lock file whose pid is
    gone is stale by construction: the next `opsuite up` takes it over and says so.
    """

    path: Path
    handle: IO[str]
    stale_owner: int | None  # the pid a taken-over lock file named, if it named one

    @classmethod
    def acquire(cls, data_dir: Path, addresses: dict[str, str]) -> DataDirLock:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOCK_FILE
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                handle.close()
                raise
            owner = _read_owner(path)
            handle.close()
            raise Refused(
                f"the data directory {data_dir} is in use by a running suite (pid {owner.get('pid', '?')}, "
                f"started {owner.get('started', '?')}); stop it first (Ctrl-C in its terminal, or "
                f"kill {owner.get('pid', '<pid>')}), or give this one another --data-dir"
            ) from None
        previous = _read_owner(path).get("pid")
        handle.seek(0)
        handle.truncate()
        owner = {
            "pid": os.getpid(),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "addresses": addresses,
        }
        handle.write(json.dumps(owner, sort_keys=True) + "\n")
        handle.flush()
        stale = previous if isinstance(previous, int) and previous != os.getpid() else None
        return cls(path, handle, stale)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        self.handle.close()


def _read_owner(path: Path) -> dict[str, object]:
    try:
        owner = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def address_in_use(address: str) -> bool:
    """True when something already listens on `address` (bound the way the services bind)."""
    host, port = split_address(address)
    if port == 0:
        return False
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR, as gRPC sets it: a port in TIME_WAIT after an earlier run is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise Refused(f"cannot listen on {address}: {error.strerror}") from None
    return False


def check_addresses_free(addresses: dict[str, str]) -> None:
    """Refuse, naming every taken address and the variable that moves it, before anything starts."""
    taken = [name for name, address in addresses.items() if address_in_use(address)]
    if not taken:
        return
    which = ", ".join(f"{name} ({addresses[name]})" for name in taken)
    variables = ", ".join(f"OPSUITE_{name.upper()}_ADDR" for name in taken)
    raise Refused(
        f"address already in use: {which}. Another suite may be running there (`opsuite status` shows "
        f"what answers); stop it, or set {variables} to a free address (port 0 picks one)"
    )
