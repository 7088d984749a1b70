"""One simulated day at a time on a short synthetic history: what step() emits, when, and why.

The shared 60-day runs (test_engine.py) check properties over many days; these step a few days
of the synthetic history (a fraction of a second) and pin the exact wiring: phase times, the
day-end counts, the snapshot, cross-rate causes, confirmation lookups, settlement reasons and
the configuration errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from services.common.calendar import BusinessCalendar
from services.market.sim import engine
from services.market.sim.confirmations import layout_for_broker, render_confirmation_text
from services.market.sim.custodian import Custodian
from services.market.sim.desk import BROKERS
from services.market.sim.engine import CASH_FLOW_EVENT, PHASE_TIME, SimConfig, Simulation
from services.market.sim.faults import FaultBook
from services.market.sim.fx import CROSS_LEGS, FxPublisher
from services.market.sim.macro import MacroHistory
from services.market.sim.prices import PriceModel
from services.market.sim.primary import PrimaryPublisher
from services.market.sim.records import (
    CashFlow,
    CashFlowKind,
    CorrectionKind,
    DayResult,
    FaultKind,
    FaultRequest,
    FaultStatus,
    InjectedFault,
    SettlementState,
    Side,
    SimEvent,
)
from services.market.sim.rng import py_stream
from services.market.sim.universe import build_universe
from services.market.sim.vendor import SecondVendor
from tests.market.conftest import SYNTHETIC_START, synthetic_history

K = FaultKind
HISTORY = synthetic_history(days=12)


def simulation(
    days: int = 4, fault_rate: float = 0.0, seed: int = 3, history: MacroHistory = HISTORY
) -> Simulation:
    return Simulation(SimConfig(seed=seed, start=SYNTHETIC_START, days=days, fault_rate=fault_rate), history)


def step(sim: Simulation) -> DayResult:
    result = sim.step()
    assert result is not None
    return result


def of_kind(result: DayResult, kind: str) -> list[SimEvent]:
    return [e for e in result.events if e.kind == kind]


# ---------------------------------------------------------------- configuration


def test_a_bad_configuration_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match=r"^days: must be >= 0, not -1$"):
        simulation(days=-1)
    with pytest.raises(ValueError, match=r"^fault_rate: must be >= 0, not -0.5$"):
        simulation(fault_rate=-0.5)
    with pytest.raises(ValueError, match=r"^macro: the history has no business days$"):
        simulation(history=MacroHistory(days=(), source="none", notes=()))
    before = SYNTHETIC_START - dt.timedelta(days=1)
    with pytest.raises(
        ValueError,
        match=r"^start 2019-01-01 is outside the FRED data, whose business days run from 2019-01-02 to "
        r"2019-01-17: pick a start between them$",
    ):
        Simulation(SimConfig(seed=1, start=before), HISTORY)
    after = HISTORY.days[-1].date + dt.timedelta(days=1)
    with pytest.raises(ValueError, match="start 2019-01-18 is outside"):
        Simulation(SimConfig(seed=1, start=after), HISTORY)
    # Zero days and a zero fault rate are allowed, and so are the first and last days.
    assert simulation(days=0).end_date == HISTORY.days[-1].date
    assert (
        Simulation(SimConfig(seed=1, start=HISTORY.days[-1].date, days=5), HISTORY).end_date
        == HISTORY.days[-1].date
    )


def test_the_run_state_before_during_and_after() -> None:
    sim = simulation(days=2)
    assert (sim.current_date, sim.days_elapsed, sim.head_seq, sim.regime, sim.finished) == (
        None,
        0,
        0,
        "",
        False,
    )
    assert sim.snapshot() is None
    assert sim.end_date == dt.date(2019, 1, 3)
    first = step(sim)
    assert (sim.current_date, sim.days_elapsed, sim.finished) == (dt.date(2019, 1, 2), 1, False)
    assert sim.head_seq == first.events[-1].seq
    assert sim.regime == "calm" == first.regime
    step(sim)
    assert (sim.current_date, sim.days_elapsed, sim.finished) == (dt.date(2019, 1, 3), 2, True)
    assert sim.step() is None
    assert sim.days_elapsed == 2


# ---------------------------------------------------------------- one day's events


def test_every_event_carries_its_phase_time_and_a_gap_free_seq() -> None:
    sim = simulation(days=3)
    seq = 0
    for _ in range(3):
        result = step(sim)
        for event in result.events:
            seq += 1
            assert (event.seq, event.event_id) == (seq, f"mkt-{seq}")
            phase = event.kind if event.kind in PHASE_TIME else event.kind.split(".")[0]
            assert event.sim_time == dt.datetime.combine(result.date, PHASE_TIME[phase], tzinfo=dt.UTC)
    # The cash-flow events share one phase time.
    assert PHASE_TIME["cashflow"] == dt.time(16, 20)
    assert {kind: f"cashflow.{kind.lower()}" for kind in CashFlowKind} == CASH_FLOW_EVENT


def test_the_day_end_counts_the_days_events_and_fills_and_the_snapshot_follows_it() -> None:
    sim = simulation(days=2)
    for _ in range(2):
        result = step(sim)
        end = result.events[-1]
        assert end.kind == "clock.day_end"
        assert end.payload.date == result.date
        assert end.payload.events_in_day == len(result.events)
        assert end.payload.fills_in_day == len(of_kind(result, "trade.fill"))
        snapshot = result.snapshot
        assert snapshot is sim.snapshot()
        assert (snapshot.as_of_seq, snapshot.as_of_date) == (end.seq, result.date)
        assert list(snapshot.prices) == [e.payload for e in of_kind(result, "price.tick")]
        assert list(snapshot.fx_rates) == [e.payload for e in of_kind(result, "fx.rate")]
        assert [b.mandate_id for b in snapshot.internal_books] == [m.mandate_id for m in sim.mandates]
        statements = [e.payload.book for e in of_kind(result, "custodian.statement")]
        assert list(snapshot.custodian_books) == statements
        assert [e.mandate_id for e in of_kind(result, "custodian.statement")] == [
            m.mandate_id for m in sim.mandates
        ]
        assert all(e.payload.statement_date == result.date for e in of_kind(result, "custodian.statement"))
    # Day one invests the subscriptions: fills that day, none on a quiet second day.
    assert end.payload.fills_in_day == 0


def test_the_regime_event_states_the_macro_day() -> None:
    result = step(simulation(days=1))
    [event] = of_kind(result, "market.regime")
    state, day = event.payload, HISTORY.days[0]
    assert (state.date, state.regime, state.fed_funds_pct) == (day.date, day.regime, day.fed_funds_pct)
    # 10Y - 2Y = 2.70 - 2.50 on the first synthetic day, rounded to 6 places.
    assert state.curve_slope_pct == round(day.yields_pct["10Y"] - day.yields_pct["2Y"], 6) == 0.2
    assert (state.breakeven_inflation_pct, state.unemployment_pct) == (
        day.breakeven_pct,
        day.unemployment_pct,
    )
    assert (state.equity_drift_annual, state.equity_vol_annual) == (
        day.equity_drift_annual,
        day.equity_vol_annual,
    )
    assert state.curve_pct == dict(day.yields_pct)
    assert event.mandate_id == "" and event.caused_by == ()


def test_each_cross_rate_is_caused_by_its_two_primary_rates() -> None:
    result = step(simulation(days=1))
    rates = of_kind(result, "fx.rate")
    primary = {e.payload.pair: e.event_id for e in rates if not e.caused_by}
    assert set(primary) == {"EURUSD", "GBPUSD", "USDJPY"}
    crosses = [e for e in rates if e.caused_by]
    assert [e.payload.pair for e in crosses] == ["EURGBP", "EURJPY", "GBPJPY"]
    for cross in crosses:
        assert cross.caused_by == tuple(primary[leg] for leg in CROSS_LEGS[cross.payload.pair])


def test_each_fill_has_its_confirmation_right_after_it() -> None:
    sim = simulation(days=1)
    result = step(sim)
    events = list(result.events)
    fills = of_kind(result, "trade.fill")
    assert fills
    for fill_event in fills:
        fill = fill_event.payload
        confirmation_event = events[events.index(fill_event) + 1]
        assert confirmation_event.kind == "trade.confirmation"
        assert confirmation_event.caused_by == (fill_event.event_id,)
        assert confirmation_event.mandate_id == fill.mandate_id == fill_event.mandate_id
        confirmation = confirmation_event.payload
        number = fill.fill_id.removeprefix("FIL-")
        assert confirmation.confirmation_id == f"CNF-{number}"
        assert (confirmation.fill_id, confirmation.mandate_id, confirmation.broker) == (
            fill.fill_id,
            fill.mandate_id,
            fill.broker,
        )
        assert confirmation.layout == layout_for_broker(fill.broker)
        instrument = sim.instrument(fill.instrument_id)
        # No faults: the document is the fill's own.
        assert confirmation.text == render_confirmation_text(
            fill, instrument, confirmation.layout, confirmation_id=confirmation.confirmation_id
        )
        assert sim.confirmation(fill.fill_id) == (confirmation, fill, instrument)
        assert sim.confirmation(confirmation.confirmation_id) == (confirmation, fill, instrument)
    assert sim.confirmation("FIL-9999999") is None


def test_custodian_trades_follow_the_fills_and_settle_on_their_dates() -> None:
    sim = simulation(days=3)
    first = step(sim)
    fill_ids = {e.payload.fill_id: e.event_id for e in of_kind(first, "trade.fill")}
    trades = of_kind(first, "custodian.trade")
    assert [t.payload.fill_id for t in trades] == list(fill_ids)
    for trade in trades:
        assert trade.caused_by == (fill_ids[trade.payload.fill_id],)
        assert trade.mandate_id == trade.payload.mandate_id
    trade_ids = {t.payload.custodian_ref: t.event_id for t in trades}
    trades_by_ref = {t.payload.custodian_ref: t.payload for t in trades}
    settlements = [s for day in (step(sim), step(sim)) for s in of_kind(day, "custodian.settlement")]
    assert len(settlements) == len(trades)
    for settlement in settlements:
        status = settlement.payload
        assert settlement.caused_by == (trade_ids[status.custodian_ref], fill_ids[status.fill_id])
        assert status.state is SettlementState.SETTLED and status.reason == ""
        assert (status.instrument_id, status.currency) == (
            trades_by_ref[status.custodian_ref].instrument_id,
            trades_by_ref[status.custodian_ref].currency,
        )
        assert settlement.sim_time.date() == status.settle_date
        assert settlement.mandate_id == status.mandate_id


def test_initial_subscriptions_are_booked_by_both_books() -> None:
    sim = simulation(days=1)
    result = step(sim)
    subscriptions = of_kind(result, "cashflow.subscription")
    assert [e.payload.cash_flow_id for e in subscriptions] == [
        f"CF-{i:07d}" for i in range(1, len(sim.mandates) + 1)
    ]
    assert [e.mandate_id for e in subscriptions] == [m.mandate_id for m in sim.mandates]
    assert [e.payload.amount for e in subscriptions] == [m.initial_capital for m in sim.mandates]
    custodian = of_kind(result, "custodian.cashflow")
    assert [c.caused_by for c in custodian] == [(s.event_id,) for s in subscriptions]
    assert [c.payload.cash_flow_id for c in custodian] == [s.payload.cash_flow_id for s in subscriptions]
    assert all(c.payload.value_date == result.date and c.payload.instrument_id == "" for c in custodian)


# ---------------------------------------------------------------- faults on demand


def _first_buy_mandate(sim: Simulation) -> str:
    return sim.mandates[0].mandate_id


@pytest.mark.parametrize("kind", [K.SETTLEMENT_FAIL, K.SETTLEMENT_DELAY])
def test_a_late_settlement_reports_why(kind: FaultKind) -> None:
    sim = simulation(days=12)
    mandate = _first_buy_mandate(sim)
    sim.inject(FaultRequest(kind=kind, mandate_id=mandate))
    days = [step(sim) for _ in range(12)]
    [fault] = sim.faults()
    events = {e.event_id: e for d in days for e in d.events}
    statuses = [events[i].payload for i in fault.event_ids if events[i].kind == "custodian.settlement"]
    if kind is K.SETTLEMENT_FAIL:
        failed, settled = statuses
        # The first fills are buys: the counterparty fails to deliver the securities.
        assert failed.state is SettlementState.FAILED and failed.reason == "counterparty failed to deliver"
        assert settled.state is SettlementState.SETTLED
        assert settled.reason == f"settled after failing on {failed.settle_date.isoformat()}"
        assert failed.quantity > 0
    else:
        [settled] = statuses
        assert settled.state is SettlementState.SETTLED and settled.reason == ""


def test_a_failed_sell_is_a_failure_to_pay() -> None:
    """A sell's quantity is negative from the mandate's side: the counterparty owes cash. With
    seed 5 the first sell of the run is EQ-JPY's on the third day (sells come before buys)."""
    sim = simulation(days=12, seed=5)
    for _ in range(2):
        step(sim)
    sim.inject(FaultRequest(kind=K.SETTLEMENT_FAIL, mandate_id="EQ-JPY"))
    third = step(sim)
    first_fill = next(e.payload for e in of_kind(third, "trade.fill") if e.mandate_id == "EQ-JPY")
    assert first_fill.side.value == "SELL"
    failed = []
    while not sim.finished:
        failed += [
            e.payload
            for e in of_kind(step(sim), "custodian.settlement")
            if e.payload.state is SettlementState.FAILED
        ]
    [status] = failed
    assert status.fill_id == first_fill.fill_id and status.quantity < 0
    assert status.reason == "counterparty failed to pay"


