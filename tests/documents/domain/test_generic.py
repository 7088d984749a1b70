"""The generic reader on small documents written here by hand, one way of printing at a time:
label and value (colon, dotted leader, spacing, two columns side by side), stacked labels, column
tables (spaced, ruled, piped), narrative sentences from the client's and the broker's side, the
document's own number and date conventions, identifiers with their check digits, the sum of the
charges, and what must never be read (the client's own reference, an order number, a field the
document does not print)."""

from __future__ import annotations

import pytest

from services.documents.domain.fields import Extraction
from services.documents.domain.generic import label_fields, read_generic


def values(extraction: Extraction) -> dict[str, str]:
    return {one.name: one.value for one in extraction.fields}


def read(text: str) -> dict[str, str]:
    return values(read_generic([text]))


# ---------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Trade Date", "trade_date"),
        ("Date of trade", "trade_date"),
        ("Schlusstag", "trade_date"),
        ("Value date", "settlement_date"),
        ("Valuta", "settlement_date"),
        ("Contractual settlement date", "settlement_date"),
        ("Par value", "quantity"),
        ("Stück", "quantity"),
        ("Clean price", "price"),
        ("Kurswert", "gross_amount"),
        ("Gross consideration", "gross_amount"),
        ("Brokerage", "commission"),
        ("SEC fee", "fees"),
        ("Stamp duty reserve tax", "fees"),
        ("Börsengebühr", "fees"),
        ("VAT on settlement fee", "fees"),
        ("Accrued interest (92 days)", "accrued_interest"),
        ("Amount due", "net_amount"),
        ("Net settlement amount", "net_amount"),
        ("Account No.", "account"),
        ("Confirmation number", "trade_reference"),
        ("Our ref.", "trade_reference"),
        ("Trade ID", "trade_reference"),
        ("B/S", "side"),
        ("CCY", "currency"),
        ("Security description", "security_name"),
    ],
)
def test_a_label_names_its_field(label: str, field: str) -> None:
    assert field in {name for name, score in label_fields(label) if score >= 0.9}


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Your ref", "trade_reference"),
        ("Your reference", "trade_reference"),
        ("Order ref", "trade_reference"),
        ("Order no.", "trade_reference"),
        ("Client reference", "trade_reference"),
        ("Account type", "account"),
        ("Tax point", "fees"),
        ("Total charges", "net_amount"),
        ("Total charges", "fees"),
        ("Commission fee", "fees"),
        ("Interest days", "accrued_interest"),
        ("Security ID", "security_name"),
        ("Yield", "price"),
        ("Issue date", "security_name"),
    ],
)
def test_a_label_that_only_looks_like_a_field_is_not_it(label: str, field: str) -> None:
    assert field not in {name for name, _ in label_fields(label)}


# ---------------------------------------------------------------- label and value on one line

COLONS = """Pemberton Securities Ltd
Trade confirmation

Confirmation no.: PS-2020-0412
Your ref: CLIENT-99
Account: 7781-22
Trade date: 12/03/2020
Settlement date: 16/03/2020
Side: Sell
Security: Ridgeway Holdings plc ordinary shares
ISIN: GB0002875804
Quantity: 2,000
Price: GBP 3.4150
Consideration: GBP 6,830.00
Commission: GBP 17.08
PTM levy: GBP 1.00
Net amount: GBP 6,811.92
"""


def test_colon_pairs() -> None:
    assert read(COLONS) == {
        "trade_date": "2020-03-12",  # pounds: day first
        "settlement_date": "2020-03-16",
        "side": "SELL",
        "quantity": "2000",
        "isin": "GB0002875804",
        "security_name": "Ridgeway Holdings plc ordinary shares",
        "price": "3.415",
        "currency": "GBP",
        "gross_amount": "6830.00",
        "commission": "17.08",
        "fees": "1.00",
        "net_amount": "6811.92",
        "account": "7781-22",
        "counterparty": "Pemberton Securities Ltd",
        "trade_reference": "PS-2020-0412",  # not the client's own CLIENT-99
    }


LEADERS_SIDE_BY_SIDE = """WESTBURY & CO. LLC                                   CONFIRMATION
YOU BOUGHT
Trade Date ....... 03/05/2021          Settle Date ...... 03/09/2021
Account ........... 55-1234-9          Confirm No. ...... WB-778120
Quantity ......... 1,500               Price ............ 45.2500
Principal Amount . $67,875.00          Commission ....... $9.95
Reg Fee .......... $0.45               Handling Fee ..... $2.00
Net Amount ....... $67,887.40
Description: WIDGETWORKS INC COM
CUSIP ............ 037833100
Westbury & Co. LLC acted as agent.
"""


