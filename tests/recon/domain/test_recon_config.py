"""recon's configuration: the defaults of every omitted key, each setting read where it belongs, and
the exact reason a bad setting is refused (the message names the setting)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.recon.domain.aging import Bucket
from services.recon.domain.config import ReconConfig
from services.recon.domain.records import BreakKind
from services.recon.domain.tolerances import Tolerance

D = Decimal


def test_an_empty_configuration_takes_the_documented_defaults() -> None:
    config = ReconConfig.from_mapping({})
    assert config.tolerances.rules == ()
    assert config.settlement_grace_business_days == 2
    assert config.booking_grace_business_days == 0
    assert config.price_tolerance == Tolerance()
    assert config.aging.buckets == (
        Bucket("0-1", 0, 1),
        Bucket("2-3", 2, 3),
        Bucket("4-7", 4, 7),
        Bucket("8+", 8, None),
    )
    assert config.escalation.sla_business_days == 5
    assert dict(config.escalation.sla_by_kind) == {}
    assert dict(config.escalation.amount_thresholds) == {}
    assert config.suspense_cash_age_business_days == 3
    assert ReconConfig.from_toml("") == config == ReconConfig.from_json("{}")


def test_every_setting_is_read_where_it_belongs() -> None:
    config = ReconConfig.from_toml(
        """
