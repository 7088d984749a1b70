"""The life of a break, as pure functions: open, persist and age, escalate, group under a parent,
auto-resolve; and the manual workflow. (Suspense postings follow breaks: domain/suspense.py.)

Identity: a break's id derives from its item key (what is compared, not the amount)
and a generation: BRK-<hash> for the first, BRK-<hash>-<n> for the n-th time the
same item breaks again after its previous break was resolved. So ids are stable
across checks and restarts with no stored counter beyond the breaks themselves.

Rules of `advance` (one check run):
- a BREAK difference whose key has an open break refreshes it (figures, last seen,
  age, bucket, escalation); AGED when the bucket changes, ESCALATED when it first
  escalates (escalation is sticky while the break is open);
- a BREAK difference with no break, or whose latest break is RESOLVED, opens a new
  generation (OPENED, or REOPENED for generation > 1);
- a WRITTEN_OFF break stays written off while the difference is the one written off;
  a different difference opens a new generation;
- an open break the run covers (mandate, comparison, scope) whose key has no BREAK
  difference any more (matched, within tolerance, or now a timing item) is
  AUTO_RESOLVED, naming the event that resolved it when the caller knows it; a closing
  record of its key (a non-BREAK difference with other_date: a trade settled late, a
  cash flow corrected) gives it its final dates and description;
- parents: a position or cash break (any comparison) is grouped under the oldest open
  book-vs-custodian trade-level or cash-flow break of its mandate and instrument
  (positions: trade breaks) or currency (cash: trade and cash-flow breaks), as open after
  this run; it keeps its parent while that stays open. A break with a parent is not
  escalated (it still ages); without one it escalates by its own age and amount.
Workflow: OPEN <-> INVESTIGATING, and either -> RESOLVED or WRITTEN_OFF; a closed
break stays closed (if its difference is still there, the next check opens a new
generation). A ledger-vs-custodian break is never RESOLVED by a person (it resolves itself
or is written off). Comments are always allowed; assigning a closed break is not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from services.recon.domain.aging import Calendar, age_of, as_calendar, escalation_reason
from services.recon.domain.config import ReconConfig
from services.recon.domain.records import (
    RECON_ACTOR,
    ActionKind,
    Break,
    BreakAction,
    BreakStatus,
    Comparison,
    Difference,
    Outcome,
    RunContext,
    Scope,
)

S = BreakStatus
TRANSITIONS: Mapping[BreakStatus, frozenset[BreakStatus]] = {
    S.OPEN: frozenset({S.INVESTIGATING, S.RESOLVED, S.WRITTEN_OFF}),
    S.INVESTIGATING: frozenset({S.OPEN, S.RESOLVED, S.WRITTEN_OFF}),
    S.RESOLVED: frozenset(),
    S.WRITTEN_OFF: frozenset(),
}
# Fields a check copies from the difference onto the break.
_FROM_DIFFERENCE = (
    "kind",
    "instrument_id",
    "currency",
    "account",
    "fill_id",
    "custodian_refs",
    "cash_flow_id",
    "ledger_account",
    "book_quantity",
    "other_quantity",
    "quantity_difference",
    "book_amount",
    "other_amount",
    "amount_difference",
    "base_currency",
    "base_amount_difference",
    "book_date",
    "other_date",
    "tolerance_absolute",
    "tolerance_relative",
    "description",
)


class WorkflowError(ValueError):
    """A refused workflow update; nothing was changed."""


class InvalidUpdate(WorkflowError):
    """No actor, or nothing to change (the service's INVALID_ARGUMENT)."""


class TransitionRefused(WorkflowError):
    """A move the workflow does not allow (the service's FAILED_PRECONDITION)."""


class Advanced(NamedTuple):
    """breaks: the latest record per item key (given or opened), sorted by key; actions in order;
    opened / resolved: the breaks this run opened and auto-resolved; changed: every record that
    differs from before other than in last_seen_date / last_run_id."""

    breaks: tuple[Break, ...]
    actions: tuple[BreakAction, ...]
    opened: tuple[Break, ...]
    resolved: tuple[Break, ...]
    changed: tuple[Break, ...]


def break_id_for(item_key: str, generation: int) -> str:
    digest = hashlib.sha256(item_key.encode()).hexdigest()[:20]
    return f"BRK-{digest}" if generation == 1 else f"BRK-{digest}-{generation}"


_BREAK_ID = re.compile(r"BRK-[0-9a-f]{20}(-([2-9]|[1-9][0-9]+))?")


def looks_like_break_id(text: str) -> bool:
    """Whether text has the form break_id_for gives (which item key it hashes cannot be told)."""
    return _BREAK_ID.fullmatch(text) is not None


def _action_id(*parts: object) -> str:
    return "ACT-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]


def _auto_action(
    brk: Break, kind: ActionKind, run: RunContext, before: BreakStatus, comment: str = ""
) -> BreakAction:
    return BreakAction(
        action_id=_action_id(brk.break_id, run.run_id, kind.value),
        break_id=brk.break_id,
        kind=kind,
        actor=RECON_ACTOR,
        at=run.at,
        sim_time=run.sim_time,
        from_status=before,
        to_status=brk.status,
        comment=comment,
    )


def _same_difference(brk: Break, difference: Difference) -> bool:
    return (brk.quantity_difference, brk.amount_difference, brk.kind) == (
        difference.quantity_difference,
        difference.amount_difference,
        difference.kind,
    )


def _merged(first: Iterable[str], more: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *more)))


