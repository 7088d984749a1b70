"""The recon store's interface and the records it adds to the domain's (filters, the change feed).

Invariants the store keeps (the database enforces them where it can):
- one row per break id holding its latest state; (item_key, generation) is unique;
- break actions, check runs and the change feed are append-only (triggers refuse UPDATE, and DELETE
  of anything at or after the retention horizon);
- every stored change of a break gets the next change_seq: 1, 2, 3, ... with no gap, so a
  watcher that saw change_seq n resumes exactly after n; the feed kept is one gap-free run
  from `Retention.oldest_change_seq` to the head, and change_seq never goes back, pruned or not;
- commit_check writes the runs, breaks, actions, changes, timing items, the market cursor and the
  state blob in one transaction, or nothing.

Retention (`prune`): closed history before a horizon (a business date) may be deleted, in one
transaction: change-feed rows before the oldest kept change_seq, check runs of earlier dates, and
closed breaks none of whose changes is kept, with their actions. An open break is never deleted.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, Protocol

from services.recon.domain.records import (
    Break,
    BreakAction,
    BreakKind,
    BreakStatus,
    CheckRun,
    TimingItem,
)


class ChangeKind(enum.StrEnum):
    """How a break changed; the proto's ChangeKind names without their prefix."""

    OPENED = "OPENED"
    UPDATED = "UPDATED"
    AGED = "AGED"
    ESCALATED = "ESCALATED"
    RESOLVED = "RESOLVED"  # closed: resolved by a person or the data, or written off
    CURRENT = "CURRENT"  # never stored: a watch from 0 sends each open break once as it is now


@dataclass(frozen=True, slots=True)
class BreakChange:
    """One stored change: the break as it was right after it, and the action that explains it (None
    when the figures or the age changed without an action of their own)."""

    change_seq: int
    kind: ChangeKind
    record: Break
    action: BreakAction | None = None


@dataclass(frozen=True, slots=True)
class BreakFilter:
    """Which breaks to list; every set field narrows the result.

    kinds / statuses: empty means any. Ages are inclusive; max_age None is unbounded.
    min_abs_base_amount keeps breaks with |base_amount_difference| >= it (breaks whose base amount
    is unknown are left out when it is set). open_only keeps OPEN and INVESTIGATING. top_level_only
    keeps breaks without a parent; parent_break_id ("" = any) the children of one break.
    """

    mandate_id: str = ""
    kinds: frozenset[BreakKind] = frozenset()
    statuses: frozenset[BreakStatus] = frozenset()
    min_age: int = 0
    max_age: int | None = None
    min_abs_base_amount: Decimal | None = None
    open_only: bool = False
    instrument_id: str = ""
    aging_bucket: str = ""
    escalated_only: bool = False
    top_level_only: bool = False
    parent_break_id: str = ""


class CommitResult(NamedTuple):
    """changes: the change-feed entries the commit appended, in order; head: the last change_seq after it."""

    changes: tuple[BreakChange, ...]
    head: int


class Summary(NamedTuple):
    """One consistent read for GetReconciliation: the latest run per (mandate, comparison), the open
    breaks oldest first, and the timing items of the latest checks."""

    runs: tuple[CheckRun, ...]
    open_breaks: tuple[Break, ...]
    timing_items: tuple[TimingItem, ...]


class Retention(NamedTuple):
    """What the store has pruned: horizon None when nothing yet. oldest_change_seq: the lowest
    change_seq the feed still has (or will have next, when every change before it was pruned); a
    watch may resume after oldest_change_seq - 1 at the earliest."""

    horizon: dt.date | None
    oldest_change_seq: int


class Pruned(NamedTuple):
    """One prune: the retention after it and how many rows of each kind went."""

    retention: Retention
    breaks: int
    actions: int
    check_runs: int
    changes: int


# Whether a break the horizon would let go must stay all the same: (the break, whether it is the latest
# generation of its item key) -> keep it. Decided by the domain (domain/retention.py), applied in
# the store's transaction.
KeepBreak = Callable[[Break, bool], bool]

# Applied inside the store's write transaction: the break as stored -> (the break after, its actions).
Updater = Callable[[Break], tuple[Break, Sequence[BreakAction]]]