def test_dotted_leaders_in_two_columns_side_by_side() -> None:
    extraction = read_generic([LEADERS_SIDE_BY_SIDE])
    assert values(extraction) == {
        "trade_date": "2021-03-05",  # dollars, no day above 12: month first
        "settlement_date": "2021-03-09",
        "side": "BUY",
        "quantity": "1500",
        "cusip": "037833100",
        "security_name": "WIDGETWORKS INC COM",
        "price": "45.25",
        "currency": "USD",  # from the $ signs
        "gross_amount": "67875.00",  # principal amount = quantity x price, not the quantity
        "commission": "9.95",
        "fees": "2.45",
        "net_amount": "67887.40",
        "account": "55-1234-9",
        "counterparty": "Westbury & Co. LLC",  # the letterhead as printed in mixed case below
        "trade_reference": "WB-778120",
    }
    assert extraction.layout == "generic"
    assert extraction.bond is False
    assert extraction.warnings[0].startswith("no template matches this layout")
    assert all(0.6 <= one.confidence <= 0.85 for one in extraction.fields)


SPACED = """Kapellbrucke Bank AG
Our reference       KB-2021-00412
Portfolio           88-1102.3
Trade date          01.04.2021  10:14
Value date          06.04.2021
Brokerage           EUR      243.63
"""


def test_label_and_value_separated_by_spaces() -> None:
    found = read(SPACED)
    assert found["trade_reference"] == "KB-2021-00412"
    assert found["account"] == "88-1102.3"
    assert found["trade_date"] == "2021-04-01"
    assert found["settlement_date"] == "2021-04-06"
    assert found["commission"] == "243.63"
    assert found["currency"] == "EUR"


# ---------------------------------------------------------------- stacked labels and tables

STACKED = """Nordsee Invest AB
Trade notification

Order reference
ORD-55121
Trade date
2021-06-14
Settlement date
2021-06-16
Side
Buy
Instrument
Vestas Wind Systems A/S
ISIN
DK0061539921
Quantity
300
Price
171.45 EUR
Amount
51435.00 EUR
Brokerage
25.72 EUR
Charges and taxes
1.50 EUR
Total
51462.22 EUR
Account
9912-445
"""


def test_labels_stacked_above_their_values() -> None:
    assert read(STACKED) == {
        "trade_date": "2021-06-14",
        "settlement_date": "2021-06-16",
        "side": "BUY",
        "quantity": "300",
        "isin": "DK0061539921",
        "security_name": "Vestas Wind Systems A/S",
        "price": "171.45",
        "currency": "EUR",
        "gross_amount": "51435.00",
        "commission": "25.72",
        "fees": "1.50",
        "net_amount": "51462.22",
        "account": "9912-445",
        "counterparty": "Nordsee Invest AB",
        # no trade_reference: the only reference printed is the client's order reference
    }


SPACED_TABLE = """ACME SECURITIES INC.
CONFIRMATION

Trade Date   Settle Date   Side   Quantity   Symbol   Price    Principal
03/12/2020   03/16/2020    SELL   500        XYZ      45.25    22,625.00

Commission            9.95
SEC Fee               0.51
Net Amount       22,614.54
"""


def test_a_table_aligned_by_spaces_without_a_rule() -> None:
    found = read(SPACED_TABLE)
    assert {
        name: found.get(name) for name in ("trade_date", "settlement_date", "side", "quantity", "price")
    } == {
        "trade_date": "2020-03-12",
        "settlement_date": "2020-03-16",
        "side": "SELL",
        "quantity": "500",
        "price": "45.25",
    }
    assert found["gross_amount"] == "22625.00"
    assert found["fees"] == "0.51"
    assert found["net_amount"] == "22614.54"


RULED_TABLE = """Tokai Shoken Co., Ltd.
 Trade Date  Settle Date  B/S   Quantity  Unit Price     Amount
 ==========  ===========  ====  ========  ==========  =========
 2020/08/10  2020/08/12   SELL     4,000       650.5  2,602,000
 Commission  Consumption Tax (10%)  Net Settlement Amount
 ==========  =====================  =====================
      2,862                    286              2,598,852
Currency: JPY
"""


def test_a_table_ruled_under_its_header() -> None:
    found = read(RULED_TABLE)
    assert {name: found.get(name) for name in found if name not in ("counterparty",)} == {
        "trade_date": "2020-08-10",
        "settlement_date": "2020-08-12",
        "side": "SELL",
        "quantity": "4000",
        "price": "650.5",
        "currency": "JPY",
        "gross_amount": "2602000",
        "commission": "2862",
        "fees": "286",
        "net_amount": "2598852",
    }