def test_inject_checks_the_kind_and_accepts_its_name() -> None:
    sim = simulation(days=1)
    with pytest.raises(ValueError, match=r"^kind: unknown fault kind 'NOPE'$"):
        sim.inject(FaultRequest(kind="NOPE"))  # type: ignore[arg-type]
    # checked() is inject()'s validation alone: the runtime logs the request before injecting it.
    assert sim.checked(FaultRequest(kind="CUSTODIAN_DROP_TRADE")).kind is K.CUSTODIAN_DROP_TRADE  # type: ignore[arg-type]
    assert sim.faults() == ()
    assert sim.next_fault_id() == "FLT-000001"
    record = sim.inject(FaultRequest(kind="CUSTODIAN_DROP_TRADE"))  # type: ignore[arg-type]
    assert record.kind is K.CUSTODIAN_DROP_TRADE and record.status is FaultStatus.PENDING
    assert record.fault_id == "FLT-000001"
    assert sim.next_fault_id() == "FLT-000002"
    with pytest.raises(ValueError):
        sim.inject(FaultRequest(kind=K.CUSTODIAN_DROP_TRADE, mandate_id="NO-SUCH-MANDATE"))


def test_only_the_most_recent_confirmations_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """CONFIRMATIONS_KEPT bounds memory: an older confirmation is forgotten (GetConfirmation then
    says it is past retention) and the most recent ones, by id or by fill id, are kept."""
    monkeypatch.setattr(engine, "CONFIRMATIONS_KEPT", 3)
    sim = simulation(days=4)
    confirmations = [e.payload for _ in range(4) for e in of_kind(step(sim), "trade.confirmation")]
    assert len(confirmations) > 3
    older, last_three = confirmations[:-3], confirmations[-3:]
    for confirmation in last_three:
        kept = sim.confirmation(confirmation.fill_id)
        assert kept is not None and kept[0] == confirmation
        assert not sim.confirmation_forgotten(confirmation.confirmation_id)
    for confirmation in older:
        assert sim.confirmation(confirmation.confirmation_id) is None
        assert sim.confirmation(confirmation.fill_id) is None
        assert sim.confirmation_forgotten(confirmation.confirmation_id)
        assert sim.confirmation_forgotten(confirmation.fill_id)
    assert sim.confirmations_forgotten == len(confirmations) - 3
    assert not sim.confirmation_forgotten("FIL-9999999")  # newer than every kept one: unknown


