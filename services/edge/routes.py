"""The route table: every google.api.http binding of the contract, read from its descriptors at start-up.

No route is written by hand: each method whose options carry a `google.api.http` rule gives one
route, and one more per `additional_bindings` entry. Each binding is checked against its messages
when the table is built (the fields its path binds exist and are singular primitives, its body and
response_body name top-level fields, no two routes share a method and template), so a wrong
annotation stops the edge at start-up with the method and the reason, rather than failing requests.

No web framework here: the app (app.py) asks the table for the route of a method and path.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from google.api import annotations_pb2, http_pb2
from google.protobuf import message_factory
from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
    FileDescriptor,
    MethodDescriptor,
)
from google.protobuf.message import Message

from services.edge.domain.template import Template, TemplateError, parse_template

# Well-known messages whose proto3 JSON form is a string, number or bool: one query parameter each.
SCALAR_JSON_MESSAGES = frozenset(
    {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        *(
            f"google.protobuf.{kind}Value"
            for kind in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
        ),
    }
)
_PATTERNS = ("get", "put", "post", "delete", "patch")


class RouteError(ValueError):
    """A google.api.http annotation the edge cannot serve: the method, the binding and why."""


def is_map(field_: FieldDescriptor) -> bool:
    return field_.message_type is not None and field_.message_type.GetOptions().map_entry


def is_message(field_: FieldDescriptor) -> bool:
    return field_.type == FieldDescriptor.TYPE_MESSAGE


def message_of(field_: FieldDescriptor) -> Descriptor:
    """The message type of a message field."""
    if field_.message_type is None:
        raise TypeError(f"{field_.full_name} is not a message field")
    return field_.message_type


def enum_of(field_: FieldDescriptor) -> EnumDescriptor:
    """The enum type of an enum field."""
    if field_.enum_type is None:
        raise TypeError(f"{field_.full_name} is not an enum field")
    return field_.enum_type


def type_name(field_: FieldDescriptor) -> str:
    """The full name of a message field's type ("google.protobuf.Timestamp"), "" for other fields."""
    return str(field_.message_type.full_name) if field_.message_type is not None else ""


def field_named(message: Descriptor, name: str) -> FieldDescriptor | None:
    """A field of `message` by its proto name or its JSON (lowerCamelCase) name."""
    found = message.fields_by_name.get(name)
    if found is not None:
        return found
    return next((f for f in message.fields if f.json_name == name), None)


