"""gRPC errors a caller can act on: a status code plus google.rpc details.

Validation and domain code raise RequestError (no grpc.aio import needed to
raise it); the @rpc_errors decorator on a handler turns it into a status with
a BadRequest (which fields are wrong and why) and an ErrorInfo (a stable
machine-readable reason and metadata such as the oldest retained seq).
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, NamedTuple, NoReturn, TypeVar

import grpc
import grpc.aio
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common.outages import BackendUnavailable

DOMAIN = "opsuite"


class FieldViolation(NamedTuple):
    """One bad request field: its path ("legs[2].amount.value") and what is wrong with it."""

    field: str
    description: str


class RequestError(Exception):
    """A request the service refuses, with the status code and details the caller will see."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        violations: Sequence[FieldViolation] = (),
        reason: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.violations = tuple(violations)
        self.reason = reason
        self.metadata = dict(metadata or {})


def invalid_argument(violations: Sequence[FieldViolation], message: str | None = None) -> RequestError:
    """An INVALID_ARGUMENT RequestError naming the bad fields; `raise invalid_argument([...])`."""
    if message is None:
        message = "; ".join(f"{v.field}: {v.description}" for v in violations) or "invalid argument"
    return RequestError(
        grpc.StatusCode.INVALID_ARGUMENT, message, violations=violations, reason="INVALID_ARGUMENT"
    )


# A refusal travels in trailers, and clients drop trailers past 8-16 KB (RESOURCE_EXHAUSTED instead
# of the refusal): what a message echoes from the request is cut to these sizes in UTF-8 bytes.
MAX_MESSAGE_BYTES = 512
MAX_FIELD_BYTES = 64
MAX_DESCRIPTION_BYTES = 192
MAX_VIOLATIONS = 8
MAX_METADATA_BYTES = 128


def clip(text: str, max_bytes: int) -> str:
    """`text`, or its start with how much was cut, in at most max_bytes of UTF-8."""
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    tail = f"... ({len(text):,} characters cut to fit)"
    head = encoded[: max(0, max_bytes - len(tail.encode()))].decode(errors="ignore")
    return head + tail


def echo(value: str, max_chars: int = 64) -> str:
    """`value` quoted for a message, its start only when long: a refusal names what it got without
    repeating a huge input (the rest of the message, what to do instead, must still fit)."""
    if len(value) <= max_chars:
        return repr(value)
    return f"{value[:max_chars]!r}... ({len(value):,} characters)"


# An unknown id is answered with the known ones when they fit in a message; else with the nearest.
MAX_KNOWN_CHARS = 200


def unknown_id(field: str, what: str, value: str, known: Sequence[str], listed_by: str) -> RequestError:
    """NOT_FOUND for an id this run does not have, naming the ones it has (every service alike):
    all of them when they fit in a message, else the nearest and the RPC that lists them all."""
    shown = ", ".join(known)
    if len(shown) <= MAX_KNOWN_CHARS:
        hint = f"known: {shown}"
    else:
        near = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
        hint = (f"nearest: {', '.join(near)}; " if near else "") + f"{listed_by} lists all {len(known)}"
    return RequestError(
        grpc.StatusCode.NOT_FOUND,
        f"unknown {what} {echo(value)}; {hint}",
        violations=[FieldViolation(field, f"unknown {what}")],
        reason=f"{what.upper()}_NOT_FOUND",
    )


def to_rpc_status(
    code: grpc.StatusCode,
    message: str,
    *,
    violations: Sequence[FieldViolation] = (),
    reason: str = "",
    metadata: Mapping[str, str] | None = None,
) -> grpc.Status:
    """The grpc.Status (code, message, and details in trailing metadata) for one error; long texts
    are clipped so the whole status fits in the trailers any client accepts."""
    message = clip(message, MAX_MESSAGE_BYTES)
    details: list[any_pb2.Any] = []
    if violations:
        shown = list(violations[:MAX_VIOLATIONS])
        if len(violations) > MAX_VIOLATIONS:
            shown.append(FieldViolation("", f"and {len(violations) - MAX_VIOLATIONS} more problems"))
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=clip(v.field, MAX_FIELD_BYTES),
                    description=clip(v.description, MAX_DESCRIPTION_BYTES),
                )
                for v in shown
            ]
        )
        packed = any_pb2.Any()
        packed.Pack(bad_request)
        details.append(packed)
    info = error_details_pb2.ErrorInfo(
        reason=reason or code.name,
        domain=DOMAIN,
        metadata={
            clip(key, MAX_FIELD_BYTES): clip(value, MAX_METADATA_BYTES)
            for key, value in list((metadata or {}).items())[:MAX_VIOLATIONS]
        },
    )
    packed_info = any_pb2.Any()
    packed_info.Pack(info)
    details.append(packed_info)
    # grpc.StatusCode's numbers are google.rpc.Code's numbers.
    status = status_pb2.Status(code=int(code.value[0]), message=message, details=details)
    return rpc_status.to_status(status)


