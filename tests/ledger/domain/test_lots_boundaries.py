"""Lots at their edges: the smallest quantity either side of zero, ties in the rounding of a
partial relief, lots kept without a minor-unit grid, and messages a person can act on."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.ledger.domain import chart
from services.ledger.domain.lots import Lots

D = Decimal
# The finest quantity the ledger accepts (chart.QUANTITY_PLACES = 6 places).
UNIT = D(1).scaleb(-chart.QUANTITY_PLACES)


@pytest.mark.parametrize("method", ["FIFO", "AVERAGE"])
@pytest.mark.parametrize("quantity", [-UNIT, D(0)])
def test_adding_zero_or_less_is_refused_and_leaves_the_lots_unchanged(method: str, quantity: Decimal) -> None:
    lots = Lots(method, D("0.01"))
    lots.add("L1", D(2), D("10.00"))
    with pytest.raises(ValueError, match=rf"^lot L2: quantity must be positive, not {quantity}$"):
        lots.add("L2", quantity, D("0.00"))
    assert (lots.quantity, lots.cost) == (D(2), D("10.00"))


def test_adding_the_smallest_quantity_is_accepted() -> None:
    lots = Lots("FIFO", D("0.01"))
    lots.add("L1", UNIT, D("0.01"))
    assert lots.lots() == [("L1", D("0.000001"), D("0.01"))]


@pytest.mark.parametrize("quantity", [-UNIT, D(0)])
def test_relieving_zero_or_less_is_refused_and_takes_nothing(quantity: Decimal) -> None:
    lots = Lots("FIFO", D("0.01"))
    lots.add("L1", D(3), D("10.00"))
    with pytest.raises(ValueError, match=rf"^quantity to relieve must be positive, not {quantity}$"):
        lots.relieve(quantity)
    assert lots.lots() == [("L1", D(3), D("10.00"))]


def test_relieving_zero_from_no_lots_is_refused_too() -> None:
    # Nothing held, so a zero relief would otherwise pass the "only 0 held" check and return [].
    with pytest.raises(ValueError, match="must be positive, not 0"):
        Lots("FIFO", D("0.01")).relieve(D(0))


def test_relieving_the_smallest_quantity_takes_its_share_of_the_cost() -> None:
    lots = Lots("FIFO", D("0.01"))
    lots.add("L1", D(3), D("10.00"))
    # 10.00 x 0.000001 / 3 = 0.00000333... -> 0.00 on the cent grid; the lot keeps all 10.00.
    assert lots.relieve(UNIT) == [("L1", UNIT, D("0.00"))]
    assert lots.lots() == [("L1", D("2.999999"), D("10.00"))]


@pytest.mark.parametrize("method", ["FIFO", "AVERAGE"])
def test_a_partial_relief_that_lands_on_a_half_cent_rounds_half_even(method: str) -> None:
    lots = Lots(method, D("0.01"))
    lots.add("L1", D(2), D("10.01"))
    # 10.01 x 1 / 2 = 5.005, exactly half a cent: half-even gives 5.00 (0 is even); half-up would give 5.01.
    [(_, quantity, cost)] = lots.relieve(D(1))
    assert (quantity, cost) == (D(1), D("5.00"))
    # The lot keeps the exact remainder, 10.01 - 5.00 = 5.01, so nothing is lost.
    assert (lots.quantity, lots.cost) == (D(1), D("5.01"))


def test_a_half_cent_tie_rounds_up_to_the_even_cent() -> None:
    lots = Lots("FIFO", D("0.01"))
    lots.add("L1", D(2), D("10.03"))
    # 10.03 x 1 / 2 = 5.015: half-even gives 5.02 (2 is even); half-down would give 5.01. The lot keeps 5.01.
    assert lots.relieve(D(1)) == [("L1", D(1), D("5.02"))]
    assert lots.lots() == [("L1", D(1), D("5.01"))]


def test_a_tie_in_yen_rounds_half_even_to_the_yen() -> None:
    lots = Lots("FIFO", chart.quantum("JPY"))
    lots.add("L1", D(2), D(5))
    # 5 x 1 / 2 = 2.5 yen: half-even gives 2 (half-up 3); the lot keeps 5 - 2 = 3.
    assert lots.relieve(D(1)) == [("L1", D(1), D(2))]
    assert lots.lots() == [("L1", D(1), D(3))]


def test_without_a_quantum_a_partial_relief_takes_the_exact_share() -> None:
    lots = Lots("FIFO")
    lots.add("L1", D(4), D("10.01"))
    # 10.01 x 1 / 4 = 2.5025 exactly, kept unrounded; the lot keeps 10.01 - 2.5025 = 7.5075.
    assert lots.relieve(D(1)) == [("L1", D(1), D("2.5025"))]
    assert lots.lots() == [("L1", D(3), D("7.5075"))]


def test_an_unknown_lot_method_names_the_methods_to_choose_from() -> None:
    with pytest.raises(ValueError, match=r"^lot method must be one of FIFO, AVERAGE, not 'LIFO'$"):
        Lots("LIFO")
