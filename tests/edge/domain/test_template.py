"""Path templates as google/api/http.proto defines them: the grammar, matching, decoding, precedence."""

from __future__ import annotations

import pytest

from services.edge.domain.template import Kind, TemplateError, parse_template


def test_a_plain_variable_is_one_segment() -> None:
    template = parse_template("/api/reporting/report/{mandate_id}")
    assert [s.kind for s in template.segments] == [Kind.LITERAL, Kind.LITERAL, Kind.LITERAL, Kind.ONE]
    assert template.match("/api/reporting/report/BAL-USD") == {"mandate_id": "BAL-USD"}
    assert template.match("/api/reporting/report") is None
    assert template.match("/api/reporting/report/BAL-USD/x") is None
    assert template.match("/api/reporting/report/") is None  # an empty segment is no value
    assert template.match("/api/reporting/reports/BAL-USD") is None


def test_a_single_segment_variable_is_decoded_whole() -> None:
    # http.proto: "{var}" is expanded with every character but [-_.~0-9a-zA-Z] percent-encoded;
    # the server does the reverse, %2F included.
    template = parse_template("/v1/{name}")
    raw = template.match("/v1/a%2Fb%20c%C3%A9")
    assert raw == {"name": "a%2Fb%20c%C3%A9"}
    assert template.decode(raw) == {"name": "a/b cé"}


def test_a_nested_field_path() -> None:
    template = parse_template("/v1/shelves/{shelf.id}/books/{book_id}")
    assert [v.field_path for v in template.variables] == [("shelf", "id"), ("book_id",)]
    assert template.match("/v1/shelves/s1/books/b2") == {"shelf.id": "s1", "book_id": "b2"}


def test_a_multi_segment_variable_keeps_encoded_slashes_and_a_verb() -> None:
    # http.proto: for "{var=foo/*}" the server decodes all but "%2F" and "%2f", which stay as sent.
    template = parse_template("/v1/{name=shelves/*/books/*}:rename")
    assert template.verb == "rename"
    raw = template.match("/v1/shelves/s%201/books/b%2F2:rename")
    assert raw == {"name": "shelves/s%201/books/b%2F2"}
    assert template.decode(raw) == {"name": "shelves/s 1/books/b%2F2"}
    assert template.match("/v1/shelves/s1/books/b2") is None  # the verb is part of the template
    assert template.match("/v1/shelves/s1/authors/b2:rename") is None  # the literal inside the variable
    assert template.match("/v1/shelves/s1/books/b2:publish") is None


