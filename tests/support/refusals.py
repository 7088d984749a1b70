"""What a refused gRPC call said: its message, its field violations and its ErrorInfo, in one place."""

from __future__ import annotations

from typing import Any, NamedTuple

import grpc
import pytest

from services.common.status import details_of, status_from_error


class Refusal(NamedTuple):
    message: str
    violations: dict[str, str]  # field -> description
    reason: str  # ErrorInfo reason, "" without one
    metadata: dict[str, str]  # ErrorInfo metadata


async def refusal(call: Any, code: grpc.StatusCode) -> Refusal:
    """Await a call that must fail with `code`, and read what it said."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = caught.value
    assert error.code() == code, error.details()
    status = status_from_error(error)
    assert status is not None
    bad_request, info = details_of(status)
    violations = {v.field: v.description for v in bad_request.field_violations} if bad_request else {}
    return Refusal(
        error.details() or "",
        violations,
        info.reason if info else "",
        dict(info.metadata) if info else {},
    )
