"""A journal's span is a child of the span of the market event it books, across processes."""

from __future__ import annotations

from pathlib import Path

from tests.ledger.process.conftest import wait_finished, world_env
from tests.support.otlp import OtlpReceiver
from tests.support.processes import start_service


def test_journal_spans_descend_from_the_fill_spans(tmp_path: Path) -> None:
    with OtlpReceiver() as receiver:
        market = start_service(
            "market", tmp_path / "m", {**world_env(OPSUITE_DAYS="4"), **receiver.env("market")}
        )
        market.wait_serving()
        wait_finished(market)
        ledger = start_service(
            "ledger",
            tmp_path / "l",
            {**world_env(), "OPSUITE_MARKET_ADDR": market.address, **receiver.env("ledger")},
        )
        ledger.wait_serving()
        assert ledger.stop() == 0
        assert market.stop() == 0
        spans = {s.span_id: s for s in receiver.spans}

    fills = {s.span_id: s for s in spans.values() if s.service == "market" and s.name == "trade.fill"}
    journals = [s for s in spans.values() if s.service == "ledger" and s.name == "ledger.journal"]
    assert fills and journals
    booked_fills = set()
    for journal in journals:
        # journal -> apply (ledger) -> event span (market)
        apply = spans[journal.parent_span_id]
        assert apply.service == "ledger" and apply.name.startswith("apply ")
        origin = spans[apply.parent_span_id]
        assert origin.service == "market" and origin.trace_id == journal.trace_id
        if origin.span_id in fills:
            booked_fills.add(origin.span_id)
    assert booked_fills == set(fills), "every fill's trade journal hangs under the fill's span"