async def abort(
    context: grpc.aio.ServicerContext,
    code: grpc.StatusCode,
    message: str,
    *,
    violations: Sequence[FieldViolation] = (),
    reason: str = "",
    metadata: Mapping[str, str] | None = None,
) -> NoReturn:
    """End the RPC with `code`, `message` and rich details; never returns."""
    status = to_rpc_status(code, message, violations=violations, reason=reason, metadata=metadata)
    # context.abort (not abort_with_status) so an OpenTelemetry-wrapped context records the code on the span.
    await context.abort(status.code, status.details, status.trailing_metadata)
    raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


async def abort_for(context: grpc.aio.ServicerContext, error: RequestError) -> NoReturn:
    await abort(
        context,
        error.code,
        error.message,
        violations=error.violations,
        reason=error.reason,
        metadata=error.metadata,
    )


async def abort_unavailable(context: grpc.aio.ServicerContext, error: BackendUnavailable) -> NoReturn:
    """A backend outage: UNAVAILABLE, which clients retry; the service reports it on health meanwhile."""
    await abort(
        context,
        grpc.StatusCode.UNAVAILABLE,
        f"{error}; retry in a moment",
        reason="BACKEND_UNAVAILABLE",
        metadata={"backend": error.backend},
    )


Handler = TypeVar("Handler", bound=Callable[..., Any])


def rpc_errors(handler: Handler) -> Handler:
    """Turn RequestError into its status, BackendUnavailable into UNAVAILABLE and ValueError into
    INVALID_ARGUMENT, for aio handlers.

    Works on coroutine handlers (unary responses) and async-generator handlers
    (streaming responses), as methods (self, request, context) or functions
    (request, context): the context is always the last argument. Any other exception is left to grpc (UNKNOWN) so a
    bug is not disguised as the caller's fault.
    """
    if inspect.isasyncgenfunction(handler):

        @functools.wraps(handler)
        async def stream_wrapper(*args: Any) -> AsyncIterator[Any]:
            context: grpc.aio.ServicerContext = args[-1]
            try:
                async for response in handler(*args):
                    yield response
            except RequestError as error:
                await abort_for(context, error)
            except BackendUnavailable as error:
                await abort_unavailable(context, error)
            except ValueError as error:
                await abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(error), reason="INVALID_ARGUMENT")

        return stream_wrapper  # type: ignore[return-value]

    if not inspect.iscoroutinefunction(handler):
        raise TypeError(f"rpc_errors needs an async def or async generator handler, got {handler!r}")

    @functools.wraps(handler)
    async def unary_wrapper(*args: Any) -> Any:
        context: grpc.aio.ServicerContext = args[-1]
        try:
            return await handler(*args)
        except RequestError as error:
            await abort_for(context, error)
        except BackendUnavailable as error:
            await abort_unavailable(context, error)
        except ValueError as error:
            await abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(error), reason="INVALID_ARGUMENT")

    return unary_wrapper  # type: ignore[return-value]


def details_of(
    status: status_pb2.Status,
) -> tuple[error_details_pb2.BadRequest | None, error_details_pb2.ErrorInfo | None]:
    """Decode the BadRequest and ErrorInfo details of a google.rpc.Status (for clients and tests)."""
    bad_request: error_details_pb2.BadRequest | None = None
    info: error_details_pb2.ErrorInfo | None = None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
    return bad_request, info


def status_from_error(error: grpc.aio.AioRpcError | grpc.RpcError) -> status_pb2.Status | None:
    """The google.rpc.Status carried in a failed call's trailing metadata, None when it has none."""
    trailing = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == rpc_status.GRPC_DETAILS_METADATA_KEY:
            return status_pb2.Status.FromString(value)
    return None


__all__ = [
    "DOMAIN",
    "FieldViolation",
    "RequestError",
    "abort",
    "abort_for",
    "details_of",
    "invalid_argument",
    "rpc_errors",
    "status_from_error",
    "to_rpc_status",
]
