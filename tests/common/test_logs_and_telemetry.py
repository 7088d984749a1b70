from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common import telemetry
from services.common.logs import configure_logging, route_uncaught_exceptions


@pytest.fixture
def json_logging() -> Iterator[None]:
    """configure_logging on the root logger, restored afterwards so other tests keep their logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_log_line_is_json_with_trace_ids_inside_a_span(
    json_logging: None, spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("recon", "INFO")
    configure_logging("recon", "INFO")  # idempotent: still one line a record
    log = logging.getLogger("opsuite.test")
    with telemetry.tracer("test").start_as_current_span("work") as span:
        log.info("break %s opened", "BRK-1", extra={"break_id": "BRK-1", "age_days": 2})
    log.info("outside any span")
    log.debug("below the level")

    records = _json_lines(capsys.readouterr().err)
    assert len(records) == 2
    inside, outside = records
    context = span.get_span_context()
    assert inside["message"] == "break BRK-1 opened"
    assert inside["service"] == "recon"
    assert inside["level"] == "INFO"
    assert inside["logger"] == "opsuite.test"
    assert inside["trace_id"] == trace.format_trace_id(context.trace_id)
    assert inside["span_id"] == trace.format_span_id(context.span_id)
    assert inside["break_id"] == "BRK-1"
    assert inside["age_days"] == 2
    assert str(inside["time"]).endswith("+00:00")
    assert "trace_id" not in outside


def test_traceparent_round_trip(spans: InMemorySpanExporter) -> None:
    assert telemetry.current_traceparent() == ""
    with telemetry.tracer("test").start_as_current_span("produce") as span:
        traceparent = telemetry.current_traceparent()
    context = span.get_span_context()
    assert telemetry.trace_id_of(traceparent) == trace.format_trace_id(context.trace_id)
    with telemetry.tracer("test").start_as_current_span(
        "consume", context=telemetry.context_from_traceparent(traceparent)
    ) as child:
        pass
    assert child.parent is not None
    assert child.parent.span_id == context.span_id
    assert child.get_span_context().trace_id == context.trace_id


@pytest.mark.parametrize("bad", ["", "garbage", "00-00000000000000000000000000000000-0000000000000000-01"])
def test_invalid_traceparent_gives_empty_results(bad: str) -> None:
    assert telemetry.trace_id_of(bad) == ""
    assert not trace.get_current_span(telemetry.context_from_traceparent(bad)).get_span_context().is_valid


def test_exceptions_python_would_print_raw_become_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    saved = (threading.excepthook, sys.unraisablehook, sys.excepthook)
    try:
        configure_logging("test-service")
        route_uncaught_exceptions()
        capsys.readouterr()

        def fail() -> None:
            raise RuntimeError("boom in a thread")

        worker = threading.Thread(target=fail, name="worker-1")
        worker.start()
        worker.join()
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    finally:
        threading.excepthook, sys.unraisablehook, sys.excepthook = saved
    assert lines, "nothing was logged"
    records = [json.loads(line) for line in lines]  # every line is one JSON record
    [record] = records
    assert "worker-1" in record["message"] and "boom in a thread" in record["exc_info"]


class _Call(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


def test_every_server_stream_of_the_contract_is_left_untraced_and_unary_calls_are_traced() -> None:
    from opsuite.dq.v1 import dq_pb2
    from opsuite.market.v1 import market_pb2
    from opsuite.recon.v1 import recon_pb2
    from services.common.telemetry import _rpc_is_traced

    streams = {
        "/opsuite.market.v1.MarketService/StreamEvents",
        "/opsuite.recon.v1.ReconService/WatchBreaks",
        "/opsuite.dq.v1.DqService/WatchIssues",
    }
    for module in (market_pb2, recon_pb2, dq_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                path = f"/{service.full_name}/{method.name}"
                assert _rpc_is_traced(_Call(path)) is (path not in streams), path
    assert not _rpc_is_traced(_Call("/grpc.health.v1.Health/Check"))
    # A unary method that happens to share a streaming method's name elsewhere is still traced.
    assert _rpc_is_traced(_Call("/opsuite.ledger.v1.LedgerService/StreamEvents"))
