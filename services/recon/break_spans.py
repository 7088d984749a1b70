"""A span per break opened, so a break is followed from the tick that caused it.

Each break opened gets a "recon.break" span whose parent is the span of the first market event
in its caused_by (the fill: its own trace), linked to the check's span; the break records that
trace id, and its traceparent is remembered in the followed state so the suspense journal
posted for it later is the child of the break's span.
"""

from __future__ import annotations

import dataclasses

from opentelemetry import trace

from services.common import telemetry
from services.recon.domain.breaks import Advanced
from services.recon.domain.followed import FollowedState
from services.recon.domain.records import Break

_tracer = telemetry.tracer("opsuite.recon")


def trace_opened(advanced: Advanced, state: FollowedState) -> Advanced:
    """`advanced` with each opened break's trace id set from its span (started once per break)."""
    if not advanced.opened:
        return advanced
    check_span = trace.get_current_span().get_span_context()
    retraced: dict[str, Break] = {}
    for brk in advanced.opened:
        traceparent = state.break_traceparents.get(brk.break_id)
        if traceparent is None:  # not already done by an attempt that met a StaleRead
            parent = next((state.traceparents[e] for e in brk.caused_by if e in state.traceparents), "")
            span = _tracer.start_span(
                "recon.break",
                context=telemetry.context_from_traceparent(parent) if parent else None,
                links=[trace.Link(check_span)] if check_span.is_valid else None,
                attributes={
                    "break.id": brk.break_id,
                    "break.kind": brk.kind.value,
                    "mandate.id": brk.mandate_id,
                    "break.caused_by": list(brk.caused_by),
                },
            )
            with trace.use_span(span, end_on_exit=True):
                traceparent = telemetry.current_traceparent()
            state.break_traceparents[brk.break_id] = traceparent
        trace_id = telemetry.trace_id_of(traceparent)
        retraced[brk.break_id] = dataclasses.replace(brk, trace_id=trace_id or brk.trace_id)

    def swap(breaks: tuple[Break, ...]) -> tuple[Break, ...]:
        return tuple(retraced.get(b.break_id, b) for b in breaks)

    return Advanced(
        breaks=swap(advanced.breaks),
        actions=advanced.actions,
        opened=swap(advanced.opened),
        resolved=advanced.resolved,
        changed=swap(advanced.changed),
    )
