"""Unknown ids and kinds as a grpcurl user meets them, against real market, ledger, dq, recon and
reporting processes: NOT_FOUND (or INVALID_ARGUMENT for a value outside a filter's vocabulary,
OUT_OF_RANGE for a date or cursor past what the service has) with the known values in the
message, the same way on every service."""

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
        for name in ("market", "ledger", "dq", "recon", "reporting"):
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


def test_dq_answers_an_unknown_mandate_like_the_ledger(running: dict[str, ServiceProcess]) -> None:
    for method in ("GetStatus", "ListIssues", "WatchIssues"):
        result = grpcurl(running["dq"], '{"mandate_id": "NOPE"}', f"opsuite.dq.v1.DqService/{method}")
        assert refusal(result) == ("NotFound", f"unknown mandate 'NOPE'; known: {MANDATES}"), method
        assert result.stdout.strip() == ""  # a watch sends nothing before refusing


def test_dq_answers_an_unknown_instrument_naming_the_rpc_that_lists_them(
    running: dict[str, ServiceProcess],
) -> None:
    for method in ("ListIssues", "GetQuarantine"):
        code, message = refusal(
            grpcurl(running["dq"], '{"instrument_id": "US-NWSX"}', f"opsuite.dq.v1.DqService/{method}")
        )
        assert code == "NotFound", (method, message)
        # Too many to list: the nearest, and where to find them all.
        assert message.startswith("unknown instrument 'US-NWSX'; nearest: US-NWSF"), (method, message)
        assert "market's ListInstruments lists all" in message, (method, message)
    code, message = refusal(
        grpcurl(
            running["dq"],
            '{"prices": [{"instrument_id": "NOPE", "price": {"value": "100"}}]}',
            "opsuite.dq.v1.DqService/CheckPrices",
        )
    )
    assert code == "NotFound" and message.startswith("unknown instrument 'NOPE'; "), message


def test_dq_answers_an_unknown_issue_with_the_rpc_that_lists_them(running: dict[str, ServiceProcess]) -> None:
    result = grpcurl(running["dq"], '{"issue_id": "dq-999999"}', "opsuite.dq.v1.DqService/AcknowledgeIssue")
    assert refusal(result) == ("NotFound", "no issue 'dq-999999'; ListIssues names them")
    result = grpcurl(running["dq"], "{}", "opsuite.dq.v1.DqService/AcknowledgeIssue")
    assert refusal(result) == ("InvalidArgument", "issue_id: required: an id from ListIssues (dq-<n>)")


def test_dq_refuses_values_outside_its_vocabulary_and_range(running: dict[str, ServiceProcess]) -> None:
    dq = running["dq"]
    # An enum number the contract does not have (grpcurl sends numbers as they are).
    result = grpcurl(dq, '{"kinds": [99]}', "opsuite.dq.v1.DqService/ListIssues")
    assert refusal(result) == ("InvalidArgument", "kinds[0]: 99 is not an IssueKind")
    result = grpcurl(dq, '{"subject_kind": 7}', "opsuite.dq.v1.DqService/GetQuarantine")
    assert refusal(result) == ("InvalidArgument", "subject_kind: 7 is not a SubjectKind")
    # A day dq has not checked yet (the run's three days end on 2020-02-05).
    code, message = refusal(
        grpcurl(
            dq,
            '{"as_of_date": {"year": 2030, "month": 1, "day": 2}}',
            "opsuite.dq.v1.DqService/GetQuarantine",
        )
    )
    assert code == "OutOfRange"
    assert message.startswith("as_of_date 2030-01-02 is past the last day dq has checked (up to 2020-02-05)")
    # A watch resumed beyond the latest change.
    code, message = refusal(
        grpcurl(dq, '{"after_change_seq": "999999999"}', "opsuite.dq.v1.DqService/WatchIssues")
    )
    assert code == "OutOfRange" and message.startswith(
        "after_change_seq 999999999 is beyond the latest change"
    )
    # A price no instrument comes near: refused, not failed in the off-tick arithmetic.
    result = grpcurl(
        dq,
        '{"prices": [{"instrument_id": "US-NWSF", "price": {"value": "999999999999999999999999999999"}}]}',
        "opsuite.dq.v1.DqService/CheckPrices",
    )
    assert refusal(result) == ("InvalidArgument", "prices[0].price: at most 18 integer digits, got 30")