def test_double_wildcard_takes_the_rest_of_the_path_even_none() -> None:
    template = parse_template("/v1/files/{path=**}")
    assert template.match("/v1/files/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert template.match("/v1/files/a") == {"path": "a"}
    assert template.match("/v1/files") == {"path": ""}
    assert template.match("/v1/file") is None
    unnamed = parse_template("/v1/**")
    assert unnamed.match("/v1/x/y") == {} and unnamed.wildcard_count == 1


def test_literals_are_compared_decoded() -> None:
    template = parse_template("/v1/books")
    assert template.match("/v1/b%6Foks") == {}
    assert template.match("/v1/%FF") is None  # not UTF-8: no match, and no exception


def test_a_value_that_is_not_utf8_is_refused_when_decoded() -> None:
    template = parse_template("/v1/{name}")
    raw = template.match("/v1/%FF")
    assert raw == {"name": "%FF"}
    with pytest.raises(ValueError, match="not UTF-8"):
        template.decode(raw)


def test_a_variable_before_double_wildcard_keeps_its_own_segment() -> None:
    template = parse_template("/v1/{a}/**")
    assert template.match("/v1/x/y/z") == {"a": "x"}
    assert template.verb == ""


def test_a_double_wildcard_variable_keeps_encoded_slashes() -> None:
    template = parse_template("/v1/files/{path=**}")
    assert template.variables[0].multi_segment
    assert template.decode({"path": "a%2Fb/c%20d"}) == {"path": "a%2Fb/c d"}
    assert not parse_template("/v1/{a=*}").variables[0].multi_segment
    assert parse_template("/v1/{a=*}").decode({"a": "x%2Fy"}) == {"a": "x/y"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("api/x", "path template 'api/x' must start with '/'"),
        ("/v1/**/x", "path template '/v1/**/x': '**' must be the last segment (it is segment 2)"),
        (
            "/v1/{a={b}}/x",
            "path template '/v1/{a={b}}/x', at character 11: a variable's template must not contain another variable",
        ),
        ("/v1/{a}/{a}", "path template '/v1/{a}/{a}' binds a twice"),
        (
            "/v1/",
            "path template '/v1/', at character 5: expected a path segment (a literal, '*', '**' or a {variable})",
        ),
        ("/v1/{1a}", "path template '/v1/{1a}', at character 6: expected a field name"),
        ("/v1/{a.}", "path template '/v1/{a.}', at character 8: expected a field name"),
        ("/v1/{a", "path template '/v1/{a', at character 7: expected '}'"),
        ("/v1/{a=x/*", "path template '/v1/{a=x/*', at character 11: expected '}'"),
        ("/v1:", "path template '/v1:', at character 5: expected a verb after ':'"),
        ("/v1/x:y/z", "path template '/v1/x:y/z', at character 8: unexpected '/'"),
        ("/v1/a}b", "path template '/v1/a}b', at character 6: unexpected '}'"),
        ("/v1/%FF", "path template '/v1/%FF', at character 8: '%FF' is not UTF-8 once percent-decoded"),
    ],
)
def test_refusals_say_where(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as refused:
        parse_template(source)
    assert str(refused.value) == message


def test_a_whole_template_parses_to_its_parts() -> None:
    template = parse_template("/v1/*/{a.b}/{c=x/**}:go")
    assert [(s.kind, s.text) for s in template.segments] == [
        (Kind.LITERAL, "v1"),
        (Kind.ONE, ""),
        (Kind.ONE, ""),
        (Kind.LITERAL, "x"),
        (Kind.ANY, ""),
    ]
    assert [(v.field_path, v.start, v.end, v.multi_segment) for v in template.variables] == [
        (("a", "b"), 2, 3, False),
        (("c",), 3, 5, True),
    ]
    assert template.verb == "go"
    assert template.match("/v1/w/b/x/y/z:go") == {"a.b": "b", "c": "x/y/z"}
    assert template.wildcard_count == 1


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("api/x", "must start with '/'"),
        ("/v1/**/x", "'\\*\\*' must be the last segment"),
        ("/v1/{a={b}}", "must not contain another variable"),
        ("/v1/{a}/{a}", "binds a twice"),
        ("/v1/", "expected a path segment"),
        ("/v1/{1a}", "expected a field name"),
        ("/v1/{a", "expected '}'"),
        ("/v1:", "expected a verb"),
        ("/v1/x:y/z", "unexpected '/'"),
        ("/v1/a}b", "unexpected '}'"),
    ],
)
def test_templates_outside_the_grammar_are_refused_saying_why(source: str, why: str) -> None:
    with pytest.raises(TemplateError, match=why):
        parse_template(source)


def test_specificity_prefers_a_verb_then_literals_then_single_wildcards() -> None:
    sources = ["/v1/{name=**}", "/v1/*/books", "/v1/shelves/{b}", "/v1/shelves/books", "/v1/{c}:x"]
    ordered = sorted((parse_template(s) for s in sources), key=lambda t: t.specificity)
    assert [t.source for t in ordered] == [
        "/v1/{c}:x",
        "/v1/shelves/books",
        "/v1/shelves/{b}",
        "/v1/*/books",
        "/v1/{name=**}",
    ]


def test_openapi_paths() -> None:
    assert (
        parse_template("/api/reporting/report/{mandate_id}").openapi_path()
        == "/api/reporting/report/{mandate_id}"
    )
    assert parse_template("/v1/{name=shelves/*/books/*}:rename").openapi_path() == "/v1/{name}:rename"
    assert parse_template("/v1/{a.b}/x/*/{c=**}").openapi_path() == "/v1/{a.b}/x/{wildcard1}/{c}"
    assert parse_template("/v1/*/x/**").openapi_path() == "/v1/{wildcard1}/x/{wildcard2}"
