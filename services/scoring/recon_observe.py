"""A finished run of the real services (market, ledger, recon) read through their APIs into an
Observed run for the truth scorer (recon_truth.py).

market: its day ends, fills (their contractual settle dates) and custodian statements from
StreamEvents, its faults from ListInjectedFaults (scorers may read them; services never do);
recon: every break (ListBreaks); the ledger: the journals recon posted (GetLedger, kind SUSPENSE,
posted by recon) and, for every mandate and day end, the balances of its cash and suspense accounts
as of that day (GetBalances). Used by bench/recon_truth.py and the process tests of the suspense
invariants.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.channels import Security, open_blocking_channel
from services.common.settings import load_settings
from services.scoring.recon_truth import BreakView, CashDay, FaultView, JournalView, Observed

PAGE = 1000
TIMEOUT_S = 120.0
OPTIONS = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]


def _date(value: common_pb2.Date) -> dt.date:
    return dt.date(value.year, value.month, value.day)


def _optional_date(message: object, name: str) -> dt.date | None:
    return _date(getattr(message, name)) if message.HasField(name) else None  # type: ignore[attr-defined]


def _decimal(value: common_pb2.Decimal) -> Decimal:
    return Decimal(value.value or "0")


@dataclass
class MarketRun:
    """What the scorer needs of market's stream: business days, fills, custodian cash per day end."""

    days: list[dt.date]
    settle_dates: dict[str, dt.date]
    custodian_cash: dict[tuple[dt.date, str], dict[str, Decimal]]  # (day, mandate) -> currency -> cash
    base_currency: dict[str, str]
    instrument_currency: dict[str, str]


def read_market(market: market_pb2_grpc.MarketServiceStub) -> MarketRun:
    head = market.GetClock(market_pb2.GetClockRequest(), timeout=TIMEOUT_S).head_seq
    request = market_pb2.StreamEventsRequest(
        from_seq=1,
        filter=market_pb2.EventFilter(kinds=["clock.day_end", "trade.fill", "custodian.statement"]),
        max_batch_size=4096,
    )
    days: list[dt.date] = []
    settle: dict[str, dt.date] = {}
    cash: dict[tuple[dt.date, str], dict[str, Decimal]] = {}
    stream = market.StreamEvents(request, timeout=TIMEOUT_S * 5)
    try:
        for batch in stream:
            for event in batch.events:
                which = event.WhichOneof("payload")
                if which == "day_end":
                    days.append(_date(event.day_end.date))
                elif which == "fill":
                    settle[event.fill.fill_id] = _date(event.fill.settle_date)
                elif which == "custodian_statement":
                    statement = event.custodian_statement
                    cash[_date(statement.statement_date), statement.book.mandate_id] = {
                        c.currency: _decimal(c.amount) for c in statement.book.cash
                    }
            if batch.last_seq >= head:
                break
    finally:
        stream.cancel()
    mandates = market.ListMandates(market_pb2.ListMandatesRequest(page_size=100), timeout=TIMEOUT_S).mandates
    instruments: dict[str, str] = {}
    token = ""
    while True:
        page = market.ListInstruments(
            market_pb2.ListInstrumentsRequest(page_size=PAGE, page_token=token), timeout=TIMEOUT_S
        )
        instruments.update((i.instrument_id, i.currency) for i in page.instruments)
        if not (token := page.next_page_token):
            break
    return MarketRun(days, settle, cash, {m.mandate_id: m.base_currency for m in mandates}, instruments)


def read_faults(market: market_pb2_grpc.MarketServiceStub) -> list[FaultView]:
    found: list[FaultView] = []
    token = ""
    while True:
        page = market.ListInjectedFaults(
            market_pb2.ListInjectedFaultsRequest(page_size=PAGE, page_token=token), timeout=TIMEOUT_S
        )
        for f in page.faults:
            found.append(
                FaultView(
                    fault_id=f.fault_id,
                    kind=market_pb2.FaultKind.Name(f.kind).removeprefix("FAULT_KIND_"),
                    mandate_id=f.mandate_id,
                    instrument_id=f.instrument_id,
                    fill_id=f.fill_id,
                    applied_date=_optional_date(f, "applied_date"),
                    corrected_date=_optional_date(f, "corrected_date"),
                    event_ids=tuple(f.event_ids),
                    correction_event_ids=tuple(f.correction_event_ids),
                )
            )
        if not (token := page.next_page_token):
            return found


