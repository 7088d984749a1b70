"""Each panel's payload from its feed's state: the HTML fragment (rendered by render.py's templates)
and, for the NAV panel, the mandates its charts can show. A payload says whether the panel is stale
(its service is away and the figures are the last it sent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from services.edge.dashboard.domain.breaks import summarize
from services.edge.dashboard.domain.chain import break_href, trace_href
from services.edge.dashboard.domain.issues import newest, severity_counts
from services.edge.dashboard.domain.ledger import cash_and_suspense, root_totals, suspense_total
from services.edge.dashboard.domain.nav import NavFigures, figures
from services.edge.dashboard.feed import LIVE, Feed
from services.edge.dashboard.feeds import BreaksFeed, ClockFeed, DocumentsFeed, DqFeed, LedgerFeed, NavFeed
from services.edge.dashboard.hub import Payload
from services.edge.dashboard.render import Renderer

BREAK_ROWS = 25
ISSUE_ROWS = 15
HELPERS = {"break_href": break_href, "trace_href": trace_href}


def _payload(renderer: Renderer, template: str, feed: Feed, **context: Any) -> dict[str, Any]:
    a = feed.availability
    html = renderer.fragment(template, a=a, **HELPERS, **context)
    return {"html": html, "stale": a.stale, "state": a.state, "service": a.service}


def clock(renderer: Renderer, feed: ClockFeed) -> Payload:
    return _payload(renderer, "panels/clock.html", feed, clock=feed.clock)


def breaks(renderer: Renderer, feed: BreaksFeed) -> Payload:
    summary = summarize(feed.book.items(), limit=BREAK_ROWS, buckets=sorted(feed.buckets))
    return _payload(renderer, "panels/breaks.html", feed, s=summary)


def nav_rows(feed: NavFeed) -> list[NavFigures]:
    return [
        figures(feed.series[m], feed.names[m].name if m in feed.names else "") for m in sorted(feed.series)
    ]


def nav(renderer: Renderer, feed: NavFeed) -> Payload:
    rows = nav_rows(feed)
    payload = _payload(renderer, "panels/nav.html", feed, rows=rows)
    # The charts outside the swapped HTML read a mandate's series from /dashboard/nav/<id> when the
    # panel changes; they need the mandates to choose from.
    payload["mandates"] = [{"mandate_id": r.mandate_id, "name": r.name} for r in rows]
    return payload


def dq(renderer: Renderer, feed: DqFeed) -> Payload:
    items = feed.issues.items()
    shown = newest(items, ISSUE_ROWS)
    return _payload(
        renderer,
        "panels/dq.html",
        feed,
        health=feed.health,
        as_of=feed.as_of,
        counts=severity_counts(items),
        issues=shown,
        open_total=len(items),
        left_out=len(items) - len(shown),
        quarantine=feed.quarantine,
    )


def ledger(renderer: Renderer, feed: LedgerFeed) -> Payload:
    mandates = []
    for mandate_id in sorted({*feed.mandates, *feed.balances}):
        view = feed.balances.get(mandate_id)
        mandates.append(
            {
                "mandate_id": mandate_id,
                "view": view,
                "suspense": suspense_total(view) if view else None,
                "cash": cash_and_suspense(view) if view else (),
                "roots": root_totals(view) if view else (),
            }
        )
    return _payload(renderer, "panels/ledger.html", feed, mandates=mandates, journals=feed.journals.items())


def documents(renderer: Renderer, feed: DocumentsFeed) -> Payload:
    return _payload(renderer, "panels/documents.html", feed)


def status(renderer: Renderer, feeds: Sequence[Feed]) -> Payload:
    html = renderer.fragment("panels/status.html", feeds=[f.availability for f in feeds])
    down = [f.availability.service for f in feeds if f.availability.state != LIVE]
    return {"html": html, "stale": False, "state": "live", "service": "", "down": down}


RENDERERS: dict[type[Feed], Callable[[Renderer, Any], Payload]] = {
    ClockFeed: clock,
    BreaksFeed: breaks,
    NavFeed: nav,
    DqFeed: dq,
    LedgerFeed: ledger,
    DocumentsFeed: documents,
}
