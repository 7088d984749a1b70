"""deploy/k8s as rendered by kustomize (the base and each overlay): every service and the edge
deployed, hardened pods, probes on the right ports, requests and limits, pinned images, shutdown
grace, disruption budgets, and what each overlay promises (dev: SQLite stores, Redis event log,
InjectFault allowed; production: PostgreSQL ledger, tracing, API token, durable stores).

Docker and a cluster are not available here, so this is what can be proven offline; the README of
deploy/k8s says what only a cluster can. kubectl comes from the dev dependencies, so nothing skips.
"""

from __future__ import annotations

import pathlib
import re
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from services.cli.registry import MARKET_FOLLOWERS, available_services
from services.common.serve import LIVENESS
from services.common.settings import DEFAULT_EDGE_PORT, DEFAULT_PORTS, EDGE, SERVICES, Settings
from tests.support.k8s import K8S, NAME, ROOT, TARGETS, Rendered, selects

Doc = dict[str, Any]
OPSUITE = (*SERVICES, EDGE)
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
# Each opsuite workload's image: its family's target in deploy/Dockerfile (test_dockerfile.py).
IMAGES = {name: "opsuite" for name in SERVICES} | {"documents": "opsuite-documents", EDGE: "opsuite-edge"}
# What a service may spend after its own grace on SIGTERM: closing stores and flushing spans, whose
# OTLP export gives up after 10 s (OTEL_EXPORTER_OTLP_TIMEOUT's default).
SPAN_FLUSH_S = 10
KUSTOMIZATION_DIRS = [
    K8S / "base",
    K8S / "components" / "tracing",
    K8S / "components" / "postgres",
    K8S / "components" / "tls",
    K8S / "overlays" / "dev",
    K8S / "overlays" / "production",
]


@pytest.fixture(scope="module", params=list(TARGETS))
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return Rendered(request.param)


@pytest.fixture(scope="module")
def dev() -> Rendered:
    return Rendered("dev")


@pytest.fixture(scope="module")
def production() -> Rendered:
    return Rendered("production")


def _containers(rendered: Rendered) -> Iterator[tuple[str, Doc]]:
    for name in rendered.workloads:
        pod = rendered.pod(name)
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            yield name, container


def _port(address: str) -> int:
    return int(address.rpartition(":")[2])


def _mib(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity) / 2**20


