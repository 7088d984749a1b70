"""Attribution's running sums give every period the answer of attributing its days one by one and
linking them (period_attribution.link_days): the same effects, returns, weights and group order,
with groups appearing, leaving and coming back, and days the sums cannot carry counted apart."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.reporting.domain.attribution import AttributionError
from services.reporting.domain.exposure import DIMENSIONS, Exposure, Group
from services.reporting.domain.period_attribution import AttributedDay, attribute_day, link_days
from services.reporting.domain.running import START, Held, RunningSums, advance, first_days, link_period

# Few names, so that groups come and go from one day to the next.
NAMES = ("Cash", "Energy", "Financials", "Tech")
EXACT = Decimal("1e-30")


@st.composite
def side(draw: st.DrawFn, *, broken: bool = False) -> Exposure:
    """One side of a day: each dimension's groups (a non-empty subset of NAMES), weights summing to
    one (to 0.9 when broken), returns from -10 % to +10 %, now and then a weight of zero."""
    groups = {}
    for dimension in DIMENSIONS:
        names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=len(NAMES), unique=True))
        raw = [draw(st.integers(0, 100)) for _ in names]
        raw[0] = raw[0] or 1
        total = Decimal(sum(raw)) / (Decimal("0.9") if broken else 1)
        returns = [Decimal(draw(st.integers(-1000, 1000))) / 10_000 for _ in names]
        groups[dimension] = {
            n: Group(Decimal(w) / total, r) for n, w, r in zip(names, raw, returns, strict=True)
        }
    total_return = sum((g.weight * g.total_return for g in groups[DIMENSIONS[1]].values()), Decimal(0))
    return Exposure(total_return, groups)


@st.composite
def day(draw: st.DrawFn) -> tuple[Exposure | None, Exposure | None]:
    kind = draw(st.sampled_from(["day"] * 8 + ["no benchmark", "broken"]))
    if kind == "no benchmark":
        return draw(side()), None
    return draw(side(broken=kind == "broken")), draw(side())


def _attributed(
    portfolio: Exposure | None, benchmark: Exposure | None, dimension: str
) -> AttributedDay | None:
    if portfolio is None or benchmark is None:
        return None
    return attribute_day("day", portfolio, benchmark, dimension)


def _run(days: list[tuple[Exposure | None, Exposure | None]]) -> tuple[list[RunningSums], list[Held | None]]:
    sums, changes = [START], [None]
    for portfolio, benchmark in days:
        after, held = advance(sums[-1], "day", portfolio, benchmark)
        sums.append(after)
        changes.append(held)
    return sums, changes


@settings(max_examples=150, deadline=None)
@given(st.lists(day(), min_size=1, max_size=12))
def test_every_period_links_as_its_days_linked_one_by_one(
    days: list[tuple[Exposure | None, Exposure | None]],
) -> None:
    sums, changes = _run(days)
    for dimension in DIMENSIONS:
        attributed: list[AttributedDay | AttributionError | None] = []
        for portfolio, benchmark in days:
            try:
                attributed.append(_attributed(portfolio, benchmark, dimension))
            except AttributionError as error:
                attributed.append(error)
        for base in range(len(days) + 1):
            for end in range(base + 1, len(days) + 1):
                covered = attributed[base:end]
                broken = sum(isinstance(a, AttributionError) for a in covered)
                assert sums[end].irregular - sums[base].irregular == broken
                if broken:
                    continue  # a report attributes such a history day by day (tests/reporting/service)
                plain = [a for a in covered if isinstance(a, AttributedDay)]
                regroupings = [
                    (sums[t].days, held) for t in range(base + 1, end + 1) if (held := changes[t]) is not None
                ]
                fast = link_period(sums[base], sums[end], regroupings, dimension)
                if not plain:
                    assert fast is None
                    continue
                assert fast is not None
                (linked, groups), (expected, expected_groups) = fast, link_days(plain)
                assert abs(linked.portfolio_return - expected.portfolio_return) < EXACT
                assert abs(linked.benchmark_return - expected.benchmark_return) < EXACT
                assert [e.segment for e in linked.segments] == [e.segment for e in expected.segments]
                for mine, theirs in zip(linked.segments, expected.segments, strict=True):
                    assert abs(mine.allocation - theirs.allocation) < EXACT
                    assert abs(mine.selection - theirs.selection) < EXACT
                    assert abs(mine.interaction - theirs.interaction) < EXACT
                for g, e in zip(groups, expected_groups, strict=True):
                    assert g.group == e.group
                    assert g.portfolio_weight == pytest.approx(e.portfolio_weight, abs=1e-15)
                    assert g.benchmark_weight == pytest.approx(e.benchmark_weight, abs=1e-15)
                    assert g.portfolio_return == pytest.approx(e.portfolio_return, abs=1e-14)
                    assert g.benchmark_return == pytest.approx(e.benchmark_return, abs=1e-14)


def _day(*names: str) -> tuple[Exposure, Exposure]:
    """Both sides hold names, equally weighted, each returning 1 %."""
    weight = Decimal(1) / len(names)
    groups = {n: Group(weight, Decimal("0.01")) for n in names}
    exposure = Exposure(Decimal("0.01"), {dimension: groups for dimension in DIMENSIONS})
    return exposure, exposure


def test_a_group_is_ordered_by_its_first_day_in_the_period_then_by_name() -> None:
    # Tech leaves on day 2 and comes back on day 4; Energy first appears on day 3.
    days: list[tuple[Exposure | None, Exposure | None]] = [
        _day("Tech", "Cash"),
        _day("Cash"),
        _day("Energy", "Cash"),
        _day("Tech", "Energy", "Cash"),
    ]
    sums, changes = _run(days)
    regroupings = [(sums[t].days, held) for t in range(1, 5) if (held := changes[t]) is not None]
    assert [days for days, _ in regroupings] == [1, 2, 3, 4]
    # From the start: Cash and Tech on day 1, Energy on day 3.
    assert first_days(sums[0], sums[4].days, regroupings, "sector") == {"Cash": 1, "Tech": 1, "Energy": 3}
    # After day 1: Cash on day 2, Energy on day 3, Tech back on day 4.
    after_first = [r for r in regroupings if r[0] > 1]
    assert first_days(sums[1], sums[4].days, after_first, "sector") == {"Cash": 2, "Energy": 3, "Tech": 4}
    fast = link_period(sums[1], sums[4], after_first, "sector")
    assert fast is not None
    assert [g.group for g in fast[1]] == ["Cash", "Energy", "Tech"]
    assert [g.group for g in link_days([_attributed(*d, "sector") for d in days[1:]])[1]] == [  # type: ignore[misc]
        "Cash",
        "Energy",
        "Tech",
    ]


def _exposure(**groups: tuple[str, str]) -> Exposure:
    by_name = {name: Group(Decimal(w), Decimal(r)) for name, (w, r) in groups.items()}
    total = sum((g.weight * g.total_return for g in by_name.values()), Decimal(0))
    return Exposure(total, {dimension: by_name for dimension in DIMENSIONS})


@pytest.mark.parametrize(
    "portfolio",
    [
        _exposure(Tech=("0.5", "-1"), Cash=("0.5", "0")),  # Tech loses everything: its product is zero
        _exposure(Tech=("1", "-1")),  # the portfolio loses everything: linking refuses it
        _exposure(Tech=("0.5", "0.01")),  # weights summing to 0.5: the day has no attribution
    ],
)
def test_a_day_the_sums_cannot_carry_is_irregular_and_adds_nothing(portfolio: Exposure) -> None:
    day = _exposure(Tech=("0.5", "0.01"), Cash=("0.5", "0"))
    sums, _ = advance(START, "day", day, day)
    after, held = advance(sums, "day", portfolio, day)
    assert (after.days, after.irregular, held) == (1, 1, None)
    assert after.dimensions == sums.dimensions
