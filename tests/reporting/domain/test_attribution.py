"""Brinson attribution and its linking: a published single-period example, hand-worked linking, and
the property that matters most (the effects add up to the active return, per period and linked)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.reporting.domain.attribution import (
    AttributionError,
    Interaction,
    Linking,
    Method,
    PeriodAttribution,
    Segment,
    attribute_period,
    link,
)

D = Decimal
BP = D("0.0001")


def _finfacts() -> list[Segment]:
    """finfacts' Brinson-Fachler case (as quoted in the reporting issue): segments Government,
    Credit, Mortgages, High Yield, Cash; portfolio weights 35/30/15/10/10 %, returns
    2.10/4.50/3.20/6.50/0.50 %; benchmark weights 40/25/20/5/10 %, returns 1.80/3.80/3.00/5.00/0.40 %."""
    rows = [
        ("Government", "0.35", "0.0210", "0.40", "0.0180"),
        ("Credit", "0.30", "0.0450", "0.25", "0.0380"),
        ("Mortgages", "0.15", "0.0320", "0.20", "0.0300"),
        ("High Yield", "0.10", "0.0650", "0.05", "0.0500"),
        ("Cash", "0.10", "0.0050", "0.10", "0.0040"),
    ]
    return [Segment(name, D(wp), D(rp), D(wb), D(rb)) for name, wp, rp, wb, rb in rows]


def _bp(values: list[Decimal]) -> list[Decimal]:
    return [(v / BP).quantize(D("0.1")) for v in values]


def test_the_finfacts_brinson_fachler_case() -> None:
    # Published: allocation 3.8, 6.2, -2.2, 12.2, 0 (20.0 bp), selection 12.0, 17.5, 4.0, 7.5, 1.0
    # (42.0 bp), interaction -1.5, 3.5, -1.0, 7.5, 0 (8.5 bp), total 70.5 bp.
    period = attribute_period("Q1", _finfacts())
    assert _bp([e.allocation for e in period.segments]) == [
        D("3.8"),
        D("6.2"),
        D("-2.2"),
        D("12.2"),
        D("0.0"),
    ]
    assert _bp([e.selection for e in period.segments]) == [D("12.0"), D("17.5"), D("4.0"), D("7.5"), D("1.0")]
    assert _bp([e.interaction for e in period.segments]) == [
        D("-1.5"),
        D("3.5"),
        D("-1.0"),
        D("7.5"),
        D("0.0"),
    ]
    assert period.active_return == D("0.00705")  # 3.265 % - 2.560 %
    assert sum((e.total for e in period.segments), D(0)) == period.active_return  # exactly


def test_brinson_hood_beebower_and_interaction_folded_into_selection() -> None:
    # BHB allocation is (w_p - w_b) r_b: Government -0.05 x 1.80 % = -9.0 bp, Credit +0.05 x 3.80 %
    # = 19.0, Mortgages -0.05 x 3.00 % = -15.0, High Yield +0.05 x 5.00 % = 25.0, Cash 0: 20.0 bp in
    # all, the same total as Brinson-Fachler (each side's weights sum to one).
    bhb = attribute_period("Q1", _finfacts(), Method.BRINSON_HOOD_BEEBOWER)
    assert _bp([e.allocation for e in bhb.segments]) == [
        D("-9.0"),
        D("19.0"),
        D("-15.0"),
        D("25.0"),
        D("0.0"),
    ]
    # Folded: selection w_p (r_p - r_b), Government 0.35 x 0.30 % = 10.5 bp = 12.0 - 1.5.
    folded = attribute_period("Q1", _finfacts(), interaction=Interaction.IN_SELECTION)
    assert _bp([e.selection for e in folded.segments]) == [
        D("10.5"),
        D("21.0"),
        D("3.0"),
        D("15.0"),
        D("1.0"),
    ]
    assert all(e.interaction == 0 for e in folded.segments)
    assert sum((e.total for e in folded.segments), D(0)) == folded.active_return


def _two_periods() -> list[PeriodAttribution]:
    """Worked by hand (no published linking example was found in the sources at hand). Two equal
    segments; period 1's whole active return is A's selection, period 2's is B's, so the linked
    effects show each period's scale. Period 1: A +20 % against +10 %, B flat: portfolio +10 %,
    benchmark +5 %. Period 2: A +2 % on both sides, B -6 % against 0: portfolio -2 %, benchmark
    +1 %. Linked: 1.10 x 0.98 - 1 = 7.8 % against 1.05 x 1.01 - 1 = 6.05 %: active 1.75 %."""
    half = D("0.5")
    return [
        attribute_period(
            "P1", [Segment("A", half, D("0.20"), half, D("0.10")), Segment("B", half, D(0), half, D(0))]
        ),
        attribute_period(
            "P2", [Segment("A", half, D("0.02"), half, D("0.02")), Segment("B", half, D("-0.06"), half, D(0))]
        ),
    ]


def _linked_by_segment(linking: Linking) -> list[float]:
    linked = link(_two_periods(), linking)
    assert (linked.portfolio_return, linked.benchmark_return) == (D("0.078"), D("0.0605"))
    return [float(e.total) for e in linked.segments]


def test_grap_scales_by_the_portfolio_before_and_the_benchmark_after() -> None:
    # Period 1's 5 % x 1.01 (the benchmark after it) = 5.05 %; period 2's -3 % x 1.10 (the
    # portfolio before it) = -3.30 %: 1.75 %, exactly.
    assert _linked_by_segment(Linking.GRAP) == pytest.approx([0.0505, -0.0330], abs=1e-12)


def test_carino_scales_each_period_by_its_log_ratio() -> None:
    # k = (ln 1.078 - ln 1.0605) / 0.0175 = 0.935256, k1 = (ln 1.10 - ln 1.05) / 0.05 = 0.930400,
    # k2 = (ln 0.98 - ln 1.01) / -0.03 = 1.005101: 5 % x k1/k = 4.97404 %, -3 % x k2/k = -3.22404 %.
    assert _linked_by_segment(Linking.CARINO) == pytest.approx([0.0497404, -0.0322404], abs=1e-7)


def test_menchero_scales_each_period_by_m_plus_its_correction() -> None:
    # M = 0.0175 / (2 (sqrt 1.078 - sqrt 1.0605)) = 1.0340368; sum a = 0.02, sum a^2 = 0.0034;
    # correction (0.0175 - M x 0.02) / 0.0034 = -0.9355106, so alpha1 = -0.0467755 and
    # alpha2 = 0.0280653: 5 % x 0.9872613 = 4.93631 %, -3 % x 1.0621021 = -3.18631 %.
    assert _linked_by_segment(Linking.MENCHERO) == pytest.approx([0.0493631, -0.0318631], abs=1e-7)


def test_one_period_links_to_itself() -> None:
    period = attribute_period("Q1", _finfacts())
    for linking in Linking:
        linked = link([period], linking)
        for mine, its in zip(linked.segments, period.segments, strict=True):
            assert abs(mine.total - its.total) < D("1e-30"), linking


def test_weights_that_do_not_sum_to_one_or_a_segment_named_twice_are_refused() -> None:
    with pytest.raises(AttributionError, match=r"the portfolio weights sum to 0\.90, not 1"):
        attribute_period("Q1", [Segment("A", D("0.90"), D(0), D(1), D(0))])
    with pytest.raises(AttributionError, match="names segment 'A' twice"):
        attribute_period("Q1", [Segment("A", D("0.5"), D(0), D("0.5"), D(0))] * 2)


_returns = st.decimals(min_value=D("-0.5"), max_value=D("0.5"), places=4)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_returns, _returns, _returns, _returns), min_size=1, max_size=6),
    st.sampled_from(list(Linking)),
    st.sampled_from(list(Method)),
)
def test_linked_effects_always_add_up_to_the_linked_active_return(
    periods: list[tuple[Decimal, Decimal, Decimal, Decimal]], linking: Linking, method: Method
) -> None:
    # Two segments of 60/40 and 30/70 weights; the returns drawn per period.
    attributed = [
        attribute_period(
            f"P{i}",
            [Segment("A", D("0.6"), a, D("0.3"), b), Segment("B", D("0.4"), c, D("0.7"), d)],
            method,
        )
        for i, (a, b, c, d) in enumerate(periods)
    ]
    for period in attributed:
        assert sum((e.total for e in period.segments), D(0)) == period.active_return
    linked = link(attributed, linking)
    assert abs(sum((e.total for e in linked.segments), D(0)) - linked.active_return) < D("1e-25")
