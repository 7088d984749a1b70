"""Templates as data: the loader's checks (each error names the file, the rule and the problem),
the choice of a template by its keywords, what each kind of rule reads, and each shipped template
on a short document written here by hand in its house's style."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.documents.domain.extract import extract_text_document, to_minor_units
from services.documents.domain.fields import Extraction, Field
from services.documents.domain.templates import (
    CONFIDENCE,
    Template,
    apply_template,
    builtin_template_paths,
    load_builtin_templates,
    load_templates,
    parse_template,
    select_template,
)

MINIMAL = """
name = "test"
broker = "Test Brokers Ltd"
keywords = ["TEST BROKERS"]
[fields.trade_reference]
regex = 'Ref: (\\S+)'
"""


def _load(tmp_path: Path, text: str, name: str = "house.toml") -> tuple[Template, ...]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_templates([path])


def _template(text: str) -> Template:
    import tomllib

    return parse_template(tomllib.loads(text), "inline.toml")


# ---------------------------------------------------------------- the loader


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MINIMAL.replace("[fields.trade_reference]", "[fields.trade_ref]"),
            "house.toml: fields.trade_ref: unknown field name 'trade_ref'",
        ),
        (
            MINIMAL.replace("'Ref: (\\S+)'", "'Ref: ((\\S+)'"),
            "house.toml: fields.trade_reference.regex: bad regex",
        ),
        (MINIMAL.replace("'Ref: (\\S+)'", "'Ref: (\\S+) (\\d+)'"), "has 2 capture groups: give exactly one"),
        (MINIMAL.replace("'Ref: (\\S+)'", "'Ref: \\S+'"), "has 0 capture groups"),
        (
            MINIMAL.replace('keywords = ["TEST BROKERS"]', "keywords = []"),
            "house.toml: keywords: no keywords",
        ),
        (MINIMAL.replace('keywords = ["TEST BROKERS"]', ""), "house.toml: keywords: no keywords"),
        (MINIMAL.replace('name = "test"', ""), "house.toml: name: missing or empty"),
        (MINIMAL.replace('broker = "Test Brokers Ltd"', ""), "house.toml: broker: missing or empty"),
        (
            MINIMAL + "[options]\ndate_order = 'dym'\n",
            "house.toml: options.date_order: 'dym' is not one of dmy, mdy, ymd",
        ),
        (
            MINIMAL + "[options]\nnumber_style = 'swiss'\n",
            "options.number_style: 'swiss' is not one of us, eu, auto",
        ),
        (
            MINIMAL + "[options]\ncurrency = 'dollars'\n",
            "options.currency: 'dollars' is not an ISO currency code",
        ),
        (MINIMAL + "[options]\nlanguage = 'en'\n", "options.language: unknown option"),
        ("colour = 'red'\n" + MINIMAL, "house.toml: colour: unknown key"),
        (MINIMAL + "colour = 'red'\n", "house.toml: fields.trade_reference.colour: unknown key"),
        (
            MINIMAL + "[fields.price]\nregex = 'P (\\d+)'\ntable = { header = 'PRICE' }\n",
            "fields.price: give exactly one of regex, table or sum (it has regex, table)",
        ),
        (
            MINIMAL + "[fields.price]\noptional = true\n",
            "fields.price: give exactly one of regex, table or sum",
        ),
        (
            MINIMAL + "[fields.price]\nregex = 'P (\\d+)'\noptinal = true\n",
            "fields.price.optinal: unknown key",
        ),
        (
            MINIMAL + "[fields.price]\nsum = ['P (\\d+)']\n",
            "fields.price.sum: only amounts (fees, commission, ...) can be summed",
        ),
        (MINIMAL + "[fields.fees]\nsum = ['F (\\d+)', 'G (']\n", "house.toml: fields.fees.sum[1]: bad regex"),
        (
            MINIMAL + "[fields.price]\ntable = { header = 'PRICE', row = 0 }\n",
            "fields.price.table.row: 0 is not a row number",
        ),
        (MINIMAL + "[fields.price]\ntable = { row = 1 }\n", "fields.price.table.header: missing"),
        (
            MINIMAL + "[fields.price]\ntable = { header = 'PRICE', column = 2 }\n",
            "fields.price.table.column: unknown key",
        ),
        (
            MINIMAL + "[fields.side]\nregex = 'S (\\w+)'\nnegate_if = 'x'\n",
            "fields.side.negate_if: only amounts can be negated",
        ),
        (
            MINIMAL + "[fields.fees]\nregex = 'F (\\w+)'\nnegate_if = '('\n",
            "fields.fees.negate_if: bad regex",
        ),
        (
            MINIMAL + "[fields.side]\nregex = 'S (\\w+)'\nsigned = true\n",
            "fields.side.signed: only amounts have a sign",
        ),
        (
            MINIMAL + "[fields.side]\nregex = 'S (\\w+)'\noptional = 'yes'\n",
            "fields.side.optional: must be true or false",
        ),
        ("name = 'x\n", "house.toml: not valid TOML"),
    ],
)
def test_the_loader_names_the_file_the_rule_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        _load(tmp_path, text)
    assert message in str(raised.value)


def test_two_templates_with_one_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "b.toml").write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(ValueError, match=r"b.toml: the template name 'test' is also used by a.toml"):
        load_templates([tmp_path / "a.toml", tmp_path / "b.toml"])


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nowhere.toml: cannot read the template"):
        load_templates([tmp_path / "nowhere.toml"])


def test_a_named_value_group_may_sit_beside_other_groups(tmp_path: Path) -> None:
    (template,) = _load(tmp_path, MINIMAL.replace("'Ref: (\\S+)'", "'(Ref|No): (?P<value>\\S+)'"))
    extraction = apply_template(template, ["TEST BROKERS\nNo: AB-12\n"])
    assert extraction.value("trade_reference") == "AB-12"


def test_the_shipped_templates_load() -> None:
    templates = load_builtin_templates()
    assert sorted(one.name for one in templates) == [
        "altmark", "halvorsen", "kestrel", "lacroix", "meridian", "northbridge", "rigi", "sakura", "thamesgate",
    ]  # fmt: skip
    assert all(path.suffix == ".toml" for path in builtin_template_paths())


# ---------------------------------------------------------------- selection


def _selector(name: str, keywords: list[str], excluded: list[str] | None = None) -> Template:
    return _template(
        f"name = {name!r}\nbroker = 'B'\nkeywords = {keywords!r}\nexclude_keywords = {excluded or []!r}\n"
        "[fields.side]\nregex = '(BUY|SELL)'\n"
    )


def test_every_keyword_must_occur_in_any_case() -> None:
    house = _selector("house", ["Acme Securities", "Trade Confirmation"])
    assert select_template("ACME SECURITIES\ntrade confirmation\n", [house]) is house
    assert select_template("ACME SECURITIES\ncontract note\n", [house]) is None


def test_the_template_with_the_most_keywords_wins() -> None:
    broad = _selector("broad", ["Acme"])
    narrow = _selector("narrow", ["Acme", "Bond Desk"])
    assert select_template("Acme Bond Desk confirmation", [broad, narrow]) is narrow
    assert select_template("Acme equity confirmation", [broad, narrow]) is broad


def test_an_excluded_keyword_keeps_a_template_out() -> None:
    equity = _selector("equity", ["Acme"], ["Bond Desk"])
    assert select_template("Acme Bond Desk", [equity]) is None


def test_two_templates_that_tie_are_an_error_in_the_templates() -> None:
    one, other = _selector("one", ["Acme", "Confirm"]), _selector("other", ["Acme", "Trade"])
    with pytest.raises(ValueError, match=r"templates one \(inline.toml\), other \(inline.toml\) all match"):
        select_template("Acme Trade Confirm", [one, other])


# ---------------------------------------------------------------- what the rules read

RULES = """
name = "rules"
broker = "Rules & Co"
keywords = ["RULES & CO"]

