"""Returns with external flows against published worked examples (cited) and hand-worked figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.reporting.domain.returns import (
    Flow,
    ReturnsError,
    Valuation,
    modified_dietz,
    money_weighted,
    period_returns,
    time_weighted,
)

D = Decimal


def _quarters() -> tuple[list[Valuation], list[Flow]]:
    """The CFA Institute's time-weighted example (as quoted in the reporting issue): quarters with
    start value / flow at the start / end value 2.0/+0.2/2.4, 2.4/+0.4/2.6, 2.6/-0.2/3.2,
    3.2/+1.0/4.1 give 31.85 %. Values are before the day's flows, so each flow sits on the date of
    the valuation that starts its quarter."""
    dates = [
        dt.date(2023, 12, 31),
        dt.date(2024, 3, 31),
        dt.date(2024, 6, 30),
        dt.date(2024, 9, 30),
        dt.date(2024, 12, 31),
    ]
    values = [D("2.0"), D("2.4"), D("2.6"), D("3.2"), D("4.1")]
    flows = [D("0.2"), D("0.4"), D("-0.2"), D("1.0")]
    return (
        [Valuation(d, v) for d, v in zip(dates, values, strict=True)],
        [Flow(d, f) for d, f in zip(dates, flows, strict=False)],
    )


def test_the_cfa_quarters_link_to_31_85_percent() -> None:
    valuations, flows = _quarters()
    # 2.4/2.2 x 2.6/2.8 x 3.2/2.4 x 4.1/4.2 - 1 = 0.318491...
    assert float(time_weighted(valuations, flows)) == pytest.approx(0.3185, abs=5e-5)


def test_modified_dietz_of_the_wikipedia_example_is_120_percent() -> None:
    # Wikipedia, "Modified Dietz method", Example: "the value of a portfolio is $100 at the
    # beginning of the first year, and $300 at the end of the second year, and there is an inflow
    # of $50 at the end of the first year/beginning of the second year ... (Suppose further that
    # neither year is a leap year, so the two years are of equal length.)" Gain 300 - 100 - 50 = 150
    # over average capital 100 + 50 x 1/2 = 125: 120 %.
    start, end = Valuation(dt.date(2021, 1, 1), D(100)), Valuation(dt.date(2023, 1, 1), D(300))
    assert modified_dietz(start, end, [Flow(dt.date(2022, 1, 1), D(50))]) == D("1.2")


def test_money_weighted_is_excel_s_xirr_example() -> None:
    # Microsoft's XIRR documentation example: -10,000 on 2008-01-01, then 2,750 on 2008-03-01,
    # 4,250 on 2008-10-30, 3,250 on 2009-02-15 and 2,750 on 2009-04-01 give 0.373362535 (37.34 %).
    # As a portfolio: valued 10,000 at the start, three withdrawals, valued 2,750 at the end.
    valuations = [Valuation(dt.date(2008, 1, 1), D(10_000)), Valuation(dt.date(2009, 4, 1), D(2_750))]
    flows = [
        Flow(dt.date(2008, 3, 1), D(-2_750)),
        Flow(dt.date(2008, 10, 30), D(-4_250)),
        Flow(dt.date(2009, 2, 15), D(-3_250)),
    ]
    # Excel "iterates until the result is accurate within 0.000001 percent" (the same page): 1e-8.
    assert money_weighted(valuations, flows) == pytest.approx(0.373362535, abs=1e-8)


def test_with_no_flows_every_measure_is_the_simple_return() -> None:
    valuations = [
        Valuation(dt.date(2024, 1, 2), D(1_000)),
        Valuation(dt.date(2024, 7, 1), D(1_100)),
        Valuation(dt.date(2025, 1, 2), D(1_210)),
    ]
    returns = period_returns(valuations, [])
    assert returns.time_weighted == pytest.approx(0.21) and returns.modified_dietz == pytest.approx(0.21)
    # A year and a day (366 days of 2024 plus one): 1.21 ** (365/366) - 1, worked by hand.
    assert returns.money_weighted == pytest.approx(1.21 ** (365 / 366) - 1, rel=1e-9)


def test_a_flow_inside_a_sub_period_is_weighted_and_one_on_the_last_valuation_is_left_out() -> None:
    # 100 on day 0, +50 on day 15 of 30, 160 on day 30: Modified Dietz (160 - 100 - 50) /
    # (100 + 50 x 15/30) = 10 / 125 = 8 %. A flow on the last date comes after the valuation.
    start, end = Valuation(dt.date(2024, 6, 1), D(100)), Valuation(dt.date(2024, 7, 1), D(160))
    flows = [Flow(dt.date(2024, 6, 16), D(50)), Flow(dt.date(2024, 7, 1), D(999))]
    assert modified_dietz(start, end, flows) == D("0.08")
    assert time_weighted([start, end], flows) == D("0.08")


@pytest.mark.parametrize(
    ("valuations", "flows", "message"),
    [
        ([Valuation(dt.date(2024, 1, 1), D(1))], [], "at least two valuations"),
        ([Valuation(dt.date(2024, 1, 2), D(1)), Valuation(dt.date(2024, 1, 1), D(1))], [], "rising dates"),
        (
            [Valuation(dt.date(2024, 1, 1), D(1)), Valuation(dt.date(2024, 2, 1), D(1))],
            [Flow(dt.date(2024, 3, 1), D(1))],
            "outside the valuations' span",
        ),
        (
            [Valuation(dt.date(2024, 1, 1), D(0)), Valuation(dt.date(2024, 2, 1), D(1))],
            [],
            "is zero",
        ),
    ],
)
def test_records_that_make_no_period_are_refused_in_words(
    valuations: list[Valuation], flows: list[Flow], message: str
) -> None:
    with pytest.raises(ReturnsError, match=message):
        period_returns(valuations, flows)


_values = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)


@settings(max_examples=80, deadline=None)
@given(st.lists(_values, min_size=2, max_size=8), st.integers(min_value=1, max_value=40))
def test_with_no_flows_time_weighted_equals_modified_dietz(values: list[Decimal], spacing: int) -> None:
    # Without flows both are the end value over the start value less one, however the valuations
    # in between move: the sub-period ratios telescope (to Decimal's 28 significant digits).
    valuations = [
        Valuation(dt.date(2024, 1, 1) + dt.timedelta(days=spacing * i), v) for i, v in enumerate(values)
    ]
    dietz = modified_dietz(valuations[0], valuations[-1], [])
    assert abs(time_weighted(valuations, []) - dietz) <= D("1e-24") * max(D(1), abs(dietz))