def break_view(b: recon_pb2.Break) -> BreakView:
    closed = b.status in (recon_pb2.BREAK_STATUS_RESOLVED, recon_pb2.BREAK_STATUS_WRITTEN_OFF)
    return BreakView(
        break_id=b.break_id,
        mandate_id=b.mandate_id,
        kind=recon_pb2.BreakKind.Name(b.kind).removeprefix("BREAK_KIND_"),
        comparison=recon_pb2.Comparison.Name(b.comparison).removeprefix("COMPARISON_"),
        scope=recon_pb2.Scope.Name(b.scope).removeprefix("SCOPE_"),
        status=recon_pb2.BreakStatus.Name(b.status).removeprefix("BREAK_STATUS_"),
        instrument_id=b.instrument_id,
        currency=b.currency,
        fill_id=b.fill_id,
        cash_flow_id=b.cash_flow_id,
        parent_break_id=b.parent_break_id,
        first_seen=_date(b.first_seen_date),
        last_seen=_date(b.last_seen_date),
        resolved_on=b.resolved_at.ToDatetime().date() if closed and b.HasField("resolved_at") else None,
        resolved_by=b.resolved_by_event_id,
        caused_by=tuple(b.caused_by),
        escalated=b.escalated,
        description=b.description,
    )


def read_breaks(recon: recon_pb2_grpc.ReconServiceStub) -> list[recon_pb2.Break]:
    found: list[recon_pb2.Break] = []
    token = ""
    while True:
        page = recon.ListBreaks(
            recon_pb2.ListBreaksRequest(page_size=PAGE, page_token=token), timeout=TIMEOUT_S
        )
        found.extend(page.breaks)
        if not (token := page.next_page_token):
            return found


def read_recon_journals(ledger: ledger_pb2_grpc.LedgerServiceStub) -> list[ledger_pb2.Journal]:
    found: list[ledger_pb2.Journal] = []
    token = ""
    while True:
        page = ledger.GetLedger(
            ledger_pb2.GetLedgerRequest(
                kind=ledger_pb2.JOURNAL_KIND_SUSPENSE, page_size=PAGE, page_token=token
            ),
            timeout=TIMEOUT_S,
        )
        found.extend(j for j in page.journals if j.posted_by == "recon")
        if not (token := page.next_page_token):
            return found


def journal_view(j: ledger_pb2.Journal) -> JournalView:
    cash = [p for p in j.postings if p.account.startswith("Assets:Cash:")]
    currency = cash[0].amount.currency if cash else j.postings[0].amount.currency
    return JournalView(
        journal_id=j.journal_id,
        idempotency_key=j.idempotency_key,
        break_id=j.caused_by[0] if j.caused_by else "",
        mandate_id=j.mandate_id,
        currency=currency,
        effective_date=_date(j.effective_date),
        cash=sum((_decimal(p.amount.amount) for p in cash), Decimal(0)),
    )


def read_cash_days(
    ledger: ledger_pb2_grpc.LedgerServiceStub, market: MarketRun, mandates: Iterable[str] | None = None
) -> list[CashDay]:
    """Every mandate's cash in its base currency at every day end: the custodian's statement, and the
    ledger's Assets:Cash and Assets:Suspense as of that day."""
    out: list[CashDay] = []
    for mandate in sorted(mandates or market.base_currency):
        ccy = market.base_currency[mandate]
        accounts = [f"Assets:Cash:{ccy}", f"Assets:Suspense:{ccy}"]
        for day in market.days:
            # Every account (a standard account opens on first use, and asking for one not opened yet
            # is NOT_FOUND): the two wanted are picked from the trial balance.
            reply = ledger.GetBalances(
                ledger_pb2.GetBalancesRequest(
                    mandate_id=mandate, as_of=common_pb2.Date(year=day.year, month=day.month, day=day.day)
                ),
                timeout=TIMEOUT_S,
            )
            balances = {line.account: _decimal(line.balance.amount) for line in reply.balances}
            out.append(
                CashDay(
                    date=day,
                    mandate_id=mandate,
                    currency=ccy,
                    custodian=market.custodian_cash.get((day, mandate), {}).get(ccy, Decimal(0)),
                    ledger_cash=balances.get(accounts[0], Decimal(0)),
                    suspense=balances.get(accounts[1], Decimal(0)),
                )
            )
    return out


def observe_services(
    addresses: dict[str, str],
    *,
    seed: int,
    fault_rate: float,
    ledger_backend: str = "",
    seconds: float = 0.0,
    with_cash: bool = True,
    security: Security | None = None,
) -> Observed:
    """The run whose market, ledger and recon answer at `addresses` (all finished and caught up),
    dialled with `security` (None: as this process's settings say, like the command line)."""
    started = time.monotonic()
    security = load_settings() if security is None else security
    with (
        open_blocking_channel(security, addresses["market"], options=OPTIONS) as m,
        open_blocking_channel(security, addresses["ledger"], options=OPTIONS) as lc,
        open_blocking_channel(security, addresses["recon"], options=OPTIONS) as r,
    ):
        market = market_pb2_grpc.MarketServiceStub(m)
        ledger = ledger_pb2_grpc.LedgerServiceStub(lc)
        recon = recon_pb2_grpc.ReconServiceStub(r)
        run = read_market(market)
        observed = Observed(
            source="services",
            seed=seed,
            fault_rate=fault_rate,
            days=run.days,
            faults=read_faults(market),
            breaks=[break_view(b) for b in read_breaks(recon)],
            settle_dates=run.settle_dates,
            instrument_currency=run.instrument_currency,
            fills=len(run.settle_dates),
            cash=read_cash_days(ledger, run) if with_cash else [],
            journals=[journal_view(j) for j in read_recon_journals(ledger)],
            ledger_backend=ledger_backend,
            seconds=seconds,
        )
    observed.seconds = seconds or time.monotonic() - started
    return observed


