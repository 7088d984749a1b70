"""An HTTP request's path, query string and body as the route's request message, and a response
message as the JSON sent back: the google.api.http rules over proto3's JSON mapping.

Path variables set the fields the template names; with no body or `body: "field"`, every other
field may come from the query string, by its dotted field path (proto or JSON name: `page_size`,
`pageSize`, `dates.start.year`), a repeated field by repeating the parameter, an enum by name or
number, a Timestamp, Duration or wrapper in its JSON form; with `body: "*"` the body carries every
field the path does not. Values are parsed by google.protobuf.json_format with unknown fields
refused, so a typo is a 400 naming the field, never a silently empty request. Every problem of a
request is reported at once (BadRequest), before any service is called.

Responses are proto3 JSON as json_format writes it by default (lowerCamelCase names, int64 as
strings, enums by name, fields at their default left out), so Envoy's gRPC-JSON transcoder could
take the edge's place without a client noticing; `response_body` sends one field of it.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.edge.routes import (
    SCALAR_JSON_MESSAGES,
    FieldPath,
    Route,
    enum_of,
    is_map,
    is_message,
    resolve,
    type_name,
)

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_NO_FIELD = re.compile(r'has no field named "(?P<name>[^"]+)" at "(?P<at>[^"]*)"')
_FAILED_FIELD = re.compile(r"Failed to parse (?P<name>\S+) field: (?P<why>.*?)\.?$", re.DOTALL)
_AVAILABLE = re.compile(r"\s*Available Fields\(except extensions\):.*$", re.DOTALL)


@dataclass(frozen=True)
class Violation:
    field: str  # where: "body", a query parameter's name, a path variable, "filter.kinds"
    description: str


class BadRequest(Exception):
    """A request the edge refuses before calling the service (HTTP 400), with every problem."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__(
            "; ".join(f"{v.field}: {v.description}" if v.field else v.description for v in violations)
        )


def _clean(error: Exception, where: str) -> Violation:
    """json_format's ParseError as a violation a person can act on: the field and what is wrong."""
    text = str(error)
    missing = _NO_FIELD.search(text)
    if missing:
        inner = ".".join(missing["at"].split(".")[1:])
        name = f"{inner}.{missing['name']}" if inner else missing["name"]
        full = f"{where}.{name}" if where and where != "body" else name
        return Violation(full, f"unknown field {missing['name']!r}: check its spelling against /openapi.json")
    failed = _FAILED_FIELD.search(text)
    if failed:
        why = _AVAILABLE.sub("", failed["why"]).strip()
        return Violation(failed["name"] if where in ("", "body") else where, why)
    return Violation(where, _AVAILABLE.sub("", text).strip() or type(error).__name__)


def _nest(path: FieldPath, value: object) -> dict[str, Any]:
    out: dict[str, Any] = {path.names[-1]: value}
    for name in reversed(path.names[:-1]):
        out = {name: out}
    return out


def _leaf_kind(leaf: FieldDescriptor) -> str:
    """Why the leaf cannot take its value from a query parameter; "" when it can."""
    if is_map(leaf):
        return "a map, which cannot be given in the query string"
    if is_message(leaf) and leaf.is_repeated:
        return "a repeated message, which cannot be given in the query string"
    if is_message(leaf) and type_name(leaf) not in SCALAR_JSON_MESSAGES:
        return "a message: give each of its fields as its own parameter (name.field=value)"
    return ""


def _from_text(leaf: FieldDescriptor, text: str) -> object:
    """A text value as the JSON value json_format parses for the leaf: booleans are JSON's own."""
    boolean = leaf.type == FieldDescriptor.TYPE_BOOL or (
        is_message(leaf) and type_name(leaf) == "google.protobuf.BoolValue"
    )
    if boolean:
        if text.strip().lower() not in _BOOLEANS:
            raise ValueError(f"{text!r} is not a boolean: give true or false")
        return _BOOLEANS[text.strip().lower()]
    if leaf.type == FieldDescriptor.TYPE_ENUM and text not in enum_of(leaf).values_by_name:
        try:
            int(text)
        except ValueError:
            names = ", ".join(v.name for v in enum_of(leaf).values)
            raise ValueError(
                f"{text!r} is not a {enum_of(leaf).name}: give one of {names} (or its number)"
            ) from None
    return text


def _merge_text(request: Message, path: FieldPath, texts: Sequence[str], where: str) -> list[Violation]:
    """Set one field from one or more text values (a path variable or a query parameter)."""
    leaf = path.leaf
    if len(texts) > 1 and not leaf.is_repeated:
        return [Violation(where, f"given {len(texts)} times; it takes one value")]
    try:
        values = [_from_text(leaf, text) for text in texts]
    except ValueError as error:
        return [Violation(where, str(error))]
    part = type(request)()
    try:
        json_format.ParseDict(_nest(path, values if leaf.is_repeated else values[0]), part)
    except (json_format.ParseError, ValueError, TypeError) as error:
        return [Violation(where, _clean(error, where).description)]
    request.MergeFrom(part)
    return []


