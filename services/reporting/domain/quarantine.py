"""Prices dq quarantined: reporting values a day end at the last good price instead, and says so.

dq (services/dq) rejects a primary price it finds wrong (a spike the other vendor and the peers did
not make, say) and keeps the last value that passed. Reporting asks it, at each day end, which of
that day's prices it rejected (GetQuarantine as of the date) and values every holding of such an
instrument at the last good price, with that price's date: the NAV is then provisional, and says
which prices and by how much. The ledger, the book of record, marks at the official (rejected)
price, so the two NAVs differ that day by exactly the quarantined holdings' effects (nav_effect:
reporting's valuation of the holding less the official one, in the base currency), which the
comparison with the ledger counts as explained (domain/comparison.py).

An instrument with no good price before (none passed dq yet) keeps its official price: there is
nothing better to use, and the NAV says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class RejectedPrice:
    """One primary price of the day dq rejected, as its quarantine says."""

    instrument_id: str
    issue_id: str
    rejected: Decimal
    last_good: Decimal | None
    last_good_date: dt.date | None


@dataclass(frozen=True, slots=True)
class QuarantinedPrice:
    """A holding valued at the last good price instead of the day's official one."""

    instrument_id: str
    issue_id: str
    rejected_price: Decimal
    used_price: Decimal
    used_price_date: dt.date
    nav_effect: Decimal  # this valuation less the official one, base currency

    def warning(self, ccy: str) -> str:
        return (
            f"provisional: {self.instrument_id}'s price {self.rejected_price} was quarantined by dq "
            f"({self.issue_id}); valued at {self.used_price} of {self.used_price_date}, "
            f"{self.nav_effect:+,} {ccy} from the official price"
        )


def unreplaceable_warning(rejected: RejectedPrice) -> str:
    return (
        f"{rejected.instrument_id}'s price {rejected.rejected} was quarantined by dq ({rejected.issue_id}) "
        "but no earlier price passed its checks: valued at the official price"
    )
