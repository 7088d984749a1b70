"""Over a simulated year, each mandate's daily attribution links into effects that add up to the
year's active return, by sector and by asset class, and the benchmark returns come from every
segment of the mandate's benchmark."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from services.reporting.domain.daily import DailyValuer, ValuedDay
from services.reporting.domain.exposure import CASH, DIMENSIONS
from services.reporting.domain.period_attribution import attribute_day, link_days
from tests.ledger.domain.sim_runs import simulated_run


@pytest.fixture(scope="module")
def valued() -> dict[str, list[ValuedDay]]:
    run = simulated_run(7, 252, 0.0)
    valuer = DailyValuer(run.mandates, run.instruments)
    by_mandate: dict[str, list[ValuedDay]] = defaultdict(list)
    for event in run.events():
        for day in valuer.apply(event):
            by_mandate[day.valuation.mandate_id].append(day)
    return by_mandate


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_linked_effects_add_up_to_the_years_active_return(
    valued: dict[str, list[ValuedDay]], dimension: str
) -> None:
    for mandate_id, days in valued.items():
        attributed = [
            attribute_day(d.valuation.date.isoformat(), d.portfolio, d.benchmark, dimension)
            for d in days
            if d.portfolio is not None and d.benchmark is not None
        ]
        assert len(attributed) == len(days) - 1, mandate_id  # every day but the first
        linked, groups = link_days(attributed)
        total = sum((e.total for e in linked.segments), Decimal(0))
        assert abs(total - linked.active_return) < Decimal("1e-20"), mandate_id
        names = {g.group for g in groups}
        if dimension == "currency":
            base = days[0].valuation.base_currency
            assert base in names and CASH not in names, mandate_id
        else:
            assert CASH in names, mandate_id


def test_by_currency_the_foreign_holdings_carry_a_currency_effect_and_a_base_one_none(
    valued: dict[str, list[ValuedDay]],
) -> None:
    # BAL-USD holds EUR equities (8 % in policy) and EQ-EUR GBP ones (20 %), and so do their
    # benchmarks: once bought, the foreign currency has a weight on both sides every day, and over
    # a year in which the euro and the pound moved, the portfolio's weight differing from the
    # benchmark's leaves a currency effect and a cross effect that are not zero.
    for mandate_id, foreign in (("BAL-USD", "EUR"), ("EQ-EUR", "GBP")):
        days = [d for d in valued[mandate_id] if d.portfolio is not None and d.benchmark is not None]
        for day in days[20:]:  # once the mandate has bought its foreign equities
            assert day.portfolio is not None and day.benchmark is not None
            assert day.portfolio.groups["currency"][foreign].weight > 0, (mandate_id, day.valuation.date)
            assert day.benchmark.groups["currency"][foreign].weight > 0
        linked, _ = link_days([attribute_day("d", d.portfolio, d.benchmark, "currency") for d in days])  # type: ignore[arg-type]
        effects = {e.segment: e for e in linked.segments}
        assert effects[foreign].currency != 0 and effects[foreign].cross != 0, mandate_id


def test_each_benchmark_holds_every_segment_at_its_policy_weight(valued: dict[str, list[ValuedDay]]) -> None:
    run = simulated_run(7, 252, 0.0)
    for mandate in run.mandates:
        day = valued[mandate.mandate_id][-1]
        assert day.benchmark is not None
        classes = day.benchmark.groups["asset_class"]
        by_class: dict[str, Decimal] = defaultdict(Decimal)
        for segment in mandate.benchmark_segments:
            by_class[str(segment.asset_class) if segment.asset_class else CASH] += Decimal(
                repr(segment.weight)
            )
        for name, weight in by_class.items():
            assert abs(classes[name].weight - weight) < Decimal("1e-25"), (mandate.mandate_id, name)


def test_a_usd_mandates_risk_free_return_is_the_days_fed_funds_and_others_earn_nothing(
    valued: dict[str, list[ValuedDay]],
) -> None:
    # The last day of the run, Mon 2021-01-04, after Thu 2020-12-31 (New Year's Day a holiday):
    # fed funds 0.09 % for 4 calendar days, actual/360.
    bal = valued["BAL-USD"][-1]
    assert bal.valuation.date.isoformat() == "2021-01-04"
    assert bal.risk_free_return == Decimal("0.09") / 100 * 4 / 360
    assert valued["EQ-EUR"][-1].risk_free_return == 0
