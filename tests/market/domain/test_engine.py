"""Invariants of a 60-business-day run on the FRED snapshot (2020-02-03, the COVID crash)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from services.market import codec
from services.market.sim.engine import KIND_RANK, SimConfig, Simulation
from services.market.sim.flows import NOTICE_DAYS
from services.market.sim.macro import MacroHistory
from services.market.sim.records import (
    AssetClass,
    CashFlow,
    Fill,
    PriceQuote,
    Side,
)
from services.market.sim.universe import CURRENCY_QUANTUM, lot_size
from tests.market.conftest import REAL_DAYS, REAL_START, Run, all_events, run


def _stream_bytes(result: Run) -> bytes:
    return b"".join(codec.event_to_proto(e).SerializeToString(deterministic=True) for e in all_events(result))


def test_the_run_covers_60_business_days_from_the_start(real_run: Run) -> None:
    assert len(real_run.days) == REAL_DAYS
    assert real_run.days[0].date == REAL_START
    assert real_run.sim.finished and real_run.sim.step() is None
    assert real_run.sim.days_elapsed == REAL_DAYS
    assert real_run.sim.current_date == real_run.days[-1].date
    assert real_run.sim.head_seq == real_run.days[-1].events[-1].seq
    regimes = {day.regime for day in real_run.days}
    assert "crisis" in regimes  # March 2020 must look like March 2020


def test_seq_is_gap_free_and_event_ids_follow_it(real_run: Run) -> None:
    events = list(all_events(real_run))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(e.event_id == f"mkt-{e.seq}" for e in events)


def test_each_day_is_in_the_documented_order_with_non_decreasing_time(real_run: Run) -> None:
    previous_time = None
    for day in real_run.days:
        ranks = [KIND_RANK[e.kind] for e in day.events]
        assert ranks == sorted(ranks), f"{day.date}: kinds out of order"
        assert day.events[0].kind == "market.regime"
        assert day.events[-1].kind == "clock.day_end"
        assert day.events[-1].payload.events_in_day == len(day.events)
        for event in day.events:
            assert event.sim_time.date() == day.date
            assert event.sim_time.tzinfo is not None
            assert previous_time is None or event.sim_time >= previous_time
            previous_time = event.sim_time
        statements = [e.mandate_id for e in day.events if e.kind == "custodian.statement"]
        assert statements == [m.mandate_id for m in real_run.sim.mandates]


def test_every_instrument_alive_is_priced_by_both_vendors_every_day(real_run: Run) -> None:
    ids = [i.instrument_id for i in real_run.sim.instruments]
    for day in real_run.days:
        ticks = [e.payload.instrument_id for e in day.events if e.kind == "price.tick"]
        vendor = [e.payload.instrument_id for e in day.events if e.kind == "price.vendor"]
        assert ticks == ids and vendor == ids  # no bond matures within 60 days of issue
        fx = [e.payload.pair for e in day.events if e.kind == "fx.rate"]
        assert fx == ["EURUSD", "GBPUSD", "USDJPY", "EURGBP", "EURJPY", "GBPJPY"]


def test_caused_by_points_back_to_earlier_events_of_the_right_kind(real_run: Run) -> None:
    kind_of: dict[str, str] = {}
    paid = {
        "cashflow.dividend",
        "cashflow.coupon",
        "cashflow.subscription",
        "cashflow.redemption",
        "cashflow.fee",
    }
    # Per kind, the shapes its caused_by may take: the kind of each cause in order.
    expected = {
        # The desk fills at the day's price of the instrument (checked further below: that very tick).
        "trade.fill": [[{"price.tick"}]],
        # A first confirmation, or the broker's correction of one: the fill, then the one it replaces.
        "trade.confirmation": [[{"trade.fill"}], [{"trade.fill"}, {"trade.confirmation"}]],
        # A first booking, or a rebooking after the cancellation of the booking it replaces.
        "custodian.trade": [[{"trade.fill"}], [{"trade.fill"}, {"custodian.correction"}]],
        "custodian.settlement": [[{"custodian.trade"}, {"trade.fill"}]],
        "cashflow.dividend": [[{"corporate_action.announced"}]],
        "cashflow.coupon": [[{"corporate_action.announced"}]],
        # A fee accrues on the NAV of the previous day end.
        "fee.accrued": [[{"clock.day_end"}]],
        "custodian.cashflow": [[paid | {"corporate_action.announced"}]],
        # A cancellation names the custodian.trade, a value-date correction the custodian.cashflow; an
        # income adjustment the correction or late booking behind it, then what it adjusts.
        "custodian.correction": [
            [{"custodian.trade", "custodian.cashflow"}],
            [{"custodian.trade", "custodian.correction"}, paid | {"custodian.cashflow"}],
        ],
    }
    seen: set[str] = set()
    tick_of: dict[tuple[str, object], str] = {}  # (instrument, day) -> its price.tick
    for event in all_events(real_run):
        if event.kind == "price.tick":
            tick_of[(event.payload.instrument_id, event.sim_time.date())] = event.event_id
        if event.kind == "trade.fill":
            assert event.caused_by == (tick_of[(event.payload.instrument_id, event.payload.trade_date)],)
        for cause in event.caused_by:
            assert cause in kind_of, f"{event.event_id} caused by unknown or later {cause}"
        if event.kind == "cashflow.fee":
            # A fee payment names every accrual it pays: a month's worth, one per business day.
            assert len(event.caused_by) >= 15
            assert {kind_of[c] for c in event.caused_by} == {"fee.accrued"}, event
            seen.add(event.kind)
        if event.kind in expected:
            shapes = [s for s in expected[event.kind] if len(s) == len(event.caused_by)]
            assert any(
                all(kind_of[c] in kinds for c, kinds in zip(event.caused_by, s, strict=True)) for s in shapes
            ), event
            seen.add(event.kind)
        if event.kind in ("custodian.statement", "clock.day_end", "price.tick", "market.regime"):
            assert event.caused_by == ()
        kind_of[event.event_id] = event.kind
    assert seen >= {
        "trade.fill",
        "custodian.trade",
        "custodian.correction",
        "custodian.cashflow",
        "fee.accrued",
        "cashflow.fee",
    }


def test_mandate_id_is_set_exactly_on_mandate_events(real_run: Run) -> None:
    mandates = {m.mandate_id for m in real_run.sim.mandates}
    for event in all_events(real_run):
        prefix = event.kind.split(".")[0]
        if prefix in ("trade", "custodian", "cashflow", "fee"):
            assert event.mandate_id in mandates
            assert getattr(event.payload, "mandate_id", event.mandate_id) in (event.mandate_id, "")
        else:
            assert event.mandate_id == ""


def _fills(result: Run) -> list[Fill]:
    return [e.payload for e in all_events(result) if e.kind == "trade.fill"]


def test_every_fill_satisfies_the_net_amount_identity_exactly(real_run: Run) -> None:
    fills = _fills(real_run)
    assert len(fills) > 100
    for fill in fills:
        quantum = CURRENCY_QUANTUM[fill.currency]
        for amount in (fill.gross_amount, fill.accrued_interest, fill.commission, fill.fees, fill.net_amount):
            assert amount == amount.quantize(quantum) and amount >= 0
        costs = fill.commission + fill.fees
        base = fill.gross_amount + fill.accrued_interest
        assert fill.net_amount == (base + costs if fill.side is Side.BUY else base - costs)
        instrument = real_run.sim.instrument(fill.instrument_id)
        bond = instrument.maturity is not None
        exact_gross = fill.quantity * fill.price / 100 if bond else fill.quantity * fill.price
        assert abs(fill.gross_amount - exact_gross) <= quantum / 2
        assert fill.quantity > 0 and fill.quantity % lot_size(instrument) == 0
        assert fill.price % instrument.tick_size == 0
        if bond:
            assert fill.commission == 0 and fill.fees == 0
        else:
            assert fill.accrued_interest == 0 and fill.commission > 0


def test_settle_dates_follow_each_market_in_business_days(real_run: Run) -> None:
    business_days = [d.date for d in real_run.days]
    for fill in _fills(real_run):
        instrument = real_run.sim.instrument(fill.instrument_id)
        if fill.settle_date <= business_days[-1]:
            lag = business_days.index(fill.settle_date) - business_days.index(fill.trade_date)
            assert lag == instrument.settlement_days
        expected = 1 if instrument.asset_class is AssetClass.GOVERNMENT_BOND else 2
        assert instrument.settlement_days == expected


def test_orders_fill_in_one_to_three_partial_fills(real_run: Run) -> None:
    per_order = Counter(f.order_id for f in _fills(real_run))
    assert set(per_order.values()) <= {1, 2, 3}
    assert len(set(per_order.values())) > 1


def test_internal_positions_never_go_negative(real_run: Run) -> None:
    for day in real_run.days:
        for book in day.snapshot.internal_books:
            assert all(q > 0 for q in book.positions.values())


def _mandate_weights(result: Run) -> dict[str, list[tuple[float, float]]]:
    """Per mandate, per day: (projected cash weight, largest single-name weight) from events and snapshots.

    Projected cash: settled cash, fills not yet settled, and redemptions inside their notice period
    (the desk hears of a redemption NOTICE_DAYS business days before it is paid and raises cash).
    """
    dates = [day.date for day in result.days]
    redemptions = [
        (
            e.mandate_id,
            dates[max(0, dates.index(e.sim_time.date()) - NOTICE_DAYS)],
            e.sim_time.date(),
            e.payload.amount,
        )
        for e in all_events(result)
        if e.kind == "cashflow.redemption"
    ]
    pending: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for day in result.days:
        for event in day.events:
            if event.kind == "trade.fill":
                fill = event.payload
                signed = -fill.net_amount if fill.side is Side.BUY else fill.net_amount
                pending[fill.mandate_id].append((fill.settle_date, signed))
        prices: dict[str, PriceQuote] = {q.instrument_id: q for q in day.snapshot.prices}
        for book in day.snapshot.internal_books:
            mandate = next(m for m in result.sim.mandates if m.mandate_id == book.mandate_id)
            values = {}
            for instrument_id, quantity in book.positions.items():
                quote = prices[instrument_id]
                unit = quote.price + (quote.accrued_interest or 0)
                bond = result.sim.instrument(instrument_id).maturity is not None
                values[instrument_id] = float(quantity * unit / (100 if bond else 1))
            unsettled = sum((a for d, a in pending[book.mandate_id] if d > day.date), Decimal(0))
            notified = sum(
                (a for m, n, paid, a in redemptions if m == book.mandate_id and n <= day.date < paid),
                Decimal(0),
            )
            cash = float(book.cash[mandate.base_currency] + unsettled + notified)
            nav = sum(values.values()) + cash
            out[book.mandate_id].append((cash / nav, max(values.values(), default=0.0) / nav))
    return out


def test_mandates_keep_cash_in_band_and_names_under_the_limit_most_days(real_run: Run) -> None:
    weights = _mandate_weights(real_run)
    for mandate in real_run.sim.mandates:
        series = weights[mandate.mandate_id][1:]  # day 1 ends invested, but check from day 2
        in_band = [mandate.min_cash_weight - 0.002 <= c <= mandate.max_cash_weight + 0.002 for c, _ in series]
        assert sum(in_band) >= 0.8 * len(series), f"{mandate.mandate_id}: cash outside its band too often"
        under = [w <= mandate.max_single_name_weight * 1.1 for _, w in series]
        assert all(under), f"{mandate.mandate_id}: single-name limit breached"


def test_day_one_subscribes_initial_capital_and_invests_it(real_run: Run) -> None:
    first = real_run.days[0]
    subscriptions = [e.payload for e in first.events if e.kind == "cashflow.subscription"]
    assert {(s.mandate_id, s.amount) for s in subscriptions} == {
        (m.mandate_id, m.initial_capital) for m in real_run.sim.mandates
    }
    bought = {e.mandate_id for e in first.events if e.kind == "trade.fill"}
    assert bought == {m.mandate_id for m in real_run.sim.mandates}


def test_investor_flows_and_income_happen(real_run: Run) -> None:
    kinds = Counter(e.kind for e in all_events(real_run))
    assert kinds["cashflow.dividend"] > 0 and kinds["cashflow.coupon"] > 0
    assert kinds["cashflow.subscription"] > len(real_run.sim.mandates)
    assert kinds["cashflow.redemption"] > 0
    for event in all_events(real_run):
        if event.kind in ("cashflow.dividend", "cashflow.coupon"):
            flow: CashFlow = event.payload
            assert flow.amount > 0 and flow.quantity and flow.quantity > 0
        if event.kind == "cashflow.redemption":
            assert event.payload.amount < 0


def test_every_fill_has_one_confirmation_that_the_simulation_can_return(real_run: Run) -> None:
    confirmations = {
        e.payload.fill_id: e.payload for e in all_events(real_run) if e.kind == "trade.confirmation"
    }
    fills = _fills(real_run)
    assert set(confirmations) == {f.fill_id for f in fills}
    for fill in fills[:20]:
        found = real_run.sim.confirmation(fill.fill_id)
        assert found is not None
        confirmation, same_fill, instrument = found
        assert same_fill == fill and instrument.instrument_id == fill.instrument_id
        assert real_run.sim.confirmation(confirmation.confirmation_id) == found
        assert confirmation.text and fill.fill_id not in ("",)
    assert real_run.sim.confirmation("CNF-nope") is None
    assert len({c.layout for c in confirmations.values()}) >= 2


def test_seeded_faults_are_applied_and_name_real_events(real_run: Run) -> None:
    faults = real_run.sim.faults()
    assert faults, "60 days at default rates should produce some faults"
    ids = {e.event_id for e in all_events(real_run)}
    last_day = real_run.days[-1].date
    for fault in faults:
        assert fault.status == "APPLIED" and not fault.on_demand
        assert fault.applied_date is not None and set(fault.event_ids) <= ids
        assert fault.description
        if not fault.event_ids:
            # Only a dividend or coupon the custodian books late, on a value date after the run's
            # last day, has no event yet: its custodian.cashflow would come then.
            assert fault.kind == "CORPORATE_ACTION_DATE_MISMATCH", fault
            late = dt.date.fromisoformat(fault.description.split("with value date ")[1][:10])
            assert late > last_day, fault
    assert [f.fault_id for f in faults] == sorted(f.fault_id for f in faults)
    applied = [f.fault_id for day in real_run.days for f in day.faults_applied]
    assert applied == [f.fault_id for f in faults]


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(
    real_history: MacroHistory, real_run: Run
) -> None:
    again = run(SimConfig(seed=7, start=REAL_START, days=REAL_DAYS), real_history)
    assert _stream_bytes(again) == _stream_bytes(real_run)
    other = run(SimConfig(seed=8, start=REAL_START, days=REAL_DAYS), real_history)
    assert _stream_bytes(other) != _stream_bytes(real_run)


_DIGEST_SCRIPT = """
import datetime as dt, hashlib
from services.market import codec
from services.market.sim.engine import SimConfig, Simulation
from services.market.fred import load_macro
sim = Simulation(SimConfig(seed=5, start=dt.date(2020, 2, 3), days=15, fault_rate=10.0), load_macro(dt.date(2019, 12, 2), dt.date(2020, 12, 31)))
digest = hashlib.sha256()
kinds = set()
while (day := sim.step()) is not None:
    for event in day.events:
        kinds.add(event.kind)
        digest.update(codec.event_to_proto(event).SerializeToString(deterministic=True))
