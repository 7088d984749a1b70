"""TLS for gRPC (services/common/channels.py) through the real entry points, with throwaway CAs.

`opsuite up` runs a short simulation with mutual TLS: the services follow market and call each other
over it, the supervisor and `opsuite status` dial it, the edge answers HTTP from services it reaches
over it; a plaintext client, a client without a certificate and a client whose certificate another
CA signed are refused. A market alone shows the plaintext health port that Kubernetes' probes use,
and half a TLS configuration is refused before anything starts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import grpc.aio
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.cli.registry import available_services
from services.common.channels import (
    PLAINTEXT,
    TransportSecurity,
    add_port,
    open_blocking_channel,
    open_channel,
)
from services.common.settings import SERVICES
from tests.cli.up_support import Up
from tests.support.certs import Authority, Leaf, authority, issue
from tests.support.finished_suite import run_opsuite
from tests.support.ports import free_ports
from tests.support.processes import ROOT, start_service
from tests.support.waiting import wait_until

GRPCURL = str(Path(sys.executable).parent / "grpcurl")
README = ROOT / "README.md"
DAYS = "5"


@dataclass(frozen=True)
class Pki:
    suite: Authority
    leaf: Leaf  # every process of the suite presents this one
    other: Authority  # a CA the suite does not trust
    intruder: Leaf  # signed by `other`, for the same names

    def security(self, leaf: Leaf | None, ca: Authority) -> TransportSecurity:
        return TransportSecurity(
            certificate_chain=leaf.cert.read_bytes() if leaf else None,
            private_key=leaf.key.read_bytes() if leaf else None,
            root_certificates=ca.pem.read_bytes(),
        )

    @property
    def member(self) -> TransportSecurity:
        return self.security(self.leaf, self.suite)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    suite = authority(directory, "suite")
    other = authority(directory, "other")
    return Pki(suite, issue(suite, directory, "suite"), other, issue(other, directory, "intruder"))


@dataclass
class TlsSuite:
    data_dir: Path
    addresses: dict[str, str]
    env: dict[str, str]
    process: subprocess.Popen[str]
    output: Path

    def supervisor_output(self) -> str:
        return self.output.read_text(errors="replace")


def _caught_up(security: TransportSecurity, addresses: dict[str, str]) -> bool:
    """Market's clock has ended and every follower has applied its whole stream, asked over TLS."""
    try:
        with open_blocking_channel(security, addresses["market"]) as channel:
            clock = market_pb2_grpc.MarketServiceStub(channel).GetClock(
                market_pb2.GetClockRequest(), timeout=2
            )
        if clock.running or clock.head_seq == 0:
            return False
        for name in available_services():
            if name == "market":
                continue
            with open_blocking_channel(security, addresses[name]) as channel:
                status = status_pb2_grpc.StatusServiceStub(channel).GetStatus(
                    status_pb2.GetStatusRequest(), timeout=2
                )
            if not status.serving or status.applied_seq < clock.head_seq:
                return False
    except grpc.RpcError:
        return False
    return True


@pytest.fixture(scope="module")
def tls_suite(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsSuite]:
    data_dir = tmp_path_factory.mktemp("tls-suite")
    *ports, edge_port, health_port = free_ports(len(SERVICES) + 2)
    addresses = {name: f"127.0.0.1:{port}" for name, port in zip(SERVICES, ports, strict=True)}
    env = {
        "OPSUITE_DATA_DIR": str(data_dir),
        "OPSUITE_SHUTDOWN_GRACE_S": "5",
        "OPSUITE_DOCUMENTS_USE_MODEL": "false",
        **{f"OPSUITE_{name.upper()}_ADDR": address for name, address in addresses.items()},
        "OPSUITE_EDGE_ADDR": f"127.0.0.1:{edge_port}",
        **pki.leaf.env(pki.suite, client_auth=True),
        # A pod's setting: `opsuite up` says it does not pass it on (six services cannot share it).
        "OPSUITE_HEALTH_PORT": str(health_port),
    }
    output = data_dir / "supervisor.out"
    up = Up.start(
        "--speed", "max", "--seed", "7", "--start", "2020-01-02", "--days", DAYS, env=env, output_path=output
    )  # fmt: skip
    process = up.process
    suite = TlsSuite(data_dir, addresses, env, process, output)
    try:
        wait_until(
            lambda: (
                process.poll() is not None
                or ("all services serving" in suite.supervisor_output() and _caught_up(pki.member, addresses))
            ),
            timeout=240,
            what="the suite and its edge to start over TLS and every service to catch up with market",
        )
        assert process.poll() is None, f"opsuite up exited early:\n{suite.supervisor_output()}"
        yield suite
    finally:
        up.stop()


def _answer(security: TransportSecurity, address: str) -> grpc.StatusCode:
    """What a health Check over `security` gets: OK, or the code it failed with."""
    with open_blocking_channel(security, address) as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()
            return code
    return grpc.StatusCode.OK


