"""Static checks of deploy/k8s: hardened pods, native gRPC probes, complete kustomizations.

Docker and a cluster are not available here, so the manifests are checked as
data; where kubectl is installed, kustomize also renders them.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from services.cli.registry import available_services
from services.common.serve import LIVENESS
from services.common.settings import SERVICES

K8S = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "k8s"
BASE = K8S / "base"
TRACING = K8S / "components" / "tracing"
KUSTOMIZATION_DIRS = [BASE, TRACING, K8S / "overlays" / "tracing"]
OPSUITE_IMAGE = "opsuite:latest"
# documents runs its own image, the one that carries torch and the model (deploy/Dockerfile).
OPSUITE_IMAGES = frozenset({OPSUITE_IMAGE, "opsuite-documents:latest"})

Doc = dict[str, Any]


def _docs(folder: pathlib.Path) -> list[Doc]:
    docs: list[Doc] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def _of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [doc for doc in docs if doc["kind"] == kind]


def _deployments() -> Iterator[Doc]:
    for folder in (BASE, TRACING):
        for doc in _of_kind(_docs(folder), "Deployment"):
            # The component's patches are partial Deployments, not workloads.
            if "selector" in doc["spec"]:
                yield doc


def _opsuite_deployments() -> list[Doc]:
    found = [
        doc
        for doc in _deployments()
        if any(c["image"] in OPSUITE_IMAGES for c in doc["spec"]["template"]["spec"]["containers"])
    ]
    assert found, "no Deployment runs the opsuite image"
    return found


def _service_port(name: str) -> int:
    """The container port the Service of `name` sends traffic to."""
    (service,) = [doc for doc in _of_kind(_docs(BASE), "Service") if doc["metadata"]["name"] == name]
    (deployment,) = [doc for doc in _opsuite_deployments() if doc["metadata"]["name"] == name]
    (port,) = service["spec"]["ports"]
    target = port.get("targetPort", port["port"])
    if isinstance(target, int):
        return target
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    (number,) = [p["containerPort"] for p in container["ports"] if p.get("name") == target]
    return number


@pytest.mark.parametrize("folder", KUSTOMIZATION_DIRS, ids=lambda p: str(p.relative_to(K8S)))
def test_kustomization_lists_every_manifest_in_its_folder(folder: pathlib.Path) -> None:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    listed = list(kustomization.get("resources", [])) + [p["path"] for p in kustomization.get("patches", [])]
    local = {entry for entry in listed if not entry.startswith("..")}
    present = {p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml"}
    assert local == present, f"{folder}: listed {sorted(local)} but the folder holds {sorted(present)}"
    for entry in listed:
        assert (folder / entry).exists(), f"{folder}: {entry} does not exist"


def test_every_opsuite_service_has_deployment_service_and_service_account() -> None:
    docs = _docs(BASE)
    for deployment in _opsuite_deployments():
        name = deployment["metadata"]["name"]
        assert name in {d["metadata"]["name"] for d in _of_kind(docs, "Service")}
        assert name in {d["metadata"]["name"] for d in _of_kind(docs, "ServiceAccount")}
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == name
        (container,) = pod["containers"]
        assert container["command"] == ["python", "-m", f"services.{name}"]


def _env(deployment: Doc) -> dict[str, str]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value") for e in container["env"]}


def _admits(callee: str, caller: Doc, port: int) -> bool:
    """Whether a NetworkPolicy of the callee's pods lets the caller's pods in on `port`."""
    labels = caller["spec"]["template"]["metadata"]["labels"]
    for policy in _of_kind(_docs(BASE), "NetworkPolicy"):
        if policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") != callee:
            continue
        for rule in policy["spec"].get("ingress", []):
            sources = [peer["podSelector"].get("matchLabels", {}) for peer in rule.get("from", [])]
            ports = [p["port"] for p in rule.get("ports", [])]
            if port in ports and any(source.items() <= labels.items() for source in sources):
                return True
    return False


def test_every_service_opsuite_up_starts_is_deployed() -> None:
    deployed = {d["metadata"]["name"] for d in _opsuite_deployments()}
    assert set(available_services()) <= deployed
    assert {"dq", "reporting"} <= deployed


def test_each_service_listens_on_its_port_and_finds_the_services_it_reads_at_theirs() -> None:
    """OPSUITE_<SVC>_ADDR: a pod's own is every interface on its Service's port; each other one
    names that service's Service and port, whose NetworkPolicy lets this pod in."""
    deployments = {d["metadata"]["name"]: d for d in _opsuite_deployments()}
    edges = set()
    for name, deployment in deployments.items():
        env = _env(deployment)
        assert env[f"OPSUITE_{name.upper()}_ADDR"] == f"0.0.0.0:{_service_port(name)}", name
        for peer in SERVICES:
            address = env.get(f"OPSUITE_{peer.upper()}_ADDR")
            if peer == name or address is None:
                continue
            assert peer in deployments, f"{name} reads {peer}, which is not deployed"
            assert address == f"{peer}:{_service_port(peer)}", (name, peer, address)
            assert _admits(peer, deployment, _service_port(peer)), f"no NetworkPolicy lets {name} into {peer}"
            edges.add((name, peer))
    # dq follows market's stream and reads the ledger's holdings; reporting reads dq's quarantine.
    assert {
        ("dq", "market"),
        ("dq", "ledger"),
        ("reporting", "dq"),
        ("reporting", "market"),
        ("recon", "ledger"),
    } <= edges
    assert {peer for caller, peer in edges if caller == "dq"} == {"market", "ledger"}


