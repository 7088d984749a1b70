"""market's and the ledger's protobuf turned into the check's domain records, and back.

The check itself (domain/check.py) never sees the wire: the books at a day end arrive here as
market's Snapshot and the ledger's balances, and leave as domain Books; a suspense or write-off
journal (domain/suspense.py) leaves as the ledger's PostJournalRequest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from opsuite.ledger.v1 import ledger_pb2
from opsuite.market.v1 import market_pb2
from services.common.convert import date_to_proto, money_to_proto
from services.common.market_events.decode import decode_book, decode_fx, decode_price
from services.recon.domain.check import Books, LedgerBalance, Reference, books_of, valuation_of
from services.recon.domain.records import Break
from services.recon.domain.suspense import LedgerJournal

SOURCE = "recon"  # recon's name in the combined event log and on the journals it posts
# Minor units of the currencies the ledger knows (docs/ledger-design.md); 2 for any other.
MINOR_UNITS = {"JPY": 0}


def ledger_balance(line: ledger_pb2.AccountBalance) -> LedgerBalance:
    return LedgerBalance(
        account=line.account,
        balance=Decimal(line.balance.amount.value or "0"),
        quantity=Decimal(line.quantity.value or "0"),
    )


def books_from(
    snapshot: market_pb2.Snapshot,
    ledger: Mapping[str, Sequence[ledger_pb2.AccountBalance]] | None,
    reference: Reference,
) -> Books:
    """The books at one day end: market's snapshot, and the ledger's balances (None: no ledger)."""
    d = snapshot.as_of_date
    internal = [decode_book(b) for b in snapshot.internal_books]
    return books_of(
        as_of_date=dt.date(d.year, d.month, d.day),
        internal_books=internal,
        custodian_books=[decode_book(b) for b in snapshot.custodian_books],
        valuation=valuation_of(
            [decode_price(q) for q in snapshot.prices], [decode_fx(r) for r in snapshot.fx_rates], reference
        ),
        ledger=None
        if ledger is None
        else {m: [ledger_balance(line) for line in lines] for m, lines in ledger.items()},
    )


def minor_places(currency: str) -> int:
    """Decimal places of the currency's minor unit, as the ledger keeps it."""
    return MINOR_UNITS.get(currency, 2)


def journal_request(journal: LedgerJournal, brk: Break) -> ledger_pb2.PostJournalRequest:
    """The PostJournalRequest of a suspense or write-off journal (domain/suspense.py) for `brk`."""
    return ledger_pb2.PostJournalRequest(
        idempotency_key=journal.idempotency_key,
        mandate_id=journal.mandate_id,
        kind=ledger_pb2.JOURNAL_KIND_SUSPENSE,
        effective_date=date_to_proto(journal.effective_date),
        memo=journal.memo,
        postings=[
            ledger_pb2.Posting(
                account=account, amount=money_to_proto(amount, journal.currency), memo=journal.memo
            )
            for account, amount in journal.postings
        ],
        trace_id=brk.trace_id,
        caused_by=[brk.break_id],
        posted_by=SOURCE,
    )
