"""The route table: derived from the annotations alone, and every annotation the edge cannot serve is
refused at start-up naming the method and why."""

from __future__ import annotations

import re

import pytest
from google.api import http_pb2

from services.common.channels import PLAINTEXT
from services.edge.app import create_app
from services.edge.routes import Found, RouteError, RouteTable, WrongMethod, build_routes, contract_routes
from services.edge.upstream import AddressedChannels
from tests.edge.edgetest import edgetest_file, with_rule
from tests.support.processes import ROOT

_ANNOTATED = re.compile(
    r"rpc (?P<rpc>\w+)\([^)]*\) returns \([^)]*\) \{\s*option \(google\.api\.http\) = \{\s*"
    r"(?P<verb>get|post|put|delete|patch): \"(?P<path>[^\"]+)\"",
)


def _annotations_in_the_proto_sources() -> set[tuple[str, str, str]]:
    """(package.Service.Method, METHOD, path) of each annotation, read from protos/ as text: an
    independent reading, so a route the table invents or misses is seen."""
    found = set()
    for proto in (ROOT / "protos").rglob("*.proto"):
        text = proto.read_text()
        package = re.search(r"^package ([\w.]+);", text, re.MULTILINE)
        assert package is not None
        for service in re.finditer(r"service (\w+) \{(.*?)\n\}", text, re.DOTALL):
            for match in _ANNOTATED.finditer(service.group(2)):
                assert "additional_bindings" not in service.group(2), "extend this reading for them"
                full = f"{package.group(1)}.{service.group(1)}.{match['rpc']}"
                found.add((full, match["verb"].upper(), match["path"]))
    return found


def test_every_annotation_of_the_contract_is_a_route_and_nothing_else_is() -> None:
    table = contract_routes()
    derived = {(r.method.full_name, r.http_method, r.template.source) for r in table.routes}
    assert derived == _annotations_in_the_proto_sources()
    assert (
        len(derived) >= 7
    )  # the seed's routes (docs/architecture): recon, reporting x2, dq, documents x2, ledger
    # The writing RPCs are served too (issue 18), each with its body and the verb of its change.
    writes = {
        ("opsuite.documents.v1.DocumentsService.IngestPolicy", "POST", "/api/documents/policies"),
        ("opsuite.recon.v1.ReconService.UpdateBreak", "PATCH", "/api/recon/breaks/{break_id}"),
        ("opsuite.market.v1.MarketService.InjectFault", "POST", "/api/market/faults"),
    }
    assert writes <= derived
    assert all(
        r.body == "*"
        for r in table.routes
        if (r.method.full_name, r.http_method, r.template.source) in writes
    )


def test_each_route_goes_to_the_service_of_its_package() -> None:
    table = contract_routes()
    assert {r.backend for r in table.routes} == {"documents", "dq", "ledger", "market", "recon", "reporting"}
    for route in table.routes:
        assert route.service.startswith(f"opsuite.{route.backend}.v1.")
    assert table.backends()["reporting"] == ("opsuite.reporting.v1.ReportingService",)


def test_lookup_finds_the_route_a_wrong_method_or_nothing() -> None:
    table = contract_routes()
    found = table.lookup("GET", "/api/reporting/report/BAL-USD")
    assert isinstance(found, Found)
    assert found.route.method.full_name == "opsuite.reporting.v1.ReportingService.GetReport"
    assert found.raw_values == {"mandate_id": "BAL-USD"}
    assert table.lookup("DELETE", "/api/documents/ask") == WrongMethod(("POST",))
    assert table.lookup("GET", "/api/nothing") is None


