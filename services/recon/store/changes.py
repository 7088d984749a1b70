"""Which kind of change a stored break change is, and which of its actions explains it.

One commit gives one change per break (a watcher wants the break's new state once, not once per
action); the most telling action names it: opening, then closing, then escalation, then a move
to the next aging bucket, then anything else. History keeps every action (GetBreak).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.recon.domain.records import ActionKind, Break, BreakAction
from services.recon.store.base import ChangeKind

_RANK = {ChangeKind.OPENED: 0, ChangeKind.RESOLVED: 1, ChangeKind.ESCALATED: 2, ChangeKind.AGED: 3}


def _kind_of_action(action: BreakAction) -> ChangeKind:
    if action.kind in (ActionKind.OPENED, ActionKind.REOPENED):
        return ChangeKind.OPENED
    if action.kind is ActionKind.AUTO_RESOLVED or (
        action.kind is ActionKind.STATUS_CHANGED and not action.to_status.is_open
    ):
        return ChangeKind.RESOLVED
    if action.kind is ActionKind.ESCALATED:
        return ChangeKind.ESCALATED
    if action.kind is ActionKind.AGED:
        return ChangeKind.AGED
    return ChangeKind.UPDATED


def change_kind(
    before: Break | None, after: Break, actions: Sequence[BreakAction]
) -> tuple[ChangeKind, BreakAction | None]:
    """The kind of the change from `before` (None: new) to `after`, and the action that names it
    (None when no action of this commit explains it: new figures, or one more business day of age)."""
    if actions:
        ranked = [(_RANK.get(_kind_of_action(a), len(_RANK)), -i, a) for i, a in enumerate(actions)]
        _, _, action = min(ranked, key=lambda item: item[:2])  # most telling; the latest among equals
        return _kind_of_action(action), action
    if before is None:
        return ChangeKind.OPENED, None
    if before.status.is_open and not after.status.is_open:
        return ChangeKind.RESOLVED, None
    if after.escalated and not before.escalated:
        return ChangeKind.ESCALATED, None
    if after.age_business_days != before.age_business_days:
        return ChangeKind.AGED, None
    return ChangeKind.UPDATED, None
