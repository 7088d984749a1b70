"""Investor flows: the opening subscription, then subscriptions and noticed redemptions of a round size.

The random draws are scripted (three per mandate per day: whether, which kind, what size) so each
rule is tested at its boundary: a flow happens when the first draw is below 1/21, is a subscription
when the second is below 0.55, and is 1 % + 4 % x the third draw of NAV, floored to a round amount.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from services.common.calendar import BusinessCalendar
from services.market.sim.flows import InvestorFlow, InvestorFlows
from services.market.sim.records import AssetClass, CashFlowKind, Mandate
from services.market.sim.rng import py_stream

# March 2020 business days with Wed 11 made a holiday, to see the notice count business days.
DAYS = [dt.date(2020, 3, d) for d in (2, 3, 4, 5, 6, 9, 10, 12, 13, 16)]
MON = DAYS[0]
HAPPENS = math.nextafter(1 / 21, 0)  # the largest draw that still makes a flow
SUBSCRIBE = math.nextafter(0.55, 0)  # the largest kind draw that is still a subscription


def mandate(mandate_id: str, currency: str, capital: str) -> Mandate:
    return Mandate(
        mandate_id=mandate_id,
        name=mandate_id,
        base_currency=currency,
        benchmark="b",
        benchmark_weights={},
        sector_targets=(),
        max_single_name_weight=0.1,
        min_cash_weight=0.01,
        max_cash_weight=0.05,
        initial_capital=Decimal(capital),
        lot_method="FIFO",
        allowed_asset_classes=(AssetClass.EQUITY,),
    )


MANDATES = (mandate("USD-1", "USD", "10000000"), mandate("JPY-1", "JPY", "1500000000"))


class Scripted:
    """Stands in for the flows' random stream: returns the given draws in order."""

    def __init__(self, draws: list[float]) -> None:
        self.draws = list(draws)

    def random(self) -> float:
        return self.draws.pop(0)


def flows_with(draws: list[float]) -> tuple[InvestorFlows, Scripted]:
    flows = InvestorFlows(1, MANDATES, BusinessCalendar(DAYS))
    script = Scripted(draws)
    flows._rng = script  # type: ignore[assignment]
    return flows, script


def test_the_first_day_subscribes_each_mandates_initial_capital() -> None:
    flows = InvestorFlows(1, MANDATES, BusinessCalendar(DAYS))
    flows.initial(MON)
    assert flows.upcoming("USD-1") == [(MON, Decimal("10000000"))]
    assert flows.due(MON) == [
        InvestorFlow("USD-1", CashFlowKind.SUBSCRIPTION, Decimal("10000000"), "USD", MON, MON),
        InvestorFlow("JPY-1", CashFlowKind.SUBSCRIPTION, Decimal("1500000000"), "JPY", MON, MON),
    ]
    assert flows.due(MON) == [] and flows.upcoming("USD-1") == []


def test_a_flow_happens_only_below_one_in_21_and_every_mandate_draws_three_times() -> None:
    # USD: first draw 1/21 exactly -> no flow; JPY: just below -> a flow. Six draws in all.
    flows, script = flows_with([1 / 21, 0.0, 0.0, HAPPENS, 0.0, 0.0])
    flows.decide(MON, {"USD-1": 5e6, "JPY-1": 2e9})
    assert script.draws == []
    # JPY: 1 % of 2e9 = 20,000,000 = 200 round amounts of 100,000.
    assert flows.due(MON) == [
        InvestorFlow("JPY-1", CashFlowKind.SUBSCRIPTION, Decimal(20000000), "JPY", MON, MON)
    ]


def test_the_size_is_floored_to_a_round_amount_of_at_least_one() -> None:
    flows, _ = flows_with([0.0, 0.0, 0.5, 0.0, 0.0, 0.0])
    # USD: share = 0.01 + 0.04 x 0.5 = 0.03; 1,234,567 x 0.03 = 37,037.01 -> 37 x 1,000 = 37,000.
    # JPY: share 0.01; 123,456,789 x 0.01 = 1,234,567.89 -> 12 x 100,000 = 1,200,000.
    flows.decide(MON, {"USD-1": 1_234_567.0, "JPY-1": 123_456_789.0})
    assert [f.amount for f in flows.due(MON)] == [Decimal(37000), Decimal(1200000)]
    # Near the top of the range: share = 0.01 + 0.04 x 0.999 = 0.04996; 1,000,000 x 0.04996 = 49,960
    # -> 49,000. And a NAV of 1 (one unit above zero) still moves one round amount, 1,000.
    flows, _ = flows_with([0.0, 0.0, 0.999, 0.0, 0.0, 0.0])
    flows.decide(MON, {"USD-1": 1_000_000.0, "JPY-1": 1.0})
    assert [f.amount for f in flows.due(MON)] == [Decimal(49000), Decimal(100000)]