def test_an_injected_typo_reaches_the_confirmation_and_the_fault_names_the_events() -> None:
    sim = simulation(days=1)
    sim.inject(FaultRequest(kind=K.CUSTODIAN_QUANTITY_TYPO))
    result = step(sim)
    [fault] = result.faults_applied
    kinds = {e.event_id: e for e in result.events}
    assert [kinds[i].kind for i in fault.event_ids] == ["trade.confirmation", "custodian.trade"]
    confirmation, booked = (kinds[i].payload for i in fault.event_ids)
    _, fill, instrument = sim.confirmation(confirmation.confirmation_id)  # type: ignore[misc]
    assert confirmation.fill_id == fault.fill_id == booked.fill_id
    assert confirmation.text == render_confirmation_text(
        fill,
        instrument,
        confirmation.layout,
        quantity=booked.quantity,
        confirmation_id=confirmation.confirmation_id,
    )


def test_an_injected_drop_names_the_fill_and_no_custodian_trade() -> None:
    sim = simulation(days=1)
    sim.inject(FaultRequest(kind=K.CUSTODIAN_DROP_TRADE))
    result = step(sim)
    [fault] = result.faults_applied
    [event_id] = fault.event_ids
    fill_event = next(e for e in result.events if e.event_id == event_id)
    assert fill_event.kind == "trade.fill" and fill_event.payload.fill_id == fault.fill_id
    assert fault.fill_id not in {e.payload.fill_id for e in of_kind(result, "custodian.trade")}


