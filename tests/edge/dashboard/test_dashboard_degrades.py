"""A service away: its panel says which service, where and why, keeps its last figures marked stale,
and comes back live when the service does; the rest of the dashboard keeps working. An edge of the
test's own, in front of the shared finished suite, reaches recon through a TCP proxy the test cuts and
restores, and documents at an address where nothing listens. SIGTERM with a browser's event stream
open stops the edge at once (the stream is ended, not waited for).
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.edge.conftest import start_edge
from tests.edge.dashboard.events import EventStream, panel
from tests.support.finished_suite import RunningSuite
from tests.support.ports import free_ports
from tests.support.tcp_proxy import proxy_to

# Seconds a stop would at least take if an open stream held the edge for its grace (twice this).
HELD_FOR_S = 30


def test_a_service_away_is_named_on_its_panel_and_the_rest_keeps_working(
    finished_suite: RunningSuite, tmp_path: Path
) -> None:
    host, port = finished_suite.addresses["recon"].rsplit(":", 1)
    (nowhere,) = free_ports(1)  # free a moment ago: nothing listens there
    with proxy_to(host, int(port)) as proxy:
        edge = start_edge(
            finished_suite,
            tmp_path,
            OPSUITE_RECON_ADDR=proxy.address,
            OPSUITE_DOCUMENTS_ADDR=f"127.0.0.1:{nowhere}",
            # A grace far longer than the stop below may take: an open event stream that held
            # the edge would hold it for all of it.
            OPSUITE_SHUTDOWN_GRACE_S=str(HELD_FOR_S * 2),
        )
        stream = EventStream(f"{edge.url}/events")
        try:
            # documents was never there: its panel names it and its address, the others are live.
            away = stream.wait_panel("documents", 30, "documents to be unavailable", state="unavailable")
            assert "documents is unavailable" in away["html"]
            assert f"127.0.0.1:{nowhere}" in away["html"]
            assert away["stale"] is False  # it never sent anything
            stream.wait_panel("breaks", 30, "the breaks panel to be live", state="live")
            stream.wait_panel("ledger", 30, "the ledger panel to be live", state="live")

            # recon goes away: its panel says so and keeps the last figures it had, marked stale.
            proxy.cut()
            gone = stream.wait_for(
                panel("breaks", state="unavailable"), 30, "the breaks panel to say recon is away"
            )
            assert gone.data["stale"] is True
            assert "recon is unavailable" in gone.data["html"] and proxy.address in gone.data["html"]
            assert "the last it sent" in gone.data["html"]
            stream.wait_for(
                lambda e: (
                    e.event == "panel"
                    and e.data["panel"] == "status"
                    and {"recon", "documents"} <= set(e.data["down"])
                ),
                30,
                "the status line to name both services away",
            )
            page = edge.client.get("/")
            assert page.status_code == 200
            assert "recon is unavailable" in page.text and "documents is unavailable" in page.text
            assert "Trial balance of each mandate" in page.text  # the ledger's panel is unaffected
            trace = edge.client.get("/trace/mkt-1")
            assert trace.status_code == 503 and "recon is unavailable" in trace.text

            # recon is back: the feed reconnects by itself (its backoff, then gRPC's reconnection).
            proxy.restore()
            back = stream.wait_for(panel("breaks", state="live"), 30, "the breaks panel to be live again")
            assert back.data["stale"] is False and "unavailable" not in back.data["html"]

            # SIGTERM while a browser follows the stream: ended at once, not held for the grace.
            started = time.monotonic()
            code = edge.process.stop()
            took = time.monotonic() - started
            assert code == 0, edge.process.log_text()[-3000:]
            assert took < HELD_FOR_S, f"the edge was held {took:.1f} s by an open event stream"
        finally:
            stream.close()
            edge.client.close()
            edge.process.stop()