[options]
date_order = "dmy"
number_style = "eu"
currency = "EUR"
bond_keywords = ["Nominal"]

[fields.trade_date]
regex = 'Trade date: (\\S+)'

[fields.side]
regex = '(we\\s+have\\s+(?:bought|sold)\\s+for\\s+your\\s+account)'
ignore_case = true

[fields.security_name]
regex = 'Security: (.+?)\\s*\\.'
dotall = true

[fields.quantity]
table = { header = ["Quantity", "Nominal"] }

[fields.price]
table = { header = "Price" }

[fields.gross_amount]
table = { header = "Amount", row = 1 }

[fields.fees]
sum = ['^Fee [A-Z]+: (\\S+)$', { header = "Levy" }]

[fields.commission]
regex = 'Commission: (\\S+)'
optional = true

[fields.accrued_interest]
regex = 'Accrued: (\\S+)'

[fields.net_amount]
regex = 'Net: (\\S+)'
negate_if = 'owed by you'
"""

RULES_DOCUMENT = """RULES & CO
Trade date: 13.03.2020
We have
bought for your account
Security: Example Holdings
SE Bearer Shares.

Quantity  Price      Amount       Levy
--------  ---------  -----------  ------
   1.500  12,5000    18.750,00    (2,50)
     100  1,0000        100,00      0,10

