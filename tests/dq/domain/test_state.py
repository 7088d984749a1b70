"""dq's checks keep their state as plain JSON (the service commits it with its cursor): restored
at any point of a day, they go on exactly as if never stopped."""

from __future__ import annotations

import json

from services.common.market_events import FxQuote, MarketEvent, PriceQuote, RegimeState
from services.dq.domain.config import load_checks
from services.dq.domain.fx import FxChecks
from services.dq.domain.prices import PriceChecks
from services.dq.domain.results import CheckResult
from tests.ledger.domain.sim_runs import simulated_run

CHECKS = load_checks()


def _feed(prices: PriceChecks, fx: FxChecks, event: MarketEvent) -> list[CheckResult]:
    payload = event.payload
    if isinstance(payload, RegimeState):
        prices.regime(event.event_id, payload)
    elif isinstance(payload, PriceQuote):
        if event.kind == "price.tick":
            return prices.primary(event.event_id, payload)
        return prices.vendor(event.event_id, payload)
    elif isinstance(payload, FxQuote):
        return fx.rate(event.event_id, payload)
    elif event.kind == "clock.day_end":
        return prices.day_end(event.sim_time.date(), {"US-NWSF", "UST-20220215"})
    return []


def test_restored_checks_go_on_exactly_as_the_originals() -> None:
    # Faults at ten times market's rates, so the state holds quarantined prices too.
    run = simulated_run(3, 60, 10.0)
    events = list(run.events())
    prices, fx = PriceChecks(CHECKS, run.instruments), FxChecks(CHECKS)
    # Stop in the middle of day 40's vendor quotes, and at a few other points of a day.
    stops = {
        e.seq for e in events if e.kind == "price.vendor" and e.sim_time.date() == run.days[40].result.date
    }
    stop_points = {
        min(stops) + 7,
        min(e.seq for e in events if e.kind == "fx.rate" and e.sim_time.date() == run.days[45].result.date),
    }
    restored_prices, restored_fx = prices, fx
    for event in events:
        original = _feed(prices, fx, event)
        if restored_prices is not prices:
            assert _feed(restored_prices, restored_fx, event) == original, event
        if event.seq in stop_points:
            restored_prices, restored_fx = PriceChecks(CHECKS, run.instruments), FxChecks(CHECKS)
            restored_prices.restore(json.loads(json.dumps(prices.to_json())))
            restored_fx.restore(json.loads(json.dumps(fx.to_json())))
    assert restored_prices is not prices
    assert restored_prices.to_json() == prices.to_json()
