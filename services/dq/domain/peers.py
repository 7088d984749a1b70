"""An instrument's peers and their move on a day: what a price's return is measured net of.

Peers are the other instruments of the same asset class and currency. Their move on a day is
the median of their primary log returns, each from its previous business day's price (a peer
not priced both days, or whose price today was rejected, does not count); `moved` is the share
of them whose price changed at all.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.common.market_events import Instrument


@dataclass(frozen=True, slots=True)
class PeerMove:
    """median: the peers' median log return (None: no peer priced both days); moved: the share
    of those peers whose price changed."""

    median: float | None
    moved: float | None


def peer_moves(
    instruments: Iterable[Instrument],
    today: Mapping[str, Decimal],
    yesterday: Mapping[str, Decimal],
) -> dict[str, PeerMove]:
    """Each instrument's peers' move. today: the day's good primary prices; yesterday: the
    previous business day's primary prices."""
    groups: dict[tuple[str, str], list[str]] = {}
    for instrument in sorted(instruments, key=lambda i: i.instrument_id):
        groups.setdefault((instrument.asset_class.value, instrument.currency), []).append(
            instrument.instrument_id
        )
    out: dict[str, PeerMove] = {}
    for members in groups.values():
        returns: dict[str, tuple[float, bool]] = {}
        for iid in members:
            price, previous = today.get(iid), yesterday.get(iid)
            if price is not None and previous is not None and price > 0 and previous > 0:
                returns[iid] = (math.log(price / previous), price != previous)
        for iid in members:
            others = [value for other, value in returns.items() if other != iid]
            if not others:
                out[iid] = PeerMove(None, None)
                continue
            out[iid] = PeerMove(
                statistics.median(r for r, _ in others), sum(moved for _, moved in others) / len(others)
            )
    return out
