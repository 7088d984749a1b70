"""What the recon store refuses. Every refusal leaves the store unchanged (one transaction or nothing)."""

from __future__ import annotations

import datetime as dt


class ReconStoreError(Exception):
    """Base of every refusal of the recon store."""


class UnknownBreak(ReconStoreError, LookupError):
    def __init__(self, break_id: str) -> None:
        super().__init__(f"no break {break_id!r}")
        self.break_id = break_id


class StaleRead(ReconStoreError):
    """commit_check was computed from breaks read before another change landed; re-read and retry.

    Without this guard a check computed before a person's UpdateBreak would overwrite the update.
    """

    def __init__(self, expected_head: int, head: int) -> None:
        super().__init__(
            f"breaks changed since they were read (change_seq {expected_head} -> {head}); re-read and retry"
        )
        self.expected_head = expected_head
        self.head = head


class ConflictingRecord(ReconStoreError):
    """A run or action id already stored with other content (an identical replay is accepted silently)."""


class SchemaTooNew(ReconStoreError):
    """The database was written by a newer release; this code refuses to touch it."""


class ChangesPruned(ReconStoreError):
    """A read of the change feed from before the oldest change kept: what followed was pruned."""

    def __init__(self, after_change_seq: int, oldest_change_seq: int, horizon: dt.date | None) -> None:
        super().__init__(
            f"changes after {after_change_seq} were pruned up to {oldest_change_seq - 1}"
            f" (closed history before {horizon}); the oldest change kept is {oldest_change_seq}"
        )
        self.after_change_seq = after_change_seq
        self.oldest_change_seq = oldest_change_seq
        self.horizon = horizon
