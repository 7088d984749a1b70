"""Beancount (GPL-2.0, test-only) as the judge of the ledger's export, and a small hand-built ledger."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal

import pytest
from beancount import loader
from beancount.core import data, realization

from services.ledger.domain.records import Account, BalanceLine, Journal, JournalDraft, JournalKind, Posting
from services.ledger.store import LedgerFilter, LedgerStore, open_store

# bean-check's pickle cache would land beside the exported file; the loader API uses one too.
loader.initialize(use_cache=False)
REPO = pathlib.Path(__file__).resolve().parents[3]
BEAN_CHECK = pathlib.Path(sys.executable).parent / "bean-check"
T0 = dt.datetime(2020, 1, 2, 21, tzinfo=dt.UTC)

BalanceKey = tuple[str, str, str]  # (mandate, ledger account, currency)


def bean_check(path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BEAN_CHECK), "--no-cache", str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def assert_bean_check_passes(path: pathlib.Path) -> None:
    result = bean_check(path)
    assert (result.returncode, result.stdout + result.stderr) == (0, ""), result.stdout + result.stderr


def load(path: pathlib.Path) -> list[data.Directive]:
    """The file's directives, after asserting Beancount's loader (booking and checks) found no error."""
    entries, errors, _ = loader.load_file(str(path))
    assert errors == [], [error.message for error in errors]
    return entries


def ledger_names(entries: Sequence[data.Directive]) -> dict[str, tuple[str, str]]:
    """Beancount account -> (mandate, ledger account), read back from the open lines' metadata."""
    return {
        e.account: (e.meta["mandate"], e.meta["ledger_account"]) for e in entries if isinstance(e, data.Open)
    }


def beancount_balances(entries: Sequence[data.Directive]) -> dict[BalanceKey, Decimal]:
    """Beancount's own balance of every account (its postings only, not its sub-accounts), non-zero ones."""
    names = ledger_names(entries)
    root = realization.realize(entries)
    out: dict[BalanceKey, Decimal] = {}
    for name, (mandate, account) in names.items():
        for position in realization.get(root, name).balance:
            assert position.cost is None, f"{name} holds a position at cost: {position}"
            if position.units.number != 0:
                out[(mandate, account, position.units.currency)] = position.units.number
    return out


def beancount_quantities(entries: Sequence[data.Directive]) -> dict[tuple[str, str], Decimal]:
    """(mandate, Securities account) -> the sum of the legs' quantity metadata."""
    names = ledger_names(entries)
    out: dict[tuple[str, str], Decimal] = {}
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                if "quantity" in (posting.meta or {}):
                    key = names[posting.account]
                    out[key] = out.get(key, Decimal(0)) + Decimal(posting.meta["quantity"])
    return out


def all_journals(store: LedgerStore, flt: LedgerFilter | None = None) -> list[Journal]:
    out: list[Journal] = []
    while page := store.journals(
        flt or LedgerFilter(), after_seq=out[-1].ledger_seq if out else 0, limit=500
    ):
        out.extend(page)
    return out


