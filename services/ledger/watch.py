"""What the ledger's watch RPCs need besides the store and the handlers (server.py): which journals a
WatchJournals request asks for, where its watch starts, and how often a watched trial balance is sent.
"""

from __future__ import annotations

import asyncio

import grpc

from opsuite.ledger.v1 import ledger_pb2
from services.common.limits import MAX_NAME_CHARS, too_long
from services.common.status import FieldViolation, RequestError, echo, invalid_argument
from services.ledger import codec
from services.ledger.domain.records import AccountType
from services.ledger.store import LedgerFilter, LedgerStore

WATCH_BATCH = 256  # journals read per round trip of a watch, and sent in one message at most
# A watched trial balance is sent at most once in this many seconds (changes in between coalesce).
TRIAL_BALANCE_INTERVAL_S = 0.5
ACCOUNT_ROOTS = tuple(t.value.capitalize() for t in AccountType)  # "Assets", ..., "Expenses"


def journal_filter(request: ledger_pb2.WatchJournalsRequest) -> LedgerFilter:
    """WatchJournals' filter; INVALID_ARGUMENT naming every malformed field (the mandate is the
    handler's to check: it knows the mandates)."""
    violations = too_long(
        [
            ("mandate_id", request.mandate_id, MAX_NAME_CHARS),
            ("account_prefix", request.account_prefix, MAX_NAME_CHARS),
        ]
    )
    kind = None
    if request.kind:
        try:
            kind = codec.kind_from_proto(request.kind, "kind")
        except RequestError as error:
            violations.extend(error.violations)
    root = request.account_prefix.split(":", 1)[0]
    if request.account_prefix and root not in ACCOUNT_ROOTS:
        violations.append(
            FieldViolation(
                "account_prefix",
                f"an account name starts with one of {', '.join(ACCOUNT_ROOTS)} (whole components): "
                f"{echo(root)} names no account",
            )
        )
    if violations:
        raise invalid_argument(violations)
    # From the horizon of a period close on: the journals before it are gone (see watch_start).
    return LedgerFilter(
        mandate_id=request.mandate_id, account_prefix=request.account_prefix, kind=kind, kept_only=True
    )


async def watch_start(store: LedgerStore, after: int) -> int:
    """Where a journal watch starts: the head for 0; OUT_OF_RANGE beyond the head, or before the
    first journal a period close kept (the journals in between are gone)."""
    head = await asyncio.to_thread(store.head)
    if after == 0:
        return head
    if after > head:
        raise RequestError(
            grpc.StatusCode.OUT_OF_RANGE,
            f"after_ledger_seq {after} is beyond the last journal, ledger_seq {head}; resume from {head}, "
            "or 0 for the journals posted from now on",
            violations=[FieldViolation("after_ledger_seq", f"at most {head}")],
            reason="CURSOR_AHEAD",
            metadata={"head": str(head)},
        )
    period = await asyncio.to_thread(store.closed_period)
    first = await asyncio.to_thread(store.first_kept_seq) if period.closed_before else 0
    if period.closed_before is not None and first and after < first - 1:
        raise RequestError(
            grpc.StatusCode.OUT_OF_RANGE,
            f"after_ledger_seq {after} is before the journals kept: the ledger closed the period before "
            f"{period.closed_before.isoformat()} and deleted its journals (the first kept is ledger_seq "
            f"{first}); resume from {first - 1}, or 0 for the journals posted from now on",
            violations=[FieldViolation("after_ledger_seq", f"at least {first - 1}, or 0")],
            reason="CURSOR_TOO_OLD",
            metadata={
                "first_kept_ledger_seq": str(first),
                "closed_before": period.closed_before.isoformat(),
            },
        )
    return after
