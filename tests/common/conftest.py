"""Fixtures of the platform tests: in-memory span exporter and metric reader on the global providers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_exporter = InMemorySpanExporter()
_installed: list[bool] = []


def _install() -> None:
    """Attach the exporter once per process to whichever SDK provider is global (setting one if none is)."""
    if _installed:
        return
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "a non-SDK tracer provider is installed globally"
    provider.add_span_processor(SimpleSpanProcessor(_exporter))
    _installed.append(True)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans finished during the test (the exporter is cleared before and after)."""
    _install()
    _exporter.clear()
    yield _exporter
    _exporter.clear()


_metric_reader = InMemoryMetricReader()
_metrics_installed: list[bool] = []


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    """Reads the global meter provider's instruments (installed once; skips if a foreign one is set)."""
    if not _metrics_installed:
        if isinstance(metrics.get_meter_provider(), MeterProvider):
            pytest.skip("another SDK meter provider is already global in this process")
        metrics.set_meter_provider(MeterProvider(metric_readers=[_metric_reader]))
        _metrics_installed.append(True)
    return _metric_reader