def _aged(brk: Break, today: dt.date, calendar: Calendar, config: ReconConfig) -> Break:
    age = age_of(brk.first_seen_date, today, calendar)
    reason = (
        ""
        if brk.parent_break_id
        else brk.escalation_reason
        or escalation_reason(brk.kind, age, brk.base_currency, brk.base_amount_difference, config.escalation)
    )
    return dataclasses.replace(
        brk,
        age_business_days=age,
        aging_bucket=config.aging.bucket_for(age),
        escalated=bool(reason),
        escalation_reason=reason,
    )


def open_break(
    difference: Difference,
    generation: int,
    run: RunContext,
    today: dt.date,
    config: ReconConfig,
    parent_break_id: str = "",
) -> Break:
    fields = {name: getattr(difference, name) for name in _FROM_DIFFERENCE}
    brk = Break(
        break_id=break_id_for(difference.item_key, generation),
        item_key=difference.item_key,
        generation=generation,
        mandate_id=difference.mandate_id,
        status=S.OPEN,
        comparison=difference.comparison,
        scope=difference.scope,
        first_seen_date=today,
        last_seen_date=today,
        opened_at=run.sim_time,
        updated_at=run.sim_time,
        opened_in_run_id=run.run_id,
        last_run_id=run.run_id,
        caused_by=difference.caused_by,
        trace_id=run.trace_id,
        parent_break_id=parent_break_id,
        **fields,
    )
    reason = (
        ""
        if parent_break_id
        else escalation_reason(brk.kind, 0, brk.base_currency, brk.base_amount_difference, config.escalation)
    )
    return dataclasses.replace(
        brk, aging_bucket=config.aging.bucket_for(0), escalated=bool(reason), escalation_reason=reason
    )


class _Candidate(NamedTuple):
    first_seen_date: dt.date
    break_id: str


def _subjects(brk: Break | Difference) -> tuple[tuple[str, Scope, str], ...]:
    """The balance keys an item-level break may parent: (mandate, POSITION, instrument) for a trade,
    (mandate, CASH, currency) for a trade or a cash flow."""
    subjects = [(brk.mandate_id, Scope.CASH, brk.currency)]
    if brk.scope is Scope.TRADE:
        subjects.append((brk.mandate_id, Scope.POSITION, brk.instrument_id))
    return tuple(subjects)


def _parents(
    latest: Mapping[str, Break],
    found: Mapping[str, Difference],
    run: RunContext,
    today: dt.date,
) -> dict[tuple[str, Scope, str], list[_Candidate]]:
    """The item-level (trade and cash-flow) breaks open after this run, by the balance keys they
    may parent, oldest first."""
    candidates: dict[tuple[str, Scope, str], list[_Candidate]] = {}

    def add(item: Break | Difference, candidate: _Candidate) -> None:
        for subject in _subjects(item):
            candidates.setdefault(subject, []).append(candidate)

    for key, brk in latest.items():
        if (
            brk.scope.is_item
            and brk.status.is_open
            and key not in found
            and not run.covers(brk.mandate_id, brk.comparison, brk.scope)
        ):
            add(brk, _Candidate(brk.first_seen_date, brk.break_id))
    for key, difference in found.items():
        if not difference.scope.is_item:
            continue
        previous = latest.get(key)
        if previous is not None and previous.status.is_open:
            add(difference, _Candidate(previous.first_seen_date, previous.break_id))
        elif (
            previous is not None
            and previous.status is S.WRITTEN_OFF
            and _same_difference(previous, difference)
        ):
            continue
        else:
            generation = previous.generation + 1 if previous is not None else 1
            add(difference, _Candidate(today, break_id_for(key, generation)))
    for listed in candidates.values():
        listed.sort()
    return candidates