def test_faults_applied_lists_only_the_days_faults() -> None:
    sim = simulation(days=2)
    sim.inject(FaultRequest(kind=K.CUSTODIAN_DUPLICATE_TRADE))
    first, second = step(sim), step(sim)
    assert [f.kind for f in first.faults_applied] == [K.CUSTODIAN_DUPLICATE_TRADE]
    assert second.faults_applied == ()
    duplicate = first.faults_applied[0]
    trades = {e.event_id: e for e in of_kind(first, "custodian.trade")}
    assert duplicate.event_ids[0] in trades
    assert trades[duplicate.event_ids[0]].payload.fill_id == duplicate.fill_id
    assert sum(t.payload.fill_id == duplicate.fill_id for t in trades.values()) == 2


# ---------------------------------------------------------------- income


def test_income_is_the_entitled_quantity_times_the_announced_rate_in_both_books() -> None:
    """30 synthetic days, no faults: a coupon on 15 January and a dividend on 4 February. A
    coupon pays quantity x rate per 100 / 100, a dividend quantity x rate per share, each to
    the cent (half-even); the custodian pays the same from its own records, value-dated the
    pay date, caused by the internal cash flow."""
    sim = simulation(days=30, history=synthetic_history(days=30))
    events = [e for _ in range(30) for e in step(sim).events]
    by_id = {e.event_id: e for e in events}
    income = [e for e in events if e.kind in ("cashflow.coupon", "cashflow.dividend")]
    assert {e.kind for e in income} == {"cashflow.coupon", "cashflow.dividend"}
    custodian = {e.caused_by[0]: e for e in events if e.kind == "custodian.cashflow"}
    for event in income:
        flow = event.payload
        [announced_id] = event.caused_by
        action = by_id[announced_id].payload
        assert by_id[announced_id].kind == "corporate_action.announced"
        assert event.kind == ("cashflow.coupon" if action.kind == "COUPON" else "cashflow.dividend")
        per_unit = action.amount_per_unit / 100 if event.kind == "cashflow.coupon" else action.amount_per_unit
        cent = Decimal(1) if flow.currency == "JPY" else Decimal("0.01")
        assert flow.amount == (flow.quantity * per_unit).quantize(cent, rounding=ROUND_HALF_EVEN)
        assert flow.quantity > 0 and flow.amount > 0
        assert (flow.instrument_id, flow.action_id, flow.currency) == (
            action.instrument_id,
            action.action_id,
            action.currency,
        )
        assert (flow.ex_date, flow.pay_date) == (action.ex_date, action.pay_date)
        assert event.sim_time.date() == action.pay_date and event.mandate_id == flow.mandate_id
        paid = custodian[event.event_id].payload
        assert (paid.cash_flow_id, paid.mandate_id, paid.amount, paid.value_date, paid.kind) == (
            flow.cash_flow_id,
            flow.mandate_id,
            flow.amount,
            action.pay_date,
            flow.kind,
        )
        assert (paid.currency, paid.instrument_id) == (action.currency, action.instrument_id)
    # A dividend is paid on the position traded before the ex-date, fixed then: in these 30
    # days the mandates trade 3 of the 4 dividend payers between ex-date and pay date.
    fills = [e.payload for e in events if e.kind == "trade.fill"]

    def held_before(flow: CashFlow, day: dt.date) -> Decimal:
        return sum(
            (
                (f.quantity if f.side is Side.BUY else -f.quantity)
                for f in fills
                if (f.mandate_id, f.instrument_id) == (flow.mandate_id, flow.instrument_id)
                and f.trade_date < day
            ),
            Decimal(0),
        )

    dividends = [e.payload for e in income if e.kind == "cashflow.dividend"]
    assert all(d.quantity == held_before(d, d.ex_date) for d in dividends)  # type: ignore[arg-type]
    assert any(held_before(d, d.ex_date) != held_before(d, d.pay_date) for d in dividends)  # type: ignore[arg-type]
    # Cash flow ids count every cash flow, investor and income, in the order they happen.
    ids = [e.payload.cash_flow_id for e in events if e.kind.startswith("cashflow.")]
    assert ids == [f"CF-{i:07d}" for i in range(1, len(ids) + 1)]
    # Announcements are numbered too.
    actions = [e.payload.action_id for e in events if e.kind == "corporate_action.announced"]
    assert actions == [f"CA-{i:06d}" for i in range(1, len(actions) + 1)]


