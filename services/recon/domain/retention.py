"""How much closed history recon keeps, as pure rules: the horizon, when to prune, what stays.

recon keeps `keep_days` business days of closed history (OPSUITE_RECON_KEEP_DAYS; 0 keeps
everything). The horizon is the business date keep_days before the latest day end checked; closed
breaks whose last change came before it go with their actions, as do older check runs and change-feed
rows (the store applies it: store/sqlite.py `prune`). Pruning is done in steps, at most once every
PRUNE_EVERY_BUSINESS_DAYS, so most day ends delete nothing.

What stays although the horizon would let it go (`keeps`):
- an open break, whatever its age (the store refuses deleting one anyway);
- the latest generation of a balance key (a position or a cash balance): that subject breaks again
  for as long as the mandate exists, and its next break's id is BRK-<hash>-<latest + 1> only while
  the latest is remembered. Forgetting it would hand out an id already used: a watcher would see an
  old id "opened" again, and the ledger's suspense and write-off journals, whose idempotency keys
  name the break id, would answer with the old break's journal. There is at most one per
  (comparison, mandate, account, instrument or currency): bounded;
- the latest generation of a trade or cash-flow key while recon still follows its fill (or
  custodian booking) or cash flow: only then can that item break again (check.py compares only
  what the followed state holds), and forgetting it would reuse its id as above;
- a break that still owes the ledger a journal (the caller adds that rule: it needs the currency's
  minor unit, which is the ledger's).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.recon.domain.followed import FollowedState
from services.recon.domain.records import Break, Scope

# At most one prune per this many business days: each deletes three or four weeks of history at once.
PRUNE_EVERY_BUSINESS_DAYS = 21


def horizon_of(dates: Sequence[dt.date], keep_days: int) -> dt.date | None:
    """The business date keep_days before the latest of `dates` (the day ends checked, ascending);
    None when keep_days is 0 (keep everything) or fewer than keep_days + 1 days were checked."""
    if keep_days <= 0 or len(dates) <= keep_days:
        return None
    return dates[-1 - keep_days]


def prune_due(
    dates: Sequence[dt.date],
    pruned_to: dt.date | None,
    horizon: dt.date,
    every: int = PRUNE_EVERY_BUSINESS_DAYS,
) -> bool:
    """Whether to prune to `horizon` now: never pruned yet, or the horizon moved at least `every`
    business days past the one pruned to (counted in `dates`)."""
    if pruned_to is None:
        return True
    if horizon <= pruned_to:
        return False
    return bisect.bisect_left(dates, horizon) - bisect.bisect_left(dates, pruned_to) >= every


@dataclass(frozen=True, slots=True)
class Followed:
    """What recon still follows (and so may still compare): fills, including those custodian bookings
    name, the custodian's booking references, and cash flows."""

    fills: frozenset[str] = frozenset()
    custodian_refs: frozenset[str] = frozenset()
    cash_flows: frozenset[str] = frozenset()

    @classmethod
    def of(cls, state: FollowedState) -> Followed:
        return cls(
            fills=frozenset(state.fills) | frozenset(b.fill_id for b in state.bookings.values() if b.fill_id),
            custodian_refs=frozenset(state.bookings),
            cash_flows=frozenset(state.flows),
        )


def keeps(brk: Break, *, latest: bool, followed: Followed) -> bool:
    """Whether a break before the horizon stays all the same (see the module's rules). latest: it is
    the latest generation of its item key."""
    if brk.status.is_open:
        return True
    if not latest:
        return False  # a later generation of its key is stored: that one numbers the next
    if not brk.scope.is_item:
        return True
    if brk.scope is Scope.TRADE:
        return brk.fill_id in followed.fills or any(r in followed.custodian_refs for r in brk.custodian_refs)
    return brk.cash_flow_id in followed.cash_flows
