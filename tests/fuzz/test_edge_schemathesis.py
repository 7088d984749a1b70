"""The HTTP/JSON edge fuzzed by schemathesis from its OpenAPI document, on the shared finished suite.

Every operation of the document the suite's own edge serves at /openapi.json (each annotated route,
/healthz, /readyz) gets schemathesis's three phases, in positive and negative data alike: its
coverage phase (every parameter and body property missing, of the wrong type, at and past its
bounds; every other HTTP method of the path), then hypothesis-generated requests, EXAMPLES per
operation (`max_examples`). The POST routes (documents' extract and ask) are fuzzed like the rest.
Every answer must pass the checks of CHECKS:
- not_a_server_error: no 5xx, with one exception, a 504 the request asked for: its own deadline
  (grpc-timeout or X-Request-Timeout, read as the edge reads them) had run out when the answer came.
  No 503 is accepted: in the shared suite every service is up (the fixture waits for /readyz), and
  documents runs with its model (`finished_suite` does not set OPSUITE_DOCUMENTS_USE_MODEL, so
  `opsuite up` loads it, and /readyz waits for it), so Ask answers too;
- response_schema_conformance, status_code_conformance, content_type_conformance: the answer is what
  the document says, a 200's body its response schema, any error a google.rpc.Status;
- unsupported_method, allow_header_conformance: another method on a route's path is a 405 naming
  the allowed ones in Allow, as docs/edge.md promises.
negative_data_rejection is left out: a malformed X-Request-Timeout beside a valid grpc-timeout is
ignored (grpc-timeout wins, docs/edge.md), which it counts as invalid data accepted.

The fuzz reads and asks, and writes only through documents' extract (no generated document is a
confirmation of the suite's trades, so none raises a break) and recon's break update (no generated
id is a break's): the last test checks that recon's and dq's answers, which other tests of the
shared suite read, are the same after it as before. Market's fault injection and documents' policy
ingestion are left out (WRITES_LEFT_OUT): a generated fault or policy that is valid would be taken,
and change the world the other tests of the shared suite read; tests/fuzz/test_descriptor_fuzz.py
fuzzes both RPCs on a suite of its own, and tests/edge/ calls both through the edge.

Why the pytest integration over a document built in process (`from_dict` and `schema.parametrize()`):
the suite, and so the URL, exists only once fixtures run, and the lazy `schemathesis.pytest.from_fixture`
that would load it from the URL fails on this pytest (9.2: "'Function' object has no attribute
'_nodeid'"). The document is the one the edge generates (`openapi_document(contract_routes())`), and
the first test checks that the running edge serves exactly it, so the fuzz covers what is served.
The integration gives one test per operation and the coverage phase, which `as_strategy()` does not;
the `st` CLI would run the same engine in a subprocess with its output to parse.

Budget, measured on this machine (2 cores, shared with another test run, load average 4 to 5), the
suite already up: quick mode, 60 examples per operation, 1,160 requests in 11 s; full mode (CI=true
or OPSUITE_TEST_FULL=1), 150 examples per operation (300 sent 3,080 requests in 46 s; halved to
keep the whole test run in its budget). Starting the shared suite, when no other test has, adds
about 45 s. (Before the edge set TCP_NODELAY, each answer on the kept-alive
connection waited 40 ms: 1,000 requests, 40 examples per operation, then took 48 s.)

Replaying: the summary (pytest -s) gives each operation's requests by status and the seed; a failure
shows schemathesis's failing request as a curl command, and the replay command with the seed.
Generation is seeded (each operation's seed derives from the run's): two runs with one seed sent the
same 1,160 requests in the same order. OPSUITE_EDGE_FUZZ_SEED=<seed> runs with another seed (the
default is fixed, so CI sends the same requests every run), OPSUITE_EDGE_FUZZ_EXAMPLES=<n> sends more
or fewer per operation.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from services.edge.domain.deadlines import GRPC_TIMEOUT_HEADER, REQUEST_TIMEOUT_HEADER, deadline_seconds
from services.edge.openapi import openapi_document
from services.edge.routes import contract_routes
from tests.support.finished_suite import RunningSuite
from tests.support.suites import full, scaled
from tests.support.waiting import wait_until

SEED = int(os.environ.get("OPSUITE_EDGE_FUZZ_SEED", "20200102"))
EXAMPLES = int(os.environ.get("OPSUITE_EDGE_FUZZ_EXAMPLES") or scaled(150, 60))
REQUEST_TIMEOUT_S = 60.0
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    unsupported_method,
    allow_header_conformance,
]
REPLAY = (
    f"OPSUITE_EDGE_FUZZ_SEED={SEED} OPSUITE_EDGE_FUZZ_EXAMPLES={EXAMPLES} "
    ".venv/bin/python -m pytest -s tests/fuzz/test_edge_schemathesis.py"
)
# What other tests of the shared suite read, compared before and after the fuzz.
STATE_PATHS = ("/api/recon", "/api/dataquality")

DOCUMENT = openapi_document(contract_routes())
# The writes a valid generated request would make for real on the shared suite (see the docstring).
WRITES_LEFT_OUT = ("MarketService_InjectFault", "DocumentsService_IngestPolicy")


def _config() -> schemathesis.Config:
    config = schemathesis.Config()
    config.update(seed=SEED, max_failures=None)
    project = config.projects.default
    project.phases.update(phases=["examples", "coverage", "fuzzing"])
    project.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES)
    return config


SCHEMA = schemathesis.openapi.from_dict(DOCUMENT, config=_config()).exclude(
    operation_id=list(WRITES_LEFT_OUT)
)


@dataclass(repr=False)
class Fuzz:
    url: str
    session: requests.Session
    before: dict[str, object]
    codes: dict[str, Counter[str]] = field(default_factory=dict)  # per operation: "negative 400": n
    seconds: Counter[str] = field(default_factory=Counter)
    deadlines_run_out: Counter[str] = field(default_factory=Counter)

    def record(self, case: schemathesis.Case, response: schemathesis.Response) -> None:
        mode = case.meta.generation.mode.value if case.meta is not None else "explicit"
        self.codes.setdefault(case.operation.label, Counter())[f"{mode} {response.status_code}"] += 1
        self.seconds[case.operation.label] += response.elapsed

    def summary(self) -> str:
        rows = []
        for label, codes in self.codes.items():
            shown = ", ".join(f"{key} {n}" for key, n in sorted(codes.items()))
            asked = (
                f" | 504 asked for: {self.deadlines_run_out[label]}" if self.deadlines_run_out[label] else ""
            )
            rows.append(
                f"  {label:<42} {sum(codes.values()):>5} in {self.seconds[label]:5.1f} s: {shown}{asked}"
            )
        total = sum(sum(c.values()) for c in self.codes.values())
        return "\n".join(
            [
                f"edge fuzz (schemathesis {schemathesis.__version__}): {total:,} requests to {self.url}, "
                f"seed {SEED}, {EXAMPLES} examples per operation ({'full' if full() else 'quick'} mode)",
                *rows,
                f"  replay: {REPLAY}",
            ]
        )


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=10).status_code == 200
    except httpx.TransportError:  # opsuite up starts the edge last: it may not listen yet
        return False


def _state(url: str) -> dict[str, object]:
    return {path: httpx.get(f"{url}{path}", timeout=30).json() for path in STATE_PATHS}


@pytest.fixture(scope="module")
def fuzz(finished_suite: RunningSuite) -> Iterator[Fuzz]:
    url = finished_suite.edge_url
    wait_until(
        lambda: _ready(url),
        timeout=180,
        what="the suite's edge to be ready (every service SERVING, documents' model loaded)",
    )
    print(f"\nedge fuzz: seed {SEED}, {EXAMPLES} examples per operation, against {url}")
    with requests.Session() as session:
        fuzzing = Fuzz(url, session, _state(url))
        started = time.monotonic()
        yield fuzzing
        print(f"\n{fuzzing.summary()}\n  took {time.monotonic() - started:.1f} s")


def _deadline_ran_out(response: schemathesis.Response) -> bool:
    """A 504 the request asked for: it gave a deadline (grpc-timeout or X-Request-Timeout) and that
    much time had passed when the answer came, so the service really was too slow for it."""
    if response.status_code != 504:
        return False
    headers = {name.lower(): str(value) for name, value in response.request.headers.items()}
    if GRPC_TIMEOUT_HEADER not in headers and REQUEST_TIMEOUT_HEADER not in headers:
        return False  # the edge's default of 30 s: no service of a finished suite is that slow
    try:
        asked = deadline_seconds(headers, 0.0)
    except ValueError:
        return False  # a header the edge refuses is a 400, never a 504
    try:
        code = json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        return False  # not the edge's google.rpc.Status
    return response.elapsed >= asked and code == 4


def test_the_suites_edge_serves_the_document_fuzzed(fuzz: Fuzz) -> None:
    served = httpx.get(f"{fuzz.url}/openapi.json", timeout=30).json()
    assert served == DOCUMENT, "the running edge serves another document than the one fuzzed here"


@pytest.mark.slow
@SCHEMA.parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented_and_never_fails(case: schemathesis.Case, fuzz: Fuzz) -> None:
    response = case.call(base_url=fuzz.url, session=fuzz.session, timeout=REQUEST_TIMEOUT_S)
    fuzz.record(case, response)
    checks = CHECKS
    if _deadline_ran_out(response):
        fuzz.deadlines_run_out[case.operation.label] += 1
        checks = [c for c in CHECKS if c is not not_a_server_error]
    try:
        case.validate_response(response, checks=checks)
    except (AssertionError, BaseExceptionGroup) as failed:  # a check's Failure, or several (FailureGroup)
        failed.add_note(f"replay (seed {SEED}): {REPLAY}")
        raise


def test_the_fuzz_left_the_suite_serving_and_as_it_found_it(fuzz: Fuzz) -> None:
    assert httpx.get(f"{fuzz.url}/readyz", timeout=10).status_code == 200
    after = _state(fuzz.url)
    for path in STATE_PATHS:
        assert after[path] == fuzz.before[path], f"{path} answers otherwise after the fuzz"
