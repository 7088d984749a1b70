"""A simulated quarter booked by the ledger, exported through the CLI: bean-check accepts it, and
Beancount's balance of every account equals the store's trial balance to the last digit."""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from beancount.core import data

from services.ledger.domain.rules import LedgerBook
from services.ledger.store import LedgerStore, open_store
from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation
from tests.ledger.export.conftest import (
    assert_bean_check_passes,
    beancount_balances,
    beancount_quantities,
    ledger_names,
    load,
    run_cli,
)

START = dt.date(2020, 1, 2)
DAYS = 63  # about a quarter of business days
MID_QUARTER = dt.date(2020, 2, 14)


@dataclass(frozen=True)
class Quarter:
    data_dir: pathlib.Path
    store: LedgerStore
    last_day: dt.date
    mandates: dict[str, str]  # mandate -> base currency
    lot_methods: dict[str, str]


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Quarter]:
    """Seed 7, the default fault rate, every event through the posting rules, one post per day
    (with the cursor and the rules' state, as the ledger's consumer stores them)."""
    sim = Simulation(SimConfig(seed=7, start=START, days=DAYS, fault_rate=1.0), load_macro(START))
    book = LedgerBook.from_market(sim.mandates, sim.instruments)
    data_dir = tmp_path_factory.mktemp("quarter")
    store = open_store("", data_dir / "ledger")
    last_day = START
    while (day := sim.step()) is not None:
        drafts = []
        seq = 0
        for event in day.events:
            drafts.extend(book.apply(event))
            seq = event.seq
        store.post(drafts, open_missing=True, cursor=seq, state=book.to_json())
        last_day = day.date
    try:
        yield Quarter(
            data_dir,
            store,
            last_day,
            {m.mandate_id: m.base_currency for m in sim.mandates},
            {m.mandate_id: m.lot_method for m in sim.mandates},
        )
    finally:
        store.close()


def _ledger_lines(
    quarter: Quarter, mandate: str, as_of: dt.date | None
) -> dict[tuple[str, str, str], object]:
    return {
        (mandate, line.account, line.currency): line.balance
        for line in quarter.store.trial_balance(mandate, as_of).lines
        if line.balance != 0
    }


def test_the_quarter_exports_and_agrees_with_the_trial_balance(
    quarter: Quarter, tmp_path: pathlib.Path
) -> None:
    out = tmp_path / "quarter.beancount"
    result = run_cli(quarter.data_dir, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert_bean_check_passes(out)
    entries = load(out)

    journals, postings = quarter.store.counts()
    transactions = [e for e in entries if isinstance(e, data.Transaction)]
    assert len(transactions) == journals > 1000
    assert sum(len(t.postings) for t in transactions) == postings
    assert (
        {m for m, _ in ledger_names(entries).values()}
        == set(quarter.mandates)
        == {
            "BAL-USD",
            "EQ-EUR",
            "INC-GBP",
            "FI-USD",
            "EQ-JPY",
        }
    )
    # Every kind of business the quarter had is in the file, not only trades.
    kinds = {t.meta["kind"] for t in transactions}
    assert {"TRADE", "SETTLEMENT", "MARK_TO_MARKET", "DIVIDEND", "COUPON", "SUBSCRIPTION"} <= kinds

    # Beancount's balance of every account, line by line, equals the ledger's; and nothing else is in it.
    ledger: dict[tuple[str, str, str], object] = {}
    for mandate in quarter.mandates:
        ledger.update(_ledger_lines(quarter, mandate, None))
    beancount = beancount_balances(entries)
    assert beancount.keys() == ledger.keys()
    for key, balance in ledger.items():
        assert beancount[key] == balance, key
    # The quantities riding as metadata add up to the units the ledger holds.
    held = {
        (mandate, line.account): line.quantity
        for mandate in quarter.mandates
        for line in quarter.store.trial_balance(mandate, None).lines
        if line.quantity is not None
    }
    assert beancount_quantities(entries) == held

    # Assertions for every account, the day after the last journal; booking from the mandates' lot methods.
    asserted = {e.account for e in entries if isinstance(e, data.Balance)}
    assert asserted == set(ledger_names(entries))
    assert {e.date for e in entries if isinstance(e, data.Balance)} == {
        quarter.last_day + dt.timedelta(days=1)
    }
    bookings = {
        e.meta["mandate"]: e.booking
        for e in entries
        if isinstance(e, data.Open) and ":Securities:" in e.account
    }
    expected = {
        m: data.Booking.NONE if lot == "AVERAGE" else data.Booking.FIFO
        for m, lot in quarter.lot_methods.items()
    }
    assert bookings == expected
    assert f"{quarter.store.counts()[0]} journals" in result.stderr  # the summary line


def test_one_mandate_in_the_middle_of_the_quarter(quarter: Quarter, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "inc-gbp.beancount"
    result = run_cli(
        quarter.data_dir, "--mandate", "INC-GBP", "--as-of", MID_QUARTER.isoformat(), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert_bean_check_passes(out)
    entries = load(out)

    assert {m for m, _ in ledger_names(entries).values()} == {"INC-GBP"}
    transactions = [e for e in entries if isinstance(e, data.Transaction)]
    assert transactions and max(t.date for t in transactions) == MID_QUARTER < quarter.last_day
    assert len(transactions) == quarter.store.trial_balance("INC-GBP", MID_QUARTER).journal_count
    assert {e.date for e in entries if isinstance(e, data.Balance)} == {MID_QUARTER + dt.timedelta(days=1)}
    assert beancount_balances(entries) == _ledger_lines(quarter, "INC-GBP", MID_QUARTER)
    assert _ledger_lines(quarter, "INC-GBP", MID_QUARTER) != _ledger_lines(quarter, "INC-GBP", None)
    assert 'option "operating_currency" "GBP"' in out.read_text(encoding="utf-8")