def _cores(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


# ---------------------------------------------------------------------------------- the folders


@pytest.mark.parametrize("folder", KUSTOMIZATION_DIRS, ids=lambda p: str(p.relative_to(K8S)))
def test_kustomization_lists_every_manifest_in_its_folder(folder: pathlib.Path) -> None:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    listed = list(kustomization.get("resources", [])) + [p["path"] for p in kustomization.get("patches", [])]
    local = {entry for entry in listed if not entry.startswith("..")}
    present = {p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml"}
    assert local == present, f"{folder}: listed {sorted(local)} but the folder holds {sorted(present)}"
    for entry in [*listed, *kustomization.get("components", [])]:
        assert (folder / entry).exists(), f"{folder}: {entry} does not exist"


def test_every_overlay_has_a_folder_and_nothing_else_does() -> None:
    overlays = {p.name for p in (K8S / "overlays").iterdir() if p.is_dir()}
    assert overlays == {"dev", "production"}


# ---------------------------------------------------------------------------------- the workloads


def test_every_service_and_the_edge_has_deployment_service_and_service_account(rendered: Rendered) -> None:
    assert set(available_services()) <= set(OPSUITE)
    for name in OPSUITE:
        deployment = rendered.named("Deployment", name)
        rendered.named("Service", name)
        rendered.named("ServiceAccount", name)
        pod = rendered.pod(name)
        assert pod["serviceAccountName"] == name
        assert pod["automountServiceAccountToken"] is False
        assert rendered.container(name)["command"] == ["python", "-m", f"services.{name}"]
        assert deployment["metadata"]["labels"][NAME] == name


def test_each_listens_on_every_interface_at_its_service_port(rendered: Rendered) -> None:
    for name in OPSUITE:
        env = rendered.values(name)
        port = DEFAULT_EDGE_PORT if name == EDGE else DEFAULT_PORTS[name]
        assert env[f"OPSUITE_{name.upper()}_ADDR"] == f"0.0.0.0:{port}", name
        assert port in rendered.container_ports(name).values(), name
        assert rendered.resolve(name, port) == (name, port)


def test_each_finds_the_services_it_calls_at_their_service(rendered: Rendered) -> None:
    for name in OPSUITE:
        for peer in SERVICES:
            address = rendered.values(name).get(f"OPSUITE_{peer.upper()}_ADDR")
            if peer != name and address is not None:
                assert address == f"{peer}:{DEFAULT_PORTS[peer]}", (name, peer, address)
    # The edge calls every service (its routes and the dashboard).
    assert {f"OPSUITE_{peer.upper()}_ADDR" for peer in SERVICES} <= set(rendered.values(EDGE))


def test_market_keeps_the_events_of_every_deployed_follower(rendered: Rendered) -> None:
    followers = rendered.values("market")["OPSUITE_MARKET_FOLLOWERS"].split(",")
    assert sorted(followers) == sorted(MARKET_FOLLOWERS)
    streaming = {n for n in SERVICES if n != "market" and "OPSUITE_MARKET_ADDR" in rendered.values(n)}
    assert streaming == set(followers)


def test_services_are_single_replicas_replaced_not_rolled(rendered: Rendered) -> None:
    """Each keeps its own store (cursor and state): two pods would be two writers."""
    for name in SERVICES:
        spec = rendered.named("Deployment", name)["spec"]
        assert spec["replicas"] == 1, name
        assert spec["strategy"]["type"] == "Recreate", name
    for name in ("redis", "postgres"):
        if name in rendered.workloads:
            assert rendered.named("StatefulSet", name)["spec"]["replicas"] == 1


# ---------------------------------------------------------------------------------- hardening


def test_every_pod_is_non_root_with_a_read_only_root_and_no_capabilities(rendered: Rendered) -> None:
    for name in rendered.workloads:
        pod = rendered.pod(name)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod.get("automountServiceAccountToken") is False, name
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"), name
    for name, container in _containers(rendered):
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["allowPrivilegeEscalation"] is False, name
        assert context.get("privileged", False) is False, name
        assert context["capabilities"] == {"drop": ["ALL"]}, name


def test_overlays_run_in_a_namespace_that_enforces_the_restricted_pod_security_standard() -> None:
    for target in ("dev", "production"):
        rendered = Rendered(target)
        (namespace,) = rendered.of_kind("Namespace")
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        name = namespace["metadata"]["name"]
        assert {rendered.namespace(d) for d in rendered.docs if d["kind"] != "Namespace"} == {name}


def test_every_container_has_requests_and_limits_within_them(rendered: Rendered) -> None:
    for name, container in _containers(rendered):
        resources = container["resources"]
        for kind in ("cpu", "memory"):
            request, limit = resources["requests"][kind], resources["limits"][kind]
            parse = _cores if kind == "cpu" else _mib
            assert 0 < parse(request) <= parse(limit), (name, kind, request, limit)


def test_opsuite_memory_requests_cover_what_bench_measured(rendered: Rendered) -> None:
    """The peak RSS each service reached in bench/README.md's decade run (the edge's and documents' own
    figures for those two), which the manifests' comments cite: a request below it would schedule
    a pod on a node that cannot hold it."""
    # The larger of the two decade runs' peaks (a slower machine's run put the ledger at 119, market at 144).
    measured = {"market": 144, "recon": 118, "ledger": 119, "reporting": 90, "dq": 92, EDGE: 76}
    measured["documents"] = 871 + 2 * 110
    bench = (ROOT / "bench" / "README.md").read_text()
    remeasured = "bench/README.md's figures changed: size the manifests (and this test) on the new ones"
    assert "market 142 MiB, recon 118 MiB, ledger 110, reporting 90, documents 94, dq 92" in bench, remeasured
    assert "market 144, ledger 119, recon 113, documents 94, dq 84, reporting 84" in bench, remeasured
    assert "edge 76" in bench and "peak 871" in bench, remeasured
    for name, rss in measured.items():
        resources = rendered.container(name)["resources"]
        assert _mib(resources["requests"]["memory"]) >= 1.25 * rss, name
        assert _mib(resources["limits"]["memory"]) >= 2 * rss, name


def test_images_are_pinned_and_opsuite_images_carry_the_project_version(rendered: Rendered) -> None:
    for name, container in _containers(rendered):
        image = container["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.match(r"\d+\.\d+", tag), f"{name}: {image} is not a pinned release"
        if name in IMAGES:
            assert image == f"{IMAGES[name]}:{VERSION}", name


# ---------------------------------------------------------------------------------- probes


def test_service_probes_are_native_grpc_on_the_service_or_health_port(rendered: Rendered) -> None:
    """Readiness asks the whole server (caught up, backends reachable); liveness and start-up ask
    the `liveness` health name, SERVING while the process is up, so a service that is catching up
    or waiting out an outage leaves the rotation and is never restarted for it. With TLS on, native
    probes cannot speak it: they ask the plaintext health port (OPSUITE_HEALTH_PORT)."""
    for name in SERVICES:
        container = rendered.container(name)
        env = rendered.values(name)
        port = int(env.get("OPSUITE_HEALTH_PORT", _port(env[f"OPSUITE_{name.upper()}_ADDR"])))
        assert port in rendered.container_ports(name).values(), name
        assert container["readinessProbe"]["grpc"] == {"port": port}, name
        for probe in ("livenessProbe", "startupProbe"):
            assert container[probe]["grpc"] == {"port": port, "service": LIVENESS}, f"{probe} of {name}"


def test_edge_probes_are_http_on_its_port(rendered: Rendered) -> None:
    container = rendered.container(EDGE)
    port = _port(rendered.values(EDGE)["OPSUITE_EDGE_ADDR"])
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}


def test_edge_probe_paths_are_the_edges_own() -> None:
    from services.edge.app import OWN_PATHS

    assert {"/healthz", "/readyz"} <= set(OWN_PATHS)


def test_every_container_has_liveness_and_readiness_probes(rendered: Rendered) -> None:
    for name, container in _containers(rendered):
        assert "livenessProbe" in container and "readinessProbe" in container, name


# ---------------------------------------------------------------------------------- shutdown and disruption


def test_termination_grace_outlasts_the_services_own(rendered: Rendered) -> None:
    default = Settings.model_fields["shutdown_grace_s"].default
    for name in OPSUITE:
        pod = rendered.pod(name)
        grace = float(rendered.values(name).get("OPSUITE_SHUTDOWN_GRACE_S", default))
        pre_stop = rendered.container(name).get("lifecycle", {}).get("preStop", {}).get("sleep", {})
        needed = pre_stop.get("seconds", 0) + grace + SPAN_FLUSH_S
        assert pod["terminationGracePeriodSeconds"] > needed, name


def test_a_disruption_budget_covers_each_workload_of_several_replicas_and_no_other(
    rendered: Rendered,
) -> None:
    budgets = rendered.of_kind("PodDisruptionBudget")
    for name, workload in rendered.workloads.items():
        covering = [b for b in budgets if selects(b["spec"]["selector"], rendered.labels(name))]
        replicas = workload["spec"].get("replicas", 1)
        if replicas > 1:
            (budget,) = covering
            assert 1 <= budget["spec"]["minAvailable"] < replicas, name
        else:
            assert not covering, f"{name} has one replica: a budget would block every drain"


# ---------------------------------------------------------------------------------- the overlays


def test_dev_runs_one_of_each_on_sqlite_with_the_event_log_in_redis(dev: Rendered) -> None:
    for name, workload in dev.workloads.items():
        assert workload["spec"]["replicas"] == 1, name
    assert "postgres" not in dev.workloads
    for name in SERVICES:
        env = dev.values(name)
        assert "OPSUITE_LEDGER_DSN" not in env, name
        assert env["OPSUITE_EVENTLOG_URL"].startswith("redis://redis:6379/"), name
        assert env["OPSUITE_DATA_DIR"] == "/data"
        (mount,) = [m for m in dev.container(name)["volumeMounts"] if m["mountPath"] == "/data"]
        (volume,) = [v for v in dev.pod(name)["volumes"] if v["name"] == mount["name"]]
        assert "emptyDir" in volume, name
    assert not any(name.startswith("OTEL_EXPORTER") for n in OPSUITE for name in dev.values(n))


def test_dev_allows_fault_injection_and_production_does_not(dev: Rendered, production: Rendered) -> None:
    assert dev.values("market")["OPSUITE_ALLOW_FAULT_INJECTION"] == "true"
    for name in production.workloads:
        assert production.values(name).get("OPSUITE_ALLOW_FAULT_INJECTION", "false") == "false", name


def test_production_keeps_the_ledger_on_postgresql_in_a_stateful_set_with_a_volume(
    production: Rendered,
) -> None:
    env = production.env("ledger")
    assert env["OPSUITE_LEDGER_DSN"]["value"].startswith("postgresql://opsuite@postgres:5432/")
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "opsuite-postgres", "key": "password"}
    postgres = production.named("StatefulSet", "postgres")
    (claim,) = postgres["spec"]["volumeClaimTemplates"]
    (container,) = postgres["spec"]["template"]["spec"]["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == claim["metadata"]["name"]]
    pgdata = {e["name"]: e.get("value") for e in container["env"]}["PGDATA"]
    assert pgdata.startswith(mount["mountPath"] + "/")
    assert {e["name"]: e for e in container["env"]}["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"][
        "name"
    ] == ("opsuite-postgres")


def test_redis_appends_to_a_file_on_its_own_volume(rendered: Rendered) -> None:
    redis = rendered.named("StatefulSet", "redis")
    (claim,) = redis["spec"]["volumeClaimTemplates"]
    (container,) = redis["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == claim["metadata"]["name"]]
    assert args[args.index("--dir") + 1] == mount["mountPath"]
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    # maxmemory below the container's limit: a full Redis refuses appends instead of being killed.
    maxmemory = args[args.index("--maxmemory") + 1]
    assert maxmemory.endswith("gb") and float(maxmemory[:-2]) * 1024 < _mib(
        container["resources"]["limits"]["memory"]
    )


def test_production_traces_every_service_and_the_edge(production: Rendered) -> None:
    for name in OPSUITE:
        assert production.values(name)["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317", name
    assert {"otel-collector", "jaeger"} <= set(production.workloads)


def test_production_runs_two_edges_that_take_a_token_from_a_secret(production: Rendered) -> None:
    assert production.named("Deployment", EDGE)["spec"]["replicas"] == 2
    token = production.env(EDGE)["OPSUITE_API_TOKEN"]
    assert "value" not in token
    assert token["valueFrom"]["secretKeyRef"] == {"name": "opsuite-edge-token", "key": "token"}
    assert not production.of_kind("Secret"), "secrets are created by the operator, never kept in git"


def test_production_keeps_each_services_store_on_its_own_volume(production: Rendered) -> None:
    claims = {c["metadata"]["name"] for c in production.of_kind("PersistentVolumeClaim")}
    for name in SERVICES:
        (mount,) = [m for m in production.container(name)["volumeMounts"] if m["mountPath"] == "/data"]
        (volume,) = [v for v in production.pod(name)["volumes"] if v["name"] == mount["name"]]
        if name == "ledger":
            assert "emptyDir" in volume  # its book is in PostgreSQL
            continue
        assert set(volume) == {"name", "persistentVolumeClaim"}, name
        assert volume["persistentVolumeClaim"]["claimName"] in claims, name


def _secret_file(rendered: Rendered, workload: str, path: str) -> tuple[str, str]:
    """The Secret and key a file path of the workload's container comes from."""
    for mount in rendered.container(workload)["volumeMounts"]:
        if path.startswith(mount["mountPath"] + "/"):
            (volume,) = [v for v in rendered.pod(workload)["volumes"] if v["name"] == mount["name"]]
            assert mount.get("readOnly") is True, (workload, mount)
            return volume["secret"]["secretName"], path[len(mount["mountPath"]) + 1 :]
    raise AssertionError(f"{workload}: nothing is mounted at {path}")


def test_production_speaks_mutual_tls_between_the_processes(production: Rendered) -> None:
    """Every service serves TLS and requires a client certificate; the edge and the services dial
    with the suite's certificate; everything comes from the Secret opsuite-tls."""
    for name in OPSUITE:
        env = production.values(name)
        files = {_secret_file(production, name, env[f"OPSUITE_TLS_{part}"]) for part in ("CERT", "KEY", "CA")}
        assert files == {("opsuite-tls", "tls.crt"), ("opsuite-tls", "tls.key"), ("opsuite-tls", "ca.crt")}, (
            name
        )
        if name != EDGE:
            assert env["OPSUITE_TLS_CLIENT_AUTH"] == "true", name
            # Native probes cannot speak TLS: the plaintext health port answers them.
            assert env["OPSUITE_HEALTH_PORT"] != env[f"OPSUITE_{name.upper()}_ADDR"].rpartition(":")[2], name


def test_dev_is_plaintext(dev: Rendered) -> None:
    for name in OPSUITE:
        assert not {
            v for v in dev.values(name) if v.startswith("OPSUITE_TLS_") or v == "OPSUITE_HEALTH_PORT"
        }, name