def _parent_of(
    difference: Difference,
    previous: Break | None,
    candidates: Mapping[tuple[str, Scope, str], list[_Candidate]],
) -> str:
    """The parent of a position or cash difference's break: the one it has while still open, else the
    oldest candidate of its key ("" for item-level breaks and when none)."""
    if difference.scope is Scope.POSITION:
        subject = (difference.mandate_id, Scope.POSITION, difference.instrument_id)
    elif difference.scope is Scope.CASH:
        subject = (difference.mandate_id, Scope.CASH, difference.currency)
    else:
        return ""
    listed = candidates.get(subject, [])
    if previous is not None and previous.parent_break_id in {c.break_id for c in listed}:
        return previous.parent_break_id
    return listed[0].break_id if listed else ""


def advance(
    breaks: Iterable[Break],
    differences: Iterable[Difference],
    *,
    run: RunContext,
    today: dt.date,
    calendar: Calendar | Sequence[dt.date] | None,
    config: ReconConfig,
    resolved_by: Mapping[str, str] | None = None,
) -> Advanced:
    """Apply one check run's differences to the breaks (the latest generation per item key;
    closed ones are needed for generations and write-offs). resolved_by: item key -> event id."""
    cal = as_calendar(calendar)
    latest: dict[str, Break] = {}
    for brk in breaks:
        held = latest.get(brk.item_key)
        if held is None or brk.generation > held.generation:
            latest[brk.item_key] = brk
    found: dict[str, Difference] = {}
    closing: dict[str, Difference] = {}
    for difference in differences:
        if difference.outcome is not Outcome.BREAK:
            if difference.other_date is not None:
                closing[difference.item_key] = difference
            continue
        if difference.item_key in found:
            raise ValueError(f"two break differences for one item: {difference.item_key}")
        found[difference.item_key] = difference
    candidates = _parents(latest, found, run, today)

    after = dict(latest)
    actions: list[BreakAction] = []
    opened: list[Break] = []
    resolved: list[Break] = []
    changed: list[Break] = []
    for key in sorted(found):
        difference = found[key]
        previous = latest.get(key)
        parent = _parent_of(difference, previous, candidates)
        if previous is not None and previous.status.is_open:
            fields = {name: getattr(difference, name) for name in _FROM_DIFFERENCE}
            refreshed = _aged(
                dataclasses.replace(
                    previous,
                    **fields,
                    caused_by=_merged(previous.caused_by, difference.caused_by),
                    last_seen_date=max(previous.last_seen_date, today),
                    last_run_id=run.run_id,
                    parent_break_id=parent,
                ),
                today,
                cal,
                config,
            )
            material = dataclasses.replace(
                refreshed, last_seen_date=previous.last_seen_date, last_run_id=previous.last_run_id
            )
            if material != previous:
                refreshed = dataclasses.replace(refreshed, updated_at=run.sim_time)
                changed.append(refreshed)
                if refreshed.aging_bucket != previous.aging_bucket:
                    actions.append(
                        _auto_action(refreshed, ActionKind.AGED, run, previous.status, refreshed.aging_bucket)
                    )
                if refreshed.escalated and not previous.escalated:
                    actions.append(
                        _auto_action(
                            refreshed, ActionKind.ESCALATED, run, previous.status, refreshed.escalation_reason
                        )
                    )
            after[key] = refreshed
            continue
        if (
            previous is not None
            and previous.status is S.WRITTEN_OFF
            and _same_difference(previous, difference)
        ):
            continue  # accepted as it is
        generation = previous.generation + 1 if previous is not None else 1
        brk = open_break(difference, generation, run, today, config, parent)
        kind = ActionKind.OPENED if generation == 1 else ActionKind.REOPENED
        comment = (
            "" if previous is None else f"previous break {previous.break_id} was {previous.status.lower()}"
        )
        actions.append(_auto_action(brk, kind, run, S.OPEN, comment))
        if brk.escalated:
            actions.append(_auto_action(brk, ActionKind.ESCALATED, run, S.OPEN, brk.escalation_reason))
        opened.append(brk)
        changed.append(brk)
        after[key] = brk

    for key, brk in sorted(latest.items()):
        if (
            key in found
            or not brk.status.is_open
            or not run.covers(brk.mandate_id, brk.comparison, brk.scope)
        ):
            continue
        closed, action = auto_resolved(brk, run, (resolved_by or {}).get(key, ""), closing.get(key))
        actions.append(action)
        resolved.append(closed)
        changed.append(closed)
        after[key] = closed
    return Advanced(
        breaks=tuple(after[k] for k in sorted(after)),
        actions=tuple(actions),
        opened=tuple(opened),
        resolved=tuple(resolved),
        changed=tuple(changed),
    )


