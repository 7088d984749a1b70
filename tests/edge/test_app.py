"""The edge's app in process, over a real grpc.aio server of the test contract: every rule end to end,
deadlines, the status mapping with the service's details, probes, docs, composition."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from grpc_health.v1 import health_pb2
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from services.common.channels import PLAINTEXT
from services.edge.app import create_app
from services.edge.domain.deadlines import MAX_DEADLINE_S
from services.edge.domain.http_status import http_status
from services.edge.gateway import EdgeOptions
from services.edge.openapi import openapi_document
from services.edge.routes import build_routes
from services.edge.upstream import AddressedChannels
from tests.edge.edgetest import SERVICE, edgetest_file, message_class, shelf_server

BACKEND = SERVICE  # a service outside opsuite.* is its own backend


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def shelf() -> AsyncIterator[tuple[str, Any]]:
    async with shelf_server() as running:
        yield running


async def _client(
    address: str, options: EdgeOptions | None = None, **kwargs: Any
) -> tuple[httpx.AsyncClient, AddressedChannels]:
    channels = AddressedChannels({BACKEND: address}, security=PLAINTEXT)
    app = create_app(build_routes([edgetest_file()]), channels, options, **kwargs)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge"), channels


@pytest.fixture
async def edge(shelf: tuple[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    client, channels = await _client(shelf[0])
    async with client:
        yield client
    await channels.close()


async def test_nested_path_variable_and_the_additional_binding(edge: httpx.AsyncClient) -> None:
    first = await edge.get("/v1/shelves/s1/books/b2", params={"with_notes": "true"})
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert first.json() == {
        "name": "shelves/s1/books/b2",
        "title": "with notes",
        "shelfId": "s1",
        "bookId": "b2",
    }
    second = await edge.get("/v1/books/b2")
    assert second.json() == {"name": "shelves//books/b2", "title": "plain", "bookId": "b2"}


async def test_verb_body_field_response_body_and_double_wildcard(edge: httpx.AsyncClient) -> None:
    renamed = await edge.post("/v1/shelves/a/books/b:rename", json={"newTitle": "New"})
    assert renamed.json() == {"name": "shelves/a/books/b", "title": "New"}
    updated = await edge.patch("/v1/shelves/a/books/b?validateOnly=true", json={"title": "T", "pages": 3})
    assert updated.json() == {"name": "shelves/a/books/b", "title": "T (validated)", "pages": "3"}
    listed = await edge.get("/v1/shelves/s/books", params={"page_size": 2})
    # int64 as a string; a field at its default (pages 0) left out, as proto3 JSON does.
    assert listed.json() == [
        {"name": "shelves/s/books/0"},
        {"name": "shelves/s/books/1", "pages": "1000000000000"},
    ]
    file = await edge.get("/v1/files/a/b%20c/d.txt")
    assert file.json() == {"name": "a/b c/d.txt"}
    for method in ("GET", "DELETE", "PUT"):
        touched = await edge.request(method, "/v1/touch/x", params={"note": method})
        assert touched.json() == {"title": method}


async def test_the_answer_is_the_grpc_answer_in_proto3_json(
    edge: httpx.AsyncClient, shelf: tuple[str, Any]
) -> None:
    query = "i64=9007199254740993&tags=a&tags=b&genre=2&at=2020-03-16T13:30:00.5Z&maybe_flag=false&node.child.label=x"
    answer = await edge.get(f"/v1/echo?{query}")
    echo = message_class("EchoMessage")
    async with grpc.aio.insecure_channel(shelf[0]) as channel:
        direct = await channel.unary_unary(
            f"/{SERVICE}/Echo",
            request_serializer=echo.SerializeToString,
            response_deserializer=echo.FromString,
        )(json_format.ParseDict(answer.json(), echo()))
    assert answer.json() == json_format.MessageToDict(direct)
    assert answer.json() == {
        "i64": "9007199254740993",
        "tags": ["a", "b"],
        "genre": "GENRE_HISTORY",
        "at": "2020-03-16T13:30:00.500Z",
        "maybeFlag": False,
        "node": {"child": {"label": "x"}},
    }
    posted = await edge.post("/v1/echo", content=b'{"i64": 5, "genres": ["GENRE_FICTION", 2]}')
    assert posted.json() == {"i64": "5", "genres": ["GENRE_FICTION", "GENRE_HISTORY"]}


@pytest.mark.parametrize("code", [c for c in grpc.StatusCode if c is not grpc.StatusCode.OK])
async def test_each_status_code_is_its_http_status(edge: httpx.AsyncClient, code: grpc.StatusCode) -> None:
    answer = await edge.post("/v1/fail", json={"code": code.value[0], "message": f"failed with {code.name}"})
    assert answer.status_code == http_status(code.value[0])
    body = answer.json()
    assert body["code"] == code.value[0] and body["message"] == f"failed with {code.name}"
    assert [d["@type"] for d in body["details"]] == ["type.googleapis.com/google.rpc.ErrorInfo"]


async def test_invalid_argument_carries_the_services_field_violations(edge: httpx.AsyncClient) -> None:
    violations = [
        {"field": "legs[0].amount", "description": "not a decimal"},
        {"field": "date", "description": "a weekend"},
    ]
    answer = await edge.post(
        "/v1/fail", json={"code": 3, "message": "two problems", "violations": violations}
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "code": 3,
        "message": "two problems",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations},
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "INVALID_ARGUMENT",
                "domain": "opsuite",
            },
        ],
    }


async def test_deadlines_pass_through(edge: httpx.AsyncClient) -> None:
    async def remaining(headers: dict[str, str]) -> float:
        answer = await edge.get("/v1/slow", headers=headers)
        assert answer.status_code == 200, answer.text
        return float(answer.json()["remainingS"])

    # gRPC rounds the deadline it sends up a little: what the service sees is within 0.1 s above.
    assert 4.0 < await remaining({"grpc-timeout": "5S"}) < 5.1
    assert 1.5 < await remaining({"X-Request-Timeout": "2.5"}) < 2.6
    assert 29.0 < await remaining({}) < 30.1  # the default (EdgeOptions)
    late = await edge.get("/v1/slow", params={"sleep_s": 2}, headers={"grpc-timeout": "200m"})
    assert late.status_code == 504
    assert late.json()["code"] == 4
    assert (
        "edgetest.v1.ShelfService did not answer within the call's deadline of 0.2 s"
        in late.json()["message"]
    )
    bad = await edge.get("/v1/slow", headers={"grpc-timeout": "soon"})
    assert bad.status_code == 400
    assert bad.json()["details"][0]["fieldViolations"][0]["field"] == "grpc-timeout"


async def test_a_deadline_gRPC_cannot_hold_is_a_hundred_years_not_an_instant_504(
    edge: httpx.AsyncClient,
) -> None:
    """Found by tests/fuzz/test_edge_schemathesis.py: X-Request-Timeout 6.9e16 (or grpc-timeout
    99999999H, which gRPC's format allows) was DEADLINE_EXCEEDED within 2 ms, the deadline wrapped
    past 2262 into the past inside gRPC's core."""
    for headers in ({"X-Request-Timeout": "6.874943384198148e+16"}, {"grpc-timeout": "99999999H"}):
        answer = await edge.get("/v1/slow", headers=headers)
        assert answer.status_code == 200, answer.text
        # What the service sees is what gRPC's wire format carries of it (at most 27000H, 3 years).
        assert 365 * 24 * 3600 < float(answer.json()["remainingS"]) <= MAX_DEADLINE_S


async def test_bodies_pythons_json_parser_gives_up_on_are_400_not_500(edge: httpx.AsyncClient) -> None:
    for body, violation in (
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply to read: no request nests so far"),
        (b'{"i64": ' + b"1" * 5_000 + b"}", "a JSON number of more than 4,300 digits: no field takes one"),
    ):
        answer = await edge.post("/v1/echo", content=body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["details"][0]["fieldViolations"] == [{"field": "body", "description": violation}]


async def test_requests_the_edge_refuses_before_calling(edge: httpx.AsyncClient) -> None:
    missing = await edge.get("/v2/nothing")
    assert missing.status_code == 404 and missing.json()["code"] == 5
    assert "GET /openapi.json lists every route" in missing.json()["message"]
    wrong = await edge.post("/v1/books/b1")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    own = await edge.post("/healthz")  # the edge's own paths too
    assert own.status_code == 405 and own.headers["allow"] == "GET" and own.json()["code"] == 12
    typo = await edge.get("/v1/echo?tagz=a&i32=x")
    assert typo.status_code == 400
    (bad_request, info) = typo.json()["details"]
    assert {v["field"] for v in bad_request["fieldViolations"]} == {"tagz", "i32"}
    assert info["reason"] == "BAD_REQUEST" and info["metadata"] == {"by": "edge"}
    undecodable = await edge.get("/v1/books/%FF")
    assert undecodable.status_code == 400
    assert undecodable.json()["details"][0]["fieldViolations"][0]["field"] == "path"
    broken = await edge.post("/v1/echo", content=b'{"i32": ')
    assert broken.status_code == 400 and "not JSON" in broken.json()["message"]
    unknown = await edge.post("/v1/echo", json={"i33": 1})
    assert unknown.status_code == 400
    assert unknown.json()["details"][0]["fieldViolations"] == [
        {"field": "i33", "description": "unknown field 'i33': check its spelling against /openapi.json"}
    ]


async def test_a_body_over_the_limit_is_413(shelf: tuple[str, Any]) -> None:
    client, channels = await _client(shelf[0], EdgeOptions(max_body_bytes=1024))
    async with client:
        answer = await client.post("/v1/echo", content=b'{"tags": ["' + b"x" * 2000 + b'"]}')
        assert answer.status_code == 413 and answer.json()["code"] == 8
        assert "limit of 1,024 bytes (OPSUITE_EDGE_MAX_BODY_BYTES)" in answer.json()["message"]
        assert (await client.post("/v1/echo", json={"tags": ["x"]})).status_code == 200
    await channels.close()


async def test_a_stopped_service_is_503_and_not_ready() -> None:
    client, channels = await _client(f"127.0.0.1:{_closed_port()}")
    async with client:
        answer = await client.get("/v1/books/b1")
        assert answer.status_code == 503 and answer.json()["code"] == 14
        assert answer.json()["message"].startswith("edgetest.v1.ShelfService is unavailable: ")
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["not_ready"] == [BACKEND]
        assert (await client.get("/healthz")).status_code == 200
    await channels.close()


async def test_readiness_follows_the_services_health(edge: httpx.AsyncClient, shelf: tuple[str, Any]) -> None:
    ready = await edge.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True, "services": {BACKEND: "SERVING"}}
    await shelf[1].set(SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
    not_ready = await edge.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json() == {
        "ready": False,
        "services": {BACKEND: f"NOT_SERVING ({SERVICE})"},
        "not_ready": [BACKEND],
    }


async def test_openapi_and_docs_are_served(edge: httpx.AsyncClient) -> None:
    document = await edge.get("/openapi.json")
    assert document.json() == openapi_document(build_routes([edgetest_file()]))
    page = await edge.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text and "validatorUrl: null" in page.text
    assert "http" not in page.text.split("<body>", 1)[1].replace(
        'url: "/openapi.json"', ""
    )  # nothing from a CDN
    bundle = await edge.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
    assert (await edge.get("/healthz")).json() == {"status": "serving"}


async def test_the_app_composes_with_routes_of_its_own(shelf: tuple[str, Any]) -> None:
    async def dashboard(request: Request) -> PlainTextResponse:
        return PlainTextResponse("dashboard")

    client, channels = await _client(shelf[0], extra_routes=[Route("/", dashboard)])
    async with client:
        assert (await client.get("/")).text == "dashboard"
        assert (await client.get("/v1/books/b1")).json()["bookId"] == "b1"
        assert (await client.get("/nothing")).status_code == 404
    await channels.close()