def test_no_flow_without_a_positive_nav() -> None:
    flows, script = flows_with([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    flows.decide(MON, {"USD-1": 0.0})  # JPY-1 has no NAV at all
    assert script.draws == [] and flows.due(DAYS[-1]) == []
    flows, _ = flows_with([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    flows.decide(MON, {"USD-1": -5.0, "JPY-1": 0.0})
    assert flows.due(DAYS[-1]) == []


def test_a_redemption_is_noticed_five_business_days_ahead() -> None:
    # USD: kind draw 0.55 -> redemption; JPY: just below -> subscription.
    flows, _ = flows_with([0.0, 0.55, 0.0, 0.0, SUBSCRIBE, 0.0])
    flows.decide(MON, {"USD-1": 2_000_000.0, "JPY-1": 2e9})
    # Five business days after Mon 2: 3, 4, 5, 6, 9 -> Mon 9. 1 % of 2,000,000 = 20,000.
    redemption = InvestorFlow("USD-1", CashFlowKind.REDEMPTION, Decimal(-20000), "USD", MON, DAYS[5])
    assert flows.upcoming("USD-1") == [(DAYS[5], Decimal(-20000))]
    assert flows.upcoming("JPY-1") == [(MON, Decimal(20000000))]
    assert [f.kind for f in flows.due(MON)] == [CashFlowKind.SUBSCRIPTION]
    assert flows.due(DAYS[4]) == []  # the day before the pay date
    assert flows.due(DAYS[5]) == [redemption]
    assert flows.upcoming("USD-1") == []


def test_the_notice_counts_business_days_over_a_holiday() -> None:
    flows, _ = flows_with([0.0, 0.9, 0.0, 1.0, 0.0, 0.0])
    flows.decide(DAYS[3], {"USD-1": 2_000_000.0, "JPY-1": 2e9})  # Thu 5
    # 6, 9, 10, (11 a holiday), 12, 13 -> Fri 13.
    assert flows.upcoming("USD-1") == [(dt.date(2020, 3, 13), Decimal(-20000))]


def test_flows_are_paid_in_the_order_decided_and_later_ones_wait() -> None:
    flows, _ = flows_with([0.0, 0.9, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    flows.decide(MON, {"USD-1": 2_000_000.0, "JPY-1": 2e9})  # two redemptions, paid Mon 9
    flows.decide(DAYS[1], {"USD-1": 2_000_000.0, "JPY-1": 2e9})  # a USD subscription on Tue 3
    assert [(f.mandate_id, f.kind) for f in flows.due(DAYS[1])] == [("USD-1", CashFlowKind.SUBSCRIPTION)]
    assert [f.mandate_id for f in flows.due(DAYS[6])] == ["USD-1", "JPY-1"]
    assert flows.due(DAYS[-1]) == []


def test_the_real_stream_is_reproducible_and_seeded() -> None:
    navs = {"USD-1": 5e6, "JPY-1": 2e9}
    calendar = BusinessCalendar(DAYS)

    def paid(seed: int) -> list[InvestorFlow]:
        flows = InvestorFlows(seed, MANDATES, calendar)
        for offset in range(60):  # 120 mandate-days: some flows for sure
            flows.decide(calendar.add(MON, offset), navs)
        return flows.due(dt.date(2020, 12, 31))

    first = paid(1)
    assert first and paid(1) == first
    assert paid(2) != first


def test_decisions_come_from_the_flows_stream_three_draws_a_mandate_a_day() -> None:
    # A restart replays the world from its seed (docs/design-notes.md, "Restart"): the flows are
    # the "flows" stream's draws read as (whether, kind, size) per mandate per day.
    navs = {"USD-1": 5e6, "JPY-1": 2e9}
    calendar = BusinessCalendar(DAYS)
    reference = py_stream(3, "flows")
    flows = InvestorFlows(3, MANDATES, calendar)
    expected = []
    for offset in range(60):
        day = calendar.add(MON, offset)
        flows.decide(day, navs)
        for m in MANDATES:
            happens, kind, size = reference.random(), reference.random(), reference.random()
            if happens < 1 / 21:
                expected.append((m.mandate_id, day, kind < 0.55, 0.01 + 0.04 * size))
    paid = flows.due(dt.date(2020, 12, 31))
    assert expected and len(paid) == len(expected)
    for flow, (mandate_id, day, subscription, share) in zip(paid, expected, strict=True):
        assert (flow.mandate_id, flow.notified, flow.kind is CashFlowKind.SUBSCRIPTION) == (
            mandate_id,
            day,
            subscription,
        )
        unit = 1000 if mandate_id == "USD-1" else 100000
        assert abs(flow.amount) == int(navs[mandate_id] * share // unit) * unit
