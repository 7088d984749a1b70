"""Ledger records <-> protobuf, with the request checks that belong to translation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import grpc

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2
from services.common.convert import (
    date_from_proto,
    date_to_proto,
    decimal_from_proto,
    decimal_to_proto,
    money_from_proto,
    money_to_proto,
    timestamp_to_proto,
)
from services.common.enums import enum_from_proto, enum_to_proto
from services.common.status import FieldViolation, RequestError
from services.ledger.domain.chart import MINOR_UNITS
from services.ledger.domain.records import Account, AccountType, BalanceLine, Journal, JournalKind, Posting


def money(amount: Decimal, currency: str) -> common_pb2.Money:
    """Money on the wire at the currency's minor units ("5.00", not "5"); never rounds."""
    places = MINOR_UNITS.get(currency)
    exponent = amount.as_tuple().exponent
    if places is not None and isinstance(exponent, int) and -exponent < places:
        amount = amount.quantize(Decimal(1).scaleb(-places))
    return money_to_proto(amount, currency)


def kind_to_proto(kind: JournalKind) -> ledger_pb2.JournalKind.ValueType:
    return enum_to_proto(ledger_pb2.JournalKind, "JOURNAL_KIND_", kind)


def kind_from_proto(value: int, field: str) -> JournalKind:
    return enum_from_proto(ledger_pb2.JournalKind, "JOURNAL_KIND_", JournalKind, value, field)


def account_type_to_proto(account_type: AccountType) -> ledger_pb2.AccountType.ValueType:
    return enum_to_proto(ledger_pb2.AccountType, "ACCOUNT_TYPE_", account_type)


def optional_date(message: common_pb2.Date, field: str) -> dt.date | None:
    return date_from_proto(message, field) if message.year else None


def posting_to_proto(posting: Posting) -> ledger_pb2.Posting:
    message = ledger_pb2.Posting(
        account=posting.account,
        amount=money(posting.amount, posting.currency),
        instrument_id=posting.instrument_id,
        lot_id=posting.lot_id,
        memo=posting.memo,
    )
    if posting.quantity is not None:
        message.quantity.CopyFrom(decimal_to_proto(posting.quantity))
    return message


def postings_from_proto(postings: Sequence[ledger_pb2.Posting], base_currency: str) -> tuple[Posting, ...]:
    """Request postings as records; base amounts given in the request are kept, else filled later."""
    records = []
    for index, message in enumerate(postings):
        field = f"postings[{index}]"
        amount, currency = money_from_proto(message.amount, f"{field}.amount")
        base_amount = None
        if message.HasField("base_amount"):
            base_amount, base_ccy = money_from_proto(message.base_amount, f"{field}.base_amount")
            if base_ccy != base_currency:
                raise RequestError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"{field}.base_amount must be in the mandate's base currency {base_currency}",
                    violations=[FieldViolation(f"{field}.base_amount.currency", f"must be {base_currency}")],
                )
        quantity = (
            decimal_from_proto(message.quantity, f"{field}.quantity")
            if message.HasField("quantity")
            else None
        )
        records.append(
            Posting(
                account=message.account,
                amount=amount,
                currency=currency,
                base_amount=base_amount,
                quantity=quantity,
                instrument_id=message.instrument_id,
                lot_id=message.lot_id,
                memo=message.memo,
            )
        )
    return tuple(records)


def journal_to_proto(journal: Journal, base_currency: str) -> ledger_pb2.Journal:
    draft = journal.draft
    message = ledger_pb2.Journal(
        journal_id=journal.journal_id,
        mandate_id=draft.mandate_id,
        kind=kind_to_proto(draft.kind),
        effective_date=date_to_proto(draft.effective_date),
        sim_time=timestamp_to_proto(draft.sim_time),
        posted_at=timestamp_to_proto(journal.posted_at),
        idempotency_key=draft.idempotency_key,
        memo=draft.memo,
        source_event_id=draft.source_event_id,
        trace_id=draft.trace_id,
        caused_by=list(draft.caused_by),
        reverses_journal_id=draft.reverses_journal_id,
        reversal_reason=draft.reversal_reason,
        reversed_by_journal_id=journal.reversed_by_journal_id,
        posted_by=draft.posted_by,
        ledger_seq=journal.ledger_seq,
    )
    for posting in draft.postings:
        leg = message.postings.add()
        leg.CopyFrom(posting_to_proto(posting))
        if posting.base_amount is not None:
            leg.base_amount.CopyFrom(money(posting.base_amount, base_currency))
    return message


def account_to_proto(account: Account) -> ledger_pb2.Account:
    message = ledger_pb2.Account(
        mandate_id=account.mandate_id,
        name=account.name,
        type=account_type_to_proto(account.type),
        currency=account.currency,
        instrument_id=account.instrument_id,
        opened_on=date_to_proto(account.opened_on),
        description=account.description,
    )
    if account.closed_on is not None:
        message.closed_on.CopyFrom(date_to_proto(account.closed_on))
    return message


def balance_to_proto(line: BalanceLine, base_currency: str) -> ledger_pb2.AccountBalance:
    message = ledger_pb2.AccountBalance(
        account=line.account,
        balance=money(line.balance, line.currency),
        base_balance=money(line.base_balance, base_currency),
        instrument_id=line.instrument_id,
    )
    if line.quantity is not None:
        message.quantity.CopyFrom(decimal_to_proto(line.quantity))
    return message


def trial_balance_line_to_proto(line: BalanceLine, base_currency: str) -> ledger_pb2.TrialBalanceLine:
    message = ledger_pb2.TrialBalanceLine(
        account=line.account,
        type=account_type_to_proto(AccountType.of(line.account)),
        currency=line.currency,
        debit_total=money(line.debit_total, line.currency),
        credit_total=money(line.credit_total, line.currency),
        balance=money(line.balance, line.currency),
        base_debit_total=money(line.base_debit_total, base_currency),
        base_credit_total=money(line.base_credit_total, base_currency),
        base_balance=money(line.base_balance, base_currency),
        instrument_id=line.instrument_id,
    )
    if line.quantity is not None:
        message.quantity.CopyFrom(decimal_to_proto(line.quantity))
    return message