PIPE_TABLE = """HARBOUR POINT CAPITAL LLP
We confirm that we sold to you, as principal, the following bond:

| Trade Date  | Settlement  | Nominal   | Security                  | Clean Price |
|-------------|-------------|-----------|---------------------------|-------------|
| 12 Mar 2020 | 16 Mar 2020 | 1,000,000 | ACME CORP 3.5% 15/06/2027 | 101.25      |

ISIN: US037833AK68
Principal:            1,012,500.00
Accrued interest:         8,750.00
Amount due from you:  1,021,250.00
Currency: USD
Deal ref: HPC-20200312-0042
"""


def test_a_piped_table_and_the_brokers_own_side() -> None:
    extraction = read_generic([PIPE_TABLE])
    found = values(extraction)
    assert found["side"] == "BUY"  # "we sold to you": the client bought
    assert found["trade_date"] == "2020-03-12"
    assert found["settlement_date"] == "2020-03-16"
    assert found["quantity"] == "1000000"
    assert found["security_name"] == "ACME CORP 3.5% 15/06/2027"
    assert found["price"] == "101.25"
    assert found["gross_amount"] == "1012500.00"
    assert found["accrued_interest"] == "8750.00"
    assert found["net_amount"] == "1021250.00"
    assert found["isin"] == "US037833AK68"
    assert found["trade_reference"] == "HPC-20200312-0042"
    assert extraction.bond is True  # nominal x price / 100 = principal


# ---------------------------------------------------------------- sentences

AGENT_LETTER = """Maison Duval & Cie SA
Paris, 20/09/2023
Our ref.: MD/2023/091411
Your account: 00451-30992-11

We hereby confirm that on 20/09/2023 we have sold for your account 500 shares of
COMPAGNIE LEVRIER SA (ISIN FR0000133084) on Euronext Paris at a price of 140,79 EUR per
share, for settlement on 22/09/2023.

The gross amount of the transaction is 70 395,00 EUR; our brokerage of 105,59 EUR and
market charges of 2,10 EUR are deducted from it.

The net proceeds of 70 287,31 EUR will be credited to your account for value 22/09/2023.
"""


def test_an_agents_letter_with_european_numbers() -> None:
    assert read(AGENT_LETTER) == {
        "trade_date": "2023-09-20",
        "settlement_date": "2023-09-22",
        "side": "SELL",
        "quantity": "500",
        "isin": "FR0000133084",
        "security_name": "COMPAGNIE LEVRIER SA",
        "price": "140.79",
        "currency": "EUR",
        "gross_amount": "70395.00",
        "commission": "105.59",
        "fees": "2.10",
        "net_amount": "70287.31",
        "account": "00451-30992-11",
        "counterparty": "Maison Duval & Cie SA",
        "trade_reference": "MD/2023/091411",
    }


PRINCIPAL_LETTER = """Maison Duval & Cie SA
Our ref.: MD/2022/007350

We confirm that on 06/10/2022 we have bought from you, as principal, a nominal amount of
1 000 000,00 EUR of BRUNELLI COSTRUZIONI SPA 4,000 % 01/07/2028 (ISIN XS1982773100) at a
clean price of 84,3637 %, for settlement on 10/10/2022.

The consideration amounts to 843 637,00 EUR, to which accrued interest of 11 068,49 EUR
for 101 days is added. Being a principal transaction at a net price, it bears no
brokerage.

The net proceeds of 854 705,49 EUR will be credited to your account.
"""


def test_a_principals_letter_bought_from_the_client_is_a_sale() -> None:
    extraction = read_generic([PRINCIPAL_LETTER])
    found = values(extraction)
    assert found["side"] == "SELL"
    assert found["quantity"] == "1000000"
    assert found["security_name"] == "BRUNELLI COSTRUZIONI SPA 4,000 % 01/07/2028"
    assert found["price"] == "84.3637"
    assert found["gross_amount"] == "843637.00"
    assert found["accrued_interest"] == "11068.49"
    assert found["net_amount"] == "854705.49"
    assert "commission" not in found and "fees" not in found  # "no brokerage" is no amount
    assert extraction.bond is True