def test_a_coupon_on_a_fill_the_custodian_books_late_is_adjusted_when_it_books_it() -> None:
    """The custodian drops BAL-USD's two fills of 2 January in the bond paying a coupon on 15 January
    (5,093,000 and 4,439,000 nominal, settling 3 January; seed 10, whose desk splits that order in
    two). Two stale-price requests first take fault ids FLT-000001..2, so the drops are FLT-000003
    and FLT-000004, whose own streams draw correction delays of 10 and 1 business days: the second
    fill is booked on 3 January, in time; the first on 16 January, after the coupon. The internal
    book is paid on 9,532,000 nominal at 1.25 per 100: 119,150.00. The custodian pays on what it
    had settled: 4,439,000 x 0.0125 = 55,487.50, and on booking the first fill late it adjusts the
    coupon by 5,093,000 x 0.0125 = 63,662.50, so the two agree again: 55,487.50 + 63,662.50 =
    119,150.00."""
    sim = simulation(days=12, history=synthetic_history(days=30), seed=10)
    for _ in range(2):
        sim.inject(FaultRequest(kind=K.VENDOR_STALE_PRICE))
    for _ in range(2):
        sim.inject(
            FaultRequest(kind=K.CUSTODIAN_DROP_TRADE, mandate_id="BAL-USD", instrument_id="UST-20210115")
        )
    events = [e for _ in range(12) for e in step(sim).events]
    by_id = {e.event_id: e for e in events}
    first, second = sim.faults()[2:]
    assert (first.corrected_date, second.corrected_date) == (dt.date(2019, 1, 16), dt.date(2019, 1, 3))
    assert by_id[first.event_ids[0]].payload.quantity == Decimal(5093000)
    coupons = {
        e.mandate_id: e
        for e in events
        if e.kind == "cashflow.coupon" and e.payload.instrument_id == "UST-20210115"
    }
    assert coupons["BAL-USD"].payload.amount == Decimal("119150.00")
    [paid] = [
        e
        for e in events
        if e.kind == "custodian.cashflow"
        and e.mandate_id == "BAL-USD"
        and e.payload.instrument_id == "UST-20210115"
    ]
    assert paid.payload.amount == Decimal("55487.50")
    [late] = [e for e in events if e.kind == "custodian.trade" and e.payload.fill_id == first.fill_id]
    [adjustment] = [e for e in events if e.kind == "custodian.correction"]
    assert adjustment.sim_time.date() == late.sim_time.date() == dt.date(2019, 1, 16)
    assert adjustment.caused_by == (late.event_id, paid.event_id)
    assert (adjustment.payload.kind, adjustment.payload.custodian_ref) == (
        CorrectionKind.INCOME_ADJUSTMENT,
        paid.payload.custodian_ref,
    )
    assert adjustment.payload.cash_flow_id == coupons["BAL-USD"].payload.cash_flow_id
    assert (adjustment.payload.quantity, adjustment.payload.cash_amount) == (
        Decimal(5093000),
        Decimal("63662.50"),
    )
    assert adjustment.payload.value_date == dt.date(2019, 1, 15)
    assert paid.payload.amount + adjustment.payload.cash_amount == coupons["BAL-USD"].payload.amount
    assert (
        first.correction_event_ids[0] == late.event_id and adjustment.event_id in first.correction_event_ids
    )
    # FI-USD, whose fills the custodian booked, is paid the same by both.
    [fi] = [
        e
        for e in events
        if e.kind == "custodian.cashflow"
        and e.mandate_id == "FI-USD"
        and e.payload.instrument_id == "UST-20210115"
    ]
    assert fi.payload.amount == coupons["FI-USD"].payload.amount == Decimal("494262.50")


