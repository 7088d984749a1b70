"""Probing every running service as a grpcurl user does: describe a service, each of its methods,
health's Check, a message, and a symbol that does not exist. No proto files at hand: reflection only."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool

from opsuite.documents.v1 import documents_pb2
from opsuite.dq.v1 import dq_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2
from opsuite.recon.v1 import recon_pb2
from opsuite.reporting.v1 import reporting_pb2
from tests.support.processes import ServiceProcess, start_service

# The README's InjectFault examples run here, as under `opsuite up`, which allows fault injection.
WORLD = {
    "OPSUITE_SEED": "3",
    "OPSUITE_START": "2020-02-03",
    "OPSUITE_DAYS": "3",
    "OPSUITE_SPEED": "max",
    "OPSUITE_ALLOW_FAULT_INJECTION": "true",
}
SERVICES = {
    "market": market_pb2.DESCRIPTOR.services_by_name["MarketService"],
    "ledger": ledger_pb2.DESCRIPTOR.services_by_name["LedgerService"],
    "dq": dq_pb2.DESCRIPTOR.services_by_name["DqService"],
    "recon": recon_pb2.DESCRIPTOR.services_by_name["ReconService"],
    "reporting": reporting_pb2.DESCRIPTOR.services_by_name["ReportingService"],
    "documents": documents_pb2.DESCRIPTOR.services_by_name["DocumentsService"],
}
# Probing needs no answers from the SOP assistant, so documents runs without loading its model here
# (its Ask and IngestPolicy answer UNAVAILABLE, saying so); tests/documents runs it with the model.
DOCUMENTS_WITHOUT_MODEL = {"OPSUITE_DOCUMENTS_USE_MODEL": "false"}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    root = tmp_path_factory.mktemp("describe")
    env = {**WORLD, "OPSUITE_EVENTLOG_URL": f"sqlite:///{root}/eventlog.sqlite3"}
    processes: dict[str, ServiceProcess] = {}
    try:
        # In start order, each given the addresses of those it reads (reporting reads dq's quarantine).
        for name in ("market", "ledger", "dq", "recon", "reporting", "documents"):
            extra = DOCUMENTS_WITHOUT_MODEL if name == "documents" else {}
            processes[name] = start_service(name, root / name, {**env, **extra})
            processes[name].wait_serving()
            env[f"OPSUITE_{name.upper()}_ADDR"] = processes[name].address
        yield processes
    finally:
        for process in reversed(processes.values()):
            process.stop()


def grpcurl(service: ServiceProcess, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    assert binary is not None, "grpcurl is missing from the virtualenv: the dev extra installs it"
    return subprocess.run(
        [binary, "-plaintext", service.address, *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_describe_prints_the_service_and_each_of_its_methods(
    running: dict[str, ServiceProcess], name: str
) -> None:
    service = SERVICES[name]
    described = grpcurl(running[name], "describe", service.full_name)
    assert described.returncode == 0, described.stderr
    assert f"{service.full_name} is a service" in described.stdout
    for method in service.methods:
        result = grpcurl(running[name], "describe", method.full_name)
        assert result.returncode == 0, f"describe {method.full_name}: {result.stderr}"
        assert f"{method.full_name} is a method" in result.stdout
        assert f"rpc {method.name} (" in result.stdout
        assert method.input_type.full_name in result.stdout


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_health_check_method_and_messages_describe_on_every_service(
    running: dict[str, ServiceProcess], name: str
) -> None:
    check = grpcurl(running[name], "describe", "grpc.health.v1.Health.Check")
    assert check.returncode == 0, check.stderr
    assert (
        "rpc Check ( .grpc.health.v1.HealthCheckRequest ) returns ( .grpc.health.v1.HealthCheckResponse )"
        in (check.stdout)
    )
    money = grpcurl(running[name], "describe", "opsuite.common.v1.Money")
    assert money.returncode == 0, money.stderr
    assert ".opsuite.common.v1.Decimal amount" in money.stdout


@pytest.mark.parametrize(
    "symbol",
    [
        "opsuite.market.v1.MarketService.NoSuchMethod",
        "opsuite.nothing.v1.NoService.Call",
        "opsuite.market.v1.NoSuchMessage",
        "NoDots",
    ],
)
def test_an_unknown_symbol_is_not_found(running: dict[str, ServiceProcess], symbol: str) -> None:
    result = grpcurl(running["market"], "describe", symbol)
    assert result.returncode != 0
    assert "not found" in result.stderr.lower()
    # The symbol really is absent from the contract the service was built with.
    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMethodByName(symbol)


def test_get_status_on_every_service_says_how_far_it_has_come(running: dict[str, ServiceProcess]) -> None:
    head = None
    for name in ("market", "ledger", "dq", "recon", "reporting", "documents"):
        result = grpcurl(running[name], "opsuite.common.v1.StatusService/GetStatus")
        assert result.returncode == 0, result.stderr
        status = json.loads(result.stdout)
        assert status["service"] == name
        assert status["serving"] is True
        assert "not_serving_reason" not in status  # empty while serving
        # The market ran its three days to the end before the followers started, and each
        # follower reports SERVING only once it has applied everything up to market's head.
        # grpcurl prints proto field names, and 64-bit integers as strings (proto3 JSON).
        head = head or int(status["market_head_seq"])
        assert int(status["market_head_seq"]) == head > 0
        assert int(status["applied_seq"]) == head
        assert "lag" not in status  # zero
        # Three business days from Monday 2020-02-03: the last is Wednesday 2020-02-05.
        assert status["simulated_date"] == {"year": 2020, "month": 2, "day": 5}
        assert status["uptime"].endswith("s")


def test_opsuite_status_shows_each_service_serving_with_its_progress(
    running: dict[str, ServiceProcess],
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    env.update({f"OPSUITE_{name.upper()}_ADDR": process.address for name, process in running.items()})
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") > 5}
    for name in ("market", "ledger", "dq", "recon", "reporting", "documents"):
        assert "SERVING" in rows[name] and "2020-02-05" in rows[name]


README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT_PORTS = {
    "50051": "market",
    "50056": "ledger",
    "50052": "recon",
    "50053": "reporting",
    "50054": "dq",
    "50055": "documents",
}
# Server streams follow market live and never end by themselves: the README shows them for a
# person to watch and Ctrl-C; here they run for a bounded time and must have printed something.
STREAMING = ("StreamEvents", "WatchBreaks", "WatchNav", "WatchJournals", "WatchTrialBalance")


def readme_grpcurl_commands() -> list[str]:
    block = README.read_text().split("### Probing with grpcurl", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("$G ")]


def test_the_readme_lists_grpcurl_examples_for_every_service() -> None:
    commands = readme_grpcurl_commands()
    assert {port for command in commands for port in DEFAULT_PORTS if f"127.0.0.1:{port}" in command} == set(
        DEFAULT_PORTS
    )


@pytest.mark.parametrize("command", readme_grpcurl_commands())
def test_each_grpcurl_example_of_the_readme_works(running: dict[str, ServiceProcess], command: str) -> None:
    args = shlex.split(command)[1:]
    for index, arg in enumerate(args):
        for port, name in DEFAULT_PORTS.items():
            if arg == f"127.0.0.1:{port}":
                args[index] = running[name].address
    streaming = any(args[-1].endswith(f"/{method}") for method in STREAMING)
    binary = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    assert binary is not None
    if streaming:
        args = ["-max-time", "3", *args]
    result = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)
    if streaming:
        # Ends at -max-time with DeadlineExceeded: what matters is that it streamed events first.
        assert "DeadlineExceeded" in result.stderr, result.stderr
        if args[-1].endswith("/StreamEvents"):
            assert '"kind": "trade.fill"' in result.stdout
    else:
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        assert result.stdout.strip()


# Not a protobuf message: field 31 with wire type 7, which does not exist.
UNDECODABLE = b"\xff\xff\xff\xff"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_a_body_that_does_not_decode_is_invalid_argument_on_every_method(
    name: str, running: dict[str, ServiceProcess]
) -> None:
    """Every RPC, unary or streaming, refuses bytes that are not its request message with
    INVALID_ARGUMENT naming the message it expected; the service keeps serving."""
    import grpc

    service = SERVICES[name]
    with grpc.insecure_channel(running[name].address) as channel:
        for method in [*service.methods, None]:
            if method is None:  # health's Check, served by the platform
                path, expected = "/grpc.health.v1.Health/Check", "grpc.health.v1.HealthCheckRequest"
                streaming = False
            else:
                path, expected = f"/{service.full_name}/{method.name}", method.input_type.full_name
                streaming = method.server_streaming
            call = (channel.unary_stream if streaming else channel.unary_unary)(path)
            with pytest.raises(grpc.RpcError) as refused:
                reply = call(UNDECODABLE, timeout=10)
                if streaming:
                    next(iter(reply))
            error = refused.value
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (path, error.code(), error.details())
            assert expected in error.details(), (path, error.details())
        health = channel.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=10)
    assert health == b"\x08\x01"  # status: SERVING


def test_a_huge_value_echoed_in_a_refusal_is_cut_so_the_refusal_still_arrives(
    running: dict[str, ServiceProcess],
) -> None:
    """An unknown mandate id of 100,000 characters: NOT_FOUND naming its start, not RESOURCE_EXHAUSTED
    because the echoed id made the trailers too large for the client."""
    import grpc

    from services.common.status import details_of, status_from_error

    huge = "M" * 100_000
    with grpc.insecure_channel(running["ledger"].address) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=huge), timeout=10)
    error = refused.value
    assert error.code() == grpc.StatusCode.NOT_FOUND, error.details()
    # The start of the id, its length, and what to do instead (the known mandates) all fit.
    assert error.details().startswith("unknown mandate 'MMMM")
    assert "(100,000 characters); known: " in error.details()
    assert len(error.details().encode()) <= 512
    status = status_from_error(error)
    assert status is not None and status.code == grpc.StatusCode.NOT_FOUND.value[0]
    bad_request, _ = details_of(status)
    assert bad_request is not None and [v.field for v in bad_request.field_violations] == ["mandate_id"]


@pytest.mark.parametrize("token", ["99999999999999999999", "9223372036854775808", "\u0661\u0662", "abc"])
def test_a_garbage_page_token_is_invalid_argument_on_every_paged_list(
    token: str, running: dict[str, ServiceProcess]
) -> None:
    import grpc

    calls = {
        "ledger": [
            ("GetLedger", ledger_pb2.GetLedgerRequest),
            ("ListAccounts", ledger_pb2.ListAccountsRequest),
        ],
        "market": [
            ("ListMandates", market_pb2.ListMandatesRequest),
            ("ListInstruments", market_pb2.ListInstrumentsRequest),
        ],
        "recon": [("ListBreaks", recon_pb2.ListBreaksRequest)],
        "dq": [
            ("ListIssues", dq_pb2.ListIssuesRequest),
            ("GetQuarantine", dq_pb2.GetQuarantineRequest),
            ("ListChecks", dq_pb2.ListChecksRequest),
        ],
    }
    for name, methods in calls.items():
        service = SERVICES[name]
        with grpc.insecure_channel(running[name].address) as channel:
            for method, request_type in methods:
                call = channel.unary_unary(
                    f"/{service.full_name}/{method}", request_serializer=request_type.SerializeToString
                )
                with pytest.raises(grpc.RpcError) as refused:
                    call(request_type(page_token=token), timeout=10)
                assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (
                    method,
                    refused.value.details(),
                )