@pytest.mark.parametrize(
    ("sentence", "side"),
    [
        ("WE SOLD TO YOU 100,000 FACE AMOUNT", "BUY"),
        ("We have bought from you the following securities", "SELL"),
        ("YOU SOLD 200 shares", "SELL"),
        ("We have purchased for your account 200 shares", "BUY"),
        ("We bought on your behalf 200 shares", "BUY"),
    ],
)
def test_the_side_is_the_clients_whoever_writes(sentence: str, side: str) -> None:
    assert read(f"Example Dealers LLC\n{sentence}\n")["side"] == side


def test_a_bare_side_label_in_a_dealers_ticket_is_the_dealers_side() -> None:
    document = "Example Dealers LLC\nWE BOUGHT FROM YOU\nSide: Buy\nTrade date: 2020-03-12\n"
    assert read(document)["side"] == "SELL"


def test_an_invoice_of_line_items_with_charges_in_parentheses() -> None:
    document = """Bellmont Markets Limited
Contract note no.: BM-449102
Trade date: Friday, 13 March 2020
Settlement date: Tuesday, 17 March 2020

Sale of 2,000 shares of Ridgeway Holdings plc (ISIN GB0002875804) at GBP 3.4150

  #  Description                     Quantity      Rate         Amount
  1  Ridgeway Holdings plc ord       2,000         3.4150       6,830.00
  2  Commission                                                (17.08)
  3  PTM levy                                                   (1.00)
  4  Settlement fee                                             (4.00)
  5  VAT on settlement fee at 20%                               (0.80)
                                            Net proceeds      6,807.12
"""
    found = read(document)
    assert found["trade_date"] == "2020-03-13"
    assert found["settlement_date"] == "2020-03-17"
    assert found["side"] == "SELL"  # the proceeds are the client's
    assert found["quantity"] == "2000"
    assert found["price"] == "3.415"  # not the 20 % of VAT
    assert found["gross_amount"] == "6830.00"
    assert found["commission"] == "17.08"
    assert found["fees"] == "5.80"
    assert found["net_amount"] == "6807.12"
    assert found["trade_reference"] == "BM-449102"


# ---------------------------------------------------------------- the document's conventions


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("Trade date: 04/05/2021\nPrice: USD 12.50", "2021-04-05"),  # dollars: month first
        ("Trade date: 04/05/2021\nPrice: EUR 12,50", "2021-05-04"),  # euros: day first
        ("Trade date: 04/05/2021\nSettlement date: 04/13/2021\nPrice: EUR 12,50", "2021-04-05"),  # 13 decides
        ("Trade date: 04.05.2021\nPrice: USD 12.50", "2021-05-04"),  # dots are day first
        ("Trade date: 12-MAR-2020", "2020-03-12"),
        ("Trade date: Mar 12, 2020", "2020-03-12"),
        ("Trade date: Thursday, 12 March 2020", "2020-03-12"),
        ("Trade date: 2020/03/12", "2020-03-12"),
    ],
)
def test_dates_read_in_the_documents_order(printed: str, expected: str) -> None:
    assert read(f"Example Brokers Ltd\n{printed}\n")["trade_date"] == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("EUR 1.234.567,89", "1234567.89"),
        ("1 234 567,89 EUR", "1234567.89"),
        ("CHF 1'234'567.89", "1234567.89"),
        ("$1,234,567.89", "1234567.89"),
        ("1234567.89 USD", "1234567.89"),
        ("JPY 1,234,567", "1234567"),
        ("(1,234.50)", "1234.50"),
    ],
)
def test_numbers_read_in_the_documents_style(amount: str, expected: str) -> None:
    assert read(f"Example Brokers Ltd\nNet amount: {amount}\n")["net_amount"] == expected


def test_a_european_quantity_with_a_grouping_point() -> None:
    found = read("Beispiel Bank AG\nStück: 2.500\nKurs: EUR 12,345\nKurswert: EUR 30.862,50\n")
    assert (found["quantity"], found["price"], found["gross_amount"]) == ("2500", "12.345", "30862.50")


def test_the_currency_labelled_else_the_code_printed_most_else_the_symbol() -> None:
    assert read("Example Ltd\nCurrency: CHF\nNet amount: EUR 10.00\n")["currency"] == "CHF"
    assert read("Example Ltd\nGross: GBP 10.00\nNet amount: GBP 9.00\nFX: USD\n")["currency"] == "GBP"
    assert read("Example Ltd\nNet amount: £9.00\n")["currency"] == "GBP"


def test_only_identifiers_with_valid_check_digits_count() -> None:
    found = read("Example Ltd\nISIN: US0378331006\nCUSIP: 037833101\nDescription: APPLE INC\n")
    assert "isin" not in found and "cusip" not in found
    found = read("Example Ltd\nISIN: US0378331005\nCUSIP: 037833100\n")
    assert (found["isin"], found["cusip"]) == ("US0378331005", "037833100")


