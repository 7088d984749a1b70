"""Server reflection that also answers for methods, so `grpcurl describe Pkg.Service.Method` works.

grpcio-reflection looks every symbol up with the descriptor pool's
FindFileContainingSymbol, which resolves services and messages but not a
service's methods: `describe opsuite.market.v1.MarketService.StreamEvents`
answered "Symbol not found". A method lives in its service's file, so when the
library finds nothing we answer with that file, and anything else stays
NOT_FOUND. grpcio-reflection ships only the v1alpha protocol; grpcurl asks for
v1 first and falls back to v1alpha by itself.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc.aio
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha._async import ReflectionServicer

SERVICE_NAME = reflection.SERVICE_NAME


class MethodReflectionServicer(ReflectionServicer):  # type: ignore[misc]  # grpcio-reflection is untyped
    def _file_containing_symbol(
        self, request: reflection_pb2.ServerReflectionRequest, fully_qualified_name: str
    ) -> reflection_pb2.ServerReflectionResponse:
        response = super()._file_containing_symbol(request, fully_qualified_name)
        if not response.HasField("error_response"):
            return response
        service_name, _, method_name = fully_qualified_name.rpartition(".")
        try:
            service = self._pool.FindServiceByName(service_name)
        except KeyError:
            return response
        if method_name not in service.methods_by_name:
            return response
        return self._file_by_filename(request, service.file.name)


def enable_reflection(service_names: Iterable[str], server: grpc.aio.Server) -> None:
    """Serve reflection for these services (and for reflection itself) on an aio server."""
    servicer = MethodReflectionServicer([*service_names, SERVICE_NAME])
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
