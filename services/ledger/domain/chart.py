"""The chart of accounts (docs/ledger-design.md) and the precision the ledger accepts.

Names are Beancount-compatible so an export needs no renaming: five roots,
every component starting with a capital letter or a digit. Money accounts end
in their currency; Securities and Unrealized end in the instrument id and hold
the instrument's currency.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

# The precision of money is the platform's (reporting rounds the same way); re-exported as the chart's.
from services.common.money import MINOR_UNITS as MINOR_UNITS
from services.common.money import quantize_money as quantize_money
from services.common.money import quantum as quantum
from services.ledger.domain.records import Account

QUANTITY_PLACES = 6
# The largest amount, base amount or quantity one posting may carry, in absolute value: what the
# storage holds exactly (10^18 micro-units in a signed 64-bit integer), documented in
# docs/ledger-design.md. Beyond it a figure is refused, never rounded.
MAX_FIGURE = Decimal(10) ** 12

ROOTS: tuple[str, ...] = ("Assets", "Liabilities", "Equity", "Income", "Expenses")
# Beancount's component rule (ASCII subset): a capital letter or digit, then letters, digits or dashes.
_COMPONENT = re.compile(r"[A-Z0-9][A-Za-z0-9-]*")
_CURRENCY = re.compile(r"[A-Z]{3}")
# Accounts whose last component is an instrument id, not a currency.
_INSTRUMENT_PARENTS: tuple[str, ...] = ("Assets:Securities", "Assets:Unrealized")


def cash(ccy: str) -> str:
    return f"Assets:Cash:{ccy}"


def securities(instrument_id: str) -> str:
    return f"Assets:Securities:{instrument_id}"


def unrealized(instrument_id: str) -> str:
    return f"Assets:Unrealized:{instrument_id}"


def pending_receivable(ccy: str) -> str:
    return f"Assets:PendingSettlement:{ccy}"


def pending_payable(ccy: str) -> str:
    return f"Liabilities:PendingSettlement:{ccy}"


def accrued_income(ccy: str) -> str:
    return f"Assets:AccruedIncome:{ccy}"


def accrued_interest(ccy: str) -> str:
    """Interest accrued on the bonds held, at the day's quoted accrued per 100 (carried at market,
    as NAV carries it), between coupons; the change goes to Income:Interest."""
    return f"Assets:AccruedInterest:{ccy}"


def suspense(ccy: str) -> str:
    return f"Assets:Suspense:{ccy}"


def capital(ccy: str) -> str:
    return f"Equity:Capital:{ccy}"


def fx_conversion(ccy: str) -> str:
    """The currency trading account of FX deals: a deal credits it with the currency bought and
    debits it with the currency sold, each leg at the same base amount, so the deal's journal balances
    in each currency and in base, and the account's base balance stays zero (it is never revalued:
    the gain or loss of a currency held is in Income:FxRevaluation)."""
    return f"Equity:FxConversion:{ccy}"


def dividends(ccy: str) -> str:
    return f"Income:Dividends:{ccy}"


def interest(ccy: str) -> str:
    return f"Income:Interest:{ccy}"


def realized(ccy: str) -> str:
    return f"Income:RealizedGains:{ccy}"


def unrealized_gains(ccy: str) -> str:
    return f"Income:UnrealizedGains:{ccy}"


def fx_revaluation(ccy: str) -> str:
    return f"Income:FxRevaluation:{ccy}"


def commissions(ccy: str) -> str:
    return f"Expenses:Commissions:{ccy}"


def fees(ccy: str) -> str:
    return f"Expenses:Fees:{ccy}"


def management_fees(ccy: str) -> str:
    """The management fee accrued each day on the previous day end's NAV (fee.accrued)."""
    return f"Expenses:ManagementFees:{ccy}"


def accrued_fees(ccy: str) -> str:
    """Management fees accrued and not yet paid; the monthly cashflow.fee settles them."""
    return f"Liabilities:AccruedFees:{ccy}"


def write_off_losses(ccy: str) -> str:
    """Where recon writes off a cash difference the custodian's statement shows as a loss."""
    return f"Expenses:WriteOffs:{ccy}"


def write_off_gains(ccy: str) -> str:
    """Where recon writes off a cash difference the custodian's statement shows as a gain."""
    return f"Income:WriteOffs:{ccy}"


def is_instrument_account(name: str) -> bool:
    """Securities and Unrealized accounts: named by instrument, in the instrument's currency."""
    return name.rsplit(":", 1)[0] in _INSTRUMENT_PARENTS


def instrument_of(name: str) -> str:
    """The instrument id of a Securities or Unrealized account, "" for any other account."""
    return name.rsplit(":", 1)[1] if is_instrument_account(name) else ""


def account_currency(name: str) -> str:
    """The <CCY> suffix of a money account; "" for Securities/Unrealized (the instrument's currency)
    and for names that do not end in a currency code."""
    if is_instrument_account(name):
        return ""
    last = name.rsplit(":", 1)[-1]
    return last if _CURRENCY.fullmatch(last) else ""


def is_valid_account_name(name: str) -> bool:
    """Beancount's rules: a known root and at least one more component, each component valid."""
    parts = name.split(":")
    if len(parts) < 2 or parts[0] not in ROOTS:
        return False
    return all(_COMPONENT.fullmatch(part) for part in parts[1:])


def decimal_places(value: Decimal) -> int:
    """Places the value really needs: 1.10 needs 1, 100 needs 0 (trailing zeros are not precision)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


STANDARD_ACCOUNTS = (
    cash,
    pending_receivable,
    pending_payable,
    accrued_income,
    accrued_interest,
    suspense,
    capital,
    fx_conversion,
    dividends,
    interest,
    realized,
    unrealized_gains,
    fx_revaluation,
    commissions,
    fees,
    management_fees,
    accrued_fees,
    write_off_losses,
    write_off_gains,
)


def standard_chart(mandate_id: str, base_currency: str, opened_on: dt.date) -> list[Account]:
    """The accounts every mandate may use in its base currency, opened on `opened_on`.

    Every account opens on first use, dated by the first journal that uses it. A manual journal
    (recon's suspense posting, say) may name these before anything used them; any other account
    it names must have been opened by the stream first.
    """
    return [
        Account(mandate_id=mandate_id, name=name(base_currency), currency=base_currency, opened_on=opened_on)
        for name in STANDARD_ACCOUNTS
    ]