def test_a_nine_digit_number_is_a_cusip_only_where_labelled() -> None:
    found = read("Example Ltd\nAccount: 102558731\n")  # passes the CUSIP check digit
    assert "cusip" not in found
    assert found["account"] == "102558731"


# ---------------------------------------------------------------- what is never read


def test_a_field_the_document_does_not_print_is_absent() -> None:
    found = read("Example Brokers Ltd\nTrade date: 2020-03-12\nQuantity: 100\nPrice: 10.00\n")
    assert "gross_amount" not in found  # 100 x 10.00 is not computed
    assert "net_amount" not in found and "settlement_date" not in found


def test_commission_and_totals_stay_out_of_the_fees() -> None:
    document = """Example Ltd
Commission: 10.00
Exchange fee: 1.00
Clearing fee: 0.50
Total charges: 11.50
Stamp duty: 2.00
Total: 1,013.50
"""
    found = read(document)
    assert found["fees"] == "3.50"
    assert found["commission"] == "10.00"
    assert found["net_amount"] == "1013.50"


def test_a_wrapped_sentence_does_not_make_a_stacked_label() -> None:
    document = """Example Ltd
The consideration amounts to 1 000,00 EUR. Being a principal trade, it bears no
brokerage.

The net proceeds of 1 000,00 EUR will be credited.
"""
    assert "commission" not in read(document)


def test_pdf_pages_are_numbered_from_one() -> None:
    extraction = read_generic(
        ["Example Ltd\nTrade date: 2020-03-12\n", "Net amount: USD 10.00\n"], is_pdf=True
    )
    assert {one.name: one.page for one in extraction.fields if one.name in ("trade_date", "net_amount")} == {
        "trade_date": 1,
        "net_amount": 2,
    }
    net = extraction.field("net_amount")
    assert net is not None and net.snippet == "Net amount: USD 10.00"


def test_a_label_and_its_figure_with_one_space_between() -> None:
    found = read(
        "Example Ltd\nCommission 12.50      Stamp duty 3.00\nNet amount USD 1,015.50\nQuantity 100\n"
    )
    assert (found["commission"], found["fees"], found["net_amount"], found["quantity"]) == (
        "12.50",
        "3.00",
        "1015.50",
        "100",
    )


def test_a_text_with_windows_line_ends_reads_the_same() -> None:
    assert read(COLONS.replace("\n", "\r\n")) == read(COLONS)


# ---------------------------------------------------------------- layouts added with the second pass


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Amount EUR", "gross_amount"),  # a currency code after the label is the amount's currency
        ("Net amount GBP", "net_amount"),
        ("Price USD", "price"),
    ],
)
def test_a_currency_code_after_a_label_does_not_hide_it(label: str, field: str) -> None:
    assert field in {name for name, score in label_fields(label) if score >= 0.9}


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Bill to account", "account"),  # the label's last word names the field
        ("Client trade reference", "trade_reference"),
        ("Invoice to account", "account"),
    ],
)
def test_a_label_that_ends_with_a_synonym_matches_weakly(label: str, field: str) -> None:
    assert (field, 0.6) in label_fields(label)


def test_a_label_that_ends_with_a_synonym_is_read_after_a_colon() -> None:
    found = read("Example Brokers Ltd\nInvoice to account: XB-0071-PF\nTrade date: 2020-03-12\n")
    assert found["account"] == "XB-0071-PF"


def test_an_excluded_label_stays_excluded_when_it_ends_with_a_synonym() -> None:
    assert "account" not in {name for name, _ in label_fields("Current account")}
    assert "account" not in {name for name, _ in label_fields("Cash account")}


DEALER_TICKET = """KESTON BOND DESK LLC                     CONFIRMATION
REF KB-771204   ACCT 4410-22-7   DESK 12   CCY USD

WE SOLD TO YOU          350,000 FACE
DESCRIPTION             ALDER MUNICIPAL UTILITY 3.125% DUE JUN 1, 2031
CUSIP 037833100         PRICE 98.455   YIELD 3.310 TO WORST
TRADE DATE Jun 4, 2021    SETTLE Jun 8, 2021

PRINCIPAL          344,592.50
ACCRUED INT          2,126.74
NET AMOUNT         346,719.24
"""


