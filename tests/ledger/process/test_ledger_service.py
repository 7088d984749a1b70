"""The ledger service against a real market: books, trial balance, cross-check, PostJournal rules."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2
from services.common.eventlog import open_event_log
from services.common.limits import MAX_TEXT_CHARS
from services.common.status import details_of, status_from_error
from services.ledger.domain.records import JournalDraft, JournalKind, Posting
from services.ledger.store import open_store
from tests.ledger.process.conftest import World, start_ledger


def money(amount: str, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount=common_pb2.Decimal(value=amount), currency=currency)


def date(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def mandates(world: World) -> list[market_pb2.Mandate]:
    return list(world.market_stub.ListMandates(market_pb2.ListMandatesRequest()).mandates)


def test_every_trial_balance_balances(world: World) -> None:
    for mandate in mandates(world):
        balance = world.ledger_stub.GetTrialBalance(
            ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate.mandate_id)
        )
        assert balance.balanced and balance.journal_count > 0
        assert balance.base_currency == mandate.base_currency
        for totals in balance.totals:
            assert totals.debit_total.amount.value == totals.credit_total.amount.value
        assert balance.base_totals.debit_total.amount.value == balance.base_totals.credit_total.amount.value
        debit = sum(Decimal(line.debit_total.amount.value) for line in balance.lines)
        credit = sum(Decimal(line.credit_total.amount.value) for line in balance.lines)
        assert debit == credit > 0


def test_trial_balance_securities_lines_carry_the_instrument_and_units_as_get_balances_does(
    world: World,
) -> None:
    for mandate in mandates(world):
        request = {"mandate_id": mandate.mandate_id}
        lines = world.ledger_stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(**request)).lines
        balances = world.ledger_stub.GetBalances(ledger_pb2.GetBalancesRequest(**request)).balances
        securities = {
            line.account: (line.instrument_id, line.quantity.value)
            for line in lines
            if line.account.startswith("Assets:Securities:")
        }
        assert securities, f"{mandate.mandate_id} holds no securities"
        assert all(instrument and units for instrument, units in securities.values())
        assert securities == {
            b.account: (b.instrument_id, b.quantity.value)
            for b in balances
            if b.account.startswith("Assets:Securities:")
        }


def test_ledger_agrees_with_the_internal_book_at_the_last_day_end(world: World) -> None:
    snapshot = world.market_stub.GetSnapshot(market_pb2.GetSnapshotRequest())
    for book in snapshot.internal_books:
        balances = world.ledger_stub.GetBalances(
            ledger_pb2.GetBalancesRequest(mandate_id=book.mandate_id)
        ).balances
        quantities = {
            b.instrument_id: Decimal(b.quantity.value)
            for b in balances
            if b.account.startswith("Assets:Securities:") and Decimal(b.quantity.value or "0") != 0
        }
        cash = {
            b.balance.currency: Decimal(b.balance.amount.value)
            for b in balances
            if b.account.startswith("Assets:Cash:") and Decimal(b.balance.amount.value) != 0
        }
        assert quantities == {
            p.instrument_id: Decimal(p.quantity.value) for p in book.positions if Decimal(p.quantity.value)
        }
        assert cash == {c.currency: Decimal(c.amount.value) for c in book.cash if Decimal(c.amount.value)}


def test_journals_carry_their_market_event_and_trace(world: World) -> None:
    fill_event = None
    call = world.market_stub.StreamEvents(
        market_pb2.StreamEventsRequest(from_seq=1, filter=market_pb2.EventFilter(kinds=["trade.fill"])),
        timeout=30,
    )
    fill_event = next(iter(call)).events[0]
    call.cancel()
    page = world.ledger_stub.GetLedger(
        ledger_pb2.GetLedgerRequest(source_event_id=fill_event.envelope.event_id)
    )
    [journal] = page.journals
    assert journal.kind == ledger_pb2.JOURNAL_KIND_TRADE
    assert journal.trace_id == fill_event.envelope.traceparent.split("-")[1]
    by_trace = world.ledger_stub.GetLedger(ledger_pb2.GetLedgerRequest(trace_id=journal.trace_id))
    assert journal.journal_id in {j.journal_id for j in by_trace.journals}
    # Paging walks the whole ledger in order.
    seen, token = [], ""
    while True:
        page = world.ledger_stub.GetLedger(
            ledger_pb2.GetLedgerRequest(mandate_id=journal.mandate_id, page_size=50, page_token=token)
        )
        seen.extend(j.ledger_seq for j in page.journals)
        if not (token := page.next_page_token):
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) > 50


def _suspense_request(world: World, key: str, amount: str = "12.34") -> ledger_pb2.PostJournalRequest:
    mandate = mandates(world)[0]
    ccy = mandate.base_currency
    last = world.clock.sim_date
    return ledger_pb2.PostJournalRequest(
        idempotency_key=key,
        mandate_id=mandate.mandate_id,
        kind=ledger_pb2.JOURNAL_KIND_SUSPENSE,
        effective_date=last,
        memo="aged cash break",
        postings=[
            ledger_pb2.Posting(account=f"Assets:Suspense:{ccy}", amount=money(amount, ccy)),
            ledger_pb2.Posting(account=f"Assets:Cash:{ccy}", amount=money(f"-{amount}", ccy)),
        ],
        posted_by="recon",
    )


def test_post_journal_is_idempotent_and_conflicts_write_nothing(world: World) -> None:
    request = _suspense_request(world, "test:suspense:1")
    try:
        first = world.ledger_stub.PostJournal(request)
    except grpc.RpcError as error:
        pytest.fail(f"PostJournal to suspense failed: {error.details()}")
    assert not first.replayed and first.journal.ledger_seq > 0
    again = world.ledger_stub.PostJournal(request)
    assert again.replayed and again.journal.journal_id == first.journal.journal_id
    # The combined event log records the journal once, with its lineage, for `opsuite trace`.
    log = open_event_log(None, world.ledger.log_path.parent)
    try:
        record = log.get(f"ldg-{first.journal.journal_id}")
        assert record is not None and record.kind == "journal.posted" and record.source == "ledger"
        assert record.mandate_id == request.mandate_id and "aged cash break" in record.summary
        # Beside the journals the ledger booked from market's stream (journal.booked).
        assert [r.event_id for r in log.read("ledger", 0, 1_000_000)].count(record.event_id) == 1
    finally:
        log.close()
    mandate_id = request.mandate_id
    before = world.ledger_stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate_id))
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.PostJournal(_suspense_request(world, "test:suspense:1", amount="99.99"))
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    after = world.ledger_stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate_id))
    assert after == before


def test_post_journal_errors_name_the_problem_and_change_nothing(world: World) -> None:
    base = _suspense_request(world, "test:bad")
    mandate_id, ccy = base.mandate_id, base.postings[0].amount.currency
    before = world.ledger_stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate_id))

    unbalanced = ledger_pb2.PostJournalRequest()
    unbalanced.CopyFrom(base)
    unbalanced.postings[1].amount.amount.value = "-12.33"
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.PostJournal(unbalanced)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert ccy in raised.value.details() and "0.01" in raised.value.details()

    unknown = ledger_pb2.PostJournalRequest()
    unknown.CopyFrom(base)
    unknown.postings[0].account = f"Assets:Nowhere:{ccy}"
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.PostJournal(unknown)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "Assets:Nowhere" in raised.value.details()

    too_precise = ledger_pb2.PostJournalRequest()
    too_precise.CopyFrom(base)
    too_precise.postings[0].amount.amount.value = "12.345"
    too_precise.postings[1].amount.amount.value = "-12.345"
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.PostJournal(too_precise)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_request, _ = details_of(status_from_error(raised.value))
    assert bad_request is not None and any("postings[0]" in v.field for v in bad_request.field_violations)

    # Base-currency lines carrying base amounts other than their amounts (the 1000.00 with
    # base 1.00 / -2.00): refused, not "balanced" by an FX rounding line.
    inconsistent = ledger_pb2.PostJournalRequest()
    inconsistent.CopyFrom(base)
    inconsistent.postings[0].base_amount.CopyFrom(money("1.00", ccy))
    inconsistent.postings[1].base_amount.CopyFrom(money("-2.00", ccy))
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.PostJournal(inconsistent)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_request, _ = details_of(status_from_error(raised.value))
    assert bad_request is not None
    assert [v.field for v in bad_request.field_violations] == [
        "postings[0].base_amount",
        "postings[1].base_amount",
    ]

    # A 1 MB memo, and a posting memo one character past its limit: refused, naming both fields.
    oversized = ledger_pb2.PostJournalRequest()
    oversized.CopyFrom(base)
    oversized.memo = "m" * 1_000_000
    oversized.postings[1].memo = "p" * (MAX_TEXT_CHARS + 1)
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.PostJournal(oversized)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_request, _ = details_of(status_from_error(raised.value))
    assert bad_request is not None
    assert [v.field for v in bad_request.field_violations] == ["memo", "postings[1].memo"]

    no_key = ledger_pb2.PostJournalRequest()
    no_key.CopyFrom(base)
    no_key.idempotency_key = ""
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.PostJournal(no_key)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    after = world.ledger_stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate_id))
    assert after == before


def test_concurrent_reversals_with_different_reasons_all_answer_the_one_reversal(world: World) -> None:
    """Eight callers reverse one journal at once, each with its own reason: one reversal is posted,
    and every caller gets it (the others as replayed), none ALREADY_EXISTS."""
    posted = world.ledger_stub.PostJournal(_suspense_request(world, "test:race", amount="7.00")).journal
    start = threading.Barrier(8)

    def reverse(n: int) -> ledger_pb2.ReverseJournalResponse:
        start.wait()
        return world.ledger_stub.ReverseJournal(
            ledger_pb2.ReverseJournalRequest(journal_id=posted.journal_id, reason=f"caller {n}")
        )

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(reverse, range(8)))
    assert len({a.reversal.journal_id for a in answers}) == 1
    assert sorted(a.replayed for a in answers) == [False] + [True] * 7
    reversals = world.ledger_stub.GetLedger(
        ledger_pb2.GetLedgerRequest(
            mandate_id=posted.mandate_id, kind=ledger_pb2.JOURNAL_KIND_REVERSAL, page_size=1000
        )
    ).journals
    assert [j.journal_id for j in reversals if j.reverses_journal_id == posted.journal_id] == [
        answers[0].reversal.journal_id
    ]


def test_reverse_journal_posts_the_mirror_once(world: World) -> None:
    posted = world.ledger_stub.PostJournal(_suspense_request(world, "test:to-reverse", amount="5.00")).journal
    reversed_ = world.ledger_stub.ReverseJournal(
        ledger_pb2.ReverseJournalRequest(
            journal_id=posted.journal_id, reason="posted in error", posted_by="ops"
        )
    )
    assert reversed_.reversal.reverses_journal_id == posted.journal_id
    assert reversed_.original.reversed_by_journal_id == reversed_.reversal.journal_id
    assert [p.amount.amount.value for p in reversed_.reversal.postings] == [
        str(-Decimal(p.amount.amount.value)) for p in posted.postings
    ]
    again = world.ledger_stub.ReverseJournal(
        ledger_pb2.ReverseJournalRequest(journal_id=posted.journal_id, reason="posted in error")
    )
    assert again.replayed and again.reversal.journal_id == reversed_.reversal.journal_id
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.ReverseJournal(ledger_pb2.ReverseJournalRequest(journal_id=posted.journal_id))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_mandate_and_bad_paging(world: World) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id="NOPE"))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as raised:
        world.ledger_stub.GetLedger(ledger_pb2.GetLedgerRequest(page_size=-1))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    accounts = world.ledger_stub.ListAccounts(
        ledger_pb2.ListAccountsRequest(name_prefix="Assets:Cash")
    ).accounts
    assert accounts and all(a.name.startswith("Assets:Cash") for a in accounts)


def test_a_ledger_on_postgresql_books_the_same(world: World, tmp_path: Path, postgres_dsn: str) -> None:
    ledger = start_ledger(tmp_path / "pg", world.market, OPSUITE_LEDGER_DSN=postgres_dsn)
    try:
        with grpc.insecure_channel(ledger.address) as channel:
            on_postgres = ledger_pb2_grpc.LedgerServiceStub(channel)
            first, *others = mandates(world)
            # Other tests post manual journals to the first mandate of the SQLite ledger only.
            for mandate in others:
                request = ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate.mandate_id)
                expected = world.ledger_stub.GetTrialBalance(request)
                actual = on_postgres.GetTrialBalance(request)
                assert actual.journal_count == expected.journal_count > 0
                assert list(actual.lines) == list(expected.lines)
            assert on_postgres.GetTrialBalance(
                ledger_pb2.GetTrialBalanceRequest(mandate_id=first.mandate_id)
            ).balanced
    finally:
        assert ledger.stop() == 0


def test_balances_at_a_market_seq_answer_once_booked_and_say_what_was_booked(world: World) -> None:
    head = world.clock.head_seq
    mandate = world.market_stub.ListMandates(market_pb2.ListMandatesRequest()).mandates[0].mandate_id
    # The ledger is caught up: a seq it has booked is answered with the seq it stands at.
    booked = world.ledger_stub.GetBalances(
        ledger_pb2.GetBalancesRequest(mandate_id=mandate, min_market_seq=head), timeout=10
    )
    assert booked.market_seq == head
    assert booked.balances
    # A seq market has not produced (its clock has finished) is never booked: the ledger answers
    # before the caller's deadline with what it has, rather than letting the call fail.
    ahead = world.ledger_stub.GetBalances(
        ledger_pb2.GetBalancesRequest(mandate_id=mandate, min_market_seq=head + 1_000), timeout=2
    )
    assert ahead.market_seq == head
    assert list(ahead.balances) == list(booked.balances)


def test_a_journal_committed_but_never_recorded_reaches_the_event_log_at_startup(
    world: World, tmp_path: Path
) -> None:
    """The crash the outbox fixes: PostJournal committed the journal, the process died before the
    event-log append, and the client's retry answers replayed. The next start delivers the record."""
    mandate = mandates(world)[0]
    ccy = mandate.base_currency
    day = dt.date(2020, 2, 3)
    draft = JournalDraft(
        mandate_id=mandate.mandate_id,
        kind=JournalKind.SUSPENSE,
        effective_date=day,
        sim_time=dt.datetime.now(dt.UTC),
        postings=(
            Posting(f"Assets:Suspense:{ccy}", Decimal("3.21"), ccy, Decimal("3.21")),
            Posting(f"Assets:Cash:{ccy}", Decimal("-3.21"), ccy, Decimal("-3.21")),
        ),
        idempotency_key="test:outbox:crash",
        memo="committed before the crash",
        trace_id="cd" * 16,
        caused_by=("brk-1",),
        posted_by="recon",
    )
    store = open_store("", tmp_path / "ledger")  # the ledger's own store under its data dir
    try:
        [posted] = store.post([draft], open_missing=True, announce="journal.posted")
    finally:
        store.close()
    journal_id = posted.journal.journal_id
    log = open_event_log(None, tmp_path)
    try:
        assert log.get(f"ldg-{journal_id}") is None  # the crash: never delivered
        ledger = start_ledger(tmp_path, world.market)  # SERVING comes after the startup delivery
        try:
            record = log.get(f"ldg-{journal_id}")
            assert record is not None and record.source == "ledger" and record.kind == "journal.posted"
            assert record.mandate_id == mandate.mandate_id and record.trace_id == "cd" * 16
            assert record.caused_by == ("brk-1",)
            assert record.sim_time == dt.datetime(2020, 2, 3, 23, 59, 59, 999999, tzinfo=dt.UTC)
            assert record.summary == (
                f"journal {journal_id} (JOURNAL_KIND_SUSPENSE) posted by recon: committed before the crash"
            )
            # The client's retry of the crashed call replays; the record stays single.
            with grpc.insecure_channel(ledger.address) as channel:
                stub = ledger_pb2_grpc.LedgerServiceStub(channel)
                retry = stub.PostJournal(
                    ledger_pb2.PostJournalRequest(
                        idempotency_key=draft.idempotency_key,
                        mandate_id=mandate.mandate_id,
                        kind=ledger_pb2.JOURNAL_KIND_SUSPENSE,
                        effective_date=date(day),
                        memo=draft.memo,
                        postings=[
                            ledger_pb2.Posting(account=p.account, amount=money(str(p.amount), ccy))
                            for p in draft.postings
                        ],
                        posted_by="recon",
                    )
                )
                assert retry.replayed and retry.journal.journal_id == journal_id
                reversal = stub.ReverseJournal(
                    ledger_pb2.ReverseJournalRequest(journal_id=journal_id, reason="posted in error")
                ).reversal
            reversed_record = log.get(f"ldg-{reversal.journal_id}")
            assert reversed_record is not None and reversed_record.kind == "journal.reversed"
            assert [r.event_id for r in log.read("ledger", 0, 1_000_000) if r.kind != "journal.booked"] == [
                f"ldg-{journal_id}",
                f"ldg-{reversal.journal_id}",
            ]
        finally:
            assert ledger.stop() == 0
    finally:
        log.close()