def breaks_by_id(breaks: Sequence[recon_pb2.Break]) -> dict[str, recon_pb2.Break]:
    return {b.break_id: b for b in breaks}


# ---------------------------------------------------------------- cash the bank never moved


@dataclass(frozen=True)
class PlantedCash:
    """A journal booked in the ledger with no counterpart at the custodian (and its reversal): what
    gives recon unexplained cash to post to suspense, since the simulated custodian's own errors are
    all explained by its breaks. `debit` and `credit` are accounts without their currency."""

    key: str
    mandate_id: str
    currency: str
    debit: str
    credit: str
    amount: str
    booked: dt.date
    reversed: dt.date | None

    def window(self) -> tuple[str, str, dt.date, dt.date | None]:
        return (self.mandate_id, self.currency, self.booked, self.reversed)


def planted_cash(days: Sequence[dt.date], base_currency: dict[str, str]) -> list[PlantedCash]:
    """Losses booked and reversed later, a second loss while the first is held (an adjustment), a gain
    never received (reversed), and losses never reversed, at fractions of the run."""

    def at(fraction: float) -> dt.date:
        return days[int(fraction * (len(days) - 1))]

    # Accounts the ledger's own posting rules never use, so each opens with the first planted journal
    # that names it (the ledger refuses a journal dated before an account's opening).
    fee, cash, interest = "Expenses:WriteOffs", "Assets:Cash", "Income:WriteOffs"
    plan = [
        ("fee-1", "BAL-USD", fee, cash, "2500.00", 0.10, 0.60),
        ("fee-2", "BAL-USD", fee, cash, "500.00", 0.20, 0.60),
        ("interest", "FI-USD", cash, interest, "1000.00", 0.15, 0.25),
        ("fee-eur", "EQ-EUR", fee, cash, "750.25", 0.30, None),
        ("fee-jpy", "EQ-JPY", fee, cash, "120000", 0.40, 0.80),
        ("fee-gbp", "INC-GBP", fee, cash, "40.00", 0.50, None),
    ]
    return [
        PlantedCash(
            key,
            mandate,
            base_currency[mandate],
            debit,
            credit,
            amount,
            at(booked),
            None if back is None else at(back),
        )
        for key, mandate, debit, credit, amount, booked, back in plan
        if mandate in base_currency
    ]


def book_planted_cash(
    ledger_address: str, planted: Sequence[PlantedCash], *, security: Security | None = None
) -> None:
    """Post each planted journal (and its reversal) to the ledger at `ledger_address`, dialled with
    `security` (None: as this process's settings say)."""

    def date(day: dt.date) -> common_pb2.Date:
        return common_pb2.Date(year=day.year, month=day.month, day=day.day)

    with open_blocking_channel(load_settings() if security is None else security, ledger_address) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        for item in planted:

            def money(value: str, ccy: str = item.currency) -> common_pb2.Money:
                return common_pb2.Money(amount=common_pb2.Decimal(value=value), currency=ccy)

            posted = stub.PostJournal(
                ledger_pb2.PostJournalRequest(
                    idempotency_key=f"planted:{item.key}",
                    mandate_id=item.mandate_id,
                    kind=ledger_pb2.JOURNAL_KIND_MANUAL,
                    effective_date=date(item.booked),
                    memo=f"cash the bank never moved: {item.key}",
                    postings=[
                        ledger_pb2.Posting(
                            account=f"{item.debit}:{item.currency}", amount=money(item.amount)
                        ),
                        ledger_pb2.Posting(
                            account=f"{item.credit}:{item.currency}", amount=money(f"-{item.amount}")
                        ),
                    ],
                    posted_by="ops-test",
                ),
                timeout=TIMEOUT_S,
            ).journal
            if item.reversed is not None:
                stub.ReverseJournal(
                    ledger_pb2.ReverseJournalRequest(
                        journal_id=posted.journal_id,
                        reason="never moved",
                        effective_date=date(item.reversed),
                        posted_by="ops-test",
                        idempotency_key=f"planted:{item.key}:reversal",
                    ),
                    timeout=TIMEOUT_S,
                )