def cli_env(data_dir: pathlib.Path) -> dict[str, str]:
    """This environment without any OPSUITE_ setting, reading the ledger under data_dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSUITE_")}
    return {**env, "OPSUITE_DATA_DIR": str(data_dir)}


def run_cli(data_dir: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "ledger", "export", "--format", "beancount", *args],
        cwd=REPO,
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# ------------------------------------------------------------------ the hand-built ledger


def _draft(
    mandate: str, kind: JournalKind, day: int, key: str, memo: str, *postings: Posting
) -> JournalDraft:
    date = dt.date(2020, 1, day)
    return JournalDraft(
        mandate_id=mandate,
        kind=kind,
        effective_date=date,
        sim_time=T0.replace(day=day),
        postings=postings,
        idempotency_key=key,
        memo=memo,
        source_event_id=f"mkt-{key}",
        trace_id=f"{day:032x}",
    )


def _leg(account: str, amount: str, ccy: str, **extra: object) -> Posting:
    return Posting(account, Decimal(amount), ccy, base_amount=Decimal(amount), **extra)  # type: ignore[arg-type]


# Two mandates, six journals. Hand-computed balances (used by the tests):
#   BAL-USD Assets:Cash:USD                    1,000,000.00 - 18,005.40 (settled buy) = 981,994.60
#   BAL-USD Liabilities:PendingSettlement:USD  -18,005.40 on 2020-01-03, + 18,005.40 on 2020-01-07 = 0.00
#   BAL-USD Assets:Securities:US-NWSF          100 x 180.00 = 18,000.00 (quantity 100)
#   INC-GBP Assets:Cash:GBP                    500,000.00 - 12.34 = 499,987.66
HAND_DRAFTS: tuple[JournalDraft, ...] = (
    _draft(
        "BAL-USD",
        JournalKind.SUBSCRIPTION,
        2,
        "sub-1",
        "subscription",
        _leg("Assets:Cash:USD", "1000000.00", "USD"),
        _leg("Equity:Capital:USD", "-1000000.00", "USD"),
    ),
    _draft(
        "INC-GBP",
        JournalKind.SUBSCRIPTION,
        2,
        "sub-2",
        "subscription",
        _leg("Assets:Cash:GBP", "500000.00", "GBP"),
        _leg("Equity:Capital:GBP", "-500000.00", "GBP"),
    ),
    _draft(
        "BAL-USD",
        JournalKind.TRADE,
        3,
        "fill-1",
        "BUY 100 US-NWSF @ 180.00",
        _leg(
            "Assets:Securities:US-NWSF",
            "18000.00",
            "USD",
            quantity=Decimal(100),
            instrument_id="US-NWSF",
            lot_id="FIL-1",
        ),
        _leg("Expenses:Commissions:USD", "5.40", "USD"),
        _leg("Liabilities:PendingSettlement:USD", "-18005.40", "USD"),
    ),
    _draft(
        "INC-GBP",
        JournalKind.FEE,
        6,
        "fee-1",
        'custody fee "Q4" \\ paid',
        _leg("Expenses:Fees:GBP", "12.34", "GBP"),
        _leg("Assets:Cash:GBP", "-12.34", "GBP"),
    ),
    _draft(
        "BAL-USD",
        JournalKind.SETTLEMENT,
        7,
        "settle-1",
        "settlement of FIL-1",
        _leg("Liabilities:PendingSettlement:USD", "18005.40", "USD"),
        _leg("Assets:Cash:USD", "-18005.40", "USD"),
    ),
    _draft(
        "BAL-USD",
        JournalKind.MARK_TO_MARKET,
        7,
        "mark-1",
        "",
        _leg("Assets:Unrealized:US-NWSF", "250.00", "USD", instrument_id="US-NWSF"),
        _leg("Income:UnrealizedGains:USD", "-250.00", "USD"),
    ),
)
HAND_MANDATES: Mapping[str, str] = {"BAL-USD": "USD", "INC-GBP": "GBP"}
HAND_LOT_METHODS: Mapping[str, str] = {"BAL-USD": "FIFO", "INC-GBP": "AVERAGE"}


@pytest.fixture
def hand_store(tmp_path: pathlib.Path) -> Iterator[tuple[LedgerStore, pathlib.Path]]:
    """The hand-built ledger in a SQLite store under tmp_path/data; yields (store, data dir)."""
    data_dir = tmp_path / "data"
    store = open_store("", data_dir / "ledger")
    store.post(HAND_DRAFTS, open_missing=True)
    try:
        yield store, data_dir
    finally:
        store.close()


def records(
    store: LedgerStore, mandates: Mapping[str, str], as_of: dt.date | None
) -> tuple[list[Account], list[Journal], dict[str, Sequence[BalanceLine]]]:
    """What export_beancount needs, read from a store."""
    accounts = [a for a in store.accounts(include_closed=True) if a.mandate_id in mandates]
    balances = {m: store.trial_balance(m, as_of).lines for m in mandates}
    return accounts, all_journals(store), balances
