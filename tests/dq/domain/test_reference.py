"""Reference data: ISIN and CUSIP check digits (python-stdnum), a US ISIN carrying its CUSIP,
a sector and a currency present. Published identifiers: Apple's ISIN US0378331005 carries its
CUSIP 037833100; Microsoft's CUSIP is 594918104; SAP's ISIN is DE0007164600."""

from __future__ import annotations

import datetime as dt

import pytest

from services.dq.domain.config import load_checks
from services.dq.domain.reference import check_identifiers
from services.dq.domain.results import CheckResult, IssueKind

DAY = dt.date(2020, 3, 2)
CHECKS = load_checks()


def _results(
    isin: str, cusip: str, sector: str = "Information Technology", currency: str = "USD"
) -> dict[str, CheckResult]:
    return {r.rule: r for r in check_identifiers(CHECKS, "US-AAPL", isin, cusip, sector, currency, DAY)}


@pytest.mark.parametrize(
    ("isin", "cusip", "problems"),
    [
        ("US0378331005", "037833100", []),
        ("DE0007164600", "", []),  # no CUSIP outside North America: not checked
        ("", "", []),
        (
            "US0378331006",
            "",
            ["ISIN US0378331006 is invalid (the number's checksum or check digit is invalid)"],
        ),
        ("", "037833101", ["CUSIP 037833101 is invalid (the number's checksum or check digit is invalid)"]),
        ("US03783310", "", ["ISIN US03783310 is invalid (the number has an invalid length)"]),
        ("US0378331005", "594918104", ["ISIN US0378331005 does not carry CUSIP 594918104"]),
    ],
)
def test_identifiers(isin: str, cusip: str, problems: list[str]) -> None:
    result = _results(isin, cusip)["identifier"]
    assert result.success is (not problems)
    assert result.kind is IssueKind.REFERENCE_IDENTIFIER
    assert [row["problem"] for row in result.sample] == problems
    if problems:
        assert result.message == "US-AAPL: " + "; ".join(problems)


def test_a_missing_sector_or_currency() -> None:
    ok = _results("US0378331005", "037833100")["missing_field"]
    assert ok.success
    missing = _results("US0378331005", "037833100", sector=" ", currency="")["missing_field"]
    assert not missing.success and missing.unexpected_count == 2
    assert missing.message == "US-AAPL: no sector and no currency"
    assert missing.kind is IssueKind.REFERENCE_MISSING_FIELD
