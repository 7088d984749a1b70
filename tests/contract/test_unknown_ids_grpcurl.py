"""Unknown ids and kinds as a grpcurl user meets them, against real market, ledger and recon
processes: NOT_FOUND (or INVALID_ARGUMENT for a value outside a filter's vocabulary) with the
known values in the message, the same way on every service."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import ServiceProcess, start_service

WORLD = {"OPSUITE_SEED": "3", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "3", "OPSUITE_SPEED": "max"}
MANDATES = "BAL-USD, EQ-EUR, EQ-JPY, FI-USD, INC-GBP"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    root = tmp_path_factory.mktemp("unknown-ids")
    env = {**WORLD, "FRED_API_KEY": "", "OPSUITE_EVENTLOG_URL": f"sqlite:///{root}/eventlog.sqlite3"}
    processes: dict[str, ServiceProcess] = {}
    try:
        for name in ("market", "ledger", "recon", "reporting"):
            processes[name] = start_service(name, root / name, env)
            processes[name].wait_serving()
            env[f"OPSUITE_{name.upper()}_ADDR"] = processes[name].address
        yield processes
    finally:
        for process in reversed(processes.values()):
            process.stop()


def grpcurl(service: ServiceProcess, body: str, method: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    assert binary is not None, "grpcurl is missing from the virtualenv: the dev extra installs it"
    return subprocess.run(
        [binary, "-plaintext", "-max-time", "10", "-d", body, service.address, method],
        capture_output=True,
        text=True,
        timeout=60,
    )


def refusal(result: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    """(code, message) of grpcurl's "ERROR:\\n  Code: ...\\n  Message: ..." on stderr."""
    assert result.returncode != 0, result.stdout
    fields = dict(line.strip().split(": ", 1) for line in result.stderr.splitlines() if ": " in line)
    return fields.get("Code", ""), fields.get("Message", "")


def test_market_refuses_an_unknown_event_kind_instead_of_streaming_heartbeats(
    running: dict[str, ServiceProcess],
) -> None:
    result = grpcurl(
        running["market"],
        '{"from_seq": 1, "filter": {"kinds": ["trades"]}}',
        "opsuite.market.v1.MarketService/StreamEvents",
    )
    code, message = refusal(result)
    assert code == "InvalidArgument"
    assert message.startswith("filter.kinds[0]: 'trades' is not the start of any event kind; the kinds are ")
    assert "trade.fill" in message
    assert result.stdout.strip() == ""  # not one batch was sent


def test_market_and_ledger_answer_an_unknown_mandate_alike(running: dict[str, ServiceProcess]) -> None:
    market = refusal(
        grpcurl(
            running["market"], '{"mandate_id": "NOPE"}', "opsuite.market.v1.MarketService/ListInjectedFaults"
        )
    )
    assert market[0] == "NotFound" and market[1].startswith("unknown mandate 'NOPE'; known: ")
    ledger = refusal(
        grpcurl(
            running["ledger"], '{"mandate_id": "NOPE"}', "opsuite.ledger.v1.LedgerService/GetTrialBalance"
        )
    )
    assert ledger == ("NotFound", f"unknown mandate 'NOPE'; known: {MANDATES}")
    # The same mandates, whichever service is asked (market lists them in its own order).
    assert sorted(market[1].removeprefix("unknown mandate 'NOPE'; known: ").split(", ")) == MANDATES.split(
        ", "
    )


def test_recon_answers_an_unknown_mandate_like_the_ledger(running: dict[str, ServiceProcess]) -> None:
    result = grpcurl(running["recon"], '{"mandate_id": "NOPE"}', "opsuite.recon.v1.ReconService/ListBreaks")
    assert refusal(result) == ("NotFound", f"unknown mandate 'NOPE'; known: {MANDATES}")


def test_reporting_answers_an_unknown_mandate_like_the_ledger(running: dict[str, ServiceProcess]) -> None:
    result = grpcurl(
        running["reporting"], '{"mandate_id": "NOPE"}', "opsuite.reporting.v1.ReportingService/GetReport"
    )
    assert refusal(result) == ("NotFound", f"unknown mandate 'NOPE'; known: {MANDATES}")
