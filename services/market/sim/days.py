"""The business days a run simulates: the real ones from its start, then, when the run asks for more
than the data holds or for no end at all, the synthetic extension (macro/extension.py).

The extension is built only when the real days run out (building it reads the whole history), and
is consumed one day at a time, so a run with no end holds no list of its future or past days.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Sequence

from services.common.calendar import BusinessCalendar
from services.market.sim.macro import MacroDay

Extension = Callable[[], Iterator[MacroDay]]


class DaySource:
    """The run's days in order; `days` 0 means as many as there are (forever with an extension)."""

    def __init__(
        self,
        real: Sequence[MacroDay],
        days: int,
        extension: Extension | None,
        calendar: BusinessCalendar,
    ) -> None:
        if not real:
            raise ValueError("a run needs at least one real business day to start on")
        self._real = real[:days] if days else real
        self._synthetic_count = max(0, days - len(real)) if days else None  # None: no end
        self._extension = extension if (days == 0 or days > len(real)) else None
        self._iterator: Iterator[MacroDay] = iter(self._real)
        self._upcoming: MacroDay | None = None
        self.first = self._real[0]
        self.last_date = self._last_date(calendar)
        self._advance()

    def _last_date(self, calendar: BusinessCalendar) -> dt.date | None:
        """The date of the run's last day; None for a run with no end. The synthetic days follow the
        calendar after the data, so their dates are known without drawing them."""
        if self._extension is None:
            return self._real[-1].date
        if self._synthetic_count is None:
            return None
        return calendar.add(self._real[-1].date, self._synthetic_count)

    def _advance(self) -> None:
        upcoming = next(self._iterator, None)
        if upcoming is None and self._extension is not None:
            synthetic = self._extension()
            self._extension = None
            self._iterator = (
                synthetic
                if self._synthetic_count is None
                else itertools.islice(synthetic, self._synthetic_count)
            )
            upcoming = next(self._iterator, None)
        self._upcoming = upcoming

    @property
    def finished(self) -> bool:
        return self._upcoming is None

    def take(self) -> MacroDay:
        """The next day; IndexError past the last."""
        day = self._upcoming
        if day is None:
            raise IndexError("the run has no more days")
        self._advance()
        return day
