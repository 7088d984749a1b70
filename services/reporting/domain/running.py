"""Attribution's running sums: what each day end adds, so that a period's linked attribution comes
from two day ends (the period's base and its end) instead of every day between them.

Carino links a period's days by scaling day t's Brinson effects e_t by k_t / K (attribution.py):
k_t from the day's own portfolio and benchmark returns, K from the period's linked returns. A
group's linked effect over a period is therefore (1 / K) * sum of k_t e_t over its days: the running
sum of k_t e_t at the period's end less the one at its base, over K. K needs the period's linked
returns, which are the running products of (1 + R_t) at the end over those at the base. A group's
mean weight over the period is the difference of the running sums of its weights over the number of
days, and its linked return the ratio of the running products of (1 + its return) over the days it
was held with a weight (period_attribution.link_days' conventions).

The figures are those of attributing every day and linking them (period_attribution.attribute_day
and link_days), up to the rounding of 40-digit decimals, which a report's floats do not show.

A day the sums cannot carry is counted as irregular and adds nothing: its attribution fails (weights
not summing to one), a return of -100 % or less (linking refuses it), or a group losing all its value
(its running product would be zero). A report whose history holds one attributes its days one by one
instead, and so gives the same answer, or the same error, as before the sums existed.

The order of a period's groups is link_days': by the first day of the period each group appears on,
then by name. Each day end whose groups differ from the previous attributed day's records the groups
it holds (a regrouping); the groups held at the base and the regroupings inside the period give each
group's first day.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from services.reporting.domain.attribution import (
    LINKING_CONTEXT,
    AttributionError,
    Effects,
    Linked,
    log_ratio_scale,
)
from services.reporting.domain.exposure import DIMENSIONS, Exposure, Group
from services.reporting.domain.period_attribution import AttributedDay, GroupSummary, attribute_day

ZERO = Decimal(0)
ONE = Decimal(1)

# The groups each dimension holds on a day end whose groups changed: dimension -> sorted names.
Held = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class GroupSums:
    """One group's sums over the attributed days so far (one dimension)."""

    portfolio_weight: Decimal = ZERO  # sum of the daily weights (0 on a day without the group)
    benchmark_weight: Decimal = ZERO
    portfolio_growth: Decimal = ONE  # product of (1 + return) over the days held with a weight
    benchmark_growth: Decimal = ONE
    allocation: Decimal = ZERO  # sum of k_t x the day's allocation effect
    selection: Decimal = ZERO
    interaction: Decimal = ZERO
    currency: Decimal = ZERO  # currency attribution's two (period_attribution.attribute_currencies)
    cross: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class DimensionSums:
    portfolio_growth: Decimal  # product of (1 + R_p) of the attributed days (holdings-based)
    benchmark_growth: Decimal
    held: tuple[str, ...]  # the groups of the latest attributed day, sorted
    groups: Mapping[str, GroupSums]  # every group attributed so far


@dataclass(frozen=True, slots=True)
class RunningSums:
    """The sums up to and including one day end."""

    days: int  # attributed days (a portfolio and a benchmark exposure, attributed)
    irregular: int  # days the sums could not carry
    dimensions: Mapping[str, DimensionSums]


START = RunningSums(0, 0, {d: DimensionSums(ONE, ONE, (), {}) for d in DIMENSIONS})


class _Irregular(Exception):
    """A day the running sums cannot carry."""


def advance(
    sums: RunningSums, label: str, portfolio: Exposure | None, benchmark: Exposure | None
) -> tuple[RunningSums, Held | None]:
    """The sums after one more day end, and the groups it holds if they differ from the previous
    attributed day's (None otherwise). A day without both exposures adds nothing."""
    if portfolio is None or benchmark is None:
        return sums, None
    try:
        dimensions = {
            dimension: _add(sums.dimensions[dimension], attribute_day(label, portfolio, benchmark, dimension))
            for dimension in DIMENSIONS
        }
    except (AttributionError, _Irregular):
        return replace(sums, irregular=sums.irregular + 1), None
    changed = any(dimensions[d].held != sums.dimensions[d].held for d in DIMENSIONS)
    held = {d: dimensions[d].held for d in DIMENSIONS} if changed else None
    return RunningSums(sums.days + 1, sums.irregular, dimensions), held


