"""OPSUITE_LEDGER_BATCHES_PER_COMMIT: a ledger catching up with a finished market books several stream
batches per transaction, and ends with the same books as one committing each batch."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.settings import SettingsError, load_settings
from services.ledger.settings import DEFAULT_BATCHES_PER_COMMIT, LedgerSettings
from tests.ledger.process.conftest import start_ledger, wait_finished, world_env
from tests.support.processes import ServiceProcess, start_service


def _journals(ledger: ServiceProcess) -> list[ledger_pb2.Journal]:
    journals: list[ledger_pb2.Journal] = []
    with grpc.insecure_channel(ledger.address) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        token = ""
        while True:
            page = stub.GetLedger(ledger_pb2.GetLedgerRequest(page_size=1000, page_token=token))
            journals.extend(page.journals)
            if not (token := page.next_page_token):
                return journals


def _books(ledger: ServiceProcess, mandate_ids: list[str]) -> dict[str, ledger_pb2.TrialBalance]:
    with grpc.insecure_channel(ledger.address) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        return {m: stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=m)) for m in mandate_ids}


def _content(journal: ledger_pb2.Journal) -> bytes:
    """A journal without what the ledger assigns when it stores it (id, wall-clock time)."""
    copy = ledger_pb2.Journal()
    copy.CopyFrom(journal)
    copy.ClearField("journal_id")
    copy.ClearField("posted_at")
    return copy.SerializeToString(deterministic=True)


def test_batches_commit_together_while_catching_up_and_book_the_same(tmp_path: Path) -> None:
    market = start_service("market", tmp_path / "market", world_env(OPSUITE_DAYS="60"))
    try:
        market.wait_serving()
        wait_finished(market)
        with grpc.insecure_channel(market.address) as channel:
            mandate_ids = [
                m.mandate_id
                for m in market_pb2_grpc.MarketServiceStub(channel)
                .ListMandates(market_pb2.ListMandatesRequest())
                .mandates
            ]
        commits: dict[int, int] = {}
        journals: dict[int, list[ledger_pb2.Journal]] = {}
        books: dict[int, dict[str, ledger_pb2.TrialBalance]] = {}
        for per_commit in (1, 4):
            ledger = start_ledger(
                tmp_path / f"ledger-{per_commit}", market, OPSUITE_LEDGER_BATCHES_PER_COMMIT=str(per_commit)
            )
            try:
                journals[per_commit] = _journals(ledger)
                books[per_commit] = _books(ledger, mandate_ids)
            finally:
                assert ledger.stop() == 0
            # The journals of one transaction share its posted_at: one value per commit.
            commits[per_commit] = len({j.posted_at.ToDatetime() for j in journals[per_commit]})
    finally:
        market.stop()
    assert commits[1] >= 8  # the stream batches that booked journals, one transaction each
    assert commits[4] <= -(-commits[1] // 4) + 1
    assert [_content(j) for j in journals[4]] == [_content(j) for j in journals[1]]
    assert books[4] == books[1]


def test_the_setting_defaults_to_several_batches_and_says_what_it_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPSUITE_LEDGER_BATCHES_PER_COMMIT", raising=False)
    assert load_settings(LedgerSettings).ledger_batches_per_commit == DEFAULT_BATCHES_PER_COMMIT > 1
    monkeypatch.setenv("OPSUITE_LEDGER_BATCHES_PER_COMMIT", "1")
    assert load_settings(LedgerSettings).ledger_batches_per_commit == 1
    monkeypatch.setenv("OPSUITE_LEDGER_BATCHES_PER_COMMIT", "0")
    with pytest.raises(SettingsError) as refused:
        load_settings(LedgerSettings)
    assert str(refused.value).startswith(
        "OPSUITE_LEDGER_BATCHES_PER_COMMIT='0': give a whole number from 1 to 1000: the stream batches"
    )
