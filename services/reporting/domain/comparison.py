"""Reporting's NAV beside the ledger's equity at market: agree, differ, or cannot tell yet."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.common.market_events import MARKET_EVENT_ID_PREFIX
from services.reporting.domain.quarantine import QuarantinedPrice

AGREES = "AGREES"
DIFFERS = "DIFFERS"
LEDGER_BEHIND = "LEDGER_BEHIND"
LEDGER_UNAVAILABLE = "LEDGER_UNAVAILABLE"
# What makes up equity at market: everything the fund owns less everything it owes.
NET_ASSET_ROOTS = ("Assets:", "Liabilities:")


@dataclass(frozen=True, slots=True)
class JournalEffect:
    """A ledger journal and what it does to the ledger's equity at market (base currency)."""

    journal_id: str
    kind: str
    effective_date: dt.date
    memo: str
    posted_by: str
    source_event_id: str
    caused_by: tuple[str, ...]
    equity_effect: Decimal

    @property
    def from_market(self) -> bool:
        """Booked from market's stream, which reporting's book follows too."""
        return self.source_event_id.startswith(MARKET_EVENT_ID_PREFIX)


@dataclass(frozen=True, slots=True)
class Comparison:
    status: str
    ledger_nav: Decimal | None
    difference: Decimal | None
    ledger_market_seq: int
    detail: str
    causes: tuple[JournalEffect, ...] = ()
    unexplained: Decimal | None = None
    event_id: str = ""
    quarantined: tuple[QuarantinedPrice, ...] = ()


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


def equity_effect(postings: Iterable[tuple[str, Decimal]]) -> Decimal:
    """A journal's effect on equity at market: the base amounts of its Assets and Liabilities legs."""
    return equity_at_market(postings)


def explain(
    comparison: Comparison, journals: Iterable[JournalEffect], quarantined: Sequence[QuarantinedPrice] = ()
) -> Comparison:
    """A difference with what causes it: the journals not booked from market's stream that move the
    ledger's equity (reporting's NAV has no counterpart of them), and the prices dq quarantined that
    reporting replaced with the last good ones (the ledger marks at the official price: quarantine.py);
    whatever they leave over is unexplained. NAV - ledger = (the prices' nav effects) - (the journals'
    effects) when they explain it all."""
    if comparison.difference is None:
        return comparison
    causes = tuple(j for j in journals if not j.from_market and j.equity_effect)
    priced = tuple(q for q in quarantined if q.nav_effect)
    unexplained = (
        comparison.difference
        + sum((j.equity_effect for j in causes), Decimal(0))
        - sum((q.nav_effect for q in priced), Decimal(0))
    )
    named = []
    if causes:
        named.append(f"{len(causes)} journal{'s' if len(causes) > 1 else ''} not from market's stream")
    if priced:
        named.append(f"{len(priced)} price{'s' if len(priced) > 1 else ''} quarantined by dq")
    detail = comparison.detail
    if named:
        detail += "; " + " and ".join(named)
        detail += " explain it" if not unexplained else f" leave {unexplained:+,} unexplained"
    return dataclasses.replace(
        comparison, causes=causes, unexplained=unexplained, detail=detail, quarantined=priced
    )


def unavailable(reason: str) -> Comparison:
    return Comparison(LEDGER_UNAVAILABLE, None, None, 0, reason)