def test_labels_glued_to_their_values_in_a_dealers_ticket() -> None:
    extraction = read_generic([DEALER_TICKET])
    found = values(extraction)
    assert found["trade_reference"] == "KB-771204"  # "REF code" in one chunk
    assert found["account"] == "4410-22-7"  # not "DESK 12", the chunk after "ACCT 4410-22-7"
    assert found["price"] == "98.455"  # not the yield printed after it
    assert found["quantity"] == "350000"  # "350,000 FACE"
    assert found["side"] == "BUY"
    assert found["gross_amount"] == "344592.50"
    assert extraction.bond is True  # 350,000 x 98.455 / 100 = principal


def test_a_glued_pair_before_a_bare_value_is_left_to_the_label_reading() -> None:
    found = read("Example Ltd\nCommission (0.20%)      12.50\nPRICE 10.00      USD 5.00\n")
    assert found["commission"] == "12.50"  # the rate in parentheses belongs to the label


def test_shs_is_a_number_of_shares() -> None:
    assert read("Example Dealers LLC\nWE BOUGHT FROM YOU    1,250 SHS\n")["quantity"] == "1250"


LINE_ITEMS = """Bexley Harbour Markets Limited
Invoice 2209-BHM-41187
Account to bill: BH-3310-07
Trade date: 14 June 2022
Settlement date: 16 June 2022

 No  Description                          Quantity        Rate       Amount GBP
 --  -----------------------------------  --------  ----------  ---------------
 1   Sale GBP nominal                      120,000     97.125%       116,550.00
     Medway Utilities 2.750% 15/02/2028
     ISIN GB00B1VWPJ53
 2   Accrued interest, 119 days                         2.750%         1,078.91
 3   Commission                                          0.05%           (58.28)
                                                      Due to you     117,570.63
"""


def test_an_invoice_line_whose_quantity_times_rate_is_its_amount_is_the_trade() -> None:
    extraction = read_generic([LINE_ITEMS])
    found = values(extraction)
    assert found["quantity"] == "120000"
    assert found["price"] == "97.125"  # the rate of the line, in percent of par
    assert found["gross_amount"] == "116550.00"
    assert found["security_name"] == "Medway Utilities 2.750% 15/02/2028"  # under the "Sale" line
    assert found["side"] == "SELL"
    assert found["accrued_interest"] == "1078.91"
    assert found["commission"] == "58.28"
    assert found["account"] == "BH-3310-07"
    assert found["trade_reference"] == "2209-BHM-41187"  # the number after the title
    assert extraction.bond is True


def test_an_invoice_line_that_names_the_security_is_its_name() -> None:
    document = """Example Markets Ltd
 #  Description                  Quantity     Unit cost        Amount
 1  Ridgeway Holdings plc ord       2,000        3.4150      6,830.00
 2  Commission                                                 17.08
"""
    found = read(document)
    assert found["security_name"] == "Ridgeway Holdings plc ord"
    assert (found["quantity"], found["price"], found["gross_amount"]) == ("2000", "3.415", "6830.00")


def test_an_invoice_line_whose_figures_disagree_is_not_the_trade() -> None:
    document = """Example Markets Ltd
 #  Description                  Quantity          Rate        Amount
 1  Widgets                           100          2.00        999.00
"""
    found = read(document)
    assert "price" not in found  # 100 x 2.00 is not 999.00, and "Rate" alone is not a price label


def test_a_description_that_names_only_the_side_is_no_security() -> None:
    assert "security_name" not in read("Example Ltd\nDescription: Purchase EUR nominal\n")


def test_a_brand_in_the_letterhead_is_named_in_full_in_the_footer() -> None:
    document = """SKAGEN
Order confirmation

QUANTITY
100

Skagen Fondsmægler ASA, Oslo. Supervised by Finanstilsynet.
"""
    assert read(document)["counterparty"] == "Skagen Fondsmægler ASA"


def test_a_legal_name_that_does_not_start_with_the_brand_is_not_the_house() -> None:
    document = "SKAGEN\nOrder confirmation\n\nQuantity\n100\n\nInstrument\nNorsk Hydro ASA\n"
    assert "counterparty" not in read(document)


@pytest.mark.parametrize(
    ("heading", "reference"),
    [
        ("TRADE CONFIRMATION TC-2021-000412", "TC-2021-000412"),
        ("Contract note no. 88120", "88120"),
        ("*** CONFIRMATION 7741-A ***", "7741-A"),
    ],
)
def test_the_number_after_the_documents_title_is_the_trade_reference(heading: str, reference: str) -> None:
    assert read(f"Example Brokers Ltd\n{heading}\nTrade date: 2020-03-12\n")["trade_reference"] == reference


def test_a_date_after_the_title_is_no_reference() -> None:
    assert "trade_reference" not in read("Example Brokers Ltd\nTrade confirmation 12.03.2020\nQuantity: 10\n")


