"""What dq remembers of one vendor's prices of one instrument, and the evidence it draws from them.

Days are counted by a day index (one a business day seen). A Series keeps:
- the last published price, the day it was published and the day it last changed (staleness);
- the last good price (the last one not quarantined), its day and the instrument's peer index
  then (returns are measured from it, so a rejected spike does not make tomorrow's return a
  spike the other way);
- the last `window` standardised returns (spike scores), each the day's log return net of the
  peers' median return, per business day of the gap, divided by the regime's volatility factor.
Everything is a plain value, so a Series round-trips through JSON.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.common.market_events import PriceQuote
from services.dq.domain import robust


@dataclass(slots=True)
class Series:
    previous: Decimal | None = None
    previous_day: int = -1
    changed_day: int = -1
    last_good: Decimal | None = None
    good_day: int = -1
    good_peer_index: float = 0.0
    history: list[float] = field(default_factory=list)

    def stale_days(self, price: Decimal, day: int) -> int:
        """Business days `price` has gone unchanged as of `day` (0 when it is fresh)."""
        if self.previous is None or price != self.previous or self.changed_day < 0:
            return 0
        return day - self.changed_day

    def move(self, price: Decimal, day: int) -> float | None:
        """Relative change from the previous business day's price; None without one."""
        if self.previous is None or self.previous_day != day - 1 or self.previous <= 0 or price <= 0:
            return None
        return float(price / self.previous - 1)

    def publish(self, price: Decimal, day: int) -> None:
        if self.previous is None or price != self.previous:
            self.changed_day = day
        self.previous, self.previous_day = price, day

    def accept(
        self, price: Decimal, day: int, peer_index: float, standardised: float | None, window: int
    ) -> None:
        self.last_good, self.good_day, self.good_peer_index = price, day, peer_index
        if standardised is not None:
            self.history.append(standardised)
            del self.history[:-window]

    def to_json(self) -> dict[str, Any]:
        return {
            "previous": None if self.previous is None else str(self.previous),
            "previous_day": self.previous_day,
            "changed_day": self.changed_day,
            "last_good": None if self.last_good is None else str(self.last_good),
            "good_day": self.good_day,
            "good_peer_index": self.good_peer_index,
            "history": list(self.history),
        }

    @classmethod
    def restore(cls, data: dict[str, Any]) -> Series:
        return cls(
            previous=None if data["previous"] is None else Decimal(data["previous"]),
            previous_day=int(data["previous_day"]),
            changed_day=int(data["changed_day"]),
            last_good=None if data["last_good"] is None else Decimal(data["last_good"]),
            good_day=int(data["good_day"]),
            good_peer_index=float(data["good_peer_index"]),
            history=[float(v) for v in data["history"]],
        )


@dataclass(frozen=True, slots=True)
class Move:
    """One vendor's price today against its last good price, net of its peers.

    net: log return since the last good price less the peers' median log returns over the same
    days; gap: business days since the last good price; standardised: net per business day of
    the gap divided by the regime factor (what the history keeps); score: its robust z against
    the history, None while the history is shorter than the spike check's min_history;
    prior_z: the per-day net return over min_scale x the regime factor (at least min_scale), a
    rough score for deciding between two vendors while there is no history yet.
    """

    net: float
    gap: int
    standardised: float
    score: robust.RobustScore | None
    prior_z: float

    @property
    def z(self) -> float:
        """The robust z where there is one, else the prior one."""
        return self.score.z if self.score is not None else self.prior_z


def measure(
    series: Series,
    price: Decimal,
    day: int,
    peer_index: float,
    factor: float,
    min_history: int,
    min_scale: float,
) -> Move | None:
    """The Move of `price` on `day`; None without a positive last good price to measure from."""
    if series.last_good is None or series.last_good <= 0 or price <= 0 or day <= series.good_day:
        return None
    gap = day - series.good_day
    net = math.log(price / series.last_good) - (peer_index - series.good_peer_index)
    per_day = net / math.sqrt(gap)
    scored = (
        robust.score(per_day, series.history, min_scale, factor)
        if len(series.history) >= min_history
        else None
    )
    prior = per_day / (min_scale * max(factor, 1.0))
    return Move(net=net, gap=gap, standardised=per_day / factor, score=scored, prior_z=prior)


def quote_json(quote: PriceQuote) -> dict[str, Any]:
    return {
        "instrument_id": quote.instrument_id,
        "price": str(quote.price),
        "currency": quote.currency,
        "vendor": quote.vendor,
        "price_date": quote.price_date.isoformat(),
    }


def quote_from_json(data: Mapping[str, Any]) -> PriceQuote:
    return PriceQuote(
        instrument_id=data["instrument_id"],
        price=Decimal(data["price"]),
        currency=data["currency"],
        vendor=data["vendor"],
        price_date=dt.date.fromisoformat(data["price_date"]),
    )
