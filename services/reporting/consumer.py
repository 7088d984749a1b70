"""Follows market's stream for reporting: the book in memory, every mandate valued at each day end.

Effects are committed at day ends only (the day's valuations, the cursor and the book's state in one
transaction), so the stored cursor is the last day end: after a restart the events since then are
applied again to the book as it was at that day end.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from opsuite.market.v1 import market_pb2
from services.common.market_events import Instrument, Mandate
from services.common.market_events.decode import decode
from services.reporting.domain.book import ReportingBook
from services.reporting.domain.valuation import UnitRegister, value
from services.reporting.store import NavDay, ReportingStore

# What reporting reads: the desk's book, prices and rates, income and the investors' flows.
VALUED_KINDS = (
    "price.tick",
    "fx.rate",
    "trade.fill",
    "corporate_action.announced",
    "cashflow.",
    "clock.day_end",
)


class ReportingConsumer:
    """The apply/save pair the follower drives, and the cursor it resumes from."""

    def __init__(
        self,
        store: ReportingStore,
        mandates: Iterable[Mandate],
        instruments: Iterable[Instrument],
        on_day_end: Callable[[dt.date, int, Sequence[NavDay]], None] | None = None,
    ) -> None:
        self.store = store
        self.book = ReportingBook(mandates, instruments)
        self.registers = {mandate_id: UnitRegister() for mandate_id in self.book.mandates}
        self._on_day_end = on_day_end
        self.cursor, state = store.load()
        if state:
            self._restore(state)
        self.last_day_end: dt.date | None = self.book.date if self.cursor else None

    def load(self) -> int:
        return self.cursor

    def save(self, seq: int) -> None:
        """Nothing to commit between day ends: each day end commits itself."""

    def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        for message in events:
            event = decode(message)
            ends = self.book.apply(event)
            if not ends:
                continue
            days = []
            for end in ends:
                valuation = value(end, self.book.instruments)
                days.append(NavDay(valuation, self.registers[valuation.mandate_id].deal(valuation)))
            self.store.commit_day_end(event.seq, self._state(), days)
            self.cursor = event.seq
            self.last_day_end = ends[0].date
            if self._on_day_end is not None:
                self._on_day_end(ends[0].date, event.seq, days)

    def _state(self) -> str:
        return json.dumps(
            {
                "book": self.book.to_json(),
                "units": {
                    mandate_id: [str(r.units), None if r.last_nav is None else str(r.last_nav)]
                    for mandate_id, r in self.registers.items()
                },
            }
        )

    def _restore(self, text: str) -> None:
        data = json.loads(text)
        self.book.restore(data["book"])
        for mandate_id, (units, last_nav) in data["units"].items():
            if mandate_id in self.registers:
                self.registers[mandate_id] = UnitRegister(
                    Decimal(units), None if last_nav is None else Decimal(last_nav)
                )
