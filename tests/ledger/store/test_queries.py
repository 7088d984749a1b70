"""journals() filters and paging, trial balance and balances (hand-computed and property-based)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ledger.domain.records import BalanceLine, JournalDraft, JournalKind
from services.ledger.store import LedgerFilter, LedgerStore, UnknownAccount
from tests.ledger.store.conftest import DAY, draft, leg, subscription

D1, D2, D3 = DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)


def _book(store: LedgerStore) -> list[str]:
    """Five journals over two mandates and three days; returns their journal ids in ledger order."""
    drafts = [
        subscription("s1", "1000", day=D1, source_event_id="mkt-1", trace_id="t1"),
        draft(
            "f1",
            leg("Assets:Securities:AAPL", "600", quantity="6", lot_id="L1", instrument_id="AAPL"),
            leg("Liabilities:PendingSettlement:USD", "-600"),
            day=D2,
            kind=JournalKind.TRADE,
            source_event_id="mkt-2",
            trace_id="t2",
        ),
        subscription("e1", "50", mandate="EQ-EUR", day=D2, source_event_id="mkt-3", trace_id="t2"),
        draft(
            "st1",
            leg("Liabilities:PendingSettlement:USD", "600"),
            leg("Assets:Cash:USD", "-600"),
            day=D3,
            kind=JournalKind.SETTLEMENT,
            source_event_id="mkt-4",
            trace_id="t3",
        ),
        # Backdated: a fee on D1 posted last.
        draft(
            "fee",
            leg("Expenses:Fees:USD", "2.5"),
            leg("Assets:Cash:USD", "-2.5"),
            day=D1,
            kind=JournalKind.FEE,
        ),
    ]
    return [r.journal.journal_id for r in store.post(drafts, open_missing=True)]


def _keys(store: LedgerStore, flt: LedgerFilter, **paging: int) -> list[str]:
    return [j.draft.idempotency_key for j in store.journals(flt, **paging)]


def test_journal_filters_and_paging(store: LedgerStore) -> None:
    _book(store)
    assert _keys(store, LedgerFilter()) == ["s1", "f1", "e1", "st1", "fee"]
    assert _keys(store, LedgerFilter(mandate_id="EQ-EUR")) == ["e1"]
    assert _keys(store, LedgerFilter(account_prefix="Assets:Cash")) == ["s1", "e1", "st1", "fee"]
    assert _keys(store, LedgerFilter(account_prefix="Assets:Cash:USD")) == ["s1", "st1", "fee"]
    assert _keys(store, LedgerFilter(account_prefix="Assets:")) == ["s1", "f1", "e1", "st1", "fee"]
    assert _keys(store, LedgerFilter(account_prefix="Liabilities")) == ["f1", "st1"]
    assert _keys(store, LedgerFilter(account_prefix="Assets:Ca")) == []  # whole components only
    assert _keys(store, LedgerFilter(date_from=D2)) == ["f1", "e1", "st1"]
    assert _keys(store, LedgerFilter(date_to=D1)) == ["s1", "fee"]
    assert _keys(store, LedgerFilter(date_from=D2, date_to=D2)) == ["f1", "e1"]
    assert _keys(store, LedgerFilter(source_event_id="mkt-4")) == ["st1"]
    assert _keys(store, LedgerFilter(trace_id="t2")) == ["f1", "e1"]
    assert _keys(store, LedgerFilter(trace_id="t2", mandate_id="BAL-USD")) == ["f1"]
    assert _keys(store, LedgerFilter(kind=JournalKind.SUBSCRIPTION)) == ["s1", "e1"]
    assert _keys(store, LedgerFilter(kind=JournalKind.REVERSAL)) == []
    # Only what was posted, not booked from market's stream (source event "mkt-..."): the fee.
    assert _keys(store, LedgerFilter(exclude_market=True)) == ["fee"]
    assert _keys(store, LedgerFilter(exclude_market=True, mandate_id="EQ-EUR")) == []
    assert _keys(store, LedgerFilter(), after_seq=0, limit=2) == ["s1", "f1"]
    assert _keys(store, LedgerFilter(), after_seq=2, limit=2) == ["e1", "st1"]
    assert _keys(store, LedgerFilter(), after_seq=4, limit=2) == ["fee"]
    assert _keys(store, LedgerFilter(), after_seq=5, limit=2) == []
    assert _keys(store, LedgerFilter(account_prefix="Assets:Cash"), after_seq=1, limit=2) == ["e1", "st1"]
    assert store.journals(LedgerFilter(), limit=0) == []
    journals = store.journals(LedgerFilter(mandate_id="BAL-USD", kind=JournalKind.TRADE))
    assert journals[0].postings[0].quantity == Decimal(6)


def test_trial_balance_worked_example(store: LedgerStore) -> None:
    ids = _book(store)
    latest = store.trial_balance("BAL-USD", None)
    lines = {line.account: line for line in latest.lines}
    # Cash: Dr 1000 (s1); Cr 600 (st1) + 2.5 (fee) = 602.5; balance 397.5.
    assert (lines["Assets:Cash:USD"].debit_total, lines["Assets:Cash:USD"].credit_total) == (
        Decimal(1000),
        Decimal("602.5"),
    )
    # Pending settlement: Cr 600 on D2, Dr 600 on D3 -> both totals 600, balance 0, still listed.
    assert lines["Liabilities:PendingSettlement:USD"].balance == 0
    assert lines["Liabilities:PendingSettlement:USD"].debit_total == Decimal(600)
    assert lines["Assets:Securities:AAPL"].quantity == Decimal(6)
    assert lines["Assets:Securities:AAPL"].instrument_id == "AAPL"
    assert lines["Assets:Cash:USD"].quantity is None
    assert sorted(lines) == [line.account for line in latest.lines]
    # 4 BAL-USD journals with 2 postings each; the highest ledger_seq among them is 5 (the fee).
    assert (latest.journal_count, latest.posting_count, latest.as_of_ledger_seq) == (4, 8, 5)
    assert sum(line.debit_total for line in latest.lines) == sum(line.credit_total for line in latest.lines)
    # As of D1: s1 and the backdated fee only (seqs 1 and 5): Cash 1000 - 2.5, Fees 2.5, Capital -1000.
    first = store.trial_balance("BAL-USD", D1)
    assert {line.account: line.balance for line in first.lines} == {
        "Assets:Cash:USD": Decimal("997.5"),
        "Equity:Capital:USD": Decimal(-1000),
        "Expenses:Fees:USD": Decimal("2.5"),
    }
    assert (first.journal_count, first.posting_count, first.as_of_ledger_seq) == (2, 4, 5)
    empty = store.trial_balance("BAL-USD", D1 - dt.timedelta(days=1))
    assert (empty.lines, empty.journal_count, empty.posting_count, empty.as_of_ledger_seq) == ((), 0, 0, 0)
    assert store.trial_balance("NOPE", None).lines == ()
    assert len(ids) == 5


def test_balances_of_named_accounts(store: LedgerStore) -> None:
    _book(store)
    cash, securities = store.balances("BAL-USD", ["Assets:Cash:USD", "Assets:Securities:AAPL"], D2)
    assert (cash.account, cash.balance, cash.base_balance) == (
        "Assets:Cash:USD",
        Decimal(1000) - Decimal("2.5"),
        Decimal("997.5"),
    )
    assert (securities.balance, securities.quantity, securities.instrument_id) == (
        Decimal(600),
        Decimal(6),
        "AAPL",
    )
    # Before its first posting an account shows a zero line, not nothing.
    (before,) = store.balances("BAL-USD", ["Assets:Securities:AAPL"], D1)
    assert (before.balance, before.quantity, before.currency) == (0, 0, "USD")
    assert store.balances("BAL-USD", [], None) == list(store.trial_balance("BAL-USD", None).lines)
    with pytest.raises(UnknownAccount) as refused:
        store.balances("BAL-USD", ["Assets:Cash:USD", "Assets:Cash:CHF"], None)
    assert refused.value.account == "Assets:Cash:CHF"
    with pytest.raises(UnknownAccount):
        store.balances("EQ-EUR", ["Assets:Cash:USD"], None)


# ------------------------------------------------------------------ property: stored balances = replayed postings

ACCOUNTS = (
    "Assets:Cash:USD",
    "Assets:Securities:X",
    "Income:Dividends:USD",
    "Expenses:Fees:USD",
    "Equity:Capital:USD",
)
amounts = st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=2).filter(bool)


@st.composite
def journals(draw: st.DrawFn) -> tuple[dt.date, list[tuple[str, str, Decimal, Decimal | None]]]:
    """One balanced journal on a random date: legs in USD and EUR (each summing to zero) and
    base amounts whose sum is zero too."""
    day = DAY + dt.timedelta(days=draw(st.integers(0, 12)))
    legs: list[tuple[str, str, Decimal, Decimal | None]] = []
    for currency in draw(st.sets(st.sampled_from(["USD", "EUR"]), min_size=1)):
        values = draw(st.lists(amounts, min_size=1, max_size=3))
        values.append(-sum(values))
        for value in values:
            account = draw(st.sampled_from(ACCOUNTS))
            quantity = (
                draw(st.sampled_from([None, Decimal("1.5"), Decimal(-2)]))
                if "Securities" in account
                else None
            )
            legs.append((account, currency, value, quantity))
    return day, legs


def _drafts(mandate: str, specs: list[tuple[dt.date, list]]) -> list[JournalDraft]:
    drafts = []
    for index, (day, legs) in enumerate(specs):
        postings = [
            leg(account, str(value), currency, base=str(value * (2 if currency == "EUR" else 1)),
                quantity=None if quantity is None else str(quantity))
            for account, currency, value, quantity in legs
        ]  # fmt: skip
        drafts.append(draft(f"{mandate}:{index}", *postings, mandate=mandate, day=day))
    return drafts


def _recompute(drafts: list[tuple[int, JournalDraft]], as_of: dt.date) -> dict[tuple[str, str], tuple]:
    totals: dict[tuple[str, str], list] = defaultdict(lambda: [Decimal(0)] * 4 + [None])
    for _, d in drafts:
        if d.effective_date > as_of:
            continue
        for p in d.postings:
            t = totals[(p.account, p.currency)]
            t[0 if p.amount > 0 else 1] += abs(p.amount)
            t[2 if p.base_amount > 0 else 3] += abs(p.base_amount)  # type: ignore[operator]
            if p.quantity is not None:
                t[4] = (t[4] or 0) + p.quantity
    return {key: tuple(t) for key, t in totals.items() if any(t)}


def _as_tuple(line: BalanceLine) -> tuple:
    return (line.debit_total, line.credit_total, line.base_debit_total, line.base_credit_total, line.quantity)


_mandates = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(journals(), min_size=1, max_size=12), cut=st.integers(1, 4), data=st.data())
def test_trial_balance_as_of_equals_replaying_the_postings(
    store: LedgerStore, specs: list, cut: int, data: st.DataObject
) -> None:
    mandate = f"M{next(_mandates)}"  # each example books its own mandate in the shared store
    drafts = _drafts(mandate, specs)
    posted: list[tuple[int, JournalDraft]] = []
    for start in range(0, len(drafts), cut):  # several batches, dates in random order (backdating)
        results = store.post(drafts[start : start + cut], open_missing=True)
        posted.extend((r.journal.ledger_seq, r.journal.draft) for r in results)
    _check_trial_balances(store, mandate, posted, data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=st.lists(journals(), min_size=1, max_size=12),
    others=st.lists(journals(), min_size=1, max_size=6),
    cut=st.integers(1, 4),
    data=st.data(),
)
def test_batches_in_date_order_beside_a_mandate_posting_out_of_order(
    store: LedgerStore, specs: list, others: list, cut: int, data: st.DataObject
) -> None:
    """The stream's case, each batch dated on or after the mandate's latest stored date (often on it)
    and spanning several dates (one upsert per row, from running sums), in the same batches as a
    second mandate's journals in random order (the general path): both as replaying the postings."""
    mandate, other = f"M{next(_mandates)}", f"M{next(_mandates)}"
    ordered = _drafts(mandate, sorted(specs, key=lambda spec: spec[0]))
    unordered = _drafts(other, others)
    posted: dict[str, list[tuple[int, JournalDraft]]] = {mandate: [], other: []}
    for number, start in enumerate(range(0, len(ordered), cut)):
        batch = ordered[start : start + cut] + unordered[number : number + 1]
        for r in store.post(batch, open_missing=True):
            posted[r.journal.mandate_id].append((r.journal.ledger_seq, r.journal.draft))
    if len(unordered) > len(posted[other]):
        rest = store.post(unordered[len(posted[other]) :], open_missing=True)
        posted[other].extend((r.journal.ledger_seq, r.journal.draft) for r in rest)
    for name, journals_posted in posted.items():
        _check_trial_balances(store, name, journals_posted, data)


def _check_trial_balances(
    store: LedgerStore, mandate: str, posted: list[tuple[int, JournalDraft]], data: st.DataObject
) -> None:
    days = [None, *(DAY + dt.timedelta(days=n) for n in range(-1, 14))]
    for as_of in data.draw(st.lists(st.sampled_from(days), min_size=1, max_size=4)):
        result = store.trial_balance(mandate, as_of)
        expected = _recompute(posted, as_of or dt.date.max)
        assert {(line.account, line.currency): _as_tuple(line) for line in result.lines} == expected
        for currency in ("USD", "EUR"):
            lines = [line for line in result.lines if line.currency == currency]
            assert sum(line.debit_total for line in lines) == sum(line.credit_total for line in lines)
        assert sum(line.base_debit_total for line in result.lines) == sum(
            line.base_credit_total for line in result.lines
        )
        included = [(seq, d) for seq, d in posted if d.effective_date <= (as_of or dt.date.max)]
        assert result.journal_count == len(included)
        assert result.posting_count == sum(len(d.postings) for _, d in included)
        assert result.as_of_ledger_seq == max((seq for seq, _ in included), default=0)
