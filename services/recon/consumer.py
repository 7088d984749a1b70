"""Follows market's stream for recon: the followed state in memory, a check at each day end.

Effects are committed at day ends only (the check commits the cursor and the state in its
transaction), so the stored cursor is the last day end: after a restart the events since then
are applied again to the state as it was at that day end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from opsuite.market.v1 import market_pb2
from services.common.market_events.decode import decode
from services.recon.checker import DayEndChecker
from services.recon.domain.followed import FollowedState
from services.recon.persistence import restore
from services.recon.store import ReconStore


class ReconConsumer:
    """The apply/save pair the follower drives, and the cursor it resumes from."""

    def __init__(self, store: ReconStore, checker: DayEndChecker) -> None:
        self.cursor, restored = restore(store)
        self.state = restored or FollowedState()
        # The state as of the last day end, for on-demand checks of that day end: kept as its JSON,
        # and read back only when an on-demand check or a raised break asks for it (rarely, where
        # every day end takes the snapshot).
        self._day_end_json = restored.to_json() if restored is not None else None
        self._at_day_end: FollowedState | None = None
        self.checker = checker

    @property
    def at_day_end(self) -> FollowedState | None:
        """The followed state as of the last day end checked (None before the first)."""
        if self._at_day_end is None and self._day_end_json is not None:
            self._at_day_end = FollowedState.from_json(self._day_end_json)
        return self._at_day_end

    def load(self) -> int:
        return self.cursor

    def save(self, seq: int) -> None:
        """Nothing to commit between day ends: the check commits at each day end."""

    async def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        for event in events:
            day_end = self.state.apply(decode(event))
            if day_end is None:
                continue
            await self.checker.day_end(self.state, day_end)
            self.cursor = day_end.seq
            self._day_end_json, self._at_day_end = self.state.to_json(), None

    def sim_time(self) -> dt.datetime | None:
        day_end = self.state.last_day_end
        return day_end.sim_time if day_end is not None else None