def test_a_sentence_that_starts_with_the_brand_and_ends_in_a_legal_form_is_no_name() -> None:
    document = "Trade notification\n\nQuantity\n100\n\nTrade executed by Pemberton Securities Ltd\n"
    assert read(document).get("counterparty") != "Trade executed by Pemberton Securities Ltd"


# ---------------------------------------------------------------- boxed forms, fills, letters by mail


def test_a_boxed_form_reads_labels_above_values_and_label_value_rows() -> None:
    # A form of boxed cells (each label over its value) and a boxed specification whose rows are a
    # label with a rate in it and the amount: 1 500 x 64,10 = 96 150,00; 96 150,00 + 48,08 + 35,00
    # = 96 233,08 (a purchase).
    text = """NORRFJORD BANK AB
CONTRACT NOTE - PURCHASE

+----------------------------+----------------------------+----------------------------+
| Contract note (avräkning)  | Trade date (affärsdag)     | Settl. date (likviddag)    |
| 2024-118842                | 05.03.2024                 | 07.03.2024                 |
+----------------------------+----------------------------+----------------------------+
| Client no.                 | Custody acct. (depå)       | Order no.                  |
| 5531907                    | 42 7710 208                | 99120044                   |
+----------------------------+----------------------------+----------------------------+
| Qty (antal)                | Price (kurs)               | Currency (valuta)          |
| 1 500                      | 64,10                      | SEK                        |
+----------------------------+----------------------------+----------------------------+

+-------------------------------------------------------+------------------------------+
| Market value (kursvärde)                              |                    96 150,00 |
| Brokerage (courtage) 0,05 %, min. SEK 39              |                        48,08 |
| Settlement fee (avvecklingsavgift)                    |                        35,00 |
+-------------------------------------------------------+------------------------------+
| Amount payable (att betala)                           |                    96 233,08 |
+-------------------------------------------------------+------------------------------+
"""
    got = read(text)
    assert got["trade_reference"] == "2024-118842"
    assert got["trade_date"] == "2024-03-05"
    assert got["settlement_date"] == "2024-03-07"
    assert got["account"] == "42 7710 208"
    assert (got["quantity"], got["price"], got["currency"]) == ("1500", "64.1", "SEK")
    assert (got["gross_amount"], got["commission"], got["fees"]) == ("96150.00", "48.08", "35.00")
    assert got["net_amount"] == "96233.08"


def test_a_table_of_fills_is_read_at_its_total_row_and_its_headings_are_not_values() -> None:
    # Two fills, 3,000 and 1,500 at 42.500 and 42.800: 127,500.00 + 64,200.00 = 191,700.00 for
    # 4,500 shares at 42.6000 on average; 191,700.00 + 479.25 + 191.70 = 192,370.95.
    text = """KOWLOON BAY SECURITIES LIMITED
CONTRACT NOTE

A/C No.  : 71-220931-4            Contract No. : K240305-0311
Trade Date : 05-Mar-24            Settle Date  : 07-Mar-24

We have this day BOUGHT for your account as your agent:

---------------------------------------------------------------------------------
Stock  Stock Name        Order No.   Quantity       Price        Amount (HKD)
---------------------------------------------------------------------------------
00388  TAI HANG POWER    7712003        3,000      42.500          127,500.00
                         7712003        1,500      42.800           64,200.00
                                     --------                 ---------------
       Total / Average Price            4,500     42.6000          191,700.00
---------------------------------------------------------------------------------
                               Consideration                      191,700.00
                               Brokerage                              479.25
                               Stamp Duty                             191.70
                               Amount Payable by You (HKD)        192,370.95
"""
    got = read(text)
    assert (got["quantity"], got["price"], got["gross_amount"]) == ("4500", "42.6", "191700.00")
    assert got["security_name"] == "TAI HANG POWER"
    assert got["net_amount"] == "192370.95"
    assert got["trade_date"] == "2024-03-05"


def test_a_label_with_words_in_parentheses_glued_to_its_figure() -> None:
    # One space only between the label's parentheses and the price.
    got = read(
        "Security      BTP 3,10% 01/03/2030\nPrice (clean, % of nominal) 99,450\nNominal value 500.000\n"
    )
    assert got["price"] == "99.45"


def test_dates_in_a_dollar_that_is_not_the_us_dollar_read_day_first() -> None:
    # Australian dollars print "$" too; 02/09/2020 is the 2nd of September there.
    text = "CONSIDERATION (AUD):   $9,495.00\nDATE:   02/09/2020\nSETTLEMENT DATE:   04/09/2020\n"
    got = read(text)
    assert (got["trade_date"], got["settlement_date"]) == ("2020-09-02", "2020-09-04")


