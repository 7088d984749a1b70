"""The simulated clock as market's GetClock gives it, as the clock panel shows it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.edge.dashboard.domain.formatting import MISSING, date_text, speed_text


@dataclass(frozen=True)
class ClockView:
    sim_date: dt.date | None
    regime: str  # calm, tightening, easing, stress, crisis
    running: bool
    as_fast_as_possible: bool
    business_days_per_second: float
    business_days_elapsed: int
    start_date: dt.date | None
    end_date: dt.date | None
    head_seq: int
    data_source: str  # snapshot or fred
    real_data_end: dt.date | None
    # Set on a synthetic day (past the real data): the real block its macro changes were drawn from.
    drawn_from: tuple[dt.date, dt.date] | None = None

    @property
    def speed(self) -> str:
        return speed_text(self.business_days_per_second, self.as_fast_as_possible)

    @property
    def day_kind(self) -> str:
        """ "real data" or "synthetic (drawn from 2008-09-02 .. 2008-09-29)"."""
        if self.drawn_from is None:
            return "real data"
        first, last = self.drawn_from
        return f"synthetic (drawn from {date_text(first)} .. {date_text(last)})"

    @property
    def state(self) -> str:
        """ "running", or "ended on <date>" once the run's last day is done."""
        if self.running:
            return "running"
        return f"ended on {date_text(self.end_date)}" if self.end_date else "stopped"

    @property
    def weekday(self) -> str:
        return self.sim_date.strftime("%A") if self.sim_date else MISSING
