"""Probing every running service as a grpcurl user does: describe a service, each of its methods,
health's Check, a message, and a symbol that does not exist. No proto files at hand: reflection only."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool

from opsuite.ledger.v1 import ledger_pb2
from opsuite.market.v1 import market_pb2
from opsuite.recon.v1 import recon_pb2
from tests.support.processes import ServiceProcess, start_service

WORLD = {"OPSUITE_SEED": "3", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "3", "OPSUITE_SPEED": "max"}
SERVICES = {
    "market": market_pb2.DESCRIPTOR.services_by_name["MarketService"],
    "ledger": ledger_pb2.DESCRIPTOR.services_by_name["LedgerService"],
    "recon": recon_pb2.DESCRIPTOR.services_by_name["ReconService"],
}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    root = tmp_path_factory.mktemp("describe")
    env = {**WORLD, "OPSUITE_EVENTLOG_URL": f"sqlite:///{root}/eventlog.sqlite3"}
    processes: dict[str, ServiceProcess] = {}
    try:
        processes["market"] = start_service("market", root / "market", env)
        processes["market"].wait_serving()
        env["OPSUITE_MARKET_ADDR"] = processes["market"].address
        processes["ledger"] = start_service("ledger", root / "ledger", env)
        processes["ledger"].wait_serving()
        env["OPSUITE_LEDGER_ADDR"] = processes["ledger"].address
        processes["recon"] = start_service("recon", root / "recon", env)
        processes["recon"].wait_serving()
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
