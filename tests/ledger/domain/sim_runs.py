"""Simulated runs for the ledger's property tests: the market's events as records, day by day.

Runs are cached per (seed, days, fault_rate): the simulation is deterministic,
so tests share them read-only.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass

from services.common.market_events import Instrument, Mandate, MarketEvent
from services.ledger.domain.records import JournalDraft
from services.ledger.domain.rules import LedgerBook
from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.macro import MacroHistory
from services.market.sim.records import DayResult

START = dt.date(2020, 2, 3)


@dataclass(frozen=True)
class SimDay:
    result: DayResult
    events: tuple[MarketEvent, ...]


@dataclass(frozen=True)
class Run:
    mandates: tuple[Mandate, ...]
    instruments: tuple[Instrument, ...]
    days: tuple[SimDay, ...]

    def book(self) -> LedgerBook:
        return LedgerBook.from_market(self.mandates, self.instruments)

    def events(self) -> Iterator[MarketEvent]:
        for day in self.days:
            yield from day.events


@functools.cache
def _macro() -> MacroHistory:
    return load_macro(START)


@functools.lru_cache(maxsize=16)
def simulated_run(seed: int, days: int, fault_rate: float) -> Run:
    sim = Simulation(SimConfig(seed=seed, start=START, days=days, fault_rate=fault_rate), _macro())
    out = []
    while (result := sim.step()) is not None:
        out.append(SimDay(result, result.events))
    return Run(
        tuple(sim.mandates),
        tuple(sim.instruments),
        tuple(out),
    )


def replay(run: Run) -> list[tuple[MarketEvent, list[JournalDraft]]]:
    """Each event with the drafts a fresh book posts for it."""
    book = run.book()
    return [(event, book.apply(event)) for event in run.events()]
