"""Tax lots of one mandate's holding in one instrument, relieved FIFO or at average cost.

Costs stay on the currency's minor-unit grid when a quantum is given: a
partial relief takes the proportional cost rounded half-even and leaves the
exact remainder in the lot, so the lots always add up to what the
Securities account holds, to the cent, and relieving everything takes
exactly the cost that was put in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

ZERO = Decimal(0)
METHODS = ("FIFO", "AVERAGE")
AVERAGE_LOT = "AVG"


@dataclass(slots=True)
class _Lot:
    lot_id: str
    quantity: Decimal
    cost: Decimal


class Lots:
    """Per (mandate, instrument). FIFO keeps each purchase as its own lot, oldest first;
    AVERAGE pools every purchase into one lot "AVG" at the average cost."""

    def __init__(self, method: str, quantum: Decimal | None = None) -> None:
        if method not in METHODS:
            raise ValueError(f"lot method must be one of {', '.join(METHODS)}, not {method!r}")
        self.method = method
        self.quantum = quantum
        self._lots: list[_Lot] = []  # oldest first

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self._lots), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((lot.cost for lot in self._lots), ZERO)

    def lots(self) -> list[tuple[str, Decimal, Decimal]]:
        """(lot_id, quantity, cost) still open, oldest first."""
        return [(lot.lot_id, lot.quantity, lot.cost) for lot in self._lots]

    def add(self, lot_id: str, quantity: Decimal, cost: Decimal) -> None:
        if quantity <= 0:
            raise ValueError(f"lot {lot_id}: quantity must be positive, not {quantity}")
        if self.method == "AVERAGE" and self._lots:
            pool = self._lots[0]
            pool.quantity += quantity
            pool.cost += cost
            return
        self._lots.append(_Lot(AVERAGE_LOT if self.method == "AVERAGE" else lot_id, quantity, cost))

    def relieve(self, quantity: Decimal) -> list[tuple[str, Decimal, Decimal]]:
        """(lot_id, quantity, cost) taken, oldest lot first; ValueError (nothing taken) when short."""
        if quantity <= 0:
            raise ValueError(f"quantity to relieve must be positive, not {quantity}")
        held = self.quantity
        if quantity > held:
            raise ValueError(f"cannot relieve {quantity}: only {held} held")
        taken: list[tuple[str, Decimal, Decimal]] = []
        remaining = quantity
        while remaining > 0:
            lot = self._lots[0]
            part = min(remaining, lot.quantity)
            if part == lot.quantity:
                part_cost = lot.cost
                self._lots.pop(0)
            else:
                part_cost = self._share(lot.cost, part, lot.quantity)
                lot.quantity -= part
                lot.cost -= part_cost
            taken.append((lot.lot_id, part, part_cost))
            remaining -= part
        return taken

    def _share(self, cost: Decimal, part: Decimal, whole: Decimal) -> Decimal:
        share = cost * part / whole
        return share if self.quantum is None else share.quantize(self.quantum, rounding=ROUND_HALF_EVEN)

    def to_state(self) -> list[list[str]]:
        return [[lot.lot_id, str(lot.quantity), str(lot.cost)] for lot in self._lots]

    @classmethod
    def from_state(cls, method: str, quantum: Decimal | None, state: list[list[str]]) -> Lots:
        lots = cls(method, quantum)
        lots._lots = [_Lot(lot_id, Decimal(quantity), Decimal(cost)) for lot_id, quantity, cost in state]
        return lots
