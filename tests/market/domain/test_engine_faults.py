"""The custodian's book differs from the internal one exactly where the ground truth says, until it
corrects itself.

Reconciliation model (books.py and custodian.py state the conventions): the
internal book holds positions by trade date and cash by settle date; the
custodian holds both by the date it actually settles. So, day by day, with C
a fault's corrected date (the ground truth) and S the fill's settle date:

  custodian = internal, as of each fill's settle date,
              minus dropped fills until booked late (then as of max(S, C)),
              plus duplicates from S until cancelled on C (a duplicate cancelled
              before S never settles), with the typed figures of typos from S
              until C and the fill's own figures from max(S, C), minus fills the
              custodian has not settled yet (delays, fails), plus the
              custodian's own cash flows and income adjustments in place of
              the internal ones.

With no faults that is an identity; with faults each term comes from a fault, and once
every fault is corrected the terms cancel.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.fx import cross_rate
from services.market.sim.macro import MacroHistory
from services.market.sim.records import (
    CorrectionKind,
    CustodianTrade,
    FaultKind,
    FaultRequest,
    FaultStatus,
    Fill,
    InjectedFault,
    SettlementState,
    SettlementStatus,
    Side,
)
from tests.market.conftest import SYNTHETIC_START, Run, all_events, run

K = FaultKind
ZERO = Decimal(0)


def _signed(fill: Fill) -> tuple[Decimal, Decimal]:
    return (fill.quantity, -fill.net_amount) if fill.side is Side.BUY else (-fill.quantity, fill.net_amount)


def _signed_trade(trade: CustodianTrade) -> tuple[Decimal, Decimal]:
    return (
        (trade.quantity, -trade.net_amount) if trade.side is Side.BUY else (-trade.quantity, trade.net_amount)
    )


def _before(corrected: dt.date | None, day: dt.date) -> bool:
    """Whether `day` is before the correction (a fault not corrected yet is open)."""
    return corrected is None or day < corrected


def _expected_books(result: Run, day_index: int) -> tuple[dict, dict, dict, dict]:
    """(internal positions by settle date, internal cash, expected custodian positions, expected custodian cash)
    at the end of day `day_index`, from the events and the ground truth only."""
    day = result.days[day_index].date
    events = {e.event_id: e for d in result.days[: day_index + 1] for e in d.events}
    trade_faults: dict[str, InjectedFault] = {
        f.fill_id: f for f in result.sim.faults() if f.fill_id and f.applied_date and f.applied_date <= day
    }
    internal_pos: dict = defaultdict(Decimal)
    internal_cash: dict = defaultdict(Decimal)
    custodian_pos: dict = defaultdict(Decimal)
    custodian_cash: dict = defaultdict(Decimal)

    def custodian_adds(key: tuple, money: tuple, quantity: Decimal, cash: Decimal) -> None:
        custodian_pos[key] += quantity
        custodian_cash[money] += cash

    for event in events.values():
        if event.kind.startswith("cashflow."):
            internal_cash[event.mandate_id, event.payload.currency] += event.payload.amount
        if event.kind == "custodian.cashflow":
            custodian_cash[event.mandate_id, event.payload.currency] += event.payload.amount
        if event.kind == "custodian.correction" and event.payload.kind is CorrectionKind.INCOME_ADJUSTMENT:
            custodian_cash[event.mandate_id, event.payload.currency] += event.payload.cash_amount
        # FX deals carry no fault: the internal book moves both legs on the settle date, the custodian
        # on its report of the settlement.
        if event.kind == "trade.fx" and event.payload.settle_date <= day:
            for currency, amount in event.payload.signed_legs():
                internal_cash[event.mandate_id, currency] += amount
        if event.kind == "custodian.fx_settlement":
            report = event.payload
            custodian_cash[event.mandate_id, report.bought_currency] += report.bought_amount
            custodian_cash[event.mandate_id, report.sold_currency] -= report.sold_amount
        if event.kind != "trade.fill":
            continue
        fill: Fill = event.payload
        quantity, cash = _signed(fill)
        key, money = (fill.mandate_id, fill.instrument_id), (fill.mandate_id, fill.currency)
        settled = fill.settle_date <= day
        if settled:
            internal_pos[key] += quantity
            internal_cash[money] += cash
        fault = trade_faults.get(fill.fill_id)
        carried = [events[i].payload for i in (fault.event_ids if fault else ()) if i in events]
        corrected = fault.corrected_date if fault else None
        # The fill's own figures, as of max(S, C) when the custodian books them late or rebooks them.
        rebooked = fault is not None and fault.kind in (
            K.CUSTODIAN_DROP_TRADE,
            K.CUSTODIAN_QUANTITY_TYPO,
            K.CUSTODIAN_PRICE_TYPO,
        )
        if fault is None or fault.kind is K.CUSTODIAN_DUPLICATE_TRADE:
            if settled:
                custodian_adds(key, money, quantity, cash)
            if fault is not None and settled and _before(corrected, day):
                custodian_adds(key, money, quantity, cash)  # the duplicate, until cancelled
        elif rebooked:
            if fault.kind is not K.CUSTODIAN_DROP_TRADE and settled and _before(corrected, day):
                booked = next(p for p in carried if isinstance(p, CustodianTrade))
                custodian_adds(key, money, *_signed_trade(booked))  # the typed figures, until cancelled
            if corrected is not None and max(fill.settle_date, corrected) <= day:
                custodian_adds(key, money, quantity, cash)
        else:
            assert fault.kind in (K.SETTLEMENT_DELAY, K.SETTLEMENT_FAIL)
            late = [
                p for p in carried if isinstance(p, SettlementStatus) and p.state is SettlementState.SETTLED
            ]
            if late:
                assert late[0].settle_date > fill.settle_date  # really late
                assert late[0].settle_date == corrected  # which is when the fault ends
                custodian_adds(key, money, quantity, cash)
    return internal_pos, internal_cash, custodian_pos, custodian_cash


def _nonzero(values: dict) -> dict:
    return {k: v for k, v in values.items() if v}


def _book_dicts(books: tuple) -> tuple[dict, dict]:
    positions = {(b.mandate_id, i): q for b in books for i, q in b.positions.items()}
    cash = {(b.mandate_id, c): a for b in books for c, a in b.cash.items()}
    return positions, cash


def _check_day(result: Run, k: int) -> None:
    _, internal_cash, custodian_pos, custodian_cash = _expected_books(result, k)
    snapshot = result.days[k].snapshot
    actual_custodian_pos, actual_custodian_cash = _book_dicts(snapshot.custodian_books)
    _, actual_internal_cash = _book_dicts(snapshot.internal_books)
    assert _nonzero(actual_internal_cash) == _nonzero(internal_cash), f"internal cash, day {k}"
    assert actual_custodian_pos == _nonzero(custodian_pos), f"custodian positions, day {k}"
    assert _nonzero(actual_custodian_cash) == _nonzero(custodian_cash), f"custodian cash, day {k}"


def test_without_faults_the_custodian_equals_the_internal_book_as_of_settlement(clean_run: Run) -> None:
    assert clean_run.sim.faults() == ()
    for k in range(len(clean_run.days)):
        internal_pos, internal_cash, _, _ = _expected_books(clean_run, k)
        custodian_pos, custodian_cash = _book_dicts(clean_run.days[k].snapshot.custodian_books)
        assert custodian_pos == _nonzero(internal_pos)
        assert _nonzero(custodian_cash) == _nonzero(internal_cash)
    # Every trade the desk did settles at the custodian on its settle date and nothing else happens.
    settlements = [e.payload for e in all_events(clean_run) if e.kind == "custodian.settlement"]
    assert all(s.state is SettlementState.SETTLED for s in settlements)
    custodian_flows = [e.payload for e in all_events(clean_run) if e.kind == "custodian.cashflow"]
    internal_flows = {
        e.payload.cash_flow_id: e.payload for e in all_events(clean_run) if e.kind.startswith("cashflow.")
    }
    assert [f.cash_flow_id for f in custodian_flows] == list(internal_flows)
    for flow in custodian_flows:
        assert flow.amount == internal_flows[flow.cash_flow_id].amount
    # Every FX deal the desk did settles at the custodian on its settle date, once.
    deals = {e.payload.deal_id: e.payload for e in all_events(clean_run) if e.kind == "trade.fx"}
    reports = [e.payload for e in all_events(clean_run) if e.kind == "custodian.fx_settlement"]
    assert deals and len({r.deal_id for r in reports}) == len(reports)
    for report in reports:
        deal = deals[report.deal_id]
        assert report.state is SettlementState.SETTLED and report.settle_date == deal.settle_date
        assert (report.bought_amount, report.sold_amount) == (deal.bought_amount, deal.sold_amount)
    last = clean_run.days[-1].date
    assert {r.deal_id for r in reports} == {d.deal_id for d in deals.values() if d.settle_date <= last}


def test_the_trade_date_book_minus_unsettled_fills_is_the_custodian_book_without_faults(
    clean_run: Run,
) -> None:
    last = clean_run.days[-1]
    unsettled: dict = defaultdict(Decimal)
    for event in all_events(clean_run):
        if event.kind == "trade.fill" and event.payload.settle_date > last.date:
            unsettled[event.payload.mandate_id, event.payload.instrument_id] += _signed(event.payload)[0]
    internal, _ = _book_dicts(last.snapshot.internal_books)
    custodian, _ = _book_dicts(last.snapshot.custodian_books)
    keys = set(internal) | set(custodian)
    assert {
        k: internal.get(k, ZERO) - unsettled[k] for k in keys if internal.get(k, ZERO) - unsettled[k]
    } == custodian


def test_with_many_faults_the_books_differ_exactly_as_the_ground_truth_says(faulty_run: Run) -> None:
    kinds = {f.kind for f in faulty_run.sim.faults()}
    assert kinds == set(FaultKind), f"missing kinds: {set(FaultKind) - kinds}"
    for k in range(len(faulty_run.days)):
        _check_day(faulty_run, k)


def test_custodian_income_differs_only_where_a_fault_explains_it(faulty_run: Run) -> None:
    events = list(all_events(faulty_run))
    internal = {e.payload.cash_flow_id: e for e in events if e.kind.startswith("cashflow.")}
    faults = faulty_run.sim.faults()
    position_faults = {
        (f.mandate_id, f.instrument_id)
        for f in faults
        if f.kind in (K.CUSTODIAN_DROP_TRADE, K.CUSTODIAN_DUPLICATE_TRADE, K.CUSTODIAN_QUANTITY_TYPO)
    }
    mismatched_dates = {i for f in faults if f.kind is K.CORPORATE_ACTION_DATE_MISMATCH for i in f.event_ids}
    seen_mismatch = 0
    for event in events:
        if event.kind != "custodian.cashflow":
            continue
        flow = event.payload
        twin = internal.get(flow.cash_flow_id)
        pay_date = twin.payload.pay_date or twin.sim_time.date() if twin else None
        if twin is None or flow.amount != twin.payload.amount:
            assert (flow.mandate_id, flow.instrument_id) in position_faults
        if event.event_id in mismatched_dates:
            seen_mismatch += 1
            assert twin is None or flow.value_date != pay_date
            assert (
                1 <= abs((flow.value_date - event.sim_time.date()).days) <= 4
                or flow.value_date == event.sim_time.date()
            )
        elif twin is not None:
            assert flow.value_date == pay_date
    assert seen_mismatch == len(mismatched_dates) > 0


def test_fault_event_ids_carry_the_fault(faulty_run: Run) -> None:
    kind_of = {e.event_id: e for e in all_events(faulty_run)}
    expected_first = {
        K.CUSTODIAN_DROP_TRADE: "trade.fill",
        K.CUSTODIAN_DUPLICATE_TRADE: "custodian.trade",
        K.CUSTODIAN_QUANTITY_TYPO: "trade.confirmation",
        K.CUSTODIAN_PRICE_TYPO: "trade.confirmation",
        K.SETTLEMENT_DELAY: "custodian.trade",
        K.SETTLEMENT_FAIL: "custodian.trade",
        K.CORPORATE_ACTION_DATE_MISMATCH: "custodian.cashflow",
        K.VENDOR_STALE_PRICE: "price.vendor",
        K.VENDOR_PRICE_SPIKE: "price.vendor",
        K.FX_CROSS_INCONSISTENT: "fx.rate",
        K.PRIMARY_PRICE_SPIKE: "price.tick",
    }
    for fault in faulty_run.sim.faults():
        first = kind_of[fault.event_ids[0]]
        assert first.kind == expected_first[fault.kind], fault
        if fault.fill_id:
            assert all(
                getattr(kind_of[i].payload, "fill_id", fault.fill_id) == fault.fill_id
                for i in fault.event_ids
            )
        if fault.kind is K.CUSTODIAN_QUANTITY_TYPO:
            confirmation, booked = kind_of[fault.event_ids[0]].payload, kind_of[fault.event_ids[1]].payload
            fill = next(
                e.payload
                for e in kind_of.values()
                if e.kind == "trade.fill" and e.payload.fill_id == fault.fill_id
            )
            assert booked.quantity != fill.quantity
            assert f"{booked.quantity:,}" in confirmation.text or str(booked.quantity) in confirmation.text
        if fault.kind is K.VENDOR_PRICE_SPIKE:
            quote = kind_of[fault.event_ids[0]].payload
            primary = next(
                e.payload
                for e in kind_of.values()
                if e.kind == "price.tick"
                and e.payload.instrument_id == quote.instrument_id
                and e.payload.price_date == quote.price_date
            )
            move = abs(quote.price / primary.price - 1)
            assert Decimal("0.07") < move < Decimal("0.26")
        if fault.kind is K.PRIMARY_PRICE_SPIKE:
            # One event, the bad print itself; vendor_b that day prices off the true price.
            (event_id,) = fault.event_ids
            tick = kind_of[event_id].payload
            assert tick.instrument_id == fault.instrument_id and tick.price_date == fault.applied_date
            vendor = next(
                e.payload
                for e in kind_of.values()
                if e.kind == "price.vendor"
                and e.payload.instrument_id == tick.instrument_id
                and e.payload.price_date == tick.price_date
            )
            assert Decimal("0.07") < abs(tick.price / vendor.price - 1) < Decimal("0.27")
        if fault.kind is K.FX_CROSS_INCONSISTENT:
            rate = kind_of[fault.event_ids[0]]
            legs = {kind_of[i].payload.pair: kind_of[i].payload.rate for i in rate.caused_by}
            exact = cross_rate(rate.payload.pair, legs)
            assert Decimal("0.004") < abs(rate.payload.rate / exact - 1) < Decimal("0.031")


# ---------------------------------------------------------------- on demand


def _first_fill_of(result: Run, mandate_id: str, after: dt.date) -> Fill:
    return next(
        e.payload
        for e in all_events(result)
        if e.kind == "trade.fill" and e.mandate_id == mandate_id and e.payload.trade_date >= after
    )


def test_an_injected_drop_makes_the_custodian_miss_exactly_that_fill_until_it_books_it_late(
    synthetic: MacroHistory,
) -> None:
    config = SimConfig(seed=3, start=SYNTHETIC_START, days=30, fault_rate=0.0)
    request = FaultRequest(K.CUSTODIAN_DROP_TRADE, mandate_id="BAL-USD")
    result = run(config, synthetic, injections={5: [request]})
    (fault,) = result.sim.faults()
    assert fault.on_demand and fault.status is FaultStatus.APPLIED and fault.mandate_id == "BAL-USD"
    target = _first_fill_of(result, "BAL-USD", result.days[5].date)
    assert fault.fill_id == target.fill_id and fault.instrument_id == target.instrument_id
    fill_event = next(
        e for e in all_events(result) if e.kind == "trade.fill" and e.payload.fill_id == target.fill_id
    )
    assert fault.event_ids == (fill_event.event_id,)
    # Every fill is booked on its trade date but the dropped one, which is booked on the corrected date.
    booked = {e.payload.fill_id: e for e in all_events(result) if e.kind == "custodian.trade"}
    fills = [e.payload for e in all_events(result) if e.kind == "trade.fill"]
    assert set(booked) == {f.fill_id for f in fills}
    assert all(booked[f.fill_id].sim_time.date() == f.trade_date for f in fills if f is not target)
    late = booked[target.fill_id]
    assert (
        fault.corrected_date is not None and late.sim_time.date() == fault.corrected_date > target.trade_date
    )
    assert late.caused_by == (fill_event.event_id,) and late.payload.replaces_ref == ""
    assert (late.payload.quantity, late.payload.net_amount) == (target.quantity, target.net_amount)
    assert (late.payload.trade_date, late.payload.settle_date) == (target.trade_date, target.settle_date)
    [settled] = [
        e
        for e in all_events(result)
        if e.kind == "custodian.settlement" and e.payload.fill_id == target.fill_id
    ]
    assert settled.payload.settle_date == max(target.settle_date, fault.corrected_date)
    assert fault.correction_event_ids == (late.event_id, settled.event_id)
    # Corrected and settled, the custodian is the clean twin's again; until then it lacks the fill.
    clean = run(config, synthetic)
    for mine, twin in zip(result.days, clean.days, strict=True):
        assert mine.snapshot.internal_books == twin.snapshot.internal_books
        positions, _ = _book_dicts(mine.snapshot.custodian_books)
        clean_positions, _ = _book_dicts(twin.snapshot.custodian_books)
        key = (target.mandate_id, target.instrument_id)
        missing = target.settle_date <= mine.date < settled.payload.settle_date
        assert clean_positions.get(key, ZERO) - positions.get(key, ZERO) == (
            _signed(target)[0] if missing else ZERO
        )
        if not missing:
            assert mine.snapshot.custodian_books == twin.snapshot.custodian_books
    assert result.days[-1].date > settled.payload.settle_date  # the run saw the books agree again
    for k in range(len(result.days)):
        _check_day(result, k)


@pytest.mark.parametrize(
    ("kind", "mandate_id", "instrument_id"),
    [
        (K.CUSTODIAN_DUPLICATE_TRADE, "FI-USD", ""),
        (K.CUSTODIAN_QUANTITY_TYPO, "INC-GBP", "UK-BRCN"),
        (K.CUSTODIAN_PRICE_TYPO, "", "JP-6987"),
        (K.SETTLEMENT_DELAY, "EQ-EUR", ""),
        (K.SETTLEMENT_FAIL, "BAL-USD", "US-GRDN"),
    ],
)
def test_injected_trade_faults_hit_the_next_matching_fill(
    synthetic: MacroHistory, kind: FaultKind, mandate_id: str, instrument_id: str
) -> None:
    config = SimConfig(seed=3, start=SYNTHETIC_START, days=25, fault_rate=0.0)
    request = FaultRequest(kind, mandate_id=mandate_id, instrument_id=instrument_id)
    result = run(config, synthetic, injections={0: [request]})
    (fault,) = result.sim.faults()
    first = next(
        e.payload
        for e in all_events(result)
        if e.kind == "trade.fill"
        and (not mandate_id or e.mandate_id == mandate_id)
        and (not instrument_id or e.payload.instrument_id == instrument_id)
    )
    assert fault.fill_id == first.fill_id and fault.applied_date == SYNTHETIC_START and fault.on_demand
    assert fault.mandate_id == first.mandate_id and fault.instrument_id == first.instrument_id
    assert [f.fault_id for f in result.days[0].faults_applied] == [fault.fault_id]
    for k in range(len(result.days)):
        _check_day(result, k)


def test_an_injected_fault_stays_pending_until_it_has_a_target(synthetic: MacroHistory) -> None:
    sim = Simulation(SimConfig(seed=3, start=SYNTHETIC_START, days=10, fault_rate=0.0), synthetic)
    pending = sim.inject(FaultRequest(K.VENDOR_STALE_PRICE, instrument_id="US-NWSF"))
    assert pending.status is FaultStatus.PENDING and pending.on_demand and pending.event_ids == ()
    sim.step()  # day 1: vendor_b has no previous price to repeat
    assert sim.faults()[0].status is FaultStatus.PENDING
    day2 = sim.step()
    assert day2 is not None
    (applied,) = sim.faults()
    assert applied.status is FaultStatus.APPLIED and applied.applied_date == day2.date
    (event_id,) = applied.event_ids
    quote = next(e.payload for e in day2.events if e.event_id == event_id)
    day1_quote = next(
        e.payload
        for e in sim_events_of(sim, 1)
        if e.kind == "price.vendor" and e.payload.instrument_id == "US-NWSF"
    )
    assert quote.instrument_id == "US-NWSF" and quote.price == day1_quote.price


def sim_events_of(sim: Simulation, day_number: int) -> list:
    """Events of a day of a fresh identical run (the simulation does not keep history)."""
    twin = Simulation(sim.config, sim.macro)
    result = None
    for _ in range(day_number):
        result = twin.step()
    assert result is not None
    return list(result.events)


def test_injected_fx_and_spike_faults_apply_on_the_next_day(synthetic: MacroHistory) -> None:
    result = run(
        SimConfig(seed=3, start=SYNTHETIC_START, days=3, fault_rate=0.0),
        synthetic,
        injections={
            1: [
                FaultRequest(K.FX_CROSS_INCONSISTENT, currency_pair="GBPJPY"),
                FaultRequest(K.VENDOR_PRICE_SPIKE, instrument_id="JP-6987"),
                FaultRequest(K.FX_CROSS_INCONSISTENT),
            ]
        },
    )
    cross, spike, any_cross = result.sim.faults()
    day2 = result.days[1]
    assert all(f.applied_date == day2.date for f in (cross, spike, any_cross))
    assert cross.currency_pair == "GBPJPY" and any_cross.currency_pair in ("EURGBP", "EURJPY")
    rates = {e.event_id: e.payload for e in day2.events if e.kind == "fx.rate"}
    primary = {q.pair: q.rate for q in rates.values() if q.vendor == "primary"}
    for fault in (cross, any_cross):
        quote = rates[fault.event_ids[0]]
        assert quote.rate != cross_rate(quote.pair, primary)
    clean_rates = [
        q
        for q in rates.values()
        if q.vendor == "cross" and q.pair not in (cross.currency_pair, any_cross.currency_pair)
    ]
    assert all(q.rate == cross_rate(q.pair, primary) for q in clean_rates)
    assert spike.instrument_id == "JP-6987"


def test_an_injected_corporate_action_date_mismatch_moves_the_custodian_value_date(
    synthetic: MacroHistory,
) -> None:
    result = run(
        SimConfig(seed=3, start=SYNTHETIC_START, days=60, fault_rate=0.0),
        synthetic,
        injections={0: [FaultRequest(K.CORPORATE_ACTION_DATE_MISMATCH, mandate_id="INC-GBP")]},
    )
    (fault,) = result.sim.faults()
    assert fault.status is FaultStatus.APPLIED and fault.mandate_id == "INC-GBP"
    booked = next(e for e in all_events(result) if e.event_id == fault.event_ids[0])
    internal = next(
        e.payload
        for e in all_events(result)
        if e.kind.startswith("cashflow.") and e.payload.cash_flow_id == booked.payload.cash_flow_id
    )
    assert booked.payload.value_date != internal.pay_date
    assert booked.payload.amount == internal.amount


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (FaultRequest(K.CUSTODIAN_DROP_TRADE, mandate_id="NOPE"), "mandate_id"),
        (FaultRequest(K.VENDOR_PRICE_SPIKE, instrument_id="XX-NONE"), "instrument_id"),
        (FaultRequest(K.FX_CROSS_INCONSISTENT, currency_pair="EURUSD"), "currency_pair"),
        (FaultRequest(K.FX_CROSS_INCONSISTENT, instrument_id="US-NWSF"), "instrument_id"),
        (FaultRequest(K.CUSTODIAN_DROP_TRADE, currency_pair="EURGBP"), "currency_pair"),
        (
            FaultRequest(K.CUSTODIAN_QUANTITY_TYPO, mandate_id="EQ-EUR", instrument_id="US-NWSF"),
            "instrument_id",
        ),
        (FaultRequest(K.CORPORATE_ACTION_DATE_MISMATCH, instrument_id="US-QBIT"), "instrument_id"),
        (FaultRequest(K.VENDOR_STALE_PRICE, mandate_id="EQ-EUR"), "mandate_id"),
        (FaultRequest("NOT_A_KIND"), "kind"),  # type: ignore[arg-type]
    ],
)
def test_inject_rejects_targets_it_cannot_find(
    synthetic: MacroHistory, request_: FaultRequest, field: str
) -> None:
    sim = Simulation(SimConfig(seed=3, start=SYNTHETIC_START, days=2), synthetic)
    with pytest.raises(ValueError, match=rf"^{field}: "):
        sim.inject(request_)
    assert sim.faults() == ()


def test_injections_do_not_change_prices_or_the_internal_book(synthetic: MacroHistory) -> None:
    """Every kind injected once: the published prices change only at the primary's bad print (one
    instrument, one day) and the internal book not at all. The bad print does reach the next
    morning's fee accruals (their NAV is the stream's, fees.py), but those are paid on the first
    business day of February, after this run, so no cash moves."""
    config = SimConfig(seed=4, start=SYNTHETIC_START, days=20)
    requests = [FaultRequest(kind) for kind in FaultKind]
    plain, injected = run(config, synthetic), run(config, synthetic, injections={2: requests})
    [bad_print] = [f for f in injected.sim.faults() if f.kind is K.PRIMARY_PRICE_SPIKE and f.on_demand]
    assert bad_print.applied_date == injected.days[2].date
    for a, b in zip(plain.days, injected.days, strict=True):
        moved = {
            (p.instrument_id, p.price_date): (p.price, q.price)
            for p, q in zip(a.snapshot.prices, b.snapshot.prices, strict=True)
            if p != q
        }
        if a.date == bad_print.applied_date:
            [(key, (true, printed))] = moved.items()
            assert key == (bad_print.instrument_id, a.date)
            assert Decimal("0.07") < abs(printed / true - 1) < Decimal("0.26")
        else:
            assert moved == {}
        assert a.snapshot.internal_books == b.snapshot.internal_books
    accruals = [
        [e.payload for e in day.events if e.kind == "fee.accrued"]
        for day in (plain.days[3], injected.days[3])
    ]
    assert accruals[0] != accruals[1]
    on_demand = [f for f in injected.sim.faults() if f.on_demand]
    assert len(on_demand) == len(requests) and all(f.status is FaultStatus.APPLIED for f in on_demand)

    def key(f: InjectedFault) -> tuple:
        return (f.kind, f.fill_id, f.instrument_id, f.currency_pair, f.applied_date)

    # Seeded faults keep their targets; an on-demand fault only takes the place of a seeded one on its own target.
    seeded = {key(f) for f in injected.sim.faults() if not f.on_demand}
    before = {key(f) for f in plain.sim.faults()}
    assert seeded <= before
    taken = {(f.fill_id, f.instrument_id, f.currency_pair, f.applied_date) for f in on_demand}
    assert all(k[1:] in taken for k in before - seeded)
