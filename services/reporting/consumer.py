"""Follows market's stream for reporting: the book in memory, every mandate valued at each day end.

With dq (OPSUITE_REPORTING_USE_DQ, the default), a day end is valued once dq has said which of that
day's primary prices it rejected (dq_view.py): those holdings are valued at the last good price.

Effects are committed at day ends only (the day's valuations, the cursor and the book's state in one
transaction), so the stored cursor is the last day end: after a restart the events since then are
applied again to the book as it was at that day end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from opsuite.market.v1 import market_pb2
from services.common.market_events import DayEnd, Instrument, Mandate
from services.common.market_events.decode import decode
from services.reporting.domain.daily import DailyValuer
from services.reporting.domain.quarantine import RejectedPrice
from services.reporting.dq_view import DqQuarantine
from services.reporting.store import ReportingStore

# What reporting reads: the desk's book (its fills and FX deals), prices and rates, income,
# management fees and the investors' flows.
VALUED_KINDS = (
    "market.regime",
    "fee.accrued",
    "price.tick",
    "fx.rate",
    "trade.fill",
    "trade.fx",
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
        quarantine: DqQuarantine | None = None,
    ) -> None:
        self.store = store
        self.quarantine = quarantine
        self.valuer = DailyValuer(mandates, instruments)
        self.cursor, state = store.load()
        if state:
            latest = {
                m: day.valuation for m in self.valuer.book.mandates if (day := store.latest(m)) is not None
            }
            self.valuer.restore(state, latest)

    def load(self) -> int:
        return self.cursor

    def save(self, seq: int) -> None:
        """Nothing to commit between day ends: each day end commits itself."""

    async def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        for message in events:
            event = decode(message)
            rejected: list[RejectedPrice] = []
            if self.quarantine is not None and isinstance(event.payload, DayEnd):
                rejected = await self.quarantine.rejected_on(event.payload.date)
            valued = self.valuer.apply(event, rejected)
            if valued:
                self.store.commit_day_end(event.seq, self.valuer.to_json(), valued)
                self.cursor = event.seq
