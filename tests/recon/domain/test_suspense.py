"""Suspense follows its break (domain/suspense.py): which ledger-vs-custodian cash breaks hold
suspense, the target condition by condition and at its edges, each journal's shape (key, version,
effective date, legs, memo), the write-off, and recording a journal on the break.

Figures from services/recon/README.md's worked example: a fee of 2,500.00 the bank never charged
(custodian minus the ledger's cash + suspense = +2,500.00), a second of 500.00 (+3,000.00).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from services.recon.domain.config import ReconConfig
from services.recon.domain.records import ActionKind, Break, BreakStatus, Comparison, Scope
from services.recon.domain.suspense import (
    LedgerJournal,
    due_journal,
    follows_suspense,
    record_journal,
    target,
)
from tests.recon.builders import CONFIG, D, a_break

S = BreakStatus
K = ActionKind
LVC = Comparison.LEDGER_VS_CUSTODIAN
DAY = dt.date(2024, 3, 18)
AT = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
SIM = dt.datetime(2024, 3, 18, 23, 59, tzinfo=dt.UTC)


def bank(difference: str = "2500.00", age: int = 3, **changes: object) -> Break:
    """An open ledger-vs-custodian USD cash break, unexplained, `age` business days old."""
    fields: dict[str, object] = {
        "comparison": LVC,
        "scope": Scope.CASH,
        "currency": "USD",
        "amount_difference": D(difference),
        "age_business_days": age,
        "last_seen_date": DAY,
        **changes,
    }
    return a_break("BRK-1", **fields)


def test_only_ledger_vs_custodian_cash_breaks_follow_suspense() -> None:
    assert follows_suspense(bank())
    for comparison in (Comparison.BOOK_VS_CUSTODIAN, Comparison.BOOK_VS_LEDGER):
        brk = bank(comparison=comparison)
        assert (
            not follows_suspense(brk) and target(brk, CONFIG) == 0 and due_journal(brk, CONFIG, DAY) is None
        )
    assert not follows_suspense(bank(scope=Scope.POSITION))


def test_an_unexplained_break_is_posted_from_the_threshold_age() -> None:
    # threshold 3 business days: 2 below (nothing), 3 at and 4 past it (its whole difference)
    assert [target(bank(age=age), CONFIG) for age in (2, 3, 4)] == [0, D("2500.00"), D("2500.00")]
    config = ReconConfig.from_toml("[suspense]\ncash_age_business_days = 0\n")
    assert target(bank(age=0), config) == D("2500.00")


def test_a_break_already_holding_suspense_follows_its_difference_whatever_its_age() -> None:
    assert target(bank("3000.00", age=1, suspense_amount=D("2500.00")), CONFIG) == D("3000.00")
    assert target(bank("-40.00", age=5, suspense_amount=D("2500.00")), CONFIG) == D("-40.00")


@pytest.mark.parametrize(
    ("held", "difference", "expected"),
    [
        ("2500.00", "3000.00", "2500.00"),  # explained growth: hold what is held
        ("2500.00", "2500.00", "2500.00"),  # equal: kept
        ("2500.00", "1000.00", "1000.00"),  # never more than the open difference
        ("-2500.00", "-1000.00", "-1000.00"),  # the same, below zero
        ("-2500.00", "-3000.00", "-2500.00"),
        ("2500.00", "-1000.00", "0"),  # the other sign: nothing
        ("-2500.00", "1000.00", "0"),
        ("2500.00", "0", "0"),
        ("0", "3000.00", "0"),  # nothing held: an explained break posts nothing
        ("1", "3000.00", "1"),  # one unit held, or one unit of difference, is no special case
        ("2500.00", "1", "1"),
        ("0.50", "3000.00", "0.50"),  # under one unit on either side: the signs still decide
        ("2500.00", "0.50", "0.50"),
    ],
)
def test_an_explained_break_holds_what_it_has_cut_back_to_its_difference(
    held: str, difference: str, expected: str
) -> None:
    brk = bank(difference, age=9, parent_break_id="BRK-trade", suspense_amount=D(held))
    assert target(brk, CONFIG) == D(expected)


@pytest.mark.parametrize("status", [S.RESOLVED, S.WRITTEN_OFF])
def test_a_closed_break_targets_nothing(status: BreakStatus) -> None:
    assert target(bank(status=status, suspense_amount=D("2500.00")), CONFIG) == 0


def test_an_investigating_break_is_followed_like_an_open_one() -> None:
    assert target(bank(status=S.INVESTIGATING), CONFIG) == D("2500.00")


def test_an_unknown_difference_counts_as_none() -> None:
    assert target(bank(amount_difference=None, age=9), CONFIG) == 0
    assert due_journal(bank(amount_difference=None, age=9), CONFIG, DAY) is None


def test_the_first_journal_posts_the_difference_from_suspense_into_the_ledgers_cash() -> None:
    journal = due_journal(bank(), CONFIG, DAY)
    assert journal == LedgerJournal(
        break_id="BRK-1",
        mandate_id="BAL-USD",
        currency="USD",
        action=K.POSTED_TO_SUSPENSE,
        idempotency_key="recon:suspense:BRK-1:v1",
        version=1,
        effective_date=DAY,
        cash=D("2500.00"),
        postings=(("Assets:Cash:USD", D("2500.00")), ("Assets:Suspense:USD", D("-2500.00"))),
        memo="recon break BRK-1: unexplained cash to suspense (2,500.00 USD; holds 2,500.00)",
    )
    assert not journal.is_write_off


def test_a_changed_difference_is_an_adjustment_and_a_resolved_break_a_reversal() -> None:
    grown = bank("3000.00", suspense_amount=D("2500.00"), suspense_version=1)
    adjusted = due_journal(grown, CONFIG, DAY)
    assert adjusted is not None
    assert (adjusted.action, adjusted.version, adjusted.idempotency_key, adjusted.cash) == (
        K.SUSPENSE_ADJUSTED,
        2,
        "recon:suspense:BRK-1:v2",
        D("500.00"),
    )
    assert adjusted.postings == (("Assets:Cash:USD", D("500.00")), ("Assets:Suspense:USD", D("-500.00")))
    assert adjusted.memo.endswith("suspense adjusted (500.00 USD; holds 3,000.00)")
    resolved = bank("3000.00", status=S.RESOLVED, suspense_amount=D("3000.00"), suspense_version=2)
    reversal = due_journal(resolved, CONFIG, dt.date(2024, 3, 20))
    assert reversal is not None
    assert (reversal.action, reversal.version, reversal.cash, reversal.effective_date) == (
        K.SUSPENSE_REVERSED,
        3,
        D("-3000.00"),
        dt.date(2024, 3, 20),
    )
    assert reversal.memo.endswith("reversed from suspense (-3,000.00 USD; holds 0.00)")
    # posted again after a reversal: a posting (it held nothing), version 3
    again = due_journal(bank("10.00", age=9, suspense_amount=D("0.00"), suspense_version=2), CONFIG, DAY)
    assert again is not None and (again.action, again.version) == (K.POSTED_TO_SUSPENSE, 3)


def test_nothing_is_due_when_the_break_holds_its_target_or_the_amount_is_finer_than_the_currency() -> None:
    assert due_journal(bank(suspense_amount=D("2500.00"), suspense_version=1), CONFIG, DAY) is None
    assert due_journal(bank(age=2), CONFIG, DAY) is None
    assert due_journal(bank("12.345"), CONFIG, DAY) is None  # the ledger never rounds
    assert due_journal(bank("12.3", currency="JPY"), CONFIG, DAY, places=0) is None
    yen = due_journal(bank("123", currency="JPY"), CONFIG, DAY, places=0)
    assert yen is not None and yen.postings == (("Assets:Cash:JPY", D(123)), ("Assets:Suspense:JPY", D(-123)))
    assert due_journal(bank(currency=""), CONFIG, DAY) is None


def test_a_write_off_clears_suspense_and_books_the_difference_to_profit_and_loss() -> None:
    # the README's example: +3,000.00 (the bank holds more), all of it held: a gain
    held = bank("3000.00", status=S.WRITTEN_OFF, suspense_amount=D("3000.00"), suspense_version=2)
    journal = due_journal(held, CONFIG, dt.date(2024, 3, 25))
    assert journal == LedgerJournal(
        break_id="BRK-1",
        mandate_id="BAL-USD",
        currency="USD",
        action=K.WRITE_OFF_POSTED,
        idempotency_key="recon:write-off:BRK-1",
        version=2,
        effective_date=DAY,  # its last-seen date, whatever day the write-off is posted
        cash=D(0),
        postings=(("Assets:Suspense:USD", D("3000.00")), ("Income:WriteOffs:USD", D("-3000.00"))),
        memo="recon break BRK-1: written off, 3,000.00 USD to profit and loss",
    )
    assert journal.is_write_off
    # nothing held yet, and a loss: the cash moves to the bank's figure against the expense account
    loss = due_journal(bank("-40.00", status=S.WRITTEN_OFF), CONFIG, DAY)
    assert loss is not None
    assert loss.postings == (("Assets:Cash:USD", D("-40.00")), ("Expenses:WriteOffs:USD", D("40.00")))
    assert loss.cash == D("-40.00")
    # part held: cash for the rest, suspense for what it held
    part = due_journal(bank("-40.00", status=S.WRITTEN_OFF, suspense_amount=D("-15.00")), CONFIG, DAY)
    assert part is not None and part.postings == (
        ("Assets:Cash:USD", D("-25.00")),
        ("Assets:Suspense:USD", D("-15.00")),
        ("Expenses:WriteOffs:USD", D("40.00")),
    )
    # once posted, or with nothing to write off, or finer than a cent: nothing
    assert due_journal(dataclasses.replace(held, write_off_journal_id="J-9"), CONFIG, DAY) is None
    assert due_journal(bank("0", status=S.WRITTEN_OFF), CONFIG, DAY) is None
    assert due_journal(bank("0.001", status=S.WRITTEN_OFF), CONFIG, DAY) is None


def test_the_write_off_accounts_come_from_the_configuration() -> None:
    config = ReconConfig.from_toml(
        '[write_off]\nexpense_account = "Expenses:Recon:Losses"\nincome_account = "Income:Recon:Gains"\n'
    )
    gain = due_journal(bank("3000.00", status=S.WRITTEN_OFF), config, DAY)
    loss = due_journal(bank("-1.00", status=S.WRITTEN_OFF), config, DAY)
    assert gain is not None and gain.postings[-1] == ("Income:Recon:Gains:USD", D("-3000.00"))
    assert loss is not None and loss.postings[-1] == ("Expenses:Recon:Losses:USD", D("1.00"))


def test_recording_a_journal_on_the_break() -> None:
    brk = bank(status=S.INVESTIGATING)
    journal = due_journal(brk, CONFIG, DAY)
    assert journal is not None
    posted, action = record_journal(brk, journal, "J-1", at=AT, sim_time=SIM)
    assert (posted.suspense_amount, posted.suspense_version, posted.suspense_journal_id) == (
        D("2500.00"),
        1,
        "J-1",
    )
    assert (posted.updated_at, posted.status, posted.write_off_journal_id) == (SIM, S.INVESTIGATING, "")
    assert (action.kind, action.journal_id, action.amount, action.actor) == (
        K.POSTED_TO_SUSPENSE,
        "J-1",
        D("2500.00"),
        "recon",
    )
    assert (action.at, action.sim_time, action.break_id, action.comment) == (AT, SIM, "BRK-1", journal.memo)
    assert (action.from_status, action.to_status) == (S.INVESTIGATING, S.INVESTIGATING)
    # a stable id: "ACT-" and the first 24 hex digits of sha256("<break>|<key>|<journal id>")
    digest = hashlib.sha256(b"BRK-1|recon:suspense:BRK-1:v1|J-1").hexdigest()[:24]
    assert action.action_id == f"ACT-{digest}"
    _, again = record_journal(brk, journal, "J-1", at=AT + dt.timedelta(days=1), sim_time=SIM)
    assert again.action_id == action.action_id
    # the next version adds to what it holds
    grown = dataclasses.replace(posted, amount_difference=D("3000.00"))
    adjustment = due_journal(grown, CONFIG, DAY)
    assert adjustment is not None
    after, _ = record_journal(grown, adjustment, "J-2", at=AT, sim_time=SIM)
    assert (after.suspense_amount, after.suspense_version, after.suspense_journal_id) == (
        D("3000.00"),
        2,
        "J-2",
    )


def test_recording_a_write_off_clears_what_the_break_held() -> None:
    held = bank(
        "3000.00",
        status=S.WRITTEN_OFF,
        suspense_amount=D("3000.00"),
        suspense_version=2,
        suspense_journal_id="J-2",
    )
    journal = due_journal(held, CONFIG, DAY)
    assert journal is not None
    after, action = record_journal(held, journal, "J-3", at=AT, sim_time=SIM)
    assert (after.write_off_journal_id, after.suspense_amount, after.suspense_version) == ("J-3", D(0), 2)
    assert (after.updated_at, after.status) == (SIM, S.WRITTEN_OFF)
    assert after.suspense_journal_id == "J-2"  # the latest suspense journal stays on record
    assert (action.kind, action.amount) == (K.WRITE_OFF_POSTED, D(0))
    never = bank("-40.00", status=S.WRITTEN_OFF)
    loss = due_journal(never, CONFIG, DAY)
    assert loss is not None
    after, _ = record_journal(never, loss, "J-4", at=AT, sim_time=SIM)
    assert (after.write_off_journal_id, after.suspense_amount) == ("J-4", None)
    assert Decimal(0) == after.held_in_suspense
