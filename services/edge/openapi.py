"""The OpenAPI 3.1 document of the edge, generated from the same route table the edge serves.

Each route is an operation: its path and query parameters, its request body and its response as
JSON Schema (2020-12, which OpenAPI 3.1 uses) made from the message descriptors, in proto3's JSON
mapping: lowerCamelCase property names, 64-bit integers as strings, enums as strings of their
names, Timestamp as a date-time string, Duration as "1.5s", bytes as base64; messages are
components referenced by $ref, so recursive messages are fine. Errors are a google.rpc.Status.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from services.edge.domain.template import Kind
from services.edge.routes import (
    SCALAR_JSON_MESSAGES,
    FieldPath,
    Route,
    RouteTable,
    enum_of,
    is_map,
    is_message,
    message_of,
    type_name,
)

Schema = dict[str, Any]

_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
_UINT64 = {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}
_INT32 = {"type": "integer", "format": "int32"}
_UINT32 = {"type": "integer", "minimum": 0, "maximum": 4294967295}
_FLOATING = ("NaN", "Infinity", "-Infinity")
_BYTES = {"type": "string", "contentEncoding": "base64"}
_SCALARS: dict[int, Schema] = {
    FieldDescriptor.TYPE_DOUBLE: {
        "anyOf": [{"type": "number", "format": "double"}, {"enum": list(_FLOATING)}]
    },
    FieldDescriptor.TYPE_FLOAT: {"anyOf": [{"type": "number", "format": "float"}, {"enum": list(_FLOATING)}]},
    FieldDescriptor.TYPE_INT64: _INT64,
    FieldDescriptor.TYPE_SINT64: _INT64,
    FieldDescriptor.TYPE_SFIXED64: _INT64,
    FieldDescriptor.TYPE_UINT64: _UINT64,
    FieldDescriptor.TYPE_FIXED64: _UINT64,
    FieldDescriptor.TYPE_INT32: _INT32,
    FieldDescriptor.TYPE_SINT32: _INT32,
    FieldDescriptor.TYPE_SFIXED32: _INT32,
    FieldDescriptor.TYPE_UINT32: _UINT32,
    FieldDescriptor.TYPE_FIXED32: _UINT32,
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: _BYTES,
}
# Well-known types in their JSON form (inline: they are strings, numbers or free objects).
_WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
        "examples": ["1.5s"],
    },
    "google.protobuf.FieldMask": {"type": "string", "description": "field paths, comma-separated"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    "google.protobuf.DoubleValue": _SCALARS[FieldDescriptor.TYPE_DOUBLE],
    "google.protobuf.FloatValue": _SCALARS[FieldDescriptor.TYPE_FLOAT],
    "google.protobuf.Int64Value": _INT64,
    "google.protobuf.UInt64Value": _UINT64,
    "google.protobuf.Int32Value": _INT32,
    "google.protobuf.UInt32Value": _UINT32,
    "google.protobuf.BoolValue": {"type": "boolean"},
    "google.protobuf.StringValue": {"type": "string"},
    "google.protobuf.BytesValue": _BYTES,
}
assert set(_WELL_KNOWN) >= SCALAR_JSON_MESSAGES
# What a message's JSON form means, where its fields alone do not say it.
_NOTES = {
    "opsuite.common.v1.Decimal": "An exact decimal number as a string in plain notation, in `value` "
    '(`{"value": "1234.5600"}`); never a JSON number, so no figure loses a cent.',
    "opsuite.common.v1.Date": "A calendar date without time zone.",
    "google.rpc.Status": "An error: code is google.rpc.Code's number (code.proto's HTTP mapping gives "
    "the HTTP status), details the google.rpc details the service sent (BadRequest field violations, "
    "ErrorInfo).",
}
STATUS_SCHEMA: Schema = {
    "type": "object",
    "description": _NOTES["google.rpc.Status"],
    "properties": {
        "code": {"type": "integer", "format": "int32"},
        "message": {"type": "string"},
        "details": {"type": "array", "items": _WELL_KNOWN["google.protobuf.Any"]},
    },
    "required": ["code", "message", "details"],
}
_TIMEOUT_PARAMETERS = {
    "GrpcTimeout": {
        "name": "grpc-timeout",
        "in": "header",
        "required": False,
        "description": "The call's deadline in gRPC's format (5S, 200m); past it the answer is 504.",
        "schema": {"type": "string", "pattern": "^[0-9]{1,8}[HMSmun]$"},
    },
    "RequestTimeout": {
        "name": "X-Request-Timeout",
        "in": "header",
        "required": False,
        "description": "The call's deadline in seconds (2.5), when grpc-timeout is not given.",
        "schema": {"type": "number", "exclusiveMinimum": 0},
    },
}
_MAX_QUERY_DEPTH = 4


class _Schemas:
    """JSON Schemas of messages and enums, collected as components."""

    def __init__(self) -> None:
        self.components: dict[str, Schema] = {}

    def ref(self, name: str) -> Schema:
        return {"$ref": f"#/components/schemas/{name}"}

    def message(self, descriptor: Descriptor) -> Schema:
        name = descriptor.full_name
        if name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[name])
        if name not in self.components:
            self.components[name] = {}  # a recursive message refers to itself while being built
            self.components[name] = self.object(descriptor)
        return self.ref(name)

    def object(self, descriptor: Descriptor, leave_out: frozenset[str] = frozenset()) -> Schema:
        schema: Schema = {
            "type": "object",
            "properties": {f.json_name: self.field(f) for f in descriptor.fields if f.name not in leave_out},
            "additionalProperties": False,
        }
        if descriptor.full_name in _NOTES:
            schema["description"] = _NOTES[descriptor.full_name]
        oneofs = [o for o in descriptor.oneofs if len(o.fields) > 1]
        if oneofs:
            schema["description"] = " ".join(
                [
                    schema.get("description", ""),
                    *(f"At most one of {', '.join(f.json_name for f in o.fields)}." for o in oneofs),
                ]
            ).strip()
        return schema

    def enum(self, descriptor: EnumDescriptor) -> Schema:
        name = descriptor.full_name
        if name == "google.protobuf.NullValue":
            return {"type": "null"}
        if name not in self.components:
            self.components[name] = {"type": "string", "enum": [v.name for v in descriptor.values]}
        return self.ref(name)

    def single(self, field: FieldDescriptor) -> Schema:
        if is_message(field):
            return self.message(message_of(field))
        if field.type == FieldDescriptor.TYPE_ENUM:
            return self.enum(enum_of(field))
        return dict(_SCALARS[field.type])

    def field(self, field: FieldDescriptor) -> Schema:
        if is_map(field):
            key, value = message_of(field).fields_by_name["key"], message_of(field).fields_by_name["value"]
            schema: Schema = {"type": "object", "additionalProperties": self.single(value)}
            if key.type != FieldDescriptor.TYPE_STRING:
                schema["propertyNames"] = {
                    "pattern": "^(true|false)$" if key.type == FieldDescriptor.TYPE_BOOL else "^-?[0-9]+$"
                }
            return schema
        if field.is_repeated:
            return {"type": "array", "items": self.single(field)}
        return self.single(field)


def _query_parameters(route: Route, schemas: _Schemas) -> list[Schema]:
    """Every field the path and body leave to the query string, by its dotted proto name."""
    parameters: list[Schema] = []

    def walk(descriptor: Descriptor, prefix: tuple[FieldDescriptor, ...], seen: tuple[str, ...]) -> None:
        for field in descriptor.fields:
            path = FieldPath((*prefix, field))
            if any(p.covers(path) for p in route.path_fields):
                continue
            if route.body_field is not None and path.names[0] == route.body_field.name:
                continue
            if is_map(field) or (is_message(field) and field.is_repeated):
                continue  # not expressible in a query string (the rules say so)
            if is_message(field) and type_name(field) not in SCALAR_JSON_MESSAGES:
                name = type_name(field)
                if name not in seen and len(prefix) < _MAX_QUERY_DEPTH:
                    walk(message_of(field), path.fields, (*seen, name))
                continue
            parameter: Schema = {
                "name": path.dotted,
                "in": "query",
                "required": False,
                "schema": schemas.field(field),
            }
            if field.is_repeated:
                parameter |= {
                    "style": "form",
                    "explode": True,
                    "description": "repeat the parameter for each value",
                }
            elif field.type == FieldDescriptor.TYPE_ENUM:
                parameter["description"] = "the value's name (or its number)"
            parameters.append(parameter)

    walk(route.method.input_type, (), (route.method.input_type.full_name,))
    return parameters


def _path_parameters(route: Route, schemas: _Schemas) -> list[Schema]:
    parameters: list[Schema] = []
    for variable, path in zip(route.template.variables, route.path_fields, strict=True):
        parameter: Schema = {
            "name": variable.dotted,
            "in": "path",
            "required": True,
            "schema": schemas.field(path.leaf),
        }
        if variable.multi_segment:
            inner = "/".join(
                s.text if s.kind is Kind.LITERAL else s.kind.value
                for s in route.template.segments[variable.start : variable.end]
            )
            # OpenAPI has no path parameter spanning segments: a client must not encode its '/'.
            parameter["description"] = f"path segments matching {inner}, their '/' sent as is (not %2F)"
        parameters.append(parameter)
    for index in range(route.template.wildcard_count):
        parameters.append(
            {
                "name": f"wildcard{index + 1}",
                "in": "path",
                "required": True,
                "description": "any path segment(s); matched, not sent to the service",
                "schema": {"type": "string"},
            }
        )
    return parameters


def _operation(route: Route, schemas: _Schemas) -> Schema:
    method = route.method
    operation: Schema = {
        "operationId": route.operation_id,
        "tags": [route.backend],
        "summary": f"{method.containing_service.name}.{method.name}",
        "description": f"gRPC `{route.grpc_path}` ({method.input_type.full_name} → {method.output_type.full_name}), "
        f"bound by google.api.http as `{route.describe()}`.",
        "parameters": [
            *_path_parameters(route, schemas),
            *(_query_parameters(route, schemas) if route.takes_query else []),
            {"$ref": "#/components/parameters/GrpcTimeout"},
            {"$ref": "#/components/parameters/RequestTimeout"},
        ],
    }
    if route.body == "*":
        leave_out = frozenset(p.names[0] for p in route.path_fields if len(p.names) == 1)
        body = (
            schemas.object(method.input_type, leave_out) if leave_out else schemas.message(method.input_type)
        )
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    elif route.body_field is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.field(route.body_field)}},
        }
    response = (
        schemas.field(route.response_field)
        if route.response_field is not None
        else schemas.message(method.output_type)
    )
    operation["responses"] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": response}}},
        "default": {
            "description": "An error (400 a bad request, 404 not found, 503 the service is unavailable, "
            "504 past the deadline, ...: google/rpc/code.proto's HTTP mapping of the gRPC code)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/google.rpc.Status"}}},
        },
    }
    return operation


def _probe(summary: str, description: str, *, can_fail: bool) -> Schema:
    responses: Schema = {
        "200": {"description": "yes", "content": {"application/json": {"schema": {"type": "object"}}}}
    }
    if can_fail:
        responses["503"] = {
            "description": "no, and which service is not",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return {
        "get": {
            "operationId": summary.replace(" ", "_"),
            "tags": ["edge"],
            "summary": summary,
            "description": description,
            "responses": responses,
        }
    }


BEARER = "bearerToken"


def openapi_document(
    table: RouteTable, title: str = "opsuite HTTP/JSON edge", *, bearer: bool = False
) -> Schema:
    """The OpenAPI 3.1 document of every route of `table`, and of the edge's probes. `bearer`: the edge
    requires its API token on every operation but GET (services/edge/auth.py), which then says so."""
    schemas = _Schemas()
    paths: dict[str, Schema] = {}
    for route in sorted(table.routes, key=lambda r: (r.template.openapi_path(), r.http_method)):
        item = paths.setdefault(route.template.openapi_path(), {})
        methods = (
            ["get", "put", "post", "delete", "patch"]
            if route.http_method == "*"
            else [route.http_method.lower()]
        )
        for method in methods:
            if method in item or method not in (
                "get",
                "put",
                "post",
                "delete",
                "patch",
                "head",
                "options",
                "trace",
            ):
                continue  # another template of the same OpenAPI shape (or a method OpenAPI cannot name)
            item[method] = _operation(route, schemas)
            if route.http_method == "*":  # one operation per method, each id its own
                item[method]["operationId"] += f"_{method}"
            if bearer and method != "get":
                item[method]["security"] = [{BEARER: []}]
    paths["/healthz"] = _probe("liveness", "200 while the edge serves.", can_fail=False)
    paths["/readyz"] = _probe(
        "readiness",
        "200 when every service the edge fronts answers SERVING on grpc.health.v1.",
        can_fail=True,
    )
    schemas.components["google.rpc.Status"] = STATUS_SCHEMA
    try:
        version = importlib.metadata.version("opsuite")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    components: Schema = {
        "schemas": dict(sorted(schemas.components.items())),
        "parameters": _TIMEOUT_PARAMETERS,
    }
    if bearer:
        components["securitySchemes"] = {
            BEARER: {
                "type": "http",
                "scheme": "bearer",
                "description": "The edge's API token (OPSUITE_API_TOKEN): every operation but GET needs it, "
                "as `Authorization: Bearer <token>`; without it, or with another, the answer is 401.",
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Routes derived from the google.api.http annotations of the opsuite contract; "
            "proto3 JSON in and out. docs/edge.md says how.",
        },
        "paths": paths,
        "components": components,
    }