def test_a_coupon_the_custodian_paid_nothing_on_is_credited_when_it_books_the_fill_late() -> None:
    """BAL-USD's only holding of the bond paying on 15 January is one fill of 2 January (9,536,000
    nominal). Fifteen stale-price requests make the drop FLT-000016, whose stream draws a 10-day
    delay: booked 16 January, after the coupon. The internal book is paid on 15 January; the
    custodian, holding nothing by its records, pays nothing then and credits the whole coupon on
    16 January: an adjustment with no custodian flow of its own, naming the internal one."""
    sim = simulation(days=12, history=synthetic_history(days=30))
    for _ in range(15):
        sim.inject(FaultRequest(kind=K.VENDOR_STALE_PRICE))
    sim.inject(FaultRequest(kind=K.CUSTODIAN_DROP_TRADE, mandate_id="BAL-USD", instrument_id="UST-20220115"))
    events = [e for _ in range(12) for e in step(sim).events]
    drop = sim.faults()[15]
    assert drop.corrected_date == dt.date(2019, 1, 16)
    [internal] = [
        e
        for e in events
        if e.kind == "cashflow.coupon"
        and e.mandate_id == "BAL-USD"
        and e.payload.instrument_id == "UST-20220115"
    ]
    assert internal.payload.quantity == Decimal(9536000) and internal.sim_time.date() == dt.date(2019, 1, 15)
    assert not [
        e
        for e in events
        if e.kind == "custodian.cashflow"
        and e.mandate_id == "BAL-USD"
        and e.payload.instrument_id == "UST-20220115"
    ]
    [late] = [e for e in events if e.kind == "custodian.trade" and e.payload.fill_id == drop.fill_id]
    [adjustment] = [e for e in events if e.kind == "custodian.correction"]
    assert adjustment.caused_by == (late.event_id, internal.event_id)
    assert (adjustment.payload.custodian_ref, adjustment.payload.cash_flow_id) == (
        "",
        internal.payload.cash_flow_id,
    )
    assert (adjustment.payload.quantity, adjustment.payload.cash_amount) == (
        Decimal(9536000),
        internal.payload.amount,
    )