Fee EX: 1,25
Fee CL: -0,75
Net: 18.754,50
"""


def test_each_kind_of_rule_reads_its_field() -> None:
    extraction = apply_template(_template(RULES), [RULES_DOCUMENT])
    assert {one.name: one.value for one in extraction.fields} == {
        "trade_date": "2020-03-13",
        "side": "BUY",
        "security_name": "Example Holdings SE Bearer Shares",  # the line break is a space
        "quantity": "1500",
        "price": "12.5",
        "gross_amount": "18750.00",
        "fees": "4.50",  # 1,25 + 0,75 + 2,50: a sign or parentheses still add the charge
        "net_amount": "18754.50",
        "currency": "EUR",  # the template's default: the page names none
    }
    assert extraction.layout == "rules"
    assert extraction.format == "text"
    assert extraction.bond is False
    # commission is optional: no warning; accrued interest is required: a warning, not a guess
    assert extraction.warnings == ("rules: accrued_interest not found (regex 'Accrued: (\\\\S+)')",)


def test_a_value_records_its_page_snippet_and_confidence() -> None:
    pages = ["RULES & CO\nTrade date: 13.03.2020\n", "Net: 10,00\n"]
    pdf = apply_template(_template(RULES), pages, is_pdf=True)
    text = apply_template(_template(RULES), pages, is_pdf=False)
    net = pdf.field("net_amount")
    assert net == Field("net_amount", "10.00", CONFIDENCE, 2, "Net: 10,00")
    assert pdf.field("trade_date") == Field(
        "trade_date", "2020-03-13", CONFIDENCE, 1, "Trade date: 13.03.2020"
    )
    assert pdf.format == "pdf"
    assert {one.page for one in text.fields} == {0}
    assert pdf.field("currency") == Field("currency", "EUR", 0.9, 0, "(the rules template's currency)")


def test_a_table_snippet_has_the_header_and_the_row() -> None:
    extraction = apply_template(_template(RULES), [RULES_DOCUMENT])
    quantity = extraction.field("quantity")
    assert quantity is not None
    assert quantity.snippet == "Quantity  Price      Amount       Levy\n1.500  12,5000    18.750,00    (2,50)"


def test_negate_if_turns_the_amount_negative() -> None:
    extraction = apply_template(_template(RULES), ["RULES & CO\nNet: 12,00 owed by you\n"])
    assert extraction.value("net_amount") == "-12.00"


def test_a_value_that_cannot_be_read_is_a_warning() -> None:
    extraction = apply_template(_template(RULES), ["RULES & CO\nTrade date: 31.02.2020\nNet: 1,00\n"])
    assert extraction.value("trade_date") is None
    assert any("rules: trade_date '31.02.2020' cannot be read" in warning for warning in extraction.warnings)


def test_amounts_are_absolute_unless_the_rule_keeps_the_sign() -> None:
    template = """
name = "signs"
broker = "S"
keywords = ["SIGNS"]
[fields.net_amount]
regex = 'Net: (\\S+)'
signed = true
[fields.gross_amount]
regex = 'Gross: (\\S+)'
"""
    extraction = apply_template(_template(template), ["SIGNS\nNet: -5.00\nGross: (3.00)\n"])
    assert extraction.value("net_amount") == "-5.00"
    assert extraction.value("gross_amount") == "3.00"


def test_a_pipe_table_is_read_by_cell() -> None:
    template = """
