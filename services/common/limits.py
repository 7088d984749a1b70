"""Limits on what a request may carry, one set for every service (docs/reliability.md lists them).

Free text is stored and sent back (a break's comment travels in every GetBreak, a journal's memo
in every GetLedger page), so an unbounded field is a way to exhaust memory and the 4 MB message
limit: each is refused past its limit with INVALID_ARGUMENT naming the field and the limit.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.common.status import FieldViolation

MAX_NAME_CHARS = 256  # ids, keys, actors, assignees, account names
MAX_TEXT_CHARS = 4_000  # comments, memos, reasons
# A page stops early, with a next_page_token, once its messages reach this many bytes: far below
# gRPC's 4 MB default, whatever the page size asked for.
MAX_PAGE_BYTES = 1_000_000


def too_long(fields: Iterable[tuple[str, str, int]]) -> list[FieldViolation]:
    """A violation for each (field, value, limit) whose value is longer than its limit."""
    return [
        FieldViolation(field, f"at most {limit:,} characters, got {len(value):,}")
        for field, value, limit in fields
        if len(value) > limit
    ]
