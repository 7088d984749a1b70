"""recon's whole configuration, read from TOML or JSON text (default_tolerances.toml documents every key).

Unknown keys are refused, so a misspelt setting fails loudly instead of silently
falling back to a default.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from services.recon.domain.aging import AgingConfig, Bucket, EscalationConfig
from services.recon.domain.records import BreakKind
from services.recon.domain.tolerances import Tolerance, ToleranceRules, parse_decimal

DEFAULT_FILE = "default_tolerances.toml"
_SECTIONS = {"tolerance", "timing", "trades", "aging", "escalation", "suspense", "write_off"}
# A ledger account's name without its currency (Beancount's rules: a root, then capitalised parts).
_ACCOUNT = re.compile(r"(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+")


@dataclass(frozen=True, slots=True)
class ReconConfig:
    tolerances: ToleranceRules
    settlement_grace_business_days: int
    booking_grace_business_days: int
    price_tolerance: Tolerance
    aging: AgingConfig
    escalation: EscalationConfig
    suspense_cash_age_business_days: int
    write_off_expense_account: str = "Expenses:WriteOffs"
    write_off_income_account: str = "Income:WriteOffs"

    def write_off_account(self, difference: Decimal, currency: str) -> str:
        """Where a written-off difference (custodian minus ledger) goes: income when the custodian
        holds more cash than the ledger (a gain), expense when it holds less; <CCY> appended."""
        root = self.write_off_income_account if difference > 0 else self.write_off_expense_account
        return f"{root}:{currency}"

    @classmethod
    def from_toml(cls, text: str) -> ReconConfig:
        return cls.from_mapping(tomllib.loads(text))

    @classmethod
    def from_json(cls, text: str) -> ReconConfig:
        return cls.from_mapping(json.loads(text))

    @classmethod
    def default(cls) -> ReconConfig:
        return cls.from_toml(default_text())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ReconConfig:
        _known(data, _SECTIONS, "config")
        timing = _table(data, "timing", {"settlement_grace_business_days", "booking_grace_business_days"})
        trades = _table(data, "trades", {"price_absolute", "price_relative"})
        aging = _table(data, "aging", {"bucket"})
        escalation = _table(data, "escalation", {"sla_business_days", "sla_by_kind", "amount_threshold"})
        suspense = _table(data, "suspense", {"cash_age_business_days"})
        write_off = _table(data, "write_off", {"expense_account", "income_account"})
        kinds = {k.value for k in BreakKind}
        sla_by_kind = dict(escalation.get("sla_by_kind", {}))
        for kind, days in sla_by_kind.items():
            if kind not in kinds:
                raise ValueError(f"escalation.sla_by_kind: unknown break kind {kind!r}")
            _days(days, f"escalation.sla_by_kind.{kind}")
        thresholds = {
            currency: parse_decimal(value, f"escalation.amount_threshold.{currency}")
            for currency, value in dict(escalation.get("amount_threshold", {})).items()
        }
        buckets = []
        for i, bucket in enumerate(aging.get("bucket", _DEFAULT_BUCKETS)):
            _known(bucket, {"label", "min", "max"}, f"aging.bucket[{i}]")
            maximum = bucket.get("max")
            buckets.append(
                Bucket(
                    str(bucket["label"]),
                    _days(bucket.get("min", 0), f"aging.bucket[{i}].min"),
                    None if maximum is None else _days(maximum, f"aging.bucket[{i}].max"),
                )
            )
        return cls(
            tolerances=ToleranceRules.from_records(data.get("tolerance", [])),
            settlement_grace_business_days=_days(
                timing.get("settlement_grace_business_days", 2), "timing.settlement_grace_business_days"
            ),
            booking_grace_business_days=_days(
                timing.get("booking_grace_business_days", 0), "timing.booking_grace_business_days"
            ),
            price_tolerance=Tolerance.symmetric(
                parse_decimal(trades.get("price_absolute", "0"), "trades.price_absolute"),
                parse_decimal(trades.get("price_relative", "0"), "trades.price_relative"),
            ),
            aging=AgingConfig(tuple(buckets)),
            escalation=EscalationConfig(
                sla_business_days=_days(
                    escalation.get("sla_business_days", 5), "escalation.sla_business_days"
                ),
                sla_by_kind=sla_by_kind,
                amount_thresholds=thresholds,
            ),
            suspense_cash_age_business_days=_days(
                suspense.get("cash_age_business_days", 3), "suspense.cash_age_business_days"
            ),
            write_off_expense_account=_account(
                write_off.get("expense_account", "Expenses:WriteOffs"),
                "write_off.expense_account",
                "Expenses",
            ),
            write_off_income_account=_account(
                write_off.get("income_account", "Income:WriteOffs"), "write_off.income_account", "Income"
            ),
        )


_DEFAULT_BUCKETS = (
    {"label": "0-1", "min": 0, "max": 1},
    {"label": "2-3", "min": 2, "max": 3},
    {"label": "4-7", "min": 4, "max": 7},
    {"label": "8+", "min": 8},
)


def default_text() -> str:
    return resources.files("services.recon.domain").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")


def _known(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}")


def _table(data: Mapping[str, Any], name: str, allowed: set[str]) -> Mapping[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, Mapping):
        raise ValueError(f"{name}: must be a table")
    _known(table, allowed, name)
    return table


def _account(value: object, where: str, root: str) -> str:
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value) or value.split(":")[0] != root:
        raise ValueError(
            f"{where}: must be a ledger account under {root}, without its currency"
            f" (for example {root}:WriteOffs), not {value!r}"
        )
    return value


def _days(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: must be a whole number of business days >= 0, not {value!r}")
    return value