class ReconStore(Protocol):
    # ------------------------------------------------------------ writing

    def commit_check(
        self,
        runs: Sequence[CheckRun],
        breaks_changed: Sequence[Break],
        actions: Sequence[BreakAction],
        *,
        cursor: int | None,
        state: str | None,
        timing_items: Sequence[TimingItem] | None = None,
        expected_head: int | None = None,
    ) -> CommitResult:
        """Record one check in one transaction.

        breaks_changed may be every break `advance` returned: breaks equal to their stored row are
        skipped, and a change-feed entry is appended only for a break that is new or differs in more
        than last_seen_date / last_run_id. timing_items (when given) replace the stored ones of the
        (mandate, comparison) pairs of `runs`. cursor / state None leave them as they are.
        A run or action id already stored is skipped when identical, else ConflictingRecord.
        expected_head: refuse with StaleRead unless the change feed's head is still this.
        """
        ...

    def apply_update(self, break_id: str, change: Updater) -> tuple[Break, tuple[BreakAction, ...], int]:
        """Run `change` on the stored break under the write lock and store the result, its actions and
        one change-feed entry; returns (break, actions, change_seq). UnknownBreak; any exception
        from `change` (the domain's WorkflowError) leaves everything unchanged."""
        ...

    def prune(self, horizon: dt.date, keep: KeepBreak | None = None) -> Pruned:
        """Delete the closed history before `horizon`, in one transaction, and record the horizon.

        Goes: change-feed rows appended before the day end of the latest date checked before the
        horizon (the feed stays one gap-free run up to the head); check runs dated before the horizon
        except the latest of each (mandate, comparison); closed breaks none of whose changes is kept
        (nothing happened to them since before the horizon) unless keep(break, latest generation)
        says otherwise, with their actions. Open breaks stay whatever their age. A horizon not after
        the one recorded changes nothing (the horizon only moves forward).
        """
        ...

    def retention(self) -> Retention:
        """The horizon pruned to and the oldest change_seq kept."""
        ...

    def subscribe(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call listener(head) after every commit that appended changes (from the committing thread);
        returns the function that unsubscribes it."""
        ...

    # ------------------------------------------------------------ reading

    def get_break(self, break_id: str) -> Break | None: ...

    def break_detail(self, break_id: str) -> tuple[Break, tuple[BreakAction, ...]] | None:
        """The break and its actions (oldest first) from one snapshot."""
        ...

    def actions(self, break_id: str) -> list[BreakAction]:
        """The break's actions, oldest first."""
        ...

    def breaks(self, flt: BreakFilter, after: str = "", limit: int = 100) -> list[Break]:
        """Breaks matching flt ordered by (opened_at, break_id), strictly after the break `after`
        ("" = from the start), at most limit. UnknownBreak when `after` names no break."""
        ...

    def open_breaks(self, mandate_id: str = "") -> list[Break]:
        """OPEN and INVESTIGATING breaks ordered by (opened_at, break_id); "" = every mandate."""
        ...

    def suspense_candidates(self) -> list[Break]:
        """The ledger-vs-custodian breaks that may owe (or have owed) the ledger a journal: open ones,
        ones that hold or once held suspense, and written-off ones; by (opened_at, break_id)."""
        ...

    def open_breaks_at_head(self, mandate_id: str = "") -> tuple[int, list[Break]]:
        """(head, open breaks) from one snapshot: a watch sends these, then follows after head."""
        ...

    def latest_by_key(self) -> dict[str, Break]:
        """item_key -> its latest generation, open or closed, of every key ever broken."""
        ...

    def latest_for(self, keys: Iterable[str]) -> dict[str, Break]:
        """item_key -> latest generation of every open break and of each of `keys`: what a check
        (domain.breaks.advance) needs, read in time that grows with the open breaks and the day's
        differences, not with the years of closed history kept."""
        ...

    def latest_runs(self, mandate_id: str = "") -> list[CheckRun]:
        """The latest stored run per (mandate, comparison), ordered by mandate then comparison."""
        ...

    def timing_items(self, mandate_id: str = "") -> list[TimingItem]: ...

    def summary(self, mandate_id: str = "") -> Summary: ...

    def change_feed(self, after_change_seq: int, limit: int) -> list[BreakChange]:
        """Changes with change_seq > after_change_seq, ascending, at most limit. ChangesPruned when
        some of them were pruned (after_change_seq < oldest_change_seq - 1): the reader would miss
        them, so it must start again from the open breaks (a watch from 0)."""
        ...

    def head(self) -> int:
        """The last change_seq (0 before the first change)."""
        ...

    def load_cursor(self) -> tuple[int, str | None]:
        """(last market seq applied, state blob) as committed; (0, None) initially."""
        ...

    def counts(self) -> Mapping[str, int]:
        """Rows per table, for tests and metrics."""
        ...

    def close(self) -> None: ...


__all__ = [
    "BreakChange",
    "BreakFilter",
    "ChangeKind",
    "CommitResult",
    "KeepBreak",
    "Pruned",
    "ReconStore",
    "Retention",
    "Summary",
    "Updater",
]