assert "custodian.correction" in kinds  # the custodian's corrections are in the stream too
print(digest.hexdigest())
"""


def test_the_stream_does_not_depend_on_string_hash_seeds() -> None:
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_start_outside_the_history_is_a_clear_error(real_history: MacroHistory) -> None:
    for start in (dt.date(1990, 1, 1), dt.date(2030, 1, 1)):
        with pytest.raises(
            ValueError, match=r"^start .* is outside the FRED data, whose business days run from "
        ):
            Simulation(SimConfig(seed=1, start=start), real_history)
    with pytest.raises(ValueError, match="days"):
        Simulation(SimConfig(seed=1, start=REAL_START, days=-1), real_history)


def test_a_weekend_start_begins_on_the_next_business_day_and_days_zero_runs_to_the_end(
    real_history: MacroHistory,
) -> None:
    sim = Simulation(SimConfig(seed=1, start=dt.date(2020, 12, 26)), real_history)
    assert sim.current_date is None and sim.snapshot() is None and sim.regime == ""
    dates = []
    while (day := sim.step()) is not None:
        dates.append(day.date)
    assert dates[0] == dt.date(2020, 12, 28)
    assert dates[-1] == real_history.days[-1].date
    assert sim.snapshot() is not None and sim.snapshot().as_of_date == dates[-1]
