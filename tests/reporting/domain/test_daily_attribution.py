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
        assert CASH in {g.group for g in groups}


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
