"""The Beancount export of a small hand-built ledger: bean-check accepts it and it says what the ledger says."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
from decimal import Decimal

import pytest
from beancount.core import data

from services.ledger.domain.records import Account, BalanceLine, Journal, JournalDraft, JournalKind, Posting
from services.ledger.export.beancount import account_name, component, export_beancount, money
from services.ledger.store import LedgerStore
from tests.ledger.export.conftest import (
    HAND_LOT_METHODS,
    HAND_MANDATES,
    all_journals,
    assert_bean_check_passes,
    bean_check,
    beancount_balances,
    beancount_quantities,
    ledger_names,
    load,
    records,
)

HandStore = tuple[LedgerStore, pathlib.Path]


def _export(store: LedgerStore, as_of: dt.date | None = None, **overrides: object) -> str:
    accounts, journals, balances = records(store, HAND_MANDATES, as_of)
    arguments: dict[str, object] = {
        "mandates": HAND_MANDATES,
        "as_of": as_of,
        "balances": balances,
        "lot_methods": HAND_LOT_METHODS,
    }
    arguments.update(overrides)
    return export_beancount(accounts, journals, **arguments)  # type: ignore[arg-type]


def _write(tmp_path: pathlib.Path, text: str, name: str = "ledger.beancount") -> pathlib.Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bean_check_accepts_the_export_with_an_assertion_for_every_account(
    hand_store: HandStore, tmp_path: pathlib.Path
) -> None:
    store, _ = hand_store
    path = _write(tmp_path, _export(store))
    assert_bean_check_passes(path)
    entries = load(path)

    opened = {e.account for e in entries if isinstance(e, data.Open)}
    asserted = {e.account for e in entries if isinstance(e, data.Balance)}
    chart = {account_name(a.mandate_id, a.name) for a in store.accounts(include_closed=True)}
    assert opened == asserted == chart
    assert len(chart) == 10  # BAL-USD: 7 accounts, INC-GBP: 3
    # Assertions are dated the day after the last journal (2020-01-07) and carry the hand-computed figures.
    by_account = {(e.account, e.amount.currency): e for e in entries if isinstance(e, data.Balance)}
    assert {e.date for e in by_account.values()} == {dt.date(2020, 1, 8)}
    assert {e.tolerance for e in by_account.values()} == {Decimal(0)}  # exact, not Beancount's default
    assert by_account[("Assets:BAL-USD:Cash:USD", "USD")].amount.number == Decimal("981994.60")
    assert by_account[("Liabilities:BAL-USD:PendingSettlement:USD", "USD")].amount.number == 0
    assert by_account[("Assets:INC-GBP:Cash:GBP", "GBP")].amount.number == Decimal("499987.66")
    securities = by_account[("Assets:BAL-USD:Securities:US-NWSF", "USD")]
    assert (securities.amount.number, securities.meta["quantity"]) == (Decimal("18000.00"), "100")


def test_beancount_balances_equal_the_trial_balance(hand_store: HandStore, tmp_path: pathlib.Path) -> None:
    store, _ = hand_store
    entries = load(_write(tmp_path, _export(store)))
    ledger = {
        (m, line.account, line.currency): line.balance
        for m in HAND_MANDATES
        for line in store.trial_balance(m, None).lines
        if line.balance != 0
    }
    assert beancount_balances(entries) == ledger
    assert beancount_quantities(entries) == {("BAL-USD", "Assets:Securities:US-NWSF"): Decimal(100)}


def test_a_wrong_balance_makes_bean_check_fail(hand_store: HandStore, tmp_path: pathlib.Path) -> None:
    """The assertions are really checked and exact: one cent off is an error (Beancount's default
    tolerance for a two-decimal assertion would let exactly one cent pass)."""
    store, _ = hand_store
    accounts, journals, balances = records(store, HAND_MANDATES, None)
    lines = [
        dataclasses.replace(line, debit_total=line.debit_total + Decimal("0.01"))
        if line.account == "Assets:Cash:GBP"
        else line
        for line in balances["INC-GBP"]
    ]
    text = export_beancount(
        accounts, journals, mandates=HAND_MANDATES, as_of=None, balances={**balances, "INC-GBP": lines}
    )
    result = bean_check(_write(tmp_path, text))
    assert result.returncode != 0
    assert "Balance failed for 'Assets:INC-GBP:Cash:GBP'" in result.stdout + result.stderr


def test_as_of_leaves_later_journals_and_accounts_out(hand_store: HandStore, tmp_path: pathlib.Path) -> None:
    store, _ = hand_store
    as_of = dt.date(2020, 1, 6)
    path = _write(tmp_path, _export(store, as_of))
    assert_bean_check_passes(path)
    entries = load(path)
    transactions = [e for e in entries if isinstance(e, data.Transaction)]
    assert [t.meta["idempotency_key"] for t in transactions] == ["sub-1", "sub-2", "fill-1", "fee-1"]
    assert {e.date for e in entries if isinstance(e, data.Balance)} == {dt.date(2020, 1, 7)}
    names = set(ledger_names(entries))
    # The mark opens Unrealized and UnrealizedGains on 2020-01-07, after as_of.
    assert "Assets:BAL-USD:Unrealized:US-NWSF" not in names
    assert "Assets:BAL-USD:Cash:USD" in names
    # Before the settlement the purchase is still payable: -18,005.40.
    assert beancount_balances(entries)[("BAL-USD", "Liabilities:PendingSettlement:USD", "USD")] == Decimal(
        "-18005.40"
    )


def test_journal_facts_travel_as_metadata(hand_store: HandStore, tmp_path: pathlib.Path) -> None:
    store, _ = hand_store
    entries = load(_write(tmp_path, _export(store)))
    stored = {j.draft.idempotency_key: j for j in all_journals(store)}
    transactions = {e.meta["idempotency_key"]: e for e in entries if isinstance(e, data.Transaction)}
    assert transactions.keys() == stored.keys()
    for key, txn in transactions.items():
        journal = stored[key]
        assert txn.date == journal.draft.effective_date
        assert txn.payee == journal.mandate_id
        assert txn.meta["journal_id"] == journal.journal_id
        assert txn.meta["ledger_seq"] == journal.ledger_seq
        assert txn.meta["kind"] == journal.draft.kind.value
        assert txn.meta["source_event_id"] == journal.draft.source_event_id
        assert txn.meta["trace_id"] == journal.draft.trace_id
        assert [p.units.number for p in txn.postings] == [p.amount for p in journal.postings]
    # The memo survives quoting exactly; an empty memo falls back to the kind.
    assert transactions["fee-1"].narration == 'custody fee "Q4" \\ paid'
    assert transactions["mark-1"].narration == "mark to market"
    buy = transactions["fill-1"].postings[0]
    assert (buy.meta["quantity"], buy.meta["instrument"], buy.meta["lot"]) == ("100", "US-NWSF", "FIL-1")


def test_open_lines_carry_currency_and_booking(hand_store: HandStore, tmp_path: pathlib.Path) -> None:
    store, _ = hand_store
    entries = load(_write(tmp_path, _export(store)))
    opens = {e.account: e for e in entries if isinstance(e, data.Open)}
    bal = opens["Assets:BAL-USD:Securities:US-NWSF"]
    assert (bal.currencies, bal.booking) == (["USD"], data.Booking.FIFO)
    # AVERAGE does not exist in Beancount 3; the mandate's Securities would open "NONE". Cash has no booking.
    assert opens["Assets:INC-GBP:Cash:GBP"].booking is None
    assert opens["Assets:BAL-USD:Cash:USD"].date == dt.date(2020, 1, 2)
    assert '"NONE"' not in _export(store)  # INC-GBP holds no security here
    text = _export(store, lot_methods={"BAL-USD": "AVERAGE"})
    assert 'open Assets:BAL-USD:Securities:US-NWSF USD "NONE"' in text


def test_the_output_is_deterministic(hand_store: HandStore) -> None:
    store, _ = hand_store
    accounts, journals, balances = records(store, HAND_MANDATES, None)
    first = export_beancount(accounts, journals, mandates=HAND_MANDATES, as_of=None, balances=balances)
    again = export_beancount(
        list(reversed(accounts)),
        iter(list(reversed(journals))),
        mandates=dict(reversed(list(HAND_MANDATES.items()))),
        as_of=None,
        balances=balances,
    )
    assert first == again
    assert first.count(" * ") == len(journals) == 6


def test_one_mandate_only(hand_store: HandStore, tmp_path: pathlib.Path) -> None:
    store, _ = hand_store
    accounts, journals, balances = records(store, HAND_MANDATES, None)
    text = export_beancount(
        accounts, journals, mandates={"INC-GBP": "GBP"}, as_of=None, balances={"INC-GBP": balances["INC-GBP"]}
    )
    path = _write(tmp_path, text)
    assert_bean_check_passes(path)
    entries = load(path)
    assert {m for m, _ in ledger_names(entries).values()} == {"INC-GBP"}
    assert [e.meta["idempotency_key"] for e in entries if isinstance(e, data.Transaction)] == [
        "sub-2",
        "fee-1",
    ]
    assert 'option "operating_currency" "GBP"' in text and '"USD"' not in text


# ------------------------------------------------------------------ names, amounts, odd charts (pure)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("US-NWSF", "US-NWSF"),
        ("2030-BOND", "2030-BOND"),
        ("cash", "Cash"),
        ("Main Account", "Main-Account"),
        ("_x.y", "X-x-y"),
        ("-lead", "X-lead"),
        ("", "X"),
    ],
)
def test_components_are_made_beancount_valid(text: str, expected: str) -> None:
    assert component(text) == expected


def test_account_names_put_the_mandate_second() -> None:
    assert account_name("BAL-USD", "Assets:Cash:USD") == "Assets:BAL-USD:Cash:USD"
    assert account_name("eq eur", "Income:Dividends:EUR") == "Income:Eq-eur:Dividends:EUR"
    with pytest.raises(ValueError, match="no Beancount root"):
        account_name("BAL-USD", "Revenue:Fees:USD")


def test_money_keeps_every_digit() -> None:
    assert money(Decimal("100.000000"), "USD") == "100.00"
    assert money(Decimal("100.001"), "USD") == "100.001"  # never rounded
    assert money(Decimal("1500.000000"), "JPY") == "1500"
    assert money(Decimal("-0.00"), "USD") == "0.00"
    assert money(Decimal("1E+3"), "XAU") == "1000"


D = dt.date(2020, 1, 2)
T = dt.datetime(2020, 1, 2, tzinfo=dt.UTC)


def _journal(seq: int, mandate: str, *postings: Posting, date: dt.date = D) -> Journal:
    draft = JournalDraft(mandate, JournalKind.MANUAL, date, T, postings, f"k{seq}", memo=f"manual {seq}")
    return Journal(f"j{seq}", seq, T, draft)


def _line(account: str, ccy: str, balance: str) -> BalanceLine:
    amount = Decimal(balance)
    debit, credit = (amount, Decimal(0)) if amount >= 0 else (Decimal(0), -amount)
    return BalanceLine(account, ccy, debit, credit, debit, credit)


def test_odd_names_parents_closed_accounts_and_zero_legs(tmp_path: pathlib.Path) -> None:
    """What the simulation never produces but the ledger allows: lower-case and spaced components,
    a parent account holding another currency than its child, a closed account, a zero-amount FX leg
    with only a base amount."""
    accounts = [
        Account("m1", "Assets:Cash", "", D),
        Account("m1", "Assets:Cash:USD", "USD", D),
        Account("m1", "Assets:Cash:usd reserve", "USD", D),
        Account("m1", "Equity:Capital:USD", "USD", D),
        Account("m1", "Equity:Capital:EUR", "EUR", D),
        Account("m1", "Income:FxRevaluation:USD", "USD", D, closed_on=D + dt.timedelta(days=1)),
    ]
    journals = [
        _journal(
            1,
            "m1",
            Posting("Assets:Cash:USD", Decimal("100"), "USD", Decimal("100")),
            Posting("Assets:Cash:usd reserve", Decimal("5"), "USD", Decimal("5")),
            Posting("Equity:Capital:USD", Decimal("-105"), "USD", Decimal("-105")),
        ),
        _journal(
            2,
            "m1",
            Posting("Assets:Cash", Decimal("10.00"), "EUR", Decimal("11.02")),
            Posting("Equity:Capital:EUR", Decimal("-10.00"), "EUR", Decimal("-11.01")),
            Posting("Income:FxRevaluation:USD", Decimal("0"), "USD", Decimal("-0.01")),
        ),
    ]
    lines = [
        _line("Assets:Cash", "EUR", "10.00"),
        _line("Assets:Cash:USD", "USD", "100"),
        _line("Assets:Cash:usd reserve", "USD", "5"),
        _line("Equity:Capital:USD", "USD", "-105"),
        _line("Equity:Capital:EUR", "EUR", "-10.00"),
    ]
    text = export_beancount(
        accounts, journals, mandates={"m1": "USD"}, as_of=dt.date(2020, 1, 3), balances={"m1": lines}
    )
    # Beancount asserts an account with its sub-accounts: Assets:m1:Cash holds 10 EUR and, below it, 105 USD.
    assert "2020-01-04 balance Assets:M1:Cash  105.00 ~ 0 USD" in text
    assert "2020-01-04 balance Assets:M1:Cash:Usd-reserve  5.00 ~ 0 USD" in text
    # The FX leg of amount 0 keeps its base amount; the account closed on 2020-01-03 closes after its assertion.
    assert 'base_amount: "-0.01 USD"' in text
    assert "2020-01-04 close Income:M1:FxRevaluation:USD" in text
    path = _write(tmp_path, text)
    assert_bean_check_passes(path)
    assert beancount_balances(load(path)) == {
        ("m1", line.account, line.currency): line.balance for line in lines
    }


def test_records_that_do_not_fit_are_refused() -> None:
    accounts = [Account("m1", "Assets:Cash-A", "USD", D), Account("m1", "Assets:Cash A", "USD", D)]
    with pytest.raises(ValueError, match="would both be Assets:M1:Cash-A"):
        export_beancount(accounts, [], mandates={"m1": "USD"}, as_of=None, balances={})
    stray = _journal(
        1,
        "m1",
        Posting("Assets:Cash-A", Decimal(1), "USD"),
        Posting("Assets:Elsewhere", Decimal(-1), "USD"),
    )
    with pytest.raises(ValueError, match="Assets:Elsewhere of m1, which is not in the chart"):
        export_beancount(accounts[:1], [stray], mandates={"m1": "USD"}, as_of=None, balances={})
    with pytest.raises(ValueError, match="not a Beancount currency"):
        export_beancount(
            [Account("m1", "Assets:Cash", "usd", D)], [], mandates={"m1": "USD"}, as_of=None, balances={}
        )
