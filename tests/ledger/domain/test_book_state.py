"""The ledger book's saved state: its JSON form field by field, old snapshots, and the version check.

The JSON below is written out by hand from the format in services/ledger/domain/state.py
(decimals as strings exactly as given, dates in ISO form, mappings in insertion order), so a
change to the stored form shows up here, not only as a failed restart.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from services.ledger.domain import chart
from services.ledger.domain.lots import Lots
from services.ledger.domain.rules import LedgerBook
from services.ledger.domain.state import (
    BookState,
    Dividend,
    InstrumentInfo,
    MandateInfo,
    PendingFill,
    PendingFx,
    state_from_json,
    state_to_json,
)

from .builders import Stream, new_book

D = Decimal
D1, D2, D3 = dt.date(2024, 3, 4), dt.date(2024, 3, 5), dt.date(2024, 3, 6)


def _state() -> BookState:
    fifo = Lots("FIFO", chart.quantum("USD"))
    fifo.add("FIL-1", D(100), D("5000.00"))
    bond = Lots("FIFO", chart.quantum("USD"))
    bond.add("FIL-0", D(10000), D("10150.00"))
    average = Lots("AVERAGE", chart.quantum("JPY"))
    average.add("FIL-2", D(10), D(15000))
    return BookState(
        mandates={"M1": MandateInfo("M1", "USD", "FIFO"), "M2": MandateInfo("M2", "EUR", "AVERAGE")},
        instruments={
            "US-AAA": InstrumentInfo("US-AAA", "USD", False),
            "UST-2030": InstrumentInfo("UST-2030", "USD", True),
            "JP-6987": InstrumentInfo("JP-6987", "JPY", False),
        },
        date=D2,
        lots={"M1": {"US-AAA": fifo, "UST-2030": bond}, "M2": {"JP-6987": average}},
        unrealized={"M1": {"US-AAA": D("235.00")}, "M2": {}},
        pending_fills={
            "FIL-1": PendingFill("FIL-1", "M1", "US-AAA", "BUY", "USD", D("5007.50"), D3, "mkt-3"),
            "FIL-2": PendingFill("FIL-2", "M2", "JP-6987", "SELL", "JPY", D(15000), D3, "mkt-4"),
        },
        dividends={
            "CA-1": Dividend(
                "CA-1",
                "US-AAA",
                "USD",
                D("0.37"),
                D2,
                D3,
                "mkt-5",
                accrual_done=True,
                accrued={"M1": D("37.00")},
            ),
            "CA-2": Dividend("CA-2", "JP-6987", "JPY", D("12.5"), D3, D3, "mkt-6"),
        },
        prices={"US-AAA": D("52.35"), "UST-2030": D("101.500")},
        fx_pairs={"EURUSD": D("1.1000"), "USDJPY": D("150.25")},
        non_base={"M1": {}, "M2": {("Assets:Cash:USD", "USD"): [D("100.00"), D("90.91")]}},
        # UST-2030 quoted with 0.75000000 accrued per 100: M1 carries 10000 x 0.75 / 100 = 75.00.
        accrued_per_100={"UST-2030": D("0.75000000")},
        accrued_interest={"M1": {"UST-2030": D("75.00")}, "M2": {}},
        # M2 (EUR) buys 1,000 GBP for 1,170.00 EUR, settling on D3.
        pending_fx={"FXD-1": PendingFx("FXD-1", "M2", "GBP", D(1000), "EUR", D("1170.00"), D3, "mkt-7")},
    )


# Written by hand from _state() above, key by key in the order state_to_json writes them.
SNAPSHOT = (
    '{"version":3,'
    '"mandates":[["M1","USD","FIFO"],["M2","EUR","AVERAGE"]],'
    '"instruments":[["US-AAA","USD",false],["UST-2030","USD",true],["JP-6987","JPY",false]],'
    '"date":"2024-03-05",'
    '"lots":{"M1":{"US-AAA":[["FIL-1","100","5000.00"]],"UST-2030":[["FIL-0","10000","10150.00"]]},'
    '"M2":{"JP-6987":[["AVG","10","15000"]]}},'
    '"unrealized":{"M1":{"US-AAA":"235.00"},"M2":{}},'
    '"pending_fills":[["FIL-1","M1","US-AAA","BUY","USD","5007.50","2024-03-06","mkt-3"],'
    '["FIL-2","M2","JP-6987","SELL","JPY","15000","2024-03-06","mkt-4"]],'
    '"dividends":['
    '{"action_id":"CA-1","instrument_id":"US-AAA","currency":"USD","amount_per_unit":"0.37",'
    '"ex_date":"2024-03-05","pay_date":"2024-03-06","event_id":"mkt-5","accrual_done":true,'
    '"accrued":{"M1":"37.00"}},'
    '{"action_id":"CA-2","instrument_id":"JP-6987","currency":"JPY","amount_per_unit":"12.5",'
    '"ex_date":"2024-03-06","pay_date":"2024-03-06","event_id":"mkt-6","accrual_done":false,"accrued":{}}],'
    '"prices":{"US-AAA":"52.35","UST-2030":"101.500"},'
    '"fx":{"EURUSD":"1.1000","USDJPY":"150.25"},'
    '"non_base":{"M1":[],"M2":[["Assets:Cash:USD","USD","100.00","90.91"]]},'
    '"accrued_per_100":{"UST-2030":"0.75000000"},'
    '"accrued_interest":{"M1":{"UST-2030":"75.00"},"M2":{}},'
    '"pending_fx":[["FXD-1","M2","GBP","1000","EUR","1170.00","2024-03-06","mkt-7"]]}'
)


def test_the_state_is_written_in_the_documented_compact_form() -> None:
    assert state_to_json(_state()) == SNAPSHOT


def test_the_state_is_read_back_field_by_field() -> None:
    expected, state = _state(), state_from_json(SNAPSHOT)
    assert state.mandates == expected.mandates
    assert state.instruments == expected.instruments
    assert state.instruments["UST-2030"].is_bond is True and state.instruments["US-AAA"].is_bond is False
    assert state.date == D2
    assert state.unrealized == expected.unrealized
    assert state.pending_fills == expected.pending_fills
    assert state.dividends == expected.dividends
    assert state.prices == expected.prices
    assert state.fx_pairs == expected.fx_pairs
    assert state.non_base == expected.non_base
    assert state.accrued_per_100 == {"UST-2030": D("0.75000000")}
    assert str(state.accrued_per_100["UST-2030"]) == "0.75000000"  # the quote's digits, kept
    assert state.accrued_interest == {"M1": {"UST-2030": D("75.00")}, "M2": {}}
    assert state.pending_fx == expected.pending_fx
    # Lots take their method from the mandate and their grid from the instrument's currency (JPY: whole yen).
    fifo, average = state.lots["M1"]["US-AAA"], state.lots["M2"]["JP-6987"]
    assert (fifo.method, fifo.quantum, fifo.to_state()) == ("FIFO", D("0.01"), [["FIL-1", "100", "5000.00"]])
    assert (average.method, average.quantum, average.to_state()) == (
        "AVERAGE",
        D(1),
        [["AVG", "10", "15000"]],
    )
    # 3 of the 10 units cost 15000 x 3 / 10 = 4500 yen, on the whole-yen grid.
    assert average.relieve(D(3)) == [("AVG", D(3), D(4500))]


def test_a_book_before_its_first_event_has_no_date() -> None:
    text = new_book().to_json()
    assert json.loads(text)["date"] is None
    assert LedgerBook.from_json(text).current_date is None


@pytest.mark.parametrize(("version", "shown"), [(4, "4"), (0, "0"), (None, "None"), ("2", "'2'")])
def test_a_snapshot_of_another_version_is_refused_with_the_versions_read(version: object, shown: str) -> None:
    body = json.loads(SNAPSHOT)
    body["version"] = version
    with pytest.raises(ValueError, match=rf"^ledger book state version {shown} is not 1, 2 or 3$"):
        state_from_json(json.dumps(body))


def test_a_snapshot_without_a_version_is_refused() -> None:
    body = json.loads(SNAPSHOT)
    del body["version"]
    with pytest.raises(ValueError, match=r"^ledger book state version None is not 1, 2 or 3$"):
        state_from_json(json.dumps(body))


def test_a_version_2_snapshot_without_its_accruals_is_refused() -> None:
    body = json.loads(SNAPSHOT)
    del body["accrued_interest"]
    with pytest.raises(KeyError, match="accrued_interest"):
        state_from_json(json.dumps(body))


def _version_2(text: str) -> str:
    """The same snapshot as version 2 wrote it: no FX deals."""
    body = json.loads(text)
    del body["pending_fx"]
    return json.dumps({**body, "version": 2}, separators=(",", ":"))


def _version_1(text: str) -> str:
    """The same snapshot as version 1 wrote it: no accruals of bonds (and no FX deals)."""
    body = json.loads(_version_2(text))
    del body["accrued_per_100"], body["accrued_interest"]
    return json.dumps({**body, "version": 1}, separators=(",", ":"))


def test_a_version_2_snapshot_loads_with_no_fx_deals_pending_and_is_written_back_as_version_3() -> None:
    state = state_from_json(_version_2(SNAPSHOT))
    assert state.pending_fx == {}
    assert state.accrued_interest == {"M1": {"UST-2030": D("75.00")}, "M2": {}}
    written = json.loads(state_to_json(state))
    assert (written["version"], written["pending_fx"]) == (3, [])


def test_a_version_1_snapshot_loads_with_no_accruals_and_is_written_back_as_version_3() -> None:
    state = state_from_json(_version_1(SNAPSHOT))
    assert state.accrued_per_100 == {}
    assert state.accrued_interest == {"M1": {}, "M2": {}}
    assert state.lots["M1"]["UST-2030"].quantity == D(10000)
    written = json.loads(state_to_json(state))
    assert written["version"] == 3
    assert (written["accrued_per_100"], written["accrued_interest"]) == ({}, {"M1": {}, "M2": {}})


def test_a_book_restored_from_version_1_books_the_whole_accrual_at_its_next_day_end() -> None:
    stream = Stream(new_book())
    stream.regime(D1)
    stream.fill(D1, "FIL-1", "M-FIFO", "UST-2030", "BUY", "10000", "101.500", gross="10150.00",
                accrued="75.00", net="10225.00")  # fmt: skip
    # Restart from the snapshot as version 1 wrote it: the position, but no accrual carried.
    stream.book = LedgerBook.from_json(_version_1(stream.book.to_json()))
    stream.price(D1, "UST-2030", "101.500", accrued="0.75000000")
    # Nothing was carried, so the target 10000 x 0.75 / 100 = 75.00 is booked whole: the book catches up.
    [accrual] = stream.day_end(D1)
    assert [(p.account, p.amount) for p in accrual.postings] == [
        ("Assets:AccruedInterest:USD", D("75.00")),
        ("Income:Interest:USD", D("-75.00")),
    ]


def test_an_old_snapshot_that_still_lists_settled_fills_loads_and_drops_them() -> None:
    # Snapshots written before the book stopped remembering settled fills carry "settled": fill -> date.
    body = json.loads(SNAPSHOT)
    old = {**body, "settled": {"FIL-0": "2024-03-01"}}
    assert state_to_json(state_from_json(json.dumps(old))) == SNAPSHOT
    book = LedgerBook.from_json(json.dumps(old))
    assert book.to_json() == SNAPSHOT


def test_a_settlement_repeated_after_a_restart_from_an_old_snapshot_posts_nothing() -> None:
    stream = Stream(new_book())
    stream.regime(D1)
    stream.fill(
        D1, "FIL-1", "M-FIFO", "US-AAA", "BUY", "10", "50.00", gross="500.00", net="500.00", settle=D2
    )
    stream.regime(D2)
    [settled] = stream.settlement(
        D2, "FIL-1", "M-FIFO", "US-AAA", settled=True, quantity="10", cash="-500.00"
    )
    assert [p.amount for p in settled.postings] == [D("500.00"), D("-500.00")]
    # Restart from a snapshot as an older version wrote it, with FIL-1 in "settled".
    body = json.loads(stream.book.to_json())
    body["settled"] = {"FIL-1": D2.isoformat()}
    stream.book = LedgerBook.from_json(json.dumps(body))
    # The custodian repeats its SETTLED, the same day and 40 days later: FIL-1 is no longer pending, so
    # nothing is posted either time, and the book still holds the 10 bought.
    assert (
        stream.settlement(D2, "FIL-1", "M-FIFO", "US-AAA", settled=True, quantity="10", cash="-500.00") == []
    )
    later = D2 + dt.timedelta(days=40)
    stream.regime(later)
    assert (
        stream.settlement(later, "FIL-1", "M-FIFO", "US-AAA", settled=True, quantity="10", cash="-500.00")
        == []
    )
    assert stream.book.pending("M-FIFO") == {}
    assert stream.book.positions("M-FIFO") == {"US-AAA": D(10)}


def test_signed_cash_is_paid_on_a_buy_and_received_on_a_sell() -> None:
    buy, sell = _state().pending_fills.values()
    assert (buy.signed_cash, sell.signed_cash) == (D("-5007.50"), D(15000))