def test_opsuite_probes_are_native_grpc_on_the_service_port() -> None:
    """Readiness asks the whole server (caught up, backends reachable); liveness and start-up ask
    the `liveness` health name, SERVING while the process is up, so a service that is catching
    up or waiting out an outage is taken out of rotation, never restarted for it."""
    for deployment in _opsuite_deployments():
        port = _service_port(deployment["metadata"]["name"])
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["grpc"] == {"port": port}, container["name"]
        for probe in ("livenessProbe", "startupProbe"):
            if probe == "startupProbe" and probe not in container:
                continue
            assert container[probe]["grpc"] == {"port": port, "service": LIVENESS}, (
                f"{probe} of {container['name']}"
            )


def test_every_pod_is_non_root_with_a_read_only_root_and_no_capabilities() -> None:
    for deployment in _deployments():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, deployment["metadata"]["name"]
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, container["name"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["capabilities"]["drop"] == ["ALL"], container["name"]
            assert "add" not in context["capabilities"], container["name"]
            assert "resources" in container and container["resources"]["limits"], container["name"]


def test_opsuite_pods_write_only_to_an_empty_dir_at_data() -> None:
    for deployment in _opsuite_deployments():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["OPSUITE_DATA_DIR"] == "/data"
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/data"]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert "emptyDir" in volume


def test_market_uses_redis_for_the_event_log() -> None:
    (market,) = [d for d in _opsuite_deployments() if d["metadata"]["name"] == "market"]
    env = {e["name"]: e.get("value") for e in market["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["OPSUITE_EVENTLOG_URL"].startswith("redis://redis:6379")
    assert "redis" in {d["metadata"]["name"] for d in _of_kind(_docs(BASE), "Service")}


def test_market_accepts_ingress_only_from_opsuite_pods_on_its_grpc_port() -> None:
    policies = _of_kind(_docs(BASE), "NetworkPolicy")
    (policy,) = [
        p
        for p in policies
        if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == "market"
    ]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "opsuite"}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": _service_port("market")}]
    # Everything not opened explicitly is closed.
    assert any(p["spec"]["podSelector"] == {} and "ingress" not in p["spec"] for p in policies)


def test_tracing_component_points_every_opsuite_service_at_the_collector() -> None:
    docs = _docs(TRACING)
    patched = {
        doc["metadata"]["name"]: {
            e["name"]: e["value"] for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        for doc in _of_kind(docs, "Deployment")
        if "selector" not in doc["spec"]
    }
    for deployment in _opsuite_deployments():
        env = patched[deployment["metadata"]["name"]]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    names = {d["metadata"]["name"] for d in _of_kind(docs, "Deployment") if "selector" in d["spec"]}
    assert names == {"otel-collector", "jaeger"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")
@pytest.mark.parametrize("folder", [BASE, K8S / "overlays" / "tracing"], ids=["base", "overlays/tracing"])
def test_kustomize_renders(folder: pathlib.Path) -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(folder)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    rendered = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    deployments = {d["metadata"]["name"]: d for d in rendered if d["kind"] == "Deployment"}
    assert set(available_services()) <= set(deployments)
    for name in available_services():
        env = {e["name"] for e in deployments[name]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert ("OTEL_EXPORTER_OTLP_ENDPOINT" in env) == (folder != BASE), name
