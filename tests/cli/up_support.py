"""Driving `opsuite up` as a person does, from a test: start it, read what it printed, signal it, and
find the service processes it started (each names its supervisor in OPSUITE_SUPERVISOR_PID)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from services.common.lifeline import SUPERVISOR_PID_VARIABLE
from services.common.settings import SERVICES
from tests.cli.conftest import clean_environment
from tests.support.ports import free_ports
from tests.support.processes import ROOT
from tests.support.waiting import wait_until


def suite_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a suite of its own: its data directory and free ports. documents runs
    without its embedding model here (these suites test the supervisor, not the SOP assistant; each
    would spend 10 to 20 s and 0.5 GB loading it); `**extra` may turn it back on, as the README's
    examples do, and the shared finished suite (conftest.py) and tests/documents run with it."""
    *ports, edge_port = free_ports(len(SERVICES) + 1)
    return {
        "OPSUITE_DATA_DIR": str(data_dir),
        "OPSUITE_SHUTDOWN_GRACE_S": "5",
        "OPSUITE_DOCUMENTS_USE_MODEL": "false",
        **{
            f"OPSUITE_{name.upper()}_ADDR": f"127.0.0.1:{port}"
            for name, port in zip(SERVICES, ports, strict=True)
        },
        "OPSUITE_EDGE_ADDR": f"127.0.0.1:{edge_port}",
        **extra,
    }


@dataclass
class Up:
    process: subprocess.Popen[str]
    output_path: Path

    @classmethod
    def start(cls, *args: str, env: dict[str, str], output_path: Path, plain: bool = True) -> Up:
        """`opsuite up <args>`, with --no-view unless plain=False (its output is a file, not a
        terminal, so the view prints plain lines either way)."""
        out = output_path.open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up", *(["--no-view"] if plain else []), *args],
            cwd=ROOT,
            env={**clean_environment(), **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        out.close()
        return cls(process, output_path)

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 180) -> None:
        wait_until(
            lambda: text in self.output() or self.process.poll() is not None,
            timeout=timeout,
            what=f"{text!r} in the output of opsuite up",
        )
        assert text in self.output(), f"opsuite up exited without printing {text!r}:\n{self.output()}"

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)

    def services(self) -> dict[int, str]:
        return services_of(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in services_of(self.process.pid):  # never leave a process behind a failed test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def services_of(supervisor_pid: int) -> dict[int, str]:
    """pid -> service name of every live process started by that supervisor."""
    marker = f"{SUPERVISOR_PID_VARIABLE}={supervisor_pid}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ and state != "Z":
            module = next((part.decode() for part in command if part.startswith(b"services.")), "?")
            found[int(entry.name)] = module.removeprefix("services.")
    return found