name = "pipes"
broker = "P"
keywords = ["PIPES"]
[fields.account]
table = { header = "ACCOUNT" }
[fields.quantity]
table = { header = "QTY", row = 2 }
[fields.instrument_ref]
table = { header = "ID" }
"""
    document = """PIPES
+---------+-----+------+
| ACCOUNT | QTY | ID   |
+---------+-----+------+
| AC 1    | 10  | X-1  |
| AC 2    | 20  |      |
+---------+-----+------+
"""
    extraction = apply_template(_template(template), [document])
    assert extraction.value("account") == "AC 1"
    assert extraction.value("quantity") == "20"
    assert extraction.instrument_ref == "X-1"
    assert extraction.as_dict()["instrument_ref"] == "X-1"


def test_columns_without_a_rule_follow_the_header_cells() -> None:
    template = """
name = "spaced"
broker = "S"
keywords = ["SPACED"]
[fields.side]
table = { header = "B/S" }
[fields.price]
table = { header = "Price" }
"""
    document = "SPACED\nDate        B/S    Quantity     Price\n12/03/20    S         1,000     12.25\n"
    extraction = apply_template(_template(template), [document])
    assert extraction.value("side") == "SELL"
    assert extraction.value("price") == "12.25"


# ---------------------------------------------------------------- the shipped templates on hand-written documents

HALVORSEN = """HALVORSEN BROTHERS & CO. LLC                                TRADE CONFIRMATION
120 Broad Street, New York, NY 10005                        Member FINRA / SIPC

YOU BOUGHT                                                  Capacity: AGENT

Trade Date ....... 01/13/2021             Settlement Date .. 01/15/2021
Account No. ...... 9ZZ-00001              Confirm No. ...... HB210113-00001
Quantity ......... 250                    Price ............ 12.3400
Symbol ........... TSTC                   CUSIP ............ 037833100
Currency ......... USD                    ISIN ............. US0378331005
Exec Time ........ 10:00:00 ET            Market ........... NYSE

Description: TEST COMPANY INC COM

Principal Amount . $3,085.00              Commission ....... $5.00
Handling Fee ..... $4.75
Net Amount ....... $3,094.75

All amounts in USD. Securities are held subject to the terms of your account agreement.
Halvorsen Brothers & Co. LLC acted as agent in this transaction.
"""
ALTMARK = """Altmark Bankhaus AG · Neue Mainzer Straße 41 · 60311 Frankfurt am Main

SECURITIES SETTLEMENT NOTE
Sale

Settlement note no.     : 2021-0315-000001
Order no.               : 12345678
Securities account      : 0046 0000 01
Transaction type        : Sale
Trade date / time       : 15.03.2021 10:00:00
Value date              : 17.03.2021

Security                : 1,000 % Testanleihe 2021/2031
ISIN                    : DE0001102473
Nominal                 : EUR 10.000,00
Price                   : 99,500 %
Coupon / maturity       : 1,000 % / 15.02.2031

Market value                      : EUR       9.950,00
Accrued interest (28 days)        : EUR           7,67
Commission                        : EUR          10,00
Settlement fee                    : EUR           3,50
                                        --------------
Amount to your credit             : EUR       9.944,17
"""
THAMESGATE = """THAMESGATE STOCKBROKERS PLC
CONTRACT NOTE                                  Contract No: TG/210104/00001
Account: TG-0000001                          Tax point: 4 Jan 2021

Bargain Date  Settlement  B/S  Quantity  Stock                  Price GBP
------------  ----------  ---  --------  ---------------------  ---------
4 Jan 2021    6 Jan 2021  BUY     2,000  Test Holdings plc Ord     3.5000
                                         ISIN GB0002875804

                                  Consideration                         7,000.00
                                  Commission (0.20%)                       14.00
                                  Stamp Duty Reserve Tax                   35.00
                                  ----------------------------------------------
                                  Total due from you (GBP)              7,049.00