def test_accounts_open_on_first_use_dated_by_their_first_journal(world: World) -> None:
    mandate = mandates(world)[0].mandate_id
    accounts = world.ledger_stub.ListAccounts(
        ledger_pb2.ListAccountsRequest(mandate_id=mandate, page_size=1000)
    ).accounts
    first_use: dict[str, dt.date] = {}
    token = ""
    while True:
        page = world.ledger_stub.GetLedger(
            ledger_pb2.GetLedgerRequest(mandate_id=mandate, page_size=500, page_token=token)
        )
        for journal in page.journals:
            day = dt.date(
                journal.effective_date.year, journal.effective_date.month, journal.effective_date.day
            )
            for posting in journal.postings:
                first_use[posting.account] = min(first_use.get(posting.account, day), day)
        if not (token := page.next_page_token):
            break
    opened = {a.name: dt.date(a.opened_on.year, a.opened_on.month, a.opened_on.day) for a in accounts}
    # Nothing opened that no journal used (the run's start no longer opens a whole chart), and
    # each account's opening date is its first journal's.
    assert opened == first_use


def test_a_back_dated_journal_opens_a_standard_account_earlier(world: World) -> None:
    mandate = mandates(world)[1]
    ccy = mandate.base_currency
    last = world.clock.sim_date
    start = world.clock.start_date

    def fee(key: str, day: common_pb2.Date) -> ledger_pb2.PostJournalRequest:
        return ledger_pb2.PostJournalRequest(
            idempotency_key=key,
            mandate_id=mandate.mandate_id,
            kind=ledger_pb2.JOURNAL_KIND_MANUAL,
            effective_date=day,
            memo="write-off test",
            postings=[
                ledger_pb2.Posting(account=f"Expenses:WriteOffs:{ccy}", amount=money("1.00", ccy)),
                ledger_pb2.Posting(account=f"Assets:Cash:{ccy}", amount=money("-1.00", ccy)),
            ],
            posted_by="test",
        )

    def opened() -> common_pb2.Date:
        [account] = world.ledger_stub.ListAccounts(
            ledger_pb2.ListAccountsRequest(
                mandate_id=mandate.mandate_id, name_prefix=f"Expenses:WriteOffs:{ccy}"
            )
        ).accounts
        return account.opened_on

    try:
        world.ledger_stub.PostJournal(fee("test:first-use:late", last))
        assert opened() == last
        world.ledger_stub.PostJournal(fee("test:first-use:early", start))
        assert opened() == start
    finally:
        for key in ("test:first-use:early", "test:first-use:late"):
            journals = world.ledger_stub.GetLedger(
                ledger_pb2.GetLedgerRequest(
                    mandate_id=mandate.mandate_id, kind=ledger_pb2.JOURNAL_KIND_MANUAL
                )
            ).journals
            for journal in journals:
                if journal.idempotency_key == key and not journal.reversed_by_journal_id:
                    world.ledger_stub.ReverseJournal(
                        ledger_pb2.ReverseJournalRequest(
                            journal_id=journal.journal_id, reason="test clean-up"
                        )
                    )


def test_get_ledger_can_leave_out_the_journals_booked_from_markets_stream(world: World) -> None:
    """exclude_market_journals lists what people and services posted, in ledger order: the whole
    listing without the journals whose source event is one of market's ("mkt-...")."""
    posted = world.ledger_stub.PostJournal(
        _suspense_request(world, "test:posted-only", amount="3.00")
    ).journal

    def listing(**only: bool) -> list[ledger_pb2.Journal]:
        journals, token = [], ""
        while True:
            page = world.ledger_stub.GetLedger(
                ledger_pb2.GetLedgerRequest(
                    mandate_id=posted.mandate_id, page_size=200, page_token=token, **only
                )
            )
            journals.extend(page.journals)
            if not (token := page.next_page_token):
                return journals

    everything = listing()
    assert any(j.source_event_id.startswith("mkt-") for j in everything), "the stream booked journals"
    posted_only = listing(exclude_market_journals=True)
    assert [j.journal_id for j in posted_only] == [
        j.journal_id for j in everything if not j.source_event_id.startswith("mkt-")
    ]
    assert posted.journal_id in {j.journal_id for j in posted_only}
