"""A price dq quarantined: the day end is valued at the last good price, provisional, with its effect.

The run is the simulation's own (seed 7, no faults); on day 10 one held equity's official price is
declared rejected with the day before's price as the last good one, as dq's quarantine would say.
"""

from __future__ import annotations

from decimal import Decimal

from services.common.money import quantize_money
from services.reporting.domain.daily import DailyValuer, ValuedDay
from services.reporting.domain.quarantine import RejectedPrice
from tests.ledger.domain.sim_runs import simulated_run

MANDATE = "BAL-USD"
DAY = 10


def _run(rejections: dict[int, list[RejectedPrice]]) -> list[list[ValuedDay]]:
    """Every day end's valuations, with the given rejections passed at the day ends of those days."""
    run = simulated_run(7, 14, 0.0)
    valuer = DailyValuer(run.mandates, run.instruments)
    days: list[list[ValuedDay]] = []
    for number, day in enumerate(run.days):
        for event in day.events:
            valued = valuer.apply(event, rejections.get(number, []) if event.kind == "clock.day_end" else ())
            if valued:
                days.append(valued)
    return days


def _mandate(day: list[ValuedDay]) -> ValuedDay:
    return next(d for d in day if d.valuation.mandate_id == MANDATE)


def test_a_quarantined_price_values_the_holding_at_the_last_good_one_and_says_by_how_much() -> None:
    clean = _run({})
    before, today = _mandate(clean[DAY - 1]), _mandate(clean[DAY])
    equities = {i.instrument_id for i in simulated_run(7, 14, 0.0).instruments if i.asset_class == "EQUITY"}
    holding = max(
        (h for h in today.valuation.holdings if h.instrument_id in equities and h.currency == "USD"),
        key=lambda h: h.base_market_value,
    )
    last_good = next(h for h in before.valuation.holdings if h.instrument_id == holding.instrument_id)
    assert last_good.price != holding.price  # the instrument moved: the replacement shows
    rejected = RejectedPrice(
        holding.instrument_id, "dq-7", holding.price, last_good.price, last_good.price_date
    )

    quarantined = _run({DAY: [rejected]})
    day = _mandate(quarantined[DAY])
    # Worked from the figures: the holding's market value at the last good price, rounded to the
    # cent as the ledger rounds it (an equity in the base currency: no conversion), less the official.
    effect = quantize_money(holding.quantity * last_good.price, "USD") - holding.market_value
    assert [
        (q.instrument_id, q.issue_id, q.rejected_price, q.used_price, q.nav_effect) for q in day.quarantined
    ] == [(holding.instrument_id, "dq-7", holding.price, last_good.price, effect)]
    assert day.valuation.nav == today.valuation.nav + effect
    valued = next(h for h in day.valuation.holdings if h.instrument_id == holding.instrument_id)
    assert (valued.price, valued.price_date) == (last_good.price, last_good.price_date)
    assert any(w.startswith(f"provisional: {holding.instrument_id}'s price") for w in day.valuation.warnings)
    # Other mandates that do not hold it are as they were; the next day end is the official one again.
    for clean_day, quarantined_day in zip(clean[DAY], quarantined[DAY], strict=True):
        if quarantined_day.valuation.mandate_id != MANDATE and not quarantined_day.quarantined:
            assert quarantined_day.valuation == clean_day.valuation
    assert _mandate(quarantined[DAY + 1]).valuation.nav == _mandate(clean[DAY + 1]).valuation.nav
    assert not _mandate(quarantined[DAY + 1]).quarantined


def test_a_rejection_without_a_good_price_before_keeps_the_official_price_and_says_so() -> None:
    clean = _run({})
    holding = _mandate(clean[DAY]).valuation.holdings[0]
    rejected = RejectedPrice(holding.instrument_id, "dq-3", holding.price, None, None)
    day = _mandate(_run({DAY: [rejected]})[DAY])
    assert day.valuation.nav == _mandate(clean[DAY]).valuation.nav and not day.quarantined
    assert any("no earlier price passed its checks" in w for w in day.valuation.warnings)


def test_a_rejection_of_another_price_than_the_official_one_is_ignored() -> None:
    clean = _run({})
    holding = _mandate(clean[DAY]).valuation.holdings[0]
    other = RejectedPrice(holding.instrument_id, "dq-4", holding.price + Decimal(1), Decimal(1), None)
    assert _mandate(_run({DAY: [other]})[DAY]).valuation == _mandate(clean[DAY]).valuation
