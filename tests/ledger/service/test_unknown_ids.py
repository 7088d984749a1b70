"""Unknown ids and values in the ledger's requests, through a real in-process server and client:
NOT_FOUND naming what exists (or the RPC that lists it), INVALID_ARGUMENT for a value the contract
does not define, and nothing written either way."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest

from opsuite.ledger.v1 import ledger_pb2 as pb
from opsuite.ledger.v1 import ledger_pb2_grpc
from services.ledger.server import LedgerContext, LedgerServicer, register
from services.ledger.store import open_store
from tests.support.refusals import refusal


@pytest.fixture
async def stub(tmp_path: Path) -> AsyncIterator[ledger_pb2_grpc.LedgerServiceStub]:
    store = open_store("", tmp_path)
    servicer = LedgerServicer(
        store,
        LedgerContext(
            base_currencies={"BAL-USD": "USD", "EQ-EUR": "EUR"},
            rates=lambda mandate, base: lambda currency: Decimal(1),
            today=lambda: dt.date(2020, 3, 2),
        ),
    )
    server = grpc.aio.server()
    register(server, servicer)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield ledger_pb2_grpc.LedgerServiceStub(channel)
    finally:
        await server.stop(None)
        store.close()


async def refused(call: Any, code: grpc.StatusCode) -> tuple[str, dict[str, str], str]:
    """(message, field -> description, ErrorInfo reason) of a call that must fail with `code`."""
    said = await refusal(call, code)
    return said.message, said.violations, said.reason


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.GetTrialBalance(pb.GetTrialBalanceRequest(mandate_id="NOPE")),
        lambda s: s.GetBalances(pb.GetBalancesRequest(mandate_id="NOPE")),
        lambda s: s.GetLedger(pb.GetLedgerRequest(mandate_id="NOPE")),
        lambda s: s.ListAccounts(pb.ListAccountsRequest(mandate_id="NOPE")),
    ],
)
async def test_an_unknown_mandate_is_not_found_naming_the_known_ones(
    stub: ledger_pb2_grpc.LedgerServiceStub, call: Any
) -> None:
    assert await refused(call(stub), grpc.StatusCode.NOT_FOUND) == (
        "unknown mandate 'NOPE'; known: BAL-USD, EQ-EUR",
        {"mandate_id": "unknown mandate"},
        "MANDATE_NOT_FOUND",
    )


async def test_an_unknown_account_type_is_invalid_not_an_empty_page(
    stub: ledger_pb2_grpc.LedgerServiceStub,
) -> None:
    _, violations, reason = await refused(
        stub.ListAccounts(pb.ListAccountsRequest(mandate_id="BAL-USD", type=99)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert reason == "INVALID_ENUM"
    assert violations["type"].startswith("99 is not one of ACCOUNT_TYPE_")


async def test_an_unknown_journal_is_not_found_and_says_where_journals_are(
    stub: ledger_pb2_grpc.LedgerServiceStub,
) -> None:
    assert await refused(
        stub.ReverseJournal(pb.ReverseJournalRequest(journal_id="JRN-nope", reason="typo")),
        grpc.StatusCode.NOT_FOUND,
    ) == (
        "no journal 'JRN-nope'; GetLedger lists the journals there are",
        {"journal_id": "unknown journal"},
        "JOURNAL_NOT_FOUND",
    )
    assert (await stub.GetLedger(pb.GetLedgerRequest())).journals == []  # nothing written


async def test_an_unknown_account_is_not_found_and_says_where_accounts_are(
    stub: ledger_pb2_grpc.LedgerServiceStub,
) -> None:
    message, violations, reason = await refused(
        stub.GetBalances(pb.GetBalancesRequest(mandate_id="BAL-USD", accounts=["Assets:Nope"])),
        grpc.StatusCode.NOT_FOUND,
    )
    assert message == "no account 'Assets:Nope' in mandate BAL-USD; ListAccounts lists them"
    assert (violations, reason) == ({"accounts": "unknown account 'Assets:Nope'"}, "ACCOUNT_NOT_FOUND")
