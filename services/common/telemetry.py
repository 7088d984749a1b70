"""OpenTelemetry for every service: providers, OTLP export, gRPC instrumentation, trace context helpers.

Only the standard OTEL_* variables configure it. Without an OTLP endpoint the
SDK still creates spans (so trace ids reach logs, events and the event log)
but exports nothing.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from typing import cast

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer, filters
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_log = logging.getLogger(__name__)


def _server_streaming_methods() -> tuple[str, ...]:
    """ "/pkg.Service/Method" of every server-streaming RPC of the contract (StreamEvents, WatchBreaks, ...).

    Such streams live as long as the subscriber: one span per stream would never end, so never be
    exported; the stream client makes one span per batch instead. Read from the descriptors, so a
    new streaming RPC is excluded the day it is added to protos/.
    """
    import opsuite

    methods = []
    for module_info in pkgutil.walk_packages(opsuite.__path__, "opsuite."):
        if not module_info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(module_info.name)
        for service in module.DESCRIPTOR.services_by_name.values():
            methods += [
                f"/{m.full_name.rpartition('.')[0]}/{m.name}" for m in service.methods if m.server_streaming
            ]
    return tuple(sorted(methods))


LONG_LIVED_METHODS = _server_streaming_methods()
# Probes and grpcurl's reflection calls are noise in a trace view; the aio health
# Watch also writes with context.write(), which the instrumentation breaks.
UNTRACED_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection")

_propagator = TraceContextTextMapPropagator()
_state: dict[str, object] = {}


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _export_enabled(signal: str) -> bool:
    """OTLP export of one signal (traces, metrics) is on when an endpoint for it is configured."""
    if os.environ.get(f"OTEL_{signal.upper()}_EXPORTER", "").strip().lower() == "none":
        return False
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT", "").strip()
    )


_untraced = filters.any_of(
    *(filters.full_method_name(name) for name in LONG_LIVED_METHODS),
    *(filters.service_name(name) for name in UNTRACED_SERVICES),
)


def _rpc_is_traced(details: object) -> bool:
    """The instrumentation's filter: True means make a span for this RPC."""
    return not _untraced(details)


def init_telemetry(service: str) -> None:
    """Set the global tracer and meter providers and instrument grpc.aio. Call before any server or channel."""
    if _state.get("initialized"):
        return
    _state["initialized"] = True
    if _truthy("OTEL_SDK_DISABLED"):
        _log.info("OpenTelemetry disabled by OTEL_SDK_DISABLED")
        return

    name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or f"opsuite-{service}"
    resource = Resource.create({SERVICE_NAME: name})

    tracer_provider = TracerProvider(resource=resource)
    if _export_enabled("traces"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)

    readers: list[MetricReader] = []
    if _export_enabled("metrics"):
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    metrics.set_meter_provider(meter_provider)
    _state["providers"] = (tracer_provider, meter_provider)

    # Both instrumentors patch grpc.aio.server / insecure_channel / secure_channel, so
    # they only affect servers and channels created after this point.
    GrpcAioInstrumentorServer(filter_=_rpc_is_traced).instrument()  # type: ignore[no-untyped-call]
    GrpcAioInstrumentorClient(filter_=_rpc_is_traced).instrument()  # type: ignore[no-untyped-call]
    _log.debug("telemetry initialised", extra={"otel_service_name": name})


def shutdown_telemetry() -> None:
    """Flush pending spans and metrics and stop the exporters; safe to call more than once."""
    providers = cast("tuple[TracerProvider, MeterProvider] | None", _state.pop("providers", None))
    if providers is None:
        return
    for provider in providers:
        try:
            provider.force_flush()
            provider.shutdown()
        except Exception:  # a collector that went away must not turn a clean exit into a crash
            _log.warning("telemetry flush failed", exc_info=True)


def current_traceparent() -> str:
    """The W3C traceparent of the current span, "" when there is none."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent", "")


def context_from_traceparent(traceparent: str) -> otel_context.Context:
    """A context whose parent span is the one `traceparent` names; empty when it is empty or invalid.

    Starts from an empty context, not the current one, so a span started in it
    never inherits an unrelated ambient parent.
    """
    if not traceparent:
        return otel_context.Context()
    return _propagator.extract({"traceparent": traceparent}, context=otel_context.Context())


def trace_id_of(traceparent: str) -> str:
    """The 32 lowercase hex digits of the trace id in `traceparent`, "" when it is not valid."""
    span_context = trace.get_current_span(context_from_traceparent(traceparent)).get_span_context()
    return trace.format_trace_id(span_context.trace_id) if span_context.is_valid else ""


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def meter(name: str) -> metrics.Meter:
    return metrics.get_meter(name)
