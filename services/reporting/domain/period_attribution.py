"""Attribution over a reporting period: Brinson-Fachler each day, linked over the period's days.

Each day's portfolio and benchmark weights and returns by group (exposure.py) are attributed on
their own (attribution.attribute_period), then linked over the period (Carino by default), so the
effects add up to the period's active return of the holdings-based portfolio return over the
benchmark's. A group's weight over the period is its mean daily weight, and its return the days'
returns linked while it was held.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.reporting.domain.attribution import (
    Interaction,
    Linked,
    Linking,
    Method,
    PeriodAttribution,
    Segment,
    attribute_period,
    link,
)
from services.reporting.domain.exposure import Exposure, Group

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class GroupSummary:
    group: str
    portfolio_weight: float
    benchmark_weight: float
    portfolio_return: float
    benchmark_return: float


@dataclass(frozen=True, slots=True)
class AttributedDay:
    attribution: PeriodAttribution
    portfolio: dict[str, Group]
    benchmark: dict[str, Group]


def attribute_day(
    label: str,
    portfolio: Exposure,
    benchmark: Exposure,
    dimension: str,
    method: Method = Method.BRINSON_FACHLER,
    interaction: Interaction = Interaction.SEPARATE,
) -> AttributedDay:
    mine, theirs = dict(portfolio.groups[dimension]), dict(benchmark.groups[dimension])
    empty = Group(ZERO, ZERO)
    segments = [
        Segment(
            name,
            mine.get(name, empty).weight,
            mine.get(name, empty).total_return,
            theirs.get(name, empty).weight,
            theirs.get(name, empty).total_return,
        )
        for name in sorted(set(mine) | set(theirs))
    ]
    return AttributedDay(attribute_period(label, segments, method, interaction), mine, theirs)


def link_days(
    days: Sequence[AttributedDay], linking: Linking = Linking.CARINO
) -> tuple[Linked, list[GroupSummary]]:
    """The period's linked effects, and each group's mean weights and linked returns."""
    linked = link([d.attribution for d in days], linking)
    names = [e.segment for e in linked.segments]
    summaries = []
    for name in names:
        summaries.append(
            GroupSummary(
                name,
                _mean(d.portfolio.get(name) for d in days),
                _mean(d.benchmark.get(name) for d in days),
                _linked(d.portfolio.get(name) for d in days),
                _linked(d.benchmark.get(name) for d in days),
            )
        )
    return linked, summaries


def _mean(groups: Iterable[Group | None]) -> float:
    values = [float(g.weight) if g is not None else 0.0 for g in groups]
    return sum(values) / len(values) if values else 0.0


def _linked(groups: Iterable[Group | None]) -> float:
    return math.prod(1 + float(g.total_return) for g in groups if g is not None and g.weight) - 1
