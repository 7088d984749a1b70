"""Path, query string and body into the request message; the response message into JSON."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from google.api import http_pb2
from google.protobuf import json_format

from services.edge.routes import Found, RouteTable, build_routes, contract_routes
from services.edge.transcode import BadRequest, build_request, parse_query, response_json
from tests.edge.edgetest import edgetest_file, message_class, with_rule


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return build_routes([edgetest_file()])


def request_of(table: RouteTable, method: str, target: str, body: bytes = b"") -> dict[str, object]:
    """The request the edge would send for `method target` with `body`, as proto3 JSON (proto names)."""
    path, _, query = target.partition("?")
    found = table.lookup(method, path)
    assert isinstance(found, Found), found
    message = build_request(
        found.route, found.route.template.decode(found.raw_values), parse_query(query.encode()), body
    )
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def refusal(table: RouteTable, method: str, target: str, body: bytes = b"") -> dict[str, str]:
    with pytest.raises(BadRequest) as refused:
        request_of(table, method, target, body)
    return {v.field: v.description for v in refused.value.violations}


def test_path_variables_set_their_fields_nested_ones_too(table: RouteTable) -> None:
    assert request_of(table, "GET", "/v1/shelves/s%201/books/b2?with_notes=true") == {
        "shelf": {"id": "s 1"},
        "book_id": "b2",
        "with_notes": True,
    }
    assert request_of(table, "GET", "/v1/books/b9") == {"book_id": "b9"}  # the additional binding


def test_a_multi_segment_variable_and_the_rest_of_the_body(table: RouteTable) -> None:
    assert request_of(table, "POST", "/v1/shelves/a/books/b:rename", b'{"newTitle": "T"}') == {
        "name": "shelves/a/books/b",
        "new_title": "T",
    }


def test_body_field_with_a_path_variable_inside_it_and_the_rest_from_the_query(table: RouteTable) -> None:
    body = b'{"title": "Dune", "pages": "412", "name": "ignored: the path sets it"}'
    assert request_of(table, "PATCH", "/v1/shelves/a/books/b?validate_only=1", body) == {
        "book": {"name": "shelves/a/books/b", "title": "Dune", "pages": "412"},
        "validate_only": True,
    }


def test_query_fields_of_every_kind(table: RouteTable) -> None:
    query = (
        "i32=-7&i64=9007199254740993&u64=18446744073709551615&flag=TRUE&ratio=0.25&small=NaN&blob=aGk%3D"
        "&genre=GENRE_HISTORY&tags=a&tags=b%20c&genres=1&genres=GENRE_HISTORY&counts=1&counts=-2"
        "&at=2020-03-16T13:30:00Z&wait=1.5s&maybe=0&maybe_flag=false&node.label=n&node.child.label=m"
        "&chosen=0&left=L"
    )
    assert request_of(table, "GET", f"/v1/echo?{query}") == {
        "i32": -7,
        "i64": "9007199254740993",
        "u64": "18446744073709551615",
        "flag": True,
        "ratio": 0.25,
        "small": "NaN",
        "blob": "aGk=",
        "genre": "GENRE_HISTORY",
        "tags": ["a", "b c"],
        "genres": ["GENRE_FICTION", "GENRE_HISTORY"],
        "counts": ["1", "-2"],
        "at": "2020-03-16T13:30:00Z",
        "wait": "1.500s",  # json_format writes 3, 6 or 9 decimals
        "maybe": "0",  # a wrapper set to its default is still set
        "maybe_flag": False,
        "node": {"label": "n", "child": {"label": "m"}},
        "chosen": 0,  # an optional field set to 0 is present
        "left": "L",
    }


def test_query_names_may_be_json_names(table: RouteTable) -> None:
    assert request_of(table, "GET", "/v1/echo?maybeFlag=true&node.child.label=x") == {
        "maybe_flag": True,
        "node": {"child": {"label": "x"}},
    }


def test_every_bad_query_parameter_is_named_at_once(table: RouteTable) -> None:
    problems = refusal(
        table,
        "GET",
        "/v1/echo?i32=x&flag=maybe&genre=GENRE_SCIFI&at=yesterday&nope=1&node=3&scores=1&nodes.label=a&i64=1&i64=2",
    )
    assert set(problems) == {"i32", "flag", "genre", "at", "nope", "node", "scores", "nodes.label", "i64"}
    assert "'maybe' is not a boolean" in problems["flag"]
    assert "give one of GENRE_UNSPECIFIED, GENRE_FICTION, GENRE_HISTORY" in problems["genre"]
    assert "has no field 'nope'" in problems["nope"]
    assert "give each of its fields as its own parameter" in problems["node"]
    assert "map" in problems["scores"]
    assert "nodes is repeated" in problems["nodes.label"]
    assert "a repeated message" in refusal(table, "GET", "/v1/echo?nodes=x")["nodes"]
    assert "given 2 times" in problems["i64"]


def test_the_path_and_the_body_field_are_not_taken_from_the_query(table: RouteTable) -> None:
    assert "the path sets book_id" in refusal(table, "GET", "/v1/books/b1?book_id=b2")["book_id"]
    assert "the path sets shelf.id" in refusal(table, "GET", "/v1/shelves/s/books/b?shelf.id=t")["shelf.id"]
    assert (
        "is this route's body"
        in refusal(table, "PATCH", "/v1/shelves/a/books/b?book.title=x", b"{}")["book.title"]
    )


def test_body_star_takes_nothing_from_the_query_and_nothing_the_path_sets(table: RouteTable) -> None:
    assert (
        "none in the query string"
        in refusal(table, "POST", "/v1/shelves/a/books/b:rename?new_title=x")["new_title"]
    )
    assert (
        "leave it out of the body"
        in refusal(table, "POST", "/v1/shelves/a/books/b:rename", b'{"name": "x"}')["name"]
    )


def test_bodies_that_cannot_be_read(table: RouteTable) -> None:
    assert refusal(table, "POST", "/v1/echo", b'{"i32": 1,}')["body"].startswith("not JSON: ")
    assert "give a JSON object" in refusal(table, "POST", "/v1/echo", b"[1, 2]")["body"]
    assert "unknown field 'i33'" in refusal(table, "POST", "/v1/echo", b'{"i33": 1}')["i33"]
    assert (
        "unknown field 'labl'" in refusal(table, "POST", "/v1/echo", b'{"node": {"labl": "x"}}')["node.labl"]
    )
    assert "takes no body" in refusal(table, "GET", "/v1/echo", b'{"i32": 1}')["body"]
    assert "not UTF-8" in refusal(table, "POST", "/v1/echo", b'{"tags": ["\xff"]}')["body"]
    assert set(refusal(table, "POST", "/v1/echo", b'{"i32": "many"}')) == {"i32"}


def test_bodies_pythons_parser_gives_up_on_are_refused_not_failed(table: RouteTable) -> None:
    """json.loads raises RecursionError on arrays or objects nested about a thousand deep, and
    ValueError on an integer of more than 4,300 digits: both were a 500 (found probing the edge
    beside the schemathesis fuzz, tests/fuzz/test_edge_schemathesis.py)."""
    deep = b"[" * 100_000 + b"]" * 100_000
    assert refusal(table, "POST", "/v1/echo", deep) == {
        "body": "JSON nested too deeply to read: no request nests so far"
    }
    nested = b'{"node": ' + b'{"child": ' * 5_000 + b"{}" + b"}" * 5_001
    assert refusal(table, "POST", "/v1/echo", nested) == {
        "body": "JSON nested too deeply to read: no request nests so far"
    }
    long_number = b'{"i64": ' + b"1" * 5_000 + b"}"
    assert refusal(table, "POST", "/v1/echo", long_number) == {
        "body": "a JSON number of more than 4,300 digits: no field takes one"
    }
    assert "i64" in refusal(table, "POST", "/v1/echo", b'{"i64": ' + b"9" * 4_000 + b"}")  # parsed: too large


def test_an_empty_body_is_an_empty_request(table: RouteTable) -> None:
    assert request_of(table, "POST", "/v1/echo", b"") == {}
    assert request_of(table, "POST", "/v1/echo", b"  \n") == {}


def test_responses_are_proto3_json_and_response_body_picks_one_field(table: RouteTable) -> None:
    routes = {r.method.name: r for r in table.routes if r.binding == 0}
    book = message_class("Book")
    listed = message_class("ListBooksResponse")(
        books=[book(name="x", pages=10**15, genre=2)], next_page_token="t"
    )
    assert response_json(routes["ListBooks"], listed) == [
        {"name": "x", "pages": "1000000000000000", "genre": "GENRE_HISTORY"}
    ]
    assert response_json(routes["ListBooks"], message_class("ListBooksResponse")()) == []
    message = message_class("EchoMessage")(i64=5, counts=[1], genre=1)
    message.at.FromDatetime(dt.datetime(2020, 3, 16, 13, 30, tzinfo=dt.UTC))
    assert json.loads(json.dumps(response_json(routes["Echo"], message))) == {
        "i64": "5",
        "counts": ["1"],
        "genre": "GENRE_FICTION",
        "at": "2020-03-16T13:30:00Z",
    }


def test_the_contracts_routes() -> None:
    table = contract_routes()
    assert request_of(
        table, "GET", "/api/reporting/report/BAL-USD?as_of.year=2020&as_of.month=2&as_of.day=28"
    ) == {
        "mandate_id": "BAL-USD",
        "as_of": {"year": 2020, "month": 2, "day": 28},
    }
    assert request_of(
        table,
        "GET",
        "/api/ledger?mandate_id=BAL-USD&kind=JOURNAL_KIND_TRADE&dates.start.year=2020&page_size=5",
    ) == {
        "mandate_id": "BAL-USD",
        "kind": "JOURNAL_KIND_TRADE",
        "dates": {"start": {"year": 2020}},
        "page_size": 5,
    }
    assert request_of(table, "POST", "/api/documents/ask", b'{"question": "Why?", "policyIds": ["p1"]}') == {
        "question": "Why?",
        "policy_ids": ["p1"],
    }


def test_a_path_value_its_field_cannot_take_is_refused_naming_it() -> None:
    table = build_routes([with_rule("Echo", http_pb2.HttpRule(get="/v1/echo/{i32}/{genre}/{flag}"))])
    assert request_of(table, "GET", "/v1/echo/-3/GENRE_FICTION/true") == {
        "i32": -3,
        "genre": "GENRE_FICTION",
        "flag": True,
    }
    problems = refusal(table, "GET", "/v1/echo/three/GENRE_SCIFI/yes")
    assert set(problems) == {"i32", "genre", "flag"}
    assert (
        "three" in problems["i32"]
        and "GENRE_SCIFI" in problems["genre"]
        and "'yes' is not a boolean" in problems["flag"]
    )
