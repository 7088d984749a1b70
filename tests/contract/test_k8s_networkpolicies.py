"""The NetworkPolicies of each rendered target open exactly the connections its pods are configured
for: every OPSUITE_<SVC>_ADDR of another service, the ledger's PostgreSQL DSN, the event log's Redis
URL, the OTLP endpoint and the collector's exporter. A new dependency without a policy fails here, and
so does a policy that opens more than the real edges."""

from __future__ import annotations

import copy
import itertools

import pytest

from services.cli.registry import MARKET_FOLLOWERS
from services.common.settings import SERVICES
from tests.support.k8s import NAME, TARGETS, Connection, Rendered, address_of, render

# The entry points people use, open to every source: the edge's HTTP port and Jaeger's UI.
PUBLIC = {("edge", 8080), ("jaeger", 16686)}
DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}


@pytest.fixture(scope="module", params=list(TARGETS))
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return Rendered(request.param)


def test_every_configured_connection_is_allowed_at_both_ends(rendered: Rendered) -> None:
    connections = rendered.connections()
    assert connections, "no connection configured: the environment was not read"
    blocked = sorted(str(c) for c in connections if not rendered.allows(c))
    assert not blocked, f"{rendered.target}: configured but closed by the NetworkPolicies: {blocked}"


def test_no_connection_is_allowed_that_no_pod_is_configured_for(rendered: Rendered) -> None:
    configured = rendered.connections()
    extra = []
    for source, target in itertools.permutations(rendered.workloads, 2):
        for port in set(rendered.container_ports(target).values()):
            connection = Connection(source, target, port)
            if rendered.allows(connection) and connection not in configured:
                extra.append(str(connection))
    assert not extra, f"{rendered.target}: open but configured by no pod: {sorted(extra)}"


def test_only_the_entry_points_are_open_to_any_source(rendered: Rendered) -> None:
    public = {(w, p) for w, p in PUBLIC if w in rendered.workloads}
    assert rendered.open_to_anywhere() == public


def test_egress_leaves_the_namespace_only_for_name_lookups_and_only_from_pods_that_call_by_name(
    rendered: Rendered,
) -> None:
    callers = {c.source for c in rendered.connections()}
    for workload in rendered.workloads:
        outside = rendered.egress_outside(workload)
        for rule in outside:
            assert rule.get("to") == [DNS_PEER], (workload, rule)
            assert sorted((p["protocol"], p["port"]) for p in rule["ports"]) == [("TCP", 53), ("UDP", 53)]
        assert bool(outside) == (workload in callers), f"{rendered.target}: {workload}'s DNS egress"


def test_policies_name_ports_by_number() -> None:
    """Named ports would resolve per pod; the evaluation above compares numbers."""
    for target in TARGETS:
        for policy in Rendered(target).of_kind("NetworkPolicy"):
            for direction in ("ingress", "egress"):
                for rule in policy["spec"].get(direction, []):
                    for port in rule.get("ports", []):
                        assert isinstance(port["port"], int), (target, policy["metadata"]["name"], port)


def test_the_real_edges_are_the_ones_expected() -> None:
    """The graph the policies open, spelled out once: who calls whom (docs/architecture.md)."""
    dev = {(c.source, c.target) for c in Rendered("dev").connections()}
    followers = set(MARKET_FOLLOWERS)
    assert {source for source, target in dev if target == "market"} == followers | {"edge"}
    assert {source for source, target in dev if target == "redis"} == set(SERVICES)
    assert {target for source, target in dev if source == "edge"} == set(SERVICES)
    assert {target for source, target in dev if source == "reporting"} == {"market", "ledger", "dq", "redis"}
    assert {target for source, target in dev if source == "documents"} == {"market", "recon", "redis"}
    assert {target for source, target in dev if source == "market"} == {"redis"}
    production = {(c.source, c.target) for c in Rendered("production").connections()}
    assert production - dev == {("ledger", "postgres"), ("otel-collector", "jaeger")} | {
        (name, "otel-collector") for name in [*SERVICES, "edge"]
    }


def test_an_unknown_kind_of_peer_setting_is_refused() -> None:
    """A new dependency named by a setting this model does not read fails loudly, not silently."""
    with pytest.raises(ValueError, match="OPSUITE_SEARCH_URL"):
        address_of("recon", "OPSUITE_SEARCH_URL", "http://search:9200")
    assert address_of("recon", "OPSUITE_RECON_ADDR", "0.0.0.0:50052") is None
    assert address_of("recon", "OPSUITE_LEDGER_ADDR", "ledger:50056") == "ledger:50056"
    assert address_of("ledger", "OPSUITE_LEDGER_DSN", "postgresql://u@postgres/db") == "postgres:5432"


def test_a_missing_policy_is_found() -> None:
    """The evaluation itself: without the edge's egress rule to recon, edge -> recon is closed."""
    connection = Connection("edge", "recon", 50052)
    assert Rendered("dev").allows(connection)
    docs = copy.deepcopy(render("dev"))
    (edge_policy,) = [d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "edge"]
    rules = edge_policy["spec"]["egress"]
    rules[:] = [r for r in rules if r["to"][0]["podSelector"]["matchLabels"][NAME] != "recon"]
    assert not Rendered("dev", docs).allows(connection)
