"""The edge's process conventions: its address from OPSUITE_EDGE_ADDR (127.0.0.1:8080 by default), a bad
setting or a taken port explained, and SIGTERM draining the requests in flight before exit code 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from services.common.settings import load_settings
from services.edge.process import _listen
from services.edge.settings import EdgeSettings
from tests.support.processes import ROOT
from tests.support.waiting import wait_until


def test_it_listens_on_8080_of_loopback_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSUITE_EDGE_ADDR", raising=False)
    assert load_settings(EdgeSettings).edge_addr == "127.0.0.1:8080"
    monkeypatch.setenv("OPSUITE_EDGE_ADDR", "0.0.0.0:9000")
    assert load_settings(EdgeSettings).edge_addr == "0.0.0.0:9000"


def _run_edge(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    return subprocess.run(
        [sys.executable, "-m", "services.edge"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_setting_exits_2_naming_the_variable() -> None:
    result = _run_edge({"OPSUITE_EDGE_ADDR": "nowhere", "OPSUITE_EDGE_DEADLINE_S": "0"})
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert lines == [
        "edge: OPSUITE_EDGE_ADDR='nowhere': give host:port (port 0 means any free port)",
        "edge: OPSUITE_EDGE_DEADLINE_S='0': give seconds, a number above 0: the deadline of a call whose "
        "request gives none (grpc-timeout or X-Request-Timeout)",
    ]


def test_a_taken_port_exits_1_saying_so(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        address = f"127.0.0.1:{squatter.getsockname()[1]}"
        result = _run_edge({"OPSUITE_EDGE_ADDR": address, "OPSUITE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert '"message": "cannot listen"' in result.stderr and address in result.stderr


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0() -> None:
    helper = subprocess.Popen(
        [sys.executable, "-m", "tests.edge.drain_helper"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))},
            "OPSUITE_EDGE_ADDR": "127.0.0.1:0",
            "OPSUITE_SHUTDOWN_GRACE_S": "10",
            "PYTHONUNBUFFERED": "1",
        },
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(helper.stderr.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    try:
        listening = wait_until(
            lambda: next((line for line in lines if '"listening"' in line), None), what="listening"
        )
        url = listening.split('"url": "', 1)[1].split('"', 1)[0]
        answers: list[httpx.Response] = []
        call = threading.Thread(
            target=lambda: answers.append(httpx.get(f"{url}/v1/slow", params={"sleep_s": "1.5"}, timeout=30))
        )
        call.start()
        wait_until(
            lambda: any("slow call started" in line for line in lines),
            what="the slow call to reach the service",
        )
        helper.send_signal(signal.SIGTERM)
        wait_until(
            lambda: any('"shutting down"' in line for line in lines), what="the edge to start shutting down"
        )
        with pytest.raises(httpx.ConnectError):  # no new request is taken meanwhile
            httpx.get(f"{url}/healthz", timeout=5)
        call.join(timeout=30)
        assert answers and answers[0].status_code == 200, answers
        assert float(answers[0].json()["remainingS"]) > 25  # the default deadline, 30 s
        assert helper.wait(timeout=30) == 0
        assert any('"stopped"' in line and '"exit_code": 0' in line for line in lines), "".join(lines)
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()


def test_answers_on_a_kept_alive_connection_are_not_held_back() -> None:
    """The listening socket is TCP's (IPPROTO_TCP), so asyncio sets TCP_NODELAY on each connection
    it accepts. Made with proto 0 it left Nagle on, and every answer on a kept-alive connection
    waited for the client's delayed ACK, 40 ms at least (found timing
    tests/fuzz/test_edge_schemathesis.py, whose 1,000 requests spent 40 s waiting for it). Checked
    on the accepted connection itself, not by timing answers."""

    async def nodelay_of_an_accepted_connection() -> int:
        with _listen("127.0.0.1:0") as sock:
            assert sock.proto == socket.IPPROTO_TCP
            accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

            def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                option = writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                accepted.set_result(option)
                writer.close()

            server = await asyncio.start_server(on_connection, sock=sock)
            host, port = sock.getsockname()[:2]
            _, client = await asyncio.open_connection(host, port)
            try:
                return await asyncio.wait_for(accepted, 10)
            finally:
                client.close()
                server.close()
                await server.wait_closed()

    assert asyncio.run(nodelay_of_an_accepted_connection()) != 0
