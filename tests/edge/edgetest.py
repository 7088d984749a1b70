"""The test contract (protos/edgetest/v1/edgetest.proto), compiled once into a private descriptor pool,
and an in-process grpc.aio server of its ShelfService for the edge to call."""

from __future__ import annotations

import asyncio
import functools
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import google.api
import grpc
import grpc.aio
import grpc_tools
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FileDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_tools import protoc

from services.common.status import FieldViolation, to_rpc_status

PROTOS = Path(__file__).parent / "protos"
FILE = "edgetest/v1/edgetest.proto"
SERVICE = "edgetest.v1.ShelfService"


@functools.cache
def edgetest_file() -> FileDescriptor:
    """edgetest.proto's descriptor, in a pool of its own (the default pool never sees it)."""
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    googleapis = Path(google.api.__path__[0]).parent.parent
    with tempfile.TemporaryDirectory() as out:
        target = Path(out) / "edgetest.pb"
        code = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{PROTOS}",
                f"-I{well_known}",
                f"-I{googleapis}",
                "--include_imports",
                f"--descriptor_set_out={target}",
                str(PROTOS / FILE),
            ]
        )
        assert code == 0, "protoc failed on edgetest.proto"
        files = descriptor_pb2.FileDescriptorSet.FromString(target.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:  # dependencies come first
        pool.Add(file)
    return pool.FindFileByName(FILE)


def with_rule(
    method: str, rule: http_pb2.HttpRule, *, also: str = "", also_rule: http_pb2.HttpRule | None = None
) -> FileDescriptor:
    """edgetest.proto again, in a fresh pool, with `method`'s rule replaced (and `also`'s, if given)."""
    pool = descriptor_pool.DescriptorPool()

    def add(file: FileDescriptor) -> None:
        for dependency in file.dependencies:
            add(dependency)
        try:
            pool.FindFileByName(file.name)
        except KeyError:
            proto = descriptor_pb2.FileDescriptorProto()
            file.CopyToProto(proto)
            if file.name == edgetest_file().name:
                for rpc in proto.service[0].method:
                    for name, new in ((method, rule), (also, also_rule)):
                        if rpc.name == name and new is not None:
                            rpc.options.Extensions[annotations_pb2.http].CopyFrom(new)
            pool.Add(proto)

    add(edgetest_file())
    return pool.FindFileByName(edgetest_file().name)


def message_class(name: str) -> type[Message]:
    """A message class of the test contract by its short name ("Book")."""
    return message_factory.GetMessageClass(edgetest_file().message_types_by_name[name])


Handler = Callable[[Any, grpc.aio.ServicerContext], Any]


async def _get_book(request: Any, context: grpc.aio.ServicerContext) -> Message:
    return message_class("Book")(
        name=f"shelves/{request.shelf.id}/books/{request.book_id}",
        shelf_id=request.shelf.id,
        book_id=request.book_id,
        title="with notes" if request.with_notes else "plain",
    )


async def _rename(request: Any, context: grpc.aio.ServicerContext) -> Message:
    return message_class("Book")(name=request.name, title=request.new_title)


async def _update(request: Any, context: grpc.aio.ServicerContext) -> Message:
    book = message_class("Book")()
    book.CopyFrom(request.book)
    if request.validate_only:
        book.title += " (validated)"
    return book


async def _list(request: Any, context: grpc.aio.ServicerContext) -> Message:
    book = message_class("Book")
    return message_class("ListBooksResponse")(
        books=[
            book(name=f"shelves/{request.shelf_id}/books/{i}", pages=i * 10**12)
            for i in range(request.page_size)
        ],
        next_page_token="more",
    )


async def _get_file(request: Any, context: grpc.aio.ServicerContext) -> Message:
    return message_class("Book")(name=request.path)


async def _touch(request: Any, context: grpc.aio.ServicerContext) -> Message:
    return message_class("Book")(title=request.note)


async def _echo(request: Any, context: grpc.aio.ServicerContext) -> Message:
    return request  # type: ignore[no-any-return]


async def _fail(request: Any, context: grpc.aio.ServicerContext) -> Message:
    status = to_rpc_status(
        grpc.StatusCode(next(c for c in grpc.StatusCode if c.value[0] == request.code).value),
        request.message,
        violations=[FieldViolation(v.field, v.description) for v in request.violations],
    )
    await context.abort(status.code, status.details, status.trailing_metadata)
    raise AssertionError("unreachable")


async def _slow(request: Any, context: grpc.aio.ServicerContext) -> Message:
    remaining = context.time_remaining()
    await asyncio.sleep(request.sleep_s)
    return message_class("SlowResponse")(remaining_s=remaining if remaining is not None else -1.0)


HANDLERS: dict[str, Handler] = {
    "GetBook": _get_book,
    "RenameBook": _rename,
    "UpdateBook": _update,
    "ListBooks": _list,
    "GetFile": _get_file,
    "Touch": _touch,
    "Echo": _echo,
    "Fail": _fail,
    "Slow": _slow,
    "Hidden": _get_book,
}


def _generic_handler() -> grpc.GenericRpcHandler:
    service = edgetest_file().services_by_name["ShelfService"]
    handlers = {}
    for method in service.methods:
        if method.server_streaming:
            continue
        request = message_factory.GetMessageClass(method.input_type)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            HANDLERS[method.name],
            request_deserializer=request.FromString,
            response_serializer=lambda message: message.SerializeToString(),
        )
    return grpc.method_handlers_generic_handler(SERVICE, handlers)


@asynccontextmanager
async def shelf_server(serving: bool = True) -> AsyncIterator[tuple[str, health_aio.HealthServicer]]:
    """A grpc.aio server of ShelfService and grpc.health.v1 on a free port: its address and health."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((_generic_handler(),))
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    await health.set(SERVICE, status)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", health
    finally:
        await server.stop(grace=None)
