"""Errors as HTTP answers: a google.rpc.Status in JSON, under the HTTP status code.proto maps its code to.

The body is what Envoy's transcoder and grpc-gateway send: `{"code": 3, "message": "...",
"details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [...]}]}`.
A service's refusal keeps every detail it sent (grpc-status-details-bin: services/common/status.py
attaches BadRequest field violations and an ErrorInfo); the edge's own refusals (a malformed body,
an unknown path) carry the same kinds of details.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import grpc
from google.protobuf import any_pb2, json_format
from google.rpc import error_details_pb2, status_pb2

from services.common.status import DOMAIN, status_from_error
from services.edge.domain.http_status import (
    DEADLINE_EXCEEDED,
    RESOURCE_EXHAUSTED,
    UNAVAILABLE,
    UNKNOWN,
    code_name,
    http_status,
)
from services.edge.transcode import Violation


def detail_json(detail: any_pb2.Any) -> dict[str, object]:
    """One detail in its JSON form; one whose type this process does not know, as its raw bytes."""
    try:
        document = json_format.MessageToDict(detail)
    except (TypeError, KeyError, json_format.Error):
        return {"@type": detail.type_url, "value": base64.b64encode(detail.value).decode("ascii")}
    return dict(document)


def status_json(status: status_pb2.Status) -> dict[str, object]:
    """The google.rpc.Status as JSON, with code, message and details always present."""
    return {
        "code": status.code,
        "message": status.message,
        "details": [detail_json(detail) for detail in status.details],
    }


def status_of_error(
    error: grpc.aio.AioRpcError, backend: str = "", timeout_s: float = 0.0
) -> status_pb2.Status:
    """The service's google.rpc.Status from the call's trailers, or, when it sent none (it could not
    be reached, or the deadline passed first), one made of the code and details, naming `backend`."""
    code = error.code()
    number = int(code.value[0]) if isinstance(code, grpc.StatusCode) else UNKNOWN
    try:
        rich = status_from_error(error)
    except Exception:  # undecodable details: the status line still says what happened
        rich = None
    if rich is not None and rich.code == number:
        return rich
    details = error.details() or code_name(number).lower()
    if backend and number == DEADLINE_EXCEEDED:
        details = f"{backend} did not answer within the call's deadline of {timeout_s:g} s ({details})"
    elif backend and number == UNAVAILABLE:
        details = f"{backend} is unavailable: {details}"
    return status_pb2.Status(code=number, message=details)


def edge_status(
    code: int, message: str, *, violations: Sequence[Violation] = (), reason: str = ""
) -> status_pb2.Status:
    """A refusal of the edge's own (before or instead of calling a service), with the details a
    service's refusal would carry: the field violations, and an ErrorInfo naming the reason."""
    details: list[any_pb2.Any] = []
    if violations:
        packed = any_pb2.Any()
        packed.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in violations
                ]
            )
        )
        details.append(packed)
    info = any_pb2.Any()
    info.Pack(
        error_details_pb2.ErrorInfo(reason=reason or code_name(code), domain=DOMAIN, metadata={"by": "edge"})
    )
    details.append(info)
    return status_pb2.Status(code=code, message=message, details=details)


def too_large(status: status_pb2.Status) -> bool:
    """A refusal of a request for its size: RESOURCE_EXHAUSTED with an ErrorInfo whose reason ends in
    _TOO_LARGE (documents' DOCUMENT_TOO_LARGE and POLICY_TOO_LARGE, the edge's BODY_TOO_LARGE)."""
    if status.code != RESOURCE_EXHAUSTED:
        return False
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Is(info.DESCRIPTOR) and detail.Unpack(info) and info.reason.endswith("_TOO_LARGE"):
            return True
    return False


def http_status_of(status: status_pb2.Status) -> int:
    """The HTTP status of a refusal: code.proto's mapping, except 413 for a request too large, which
    code.proto's 429 for RESOURCE_EXHAUSTED would tell a client to send again later, unchanged."""
    return 413 if too_large(status) else http_status(status.code)
