"""The rules a confirmation's own figures must obey, each failure reported with the values it read.

Rules (each runs only when the document states every figure it needs; a missing field is the
reader's warning, not a rule's failure):
- isin: the ISIN's check digit (ISO 6166, Luhn over the letters as numbers), by python-stdnum;
- cusip: the CUSIP's check digit, by python-stdnum;
- isin_cusip: a US or Canadian ISIN embeds the CUSIP (characters 3 to 11) when both are printed;
- gross_amount: quantity x price (bonds: face x clean price / 100) rounded half-even to the
  currency's minor unit equals the printed gross, within one minor unit (brokers that round the
  consideration up or down, not half-even, still pass; a wrong quantity or price does not);
- net_amount: for a client BUY, gross + commission + fees + accrued interest; for a SELL,
  gross - commission - fees + accrued (the buyer pays the seller the accrued coupon); exact, as every
  term is a printed, already rounded amount; an absent charge counts as zero;
- settlement_date: the trade date plus the settlement cycle in business days (market's
  conventions: equities T+2, government bonds T+1, other bonds T+2; an instrument the book knows
  brings its own cycle), in the calendar given (weekends and the calendar's holidays skipped); for
  a document matched to a fill, the fill's settle date (the convention in market's own calendar).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

from stdnum import cusip as stdnum_cusip
from stdnum import isin as stdnum_isin
from stdnum.exceptions import InvalidChecksum, ValidationError

from services.common.calendar import BusinessCalendar
from services.documents.domain.fields import Extraction

EQUITY_SETTLEMENT_DAYS = 2
GOVERNMENT_SETTLEMENT_DAYS = 1
OTHER_BOND_SETTLEMENT_DAYS = 2
# A security name with one of these words is a government bond (market settles those T+1).
GOVERNMENT_WORDS: tuple[str, ...] = ("treasury", "t-note", "t-bond", "gilt", "bund", "jgb", "government")
# Currencies without minor units; every other currency here has two.
ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset({"JPY", "KRW"})


@dataclass(frozen=True)
class RuleFailure:
    """A rule the document breaks: `values` holds each figure the rule read, and what it expected."""

    rule: str
    message: str
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def minor_unit(currency: str) -> Decimal:
    return Decimal(1) if currency.upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def is_government(extraction: Extraction) -> bool:
    name = (extraction.value("security_name") or "").lower()
    isin = extraction.value("isin") or ""
    return isin.startswith("US912") or any(word in name for word in GOVERNMENT_WORDS)


def settlement_days(extraction: Extraction, known: int | None = None) -> int:
    """The settlement cycle the market applies: the book's own for an instrument it knows, else by
    kind of security."""
    if known is not None:
        return known
    if not extraction.bond:
        return EQUITY_SETTLEMENT_DAYS
    return GOVERNMENT_SETTLEMENT_DAYS if is_government(extraction) else OTHER_BOND_SETTLEMENT_DAYS


def _identifier_problem(
    number: str, validate: Callable[[str], str], check_digit: Callable[[str], str]
) -> str:
    """ "" when valid; otherwise what is wrong, with the check digit the body calls for."""
    try:
        validate(number)
    except InvalidChecksum:
        return f"fails its check digit: the body {number[:-1]} calls for {check_digit(number[:-1])}, not {number[-1]}"
    except ValidationError as error:
        return f"is not valid: {str(error).lower().rstrip('.')}"
    return ""


def _identifier_rules(extraction: Extraction) -> list[RuleFailure]:
    failures: list[RuleFailure] = []
    isin = extraction.value("isin")
    cusip = extraction.value("cusip")
    isin_problem = ""
    if isin is not None:
        reason = isin_problem = _identifier_problem(isin, stdnum_isin.validate, stdnum_isin.calc_check_digit)
        if reason:
            failures.append(RuleFailure("isin", f"ISIN {isin} {reason}", MappingProxyType({"isin": isin})))
    if cusip is not None:
        reason = _identifier_problem(cusip, stdnum_cusip.validate, stdnum_cusip.calc_check_digit)
        if reason:
            failures.append(
                RuleFailure("cusip", f"CUSIP {cusip} {reason}", MappingProxyType({"cusip": cusip}))
            )
    # An ISIN that is wrong itself is reported once, not again against the CUSIP.
    if (
        isin is not None
        and not isin_problem
        and cusip is not None
        and isin[:2] in ("US", "CA")
        and isin[2:11] != cusip
    ):
        failures.append(
            RuleFailure(
                "isin_cusip",
                f"ISIN {isin} embeds CUSIP {isin[2:11]}, but the document prints CUSIP {cusip}",
                MappingProxyType({"isin": isin, "cusip": cusip, "embedded_cusip": isin[2:11]}),
            )
        )
    return failures


def _amount_rules(extraction: Extraction) -> list[RuleFailure]:
    failures: list[RuleFailure] = []
    currency = extraction.value("currency") or ""
    unit = minor_unit(currency)
    quantity, price = extraction.decimal("quantity"), extraction.decimal("price")
    gross = extraction.decimal("gross_amount")
    if quantity is not None and price is not None and gross is not None:
        scale = Decimal(100) if extraction.bond else Decimal(1)
        expected = (quantity * price / scale).quantize(unit, rounding=ROUND_HALF_EVEN)
        if abs(expected - gross) > unit:
            formula = "face x price / 100" if extraction.bond else "quantity x price"
            failures.append(
                RuleFailure(
                    "gross_amount",
                    f"gross amount {gross} is not {formula} = {quantity} x {price}"
                    + (" / 100" if extraction.bond else "")
                    + f" = {expected} (off by {gross - expected})",
                    MappingProxyType(
                        {
                            "quantity": str(quantity),
                            "price": str(price),
                            "gross_amount": str(gross),
                            "expected": str(expected),
                        }
                    ),
                )
            )
    net, side = extraction.decimal("net_amount"), extraction.value("side")
    if gross is not None and net is not None and side in ("BUY", "SELL"):
        commission = extraction.decimal("commission") or Decimal(0)
        fees = extraction.decimal("fees") or Decimal(0)
        accrued = extraction.decimal("accrued_interest") or Decimal(0)
        charges = commission + fees
        expected = gross + accrued + (charges if side == "BUY" else -charges)
        if expected != net:
            sign = "+" if side == "BUY" else "-"
            failures.append(
                RuleFailure(
                    "net_amount",
                    f"net amount {net} is not gross {gross} {sign} commission {commission} {sign} fees {fees} "
                    f"+ accrued {accrued} = {expected} for a {side} (off by {net - expected})",
                    MappingProxyType(
                        {
                            "side": side,
                            "gross_amount": str(gross),
                            "commission": str(commission),
                            "fees": str(fees),
                            "accrued_interest": str(accrued),
                            "net_amount": str(net),
                            "expected": str(expected),
                        }
                    ),
                )
            )
    return failures


def _settlement_rule(
    extraction: Extraction,
    calendar: BusinessCalendar,
    known_settlement_days: int | None,
    book_settle_date: dt.date | None,
) -> list[RuleFailure]:
    trade_text, settle_text = extraction.value("trade_date"), extraction.value("settlement_date")
    if trade_text is None or settle_text is None:
        return []
    trade, settle = dt.date.fromisoformat(trade_text), dt.date.fromisoformat(settle_text)
    days = settlement_days(extraction, known_settlement_days)
    # The book's settle date of the matched trade is the convention applied in market's own calendar
    # (its holidays included), so it wins over counting weekdays here.
    expected = book_settle_date or calendar.add(trade, days)
    if settle == expected:
        return []
    kind = (
        "equities" if not extraction.bond else ("government bonds" if is_government(extraction) else "bonds")
    )
    basis = "this instrument" if known_settlement_days is not None or book_settle_date else kind
    return [
        RuleFailure(
            "settlement_date",
            f"settlement date {settle} is not T+{days} from trade date {trade} "
            f"(the market settles {basis} T+{days}: {expected})",
            MappingProxyType(
                {
                    "trade_date": trade_text,
                    "settlement_date": settle_text,
                    "settlement_days": str(days),
                    "expected": expected.isoformat(),
                }
            ),
        )
    ]


def validate(
    extraction: Extraction,
    *,
    calendar: BusinessCalendar | None = None,
    known_settlement_days: int | None = None,
    book_settle_date: dt.date | None = None,
) -> tuple[RuleFailure, ...]:
    """Every rule the document breaks, in the order of the module's list. book_settle_date: the
    settle date the book gave the trade the document confirms, when it is known."""
    return (
        *_identifier_rules(extraction),
        *_amount_rules(extraction),
        *_settlement_rule(
            extraction, calendar or BusinessCalendar(), known_settlement_days, book_settle_date
        ),
    )
