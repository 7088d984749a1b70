"""FX deals in recon: their two cash legs are expected movements, like a fill's cash.

By hand: a dollar mandate buys 800 EUR for 1,000 USD settling on WED. The internal book moves both
legs on WED; the custodian (and the ledger, which follows its report) when it reports the deal
SETTLED. Until then each leg explains the cash difference in its currency: a timing item, not a
break. Then a simulated run without faults through all three comparisons (the ledger's balances
from its own posting rules), with the two mandates that hold foreign currencies: no break at all.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from services.common.market_events import Book, FxDeal, FxQuote, FxSettlement, MarketEvent, SettlementState
from services.ledger.domain.rules import LedgerBook
from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation
from services.recon.domain.breaks import advance
from services.recon.domain.check import LedgerBalance, Reference, books_of, compute, valuation_of
from services.recon.domain.config import ReconConfig
from services.recon.domain.followed import FollowedState
from services.recon.domain.records import Break, Comparison, ItemKey, Outcome, RunContext, Scope
from services.scoring.recon_replay import reference_of

D = Decimal
M = "BAL-T"
MON, TUE, WED = dt.date(2024, 3, 11), dt.date(2024, 3, 12), dt.date(2024, 3, 13)
REFERENCE = Reference({M: "USD"}, {})
BVC, BVL, LVC = Comparison.BOOK_VS_CUSTODIAN, Comparison.BOOK_VS_LEDGER, Comparison.LEDGER_VS_CUSTODIAN
FOREIGN = (("BAL-USD", "EUR"), ("EQ-EUR", "GBP"))
DEAL = FxDeal("FXD-1", M, "EUR", D(800), "USD", D("1000.00"), D("1.25"), MON, WED)
REPORT = FxSettlement(
    "CUS-FX-1", "FXD-1", M, SettlementState.SETTLED, WED, "EUR", D(800), "USD", D("1000.00")
)


def _event(seq: int, day: dt.date, kind: str, payload: object) -> MarketEvent:
    return MarketEvent(
        seq,
        f"mkt-{seq}",
        dt.datetime.combine(day, dt.time(17), tzinfo=dt.UTC),
        kind,
        payload,
        M,  # type: ignore[arg-type]
    )


def _state(*, reported: bool) -> FollowedState:
    state = FollowedState(dates=[MON, TUE, WED])
    state.apply(_event(1, MON, "trade.fx", DEAL))
    if reported:
        state.apply(_event(2, WED, "custodian.fx_settlement", REPORT))
    return state


def _book(usd: str, eur: str) -> Book:
    return Book(M, {}, {"USD": D(usd), "EUR": D(eur)})


def _ledger(usd: str, eur: str) -> dict[str, list[LedgerBalance]]:
    return {M: [LedgerBalance("Assets:Cash:USD", D(usd)), LedgerBalance("Assets:Cash:EUR", D(eur))]}


def _cash_outcomes(state: FollowedState, custodian: Book, ledger: dict[str, list[LedgerBalance]]) -> dict:
    """(comparison, currency) -> the outcome of each cash item on WED (internal book: both legs moved)."""
    valuation = valuation_of([], [FxQuote("EUR", "USD", D("1.25"), "primary", WED)], REFERENCE)
    books = books_of(WED, [_book("0.00", "800")], [custodian], valuation, ledger)
    computed = compute(state, books, today=WED, config=ReconConfig.default(), reference=REFERENCE)
    return {(d.comparison, d.currency): d.outcome for d in computed.differences if d.scope is Scope.CASH}


def test_until_the_custodian_reports_the_deal_settled_both_legs_are_timing_items() -> None:
    """WED: the internal book has 0.00 USD and 800 EUR; the custodian and the ledger still 1,000.00 USD
    and no EUR. Book vs custodian and book vs ledger: each leg explains its currency's difference
    (other - book = +1,000 USD, -800 EUR). Ledger vs custodian: nothing pending, and nothing differs."""
    outcomes = _cash_outcomes(_state(reported=False), _book("1000.00", "0"), _ledger("1000.00", "0"))
    assert outcomes == {
        (BVC, "USD"): Outcome.TIMING,
        (BVC, "EUR"): Outcome.TIMING,
        (BVL, "USD"): Outcome.TIMING,
        (BVL, "EUR"): Outcome.TIMING,
    }


def test_once_reported_settled_nothing_is_pending_and_the_three_books_agree() -> None:
    state = _state(reported=True)
    assert _cash_outcomes(state, _book("0.00", "800"), _ledger("0.00", "800")) == {}
    # The same report with the custodian still showing the old balances: a break, nothing explains it.
    outcomes = _cash_outcomes(state, _book("1000.00", "0"), _ledger("0.00", "800"))
    assert outcomes[(BVC, "USD")] is Outcome.BREAK and outcomes[(LVC, "EUR")] is Outcome.BREAK
    # The report moved the custodian's cash in both currencies: it resolves a cash break of either.
    assert state.resolving_move(M, "EUR", "day-end") == state.resolving_move(M, "USD", "day-end") == "mkt-2"


def test_a_settled_deal_is_forgotten_and_an_unsettled_one_survives_a_restart() -> None:
    unsettled = _state(reported=False)
    restored = FollowedState.from_json(unsettled.to_json())
    assert restored.fx_deals == unsettled.fx_deals
    assert restored.fx_deals["FXD-1"].signed_legs() == (("EUR", D(800)), ("USD", D("-1000.00")))
    settled = _state(reported=True)
    assert settled.fx_deals["FXD-1"].settled_on == WED
    settled.prune(set(), WED)
    assert settled.fx_deals == {}
    # A state written before FX deals (version 2) loads with none.
    assert (
        FollowedState.from_json(FollowedState().to_json().replace('"version":3', '"version":2')).fx_deals
        == {}
    )


# ---------------------------------------------------------------- a simulated run, three books


def _ledger_balances(
    drafts_by_mandate: dict[str, dict[str, list[Decimal]]],
) -> dict[str, list[LedgerBalance]]:
    return {
        mandate: [
            LedgerBalance(account, amount, quantity) for account, (amount, quantity) in accounts.items()
        ]
        for mandate, accounts in drafts_by_mandate.items()
    }


def test_a_year_without_faults_has_no_break_in_any_comparison_with_the_foreign_mandates_included() -> None:
    """Seed 7 from 2020-02-03, no faults, every day end checked book vs custodian, book vs ledger and
    ledger vs custodian, the ledger's balances from its posting rules (FX deals settled on the
    custodian's report). Cash in EUR and GBP is compared for the two mandates that hold them."""
    start = dt.date(2020, 2, 3)
    macro = load_macro(start - dt.timedelta(days=10), start + dt.timedelta(days=400))
    sim = Simulation(SimConfig(seed=7, start=start, days=250, fault_rate=0.0), macro)
    reference = reference_of(sim)
    config = ReconConfig.default()
    ledger = LedgerBook.from_market(sim.mandates, sim.instruments)
    accounts: dict[str, dict[str, list[Decimal]]] = {m.mandate_id: {} for m in sim.mandates}
    state = FollowedState()
    breaks: tuple[Break, ...] = ()
    foreign_cash: Counter[tuple[str, str]] = Counter()
    deals = timing = 0
    while (day := sim.step()) is not None:
        for event in day.events:
            state.apply(event)
            deals += isinstance(event.payload, FxDeal)
            for draft in ledger.apply(event):
                for posting in draft.postings:
                    held = accounts[draft.mandate_id].setdefault(posting.account, [D(0), D(0)])
                    held[0] += posting.amount
                    held[1] += posting.quantity or D(0)
        snapshot = day.snapshot
        valuation = valuation_of(snapshot.prices, snapshot.fx_rates, reference)
        books = books_of(
            day.date, snapshot.internal_books, snapshot.custodian_books, valuation, _ledger_balances(accounts)
        )
        computed = compute(state, books, today=day.date, config=config, reference=reference)
        end = day.events[-1]
        state.prune(set(computed.keep_fills), day.date)
        assert books.ledger is not None
        sides = {"internal": dict(books.internal), "custodian": dict(books.custodian)}
        for mandate, currency in FOREIGN:
            key = ItemKey(mandate, Scope.CASH, currency=currency)
            ledger_cash = dict(books.ledger[mandate]).get(key)
            if sides["internal"].get(key) and sides["custodian"].get(key) and ledger_cash:
                foreign_cash[mandate, currency] += 1
        timing += sum(d.outcome is Outcome.TIMING for d in computed.differences)
        assert [d.description for d in computed.differences if d.outcome is Outcome.BREAK] == [], day.date
        run = RunContext(f"RUN-{day.date}", day.date, end.sim_time, end.sim_time, computed.covered, end.seq)
        breaks = advance(
            {b.item_key: b for b in breaks}.values(),
            computed.differences,
            run=run,
            today=day.date,
            calendar=state.calendar(),
            config=config,
            resolved_by={},
        ).breaks
        assert breaks == (), day.date
    assert deals > 50 and timing > 100
    # All three books held foreign cash, compared by each comparison, on all but the first two days.
    assert dict(foreign_cash) == {("BAL-USD", "EUR"): 229, ("EQ-EUR", "GBP"): 229}
