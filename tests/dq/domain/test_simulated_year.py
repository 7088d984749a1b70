"""dq's checks over a simulated year of market's stream, from 2020-02-03 (the March 2020 crisis
included): a clean world raises no price or FX failure at all, and a world with market's default
faults shows how many of them dq finds (recall) and how many of its failures are faults
(precision), printed per fault kind and per check (run with -s to read them)."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from services.common.market_events import (
    CustodianStatement,
    FxQuote,
    Instrument,
    MarketEvent,
    PriceQuote,
    RegimeState,
)
from services.dq.domain.config import CheckSet, load_checks
from services.dq.domain.fx import FxChecks
from services.dq.domain.holdings import check_weights
from services.dq.domain.issues import ChangeKind, IssueBook
from services.dq.domain.prices import PriceChecks
from services.dq.domain.results import PRIMARY, CheckResult, Family
from tests.ledger.domain.sim_runs import Run, simulated_run

DAYS = 250
SEED = 11
PRICE_AND_FX = (Family.PRICE, Family.FX)


@dataclass
class Checked:
    results: list[CheckResult]
    issues: IssueBook
    changes: collections.Counter[ChangeKind]


def _check(run: Run, checks: CheckSet) -> Checked:
    """Every event of the run through dq's checks, as the service would apply them."""
    instruments = {i.instrument_id: i for i in run.instruments}
    base = {m.mandate_id: m.base_currency for m in run.mandates}
    prices, fx = PriceChecks(checks, run.instruments), FxChecks(checks)
    issues, changes = IssueBook(), collections.Counter[ChangeKind]()
    results: list[CheckResult] = []
    primary: dict[str, Decimal] = {}
    rates: dict[str, Decimal] = {}
    held: set[str] = set()
    for event in run.events():
        out = _apply(event, prices, fx, checks, instruments, base, primary, rates, held)
        results += out
        changes.update(change.kind for change in issues.apply_all(out, event.sim_time))
    return Checked(results, issues, changes)


def _apply(
    event: MarketEvent,
    prices: PriceChecks,
    fx: FxChecks,
    checks: CheckSet,
    instruments: dict[str, Instrument],
    base: dict[str, str],
    primary: dict[str, Decimal],
    rates: dict[str, Decimal],
    held: set[str],
) -> list[CheckResult]:
    payload = event.payload
    if isinstance(payload, RegimeState):
        primary.clear()
        rates.clear()
        held.clear()
        prices.regime(event.event_id, payload)
    elif isinstance(payload, PriceQuote) and event.kind == "price.tick":
        primary[payload.instrument_id] = payload.price
        return prices.primary(event.event_id, payload)
    elif isinstance(payload, PriceQuote):
        return prices.vendor(event.event_id, payload)
    elif isinstance(payload, FxQuote):
        if payload.vendor == PRIMARY:
            rates[payload.pair] = payload.rate
        return fx.rate(event.event_id, payload)
    elif isinstance(payload, CustodianStatement):
        book = payload.book
        held.update(i for i, q in book.positions.items() if q != 0)
        return [
            check_weights(
                checks.get("holdings.weights"),
                book,
                base[book.mandate_id],
                instruments,
                primary,
                rates,
                payload.statement_date,
                (event.event_id,),
            )
        ]
    elif event.kind == "clock.day_end":
        return prices.day_end(event.sim_time.date(), held)
    return []


def test_a_clean_year_raises_no_price_or_fx_failure() -> None:
    run = simulated_run(SEED, DAYS, 0.0)
    assert run.days[0].result.date == dt.date(2020, 2, 3)
    assert any(day.result.regime == "crisis" for day in run.days if day.result.date.month == 3)
    checked = _check(run, load_checks())
    failing = [r for r in checked.results if not r.success]
    print(f"\nclean year: {len(run.days)} days, {len(checked.results)} results, {len(failing)} failing")
    assert [r.message for r in failing if r.family in PRICE_AND_FX] == []
    # Every held position had a primary price and every currency a rate.
    assert [r.message for r in failing] == []
    assert checked.issues.open_issues() == () and checked.issues.quarantine() == ()
    assert len(checked.results) > 100_000


def _faulted_events(run: Run) -> dict[str, str]:
    """The price and FX events market injected a fault into (vendor faults name the price.vendor
    event, a bad primary print its price.tick, a cross fault its fx.rate), with the fault's kind."""
    kinds = {event.event_id: event.kind for event in run.events()}
    out: dict[str, str] = {}
    for day in run.days:
        for fault in day.result.faults_applied:
            for event_id in fault.event_ids:
                if kinds.get(event_id) in ("price.tick", "price.vendor", "fx.rate"):
                    out[event_id] = fault.kind.value
    return out


def _report(rows: Iterable[tuple[str, int, int, int]], header: str) -> str:
    lines = [header]
    for name, total, hit, extra in rows:
        share = f"{hit / total:.1%}" if total else "-"
        lines.append(f"  {name:40s} {total:5d} {hit:5d} {share:>7s} {extra:5d}")
    return "\n".join(lines)


def test_a_year_with_market_faults_reports_recall_and_precision() -> None:
    run = simulated_run(SEED, DAYS, 1.0)
    faulted = _faulted_events(run)
    checked = _check(run, load_checks())
    failing = [r for r in checked.results if not r.success and r.family in PRICE_AND_FX]
    caught: dict[str, set[str]] = collections.defaultdict(set)
    quarantined: dict[str, set[str]] = collections.defaultdict(set)
    for result in failing:
        kind = faulted.get(result.caused_by[0])
        if kind is not None:
            caught[kind].add(result.caused_by[0])
            if result.quarantine:
                quarantined[kind].add(result.caused_by[0])
    by_kind: dict[str, int] = collections.Counter(faulted.values())
    recall = _report(
        ((k, n, len(caught[k]), len(quarantined[k])) for k, n in sorted(by_kind.items())),
        "recall by fault kind:                       faults found  recall quarantined",
    )
    per_check: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for result in failing:
        per_check[result.check_id][0] += 1
        per_check[result.check_id][1] += result.caused_by[0] in faulted
    precision = _report(
        ((c, n, tp, n - tp) for c, (n, tp) in sorted(per_check.items())),
        "precision by check:                         fails  faults precision  false",
    )
    print(
        f"\nfaulty year: {len(run.days)} days, {len(faulted)} faulted price/FX events\n{recall}\n{precision}"
    )
    print(f"issue changes: {dict(checked.changes)}; open at the end: {len(checked.issues.open_issues())}")
    assert faulted  # market injected some: the figures above mean something