def test_every_service_listens_with_mutual_tls_and_follows_market_over_it(
    tls_suite: TlsSuite, pki: Pki
) -> None:
    # The fixture saw every follower reach market's head over TLS: market's stream reached them.
    with open_blocking_channel(pki.member, tls_suite.addresses["market"]) as channel:
        clock = market_pb2_grpc.MarketServiceStub(channel).GetClock(market_pb2.GetClockRequest(), timeout=5)
    assert clock.business_days_elapsed == int(DAYS) and clock.head_seq > 0
    for name in available_services():
        log = (tls_suite.data_dir / "logs" / f"{name}.log").read_text()
        listening = [json.loads(line) for line in log.splitlines() if '"listening"' in line]
        assert listening and listening[-1]["transport"] == "mutual TLS", (name, listening)
        with open_blocking_channel(pki.member, tls_suite.addresses[name]) as channel:
            status = status_pb2_grpc.StatusServiceStub(channel).GetStatus(
                status_pb2.GetStatusRequest(), timeout=5
            )
        assert status.serving and status.applied_seq == clock.head_seq, (name, status)


def test_the_supervisor_dials_tls_and_passes_no_health_port_on(tls_suite: TlsSuite) -> None:
    output = tls_suite.supervisor_output()
    assert "OPSUITE_HEALTH_PORT is for one service a pod; not passed on" in output, output
    # The run's summary comes from market, the ledger and recon, asked over TLS.
    wait_until(lambda: "business days" in tls_suite.supervisor_output(), timeout=60, what="the run's summary")


def test_the_edge_reaches_the_services_over_tls(tls_suite: TlsSuite) -> None:
    edge = f"http://{tls_suite.env['OPSUITE_EDGE_ADDR']}"
    with httpx.Client(base_url=edge, timeout=30) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        mandates = client.get("/api/reporting/mandates")
        assert mandates.status_code == 200, mandates.text
        assert mandates.json()["mandates"], mandates.text
        # Each backend the edge calls through its own channel: recon, the ledger, dq.
        for path, query in [
            ("/api/recon", {}),
            ("/api/ledger", {"mandate_id": "BAL-USD", "page_size": "5"}),
            ("/api/dataquality", {}),
        ]:
            answer = client.get(path, params=query)
            assert answer.status_code == 200, (path, answer.text)


def test_opsuite_status_dials_tls_with_the_suites_settings(tls_suite: TlsSuite) -> None:
    over_tls = run_opsuite("status", "-o", "json", env=tls_suite.env)
    assert over_tls.returncode == 0, over_tls.stdout + over_tls.stderr
    health = {r["service"]: r["health"] for r in json.loads(over_tls.stdout)}
    assert all(health[name] == "SERVING" for name in available_services()), health

    without = {k: v for k, v in tls_suite.env.items() if not k.startswith("OPSUITE_TLS_")}
    plaintext = run_opsuite("status", "--timeout", "2", "-o", "json", env=without)
    assert plaintext.returncode == 1, plaintext.stdout + plaintext.stderr
    health = {r["service"]: r["health"] for r in json.loads(plaintext.stdout)}
    assert not any(health[name] == "SERVING" for name in available_services()), health


def test_a_plaintext_client_is_refused(tls_suite: TlsSuite, pki: Pki) -> None:
    for name in available_services():
        assert _answer(pki.member, tls_suite.addresses[name]) == grpc.StatusCode.OK, name
        assert _answer(PLAINTEXT, tls_suite.addresses[name]) == grpc.StatusCode.UNAVAILABLE, name


def test_a_certificate_from_another_ca_is_refused(tls_suite: TlsSuite, pki: Pki) -> None:
    market = tls_suite.addresses["market"]
    # The intruder trusts the suite's CA, so it would accept market: market refuses the intruder.
    assert _answer(pki.security(pki.intruder, pki.suite), market) == grpc.StatusCode.UNAVAILABLE
    # Under mutual TLS a client must present a certificate at all.
    assert _answer(pki.security(None, pki.suite), market) == grpc.StatusCode.UNAVAILABLE
    # And a client that trusts only the other CA does not take market for a server it may talk to.
    assert _answer(pki.security(pki.intruder, pki.other), market) == grpc.StatusCode.UNAVAILABLE