def _query_violations(route: Route, name: str) -> tuple[FieldPath | None, str]:
    try:
        path = resolve(route.method.input_type, name.split("."))
    except LookupError as error:
        return None, f"not a field of this request: {error}"
    bound = next((p for p in route.path_fields if p.covers(path) or path.covers(p)), None)
    if bound is not None:
        return None, f"the path sets {bound.dotted} ({route.template.source})"
    if route.body_field is not None and path.names[0] == route.body_field.name:
        return None, f"{route.body_field.name} is this route's body: send it there"
    why = _leaf_kind(path.leaf)
    return (None, f"{path.dotted} is {why}") if why else (path, "")


def _parse_body(body: bytes) -> tuple[object, list[Violation]]:
    text = body.decode("utf-8", errors="strict").strip() if body else ""
    if not text:
        return None, []
    try:
        return json.loads(text), []
    except json.JSONDecodeError as error:
        return None, [Violation("body", f"not JSON: {error.msg} at line {error.lineno} column {error.colno}")]
    except RecursionError:  # arrays or objects nested about a thousand deep: Python's parser stops
        return None, [Violation("body", "JSON nested too deeply to read: no request nests so far")]
    except ValueError:  # an integer of more digits than int() takes (sys.get_int_max_str_digits)
        digits = sys.get_int_max_str_digits()
        return None, [Violation("body", f"a JSON number of more than {digits:,} digits: no field takes one")]


def _merge_body(route: Route, request: Message, document: object) -> list[Violation]:
    if route.body == "*":
        if not isinstance(document, dict):
            return [
                Violation("body", f"give a JSON object: the fields of {route.method.input_type.full_name}")
            ]
        # The path is the one place a field it binds may come from.
        clashes = [p.dotted for p in route.path_fields if _has_path(document, p)]
        if clashes:
            return [
                Violation(c, f"the path sets {c} ({route.template.source}); leave it out of the body")
                for c in clashes
            ]
        target: dict[str, Any] = document
    else:
        assert route.body_field is not None
        target = {route.body_field.name: document}
    part = type(request)()
    try:
        json_format.ParseDict(target, part, ignore_unknown_fields=False)
    except (json_format.ParseError, ValueError, TypeError, AttributeError) as error:
        where = "body" if route.body == "*" else route.body_field.name if route.body_field else "body"
        return [_clean(error, where)]
    request.MergeFrom(part)
    return []


def _has_path(document: dict[str, Any], path: FieldPath) -> bool:
    node: object = document
    for field_ in path.fields:
        if not isinstance(node, dict):
            return False
        key = field_.name if field_.name in node else field_.json_name
        if key not in node:
            return False
        node = node[key]
    return True


def build_request(
    route: Route,
    path_values: Mapping[str, str],
    query: Sequence[tuple[str, str]],
    body: bytes,
) -> Message:
    """The request message of `route` from the decoded path values, the query's (name, value) pairs
    in order, and the raw body; BadRequest with every problem found."""
    request = route.request_class()
    violations: list[Violation] = []
    if route.body:
        try:
            document, problems = _parse_body(body)
        except UnicodeDecodeError:
            document, problems = None, [Violation("body", "not UTF-8 text: send JSON")]
        violations += problems
        if not problems and document is not None:  # no body at all: every field keeps its default
            violations += _merge_body(route, request, document)
    elif body.strip():
        violations.append(
            Violation(
                "body",
                f"{route.http_method} {route.template.source} takes no body: give the fields in the query string",
            )
        )
    for path in route.path_fields:
        violations += _merge_text(request, path, [path_values.get(path.dotted, "")], path.dotted)
    grouped: dict[str, list[str]] = {}
    for name, value in query:
        grouped.setdefault(name, []).append(value)
    for name, values in grouped.items():
        if not route.takes_query:
            violations.append(
                Violation(
                    name,
                    f"{route.http_method} {route.template.source} takes every field in its body, none in the query string",
                )
            )
            continue
        field_path, why = _query_violations(route, name)
        if field_path is None:
            violations.append(Violation(name, why))
            continue
        violations += _merge_text(request, field_path, values, name)
    if violations:
        raise BadRequest(violations)
    return request


def parse_query(raw_query: bytes) -> list[tuple[str, str]]:
    """The query string's (name, value) pairs, percent- and '+'-decoded; BadRequest when it is not
    UTF-8."""
    try:
        text = raw_query.decode("utf-8")
        return urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest([Violation("query", "the query string is not UTF-8 once percent-decoded")]) from None


def _default_json(field_: FieldDescriptor) -> object:
    """The proto3 JSON of a field left at its default (json_format leaves such fields out)."""
    if field_.is_repeated:
        return {} if is_map(field_) else []
    if is_message(field_):
        return None if type_name(field_) in SCALAR_JSON_MESSAGES else {}
    if field_.type == FieldDescriptor.TYPE_ENUM:
        return enum_of(field_).values[0].name
    if field_.type == FieldDescriptor.TYPE_BOOL:
        return False
    if field_.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        return ""
    if field_.type in (
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    ):
        return "0"
    return 0


def response_json(route: Route, response: Message) -> object:
    """What the HTTP response carries: the message in proto3 JSON, or its response_body field."""
    document = json_format.MessageToDict(response)
    if route.response_field is None:
        return document
    field_ = route.response_field
    return document.get(field_.json_name, _default_json(field_))
