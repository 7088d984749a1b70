"""Attribution over a reporting period: Brinson-Fachler each day, linked over the period's days.

Each day's portfolio and benchmark weights and returns by group (exposure.py) are attributed on
their own (attribution.attribute_period), then linked over the period (Carino by default), so the
effects add up to the period's active return of the holdings-based portfolio return over the
benchmark's. A group's weight over the period is its mean daily weight, and its return the days'
returns linked while it was held.

By currency the day is attributed the Karnosky-Singer way (attribute_currencies): each currency's
local markets on their returns in excess of the currency's cash rate (Brinson on x = r - d, which
takes the interest differential out of the market bets), the currency bet on the currency's return
with its cash rate, c = (1 + d) (1 + e) - 1, and the cross term x e that compounding adds, so
that the effects add up to the base-currency active return exactly (exposure.py: R = x + c + x e).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
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

CURRENCY = "currency"

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
    if dimension == CURRENCY:
        return attribute_currencies(label, portfolio, benchmark, method, interaction)
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


def attribute_currencies(
    label: str,
    portfolio: Exposure,
    benchmark: Exposure,
    method: Method = Method.BRINSON_FACHLER,
    interaction: Interaction = Interaction.SEPARATE,
) -> AttributedDay:
    """Karnosky-Singer by currency, for one day: per currency, Brinson's allocation, selection and
    interaction of its local markets on excess returns x; its currency allocation
    (W_p - W_b)(c - C_b), C_b the benchmark's currency return sum(W_b c); and the cross term
    W_p (x e)_p - W_b (x e)_b. Their sum over currencies is R_p - R_b (the module's docstring)."""
    mine, theirs = dict(portfolio.groups[CURRENCY]), dict(benchmark.groups[CURRENCY])
    empty = Group(ZERO, ZERO)
    names = sorted(set(mine) | set(theirs))
    local = attribute_period(
        label,
        [
            Segment(
                name,
                mine.get(name, empty).weight,
                mine.get(name, empty).excess_return,
                theirs.get(name, empty).weight,
                theirs.get(name, empty).excess_return,
            )
            for name in names
        ],
        method,
        interaction,
    )
    # A currency's return with its cash rate is the same on both sides; one side may not hold it.
    currency_return = {
        name: (
            theirs[name] if name in theirs and theirs[name].weight else mine.get(name, empty)
        ).currency_return
        for name in names
    }
    benchmark_currency = sum((g.weight * currency_return[name] for name, g in theirs.items()), ZERO)
    effects = []
    for e in local.segments:
        p, b = mine.get(e.segment, empty), theirs.get(e.segment, empty)
        currency = (p.weight - b.weight) * (currency_return[e.segment] - benchmark_currency)
        cross = p.weight * p.cross_return - b.weight * b.cross_return
        effects.append(replace(e, currency=currency, cross=cross))
    attribution = PeriodAttribution(
        portfolio.total_return, benchmark.total_return, tuple(effects), period=label
    )
    return AttributedDay(attribution, mine, theirs)


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