# ---------------------------------------------------------------- each part gets the run's seed


def test_prices_vendor_and_fx_are_the_parts_own_output_for_the_runs_seed() -> None:
    """Replaying the price model, the primary's publisher, the second vendor and the FX publisher,
    each built with the run's seed, over the same macro days gives exactly the published events:
    the engine hands each part the seed and the day's macro figures (the regime too: 45 days reach
    the synthetic stress and crisis regimes, where corporate spreads move), and vendor_b the true
    prices, not the published ones. At rate 3 the run has bad prints (0.06 % per instrument-day)."""
    history = synthetic_history(days=45)
    seed, rate = 7, 3.0
    sim = Simulation(SimConfig(seed=seed, start=SYNTHETIC_START, days=45, fault_rate=rate), history)
    universe = build_universe(history.days[0].date, history.days[0].yields_pct)
    prices, faults = PriceModel(universe, seed), FaultBook(rate)
    primary, vendor, fx = (
        PrimaryPublisher(seed, faults),
        SecondVendor(seed, faults),
        FxPublisher(seed, faults),
    )
    by_id = {i.instrument_id: i for i in universe.instruments}
    regimes = set()
    bad_prints = 0
    for macro_day in history.days:
        result = step(sim)
        true = prices.step(
            macro_day.date,
            macro_day.equity_drift_annual,
            macro_day.equity_vol_annual,
            macro_day.yields_pct,
            macro_day.regime,
            macro_day.risk_shock,
        )
        published = primary.publish(macro_day.date, true, by_id)
        bad_prints += sum(1 for _, fault in published if fault is not None)
        assert [e.payload for e in of_kind(result, "price.tick")] == [q for q, _ in published]
        assert [e.payload for e in of_kind(result, "price.vendor")] == [
            q for q, _ in vendor.quotes(macro_day.date, true, by_id)
        ]
        assert [e.payload for e in of_kind(result, "fx.rate")] == [
            q for q, _ in fx.quotes(macro_day.date, macro_day.fx)
        ]
        regimes.add(macro_day.regime)
    assert regimes == {"calm", "stress", "crisis"}
    assert bad_prints > 0
    price_kinds = {FaultKind.PRIMARY_PRICE_SPIKE, FaultKind.VENDOR_STALE_PRICE, FaultKind.VENDOR_PRICE_SPIKE}

    def described(records: tuple[InjectedFault, ...]) -> list[tuple]:
        return [
            (f.kind, f.instrument_id, f.applied_date, f.description) for f in records if f.kind in price_kinds
        ]

    assert described(faults.records()) == described(sim.faults())


