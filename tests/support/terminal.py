"""A real terminal for tests of what a person sees: a detached tmux session of a given size.

`Terminal.open(command, env=..., width=80, height=24)` runs the command in it; `screen()` is the text
on screen now (capture-pane; -J joins the lines the terminal wrapped), `history()` adds what
scrolled off the top, `wait_for(text)` polls it with a deadline, `type(...)` sends keys.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Mapping

import pytest

from tests.support.processes import ROOT
from tests.support.waiting import wait_until


def _tmux(server: str, *args: str) -> subprocess.CompletedProcess[str]:
    # A server of our own (-L), without the person's ~/.tmux.conf (-f /dev/null). One server per
    # terminal: with one shared by the test workers, a server that was exiting as its last session
    # was killed refused another worker's new session ("server exited unexpectedly").
    return subprocess.run(
        ["tmux", "-L", server, "-f", "/dev/null", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


class Terminal:
    def __init__(self, name: str):
        self.name = name

    @classmethod
    @contextlib.contextmanager
    def open(
        cls, command: list[str], *, env: Mapping[str, str], width: int = 80, height: int = 24
    ) -> Iterator[Terminal]:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is needed for terminal tests (.ci/run installs it)")
        name = f"opsuite-test-{uuid.uuid4().hex[:8]}"
        environment = {**env, "TERM": env.get("TERM", "tmux-256color")}
        assignments = " ".join(f"{key}={shlex.quote(value)}" for key, value in environment.items())
        # `remain-on-exit` keeps the last screen of a command that ended, for the assertions.
        shell = f"cd {shlex.quote(str(ROOT))} && env -i {assignments} {shlex.join(command)}"
        started = _tmux(
            name, "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), shell,
            ";", "set-option", "-t", name, "remain-on-exit", "on",
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        terminal = cls(name)
        try:
            yield terminal
        finally:
            _tmux(name, "kill-server")

    def screen(self) -> str:
        return _tmux(self.name, "capture-pane", "-p", "-J", "-t", self.name).stdout

    def history(self) -> str:
        """Everything the pane printed, the lines scrolled off the top included (-S -)."""
        return _tmux(self.name, "capture-pane", "-p", "-J", "-S", "-", "-t", self.name).stdout

    def size(self) -> tuple[int, int]:
        shown = _tmux(
            self.name, "display-message", "-p", "-t", self.name, "#{pane_width} #{pane_height}"
        ).stdout.split()
        return int(shown[0]), int(shown[1])

    def wait_for(self, text: str, timeout: float = 120) -> str:
        wait_until(lambda: text in self.screen(), timeout=timeout, what=f"{text!r} on the terminal")
        return self.screen()

    def type(self, *keys: str) -> None:
        """tmux send-keys: literal text, or key names such as Enter and C-c."""
        _tmux(self.name, "send-keys", "-t", self.name, *keys)

    def ended(self) -> bool:
        return (
            _tmux(self.name, "display-message", "-p", "-t", self.name, "#{pane_dead}").stdout.strip() == "1"
        )