def test_the_test_contract_gives_a_route_per_binding_and_none_to_unannotated_methods() -> None:
    table = build_routes([edgetest_file()])
    bindings = sorted((r.method.name, r.binding, r.http_method, r.template.source) for r in table.routes)
    assert bindings == [
        ("Echo", 0, "GET", "/v1/echo"),
        ("Echo", 1, "POST", "/v1/echo"),
        ("Fail", 0, "POST", "/v1/fail"),
        ("GetBook", 0, "GET", "/v1/shelves/{shelf.id}/books/{book_id}"),
        ("GetBook", 1, "GET", "/v1/books/{book_id}"),
        ("GetFile", 0, "GET", "/v1/files/{path=**}"),
        ("ListBooks", 0, "GET", "/v1/shelves/{shelf_id}/books"),
        ("RenameBook", 0, "POST", "/v1/{name=shelves/*/books/*}:rename"),
        ("Slow", 0, "GET", "/v1/slow"),
        ("Touch", 0, "*", "/v1/touch/*"),
        ("UpdateBook", 0, "PATCH", "/v1/{book.name=shelves/*/books/*}"),
    ]
    assert {r.backend for r in table.routes} == {"edgetest.v1.ShelfService"}
    ids = [r.operation_id for r in table.routes]
    assert len(ids) == len(set(ids)) and "ShelfService_GetBook_1" in ids
    touch = table.lookup("DELETE", "/v1/touch/anything")
    assert isinstance(touch, Found) and touch.route.method.name == "Touch"


@pytest.mark.parametrize(
    ("method", "rule", "why"),
    [
        ("GetBook", http_pb2.HttpRule(get="/v1/{nope}"), r"path variable \{nope\}: .* has no field 'nope'"),
        ("Echo", http_pb2.HttpRule(get="/v1/{tags}"), "must name a singular primitive field"),
        ("GetBook", http_pb2.HttpRule(get="/v1/{shelf}"), "must name a singular primitive field"),
        ("GetBook", http_pb2.HttpRule(get="/v1/{book_id.x}"), "book_id is not a message"),
        ("GetBook", http_pb2.HttpRule(get="/v1/{shelf.x}"), "edgetest.v1.Shelf has no field 'x'"),
        ("GetBook", http_pb2.HttpRule(get="/v1/**/x"), "must be the last segment"),
        ("RenameBook", http_pb2.HttpRule(post="/v1/x", body="nope"), "body 'nope' is not a top-level field"),
        ("GetBook", http_pb2.HttpRule(get="/v1/x", body="*"), "a GET request has no body"),
        ("ListBooks", http_pb2.HttpRule(get="/v1/x", response_body="nope"), "response_body 'nope' is not"),
        ("GetBook", http_pb2.HttpRule(body="*"), "the rule has no pattern"),
        ("GetBook", http_pb2.HttpRule(custom=http_pb2.CustomHttpPattern(path="/v1/x")), "needs a kind"),
        ("Watch", http_pb2.HttpRule(get="/v1/watch"), "a streaming RPC cannot be served"),
        (
            "GetBook",
            http_pb2.HttpRule(
                get="/v1/a",
                additional_bindings=[
                    http_pb2.HttpRule(get="/v1/b", additional_bindings=[http_pb2.HttpRule(get="/v1/c")])
                ],
            ),
            "must not have additional bindings of its own",
        ),
    ],
)
def test_an_annotation_the_edge_cannot_serve_is_refused_naming_the_method(
    method: str, rule: http_pb2.HttpRule, why: str
) -> None:
    with pytest.raises(RouteError, match=why) as refused:
        build_routes([with_rule(method, rule)])
    assert f"edgetest.v1.ShelfService.{method}" in str(refused.value)


def test_two_methods_on_one_route_are_refused() -> None:
    file = with_rule("Slow", http_pb2.HttpRule(get="/v1/echo"))
    with pytest.raises(
        RouteError, match=re.escape("GET /v1/echo is bound twice: by edgetest.v1.ShelfService")
    ):
        build_routes([file])


def test_a_route_on_the_edges_own_paths_is_refused() -> None:
    table = build_routes([with_rule("Slow", http_pb2.HttpRule(get="/openapi.json"))])
    with pytest.raises(RouteError, match=re.escape("binds /openapi.json, which the edge serves itself")):
        create_app(table, AddressedChannels({}, security=PLAINTEXT))


def test_an_empty_table_is_a_table() -> None:
    assert RouteTable([]).lookup("GET", "/x") is None
