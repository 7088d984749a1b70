"""SWIFT MT515 client confirmations read into canonical fields, and the records every reader returns.

The published example: Prowide's MT515 parsing sample (Apache-2.0),
https://github.com/prowide/prowide-core-examples/blob/2a2aff607b80ce8b67f8c9ef8323a61c25f98d2e/src/main/java/com/prowidesoftware/swift/samples/core/ParseMT515PLaceOfSettlementExample.java
which holds, among its lines:

    ":90A::DEAL//PRCT/101,001283\\n" + ... ":22H::BUSE//BUYI\\n" + ...
    ":95P::SELL//CFPIDEFF\\n" + ... ":36B::CONF//FAMT/4000000,\\n" + ":35B:ISIN GB0123412345\\n" + ...
    ":19A::DEAL//GBP4040051,32\\n" + ... ":19A::ACRU//GBP7000,\\n" + ... ":19A::EXEC//GBP100,\\n" + ...
    ":19A::SETT//GBP4047151,32\\n"

PUBLISHED below is that message, whole. Its figures agree with each other, worked by hand:
4,000,000 face x 101.001283 % = 4,040,051.32 (DEAL); + 7,000 accrued + 100 commission =
4,047,151.32 (SETT). Its ISIN GB0123412345 is a placeholder whose check digit fails.

The other messages are written here by hand, their figures worked in the comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from services.documents.domain.fields import CANONICAL_FIELDS, Extraction, Field
from services.documents.domain.mt515 import parse_mt515

PUBLISHED = """{1:F01AAAAIT2TAXXX8236800622}{2:O5151648131111BBBBLULLCFND22278474801311111648N}{4:
:16R:GENL
:20C::SEME//FRTJ123456789
:23G:NEWM
:22F::TRTR//TRAD
:16R:LINK
:13A::LINK//514
:20C::RELA//0405D012AA
:16S:LINK
:16S:GENL
:16R:CONFDET
:98A::TRAD//20210112
:98A::SETT//20210117
:90A::DEAL//PRCT/101,001283
:22F::PRIC//AVER
:22H::PAYM//APMT
:22H::BUSE//BUYI
:16R:CONFPRTY
:95P::INVE//FUNANIC1
:16S:CONFPRTY
:16R:CONFPRTY
:95P::BUYR//MGTCDE55
:16S:CONFPRTY
:16R:CONFPRTY
:95P::SELL//CFPIDEFF
:16S:CONFPRTY
:36B::CONF//FAMT/4000000,
:35B:ISIN GB0123412345
:16S:CONFDET
:16R:SETDET
:22F::SETR//TRAD
:16R:SETPRTY
:95R::DEAG/CRST/111
:16S:SETPRTY
:16R:SETPRTY
:95P::SELL//CFPIDEFF
:97A::SAFE//1234567
:16S:SETPRTY
:16R:SETPRTY
:95P::PSET//CRSTGB22
:16S:SETPRTY
:16R:AMT
:19A::DEAL//GBP4040051,32
:16S:AMT
:16R:AMT
:19A::ACRU//GBP7000,
:16S:AMT
:16R:AMT
:19A::EXEC//GBP100,
:16S:AMT
:16R:AMT
:19A::SETT//GBP4047151,32
:16S:AMT
:16S:SETDET
-}"""

# A client (CLNTUS33, the receiver) sells 2,500 Apple shares at USD 171.10 through a broker, on
# Thursday 12 March 2020 for settlement two business days later, Monday 16 March.
# Gross 2,500 x 171.10 = 427,750.00; commission 213.88; fees 11.89 (SEC) + 1.5 (other) = 13.39;
# net 427,750.00 - 213.88 - 13.39 = 427,522.73.
EQUITY_SALE = """{1:F01BRKRUS33AXXX0000000000}{2:I515CLNTUS33XXXXN}{3:{108:MT515EQ0001}}{4:
:16R:GENL
:20C::SEME//EQ-2020-0312-01
:23G:NEWM
:98C::PREP//20200312180000
:22F::TRTR//TRAD
:16R:LINK
:20C::RELA//ORD-77
:16S:LINK
:16S:GENL
:16R:CONFDET
:98C::TRAD//20200312143015
:98A::SETT//20200316
:90B::DEAL//ACTU/USD171,1
:22H::BUSE//SELL
:22H::PAYM//APMT
:16R:CONFPRTY
:95P::SELL//CLNTUS33XXX
:97A::SAFE//CLIENT-SAFE-01
:16S:CONFPRTY
:16R:CONFPRTY
:95Q::BUYR//EXAMPLE BROKER LLC
NEW YORK
:16S:CONFPRTY
:36B::CONF//UNIT/2500,
:35B:ISIN US0378331005
/US/037833100
APPLE INC
:16S:CONFDET
:16R:SETDET
:22F::SETR//TRAD
:16R:AMT
:19A::DEAL//USD427750,00
:16S:AMT
:16R:AMT
:19A::EXEC//USD213,88
:16S:AMT
:16R:AMT
:19A::REGF//USD11,89
:16S:AMT
:16R:AMT
:19A::OTHR//USD1,5
:16S:AMT
:16R:AMT
:19A::SETT//USD427522,73
:16S:AMT
:16S:SETDET
-}{5:{CHK:123456789ABC}}"""


def _values(extraction: Extraction) -> dict[str, str]:
    return {one.name: one.value for one in extraction.fields}


def test_the_published_bond_purchase() -> None:
    extraction = parse_mt515(PUBLISHED)
    assert (extraction.format, extraction.layout, extraction.bond) == ("mt515", "swift-mt515", True)
    assert _values(extraction) == {
        "trade_reference": "FRTJ123456789",
        "trade_date": "2021-01-12",
        "settlement_date": "2021-01-17",
        "side": "BUY",
        "quantity": "4000000",
        "price": "101.001283",
        "isin": "GB0123412345",
        "currency": "GBP",
        "gross_amount": "4040051.32",
        "accrued_interest": "7000",
        "commission": "100",
        "net_amount": "4047151.32",
        # The client buys: the seller (95P::SELL//CFPIDEFF) is the counterparty, given only as a BIC,
        # so there is no counterparty name.
    }
    # 97A::SAFE//1234567 sits with the seller's settlement party: it is not the client's account.
    assert extraction.value("account") is None
    assert extraction.warnings == (
        "ISIN GB0123412345 fails its check digit",
        ":95P::SELL//CFPIDEFF: the counterparty is given only as BIC CFPIDEFF",
    )
    price = extraction.field("price")
    assert price == Field("price", "101.001283", 0.99, 0, ":90A::DEAL//PRCT/101,001283")


def test_a_hand_written_equity_sale() -> None:
    extraction = parse_mt515(EQUITY_SALE)
    assert extraction.bond is False
    assert _values(extraction) == {
        "trade_reference": "EQ-2020-0312-01",
        "trade_date": "2020-03-12",  # 98C: date and time
        "settlement_date": "2020-03-16",
        "side": "SELL",
        "quantity": "2500",
        "isin": "US0378331005",
        "cusip": "037833100",  # the national id line /US/ with nine characters
        "security_name": "APPLE INC",
        "price": "171.1",  # printed decimals kept: 171,1
        "currency": "USD",
        "gross_amount": "427750.00",
        "commission": "213.88",
        "fees": "13.39",  # 11,89 + 1,5
        "net_amount": "427522.73",
        "account": "CLIENT-SAFE-01",  # with the client's own party (the seller, the receiver)
        "counterparty": "EXAMPLE BROKER LLC NEW YORK",  # 95Q: name lines joined
    }
    assert extraction.warnings == ()
    fees = extraction.field("fees")
    assert fees is not None and fees.snippet == ":19A::REGF//USD11,89\n:19A::OTHR//USD1,5"


def test_block_4_alone_with_crlf_line_ends() -> None:
    body = EQUITY_SALE[EQUITY_SALE.index("{4:") + 3 : EQUITY_SALE.index("-}")]
    alone = parse_mt515(body.replace("\n", "\r\n"))
    assert _values(alone) == _values(parse_mt515(EQUITY_SALE))
    assert parse_mt515(body + "-}\n").value("net_amount") == "427522.73"


def test_headers_may_be_separated_by_line_breaks() -> None:
    spaced = EQUITY_SALE.replace("}{2:", "}\n{2:").replace("}{4:", "}\n{4:")
    assert _values(parse_mt515(spaced)) == _values(parse_mt515(EQUITY_SALE))


def _sale_with(old: str, new: str) -> str:
    assert old in EQUITY_SALE
    return EQUITY_SALE.replace(old, new)


def test_parties_that_contradict_the_indicator_give_no_counterparty() -> None:
    # The client (receiver CLNTUS33) is named as the buyer of its own sale.
    message = _sale_with(":95Q::BUYR//EXAMPLE BROKER LLC\nNEW YORK", ":95P::BUYR//CLNTUS33")
    extraction = parse_mt515(message)
    assert extraction.value("counterparty") is None
    assert extraction.warnings == (
        ":95P::BUYR//CLNTUS33: the buyer is the receiver of the message, the client itself: the parties "
        "contradict the buy/sell indicator, so no counterparty",
    )


def test_a_counterparty_by_bic_by_proprietary_code_and_by_the_selr_spelling() -> None:
    by_bic = _sale_with(":95Q::BUYR//EXAMPLE BROKER LLC\nNEW YORK", ":95P::BUYR//BRKRUS33XXX")
    assert parse_mt515(by_bic).value("counterparty") is None  # a BIC names no firm a person reads
    assert any("only as BIC BRKRUS33XXX" in w for w in parse_mt515(by_bic).warnings)
    by_code = _sale_with(":95Q::BUYR//EXAMPLE BROKER LLC\nNEW YORK", ":95R::BUYR/DTCYID/00005")
    assert parse_mt515(by_code).value("counterparty") == "DTCYID/00005"
    bought = PUBLISHED.replace(":95P::SELL//CFPIDEFF\n:16S:CONFPRTY", ":95P::SELR//CFPIDEFF\n:16S:CONFPRTY")
    assert any("only as BIC CFPIDEFF" in w for w in parse_mt515(bought).warnings)


def test_the_counterparty_falls_back_to_the_settlement_parties() -> None:
    without = PUBLISHED.replace(":16R:CONFPRTY\n:95P::SELL//CFPIDEFF\n:16S:CONFPRTY\n", "")
    extraction = parse_mt515(without)
    assert extraction.value("counterparty") is None
    assert ":95P::SELL//CFPIDEFF: the counterparty is given only as BIC CFPIDEFF" in extraction.warnings


# A bond sale, hand written, cancelled: 1,000,000 face at 98.765 % = 987,650.00; accrued 4,125.00;
# a charge with the sign N (OTHR, a credit of 2.50); the client receives 987,650.00 + 4,125.00 -
# 250.00 commission + 2.50 = 991,527.50, and pays a levy in EUR, which cannot be added to USD fees.
# The amounts share one AMT block, as some senders write them, and one (MARG) is read into nothing.
BOND_SALE = """{2:I515CLNTGB2LXXXXN}{4:
:16R:GENL
:20C::SEME//BD-0042
:23G:CANC
:16S:GENL
:16R:CONFDET
:98A::TRAD//20200312
:98B::SETT//UKWN
:90A::DEAL//PRCT/98,765
:22H::BUSE//SELL
:16R:CONFPRTY
:95P::BUYR//BRKRGB2L
:16S:CONFPRTY
:36B::CONF//FAMT/1000000,
:35B:/US/912828Z94
US TREASURY N/B
1.5 15/02/2030
:16S:CONFDET
:16R:SETDET
:16R:AMT
:19A::DEAL//USD987650,00
:19A::ACRU//USD4125,00
:19A::EXEC//USD250,
:19A::LEVY//EUR3,20
:19A::MARG//USD100,
:19A::OTHR//NUSD2,50
:19A::SETT//USD991527,50
:16S:AMT
:16S:SETDET
-}"""


def test_a_hand_written_bond_sale() -> None:
    extraction = parse_mt515(BOND_SALE)
    assert extraction.bond is True
    assert _values(extraction) == {
        "trade_reference": "BD-0042",
        "trade_date": "2020-03-12",
        "side": "SELL",
        "quantity": "1000000",
        "cusip": "912828Z94",
        "security_name": "US TREASURY N/B 1.5 15/02/2030",
        "price": "98.765",
        "currency": "USD",
        "gross_amount": "987650.00",
        "accrued_interest": "4125.00",
        "commission": "250",
        "fees": "-2.50",  # OTHR with the sign N; the EUR levy is left out
        "net_amount": "991527.50",
        # The counterparty is given only as a BIC (BRKRGB2L): no counterparty name.
    }
    assert extraction.warnings == (
        "23G:CANC: this message cancels an earlier confirmation",
        ":98B::SETT//UKWN: no date given, so no settlement_date",
        ":19A::LEVY//EUR3,20: in EUR, the trade in USD; left out of fees",
        ":19A::MARG//USD100,: MARG is not read into any field; left out",
        ":95P::BUYR//BRKRGB2L: the counterparty is given only as BIC BRKRGB2L",
    )


def test_other_prices_and_indicators_are_warnings() -> None:
    yielded = BOND_SALE.replace(":90A::DEAL//PRCT/98,765", ":90A::DEAL//YIEL/1,25")
    extraction = parse_mt515(yielded)
    assert extraction.value("price") is None
    assert ":90A::DEAL//YIEL/1,25: not a price per unit or a percentage, so no price" in extraction.warnings
    unknown = parse_mt515(BOND_SALE.replace(":22H::BUSE//SELL", ":22H::BUSE//SWIT"))
    assert unknown.value("side") is None and unknown.value("counterparty") is None
    assert ":22H::BUSE//SWIT: not a buy or a sell, so no side" in unknown.warnings
    fund = parse_mt515(BOND_SALE.replace(":22H::BUSE//SELL", ":22H::BUSE//REDM"))
    assert fund.value("side") == "SELL"


def test_a_value_that_cannot_be_read_is_a_warning_not_a_failure() -> None:
    extraction = parse_mt515(
        EQUITY_SALE.replace(":98A::SETT//20200316", ":98A::SETT//20201316").replace(
            ":36B::CONF//UNIT/2500,", ":36B::CONF//UNIT/2.500"
        )
    )
    assert extraction.value("settlement_date") is None and extraction.value("quantity") is None
    assert extraction.warnings == (
        ":98A::SETT//20201316: '20201316' is not a date: month must be in 1..12; no settlement_date",
        ":36B::CONF//UNIT/2.500: '2.500' is not a SWIFT number (digits with a decimal comma); no quantity",
    )
    assert extraction.value("net_amount") == "427522.73"


def test_copies_and_preadvices_say_so() -> None:
    copy = parse_mt515(EQUITY_SALE.replace(":23G:NEWM", ":23G:NEWM/COPY"))
    assert copy.warnings == ("23G:NEWM/COPY: a copy or duplicate of a confirmation",)
    preadvice = parse_mt515(EQUITY_SALE.replace(":23G:NEWM", ":23G:PREA"))
    assert preadvice.warnings == ("23G:PREA: a preadvice, not the confirmation itself",)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("hello", "not an MT515: there is no block 4 ({4: ... -}) and no :16R:GENL sequence"),
        (
            EQUITY_SALE.replace("{2:I515CLNTUS33XXXXN}", "{2:I103CLNTUS33XXXXN}"),
            "not an MT515: block 2 says MT103 ({2:I103CLNTUS33XXXXN})",
        ),
        (EQUITY_SALE.replace(":23G:NEWM\n", ""), "not an MT515: no :23G: (function of the message)"),
        (
            EQUITY_SALE.replace(":20C::SEME//EQ-2020-0312-01\n", ""),
            "not an MT515: no :20C::SEME// (the sender's reference)",
        ),
        (
            re.sub(r":35B:.*?(?=:16S:CONFDET)", "", EQUITY_SALE, flags=re.S),
            "not an MT515: no :35B: (the financial instrument)",
        ),
        (EQUITY_SALE.replace("-}{5:", "{5:"), "not a complete MT515: block 4 has no closing '-}'"),
        ("MT515 {4:\n:16R:GENL\n-}", "not a SWIFT message: 'MT515 ' before block 4"),
    ],
)
def test_what_is_not_an_mt515_is_refused_with_the_reason(message: str, reason: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(reason) + "$"):
        parse_mt515(message)


# Field and Extraction, as every reader returns them.


def test_an_extraction_orders_its_fields_and_answers_by_name() -> None:
    extraction = Extraction(
        format="text",
        layout="test",
        fields=(
            Field("side", "BUY", 0.8, 1, "Bought"),
            Field("trade_date", "2020-03-12", 0.9, 1, "12/03/2020"),
        ),
        warnings=("a warning",),
    )
    assert [one.name for one in extraction.fields] == ["trade_date", "side"]
    assert extraction.value("side") == "BUY"
    assert extraction.value("price") is None
    assert extraction.as_dict() == {
        "format": "text",
        "layout": "test",
        "bond": False,
        "fields": {
            "trade_date": {"value": "2020-03-12", "confidence": 0.9, "page": 1, "snippet": "12/03/2020"},
            "side": {"value": "BUY", "confidence": 0.8, "page": 1, "snippet": "Bought"},
        },
        "warnings": ["a warning"],
    }
    assert len(CANONICAL_FIELDS) == 17


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Field("colour", "red", 0.5, 0, ""), "'colour' is not a canonical field"),
        (lambda: Field("side", "", 0.5, 0, ""), "side: an empty value; leave the field out instead"),
        (lambda: Field("side", "BUY", 1.5, 0, ""), "side: confidence 1.5 is not between 0 and 1"),
        (lambda: Field("side", "BUY", 0.5, -1, ""), "side: page -1 is negative"),
        (
            lambda: Extraction(
                "text", "t", (Field("side", "BUY", 1, 0, ""), Field("side", "SELL", 1, 0, ""))
            ),
            "side given twice; an Extraction holds one value per field",
        ),
        (lambda: Extraction("text", "t", ()).value("colour"), "'colour' is not a canonical field"),
    ],
)
def test_records_refuse_what_they_cannot_hold(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        make()
