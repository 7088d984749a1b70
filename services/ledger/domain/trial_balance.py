"""The trial balance's totals and the rule it checks: debits equal credits in every currency and in base."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.ledger.domain.records import BalanceLine

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TrialBalanceTotals:
    """Debit and credit totals per currency (positive amounts), and of the base amounts.

    balanced: every currency's debits equal its credits, and so do the base amounts. A
    currency with no lines has no entry.
    """

    debits: Mapping[str, Decimal]
    credits: Mapping[str, Decimal]
    base_debit: Decimal
    base_credit: Decimal

    @property
    def balanced(self) -> bool:
        currencies = set(self.debits) | set(self.credits)
        return self.base_debit == self.base_credit and all(
            self.debits.get(c, ZERO) == self.credits.get(c, ZERO) for c in currencies
        )

    @property
    def currencies(self) -> list[str]:
        return sorted(set(self.debits) | set(self.credits))


def trial_balance_totals(lines: Iterable[BalanceLine]) -> TrialBalanceTotals:
    debits: dict[str, Decimal] = {}
    credits: dict[str, Decimal] = {}
    base_debit = base_credit = ZERO
    for line in lines:
        debits[line.currency] = debits.get(line.currency, ZERO) + line.debit_total
        credits[line.currency] = credits.get(line.currency, ZERO) + line.credit_total
        base_debit += line.base_debit_total
        base_credit += line.base_credit_total
    return TrialBalanceTotals(debits, credits, base_debit, base_credit)
