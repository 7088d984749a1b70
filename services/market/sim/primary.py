"""The primary vendor's published prices: the true prices, but for an occasional bad print.

A bad print (PRIMARY_PRICE_SPIKE) publishes one instrument's price for one day off by 8-25 %
either way (SPIKE_RANGE, the range of vendor_b's spikes), rounded half-even to the instrument's
tick and never below one tick. A bond's bad print moves its clean price only: the quote keeps
its accrued interest and yield. Only the published price.tick carries it (faults.py says who
sees it and who does not); the true price, which PriceModel keeps stepping, is untouched, so
the next day's print is right again.

Draws: each day, whatever happens, n uniforms for the chance, n spike sizes U(0.08, 0.25) and n
uniforms for the sign (up when below 0.5) from `np_stream(seed, "primary")`, n being the number
of true quotes. An on-demand fault draws from `py_stream(seed, "primary.on_demand")`: a
randrange to pick an unnamed target, then its size and its sign. Neither stream existed before
this fault, so no earlier draw of any other part of the world moved.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

from services.market.sim.faults import PRIMARY_KINDS, Fault, FaultBook
from services.market.sim.prices import to_tick
from services.market.sim.records import FaultKind, Instrument, PriceQuote
from services.market.sim.rng import np_stream, py_stream
from services.market.sim.vendor import SPIKE_RANGE


class PrimaryPublisher:
    """Turns the day's true primary quotes into the published ones, deciding the bad prints."""

    def __init__(self, seed: int, faults: FaultBook) -> None:
        self._rng = np_stream(seed, "primary")
        self._on_demand = py_stream(seed, "primary.on_demand")
        self._faults = faults

    def publish(
        self, day: dt.date, true: Sequence[PriceQuote], instruments: Mapping[str, Instrument]
    ) -> list[tuple[PriceQuote, Fault | None]]:
        """One published quote per true quote, in the same order, with the fault it carries."""
        n = len(true)
        # A fixed number of draws per quote: seeded outcomes never depend on injections.
        chance = self._rng.random(n).tolist()
        size = self._rng.uniform(*SPIKE_RANGE, n).tolist()
        up = (self._rng.random(n) < 0.5).tolist()
        targets = self._on_demand_targets(true)
        probability = self._faults.probability(FaultKind.PRIMARY_PRICE_SPIKE)
        out: list[tuple[PriceQuote, Fault | None]] = []
        for k, quote in enumerate(true):
            fault = targets.get(quote.instrument_id)
            if fault is not None:
                size[k], up[k] = self._on_demand.uniform(*SPIKE_RANGE), self._on_demand.random() < 0.5
            elif chance[k] < probability:
                fault = self._faults.seeded(FaultKind.PRIMARY_PRICE_SPIKE)
            if fault is None:
                out.append((quote, None))
                continue
            factor = 1.0 + size[k] if up[k] else 1.0 - size[k]
            tick = instruments[quote.instrument_id].tick_size
            published = to_tick(float(quote.price) * factor, tick)
            self._faults.apply(
                fault,
                day,
                f"primary printed {quote.instrument_id} at {published} ({(factor - 1) * 100:+.1f}%); "
                f"the true price is {quote.price}",
                instrument_id=quote.instrument_id,
            )
            out.append((dataclasses.replace(quote, price=published), fault))
        return out

    def _on_demand_targets(self, true: Sequence[PriceQuote]) -> dict[str, Fault]:
        """Pending bad prints for today, one per instrument; a named instrument not priced today
        (a matured bond) keeps its fault waiting."""
        ids = [q.instrument_id for q in true]
        targets: dict[str, Fault] = {}
        for fault in self._faults.pending(PRIMARY_KINDS):
            if fault.instrument_id:
                candidates = [fault.instrument_id] if fault.instrument_id in ids else []
            else:
                candidates = ids
            candidates = [i for i in candidates if i not in targets]
            if not candidates:
                continue
            chosen = (
                candidates[0]
                if fault.instrument_id
                else candidates[self._on_demand.randrange(len(candidates))]
            )
            targets[chosen] = fault
        return targets
