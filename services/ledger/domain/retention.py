"""When the ledger closes a period (OPSUITE_LEDGER_KEEP_DAYS): the pure rule, no storage.

The ledger keeps the journal detail of its latest date and the `keep_days` business days before it;
the journals before that horizon are deleted by a close (store.close_period), while the cumulative
balances keep every as-of answer from the horizon on exact. So the store stays bounded however long
market runs (at one business day a second, a simulated year every four minutes).

- The latest date is market's: the day the ledger has booked the stream up to (its book's current
  date), never the latest effective date of any journal, so a manual journal dated far in the future
  cannot move the horizon and close the present.
- Business days are counted with the project's calendar (services/common/calendar.py). The ledger
  has no list of market's dates, so it counts weekdays: a market holiday counts as a kept day, which
  keeps a day more, never less.
- Closes come in steps (`step` business days, at most a month), so the cost is amortised: between
  closes the ledger keeps between keep_days and keep_days + step business days before its latest date.
- One close deletes at most MAX_SPAN business days (one bounded transaction): a store that has never
  closed (an upgrade of a long run) is brought to its horizon by consecutive closes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.common.calendar import BusinessCalendar

DEFAULT_KEEP_DAYS = 1260  # about five years of business days
MAX_STEP = 21  # business days between closes: about a month
MAX_SPAN = 63  # business days one close may delete: about a quarter


@dataclass(frozen=True)
class Retention:
    """keep_days: business days of journal detail kept before the latest date; 0 keeps everything."""

    keep_days: int
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)

    def __post_init__(self) -> None:
        if self.keep_days < 0:
            raise ValueError(f"keep_days is a number of business days, 0 or more, not {self.keep_days}")

    @property
    def step(self) -> int:
        """Business days the horizon must be able to move before a close runs: a quarter of what is
        kept, at most a month (a small keep_days stays close to what it says; a large one closes monthly)."""
        return max(1, min(MAX_STEP, self.keep_days // 4))

    def horizon(self, latest: dt.date) -> dt.date:
        """The "closed before" date for a latest date: the business day keep_days before it."""
        return self.calendar.add(latest, -self.keep_days)

    def next_close(
        self, latest: dt.date, closed_before: dt.date | None, first_date: dt.date | None
    ) -> dt.date | None:
        """The horizon to close before now, or None when no close is due.

        closed_before: the recorded horizon (None: nothing closed yet); first_date: the earliest
        effective date stored, where a first close starts counting (None: no journal, nothing to close).
        """
        if self.keep_days == 0:
            return None
        start = closed_before if closed_before is not None else first_date
        # A latest date at or before the start closes nothing (the horizon is before it), and is not
        # counted back from: dt.date.min, "hold everything" from a reader not yet heard from, would
        # overflow.
        if start is None or latest <= start:
            return None
        target = self.horizon(latest)
        if target <= start or self.calendar.count_between(start, target) < self.step:
            return None
        return min(target, self.calendar.add(start, MAX_SPAN))