[timing]
settlement_grace_business_days = 0
booking_grace_business_days = 4
[trades]
price_absolute = "0.01"
price_relative = "0.002"
[[aging.bucket]]
label = "new"
max = 2
[[aging.bucket]]
label = "old"
min = 3
[escalation]
sla_business_days = 7
[escalation.sla_by_kind]
PRICE_MISMATCH = 1
[escalation.amount_threshold]
EUR = "5000"
[suspense]
cash_age_business_days = 9
"""
    )
    assert (config.settlement_grace_business_days, config.booking_grace_business_days) == (0, 4)
    assert config.price_tolerance == Tolerance.symmetric("0.01", "0.002")
    # min defaults to 0: the first bucket covers 0..2
    assert config.aging.buckets == (Bucket("new", 0, 2), Bucket("old", 3, None))
    assert config.escalation.sla_business_days == 7
    assert config.escalation.sla_for(BreakKind.PRICE_MISMATCH) == 1
    assert config.escalation.sla_for(BreakKind.CASH_MISMATCH) == 7
    assert dict(config.escalation.amount_thresholds) == {"EUR": D(5000)}
    assert config.suspense_cash_age_business_days == 9


def test_a_label_is_text_whatever_it_was_written_as() -> None:
    config = ReconConfig.from_mapping({"aging": {"bucket": [{"label": 0, "max": 0}, {"label": 1, "min": 1}]}})
    assert [b.label for b in config.aging.buckets] == ["0", "1"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timings": {}}, r"^config: unknown key\(s\) \['timings'\]$"),
        ({"timing": 2}, r"^timing: must be a table$"),
        ({"trades": {"price": "1"}}, r"^trades: unknown key\(s\) \['price'\]$"),
        ({"aging": {"buckets": []}}, r"^aging: unknown key\(s\) \['buckets'\]$"),
        ({"escalation": {"sla": 1}}, r"^escalation: unknown key\(s\) \['sla'\]$"),
        ({"suspense": {"days": 1}}, r"^suspense: unknown key\(s\) \['days'\]$"),
        (
            {"escalation": {"sla_by_kind": {"CASH_MISSMATCH": 3}}},
            r"^escalation.sla_by_kind: unknown break kind 'CASH_MISSMATCH'$",
        ),
        (
            {"escalation": {"sla_by_kind": {"CASH_MISMATCH": -1}}},
            r"^escalation.sla_by_kind.CASH_MISMATCH: must be a whole number of business days >= 0, not -1$",
        ),
        (
            {"escalation": {"amount_threshold": {"USD": 10.5}}},
            r"^escalation.amount_threshold.USD: write 10.5 as a string",
        ),
        (
            {"aging": {"bucket": [{"label": "all", "maximum": 3}]}},
            r"^aging.bucket\[0\]: unknown key\(s\) \['maximum'\]$",
        ),
        (
            {"aging": {"bucket": [{"label": "a", "max": 1}, {"label": "b", "min": "2"}]}},
            r"^aging.bucket\[1\].min: must be a whole number of business days >= 0, not '2'$",
        ),
        (
            {"aging": {"bucket": [{"label": "a", "max": 1.5}]}},
            r"^aging.bucket\[0\].max: must be a whole number of business days >= 0, not 1.5$",
        ),
        (
            {"timing": {"settlement_grace_business_days": True}},
            r"^timing.settlement_grace_business_days: must be a whole number of business days >= 0, not True$",
        ),
        ({"timing": {"booking_grace_business_days": -1}}, r"^timing.booking_grace_business_days: must be"),
        ({"trades": {"price_absolute": 0.01}}, r"^trades.price_absolute: write 0.01 as a string"),
        ({"trades": {"price_relative": "-1"}}, r"^trades.price_relative: '-1' must be a finite number >= 0$"),
        ({"escalation": {"sla_business_days": -1}}, r"^escalation.sla_business_days: must be"),
        ({"suspense": {"cash_age_business_days": "3"}}, r"^suspense.cash_age_business_days: must be"),
        (
            {"tolerance": [{"scope": "CASH", "absolute": 1.0}]},
            r"^tolerance\[0\].absolute: write 1.0 as a string",
        ),
        ({"write_off": {"account": "Expenses:X"}}, r"^write_off: unknown key\(s\) \['account'\]$"),
        ({"write_off": []}, r"^write_off: must be a table$"),
        (
            {"write_off": {"expense_account": "Income:WriteOffs"}},
            r"^write_off.expense_account: must be a ledger account under Expenses, without its currency"
            r" \(for example Expenses:WriteOffs\), not 'Income:WriteOffs'$",
        ),
        (
            {"write_off": {"income_account": "Expenses:WriteOffs"}},
            r"^write_off.income_account: must be .* under Income",
        ),
        ({"write_off": {"income_account": "Income"}}, r"^write_off.income_account: must be"),
        ({"write_off": {"income_account": "Income:writeOffs"}}, r"^write_off.income_account: must be"),
        ({"write_off": {"income_account": "Income:WriteOffs:"}}, r"^write_off.income_account: must be"),
        ({"write_off": {"expense_account": 7}}, r"^write_off.expense_account: must be .* not 7$"),
        ({"write_off": {"expense_account": "xExpenses:A"}}, r"^write_off.expense_account: must be"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReconConfig.from_mapping(data)


def test_zero_days_are_allowed() -> None:
    config = ReconConfig.from_mapping(
        {"suspense": {"cash_age_business_days": 0}, "escalation": {"sla_by_kind": {"CASH_MISMATCH": 0}}}
    )
    assert config.suspense_cash_age_business_days == 0
    assert config.escalation.sla_for(BreakKind.CASH_MISMATCH) == 0


def test_the_write_off_accounts_default_to_the_ledgers_and_may_be_configured() -> None:
    default = ReconConfig.default()
    assert (default.write_off_expense_account, default.write_off_income_account) == (
        "Expenses:WriteOffs",
        "Income:WriteOffs",
    )
    # a gain (the custodian holds more) to income; a loss, or nothing, to expense; currency appended
    assert default.write_off_account(Decimal("0.01"), "USD") == "Income:WriteOffs:USD"
    assert default.write_off_account(Decimal("-0.01"), "JPY") == "Expenses:WriteOffs:JPY"
    assert default.write_off_account(Decimal(0), "EUR") == "Expenses:WriteOffs:EUR"
    config = ReconConfig.from_mapping(
        {"write_off": {"expense_account": "Expenses:Recon-Losses:2024", "income_account": "Income:Recon"}}
    )
    assert config.write_off_account(Decimal(5), "GBP") == "Income:Recon:GBP"
    assert config.write_off_account(Decimal(-5), "GBP") == "Expenses:Recon-Losses:2024:GBP"
