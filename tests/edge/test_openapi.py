"""The OpenAPI 3.1 document: valid, generated from the same routes, schemas in proto3's JSON mapping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from google.protobuf import json_format
from openapi_spec_validator import validate

from services.edge.openapi import openapi_document
from services.edge.routes import build_routes, contract_routes
from tests.edge.edgetest import edgetest_file, message_class
from tests.edge.schemas import errors, response_schema

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def contract_doc() -> Doc:
    return openapi_document(contract_routes())


@pytest.fixture(scope="module")
def test_doc() -> Doc:
    return openapi_document(build_routes([edgetest_file()]))


def test_both_documents_are_valid_openapi_3_1(contract_doc: Doc, test_doc: Doc) -> None:
    for document in (contract_doc, test_doc):
        assert document["openapi"] == "3.1.0"
        validate(document)  # openapi-spec-validator: raises on any violation of the 3.1 schema


def test_every_route_is_an_operation(contract_doc: Doc) -> None:
    operations = {
        (method.upper(), path)
        for path, item in contract_doc["paths"].items()
        for method in item
        if path not in ("/healthz", "/readyz")
    }
    routes = {(r.http_method, r.template.openapi_path()) for r in contract_routes().routes}
    assert operations == routes
    operation = contract_doc["paths"]["/api/reporting/report/{mandate_id}"]["get"]
    assert operation["operationId"] == "ReportingService_GetReport"
    assert operation["tags"] == ["reporting"]
    assert "/opsuite.reporting.v1.ReportingService/GetReport" in operation["description"]


def _parameters(operation: Doc) -> dict[str, Doc]:
    return {p["name"]: p for p in operation["parameters"] if "name" in p}


def test_path_and_query_parameters(contract_doc: Doc) -> None:
    report = _parameters(contract_doc["paths"]["/api/reporting/report/{mandate_id}"]["get"])
    assert report["mandate_id"] == {
        "name": "mandate_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    assert report["as_of.year"]["in"] == "query"
    ledger = _parameters(contract_doc["paths"]["/api/ledger"]["get"])
    assert set(ledger) == {
        "mandate_id",
        "account_prefix",
        "dates.start.year",
        "dates.start.month",
        "dates.start.day",
        "dates.end.year",
        "dates.end.month",
        "dates.end.day",
        "source_event_id",
        "trace_id",
        "kind",
        "page_size",
        "page_token",
        "exclude_market_journals",
    }
    assert ledger["kind"]["schema"] == {"$ref": "#/components/schemas/opsuite.ledger.v1.JournalKind"}
    assert ledger["exclude_market_journals"]["schema"] == {"type": "boolean"}
    timeouts = [p["$ref"] for p in contract_doc["paths"]["/api/ledger"]["get"]["parameters"] if "$ref" in p]
    assert timeouts == ["#/components/parameters/GrpcTimeout", "#/components/parameters/RequestTimeout"]


def test_bodies(contract_doc: Doc, test_doc: Doc) -> None:
    ask = contract_doc["paths"]["/api/documents/ask"]["post"]
    assert ask["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/opsuite.documents.v1.AskRequest"
    }
    assert _parameters(ask) == {}  # body "*": nothing in the query string
    assert "requestBody" not in contract_doc["paths"]["/api/ledger"]["get"]
    # body "*" with a path variable: the body's schema leaves the path's field out.
    rename = test_doc["paths"]["/v1/{name}:rename"]["post"]
    assert set(rename["requestBody"]["content"]["application/json"]["schema"]["properties"]) == {"newTitle"}
    assert "matching shelves/*/books/*" in _parameters(rename)["name"]["description"]
    # body "book": the field's schema; the rest from the query.
    update = test_doc["paths"]["/v1/{book.name}"]["patch"]
    assert update["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/edgetest.v1.Book"
    }
    assert set(_parameters(update)) == {"book.name", "validate_only"}


def test_schemas_follow_proto3_json(test_doc: Doc) -> None:
    schemas = test_doc["components"]["schemas"]
    echo = schemas["edgetest.v1.EchoMessage"]
    properties = echo["properties"]
    assert echo["additionalProperties"] is False
    assert properties["i64"] == {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
    assert properties["u64"]["type"] == "string"
    assert properties["i32"] == {"type": "integer", "format": "int32"}
    assert properties["genre"] == {"$ref": "#/components/schemas/edgetest.v1.Genre"}
    assert schemas["edgetest.v1.Genre"] == {
        "type": "string",
        "enum": ["GENRE_UNSPECIFIED", "GENRE_FICTION", "GENRE_HISTORY"],
    }
    assert properties["at"] == {"type": "string", "format": "date-time"}
    assert properties["blob"] == {"type": "string", "contentEncoding": "base64"}
    assert properties["maybe"]["type"] == "string"  # Int64Value is a JSON string too
    assert properties["scores"] == {
        "type": "object",
        "additionalProperties": {"type": "integer", "format": "int32"},
    }
    assert properties["counts"] == {"type": "array", "items": properties["i64"]}
    assert "maybeFlag" in properties and "maybe_flag" not in properties  # lowerCamelCase
    assert "At most one of left, right." in echo["description"]
    # A recursive message refers to itself.
    node = schemas["edgetest.v1.Node"]["properties"]
    assert node["child"] == {"$ref": "#/components/schemas/edgetest.v1.Node"}
    assert node["children"]["items"] == {"$ref": "#/components/schemas/edgetest.v1.Node"}


def test_response_body_and_errors(test_doc: Doc, contract_doc: Doc) -> None:
    listed = response_schema(test_doc, "/v1/shelves/{shelf_id}/books", "get")
    assert listed == {"type": "array", "items": {"$ref": "#/components/schemas/edgetest.v1.Book"}}
    error = response_schema(contract_doc, "/api/ledger", "get", "default")
    assert error == {"$ref": "#/components/schemas/google.rpc.Status"}
    assert contract_doc["components"]["schemas"]["google.rpc.Status"]["required"] == [
        "code",
        "message",
        "details",
    ]
    decimal = contract_doc["components"]["schemas"]["opsuite.common.v1.Decimal"]
    assert (
        decimal["properties"] == {"value": {"type": "string"}} and "exact decimal" in decimal["description"]
    )


def test_json_from_json_format_fits_the_schemas(test_doc: Doc) -> None:
    message = message_class("EchoMessage")(
        i32=-1,
        i64=2**62,
        u64=2**64 - 1,
        flag=True,
        ratio=float("nan"),
        blob=b"\x00",
        genre=2,
        tags=["a"],
        counts=[3],
    )
    message.at.FromDatetime(dt.datetime(2020, 1, 2, tzinfo=dt.UTC))
    message.wait.FromSeconds(3)
    message.maybe.value = 4
    message.node.child.child.label = "deep"
    message.scores["x"] = 1
    message.left = "L"
    document = json_format.MessageToDict(message)
    schema = response_schema(test_doc, "/v1/echo", "get")
    assert errors(test_doc, schema, document) == []
    assert errors(test_doc, schema, {"i64": 5}) != []  # a JSON number is not proto3's int64
    assert errors(test_doc, schema, {"typo": 1}) != []
