"""The edge's API token in process: which requests need it, what a refusal says, that a refused
request reaches nothing behind the edge, the constant-time comparison, the OpenAPI document's
security scheme, and a settings value that is never echoed."""

from __future__ import annotations

import hmac
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.common.channels import PLAINTEXT
from services.common.settings import SettingsError, load_settings
from services.edge import auth
from services.edge.app import create_app
from services.edge.auth import BearerTokenMiddleware, bearer_token
from services.edge.routes import contract_routes
from services.edge.settings import EdgeSettings
from services.edge.upstream import AddressedChannels

TOKEN = "s3cr3t-token-of-the-edge-0123456789"


def _guarded() -> tuple[httpx.AsyncClient, list[str]]:
    """An app behind the middleware that records each request it is reached by."""
    reached: list[str] = []

    async def endpoint(request: Request) -> Response:
        reached.append(f"{request.method} {request.url.path}")
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[Route("/thing", endpoint, methods=["GET", "HEAD", "OPTIONS", "POST", "PATCH", "DELETE"])]
    )
    guarded = BearerTokenMiddleware(app, TOKEN)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url="http://edge"), reached


async def test_reads_pass_without_the_token() -> None:
    client, reached = _guarded()
    async with client:
        for method in ("GET", "HEAD", "OPTIONS"):
            assert (await client.request(method, "/thing")).status_code == 200
    assert reached == ["GET /thing", "HEAD /thing", "OPTIONS /thing"]


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    ("authorization", "reason", "challenge"),
    [
        (None, "API_TOKEN_MISSING", 'Bearer realm="opsuite"'),
        ("Basic dXNlcjpwYXNz", "API_TOKEN_MISSING", 'Bearer realm="opsuite"'),
        ("Bearer", "API_TOKEN_MISSING", 'Bearer realm="opsuite"'),
        (
            "Bearer wrong-token-of-the-same-size-0123",
            "API_TOKEN_WRONG",
            'Bearer realm="opsuite", error="invalid_token"',
        ),
        (f"Bearer {TOKEN[:-1]}", "API_TOKEN_WRONG", 'Bearer realm="opsuite", error="invalid_token"'),
        (f"Bearer {TOKEN}x", "API_TOKEN_WRONG", 'Bearer realm="opsuite", error="invalid_token"'),
    ],
)
async def test_a_write_without_the_token_is_401_and_reaches_nothing(
    method: str, authorization: str | None, reason: str, challenge: str
) -> None:
    client, reached = _guarded()
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with client:
        answer = await client.request(method, "/thing", headers=headers, json={"change": "everything"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == challenge
    body = answer.json()
    assert body["code"] == 16  # UNAUTHENTICATED
    assert "OPSUITE_API_TOKEN" in body["message"] and "Authorization: Bearer <token>" in body["message"]
    assert body["message"].endswith("Nothing was changed.")
    assert TOKEN not in answer.text
    (info,) = [d for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo")]
    assert info["reason"] == reason
    assert reached == []


async def test_the_token_lets_a_write_through_in_any_case_of_the_scheme() -> None:
    client, reached = _guarded()
    async with client:
        for scheme in ("Bearer", "bearer", "BEARER"):
            answer = await client.post("/thing", headers={"Authorization": f"{scheme} {TOKEN}"})
            assert answer.status_code == 200, answer.text
    assert reached == ["POST /thing"] * 3


async def test_the_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    client, _ = _guarded()
    async with client:
        await client.post("/thing", headers={"Authorization": "Bearer not-it"})
        await client.post("/thing", headers={"Authorization": f"Bearer {TOKEN}"})
    assert compared == [(b"not-it", TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]


def test_bearer_token_reads_only_the_bearer_scheme() -> None:
    assert bearer_token(f"Bearer {TOKEN}") == TOKEN
    assert bearer_token(f"  bearer   {TOKEN}  ") == TOKEN
    assert bearer_token(f"Basic {TOKEN}") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token("") is None


def test_an_empty_token_is_refused_rather_than_letting_everything_through() -> None:
    with pytest.raises(ValueError, match="empty API token"):
        BearerTokenMiddleware(Starlette(), "")


async def _edge(**kwargs: Any) -> httpx.AsyncClient:
    app = create_app(contract_routes(), AddressedChannels({}, security=PLAINTEXT), **kwargs)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge")


async def test_the_edge_with_a_token_guards_every_write_and_documents_it() -> None:
    async with await _edge(api_token=TOKEN) as client:
        document = (await client.get("/openapi.json")).json()
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
        for path in ("/api/market/faults", "/api/documents/policies", "/api/documents/extract"):
            refused = await client.post(path, json={})
            assert refused.status_code == 401 and refused.json()["code"] == 16, path
        assert (await client.patch("/api/recon/breaks/BRK-1", json={})).status_code == 401
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "bearerToken": {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["bearerToken"]["description"],
        }
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            expected = [] if method == "get" else [{"bearerToken": []}]
            assert operation.get("security", []) == expected, (method, path)
    assert document["paths"]["/api/market/faults"]["post"]["security"] == [{"bearerToken": []}]


async def test_the_edge_without_a_token_documents_no_security() -> None:
    async with await _edge() as client:
        document = (await client.get("/openapi.json")).json()
    assert "securitySchemes" not in document["components"]
    assert all("security" not in op for item in document["paths"].values() for op in item.values())


def test_the_token_setting_is_a_secret_never_echoed() -> None:
    settings = load_settings(EdgeSettings, api_token=TOKEN)
    assert settings.api_token is not None and settings.api_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)
    assert load_settings(EdgeSettings, api_token="").api_token is None
    for refused in ("short-secret", "has spaces in it, 0123456789", f"{TOKEN}\n"):
        with pytest.raises(SettingsError) as error:
            load_settings(EdgeSettings, api_token=refused)
        said = str(error.value)
        assert said.startswith("OPSUITE_API_TOKEN=<the value given>: give a secret of 16 or more characters")
        assert refused.strip() not in said