@dataclass(frozen=True)
class FieldPath:
    """A dotted path of fields from the request message to one field (`dates.start.year`)."""

    fields: tuple[FieldDescriptor, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def dotted(self) -> str:
        return ".".join(self.names)

    @property
    def leaf(self) -> FieldDescriptor:
        return self.fields[-1]

    def covers(self, other: FieldPath) -> bool:
        """True when `other` is this field or lies inside it."""
        return other.names[: len(self.names)] == self.names


def resolve(message: Descriptor, names: Sequence[str]) -> FieldPath:
    """The fields `names` walks through from `message`; LookupError names the first that is not there
    or cannot be walked into (a repeated field, a map, a scalar)."""
    fields: list[FieldDescriptor] = []
    current: Descriptor | None = message
    for index, name in enumerate(names):
        if current is None:
            walked = ".".join(names[:index])
            raise LookupError(f"{walked} is not a message, so it has no field {name!r}")
        found = field_named(current, name)
        if found is None:
            known = ", ".join(f.name for f in current.fields) or "none"
            raise LookupError(f"{current.full_name} has no field {name!r} (its fields: {known})")
        fields.append(found)
        last = index == len(names) - 1
        if not last and (found.is_repeated or not is_message(found)):
            kind = "a map" if is_map(found) else "repeated" if found.is_repeated else "not a message"
            raise LookupError(f"{'.'.join(names[: index + 1])} is {kind}: no field inside it can be named")
        current = found.message_type
    return FieldPath(tuple(fields))


@dataclass(frozen=True)
class Route:
    """One HTTP binding of one RPC."""

    http_method: str  # GET, POST, ...; "*" (a custom pattern of kind "*") answers any method
    template: Template
    method: MethodDescriptor
    backend: str  # which service answers it (a ChannelProvider's key): "reporting"
    body: str  # "" no body, "*" every field the path does not bind, else a top-level field's name
    body_field: FieldDescriptor | None
    response_field: FieldDescriptor | None  # response_body: only this field of the response is sent
    path_fields: tuple[FieldPath, ...]  # in the template's order of variables
    request_class: type[Message] = field(compare=False)
    response_class: type[Message] = field(compare=False)
    binding: int = 0  # 0: the rule itself; 1, 2, ...: its additional_bindings

    @property
    def service(self) -> str:
        return str(self.method.containing_service.full_name)

    @property
    def grpc_path(self) -> str:
        return f"/{self.service}/{self.method.name}"

    @property
    def operation_id(self) -> str:
        base = f"{self.method.containing_service.name}_{self.method.name}"
        return base if self.binding == 0 else f"{base}_{self.binding}"

    @property
    def takes_query(self) -> bool:
        """Fields the path and body do not bind come from the query string (not with body "*")."""
        return self.body != "*"

    def describe(self) -> str:
        return f"{self.http_method} {self.template.source}"


@dataclass(frozen=True)
class Found:
    route: Route
    raw_values: dict[str, str]  # each path variable's value as sent (percent-encoded)


@dataclass(frozen=True)
class WrongMethod:
    allowed: tuple[str, ...]  # the methods the path answers (405's Allow)


class RouteTable:
    """Every route, looked up by method and raw path: the most specific template wins."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(sorted(routes, key=lambda r: (r.template.specificity, r.template.source)))
        seen: dict[tuple[str, str], Route] = {}
        for route in self.routes:
            key = (route.http_method, route.template.source)
            if key in seen:
                other = seen[key]
                raise RouteError(
                    f"{route.describe()} is bound twice: by {other.method.full_name} and {route.method.full_name}"
                )
            seen[key] = route

    def lookup(self, http_method: str, raw_path: str) -> Found | WrongMethod | None:
        """The route for the request; WrongMethod when the path exists with other methods; None when
        no template matches the path."""
        allowed: list[str] = []
        for route in self.routes:
            values = route.template.match(raw_path)
            if values is None:
                continue
            if route.http_method in (http_method, "*"):
                return Found(route, values)
            if route.http_method not in allowed:
                allowed.append(route.http_method)
        return WrongMethod(tuple(sorted(allowed))) if allowed else None

    def backends(self) -> dict[str, tuple[str, ...]]:
        """Each backend the routes call, with the full names of its gRPC services they call."""
        found: dict[str, list[str]] = {}
        for route in self.routes:
            services = found.setdefault(route.backend, [])
            if route.service not in services:
                services.append(route.service)
        return {backend: tuple(sorted(services)) for backend, services in sorted(found.items())}


def contract_backend(service_full_name: str) -> str:
    """`opsuite.<svc>.v1.XService` is served by <svc> (the name settings.addr knows); any other
    service is its own backend, by its full name."""
    parts = service_full_name.split(".")
    return parts[1] if len(parts) >= 4 and parts[0] == "opsuite" else service_full_name


def _route(method: MethodDescriptor, rule: http_pb2.HttpRule, binding: int, backend: str) -> Route:
    where = f"{method.full_name} ({'the rule' if binding == 0 else f'additional binding {binding}'})"
    pattern = rule.WhichOneof("pattern")
    if pattern in _PATTERNS:
        http_method, source = pattern.upper(), str(getattr(rule, pattern))
    elif pattern == "custom":
        http_method, source = rule.custom.kind.strip().upper() or "", rule.custom.path
        if not http_method:
            raise RouteError(f"{where}: a custom pattern needs a kind (an HTTP method, or '*')")
    else:
        raise RouteError(f"{where}: the rule has no pattern (get, put, post, delete, patch or custom)")
    if method.client_streaming or method.server_streaming:
        raise RouteError(f"{where}: a streaming RPC cannot be served as one HTTP request and response")
    try:
        template = parse_template(source)
    except TemplateError as error:
        raise RouteError(f"{where}: {error}") from None
    request, response = method.input_type, method.output_type
    path_fields = []
    for variable in template.variables:
        try:
            path = resolve(request, variable.field_path)
        except LookupError as error:
            raise RouteError(f"{where}: path variable {{{variable.dotted}}}: {error}") from None
        if path.leaf.is_repeated or is_message(path.leaf):
            raise RouteError(
                f"{where}: path variable {{{variable.dotted}}} must name a singular primitive field "
                "(not repeated, not a message), as the google.api.http rules require"
            )
        path_fields.append(path)
    body_field = None
    if rule.body not in ("", "*"):
        body_field = request.fields_by_name.get(rule.body)
        if body_field is None:
            raise RouteError(f"{where}: body {rule.body!r} is not a top-level field of {request.full_name}")
    if rule.body and http_method == "GET":
        raise RouteError(f"{where}: a GET request has no body; drop body: {rule.body!r}")
    response_field = None
    if rule.response_body:
        response_field = response.fields_by_name.get(rule.response_body)
        if response_field is None:
            raise RouteError(
                f"{where}: response_body {rule.response_body!r} is not a top-level field of {response.full_name}"
            )
    return Route(
        http_method=http_method,
        template=template,
        method=method,
        backend=backend,
        body=rule.body,
        body_field=body_field,
        response_field=response_field,
        path_fields=tuple(path_fields),
        request_class=message_factory.GetMessageClass(request),
        response_class=message_factory.GetMessageClass(response),
        binding=binding,
    )


def http_rule(method: MethodDescriptor) -> http_pb2.HttpRule | None:
    """The method's google.api.http rule, None when it has none. Read through Extensions[] and
    WhichOneof: under upb, HasExtension on method options can raise (docs PITFALLS)."""
    rule: http_pb2.HttpRule = method.GetOptions().Extensions[annotations_pb2.http]
    return rule if rule.ByteSize() else None


def routes_of_method(method: MethodDescriptor, backend: str) -> list[Route]:
    rule = http_rule(method)
    if rule is None:
        return []
    routes = [_route(method, rule, 0, backend)]
    for index, extra in enumerate(rule.additional_bindings, start=1):
        if extra.additional_bindings:
            raise RouteError(
                f"{method.full_name} (additional binding {index}): an additional binding must not have "
                "additional bindings of its own"
            )
        routes.append(_route(method, extra, index, backend))
    return routes


def build_routes(
    files: Iterable[FileDescriptor], backend_of: Callable[[str], str] = contract_backend
) -> RouteTable:
    """Every annotated binding of every service in `files`; RouteError on the first that cannot be served."""
    routes: list[Route] = []
    for file in files:
        for service in file.services_by_name.values():
            for method in service.methods:
                routes += routes_of_method(method, backend_of(service.full_name))
    return RouteTable(routes)


def contract_files() -> list[FileDescriptor]:
    """The file descriptors of every generated module of the contract (gen/opsuite/*/v1/*_pb2.py)."""
    import opsuite

    files = []
    for module_info in pkgutil.walk_packages(opsuite.__path__, "opsuite."):
        if module_info.name.endswith("_pb2"):
            files.append(importlib.import_module(module_info.name).DESCRIPTOR)
    return files


def contract_routes() -> RouteTable:
    """The route table of the contract this installation carries."""
    return build_routes(contract_files())