Thamesgate Stockbrokers plc. Registered in England and Wales No. 04418203.
"""
LACROIX = """LACROIX FRÈRES & ASSOCIÉS SA

Our ref.: LF/OP/2021/000001
Your account: 00451-00000-01

TRADE ADVICE (AVIS D'OPÉRÉ)

We hereby confirm that on 15/03/2021 we have sold for your account 1 200 shares of
TEST SOCIÉTÉ SA (ISIN FR0000120271) on Euronext Paris at a price of 50,50 EUR per
share, for settlement on 17/03/2021.

The gross amount of the transaction is 60 600,00 EUR; our brokerage of 90,90 EUR and
market charges of 2,10 EUR are deducted from it.

The net proceeds of 60 507,00 EUR will be credited to your account for value 17/03/2021.

Middle Office, Lacroix Frères & Associés SA
"""
SAKURA = """SAKURABASHI SECURITIES CO., LTD.

TRADE REPORT (TORIHIKI HOKOKUSHO)
Report No.    SB-20210315-000001            Issue Date    2021/03/15
Account No.   102-000001                    Account Type  Specified (Tokutei)
Currency      JPY

 Trade Date  Settle Date  Code  B/S  Quantity  Unit Price   Amount
 ==========  ===========  ====  ===  ========  ==========  =======
 2021/03/15  2021/03/17   7203  BUY       100     7,890.5  789,050
 Issue: TEST MOTOR CORPORATION
 ISIN: JP3633400001   Market: TSE Prime

 Commission  Consumption Tax (10%)  Net Settlement Amount
 ==========  =====================  =====================
      1,100                    110                790,260

Sakurabashi Securities Co., Ltd.
"""
RIGI = """RIGI PRIVATBANK AG
Bahnhofstrasse 88, CH-8001 Zürich                         Zürich, 15.03.2021

STOCK EXCHANGE TRANSACTION - PURCHASE

Our reference       BA-2021-000001
Portfolio           1188-0000.001
Trade date          15.03.2021  10:00
Value date          17.03.2021

We have bought for your account
   1'000  Test Holding AG, registered shares
   ISIN CH0012032048
   at CHF 250.00

Transaction value ................................ CHF     250'000.00
Brokerage ........................................ CHF       1'250.00
Swiss federal stamp duty ......................... CHF         187.50
SIX exchange fee ................................. CHF          12.50
                                                        --------------
Debit value 17.03.2021 ........................... CHF     251'450.00

Rigi Privatbank AG, Zürich
"""


@pytest.mark.parametrize(
    ("document", "layout", "expected", "bond"),
    [
        (
            HALVORSEN,
            "halvorsen",
            {
                "trade_date": "2021-01-13", "settlement_date": "2021-01-15", "side": "BUY", "quantity": "250",
                "isin": "US0378331005", "cusip": "037833100", "security_name": "TEST COMPANY INC COM",
                "price": "12.34", "currency": "USD", "gross_amount": "3085.00", "commission": "5.00", "fees": "4.75",
                "net_amount": "3094.75", "account": "9ZZ-00001", "counterparty": "Halvorsen Brothers & Co. LLC",
                "trade_reference": "HB210113-00001",
            },
            False,
        ),
        (
            ALTMARK,
            "altmark",
            {
                "trade_date": "2021-03-15", "settlement_date": "2021-03-17", "side": "SELL", "quantity": "10000",
                "isin": "DE0001102473", "security_name": "1,000 % Testanleihe 2021/2031", "price": "99.5",
                "currency": "EUR", "gross_amount": "9950.00", "commission": "10.00", "fees": "3.50",
                "accrued_interest": "7.67", "net_amount": "9944.17", "account": "0046 0000 01",
                "counterparty": "Altmark Bankhaus AG", "trade_reference": "2021-0315-000001",
            },
            True,
        ),
        (
            THAMESGATE,
            "thamesgate",
            {
                "trade_date": "2021-01-04", "settlement_date": "2021-01-06", "side": "BUY", "quantity": "2000",
                "isin": "GB0002875804", "security_name": "Test Holdings plc Ord", "price": "3.5", "currency": "GBP",
                "gross_amount": "7000.00", "commission": "14.00", "fees": "35.00", "net_amount": "7049.00",
                "account": "TG-0000001", "counterparty": "Thamesgate Stockbrokers plc",
                "trade_reference": "TG/210104/00001",
            },
            False,
        ),
        (
            LACROIX,
            "lacroix",
            {
                "trade_date": "2021-03-15", "settlement_date": "2021-03-17", "side": "SELL", "quantity": "1200",
                "isin": "FR0000120271", "security_name": "TEST SOCIÉTÉ SA", "price": "50.5", "currency": "EUR",
                "gross_amount": "60600.00", "commission": "90.90", "fees": "2.10", "net_amount": "60507.00",
                "account": "00451-00000-01", "counterparty": "Lacroix Frères & Associés SA",
                "trade_reference": "LF/OP/2021/000001",
            },
            False,
        ),
        (
            SAKURA,
            "sakura",
            {
                "trade_date": "2021-03-15", "settlement_date": "2021-03-17", "side": "BUY", "quantity": "100",
                "isin": "JP3633400001", "security_name": "TEST MOTOR CORPORATION", "price": "7890.5",
                "currency": "JPY", "gross_amount": "789050", "commission": "1100", "fees": "110",
                "net_amount": "790260", "account": "102-000001", "counterparty": "Sakurabashi Securities Co., Ltd.",
                "trade_reference": "SB-20210315-000001",
            },
            False,
        ),
        (
            RIGI,
            "rigi",
            {
                "trade_date": "2021-03-15", "settlement_date": "2021-03-17", "side": "BUY", "quantity": "1000",
                "isin": "CH0012032048", "security_name": "Test Holding AG, registered shares", "price": "250",
                "currency": "CHF", "gross_amount": "250000.00", "commission": "1250.00", "fees": "200.00",
                "net_amount": "251450.00", "account": "1188-0000.001", "counterparty": "Rigi Privatbank AG",
                "trade_reference": "BA-2021-000001",
            },
            False,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 12 else "",
)  # fmt: skip
def test_each_corpus_house_template_on_a_hand_written_document(
    document: str, layout: str, expected: dict[str, str], bond: bool
) -> None:
    templates = load_builtin_templates()
    template = select_template(document, templates)
    assert template is not None and template.name == layout
    extraction = apply_template(template, [document])
    assert {one.name: one.value for one in extraction.fields} == expected
    assert extraction.warnings == ()
    assert extraction.bond is bond
    assert all(one.confidence == CONFIDENCE for one in extraction.fields)


def test_no_template_claims_a_document_of_another_house() -> None:
    templates = load_builtin_templates()
    for document in (HALVORSEN, ALTMARK, THAMESGATE, LACROIX, SAKURA, RIGI):
        assert len([one for one in templates if one.matches(document)]) == 1


def test_a_document_no_template_knows_goes_to_the_generic_reader() -> None:
    document = "Example Brokers Ltd\nTrade date: 2021-03-15\nSide: Buy\nQuantity: 100\n"
    extraction = extract_text_document([document], is_pdf=False, templates=load_builtin_templates())
    assert extraction.layout == "generic"
    assert extraction.value("side") == "BUY"


def test_amounts_are_written_to_their_currencys_minor_units() -> None:
    extraction = Extraction(
        "mt515",
        "swift-mt515",
        (
            Field("currency", "USD", 0.99, 0, ""),
            Field("gross_amount", "97800", 0.99, 0, ""),
            Field("fees", "490.5", 0.99, 0, ""),
            Field("net_amount", "98290.505", 0.99, 0, ""),
            Field("quantity", "4000", 0.99, 0, ""),
        ),
    )
    padded = to_minor_units(extraction)
    assert padded.value("gross_amount") == "97800.00"
    assert padded.value("fees") == "490.50"
    assert padded.value("net_amount") == "98290.505"  # more decimals than cents: left as printed
    assert padded.value("quantity") == "4000"
    yen = Extraction("fix44", "f", (Field("currency", "JPY", 0.99, 0, ""), Field("fees", "41", 0.99, 0, "")))
    assert to_minor_units(yen).value("fees") == "41"
