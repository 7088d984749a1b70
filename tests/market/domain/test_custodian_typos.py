"""The custodian's keying errors: every typo a figure can get, and the ones it cannot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.market.sim.custodian import price_typo, quantity_typo


class Picks:
    """Stands in for the random stream: randrange returns the scripted indices and records the ranges."""

    def __init__(self, *indices: int) -> None:
        self.indices = list(indices)
        self.ranges: list[int] = []

    def randrange(self, n: int) -> int:
        self.ranges.append(n)
        return self.indices.pop(0)


def _all_quantity_typos(quantity: str) -> list[Decimal]:
    count = Picks(0)
    quantity_typo(Decimal(quantity), count)  # type: ignore[arg-type]
    return [quantity_typo(Decimal(quantity), Picks(i)) for i in range(count.ranges[0])]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("quantity", "typos"),
    [
        # Each adjacent pair of different digits swapped, then a 0 added, the last digit dropped, and
        # the last digit one higher (9 -> 0).
        ("1250", ["2150", "1520", "1205", "12500", "125", "1251"]),
        # Equal neighbours are not swapped ("00"); "010" is the swap of 1 and 0, read as 10.
        ("100", ["10", "1000", "10", "101"]),
        ("11", ["110", "1", "12"]),
        # One digit: nothing to swap or drop.
        ("7", ["70", "8"]),
        # 9 -> 0 would key a zero quantity: not a plausible typo, so only the added 0 is left.
        ("9", ["90"]),
        ("19", ["91", "190", "1", "10"]),
    ],
)
def test_every_quantity_typo(quantity: str, typos: list[str]) -> None:
    assert _all_quantity_typos(quantity) == [Decimal(t) for t in typos]


def test_a_price_typo_keeps_the_decimal_places() -> None:
    # 179.98: digits 17998. Swaps: 71998, 19798, (9-9 not swapped), 17989; then 179980 (too long),
    # 1799 (too short), 17999: six options, indices 0-5. Only same-length typos are kept: a pick of
    # 3 (179980) and then 4 (1799) is drawn again, then 0 gives 719.98.
    picks = Picks(3, 4, 0)
    assert price_typo(Decimal("179.98"), picks) == Decimal("719.98")  # type: ignore[arg-type]
    assert picks.ranges == [6, 6, 6]
    same_length = {1: "197.98", 2: "179.89", 5: "179.99"}
    for index, expected in same_length.items():
        typo = price_typo(Decimal("179.98"), Picks(index))  # type: ignore[arg-type]
        assert typo == Decimal(expected) and typo.as_tuple().exponent == -2


def test_price_typos_of_small_and_whole_prices() -> None:
    # 0.50: digits 50: swap -> 05 (0.05), 500 and 5 change the length, 51 (0.51).
    assert price_typo(Decimal("0.50"), Picks(0)) == Decimal("0.05")  # type: ignore[arg-type]
    assert price_typo(Decimal("0.50"), Picks(3)) == Decimal("0.51")  # type: ignore[arg-type]
    assert str(price_typo(Decimal("0.50"), Picks(0))) == "0.05"  # type: ignore[arg-type]
    # 6850 yen (exponent 0): swaps 8650, 6580, 6805; 68500 and 685 change the length; 6851.
    assert price_typo(Decimal(6850), Picks(1)) == Decimal(6580)  # type: ignore[arg-type]
    assert str(price_typo(Decimal(6850), Picks(5))) == "6851"  # type: ignore[arg-type]


def test_a_price_typo_keeps_the_sign() -> None:
    # price_typo rebuilds the figure from its digits, so it must carry the sign over itself:
    # -12.34 has digits 1234; the first option, the swap of 1 and 2, gives -21.34, not 21.34.
    assert price_typo(Decimal("-12.34"), Picks(0)) == Decimal("-21.34")  # type: ignore[arg-type]
    # The last option, the last digit one higher: -12.35.
    assert str(price_typo(Decimal("-12.34"), Picks(5))) == "-12.35"  # type: ignore[arg-type]
