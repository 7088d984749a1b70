"""Reporting's NAV beside the ledger's equity at market: agree, differ, or cannot tell yet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

AGREES = "AGREES"
DIFFERS = "DIFFERS"
LEDGER_BEHIND = "LEDGER_BEHIND"
LEDGER_UNAVAILABLE = "LEDGER_UNAVAILABLE"
# What makes up equity at market: everything the fund owns less everything it owes.
NET_ASSET_ROOTS = ("Assets:", "Liabilities:")


@dataclass(frozen=True, slots=True)
class Comparison:
    status: str
    ledger_nav: Decimal | None
    difference: Decimal | None
    ledger_market_seq: int
    detail: str


def equity_at_market(balances: Iterable[tuple[str, Decimal]]) -> Decimal:
    """The sum of the base balances (debit-positive) of every Assets and Liabilities account."""
    return sum((balance for account, balance in balances if account.startswith(NET_ASSET_ROOTS)), Decimal(0))


def compare(
    nav: Decimal, ledger_nav: Decimal, ledger_market_seq: int, day_end_seq: int, ccy: str
) -> Comparison:
    """The two NAVs of one day end; the ledger's counts only once it has booked that day end."""
    if ledger_market_seq < day_end_seq:
        return Comparison(
            LEDGER_BEHIND,
            None,
            None,
            ledger_market_seq,
            f"the ledger has booked market's events up to seq {ledger_market_seq}, not yet this day end"
            f" (seq {day_end_seq})",
        )
    difference = nav - ledger_nav
    if difference == 0:
        return Comparison(AGREES, ledger_nav, difference, ledger_market_seq, "equal to the cent")
    return Comparison(
        DIFFERS,
        ledger_nav,
        difference,
        ledger_market_seq,
        f"reporting's NAV is {difference:+,} {ccy} from the ledger's equity at market",
    )


def unavailable(reason: str) -> Comparison:
    return Comparison(LEDGER_UNAVAILABLE, None, None, 0, reason)
