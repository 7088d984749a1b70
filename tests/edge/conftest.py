"""An edge process of the tests' own in front of the shared finished suite's services."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.finished_suite import RunningSuite
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until


@dataclass
class Edge:
    process: ServiceProcess
    url: str
    client: httpx.Client


def edge_env(suite: RunningSuite, **overrides: str) -> dict[str, str]:
    """The suite's services' addresses for an edge of our own (start_service gives it port 0)."""
    env = {k: v for k, v in suite.env.items() if k not in ("OPSUITE_EDGE_ADDR", "OPSUITE_DATA_DIR")}
    return {**env, **overrides}


def start_edge(suite: RunningSuite, data_dir: Path, **overrides: str) -> Edge:
    process = start_service("edge", data_dir, edge_env(suite, **overrides))
    assert process.wait_listening(60), process.log_text()
    url = f"http://{process.address}"
    return Edge(process, url, httpx.Client(base_url=url, timeout=60))


@pytest.fixture(scope="module")
def edge(finished_suite: RunningSuite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    started = start_edge(finished_suite, tmp_path_factory.mktemp("edge"))
    try:
        wait_until(
            lambda: started.client.get("/readyz").status_code == 200,
            timeout=120,
            what="the edge's /readyz to answer 200",
        )
        yield started
    finally:
        started.client.close()
        code = started.process.stop()
    assert code == 0, started.process.log_text()[-3000:]
    assert '"stopped"' in started.process.log_text()
