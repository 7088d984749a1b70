"""Fixtures of the platform tests: an in-memory span exporter on the global tracer provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
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
