"""recon's day-end check, pure: the three books at one day end in, the differences out.

compute() compares book vs custodian (positions, cash, trade by trade, cash flow by cash flow)
and, when recon has a ledger, book vs ledger (positions, cash) and ledger vs custodian (cash: the
bank reconciliation), from what recon remembers of the stream (followed.py) and the books
(books_of). On the ledger's side cash is Assets:Cash plus Assets:Suspense in both comparisons, so
a suspense journal never changes what they see. The I/O around it (asking market and the ledger,
the store transaction, the event log, suspense journals) is services/recon/checker.py; the rules
are services/recon/README.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.common.market_events import Book, FxQuote, PriceQuote, unit_price
from services.recon.domain.cashflows import match_cash_flows
from services.recon.domain.config import ReconConfig
from services.recon.domain.conventions import (
    CASH,
    SECURITIES,
    book_items,
    ledger_items,
    pending_fx_legs,
    pending_settlements,
)
from services.recon.domain.followed import FollowedState
from services.recon.domain.reconcile import Counts, reconcile, timing_item
from services.recon.domain.records import (
    Comparison,
    Coverage,
    Difference,
    InstrumentRef,
    ItemKey,
    Outcome,
    Scope,
    TimingItem,
    Valuation,
)
from services.recon.domain.runs import add, counts_of
from services.recon.domain.trades import match_trades

SUSPENSE = "Assets:Suspense:"
BVC = Comparison.BOOK_VS_CUSTODIAN
BVL = Comparison.BOOK_VS_LEDGER
LVC = Comparison.LEDGER_VS_CUSTODIAN


@dataclass(frozen=True, slots=True)
class Reference:
    """market's reference data: each mandate's base currency, each instrument's class and currency."""

    base_currencies: Mapping[str, str]
    instruments: Mapping[str, InstrumentRef]


@dataclass(frozen=True, slots=True)
class LedgerBalance:
    """One account's balance as the ledger reports it: debit-positive amount, and units for Securities."""

    account: str
    balance: Decimal
    quantity: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Books:
    """The three books at one day end, as compared items. ledger None: recon has no ledger."""

    as_of_date: dt.date
    internal: tuple[tuple[ItemKey, Decimal], ...]
    custodian: tuple[tuple[ItemKey, Decimal], ...]
    ledger: Mapping[str, tuple[tuple[ItemKey, Decimal], ...]] | None
    valuation: Valuation
    mandates: frozenset[str]  # every mandate market's snapshot has a book for


def valuation_of(
    prices: Iterable[PriceQuote], fx_rates: Iterable[FxQuote], reference: Reference
) -> Valuation:
    """Unit values from the primary vendor's prices (bonds per 100 face), FX both ways."""
    unit_values: dict[str, Decimal] = {}
    for quote in sorted(prices, key=lambda q: q.vendor != "primary"):
        if quote.instrument_id in unit_values:
            continue
        ref = reference.instruments.get(quote.instrument_id)
        price = quote.price
        unit_values[quote.instrument_id] = unit_price(price, ref.asset_class) if ref else price
    fx: dict[tuple[str, str], Decimal] = {}
    for rate in sorted(fx_rates, key=lambda r: r.vendor != "primary"):
        if not rate.rate:
            continue
        # rate: units of quote currency per one unit of base currency.
        fx.setdefault((rate.base_currency, rate.quote_currency), rate.rate)
        fx.setdefault((rate.quote_currency, rate.base_currency), 1 / rate.rate)
    return Valuation(unit_values, fx, dict(reference.base_currencies))


def ledger_book_items(mandate_id: str, balances: Iterable[LedgerBalance]) -> list[tuple[ItemKey, Decimal]]:
    """The ledger's positions (units) and cash; suspense counts as cash, so a suspense posting (which
    moves an aged break's difference from cash to suspense) never shows as a book-vs-ledger break."""
    values: dict[str, Decimal] = {}
    for line in balances:
        name = line.account
        if name.startswith(SECURITIES):
            values[name] = values.get(name, Decimal(0)) + line.quantity
        elif name.startswith(CASH):
            values[name] = values.get(name, Decimal(0)) + line.balance
        elif name.startswith(SUSPENSE):
            cash = CASH + name.removeprefix(SUSPENSE)
            values[cash] = values.get(cash, Decimal(0)) + line.balance
    return ledger_items(mandate_id, values)


def books_of(
    as_of_date: dt.date,
    internal_books: Sequence[Book],
    custodian_books: Sequence[Book],
    valuation: Valuation,
    ledger: Mapping[str, Sequence[LedgerBalance]] | None,
) -> Books:
    """The three books at one day end as compared items; ledger None: recon has no ledger."""
    return Books(
        as_of_date=as_of_date,
        internal=tuple(item for book in internal_books for item in book_items(book)),
        custodian=tuple(item for book in custodian_books for item in book_items(book)),
        ledger=None
        if ledger is None
        else {m: tuple(ledger_book_items(m, balances)) for m, balances in ledger.items()},
        valuation=valuation,
        mandates=frozenset(b.mandate_id for b in internal_books),
    )


@dataclass(frozen=True, slots=True)
class Computed:
    """One check's findings. keep_fills: fills still worth remembering (unsettled, or disagreeing)."""

    differences: tuple[Difference, ...]
    counts: Mapping[tuple[str, Comparison], Counts]
    covered: frozenset[Coverage]
    timing_items: tuple[TimingItem, ...]
    keep_fills: frozenset[str]