def test_the_desk_and_the_custodian_draw_from_the_runs_seed() -> None:
    """The first order's broker is the first draw of the run's "desk" stream; replaying the
    day's fills through a custodian built with the run's seed gives the same bookings."""
    for seed in (1, 2, 3, 4):
        sim = simulation(days=1, seed=seed, fault_rate=40.0)
        result = step(sim)
        fills = [e.payload for e in of_kind(result, "trade.fill")]
        first = sim.instrument(fills[0].instrument_id)
        houses = BROKERS["BONDS" if first.maturity else first.market]
        assert fills[0].broker == houses[py_stream(seed, "desk").randrange(len(houses))]
        calendar = BusinessCalendar([d.date for d in HISTORY.days])
        custodian = Custodian(seed, FaultBook(40.0), calendar, tuple(m.mandate_id for m in sim.mandates))
        replayed = [
            b.trade
            for f in fills
            for b in custodian.book_fill(f, sim.instrument(f.instrument_id), result.date).bookings
        ]
        assert [e.payload for e in of_kind(result, "custodian.trade")] == replayed


def test_the_regime_event_rounds_the_slope_to_six_places() -> None:
    first = HISTORY.days[0]
    tilted = dataclasses.replace(first, yields_pct={**first.yields_pct, "10Y": 2.7000004})
    history = MacroHistory(days=(tilted, *HISTORY.days[1:]), source="test", notes=())
    [event] = of_kind(step(simulation(days=1, history=history)), "market.regime")
    assert event.payload.curve_slope_pct == 0.2  # 2.7000004 - 2.50 = 0.2000004 -> 0.2


def test_a_custodian_typo_reaches_the_broker_confirmation_and_its_correction_the_broker_s() -> None:
    sim = simulation(days=30, history=synthetic_history(days=32))
    sim.inject(FaultRequest(kind=K.CUSTODIAN_PRICE_TYPO))
    events = {e.event_id: e for _ in range(30) for e in step(sim).events}
    [fault] = sim.faults()
    carried = [events[i] for i in fault.event_ids]
    assert carried[0].kind == "trade.confirmation"
    confirmation = carried[0].payload
    kept = sim.confirmation(confirmation.confirmation_id)
    assert kept is not None
    _, fill, instrument = kept
    booked = next(e.payload for e in carried if e.kind == "custodian.trade")
    assert confirmation.text == render_confirmation_text(
        fill,
        instrument,
        confirmation.layout,
        confirmation_id=confirmation.confirmation_id,
        price=booked.price,
    )
    # Corrected within 30 business days (the delay's longest): the broker's confirmation of the
    # fill's own figures, cancelling and replacing the wrong one; the fill's id now names it.
    assert fault.corrected_date is not None
    corrected = events[fault.correction_event_ids[0]].payload
    assert (corrected.confirmation_id, corrected.replaces_confirmation_id) == (
        f"{confirmation.confirmation_id}-C",
        confirmation.confirmation_id,
    )
    assert corrected.text == render_confirmation_text(
        fill, instrument, confirmation.layout, confirmation_id=corrected.confirmation_id,
        replaces=confirmation.confirmation_id,
    )  # fmt: skip
    assert corrected.text.startswith(
        f"CORRECTED CONFIRMATION - CANCELS AND REPLACES {confirmation.confirmation_id}"
    )
    latest = sim.confirmation(fill.fill_id)
    assert latest is not None and latest[0] == corrected


def test_a_settlement_delay_does_not_reach_the_broker_confirmation() -> None:
    sim = simulation(days=8)
    sim.inject(FaultRequest(kind=K.SETTLEMENT_DELAY))
    events = {e.event_id: e for _ in range(8) for e in step(sim).events}
    [fault] = sim.faults()
    assert all(events[i].kind != "trade.confirmation" for i in fault.event_ids)
    settled = next(events[i].payload for i in fault.event_ids if events[i].kind == "custodian.settlement")
    kept = sim.confirmation(settled.fill_id)
    assert kept is not None
    confirmation, fill, instrument = kept
    assert settled.settle_date > fill.settle_date
    # The contractual date, as the broker confirmed it.
    assert confirmation.text == render_confirmation_text(
        fill, instrument, confirmation.layout, confirmation_id=confirmation.confirmation_id
    )
