"""The NAV-equals-ledger year, seen from its foreign currencies: the equality is not vacuous.

BAL-USD holds European equities in EUR and EQ-EUR UK equities in GBP (services/market/sim/
mandates.py), with foreign cash bought and sold back by FX deals. This checks that, in the same
year test_nav_equals_ledger.py compares (seed 7, no faults), they really hold foreign instruments,
foreign cash and unsettled FX deals on most days, and that on those days reporting's NAV (each
foreign line converted once at the day's primary rate) equals the ledger's equity at market to
the cent (its day-end revaluation restating the same lines: docs/ledger-design.md).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from services.common.nav.book import ReportingBook
from services.common.nav.valuation import value
from tests.ledger.domain.sim_runs import simulated_run
from tests.reporting.domain.test_nav_equals_ledger import YEAR, _ledger_equity_by_day

FOREIGN = {"BAL-USD": "EUR", "EQ-EUR": "GBP"}


def test_the_two_foreign_mandates_hold_foreign_instruments_cash_and_deals_and_still_agree_to_the_cent() -> (
    None
):
    run = simulated_run(7, YEAR, 0.0)
    ledger = _ledger_equity_by_day(7, YEAR)
    book = ReportingBook(run.mandates, run.instruments)
    instruments = {i.instrument_id: i for i in run.instruments}
    days = Counter[str]()
    holding, cash, pending, agreeing = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    smallest_share = {m: Decimal(1) for m in FOREIGN}
    for event in run.events():
        for end in book.apply(event):
            mandate = end.mandate.mandate_id
            if mandate not in FOREIGN:
                continue
            currency = FOREIGN[mandate]
            valuation = value(end, instruments)
            days[mandate] += 1
            foreign = [h for h in valuation.holdings if h.currency == currency]
            if foreign:
                holding[mandate] += 1
                share = sum((h.base_market_value for h in foreign), Decimal(0)) / valuation.nav
                smallest_share[mandate] = min(smallest_share[mandate], share)
            if end.cash.get(currency):
                cash[mandate] += 1
            if end.receivables.get(currency) or end.payables.get(currency):
                pending[mandate] += 1
            if valuation.nav == ledger[(mandate, valuation.date)]:
                agreeing[mandate] += 1
    # Figures of this run (231 business days): foreign instruments every day from the first day's
    # purchases on; foreign cash (what a deal's whole thousands leave over, dividends, proceeds) on all
    # but the two first days; foreign purchases, sales and the deals funding them unsettled at 53 and
    # 77 day ends.
    assert dict(days) == {"BAL-USD": 231, "EQ-EUR": 231}
    assert dict(holding) == dict(days) == dict(agreeing)
    assert dict(cash) == {"BAL-USD": 229, "EQ-EUR": 229}
    assert dict(pending) == {"BAL-USD": 53, "EQ-EUR": 77}
    # The foreign allocation is material: 8 % of BAL-USD, 20 % of EQ-EUR (never below 7 % and 18 %).
    assert smallest_share["BAL-USD"] > Decimal("0.07")
    assert smallest_share["EQ-EUR"] > Decimal("0.18")