def compute(
    state: FollowedState,
    books: Books,
    *,
    today: dt.date,
    config: ReconConfig,
    reference: Reference,
    mandates: frozenset[str] | None = None,
) -> Computed:
    """Book vs custodian (positions, cash, trades, cash flows) and, when recon has a ledger, book vs
    ledger and ledger vs custodian."""
    wanted = books.mandates if mandates is None else books.mandates & mandates
    calendar = state.calendar()
    fills = [f for f in state.fills.values() if f.mandate_id in wanted]
    live = [b for b in state.bookings.values() if b.mandate_id in wanted and b.live]
    settled = state.settled_fill_ids()
    fill_causes = {f.fill_id: state.caused_by_of(f.fill_id) for f in fills}
    fx_deals = [d for d in state.fx_deals.values() if d.mandate_id in wanted]

    trades = match_trades(
        [f.book_trade() for f in fills],
        [b.record() for b in live],
        today=today,
        config=config,
        calendar=calendar,
        reference=reference.instruments,
        valuation=books.valuation,
    )
    with_findings = {d.fill_id for d in trades if d.outcome is not Outcome.MATCHED}
    counted = {d.fill_id for d in trades}
    exact = Counter(f.mandate_id for f in fills if f.trade_date <= today and f.fill_id not in counted)
    trade_counts = counts_of(trades, exact)
    flows = match_cash_flows(
        [f.record() for f in state.flows.values() if f.mandate_id in wanted],
        today=today,
        config=config,
        valuation=books.valuation,
    )
    for mandate, c in counts_of(flows).items():
        held = trade_counts.get(mandate)
        trade_counts[mandate] = c if held is None else add(held, c)

    # Lineage of position and cash differences: the fills whose custodian records disagree,
    # and the cash flows the two sides booked differently.
    caused: dict[ItemKey, list[str]] = {}
    for d in trades:
        if d.outcome is Outcome.BREAK:
            for key in (
                ItemKey(d.mandate_id, Scope.POSITION, instrument_id=d.instrument_id),
                ItemKey(d.mandate_id, Scope.CASH, currency=d.currency),
            ):
                caused.setdefault(key, []).extend(d.caused_by)
    for flow in state.flows.values():
        if flow.mandate_id in wanted and not flow.matched and (flow.first_date or today) <= today:
            caused.setdefault(ItemKey(flow.mandate_id, Scope.CASH, currency=flow.currency), []).extend(
                flow.event_ids
            )
    caused_by = {k: tuple(dict.fromkeys(v)) for k, v in caused.items()}

    internal = [item for item in books.internal if item[0].mandate_id in wanted]
    custodian = [item for item in books.custodian if item[0].mandate_id in wanted]
    bvc = reconcile(
        internal,
        custodian,
        comparison=BVC,
        today=today,
        config=config,
        calendar=calendar,
        pending=(
            *pending_settlements(
                fills, today=today, comparison=BVC, settled_at_other=settled, caused_by=fill_causes
            ),
            *pending_fx_legs(fx_deals, today=today, comparison=BVC),
        ),
        reference=reference.instruments,
        valuation=books.valuation,
        caused_by=caused_by,
    )
    counts: dict[tuple[str, Comparison], Counts] = {(m, BVC): c for m, c in bvc.counts.items()}
    for mandate, c in trade_counts.items():
        held = counts.get((mandate, BVC))
        counts[mandate, BVC] = c if held is None else add(held, c)
    covered = {Coverage(m, BVC, scope) for m in wanted for scope in Scope}
    differences: list[Difference] = [*bvc.differences, *trades, *flows]
    timing: list[TimingItem] = [*bvc.timing_items]
    timing.extend(timing_item(d) for d in trades if d.outcome is Outcome.TIMING)

    if books.ledger is not None:
        in_ledger = wanted & set(books.ledger)
        bvl = reconcile(
            internal,
            [item for m in sorted(in_ledger) for item in books.ledger[m]],
            comparison=BVL,
            today=today,
            config=config,
            calendar=calendar,
            pending=(
                *pending_settlements(
                    fills,
                    today=today,
                    comparison=BVL,
                    settled_at_other=state.ledger_settled_fill_ids(),
                    caused_by=fill_causes,
                ),
                *pending_fx_legs(fx_deals, today=today, comparison=BVL),
            ),
            reference=reference.instruments,
            valuation=books.valuation,
            caused_by=caused_by,
        )
        counts.update({(m, BVL): c for m, c in bvl.counts.items()})
        covered.update(Coverage(m, BVL, scope) for m in in_ledger for scope in (Scope.POSITION, Scope.CASH))
        differences.extend(bvl.differences)
        timing.extend(bvl.timing_items)
        # The bank reconciliation: both books move cash on the custodian's report, so nothing is
        # pending between them.
        lvc = reconcile(
            [item for m in sorted(in_ledger) for item in books.ledger[m] if item[0].scope is Scope.CASH],
            [item for item in custodian if item[0].scope is Scope.CASH and item[0].mandate_id in in_ledger],
            comparison=LVC,
            today=today,
            config=config,
            calendar=calendar,
            reference=reference.instruments,
            valuation=books.valuation,
            caused_by=caused_by,
        )
        counts.update({(m, LVC): c for m, c in lvc.counts.items()})
        covered.update(Coverage(m, LVC, Scope.CASH) for m in in_ledger)
        differences.extend(lvc.differences)

    unsettled = {f.fill_id for f in state.fills.values() if f.fill_id not in settled}
    return Computed(
        differences=tuple(differences),
        counts=counts,
        covered=frozenset(covered),
        timing_items=tuple(timing),
        keep_fills=frozenset(unsettled | with_findings),
    )
