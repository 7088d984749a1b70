"""Reference data checks of one instrument, given its values explicitly.

identifier: an ISIN's and a CUSIP's check digits (python-stdnum), and a US or Canadian ISIN
carrying the instrument's CUSIP as its national number. An empty identifier is not checked (not
every instrument has a CUSIP). missing_field: a sector and a currency are present.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from stdnum import cusip as cusip_number
from stdnum import isin as isin_number
from stdnum.exceptions import ValidationError

from services.dq.domain.config import CheckSet
from services.dq.domain.results import CheckResult, Family, SubjectKind

_NORTH_AMERICA = ("US", "CA")


def check_identifiers(
    checks: CheckSet,
    instrument_id: str,
    isin: str,
    cusip: str,
    sector: str,
    currency: str,
    as_of: dt.date,
    attributes: dict[str, str] | None = None,
) -> list[CheckResult]:
    """The identifier and missing_field results of one instrument (for the checks that apply to
    it: attributes as in a subject filter, asset_class, currency, market)."""
    subject = {"instrument_id": instrument_id, "currency": currency, **(attributes or {})}
    out: list[CheckResult] = []
    check = checks.select(Family.REFERENCE, "identifier", subject)
    if check is not None:
        problems = _identifier_problems(isin, cusip)
        shown = " ".join(
            part for part in (f"ISIN {isin}" if isin else "", f"CUSIP {cusip}" if cusip else "") if part
        )
        if problems:
            message = f"{instrument_id}: {'; '.join(problems)}"
        else:
            message = (
                f"{instrument_id}: {shown} valid" if shown else f"{instrument_id}: no identifiers to check"
            )
        out.append(
            check.result(
                success=not problems,
                subject=instrument_id,
                subject_kind=SubjectKind.INSTRUMENT,
                value_date=as_of,
                caused_by=(),
                unexpected_count=len(problems),
                sample=[{"problem": problem} for problem in problems],
                message=message,
            )
        )
    check = checks.select(Family.REFERENCE, "missing_field", subject)
    if check is not None:
        missing = [name for name, value in (("sector", sector), ("currency", currency)) if not value.strip()]
        out.append(
            check.result(
                success=not missing,
                subject=instrument_id,
                subject_kind=SubjectKind.INSTRUMENT,
                value_date=as_of,
                caused_by=(),
                unexpected_count=len(missing),
                sample=[{"field": name} for name in missing],
                message=f"{instrument_id}: no {' and no '.join(missing)}"
                if missing
                else f"{instrument_id}: sector and currency present",
            )
        )
    return out


@functools.lru_cache(maxsize=4096)  # every instrument's identifiers are checked again at every day end
def _identifier_problems(isin: str, cusip: str) -> tuple[str, ...]:
    problems: list[str] = []
    if isin and not isin_number.is_valid(isin):
        problems.append(f"ISIN {isin} is invalid ({_why(isin_number.validate, isin)})")
    if cusip and not cusip_number.is_valid(cusip):
        problems.append(f"CUSIP {cusip} is invalid ({_why(cusip_number.validate, cusip)})")
    if isin and cusip and isin[:2].upper() in _NORTH_AMERICA and isin[2:11].upper() != cusip.upper():
        problems.append(f"ISIN {isin} does not carry CUSIP {cusip}")
    return tuple(problems)


def _why(validate: Callable[[str], str], value: str) -> str:
    try:
        validate(value)
    except ValidationError as error:
        return str(error).rstrip(".").lower()
    return "invalid"