def auto_resolved(
    brk: Break, run: RunContext, resolved_by: str = "", final: Difference | None = None
) -> tuple[Break, BreakAction]:
    """The open break as `run` resolves it (its difference went away, or what it is about was
    withdrawn), resolved by the event `resolved_by`; `final`: the last difference seen of it (its
    dates and description then), and the action that records it."""
    closed = dataclasses.replace(
        brk,
        status=S.RESOLVED,
        resolved_at=run.sim_time,
        updated_at=run.sim_time,
        resolved_by_event_id=resolved_by,
        last_run_id=run.run_id,
        book_date=final.book_date if final is not None else brk.book_date,
        other_date=final.other_date if final is not None else brk.other_date,
        description=final.description if final is not None else brk.description,
    )
    return closed, _auto_action(closed, ActionKind.AUTO_RESOLVED, run, brk.status)


# ---------------------------------------------------------------- workflow


def update(
    brk: Break,
    *,
    actor: str,
    at: dt.datetime,
    sim_time: dt.datetime,
    assignee: str | None = None,
    comment: str = "",
    status: BreakStatus | None = None,
) -> tuple[Break, tuple[BreakAction, ...]]:
    """Assign (None keeps, "" unassigns), comment and/or change status; one action each.

    Raises InvalidUpdate (no actor, nothing to change) or TransitionRefused; either way
    nothing changes. Asking for the current status or assignee changes nothing.
    """
    actor = actor.strip()
    if not actor:
        raise InvalidUpdate("actor: who acts is required")
    closed = not brk.status.is_open
    assigning = assignee is not None and assignee != brk.assignee
    moving = status is not None and status != brk.status
    if assigning and closed:
        raise TransitionRefused(f"{brk.break_id} is {brk.status.lower()}: a closed break cannot be assigned")
    if moving and status not in TRANSITIONS[brk.status]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[brk.status])) or "none (it is closed)"
        raise TransitionRefused(
            f"{brk.break_id}: status {brk.status.value} -> {status.value if status else ''} is not allowed; "
            f"allowed: {allowed}"
        )
    if moving and status is S.RESOLVED and brk.comparison is Comparison.LEDGER_VS_CUSTODIAN:
        raise TransitionRefused(
            f"{brk.break_id} is a ledger-vs-custodian break: it resolves itself when the ledger's cash agrees"
            " with the custodian's, or is written off (WRITTEN_OFF posts the difference to profit and loss);"
            " it cannot be marked resolved"
        )
    if not (assigning or moving or comment):
        raise InvalidUpdate(f"{brk.break_id}: nothing to change")

    actions: list[BreakAction] = []
    current = brk

    def act(kind: ActionKind, after: Break, assignee: str = "", comment: str = "") -> None:
        actions.append(
            BreakAction(
                action_id=_action_id(brk.break_id, at.isoformat(), kind.value, len(actions)),
                break_id=brk.break_id,
                kind=kind,
                actor=actor,
                at=at,
                sim_time=sim_time,
                from_status=current.status,
                to_status=after.status,
                assignee=assignee,
                comment=comment,
            )
        )

    if assigning:
        assert assignee is not None
        after = dataclasses.replace(current, assignee=assignee, updated_at=sim_time)
        act(ActionKind.ASSIGNED, after, assignee=assignee)
        current = after
    if moving:
        assert status is not None
        resolved_at = sim_time if status in (S.RESOLVED, S.WRITTEN_OFF) else None
        after = dataclasses.replace(current, status=status, resolved_at=resolved_at, updated_at=sim_time)
        act(ActionKind.STATUS_CHANGED, after)
        current = after
    if comment:
        after = dataclasses.replace(current, updated_at=sim_time)
        act(ActionKind.COMMENTED, after, comment=comment)
        current = after
    return current, tuple(actions)
