"""FX rates: the three FRED pairs as published, and their crosses derived exactly.

EURUSD, GBPUSD and USDJPY come straight from MacroDay.fx (vendor "primary").
EURGBP, EURJPY and GBPJPY are derived from them in Decimal and rounded
half-even to 6 decimals (vendor "cross"), so a checker can triangulate them
exactly. An FX_CROSS_INCONSISTENT fault publishes a cross off by 0.5-3 % in
either direction, which triangulation exposes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

from services.market.sim.faults import FX_CROSSES, FX_KINDS, Fault, FaultBook
from services.market.sim.records import FaultKind, FxQuote
from services.market.sim.rng import py_stream

PRIMARY_PAIRS: tuple[str, ...] = ("EURUSD", "GBPUSD", "USDJPY")
CROSS_QUANTUM = Decimal("0.000001")
PRIMARY_VENDOR = "primary"
CROSS_VENDOR = "cross"
DISTORTION_RANGE = (0.005, 0.03)
CROSS_LEGS: Mapping[str, tuple[str, str]] = {
    "EURGBP": ("EURUSD", "GBPUSD"),
    "EURJPY": ("EURUSD", "USDJPY"),
    "GBPJPY": ("GBPUSD", "USDJPY"),
}


def cross_rate(pair: str, primary: Mapping[str, Decimal]) -> Decimal:
    """A cross from the primary pairs, exact then rounded half-even to 6 decimals."""
    legs = CROSS_LEGS.get(pair)
    if legs is None:
        raise ValueError(f"currency_pair: {pair!r} is not one of {', '.join(FX_CROSSES)}")
    first, second = primary[legs[0]], primary[legs[1]]
    # EURGBP = EURUSD / GBPUSD; EURJPY = EURUSD * USDJPY; GBPJPY = GBPUSD * USDJPY.
    value = first / second if pair == "EURGBP" else first * second
    return value.quantize(CROSS_QUANTUM, rounding=ROUND_HALF_EVEN)


class FxPublisher:
    """Publishes each day's six rates and decides which cross, if any, is distorted."""

    def __init__(self, seed: int, faults: FaultBook) -> None:
        self._seeded = py_stream(seed, "fx.faults")
        self._on_demand = py_stream(seed, "fx.on_demand")
        self._faults = faults

    def quotes(self, day: dt.date, fx: Mapping[str, Decimal]) -> list[tuple[FxQuote, Fault | None]]:
        """Primary pairs then crosses, each with the fault it carries (None when clean)."""
        out: list[tuple[FxQuote, Fault | None]] = [
            (FxQuote(pair[:3], pair[3:], Decimal(fx[pair]), PRIMARY_VENDOR, day), None)
            for pair in PRIMARY_PAIRS
        ]
        # A fixed number of draws per day: seeded decisions never depend on injections.
        draws = [
            (self._seeded.random(), self._seeded.uniform(*DISTORTION_RANGE), self._seeded.random())
            for _ in FX_CROSSES
        ]
        targets = self._on_demand_targets()
        probability = self._faults.probability(FaultKind.FX_CROSS_INCONSISTENT)
        for pair, (chance, size, direction) in zip(FX_CROSSES, draws, strict=True):
            rate = cross_rate(pair, fx)
            fault = targets.get(pair)
            if fault is not None:
                size, direction = self._on_demand.uniform(*DISTORTION_RANGE), self._on_demand.random()
            elif chance < probability:
                fault = self._faults.seeded(FaultKind.FX_CROSS_INCONSISTENT)
            if fault is not None:
                factor = Decimal(repr(round(1.0 + size if direction < 0.5 else 1.0 - size, 6)))
                published = (rate * factor).quantize(CROSS_QUANTUM, rounding=ROUND_HALF_EVEN)
                self._faults.apply(
                    fault,
                    day,
                    f"{pair} published at {published} instead of {rate} ({(factor - 1) * 100:+.2f}%)",
                    currency_pair=pair,
                )
                rate = published
            out.append((FxQuote(pair[:3], pair[3:], rate, CROSS_VENDOR, day), fault))
        return out

    def _on_demand_targets(self) -> dict[str, Fault]:
        """Pending on-demand faults for today's crosses: one per cross, named pairs first served."""
        targets: dict[str, Fault] = {}
        for fault in self._faults.pending(FX_KINDS):
            pair = fault.currency_pair
            if not pair:
                free = [p for p in FX_CROSSES if p not in targets]
                if not free:
                    continue
                pair = free[self._on_demand.randrange(len(free))]
            if pair not in targets:
                targets[pair] = fault
        return targets
