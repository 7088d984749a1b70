"""The second price vendor ("vendor_b"): the primary price plus a few bps of noise.

Sometimes stale (it republishes its own previous price) or spiking (+/- 8-25 %);
both are faults recorded in the ground truth. The noise is N(0, 3 bp),
rounded to the instrument's tick, so a low-priced or JPY stock often matches
the primary exactly. Bond quotes carry the primary's accrued interest and no
yield (the vendor publishes prices only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from services.market.sim.faults import VENDOR_KINDS, Fault, FaultBook
from services.market.sim.prices import to_tick
from services.market.sim.records import FaultKind, Instrument, PriceQuote
from services.market.sim.rng import np_stream, py_stream

SECOND_VENDOR = "vendor_b"
NOISE_BPS = 3.0
SPIKE_RANGE = (0.08, 0.25)


class SecondVendor:
    def __init__(self, seed: int, faults: FaultBook) -> None:
        self._rng = np_stream(seed, "vendor")
        self._on_demand = py_stream(seed, "vendor.on_demand")
        self._faults = faults
        self._last: dict[str, PriceQuote] = {}

    def quotes(
        self, day: dt.date, primary: Sequence[PriceQuote], instruments: dict[str, Instrument]
    ) -> list[tuple[PriceQuote, Fault | None]]:
        """One vendor_b quote per primary quote, in the same order, with the fault it carries."""
        n = len(primary)
        # Fixed draws per quote, so seeded outcomes never depend on injections.
        noise = self._rng.normal(0.0, NOISE_BPS / 10_000.0, n).tolist()
        stale_draw = self._rng.random(n).tolist()
        spike_draw = self._rng.random(n).tolist()
        spike_size = self._rng.uniform(*SPIKE_RANGE, n).tolist()
        spike_up = (self._rng.random(n) < 0.5).tolist()
        targets = self._on_demand_targets(primary)
        p_stale = self._faults.probability(FaultKind.VENDOR_STALE_PRICE)
        p_spike = self._faults.probability(FaultKind.VENDOR_PRICE_SPIKE)
        out: list[tuple[PriceQuote, Fault | None]] = []
        for k, quote in enumerate(primary):
            instrument = instruments[quote.instrument_id]
            previous = self._last.get(quote.instrument_id)
            fault = targets.get(quote.instrument_id)
            if fault is None:
                if previous is not None and stale_draw[k] < p_stale:
                    fault = self._faults.seeded(FaultKind.VENDOR_STALE_PRICE)
                elif spike_draw[k] < p_spike:
                    fault = self._faults.seeded(FaultKind.VENDOR_PRICE_SPIKE)
            elif fault.kind is FaultKind.VENDOR_PRICE_SPIKE:
                spike_size[k], spike_up[k] = (
                    self._on_demand.uniform(*SPIKE_RANGE),
                    self._on_demand.random() < 0.5,
                )
            if fault is not None and fault.kind is FaultKind.VENDOR_STALE_PRICE and previous is not None:
                published = previous.price
                description = (
                    f"vendor_b repeated its {previous.price_date} price {published} for {quote.instrument_id}; "
                    f"primary is {quote.price}"
                )
            elif fault is not None:
                factor = 1.0 + spike_size[k] if spike_up[k] else 1.0 - spike_size[k]
                published = to_tick(float(quote.price) * factor, instrument.tick_size)
                description = (
                    f"vendor_b spiked {quote.instrument_id} to {published} ({(factor - 1) * 100:+.1f}%); "
                    f"primary is {quote.price}"
                )
            else:
                published = to_tick(float(quote.price) * (1.0 + noise[k]), instrument.tick_size)
            if fault is not None:
                self._faults.apply(fault, day, description, instrument_id=quote.instrument_id)
            vendor_quote = PriceQuote(
                instrument_id=quote.instrument_id,
                price=published,
                currency=quote.currency,
                vendor=SECOND_VENDOR,
                price_date=day,
                accrued_interest=quote.accrued_interest,
            )
            self._last[quote.instrument_id] = vendor_quote
            out.append((vendor_quote, fault))
        return out

    def _on_demand_targets(self, primary: Sequence[PriceQuote]) -> dict[str, Fault]:
        """Pending vendor faults for today, one per instrument; a stale one waits for a previous price."""
        ids = [q.instrument_id for q in primary]
        targets: dict[str, Fault] = {}
        for fault in self._faults.pending(VENDOR_KINDS):
            needs_history = fault.kind is FaultKind.VENDOR_STALE_PRICE
            if fault.instrument_id:
                candidates = [fault.instrument_id] if fault.instrument_id in ids else []
            else:
                candidates = [i for i in ids if i not in targets]
            if needs_history:
                candidates = [i for i in candidates if i in self._last]
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
