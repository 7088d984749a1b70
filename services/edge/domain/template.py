"""Path templates of google.api.http rules: parsed once, matched against each request's path.

The grammar is google/api/http.proto's:

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;
    Verb     = ":" LITERAL ;

`*` matches one path segment, `**` zero or more (the last segment only, before the verb). `{f}` is
`{f=*}`. A variable's value is the path it matched: a single-segment variable is percent-decoded
whole; a multi-segment one (`{f=a/*}`, `{f=**}`) is decoded except `%2F`, which stays encoded, as the
rules ask. Pure: no protobuf, no web framework.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from enum import Enum

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Characters that end a literal: the template's own syntax.
_LITERAL_STOP = "/{}*:="
_ENCODED_SLASH = re.compile(r"(%2[Ff])")


class TemplateError(ValueError):
    """A path template that does not follow the grammar, with where and why."""


class Kind(Enum):
    LITERAL = "literal"
    ONE = "*"
    ANY = "**"


@dataclass(frozen=True)
class Segment:
    kind: Kind
    text: str = ""  # the literal, for Kind.LITERAL


@dataclass(frozen=True)
class Variable:
    """A `{field.path=...}` of the template: it binds path segments [start, end) to a request field."""

    field_path: tuple[str, ...]
    start: int
    end: int
    multi_segment: bool  # anything but exactly one `*`: decoded keeping %2F, per the rules

    @property
    def dotted(self) -> str:
        return ".".join(self.field_path)


@dataclass(frozen=True)
class Template:
    source: str
    segments: tuple[Segment, ...]
    variables: tuple[Variable, ...]
    verb: str  # "" when the template has none

    def match(self, raw_path: str) -> dict[str, str] | None:
        """The raw (still percent-encoded) value of each variable when `raw_path` matches, else None.

        `raw_path` is the path as sent, without the query string; decode() turns the values into
        the strings the request fields get.
        """
        if not raw_path.startswith("/"):
            return None
        path = raw_path[1:]
        if self.verb:
            suffix = ":" + self.verb
            if not path.endswith(suffix):
                return None
            path = path[: -len(suffix)]
        parts = path.split("/")
        if any(not part for part in parts):  # "//", a trailing "/": no template has an empty segment
            return None
        ends_open = bool(self.segments) and self.segments[-1].kind is Kind.ANY
        fixed = len(self.segments) - 1 if ends_open else len(self.segments)
        if len(parts) < fixed or (not ends_open and len(parts) != fixed):
            return None
        if any(
            segment.kind is Kind.LITERAL and _unquote_or_none(parts[index]) != segment.text
            for index, segment in enumerate(self.segments[:fixed])
        ):
            return None
        # A variable that ends the template takes the rest of the path (all of it, when it ends in **).
        return {
            v.dotted: "/".join(parts[v.start : len(parts) if v.end == len(self.segments) else v.end])
            for v in self.variables
        }

    def decode(self, raw_values: dict[str, str]) -> dict[str, str]:
        """Each variable's value percent-decoded as the rules say; ValueError names a value that is not
        UTF-8 once decoded."""
        decoded = {}
        for variable in self.variables:
            raw = raw_values[variable.dotted]
            try:
                if variable.multi_segment:
                    decoded[variable.dotted] = "".join(
                        part if _ENCODED_SLASH.fullmatch(part) else _unquote(part)
                        for part in _ENCODED_SLASH.split(raw)
                    )
                else:
                    decoded[variable.dotted] = _unquote(raw)
            except UnicodeDecodeError:
                raise ValueError(
                    f"the path's {variable.dotted} ({raw!r}) is not UTF-8 once percent-decoded"
                ) from None
        return decoded

    @property
    def specificity(self) -> tuple[int, tuple[int, ...], int]:
        """Sort key among templates that match the same path, most specific first: one with a verb,
        then a literal before `*` before `**`, segment by segment (a trie that prefers literals)."""
        rank = {Kind.LITERAL: 0, Kind.ONE: 1, Kind.ANY: 2}
        return (0 if self.verb else 1, tuple(rank[s.kind] for s in self.segments), -len(self.segments))

    def openapi_path(self) -> str:
        """The template as an OpenAPI path: each variable as `{field.path}` (its own segments become
        one parameter), an unnamed `*` or `**` as `{wildcardN}`, the verb kept."""
        out: list[str] = []
        position = 0
        wildcards = 0
        while position < len(self.segments):
            variable = next((v for v in self.variables if v.start == position), None)
            if variable is not None:
                out.append("{" + variable.dotted + "}")
                position = variable.end  # a variable spans one segment at least
                continue
            segment = self.segments[position]
            if segment.kind is Kind.LITERAL:
                out.append(segment.text)
            else:
                wildcards += 1
                out.append("{" + f"wildcard{wildcards}" + "}")
            position += 1
        return "/" + "/".join(out) + (f":{self.verb}" if self.verb else "")

    @property
    def wildcard_count(self) -> int:
        """Unnamed `*` and `**` segments (outside any variable): matched, never sent to the service."""
        inside = {i for v in self.variables for i in range(v.start, v.end)}
        return sum(1 for i, s in enumerate(self.segments) if s.kind is not Kind.LITERAL and i not in inside)


def _unquote(text: str) -> str:
    return urllib.parse.unquote(text, errors="strict")


def _unquote_or_none(text: str) -> str | None:
    try:
        return _unquote(text)
    except UnicodeDecodeError:
        return None


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 1  # after the leading "/"
        self.segments: list[Segment] = []
        self.variables: list[Variable] = []

    def fail(self, why: str) -> TemplateError:
        return TemplateError(f"path template {self.source!r}, at character {self.pos + 1}: {why}")

    def accept(self, text: str) -> bool:
        """Step over `text` when it comes next."""
        if not self.source.startswith(text, self.pos):
            return False
        self.pos += len(text)
        return True

    def take(self, text: str) -> None:
        if not self.accept(text):
            raise self.fail(f"expected {text!r}")

    def parse(self) -> Template:
        if not self.source.startswith("/"):
            raise TemplateError(f"path template {self.source!r} must start with '/'")
        self.segments_()
        verb = self.literal("a verb after ':'") if self.accept(":") else ""
        if self.pos != len(self.source):
            raise self.fail(f"unexpected {self.source[self.pos]!r}")
        for index, segment in enumerate(self.segments[:-1]):
            if segment.kind is Kind.ANY:
                raise TemplateError(
                    f"path template {self.source!r}: '**' must be the last segment (it is segment {index + 1})"
                )
        seen: set[str] = set()
        for variable in self.variables:
            if variable.dotted in seen:
                raise TemplateError(f"path template {self.source!r} binds {variable.dotted} twice")
            seen.add(variable.dotted)
        return Template(self.source, tuple(self.segments), tuple(self.variables), verb)

    def segments_(self) -> None:
        self.segment()
        while self.accept("/"):
            self.segment()

    def segment(self) -> None:
        if self.accept("**"):
            self.segments.append(Segment(Kind.ANY))
        elif self.accept("*"):
            self.segments.append(Segment(Kind.ONE))
        elif self.accept("{"):
            self.variable()
        else:
            self.segments.append(
                Segment(Kind.LITERAL, self.literal("a path segment (a literal, '*', '**' or a {variable})"))
            )

    def literal(self, what: str) -> str:
        start = self.pos
        while self.pos < len(self.source) and self.source[self.pos] not in _LITERAL_STOP:
            self.pos += 1
        if self.pos == start:
            raise self.fail(f"expected {what}")
        text = self.source[start : self.pos]
        try:
            return _unquote(text)
        except UnicodeDecodeError:
            raise self.fail(f"{text!r} is not UTF-8 once percent-decoded") from None

    def variable(self) -> None:
        names = [self.ident()]
        while self.accept("."):
            names.append(self.ident())
        start, variables = len(self.segments), len(self.variables)
        if self.accept("="):
            self.segments_()
            if len(self.variables) != variables:
                raise self.fail("a variable's template must not contain another variable")
        else:
            self.segments.append(Segment(Kind.ONE))
        self.take("}")
        inner = self.segments[start:]
        single = len(inner) == 1 and inner[0].kind is Kind.ONE
        self.variables.append(Variable(tuple(names), start, len(self.segments), not single))

    def ident(self) -> str:
        found = _IDENT.match(self.source, self.pos)
        if found is None:
            raise self.fail("expected a field name")
        self.pos = found.end()
        return found.group()


def parse_template(source: str) -> Template:
    """The parsed template; TemplateError says where and why it does not follow the grammar."""
    return _Parser(source).parse()
