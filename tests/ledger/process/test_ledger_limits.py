"""The ledger's range, through the running service (its own world: these postings are huge): a figure
past 10^12 is INVALID_ARGUMENT, and a balance that would grow past what the store holds is OUT_OF_RANGE; neither
writes anything (both answered UNKNOWN OutOfRange before)."""

from __future__ import annotations

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2
from opsuite.market.v1 import market_pb2
from services.common.status import details_of, status_from_error
from tests.ledger.process.conftest import World


def _suspense(world: World, key: str, amount: str) -> ledger_pb2.PostJournalRequest:
    mandate = world.market_stub.ListMandates(market_pb2.ListMandatesRequest()).mandates[0]
    ccy = mandate.base_currency

    def money(value: str) -> common_pb2.Money:
        return common_pb2.Money(amount=common_pb2.Decimal(value=value), currency=ccy)

    return ledger_pb2.PostJournalRequest(
        idempotency_key=key,
        mandate_id=mandate.mandate_id,
        kind=ledger_pb2.JOURNAL_KIND_SUSPENSE,
        effective_date=world.clock.sim_date,
        memo="limits",
        postings=[
            ledger_pb2.Posting(account=f"Assets:Suspense:{ccy}", amount=money(amount)),
            ledger_pb2.Posting(account=f"Assets:Cash:{ccy}", amount=money(f"-{amount}")),
        ],
    )


def _trial_balance(world: World, mandate_id: str) -> ledger_pb2.TrialBalance:
    return world.ledger_stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate_id))


def test_a_figure_past_the_limit_is_invalid_argument_naming_the_limit(world: World) -> None:
    request = _suspense(world, "limits:one", "1000000000000.01")
    before = _trial_balance(world, request.mandate_id)
    with pytest.raises(grpc.RpcError) as refused:
        world.ledger_stub.PostJournal(request)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert "beyond the ledger's limit of 1,000,000,000,000" in refused.value.details()
    bad_request, _ = details_of(status_from_error(refused.value))
    assert bad_request is not None
    assert [v.field for v in bad_request.field_violations] == ["postings[0].amount", "postings[1].amount"]
    assert _trial_balance(world, request.mandate_id) == before


def test_a_balance_that_would_pass_what_the_store_holds_is_out_of_range_and_writes_nothing(
    world: World,
) -> None:
    """On SQLite an account's running balance is held in signed 64-bit micro-units, at most
    9,223,372,036,854.775807: nine postings of 10^12 fit (9 x 10^12), the tenth (10^13) does not."""
    for n in range(9):
        world.ledger_stub.PostJournal(_suspense(world, f"limits:{n}", "1000000000000.00"))
    tenth = _suspense(world, "limits:9", "1000000000000.00")
    before = _trial_balance(world, tenth.mandate_id)
    with pytest.raises(grpc.RpcError) as refused:
        world.ledger_stub.PostJournal(tenth)
    assert refused.value.code() == grpc.StatusCode.OUT_OF_RANGE, refused.value.details()
    assert "out of the ledger's range" in refused.value.details()
    assert "nothing was written" in refused.value.details()
    assert _trial_balance(world, tenth.mandate_id) == before


def test_a_trace_id_or_cause_the_event_log_cannot_record_is_refused_before_anything_is_written(
    world: World,
) -> None:
    """Found by the fuzz suite: a journal whose trace_id is not 32 hex characters (or with an empty
    caused_by id) was written, then refused INVALID_ARGUMENT by its event-log record; the record stayed
    in the outbox, so every later PostJournal and ReverseJournal was written and refused as well."""
    good = _suspense(world, "trace:good", "1.00")
    before = _trial_balance(world, good.mandate_id)
    for n, (field, change) in enumerate(
        (
            ("trace_id", lambda r: setattr(r, "trace_id", "_MARKETEVENT")),
            ("trace_id", lambda r: setattr(r, "trace_id", "0" * 31 + "g")),
            ("caused_by[1]", lambda r: r.caused_by.extend(["mkt-1", ""])),
        )
    ):
        request = _suspense(world, f"trace:bad:{n}", "1.00")
        change(request)
        with pytest.raises(grpc.RpcError) as refused:
            world.ledger_stub.PostJournal(request)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
        bad_request, _ = details_of(status_from_error(refused.value))
        assert bad_request is not None and [v.field for v in bad_request.field_violations] == [field]
        assert _trial_balance(world, good.mandate_id) == before
    # A W3C trace id in capitals is one (the log keeps it lowercase); the ledger still takes journals.
    good.trace_id = "0AF7651916CD43DD8448EB211C80319C"
    posted = world.ledger_stub.PostJournal(good).journal
    assert posted.trace_id == good.trace_id.lower()
    found = world.ledger_stub.GetLedger(ledger_pb2.GetLedgerRequest(trace_id=good.trace_id)).journals
    assert [j.journal_id for j in found] == [posted.journal_id]
    reversed_ = world.ledger_stub.ReverseJournal(
        ledger_pb2.ReverseJournalRequest(journal_id=posted.journal_id, reason="trace test")
    )
    assert reversed_.original.reversed_by_journal_id == reversed_.reversal.journal_id
