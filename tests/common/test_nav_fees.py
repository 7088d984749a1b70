"""Management fees in the platform's NAV (services/common/nav): fee.accrued adds to the accrued fees
owed, a liability; cashflow.fee takes the cash out and the same amount off the accrued fees, so the
payment leaves the NAV where the accruals put it. Figures worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from services.common.market_events import (
    CashFlow,
    CashFlowKind,
    DayEnd,
    FeeAccrual,
    Mandate,
    MarketEvent,
    Payload,
)
from services.common.nav.book import ReportingBook
from services.common.nav.valuation import DayValuation, value

D = Decimal
MANDATE = Mandate(
    mandate_id="M1",
    name="A fund",
    base_currency="USD",
    benchmark="",
    benchmark_weights={},
    sector_targets=(),
    max_single_name_weight=1.0,
    min_cash_weight=0.0,
    max_cash_weight=1.0,
    initial_capital=D("1000000.00"),
    lot_method="FIFO",
    allowed_asset_classes=(),
    management_fee_rate=D("0.0050"),
)
MON, TUE, WED = dt.date(2024, 3, 4), dt.date(2024, 3, 5), dt.date(2024, 3, 6)


class _Stream:
    def __init__(self) -> None:
        self.book = ReportingBook([MANDATE], [])
        self.seq = 0

    def apply(self, day: dt.date, at: dt.time, kind: str, payload: Payload) -> list[DayValuation]:
        self.seq += 1
        event = MarketEvent(
            self.seq, f"mkt-{self.seq}", dt.datetime.combine(day, at, tzinfo=dt.UTC), kind, payload, "M1"
        )
        return [value(end, {}) for end in self.book.apply(event)]

    def day_end(self, day: dt.date) -> DayValuation:
        [valued] = self.apply(day, dt.time(23, 59), "clock.day_end", DayEnd(day, 0, 0))
        return valued

    def accrue(self, day: dt.date, amount: str, days: int) -> None:
        accrual = FeeAccrual("M1", D(amount), "USD", day, D("1000000.00"), D("0.0050"), days)
        self.apply(day, dt.time(8), "fee.accrued", accrual)

    def cash_flow(self, day: dt.date, kind: CashFlowKind, amount: str) -> None:
        flow = CashFlow(f"CF-{self.seq}", "M1", kind, D(amount), "USD")
        self.apply(day, dt.time(16, 20), f"cashflow.{kind.lower()}", flow)


def test_accrued_fees_are_a_liability_until_paid_and_paying_them_leaves_the_nav_unchanged() -> None:
    stream = _Stream()
    stream.cash_flow(MON, CashFlowKind.SUBSCRIPTION, "1000000.00")
    monday = stream.day_end(MON)
    assert monday.nav == D("1000000.00") and monday.breakdown.liabilities == 0
    # Tuesday's accrual: 1,000,000.00 x 0.0050 x 1 / 365 = 13.6986... -> 13.70 (market computes it).
    stream.accrue(TUE, "13.70", 1)
    tuesday = stream.day_end(TUE)
    # NAV = cash 1,000,000.00 - liabilities 13.70 = 999,986.30.
    assert tuesday.breakdown.cash_value == D("1000000.00")
    assert tuesday.breakdown.liabilities == D("13.70")
    assert tuesday.nav == D("999986.30")
    # Wednesday: another 13.70 (999,986.30 x 0.005 / 365 = 13.6984... -> 13.70), then the fee paid:
    # 27.40 out of cash and off the liability. NAV = 1,000,000.00 - 27.40 = 999,972.60 either way.
    stream.accrue(WED, "13.70", 1)
    stream.cash_flow(WED, CashFlowKind.FEE, "-27.40")
    wednesday = stream.day_end(WED)
    assert wednesday.breakdown.cash_value == D("999972.60")
    assert wednesday.breakdown.liabilities == 0
    assert wednesday.nav == D("999972.60")
    # A fee is no external flow: it is in the return, not dealt in units.
    assert wednesday.flows == 0


def test_the_accrued_fees_are_kept_in_the_books_state() -> None:
    stream = _Stream()
    stream.cash_flow(MON, CashFlowKind.SUBSCRIPTION, "1000000.00")
    stream.accrue(MON, "41.10", 3)
    stream.day_end(MON)
    state = stream.book.to_json()
    assert json.loads(state)["books"]["M1"]["accrued_fees"] == {"USD": "41.10"}
    restored = ReportingBook([MANDATE], [])
    restored.restore(state)
    assert restored.books["M1"].accrued_fees == {"USD": D("41.10")}
    # A state saved before fees were accrued (no "accrued_fees") restores with none owed.
    data = json.loads(state)
    del data["books"]["M1"]["accrued_fees"]
    older = ReportingBook([MANDATE], [])
    older.restore(json.dumps(data))
    assert older.books["M1"].accrued_fees == {}
