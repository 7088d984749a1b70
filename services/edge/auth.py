"""The edge's API token: with OPSUITE_API_TOKEN set, a request that may change something needs it.

Every method but GET, HEAD and OPTIONS must carry `Authorization: Bearer <token>`: the annotated
writes (a fault injected, a break updated, a policy ingested), the uploads and the assistant's
questions (POST). The reads (the annotated GET routes, the dashboard, /docs, /openapi.json, the
probes) stay open. A request without the token, or with another, is answered 401 with
`WWW-Authenticate: Bearer` and a google.rpc.Status saying what to send, before its body is read or
any service is called, so a refused request changes nothing.

The token is compared with hmac.compare_digest, whose time does not depend on where the two first
differ, and is never logged: a refusal's log line says only which request and why.
"""

from __future__ import annotations

import hmac
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from services.edge.domain import http_status as codes
from services.edge.errors import edge_status
from services.edge.gateway import status_response

_log = logging.getLogger(__name__)

# The methods that only read: every other one needs the token.
OPEN_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
VARIABLE = "OPSUITE_API_TOKEN"
REALM = "opsuite"


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header's value; None for another scheme."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class BearerTokenMiddleware:
    """ASGI middleware: 401 for a request other than GET, HEAD or OPTIONS without the edge's token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("an empty API token would let every request through")
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("method", "GET")).upper() in OPEN_METHODS:
            await self.app(scope, receive, send)
            return
        headers = [value for key, value in scope.get("headers", []) if key.lower() == b"authorization"]
        given = bearer_token(headers[0].decode("latin-1")) if len(headers) == 1 else None
        if given is not None and hmac.compare_digest(given.encode("latin-1"), self._token):
            await self.app(scope, receive, send)
            return
        method, path = scope.get("method", ""), scope.get("path", "")
        if given is None:
            reason = "API_TOKEN_MISSING"
            challenge = f'Bearer realm="{REALM}"'
            message = (
                f"{method} {path} needs the edge's API token: send the header "
                f"`Authorization: Bearer <token>`, the token being the {VARIABLE} the edge was started "
                "with (GET requests need none). Nothing was changed."
            )
        else:
            reason = "API_TOKEN_WRONG"
            challenge = f'Bearer realm="{REALM}", error="invalid_token"'
            message = (
                f"{method} {path}: the bearer token sent is not the edge's API token; send the "
                f"{VARIABLE} the edge was started with as `Authorization: Bearer <token>`. Nothing was changed."
            )
        _log.info("request refused", extra={"method": method, "path": path, "reason": reason})
        status = edge_status(codes.UNAUTHENTICATED, message, reason=reason)
        response = status_response(status, headers={"WWW-Authenticate": challenge})
        await response(scope, receive, send)