def test_grpcurl_with_the_suites_certificate(tls_suite: TlsSuite, pki: Pki) -> None:
    market = tls_suite.addresses["market"]
    tls = ["-cacert", str(pki.suite.pem), "-cert", str(pki.leaf.cert), "-key", str(pki.leaf.key)]
    listed = subprocess.run([GRPCURL, *tls, market, "list"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "opsuite.market.v1.MarketService" in listed.stdout.split()
    plain = subprocess.run(
        [GRPCURL, "-plaintext", market, "list"], capture_output=True, text=True, timeout=60
    )
    assert plain.returncode != 0 and "opsuite.market.v1.MarketService" not in plain.stdout


def test_the_health_port_answers_plaintext_while_the_main_port_refuses_it(pki: Pki, tmp_path: Path) -> None:
    (health_port,) = free_ports(1)
    market = start_service(
        "market",
        tmp_path,
        {
            "OPSUITE_SPEED": "max",
            "OPSUITE_DAYS": "2",
            "OPSUITE_START": "2020-01-02",
            "OPSUITE_HEALTH_PORT": str(health_port),
            **pki.leaf.env(pki.suite, client_auth=True),
        },
    )
    try:
        assert market.wait_listening(60), market.log_text()
        health = f"127.0.0.1:{health_port}"
        with grpc.insecure_channel(health) as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
            stub = health_pb2_grpc.HealthStub(channel)
            for reply in stub.Watch(health_pb2.HealthCheckRequest(), timeout=60):
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    break
            live = stub.Check(health_pb2.HealthCheckRequest(service="liveness"), timeout=5)
            assert live.status == health_pb2.HealthCheckResponse.SERVING
            # Health and nothing else: market's own methods are not on this port.
            with pytest.raises(grpc.RpcError) as other:
                market_pb2_grpc.MarketServiceStub(channel).GetClock(market_pb2.GetClockRequest(), timeout=5)
            assert other.value.code() == grpc.StatusCode.UNIMPLEMENTED
        # The same answer as on the main port, which speaks only mutual TLS.
        assert _answer(pki.member, market.address) == grpc.StatusCode.OK
        assert _answer(PLAINTEXT, market.address) == grpc.StatusCode.UNAVAILABLE
        assert '"health listening (plaintext)"' in market.log_text()
    finally:
        code = market.stop()
    assert code == 0, market.log_text()[-3000:]


@pytest.mark.parametrize(
    ("given", "named"),
    [
        pytest.param(
            {"OPSUITE_TLS_CERT": "cert"}, "OPSUITE_TLS_CERT is set without OPSUITE_TLS_KEY", id="cert"
        ),
        pytest.param({"OPSUITE_TLS_KEY": "key"}, "OPSUITE_TLS_KEY is set without OPSUITE_TLS_CERT", id="key"),
        pytest.param(
            {"OPSUITE_TLS_CLIENT_AUTH": "true", "OPSUITE_TLS_CA": "ca"},
            "OPSUITE_TLS_CLIENT_AUTH=true needs OPSUITE_TLS_CERT, OPSUITE_TLS_KEY and OPSUITE_TLS_CA",
            id="client-auth-without-a-certificate",
        ),
        pytest.param(
            {"OPSUITE_TLS_CERT": "cert", "OPSUITE_TLS_KEY": "not-pem"},
            "OPSUITE_TLS_KEY='{not-pem}': give the path of a PEM file",
            id="not-pem",
        ),
    ],
)
def test_half_a_tls_configuration_is_refused_before_anything_starts(
    pki: Pki, tmp_path: Path, given: dict[str, str], named: str
) -> None:
    (tmp_path / "not-pem.txt").write_text("a key, honestly\n")
    files = {
        "cert": str(pki.leaf.cert),
        "key": str(pki.leaf.key),
        "ca": str(pki.suite.pem),
        "not-pem": str(tmp_path / "not-pem.txt"),
    }
    env = {
        "OPSUITE_DATA_DIR": str(tmp_path),
        **{name: files.get(value, value) for name, value in given.items()},
    }
    refused = run_opsuite("up", "--days", "1", "--no-view", env=env, timeout=60)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert named.format_map(files) in refused.stderr
    assert not (tmp_path / "logs").exists()  # no service was started


def test_a_service_with_a_ca_but_no_certificate_of_its_own_does_not_start(pki: Pki, tmp_path: Path) -> None:
    market = start_service("market", tmp_path, {"OPSUITE_TLS_CA": str(pki.suite.pem)})
    assert market.process.wait(60) == 2
    assert "give a service its own certificate and key too" in market.log_text()


def readme_openssl_commands() -> list[str]:
    """The README's recipe for a CA and the suite's certificate (its "### TLS" section)."""
    block = README.read_text().split("### TLS", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.replace("\\\n", " ").splitlines() if line.startswith("openssl ")]


async def test_the_readmes_certificates_serve_mutual_tls_on_127_0_0_1_and_localhost(tmp_path: Path) -> None:
    commands = readme_openssl_commands()
    assert len(commands) == 2
    for command in commands:
        made = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, (command, made.stderr)
    files = {name: (tmp_path / name).read_bytes() for name in ("tls.crt", "tls.key", "ca.crt")}
    security = TransportSecurity(files["tls.crt"], files["tls.key"], files["ca.crt"], client_auth=True)
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health_aio.HealthServicer(), server)
    port = add_port(server, security, "127.0.0.1:0")
    await server.start()
    try:
        for host in ("127.0.0.1", "localhost"):
            async with open_channel(security, f"{host}:{port}") as channel:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=10
                )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, host
        async with open_channel(PLAINTEXT, f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await server.stop(None)
