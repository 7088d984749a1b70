"""Structured logs: one JSON object a line on stderr, carrying the current trace ids.

A log line that names the trace id can be joined with the trace in Jaeger and
with the combined event log, which is why every record looks up the current
OpenTelemetry span when it is formatted (formatting runs synchronously in the
caller's context, so the span is the caller's).
"""

from __future__ import annotations

import datetime
import logging
import sys
import threading
from decimal import Decimal
from types import TracebackType
from typing import Any

from opentelemetry import trace
from pythonjsonlogger.core import RESERVED_ATTRS, merge_record_extra
from pythonjsonlogger.json import JsonFormatter

# Libraries that log every connection or export attempt at INFO drown the service's own lines.
_QUIET_LOGGERS = ("grpc", "urllib3", "opentelemetry")


class _OpsuiteJsonFormatter(JsonFormatter):
    """Fixed leading keys (time, level, service, logger, message, trace ids), then any extra= fields."""

    def __init__(self, service: str) -> None:
        super().__init__(reserved_attrs=[*RESERVED_ATTRS, "message", "asctime"], json_default=_json_default)
        self.service = service

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["service"] = self.service
        log_data["logger"] = record.name
        log_data["message"] = record.message
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            log_data["trace_id"] = trace.format_trace_id(span_context.trace_id)
            log_data["span_id"] = trace.format_span_id(span_context.span_id)
        log_data.update(message_dict)
        merge_record_extra(record, log_data, reserved=self._skip_fields)


def _json_default(value: object) -> object:
    # Decimals stay exact in logs: a float would print 0.1 + 0.2 wrongly.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    return str(value)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at emit time, so redirection (and pytest's capture) is honoured."""

    opsuite_handler = True

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record of the process to stderr as one JSON line. Calling it again reconfigures."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "opsuite_handler", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(_OpsuiteJsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def route_uncaught_exceptions() -> None:
    """Exceptions Python would print as bare tracebacks (in a thread, in a __del__ during
    shutdown, uncaught in the main thread) become JSON records too: one line a record, always."""
    log = logging.getLogger("opsuite.uncaught")

    def in_thread(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "?"
        log.error(
            "uncaught exception in thread %s",
            name,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
        )

    def unraisable(hook: Any) -> None:
        exc_info = (hook.exc_type, hook.exc_value, hook.exc_traceback)
        log.warning("%s %r", hook.err_msg or "exception ignored in", hook.object, exc_info=exc_info)

    def uncaught(exc_type: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.critical("uncaught exception", exc_info=(exc_type, value, tb))

    threading.excepthook = in_thread
    sys.unraisablehook = unraisable
    sys.excepthook = uncaught