def _add(sums: DimensionSums, day: AttributedDay) -> DimensionSums:
    a = day.attribution
    with decimal.localcontext(LINKING_CONTEXT):
        if a.portfolio_return <= -ONE or a.benchmark_return <= -ONE:
            raise _Irregular
        k = log_ratio_scale(a.portfolio_return, a.benchmark_return)
        groups = dict(sums.groups)
        for e in a.segments:
            before = groups.get(e.segment, GroupSums())
            mine, theirs = day.portfolio.get(e.segment), day.benchmark.get(e.segment)
            groups[e.segment] = GroupSums(
                before.portfolio_weight + (mine.weight if mine is not None else ZERO),
                before.benchmark_weight + (theirs.weight if theirs is not None else ZERO),
                _grown(before.portfolio_growth, mine),
                _grown(before.benchmark_growth, theirs),
                before.allocation + k * e.allocation,
                before.selection + k * e.selection,
                before.interaction + k * e.interaction,
                before.currency + k * e.currency,
                before.cross + k * e.cross,
            )
        return DimensionSums(
            sums.portfolio_growth * (ONE + a.portfolio_return),
            sums.benchmark_growth * (ONE + a.benchmark_return),
            tuple(e.segment for e in a.segments),
            groups,
        )


def _grown(growth: Decimal, group: Group | None) -> Decimal:
    """The running product with the day's return of a group held with a weight (link_days' _linked)."""
    if group is None or not group.weight:
        return growth
    grown = growth * (ONE + group.total_return)
    if not grown:
        raise _Irregular
    return grown


def first_days(
    base: RunningSums, end_days: int, regroupings: Sequence[tuple[int, Held]], dimension: str
) -> dict[str, int]:
    """Each group of the period after base up to the day end with end_days attributed days: the first
    attributed day (counted from the first day end) it appears on. regroupings: (attributed days, groups
    held) of the period's day ends whose groups changed, in order."""
    first: dict[str, int] = {}
    held, since = base.dimensions[dimension].held, base.days + 1
    for days, groups in regroupings:
        if days > since:  # the days from `since` to the day before held the same groups
            for name in held:
                first.setdefault(name, since)
        held, since = groups[dimension], days
    if since <= end_days:
        for name in held:
            first.setdefault(name, since)
    return first


def link_period(
    base: RunningSums, end: RunningSums, regroupings: Sequence[tuple[int, Held]], dimension: str
) -> tuple[Linked, list[GroupSummary]] | None:
    """The linked effects and the groups' summaries of the attributed days after base up to end, as
    link_days gives them for those days (None when there is none). base and end carry no irregular day
    between them (a caller checks end.irregular == base.irregular)."""
    days = end.days - base.days
    if days <= 0:
        return None
    first = first_days(base, end.days, regroupings, dimension)
    order = sorted(first, key=lambda name: (first[name], name))
    before, after = base.dimensions[dimension], end.dimensions[dimension]
    nothing = GroupSums()
    with decimal.localcontext(LINKING_CONTEXT):
        portfolio = after.portfolio_growth / before.portfolio_growth - ONE
        benchmark = after.benchmark_growth / before.benchmark_growth - ONE
        scale = log_ratio_scale(portfolio, benchmark)
        effects, summaries = [], []
        for name in order:
            g, b = after.groups[name], before.groups.get(name, nothing)
            effects.append(
                Effects(
                    name,
                    (g.allocation - b.allocation) / scale,
                    (g.selection - b.selection) / scale,
                    (g.interaction - b.interaction) / scale,
                    (g.currency - b.currency) / scale,
                    (g.cross - b.cross) / scale,
                )
            )
            summaries.append(
                GroupSummary(
                    name,
                    float(g.portfolio_weight - b.portfolio_weight) / days,
                    float(g.benchmark_weight - b.benchmark_weight) / days,
                    float(g.portfolio_growth / b.portfolio_growth) - 1,
                    float(g.benchmark_growth / b.benchmark_growth) - 1,
                )
            )
    return Linked(portfolio, benchmark, tuple(effects)), summaries