def test_a_confirmation_sent_by_mail_names_its_house_below_the_mail_headers() -> None:
    text = """From:     Confirms <confirms@harbourline.example>
Sent:     Monday, March 4, 2024 6:02 PM
To:       ops@client.example
Subject:  Trade Confirmation

Harbourline Capital Markets LLC
Execution note (trade advice) No. 2024/0091823
Quantity    100
"""
    got = read(text)
    assert got["counterparty"] == "Harbourline Capital Markets LLC"
    assert got["trade_reference"] == "2024/0091823"


def test_headings_wrapped_over_two_lines_a_sub_total_and_a_gross_printed_apart() -> None:
    # Two fills, 400 + 100 = 500 shares at 80.10; the gross 500 x 80.10 = 40,050.00 is printed
    # only in the obligation below the table ("Pay in obligation"), never beside its label.
    text = """CONTRACT NOTE No. : KC/2024/000881
Trade Date : 05-03-2024            Settlement Date : 06-03-2024

Trade No.   Security                      B/S   Quantity   Gross Rate /    Net Total (Before
                                                            Trade Price    Levies) (Rs.)
------------------------------------------------------------------------------------------
5512001     KAVERI TEXTILES LTD           S          400      80.1000         32,000.00
5512002                                   S          100      80.1000          8,000.00
            Sub Total                                500      80.1000         40,000.00
------------------------------------------------------------------------------------------

Pay in / Pay out obligation                          40,050.00
Brokerage                                                50.00
Stamp duty                                                1.20
Net amount receivable by client                      39,998.80
"""
    got = read(text)
    assert (got["side"], got["quantity"], got["price"]) == ("SELL", "500", "80.1")
    assert got["gross_amount"] == "40050.00"
    assert got["security_name"] == "KAVERI TEXTILES LTD"
    assert got["currency"] == "INR"  # "(Rs.)": rupees, though no ISO code is printed
    assert got["fees"] == "1.20"  # the net total before levies is not a levy


def test_a_spanish_settlement_note_read_from_its_grid_of_headings() -> None:
    # 1.500 acciones a 12,340 = 18.510,00; 18.510,00 + 9,26 + 1,10 = 18.520,36 (una compra).
    text = """BANCO DEL EBRO, S.A.                                  NOTA DE LIQUIDACIÓN
TIPO DE OPERACIÓN   FECHA CONTRATACIÓN    FECHA LIQUIDACIÓN     Nº DE OPERACIÓN
COMPRA              04/03/2024            06/03/2024            RV-2024-0001187

VALOR                                             ISIN
EBRO ALIMENTACIÓN, S.A.                           ES0112501012

Nº TÍTULOS          CAMBIO (EUR)          CUENTA DE VALORES
1.500               12,340                0099 0001 22 4400017

Efectivo                                     18.510,00
Comisión de intermediación                        9,26
Canon de Bolsa                                    1,10
Líquido a su cargo                           18.520,36
"""
    got = read(text)
    assert (got["side"], got["trade_date"], got["settlement_date"]) == ("BUY", "2024-03-04", "2024-03-06")
    assert (got["quantity"], got["price"], got["gross_amount"]) == ("1500", "12.34", "18510.00")
    assert (got["commission"], got["fees"], got["net_amount"]) == ("9.26", "1.10", "18520.36")
    assert got["trade_reference"] == "RV-2024-0001187"
    assert got["account"] == "0099 0001 22 4400017"
    assert got["security_name"] == "EBRO ALIMENTACIÓN, S.A."


def test_a_row_whose_figures_multiply_is_the_trade_and_numbers_of_registration_are_not_fees() -> None:
    # 250 x 118.40 = 29,600.00, under headings run together with single spaces.
    text = """KAROO SECURITIES                                    CONTRACT NOTE
Karoo Securities (Pty) Ltd   VAT No. 4410099921
Dealer   PvdM

Share code  Instrument            Quantity Price (R) Consideration (R)
KRM         Karoo Mining Limited       250    118.40         29 600.00
Brokerage                                                       88.80
Settlement fee                                                  12.00
"""
    got = read(text)
    assert (got["quantity"], got["price"], got["gross_amount"]) == ("250", "118.4", "29600.00")
    assert got["currency"] == "ZAR"
    assert got["counterparty"] == "Karoo Securities (Pty) Ltd"
    assert got["fees"] == "12.00"
