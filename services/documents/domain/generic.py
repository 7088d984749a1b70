"""The fallback reader for a confirmation no template knows: fields found by wording and position.

A broker's confirmation states the same facts whatever its house style, and prints them in a
handful of ways. The reader looks for each of them:
- label and value on one line: "Label: value", "Label ..... value" (dotted leaders, or a lone
  " . "), "Label    value" (two or more spaces); several pairs side by side on one line (two
  key/value columns), a pair ending where the next label starts;
- a label alone on its line with its value on the next (stacked), and column tables: a header row
  of labels and a value row under it, ruled with | or aligned by spaces (a ---- or ==== rule under
  the header gives the columns);
- narrative sentences: "we have purchased/sold for your account 2,500 shares of X at P", "you
  bought", the broker's own side ("we sold to you" is the client's purchase, "we bought from you"
  its sale), "a nominal amount of EUR 1,000,000 of X", "at a clean price of 98.765 %", "the
  consideration amounts to", "accrued interest of", "the net proceeds of", "for settlement on";
- a label and its value in one chunk with a single space: a figure ("PRICE 87.223", read also
  when another such pair follows it: "PRICE 87.223   YIELD 4.830"), or an account or reference
  that is one code with a digit ("REF CFI5625806   ACCT 77-30918-2"); such a chunk is then not a
  label for the chunk after it, unless that chunk is a bare figure ("VAT at 20%   0.80");
- an invoice's line items: under a header with a quantity, a rate (or price) and an amount
  column, the row whose quantity x rate is its amount (/ 100 for a rate in percent of par) is the
  trade; when its description names only the side ("Purchase", "Sale EUR nominal") the security
  is the description on the lines under it, up to an identifier line (ISIN ..., CUSIP ...);
- patterns: ISINs anywhere, a CUSIP where the word CUSIP labels it (a nine-digit account number
  passes the CUSIP check digit one time in ten), each only with a valid check digit
  (python-stdnum); the house's name in the letterhead (as printed elsewhere in mixed case when
  it is), or, when the letterhead prints only a brand ("NORDVIK"), the legal name that starts
  with the brand elsewhere ("Nordvik Securities AB, Stockholm."); the number printed after the
  document's title ("CONTRACT NOTE / INVOICE AGM-CN-2291648", "Confirmation no. 88120") as the
  trade reference; a number followed by "shs" or a bare "FACE" as the quantity.
Labels are matched against a table of synonyms per canonical field (SYNONYMS: a currency code
after the label is dropped, "Amount EUR", and a label that ends with a synonym matches weakly,
"Bill to account"; EXCLUDED holds the labels that look alike but are not the field: "your ref"
and "order no." are not the trade reference, "account type" is not an account, "tax point" is a
date and not a tax), and a value counts only when it reads as the field's type (a date, an
amount, a side, ...; a security name is never only a side word, "Purchase").

The document's own conventions decide how numbers and dates read: a decimal comma when its amounts
end in ",dd" (1.234,56; 1 234,56; 98,765 %), a point otherwise (1'234.56 is Swiss); day first when
a date has dots or a day above 12, month first when a month above 12 shows it, else month first
only for a document in dollars. The currency is the one labelled, else the ISO code printed most
often (a symbol when there is none). A bond is recognised by its wording (coupon, maturity,
nominal, face or par amount, accrued interest, clean price, a price in percent) or by its
arithmetic (quantity x price / 100 = gross).

Fees are the sum of every charge and tax that is not commission and not a total. Where several
values are found for one field, the surer finding wins, and arithmetic may choose between
candidates (which of two numbers is the gross: the one equal to quantity x price), but nothing is
ever computed: a field the document does not print is absent. Amounts are read without their
sign (a charge in parentheses is still a charge), and the side is the client's.

Confidence: 0.85 for a labelled value (colon or leader) and for an invoice line whose figures
agree, 0.8 for a value found by spacing or in a table, 0.75 for a stacked one or one glued to its
label, 0.7 for a sentence, 0.6 to 0.7 for the letterhead (0.6 for a brand's name found below it),
the number after the title, the side implied by the direction of the money and a counted
currency.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import combinations

from stdnum import cusip as cusip_number
from stdnum import isin as isin_number

from services.documents.domain.fields import Extraction, Field
from services.documents.domain.normalise import (
    DateOrder,
    DecimalStyle,
    Perspective,
    date_text,
    decimal_text,
    side_text,
)
from services.documents.domain.templates import (
    Cell,
    column_values,
    decimal_places,
    field_kind,
    is_pipe_row,
    is_rule,
    pipe_cells,
    space_cells,
)

LAYOUT = "generic"
LABELLED = 0.85
SPACED = 0.8
TABLE = 0.8
STACKED = 0.75
NARRATIVE = 0.7
TITLE = 0.65
LETTERHEAD = 0.65
DIRECTION = 0.6

# Synonyms per field, as lower-case words. A trailing "$" means the label must be exactly that
# (a bare "amount" or "net" is a label only on its own). A label matches a synonym it equals (1.0)
# or starts with (0.9); one that merely contains a synonym of two words or more matches at 0.6.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "trade_date": (
        "trade date", "transaction date", "dealing date", "deal date", "execution date", "date of trade",
        "trade day", "bargain date", "contract date", "date of transaction", "date of execution",
        "handelstag", "schlusstag", "handelsdatum", "abschlusstag", "date d opération",
        "date de négociation", "date d exécution", "trading date", "traded on", "executed on",
        "trade dt", "date$",
        "fecha contratación", "fecha de contratación", "fecha de operación", "fecha operación", "fecha de ejecución", "data operazione", "data esecuzione", "data di esecuzione", "data de negociação", "data do pregão", "data da operação", "transactiedatum", "handelsdag", "data transakcji",
    ),
    "settlement_date": (
        "settlement date", "settle date", "settlement", "value date", "valuta", "valutadatum",
        "contractual settlement date", "contractual settlement", "settlement day", "payment date",
        "delivery date", "date de règlement", "date de valeur", "settles", "sett date", "stl date",
        "settl date", "settles on", "settlement on", "value$", "settle",
        "fecha liquidación", "fecha de liquidación", "fecha valor", "data valuta", "data regolamento", "data di regolamento", "data de liquidação", "data liquidação", "afwikkelingsdatum", "valutadag", "data rozliczenia",
    ),
    "side": (
        "side", "b/s", "buy/sell", "buy / sell", "bought/sold", "transaction type", "trade type",
        "transaction$", "direction", "type$", "sens", "geschäftsart", "order side", "action$",
        "tipo de operación", "operación$", "tipo operazione", "segno$", "operação$", "tipo de operação", "c/v", "compra/venta", "compra/venda", "soort transactie",
    ),
    "quantity": (
        "quantity", "qty", "shares", "units", "nominal", "nominal amount", "nominal value",
        "face amount", "face value", "principal amount", "par value", "par amount", "stück",
        "stueck", "anzahl", "nennwert", "quantité", "number of shares", "no of shares", "volume$",
        "original face", "amount nominal", "quantity/nominal", "nominal/quantity",
        "cantidad", "títulos", "número de títulos", "nº de títulos", "quantità", "quantidade", "aantal", "valor nominal", "nominale", "face value", "ilość", "nº títulos", "n títulos", "nº de títulos",
    ),
    "price": (
        "price", "execution price", "deal price", "avg price", "average price", "trade price",
        "clean price", "unit price", "price per share", "kurs", "ausführungskurs", "cours", "prix",
        "net price", "executed price", "avg px", "px$", "dealing price", "traded price",
        "precio", "precio ex cupón", "precio medio", "cambio$", "prezzo", "prezzo medio", "preço", "preço médio", "koers", "cena",
    ),
    "gross_amount": (
        "gross amount", "consideration", "principal", "principal amount", "gross consideration",
        "gross$", "kurswert", "market value", "transaction value", "trade amount", "gross value",
        "gross proceeds", "montant brut", "amount$", "trade value", "gross trade amount",
        "value of securities", "contract value", "consideration amount", "countervalue", "counter value",
        "gross countervalue", "cash value", "transaction amount", "principal value", "trade consideration",
        "efectivo", "importe efectivo", "efectivo bruto", "importe bruto", "controvalore", "valor bruto", "valor da operação", "valor das operações", "brutobedrag", "transactiebedrag", "wartość",
    ),
    "commission": (
        "commission", "commissions", "brokerage", "brokerage fee", "courtage", "provision",
        "agent commission", "broker commission", "commission fee", "comm$",
        "comisión", "comision", "comisión de intermediación", "comisiones", "commissione", "commissioni", "corretagem", "provisie", "prowizja", "taxable value of supply",
    ),
    "fees": (),  # by the words in FEE_WORDS
    "accrued_interest": (
        "accrued interest", "accrued", "accrued int", "interest$", "stückzinsen", "stückzins",
        "coupon couru", "intérêts courus", "accrued coupon", "accrued interest amount",
        "cupón corrido", "intereses corridos", "rateo", "rateo interessi", "rateo cedola", "juros", "juros corridos", "opgelopen rente",
    ),
    "net_amount": (
        "net amount", "net consideration", "total", "amount due", "settlement amount", "net proceeds",
        "net settlement amount", "net value", "net money", "total amount", "total due", "amount payable",
        "amount to your debit", "amount to your credit", "debit value", "credit value",
        "ausmachender betrag", "montant net", "net total", "grand total", "total payable", "total cost",
        "net cash", "net$", "net settlement", "total to pay", "total due from you", "total due to you",
        "net amount due", "amount debited", "amount credited", "net amount payable", "total to settle",
        "amount receivable", "net amount receivable", "total receivable", "settlement total",
        "líquido", "importe líquido", "líquido a su favor", "líquido a su cargo", "total líquido", "netto", "importo netto", "netto da regolare", "valor líquido", "líquido para operações", "nettobedrag", "te betalen", "te ontvangen", "net amount receivable", "net amount payable",
    ),
    "account": (
        "account", "account no", "account number", "acct", "a/c", "securities account", "client account",
        "your account", "portfolio", "depot", "depotnummer", "custody account", "compte", "account id",
        "account nr", "acct no", "depot no", "portfolio no", "client id", "dossier", "securities dossier",
        "custody acct", "safekeeping account", "depository account", "securities acct", "trading account",
        "cuenta de valores", "cuenta valores", "cuenta$", "conto titoli", "dossier titoli", "conta$", "conta de custódia", "rekening", "effectenrekening", "rachunek", "client code", "client code ucc", "ucc",
    ),
    "counterparty": (
        "counterparty", "executing broker", "broker$", "dealer$", "executed by", "contra party",
        "contra", "gegenpartei", "contrepartie", "executing firm",
    ),
    "trade_reference": (
        "contract ref", "contract reference", "contract no", "contract number", "confirmation number",
        "confirmation no", "confirmation id", "confirmation ref", "confirmation reference", "confirm no",
        "confirm number", "confirm id", "reference$", "ref$", "ref no", "our ref", "our reference",
        "trade id", "trade ref", "trade reference", "trade no", "trade number", "ticket", "ticket no",
        "ticket number", "deal ref", "deal reference", "deal no", "deal number", "transaction ref",
        "transaction reference", "transaction no", "transaction id", "transaction number", "report no",
        "note no", "advice no", "contract note no", "execution id", "exec id", "confirmation$",
        "trade confirmation no", "reference no", "reference number", "booking ref", "booking no",
        "referenz", "abrechnungsnummer", "référence", "notre référence", "contract note no",
        "contract note$", "execution note no", "execution note$", "trade note no", "confirmation code",
        "nº de operación", "n de operación", "número de operación", "referencia$", "riferimento", "numero operazione", "n operazione", "referência", "número da nota", "nota nº", "nr nota", "transactienummer", "numer transakcji",
    ),
    "currency": (
        "currency", "ccy", "settlement currency", "trade currency", "währung", "devise", "price currency",
        "curr$",
        "divisa", "moneda", "moeda", "valuta del titolo", "waluta",
    ),
    "security_name": (
        "security", "description", "security description", "stock", "issue$", "instrument", "security name",
        "securities$", "wertpapier", "wertpapierbezeichnung", "titre", "designation", "bond$",
        "name of security", "instrument name", "product", "issue name", "stock name", "bezeichnung",
        "company$", "company name",
        "valor$", "título$", "emisión$", "descripción", "titolo$", "denominazione", "ativo$", "especificação do título", "fondsnaam", "instrumentnaam", "papier wartościowy",
    ),
    "isin": ("isin", "isin code", "isin no"),
    "cusip": ("cusip", "cusip no", "cusip number"),
}  # fmt: skip

# Labels that contain a synonym and are still not the field.
EXCLUDED: dict[str, tuple[str, ...]] = {
    "trade_date": ("settlement", "value", "issue", "report", "print", "maturity"),
    "settlement_date": (
        "fee", "fees", "amount", "currency", "instruction", "instructions", "note", "account", "location",
        "charge", "charges", "net", "total", "mode", "type", "status", "ref", "reference", "no", "via",
    ),
    "side": ("account type", "price type", "order type", "security type", "id type", "capacity"),
    "quantity": ("price", "amount due", "consideration", "open", "remaining", "outstanding"),
    "price": ("yield", "type", "currency", "amount", "consideration", "value"),
    "gross_amount": ("net", "total", "due", "payable", "interest", "fee", "commission", "tax"),
    "commission": ("rate", "currency", "total", "per unit", "per share"),
    "accrued_interest": ("interest days", "interest rate", "rate", "period"),
    "net_amount": (
        "total charges", "total fees", "total commission", "total commissions", "total tax",
        "total taxes", "total quantity", "subtotal", "total costs and charges", "total charges and taxes",
        "net price", "total fees and charges", "average", "total shares", "total costs", "total cost of",
        "net rate", "net total before",
    ),
    "account": (
        "account type", "account name", "current account", "account executive", "account manager",
        "account officer", "account currency", "cash account", "account holder", "account title",
        "your account manager", "booked",
    ),
    "counterparty": ("broker code", "broker fee", "dealer fee", "broker commission"),
    "trade_reference": (
        "your ref", "your reference", "order", "client ref", "client reference", "customer ref",
        "customer reference", "related", "isin", "reference rate", "reference price", "your order",
        "order ref", "order no", "orig", "original", "external",
    ),
    "currency": ("amount", "rate"),
    "security_name": (
        "security id", "security code", "security type", "securities account", "issue date", "issue price",
        "stock exchange", "instrument id", "instrument type", "product type", "issuer", "security no",
        "description of charges", "description of service", "of service", "services",
    ),
    "fees": (),
    "isin": (),
    "cusip": (),
}  # fmt: skip

# A label holding one of these words is a charge (fees), unless it holds a FEE_EXCLUDED word.
FEE_WORDS = frozenset(
    {
        "fee", "fees", "levy", "levies", "stamp", "tax", "taxes", "duty", "charge", "charges", "vat",
        "ftt", "sdrt", "taf", "spesen", "gebühr", "gebühren", "frais", "taxe", "impôt", "stempel",
        "stempelsteuer", "umsatzabgabe", "costs", "surcharge", "gst", "expenses", "expense", "cgst", "sgst",
        "igst", "canon", "cánones", "cánon", "gastos", "impuesto", "tasa", "tasas", "spese", "imposta",
        "commissioni di negoziazione", "taxa", "taxas", "emolumentos", "kosten", "belasting", "opłata",
    }
)  # fmt: skip
FEE_EXCLUDED = (
    "commission", "commissions", "brokerage", "courtage", "total", "tax point", "tax id", "tax lot",
    "taxable", "accrued", "net", "gross", "incl", "including", "excl", "tax year", "tax reference",
    "tax status", "tax residence", "withholding", "subtotal", "fee schedule", "free", "amount due",
    "amount to your", "due from you", "due to you", "payable", "no", "number", "nr", "registration",
    "registered", "id", "gstin", "income tax", "vat reg", "invoice", "act",
)  # fmt: skip

CURRENCIES = frozenset(
    {
        "USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "HKD", "SGD",
        "CNY", "CNH", "KRW", "INR", "ZAR", "BRL", "MXN", "PLN", "CZK", "HUF", "TRY", "ILS", "TWD",
        "THB", "ISK", "RUB", "SAR", "AED",
    }
)  # fmt: skip
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
# Currencies printed with letters before the figure, where no ISO code is printed: rupees ("Rs.
# 1,23,456.00", "(Rs.)" over a column) and rand ("R 299.73", "Price (R)").
_LETTER_SYMBOLS = (
    ("INR", re.compile(r"(?<![\w.])Rs\.?(?=\s?\d|\))")),
    ("ZAR", re.compile(r"(?<![\w.])R(?=\s?\d|\))")),
)
_LEGAL = (
    r"(?:LLC|L\.L\.C\.|Ltd\.?|Limited|plc|PLC|AG|SA|S\.A\.|SE|GmbH|Inc\.?|Incorporated|N\.V\.|NV|B\.V\.|"
    r"AB|ASA|A/S|LLP|L\.P\.|LP|S\.p\.A\.|SpA|K\.K\.|KK|Oyj|SAS|S\.A\.S\.|Corp\.?|Corporation|Pty|"
    r"Co\.,\s*Ltd\.?|Bank|Bankhaus|Privatbank)"
)
_HOUSE_WORDS = re.compile(
    r"\b(?:securities|brokers?|brokerage|bank|bankhaus|privatbank|capital|markets|partners|financial|"
    r"investments?|trading|stockbrokers?|& co\.?|fixed income|asset management|wealth)\b",
    re.IGNORECASE,
)
_LEGAL_AT_END = re.compile(rf"^(.*\b{_LEGAL})(?=$|[\s,.;:·|])", re.IGNORECASE)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?\.?,?\s+"
DATE = (
    rf"(?<![\w.,/-])(?:{_WEEKDAY})?(?:\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|\d{{1,2}}[-/.]\d{{1,2}}[-/.](?:\d{{4}}|\d{{2}})"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[\s-]+{_MONTH}[\s-]+\d{{4}}|\d{{1,2}}-{_MONTH}-\d{{2}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})(?![\w/-]|\.\d)"
)
_DATE = re.compile(DATE, re.IGNORECASE)
_WEEKDAY_PREFIX = re.compile(_WEEKDAY, re.IGNORECASE)
# A number as printed: grouped by spaces (1 234 567,89), else digits with separators; bounded, so
# that a long run of digits costs linear time.
NUMBER = r"(?:\d{1,3}(?:[ \u00a0\u202f]\d{3}){1,6}(?:[.,]\d{1,9})?(?![\d.,])|\d[\d.,'\u2019]{0,24}\d|\d)"
_AMOUNT = re.compile(
    rf"(?P<neg>\(|-|\u2212)?\s?(?:(?P<ccy>[A-Z]{{3}})\s?|(?P<sym>[$€£¥])\s?)?(?P<num>{NUMBER})\)?"
    rf"(?P<after>\s*(?:%|[A-Z]{{3}}\b|days?\b|shares\b|nominal\b))?",
)
_ISIN = re.compile(r"\b([A-Z]{2}[A-Z0-9]{9}[0-9])\b")
_CUSIP = re.compile(r"\b([0-9]{3}[0-9A-Z]{5}[0-9])\b")
_SEPARATOR = re.compile(r"\s*:(?=\s|$)\s*|\s*\.{2,}\s*|\s\.\s|\s{2,}|\s[·|]\s")
_CCY = r"(?:[A-Z]{3}\s?|[$€£¥]\s?)"
_GLUED = re.compile(
    r"^(?P<label>[^\W\d_][^\d$€£¥(]*?)\s+(?P<value>[-(\u2212]?(?:[A-Z]{3}\s?|[$€£¥]\s?)?\d[\d.,'\s%]*\)?)$"
)
# A label and a code with one space between ("REF CFI5625806", "ACCT 77-30918-2"): the code is one
# token with a digit in it.
_GLUED_CODE = re.compile(
    r"^(?P<label>[^\W\d_][^\d$€£¥(]*?)\s+(?P<value>[A-Z0-9][A-Z0-9/_.-]*\d[A-Z0-9/_.-]*)$"
)
# Column headers that are the unit price in an invoice of line items (quantity x rate = amount).
_RATE_HEADERS = frozenset({"rate", "unit rate", "unit cost", "cost per unit", "each", "rate per unit"})
# A line that gives the security's identifiers, not its name.
_IDENTIFIER_LINE = re.compile(r"^\s*(?:ISIN|CUSIP|SEDOL|WKN|Valor|Ticker|Symbol|RIC)\b", re.IGNORECASE)
# A document's title and its number: "CONTRACT NOTE / INVOICE AGM-CN-2291648".
_TITLE_REFERENCE = re.compile(
    r"^(?:[*#=\s]*)(?:trade\s+|transaction\s+|deal\s+)?(?:confirmation|contract\s+note|invoice|advice|"
    r"settlement\s+note|execution\s+note|trade\s+note|dealing\s+note)(?:\s*/\s*[A-Za-z]+)?(?:\s*\([^)]*\))?"
    r"\s+(?:no\.?\s*|number\s+|#\s*)?"
    r"(?P<ref>[A-Z0-9][A-Z0-9/_.-]*\d[A-Z0-9/_.-]*)[*#=\s]*$",
    re.IGNORECASE,
)
# An e-mail's header lines, above the letterhead of a confirmation sent by mail.
_EMAIL_HEADER = re.compile(
    r"^\s*(?:from|sent|to|cc|bcc|subject|date|reply-to|attachments?)\s*:", re.IGNORECASE
)
# The row of a table of fills that adds them up: "Total / Average Price   6,800   119.6000".
_TOTAL_ROW = re.compile(r"^\W*(?:total|average|avg|aggregate|sub[- ]?total)\b", re.IGNORECASE)
# A chunk that starts with a figure is a value, not a label or a pair.
_VALUE_START = re.compile(r"^[-(\u2212]?(?:[A-Z]{3}\s?|[$€£¥]\s?)?\d")


# ---------------------------------------------------------------- candidates


@dataclass(frozen=True)
class Candidate:
    """One reading of a field: its canonical value, how sure, where (page 0-based, line, column)
    and the printed line."""

    name: str
    value: str
    confidence: float
    page: int
    line: int
    column: int
    snippet: str


@dataclass(frozen=True)
class _Line:
    page: int
    index: int
    text: str


@dataclass(frozen=True)
class _Chunk:
    text: str
    start: int
    separator: str  # what follows it: "colon", "leader", "space" or "" at the end of the line


def _words(label: str) -> tuple[str, ...]:
    text = re.sub(r"\([^)]*\)", " ", label).casefold().replace("'", " ").replace("’", " ")
    return tuple(re.findall(r"[^\W_]+(?:/[^\W_]+)*", text))


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(words[at : at + size] == phrase for at in range(len(words) - size + 1))


_SYNONYM_WORDS = {
    name: tuple((tuple(_words(one.rstrip("$"))), one.endswith("$")) for one in synonyms)
    for name, synonyms in SYNONYMS.items()
}
_EXCLUDED_WORDS = {name: tuple(_words(one) for one in phrases) for name, phrases in EXCLUDED.items()}
_FEE_ENDINGS = ("gebühr", "gebühren", "steuer", "abgabe", "spesen")
_FEE_EXCLUDED_WORDS = tuple(_words(one) for one in FEE_EXCLUDED)


_CURRENCY_WORDS = frozenset(code.casefold() for code in CURRENCIES)
_COMMISSION_ENDINGS = frozenset({"commission", "commissions", "brokerage", "courtage"})


@lru_cache(maxsize=8192)
def label_fields(label: str) -> tuple[tuple[str, float], ...]:
    """The fields a printed label may name, each with how well it matches (see SYNONYMS)."""
    words = _words(label)
    if len(words) > 1 and words[-1] in _CURRENCY_WORDS:
        words = words[:-1]  # "Amount EUR" is the amount, in euros
    if not words or len(words) > 9 or not any(ch.isalpha() for ch in label):
        return ()
    found: list[tuple[str, float]] = []
    before = re.search(r"\bbefore\b", label, re.IGNORECASE) is not None  # "Net Total (Before Levies)"
    for name, synonyms in _SYNONYM_WORDS.items():
        if before and name == "net_amount":
            continue
        if any(_contains(words, phrase) for phrase in _EXCLUDED_WORDS[name]):
            continue
        score = 0.0
        for phrase, exact in synonyms:
            if not phrase:
                continue
            if words == phrase:
                score = max(score, 1.0)
            elif not exact and words[: len(phrase)] == phrase:
                score = max(score, 0.9)
            elif not exact and (
                (len(phrase) > 1 and _contains(words, phrase)) or words[-len(phrase) :] == phrase
            ):
                score = max(score, 0.6)  # the phrase inside, or the label's last words ("Bill to account")
        if score:
            found.append((name, score))
    if words[-1] in _COMMISSION_ENDINGS and not any(
        _contains(words, phrase) for phrase in _EXCLUDED_WORDS["commission"]
    ):  # "Bank commission", "Dealer brokerage"
        found = [one for one in found if one[0] != "commission"] + [("commission", 0.9)]
    charge = any(word in FEE_WORDS or word.endswith(_FEE_ENDINGS) for word in words)
    if charge and not any(_contains(words, phrase) for phrase in _FEE_EXCLUDED_WORDS):
        found.append(("fees", 0.9))
    return tuple(found)


def _bare(text: str) -> str:
    """The text without what is in parentheses ("Qty (antall)" is "Qty")."""
    return re.sub(r"\([^)]*\)", " ", text).strip()


def _blank_parentheses(text: str) -> str:
    """The text with what is in parentheses blanked, every position kept: "Price (clean, % of
    nominal) 100,870" reads as a label and its figure."""
    return re.sub(r"\([^)]*\)", lambda match: " " * len(match.group(0)), text)


def _header_row(text: str, chunks: Sequence[_Chunk], labels: Sequence[tuple[tuple[str, float], ...]]) -> bool:
    """A row of column headings ("Stock  Stock Name  Order No.  Time  Quantity  Price"): three
    cells or more, no figure, at least half of them labels."""
    if (
        len(chunks) < 3
        or re.search(r"\d", text)
        or any(chunk.separator in ("colon", "leader") for chunk in chunks)
    ):
        return False
    strong = sum(any(score >= 0.9 for _, score in one) for one in labels)
    return strong * 2 >= len(chunks)


def _wrapped_headings(texts: Sequence[str], index: int, cells: Sequence[Cell]) -> list[str] | None:
    """Column headings printed over two lines ("Gross Rate /" over "Trade Price"), then a rule:
    each heading with the words under it, or None when the line is not such a heading."""
    if len(cells) < 3 or index + 2 >= len(texts) or is_pipe_row(texts[index]):
        return None
    second, third = texts[index + 1], texts[index + 2]
    if re.search(r"\d", texts[index]) or not second.strip() or is_rule(second) or not is_rule(third):
        return None
    if any(_VALUE_START.match(part.text) for part in space_cells(second)):
        return None  # a row of figures, not headings ("per Rs.100" is a heading)
    headings = [cell.text for cell in cells]
    for part in space_cells(second):
        overlaps = [min(part.end, cell.end) - max(part.start, cell.start) for cell in cells]
        best = max(range(len(cells)), key=lambda at: overlaps[at])
        if overlaps[best] <= 0:
            return None
        headings[best] = f"{headings[best]} {part.text}"
    return headings


def _aligned_below(texts: Sequence[str], index: int, cells: Sequence[Cell]) -> bool:
    """A row of headings over a row of values cell for cell, each value starting where its heading
    does ("NOMINAL (EUR)   PRECIO (%)" over "2.000.000,00   99,031"): a grid, whatever the
    share of its headings that are labels."""
    following = next(
        (text for text in texts[index + 1 : index + 3] if text.strip() and not is_rule(text)), None
    )
    if following is None or len(cells) < 2:
        return False
    below = space_cells(following)
    return len(below) == len(cells) and all(
        abs(a.start - b.start) <= 2 for a, b in zip(cells, below, strict=True)
    )


def _figure_follows(chunks: Sequence[_Chunk], at: int) -> bool:
    """The chunk at `at` is a figure, or a currency code apart from the figure after it ("EUR
    1.086,32" printed in two columns)."""
    if _VALUE_START.match(chunks[at].text):
        return True
    return (
        chunks[at].text in CURRENCIES
        and at + 1 < len(chunks)
        and bool(_VALUE_START.match(chunks[at + 1].text))
    )


def _holds_its_value(text: str) -> bool:
    """A chunk that is a label and a value ("PRICE 87.223", "REF CFI5625806"; what is in
    parentheses is the label's: "Commission (0.20%)"). Before a bare figure it is still a label
    and the figure its value ("VAT at 20%   0.80")."""
    bare = re.sub(r"\([^)]*\)", " ", text).strip()
    return bool(_GLUED.match(bare) or _GLUED_CODE.match(bare))


_SIDE_WORDS = frozenset({"buy", "sell", "bought", "sold", "purchase", "purchased", "sale"})
_SIDE_ONLY_WORDS = _SIDE_WORDS | {"of", "nominal", "face", "shares", "shs"}


def _side_only(text: str) -> bool:
    """A description that names a side and nothing else ("Purchase", "Sale USD nominal")."""
    words = [word for word in _words(text) if word not in _CURRENCY_WORDS]
    return bool(_SIDE_WORDS & set(words)) and all(word in _SIDE_ONLY_WORDS for word in words)


def _proper_name(text: str) -> bool:
    """Two words or more, each capitalised or a connective ("Nordvik Securities AB", "Banque de
    Savoie SA"), with no digit: a name, not a sentence that ends in one."""
    words = text.split()
    connectives = {"&", "and", "of", "de", "du", "des", "la", "le", "di", "del", "und", "van", "von", "der"}
    return (
        len(words) >= 2
        and not re.search(r"\d", text)
        and all(word[0].isupper() or word.casefold() in connectives for word in words)
    )


def _is_label(text: str) -> bool:
    return any(score >= 0.9 for _, score in label_fields(text))


def _chunks(line: str) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    position = 0
    for match in _SEPARATOR.finditer(line):
        text = line[position : match.start()]
        if text.strip():
            separator = match.group(0)
            kind = "colon" if ":" in separator else "leader" if "." in separator else "space"
            chunks.append(_Chunk(text.strip(), position + len(text) - len(text.lstrip()), kind))
        elif chunks and ":" in match.group(0) and chunks[-1].separator == "space":
            last = chunks[-1]
            chunks[-1] = _Chunk(last.text, last.start, "colon")
        position = match.end()
    rest = line[position:]
    if rest.strip():
        chunks.append(_Chunk(rest.strip(), position + len(rest) - len(rest.lstrip()), ""))
    return chunks


# ---------------------------------------------------------------- the document's conventions


@dataclass(frozen=True)
class Conventions:
    style: DecimalStyle
    order: DateOrder
    currency: str | None
    currency_labelled: bool
    perspective: Perspective


def _conventions(text: str) -> Conventions:
    masked = _DATE.sub(" ", text)
    eu = len(re.findall(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+,\d+(?!\d)", masked))
    eu += len(re.findall(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+,\d+(?!\d)", masked))
    eu += len(re.findall(r"(?<![\d.,'])\d+,(?:\d{1,2}|\d{4,})(?![\d.,])", masked))
    us = len(re.findall(r"(?<![\d.,])\d{1,3}(?:,\d{3})+\.\d+(?!\d)", masked))
    us += len(re.findall(r"(?<![\d.,])\d{1,3}(?:'\d{3})+(?:\.\d+)?(?!\d)", masked))
    us += len(re.findall(r"(?<![\d.,'])\d+\.(?:\d{1,2}|\d{4,})(?![\d.,])", masked))
    style: DecimalStyle = "eu" if eu > us else "us"
    codes = Counter(re.findall(r"\b(" + "|".join(sorted(CURRENCIES)) + r")\b", text))
    labelled = re.search(
        r"(?im)^.*?\b(?:currency|ccy|währung|devise)\b\s*(?::|\.{2,})?\s*("
        + "|".join(sorted(CURRENCIES))
        + r")\b",
        text,
    )
    currency: str | None
    if labelled:
        currency = labelled.group(1)
    elif codes:
        currency = codes.most_common(1)[0][0]
    else:
        symbols = Counter(ch for ch in text if ch in _SYMBOLS)
        for code, pattern in _LETTER_SYMBOLS:
            symbols[code] += len(pattern.findall(text))
        symbol = symbols.most_common(1)[0][0] if symbols and symbols.most_common(1)[0][1] else None
        currency = _SYMBOLS.get(symbol, symbol) if symbol else None
    order = _date_order(text, currency)
    broker = re.search(
        r"\bwe\s+(?:have\s+)?(?:sold|bought|purchased)\s+(?:\w+\s+){0,2}?(?:to|from)\s+you\b",
        text,
        re.IGNORECASE,
    )
    return Conventions(style, order, currency, bool(labelled), "broker" if broker else "client")


def _date_order(text: str, currency: str | None) -> DateOrder:
    day_first = month_first = 0
    for match in re.finditer(r"(?<![\d.])(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})(?![\d])", text):
        first, separator, second = int(match.group(1)), match.group(2), int(match.group(3))
        if separator == "." or first > 12:
            day_first += 1
        elif second > 12:
            month_first += 1
    if day_first != month_first:
        return "dmy" if day_first > month_first else "mdy"
    return "mdy" if currency == "USD" or (currency is None and "$" in text) else "dmy"


# ---------------------------------------------------------------- reading one value


class _Reader:
    """Turns printed text into a field's canonical value, by the document's conventions."""

    def __init__(self, conventions: Conventions) -> None:
        self.conventions = conventions

    def date(self, text: str) -> str | None:
        match = _DATE.search(text)
        if match is None:
            return None
        printed = (
            _WEEKDAY_PREFIX.sub("", match.group(0), count=1)
            if re.match(r"[A-Za-z]", match.group(0))
            else match.group(0)
        )
        orders: tuple[DateOrder, ...] = (self.conventions.order, "auto")
        for order in orders:
            try:
                return date_text(printed, order)
            except ValueError:
                continue
        return None

    def amounts(self, text: str) -> list[tuple[str, int, bool]]:
        """(canonical absolute amount, position, looks like money) of each number that is not a
        percentage, a count of days or a date."""
        masked = _DATE.sub(lambda m: " " * len(m.group(0)), text)
        masked = re.sub(r"\d{1,2}:\d{2}(?::\d{2})?", lambda m: " " * len(m.group(0)), masked)
        found = []
        for match in _AMOUNT.finditer(masked):
            after = (match.group("after") or "").strip().lower()
            if after.startswith(("%", "day")):
                continue
            try:
                value = decimal_text(match.group("num"), self.conventions.style).lstrip("-")
            except ValueError:
                continue
            money_like = bool(
                match.group("ccy")
                or match.group("sym")
                or re.search(r"[.,']\d\d$|[.,'\s]\d{3}", match.group("num"))
            )
            if match.group("ccy") and match.group("ccy") not in CURRENCIES:
                money_like = bool(re.search(r"[.,']\d\d$", match.group("num")))
            found.append((value, match.start("num"), money_like))
        return found

    def number(self, text: str, percent_ok: bool) -> tuple[str, int, bool] | None:
        masked = _DATE.sub(lambda m: " " * len(m.group(0)), text)
        for match in _AMOUNT.finditer(masked):
            after = (match.group("after") or "").strip().lower()
            if after.startswith("day") or (after.startswith("%") and not percent_ok):
                continue
            try:
                value = Decimal(decimal_text(match.group("num"), self.conventions.style)).copy_abs()
            except ValueError:
                continue
            text_value = "0" if value == 0 else format(value.normalize(), "f")
            return text_value, match.start("num"), after.startswith("%")
        return None

    def side(self, text: str) -> str | None:
        try:
            return side_text(text, self.conventions.perspective)
        except ValueError:
            return None

    @staticmethod
    def currency(text: str) -> str | None:
        codes: list[str] = [code for code in re.findall(r"\b([A-Z]{3})\b", text) if code in CURRENCIES]
        if codes:
            return codes[0]
        symbol = next((ch for ch in text if ch in _SYMBOLS), None)
        return _SYMBOLS[symbol] if symbol else None


# ---------------------------------------------------------------- the reader


class _Document:
    def __init__(self, pages: Sequence[str]) -> None:
        self.pages = [page.replace("\t", "    ").replace("\r\n", "\n").replace("\r", "\n") for page in pages]
        self.lines = [
            _Line(number, index, line.rstrip())
            for number, page in enumerate(self.pages)
            for index, line in enumerate(page.split("\n"))
        ]
        self.at = {(line.page, line.index): line for line in self.lines}
        self.text = "\n".join(self.pages)
        self.conventions = _conventions(self.text)
        self.read = _Reader(self.conventions)
        self.candidates: list[Candidate] = []
        self.percent_price = False  # a price printed with %: a bond's, in percent of par

    # -- adding

    def add(self, name: str, value: str | None, confidence: float, line: _Line, column: int) -> None:
        if value:
            self.candidates.append(
                Candidate(name, value, confidence, line.page, line.index, column, line.text.strip())
            )

    def offer(
        self, name: str, text: str, confidence: float, line: _Line, column: int, run: Sequence[_Chunk] = ()
    ) -> None:
        """A value for name from the text printed as its value (run: the value's chunks)."""
        kind = field_kind(name)
        if name in ("isin", "cusip"):
            checker = isin_number if name == "isin" else cusip_number
            pattern = _ISIN if name == "isin" else _CUSIP
            for match in pattern.finditer(text):
                if checker.is_valid(match.group(1)):
                    self.add(name, match.group(1), confidence, line, column + match.start(1))
                    return
            return
        if kind == "date":
            self.add(name, self.read.date(text), confidence, line, column)
        elif kind == "side":
            self.add(name, self.read.side(text), confidence, line, column)
        elif kind == "currency":
            self.add(name, self.read.currency(text), confidence, line, column)
        elif kind == "number":
            number = self.read.number(text, percent_ok=name == "price")
            if number is not None:
                self.add(name, number[0], confidence, line, column + number[1])
                if number[2]:
                    self.percent_price = True
        elif kind == "money":
            self.offer_money(name, text, confidence, line, column, run)
        else:
            self.offer_text(name, text, confidence, line, column)

    def offer_money(
        self, name: str, text: str, confidence: float, line: _Line, column: int, run: Sequence[_Chunk]
    ) -> None:
        if run:
            first = self.read.amounts(run[0].text)
            if len(run) == 1 or (first and first[0][2]):
                if first:
                    self.add(name, first[0][0], confidence, line, run[0].start + first[0][1])
                return
            for chunk in reversed(run):
                found = self.read.amounts(chunk.text)
                if found:
                    self.add(name, found[-1][0], confidence, line, chunk.start + found[-1][1])
                    return
            return
        found = self.read.amounts(text)
        if found:
            self.add(name, found[0][0], confidence, line, column + found[0][1])

    def offer_text(self, name: str, text: str, confidence: float, line: _Line, column: int) -> None:
        value = " ".join(text.split())
        if name == "trade_reference":
            token = next((one for one in value.split() if re.search(r"\d", one) and len(one) >= 4), None)
            if token is None or len(token) > 40:
                return
            value = token.strip(".,;")
        elif name == "account":
            value = value.strip(".,;")
            code = re.fullmatch(r"[A-Z][A-Z0-9]*(?:[-_/.][A-Z0-9]+)+", value)
            if not (re.search(r"\d", value) or code) or len(value) > 40 or len(value.split()) > 4:
                return
        elif name == "security_name":
            value = re.sub(r"\s*\((?:ISIN|CUSIP|SEDOL|WKN|Valor)\b.*$", "", value, flags=re.IGNORECASE).strip(
                " ,;"
            )
            if len(value) < 3 or not re.search(r"[A-Za-z]{2}", value) or _ISIN.fullmatch(value):
                return
            if _side_only(value):
                return  # "Purchase", "Sale USD nominal": the line's side, not the security
        elif name == "counterparty":
            value = value.strip(" ,;")
            if len(value) < 3 or not re.search(r"[A-Za-z]{3}", value):
                return
            if len(value.split()) < 2 and not (_LEGAL_AT_END.match(value) or _HOUSE_WORDS.search(value)):
                return  # "Dealer  JvR": a person's initials, not the house
        self.add(name, value, confidence, line, column)

    # -- the ways values are printed

    def pairs(self) -> None:
        """Label and value on one line, several pairs side by side."""
        for line in self.lines:
            if is_rule(line.text):
                continue
            if is_pipe_row(line.text):
                self._pipe_pair(line)
                continue
            chunks = _chunks(line.text)
            labels = [label_fields(chunk.text) for chunk in chunks]
            if _header_row(line.text, chunks, labels):
                continue  # a table's header: its values are under it (tables), not beside
            for at, chunk in enumerate(chunks):
                fields = [(name, score) for name, score in labels[at] if score >= 0.6]
                explicit = chunk.separator in ("colon", "leader")
                if not fields or at + 1 >= len(chunks):
                    continue
                if not explicit and _holds_its_value(chunk.text) and not _figure_follows(chunks, at + 1):
                    continue  # "PRICE 87.223  YIELD 4.830": a label with its own value (glued), not the next chunk's
                if not explicit and not any(score >= 0.9 for _, score in fields):
                    continue
                if not explicit and any(score >= 0.9 for _, score in labels[at + 1]):
                    continue  # a header row of labels, not a label and its value
                run = []
                for following in range(at + 1, len(chunks)):
                    nxt = chunks[following]
                    if following > at + 1 and (
                        nxt.separator in ("colon", "leader")
                        or any(score >= 0.9 for _, score in labels[following])
                    ):
                        break
                    run.append(nxt)
                    if nxt.separator in ("colon", "leader"):
                        break
                if not run:
                    continue
                confidence = LABELLED if explicit else SPACED
                text = " ".join(one.text for one in run) if explicit else run[0].text
                for name, score in fields:
                    kind = field_kind(name)
                    source = run[0].text if kind in ("text",) and name not in ("isin", "cusip") else text
                    self.offer(
                        name, source, confidence * (1 if score >= 0.9 else 0.9), line, run[0].start, run
                    )

    def _pipe_pair(self, line: _Line) -> None:
        """A boxed row of a label and its value ("| Market value (kursverdi) |  824 000,00 |"): the
        first cell names the field, the last cell holding a figure or text is its value."""
        cells = pipe_cells(line.text)
        if len(cells) < 2:
            return
        values = [cell for cell in cells[1:] if cell.text]
        if not values or any(_is_label(cell.text.rstrip(":")) for cell in values):
            return
        value = values[-1]
        label = cells[0].text
        if re.search(r"\d", _bare(label)):
            if not _VALUE_START.match(value.text):
                return
            # "Brokerage (kurtasje) 0,05 %, min. 99", "Accrued int. (renter), 15 days": the label
            # is what precedes its rate or its count of days
            label = re.split(r"\d", _blank_parentheses(label), maxsplit=1)[0].strip(" ,;:")
        for name, score in label_fields(label.rstrip(":")):
            if score >= 0.9 or (score >= 0.6 and field_kind(name) == "money"):
                self.offer(name, value.text, LABELLED, line, value.start)

    def glued(self) -> None:
        """A label and its figure with one space between them ("Commission 12.50", "PRICE 87.223"),
        where the chunk stands alone or before a chunk that is not a bare value (another label, or
        another such pair: "PRICE 87.223   YIELD 4.830"): figures (amounts, numbers, dates), and an
        account or a reference when its value is one code with a digit ("ACCT 77-30918-2")."""
        for line in self.lines:
            if is_pipe_row(line.text) or is_rule(line.text):
                continue
            chunks = _chunks(line.text)
            for at, chunk in enumerate(chunks):
                if chunk.separator in ("colon", "leader"):
                    continue
                if at + 1 < len(chunks) and (
                    _VALUE_START.match(chunks[at + 1].text) and not _is_label(chunks[at + 1].text)
                ):
                    continue
                match = _GLUED.match(_blank_parentheses(chunk.text))
                if match is not None:
                    for name, score in label_fields(match.group("label")):
                        if score >= 0.9 and field_kind(name) in ("money", "number", "date"):
                            start = chunk.start + match.start("value")
                            self.offer(name, match.group("value"), STACKED, line, start)
                code = _GLUED_CODE.match(chunk.text)
                if code is not None and self.read.date(code.group("value")) is None:
                    for name, score in label_fields(code.group("label")):
                        if score == 1.0 and name in ("account", "trade_reference"):
                            start = chunk.start + code.start("value")
                            self.offer(name, code.group("value"), STACKED, line, start)

    def line_items(self) -> None:
        """An invoice's numbered line items: a header with a quantity, a rate (or price) and an
        amount column. The row whose quantity x rate is its amount (/ 100 for a rate in percent
        of par) is the trade: its quantity, price and gross. When that row's description names
        only the side ("Purchase", "Sale EUR nominal"), the side is read from it and the security
        is the description printed on the lines under it (up to an identifier line)."""
        by_page: dict[int, list[_Line]] = {}
        for line in self.lines:
            by_page.setdefault(line.page, []).append(line)
        for lines in by_page.values():
            texts = [line.text for line in lines]
            for index, text in enumerate(texts):
                if not text.strip() or is_rule(text) or re.search(r"\d", text):
                    continue
                cells = pipe_cells(text) if is_pipe_row(text) else space_cells(text)
                roles: dict[str, int] = {}
                for column, cell in enumerate(cells):
                    names = {name for name, score in label_fields(cell.text.rstrip(":")) if score >= 0.9}
                    if "quantity" in names:
                        roles.setdefault("quantity", column)
                    elif "price" in names or " ".join(_words(cell.text)) in _RATE_HEADERS:
                        roles.setdefault("price", column)
                    elif "gross_amount" in names:
                        roles.setdefault("gross_amount", column)
                    elif "security_name" in names:
                        roles.setdefault("description", column)
                if not {"quantity", "price", "gross_amount"} <= roles.keys():
                    continue
                columns = {role: column_values(texts, index, column) for role, column in roles.items()}
                rows = len(columns["quantity"])
                agreeing = [row for row in range(rows) if self._line_item(columns, row) is not None]
                totals = [row for row in agreeing if _TOTAL_ROW.search(texts[columns["quantity"][row][0]])]
                for row in totals[:1] or agreeing[:1]:  # several fills: their total row is the trade
                    found = self._line_item(columns, row)
                    assert found is not None
                    line = lines[columns["quantity"][row][0]]
                    for name, value in found.items():
                        column = cells[roles[name]].start
                        self.add(name, value, LABELLED, line, column)
                    if "description" in columns and row not in totals:
                        self._line_item_description(columns, row, lines, cells[roles["description"]].start)

    def _line_item(self, columns: dict[str, list[tuple[int, str]]], row: int) -> dict[str, str] | None:
        quantity = self.read.number(columns["quantity"][row][1], percent_ok=False)
        price = self.read.number(columns["price"][row][1], percent_ok=True)
        amounts = self.read.amounts(columns["gross_amount"][row][1])
        if quantity is None or price is None or not amounts:
            return None
        amount = Decimal(amounts[0][0])
        tolerance = Decimal(1).scaleb(-decimal_places(amount))
        product = Decimal(quantity[0]) * Decimal(price[0])
        for scale in (Decimal(1), Decimal("0.01")):
            if amount and abs(product * scale - amount) <= tolerance:
                if price[2]:
                    self.percent_price = True
                return {"quantity": quantity[0], "price": price[0], "gross_amount": amounts[0][0]}
        return None

    def _line_item_description(
        self, columns: dict[str, list[tuple[int, str]]], row: int, lines: Sequence[_Line], column: int
    ) -> None:
        index, description = columns["description"][row]
        if not _side_only(description):
            self.offer_text("security_name", description, TABLE, lines[index], column)
            return
        self.add("side", self.read.side(description), TABLE, lines[index], column)
        parts: list[str] = []
        for following in range(row + 1, min(row + 3, len(columns["description"]))):
            _, text = columns["description"][following]
            figures = any(
                re.search(r"\d", columns[role][following][1]) for role in columns if role != "description"
            )
            if figures or not text.strip() or _IDENTIFIER_LINE.match(text):
                break
            parts.append(text)
        if parts:
            self.offer_text(
                "security_name", " ".join(parts), TABLE, lines[columns["description"][row + 1][0]], column
            )

    def tables(self) -> None:
        """Column tables (a header row of labels, values under it) and stacked label/value lines."""
        by_page: dict[int, list[_Line]] = {}
        for line in self.lines:
            by_page.setdefault(line.page, []).append(line)
        for lines in by_page.values():
            page_texts = [line.text for line in lines]
            continuations: set[int] = set()
            for index, text in enumerate(page_texts):
                if not text.strip() or is_rule(text) or index in continuations:
                    continue
                cells = pipe_cells(text) if is_pipe_row(text) else space_cells(text)
                if not cells:
                    continue
                headings = [cell.text for cell in cells]
                texts, shift = page_texts, 0
                wrapped = _wrapped_headings(page_texts, index, cells)
                if wrapped is not None:
                    # The headings run on to the next line: read them whole, and the rows under both.
                    headings, texts, shift = wrapped, [*page_texts[: index + 1], *page_texts[index + 2 :]], 1
                    continuations.add(index + 1)
                fields = [label_fields(heading.rstrip(":")) for heading in headings]
                strong = [
                    any(score >= 0.9 for _, score in one)
                    and not re.search(r"\d", re.sub(r"\([^)]*\)", "", cell.text))
                    for one, cell in zip(fields, cells, strict=True)
                ]
                ruled = index + 1 < len(texts) and is_rule(texts[index + 1])
                digits = bool(re.search(r"\d", text))
                if is_pipe_row(text):
                    figures = any(re.search(r"\d", _bare(cell.text)) for cell in cells)
                    header = sum(strong) >= max(1, len(cells) / 2) or (not figures and any(strong))
                elif len(cells) == 1:
                    header = strong[0] and self._stacked_label(texts, index, cells[0].text)
                else:
                    header = (
                        all(strong)
                        or sum(strong) >= max(2, len(cells) / 2)
                        or (any(strong) and not digits and _aligned_below(texts, index, cells))
                        # headings over a rule: a table, however few of its headings are labels
                        or (ruled and sum(strong) >= 2 and not digits)
                    )
                if not header:
                    continue
                data = self._data_row(texts, index, len(cells) == 1)
                if data is None:
                    continue
                confidence = STACKED if len(cells) == 1 else TABLE
                for column, options in enumerate(fields):
                    rows = (
                        column_values(texts, index, column)
                        if len(cells) > 1
                        else [(data, texts[data].strip())]
                    )
                    if not rows:
                        continue
                    row_index, value = rows[0]
                    kind = field_kind(options[0][0]) if options else "text"
                    if len(rows) > 1 and kind in ("number", "money"):
                        total = next(
                            ((at, text) for at, text in rows[1:] if text and _TOTAL_ROW.search(texts[at])),
                            None,
                        )
                        if total is not None:
                            row_index, value = total  # fills, then their total and average price
                    if not value:
                        continue
                    if shift and row_index > index:
                        row_index += shift
                    for name, score in options:
                        if score >= 0.9 or (score >= 0.6 and ruled):
                            self.offer(name, value, confidence, lines[row_index], cells[column].start)

    @staticmethod
    def _stacked_label(texts: Sequence[str], index: int, label: str) -> bool:
        """A label alone on its line, not the last word of a wrapped sentence."""
        bare = label.rstrip(":").strip()
        if _SEPARATOR.search(bare) or (
            bare.endswith((".", ",", ";")) and not re.search(r"\bno\.$", bare, re.I)
        ):
            return False
        previous = next((text for text in reversed(texts[max(0, index - 1) : index]) if text.strip()), "")
        return len(previous.split()) <= 8

    @staticmethod
    def _data_row(texts: Sequence[str], index: int, single: bool) -> int | None:
        for following in range(index + 1, min(len(texts), index + 4)):
            text = texts[following]
            if not text.strip() or is_rule(text):
                if single and not text.strip():
                    continue
                if is_rule(text):
                    continue
                return None
            cells = pipe_cells(text) if is_pipe_row(text) else space_cells(text)
            labelled = sum(_is_label(cell.text.rstrip(":")) for cell in cells)
            if cells and labelled * 2 >= len(cells) and not any(ch.isdigit() for ch in text):
                return None
            if single and (
                len(text.split()) > 12
                or (len(cells) == 1 and ":" in text and _SEPARATOR.search(text.strip()))
            ):
                return None
            return following
        return None

    def narrative(self) -> None:
        """Sentences, across line breaks."""
        amount = rf"(?:{_CCY})?(?P<a>{NUMBER})(?:\s?[A-Z]{{3}}\b)?"
        patterns: list[tuple[str, str, str]] = [
            ("quantity", "number", rf"(?P<a>{NUMBER})\)?\s+(?:ordinary\s+|common\s+|registered\s+|bearer\s+)?(?:shares|units|shs)\b"),
            ("quantity", "number", rf"\bnominal\s+(?:amount\s+|value\s+)?of\s+(?:{_CCY})?(?P<a>{NUMBER})"),
            ("quantity", "number", rf"\bface\s+(?:amount|value)\s+of\s+(?:{_CCY})?(?P<a>{NUMBER})"),
            ("quantity", "number", rf"(?:{_CCY})?(?P<a>{NUMBER})\s+(?:[A-Z]{{3}}\s+)?(?:nominal|face(?:\s+(?:amount|value))?|par)\b"),
            ("price", "price", rf"\b(?:at\s+(?:a|the)\s+)?(?:clean\s+|net\s+|average\s+|execution\s+|deal\s+)?price\s+of\s+(?:{_CCY})?(?P<a>{NUMBER})(?P<pct>\s*%)?"),
            ("price", "price", rf"(?:^|\s)at\s+(?:{_CCY})?(?P<a>{NUMBER})(?:(?P<pct>\s*%)|(?=\s*(?:[A-Z]{{3}}\b|per\b|each\b|$|,|\.\s|\.$)))"),
            ("gross_amount", "money", rf"\b(?:gross\s+amount|gross\s+consideration|consideration|principal\s+amount|gross\s+value|market\s+value|transaction\s+value|gross\s+proceeds)(?:\s+of\s+the\s+(?:transaction|trade))?\s+(?:is|amounts\s+to|of|was|comes\s+to|totals?)\s+{amount}"),
            ("commission", "money", rf"\b(?:commission|brokerage)\s+(?:of|is|amounts\s+to|totals?)\s+{amount}"),
            ("fees", "money", rf"\b(?:fees?|charges?|tax(?:es)?|levy|levies|duty|vat)\s+(?:of|is|amounts?\s+to)\s+{amount}"),
            ("accrued_interest", "money", rf"\baccrued\s+interest(?:\s+to\s+the\s+settlement\s+date|\s+for\s+\d+\s+days)?\s+(?:of|is|amounts\s+to)\s+{amount}"),
            ("net_amount", "money", rf"\b(?:net\s+amount|net\s+proceeds|net\s+consideration|total(?:\s+amount)?|amount\s+due|settlement\s+amount|net\s+settlement\s+amount)(?:\s+(?:payable\s+(?:by|to)\s+you|due\s+(?:to|from|by)\s+you))?\s+(?:is|of|amounts\s+to|comes\s+to)\s+{amount}"),
            ("trade_date", "date", rf"\b(?:on|dated|traded\s+on|executed\s+on)\s+(?P<a>{DATE})\s*,?\s+(?:we|you|i)\b"),
            ("settlement_date", "date", rf"\b(?:for\s+settlement\s+on|settlement\s+on|settling\s+on|settles\s+on|for\s+value|value\s+date|to\s+settle\s+on)\s+(?P<a>{DATE})"),
            ("settlement_date", "date", rf"(?:^|[\s,;])value\s+(?P<a>{DATE})"),
            ("cusip", "text", r"\bCUSIP\b\s*(?:no\.?|number|#)?\s*[:.]?\s*(?P<a>[0-9]{3}[0-9A-Z]{5}[0-9])\b"),
        ]  # fmt: skip
        for number, page in enumerate(self.pages):
            starts = [0, *(at + 1 for at, ch in enumerate(page) if ch == "\n")]
            for name, kind, pattern in patterns:
                for match in re.finditer(pattern, page, re.IGNORECASE | re.MULTILINE):
                    before = page[max(0, match.start() - 40) : match.start()]
                    if (
                        name == "price"
                        and match.group("pct")
                        and re.search(
                            r"\b(?:vat|tax|rate|fee|commission)\b", before + match.group(0), re.IGNORECASE
                        )
                    ):
                        continue
                    if name == "fees" and re.search(
                        r"\b(?:total|commission|and\s+commission)\s*$",
                        page[max(0, match.start() - 12) : match.start()],
                        re.IGNORECASE,
                    ):
                        continue
                    position = match.start("a")
                    row = bisect_right(starts, position) - 1
                    line = self.at[(number, row)]
                    column = position - starts[row]
                    printed = match.group("a")
                    if kind == "money":
                        found = self.read.amounts(printed)
                        if found:
                            self.add(name, found[0][0], NARRATIVE, line, column)
                    elif kind == "price":
                        value = self.read.number(printed, percent_ok=True)
                        if value is not None:
                            self.add(name, value[0], NARRATIVE, line, column)
                            if match.group("pct"):
                                self.percent_price = True
                    elif kind == "number":
                        value = self.read.number(printed, percent_ok=False)
                        if value is not None:
                            self.add(name, value[0], NARRATIVE, line, column)
                    elif kind == "date":
                        self.add(name, self.read.date(" ".join(printed.split())), NARRATIVE, line, column)
                    elif cusip_number.is_valid(printed):
                        self.add(name, printed, LABELLED, line, column)
            self._security_sentences(number, page, starts)

    def products(self) -> None:
        """A row whose figures multiply: quantity x price = amount (/ 100 for a price in percent of
        par), in that order on one line ("LPT  Limpopo ...  600  299.73  179 838.00"), whatever its
        headings say: the trade's quantity, price and gross. The first such row counts."""
        for line in self.lines:
            masked = _DATE.sub(lambda m: " " * len(m.group(0)), line.text)
            masked = re.sub(r"\d{1,2}:\d{2}(?::\d{2})?", lambda m: " " * len(m.group(0)), masked)
            figures: list[tuple[Decimal, str, int]] = []
            for match in _AMOUNT.finditer(masked):
                after = (match.group("after") or "").strip().lower()
                if after.startswith("day"):
                    continue
                try:
                    text = decimal_text(match.group("num"), self.conventions.style).lstrip("-")
                except ValueError:
                    continue
                figures.append((Decimal(text), text, match.start("num")))
            if len(figures) < 3 or len(figures) > 12:
                continue
            for (quantity, _q_text, q_at), (price, _p_text, p_at), (gross, g_text, g_at) in combinations(
                figures, 3
            ):
                if quantity < 1 or gross <= price or gross < 100 or price in (0, 1) or quantity == gross:
                    continue
                tolerance = Decimal(1).scaleb(-decimal_places(gross))
                product = quantity * price
                if abs(product - gross) <= tolerance or abs(product / 100 - gross) <= tolerance:
                    confidence = TABLE - 0.1
                    self.add("quantity", format(quantity.normalize(), "f"), confidence, line, q_at)
                    self.add("price", format(price.normalize(), "f"), confidence, line, p_at)
                    self.add("gross_amount", g_text, confidence, line, g_at)
                    return

    def printed_products(self) -> None:
        """The gross printed apart from its quantity and price ("Pay in / Pay out obligation
        54,78,000.00" under a table of 10,000 at 547.80): an amount anywhere in the document equal
        to a quantity read times a price read (/ 100 for a bond) is a candidate for the gross. It
        is read, never computed: the product must be printed."""
        quantities = _best_per_value(one for one in self.candidates if one.name == "quantity")
        prices = _best_per_value(one for one in self.candidates if one.name == "price")
        if not quantities or not prices:
            return
        wanted: dict[Decimal, float] = {}
        for quantity in quantities:
            for price in prices:
                product = Decimal(quantity.value) * Decimal(price.value)
                confidence = min(quantity.confidence, price.confidence) - 0.1
                for scaled in (product, product / 100):
                    wanted[scaled] = max(wanted.get(scaled, 0.0), confidence)
        for line in self.lines:
            for value, at, money_like in self.read.amounts(line.text):
                amount = Decimal(value)
                if not money_like or amount < 100:
                    continue
                tolerance = Decimal(1).scaleb(-decimal_places(amount))
                for product, confidence in wanted.items():
                    if abs(product - amount) <= tolerance and amount == amount.quantize(tolerance):
                        self.add("gross_amount", value, confidence, line, at)
                        break

    def labelled_dates(self) -> None:
        """A date right after its label in running text: "Trade date 01.04.2021, value date ..."."""
        for line in self.lines:
            for match in _DATE.finditer(line.text):
                words = line.text[: match.start()].rstrip(" :.-\t").split()
                for size in range(min(4, len(words)), 0, -1):
                    label = " ".join(words[-size:])
                    names = [
                        name
                        for name, score in label_fields(label)
                        if score == 1.0 and field_kind(name) == "date"
                    ]
                    if names:
                        for name in names:
                            self.add(name, self.read.date(match.group(0)), NARRATIVE, line, match.start())
                        break

    def _security_sentences(self, number: int, page: str, starts: list[int]) -> None:
        after_side = re.compile(
            rf"\b(?:bought|purchased|sold)\s+(?:for|on)\s+your\s+(?:account|behalf)\s*:?\s+(?:{_CCY})?(?P<q>{NUMBER})\s+"
            rf"(?:[A-Z]{{3}}\s+)?(?:nominal\s+|face\s+amount\s+|(?:ordinary\s+|registered\s+|bearer\s+)?(?:shares?|units?)\s+(?:of\s+)?)?"
            rf"(?P<a>[^()\n]+?)(?=\s*\(|\s+at\s|\s+on\s|[ \t]*$)",
            re.IGNORECASE | re.MULTILINE,
        )
        for match in after_side.finditer(page):
            for group, name in (("q", "quantity"), ("a", "security_name")):
                position = match.start(group)
                row = bisect_right(starts, position) - 1
                line = self.at[(number, row)]
                if name == "quantity":
                    value = self.read.number(match.group(group), percent_ok=False)
                    if value is not None:
                        self.add(name, value[0], NARRATIVE, line, position - starts[row])
                elif re.search(r"[A-Za-z]{3}", match.group(group)):
                    self.offer_text(name, match.group(group), NARRATIVE - 0.05, line, position - starts[row])
        patterns = (
            r"\b(?:shares|units)\s+of\s+(?P<a>[^()\n]+?(?:\n[^()\n]+?)?)\s*(?=\((?:ISIN|CUSIP|[A-Z0-9 .]+,|identifier)|\s+at\s|\s+on\s+(?!your\b)|,\s)",
            rf"\bnominal\s+(?:amount\s+|value\s+)?of\s+(?:{_CCY})?{NUMBER}(?:\s?[A-Z]{{3}}\b)?\s+of\s+(?P<a>[^()\n]+?(?:\n[^()\n]+?)?)\s*(?=\(|\s+at\s)",
        )
        for pattern in patterns:
            for match in re.finditer(pattern, page, re.IGNORECASE):
                position = match.start("a")
                row = bisect_right(starts, position) - 1
                line = self.at[(number, row)]
                self.offer_text(
                    "security_name", match.group("a"), NARRATIVE - 0.05, line, position - starts[row]
                )

    def sides(self) -> None:
        phrases = (
            (r"\b(?:we|i)\s+(?:have\s+)?(?:today\s+)?(?:bought|purchased|sold)\s+(?:\w+\s+){0,3}?(?:for|on)\s+(?:your|the\s+client'?s?)\s+(?:account|behalf)\b", NARRATIVE + 0.15),
            (r"\bwe\s+(?:have\s+)?(?:today\s+)?(?:sold|bought|purchased)\s+(?:\w+\s+){0,2}?(?:to|from)\s+you\b", NARRATIVE + 0.15),
            (r"\byou\s+(?:have\s+)?(?:bought|sold|purchased)\b", NARRATIVE + 0.15),
            (r"\b(?:bought|purchased|sold)\s+(?:for|on)\s+your\s+(?:account|behalf)\b", NARRATIVE + 0.1),
        )  # fmt: skip
        for pattern, confidence in phrases:
            for line in self.lines:
                for match in re.finditer(pattern, line.text, re.IGNORECASE):
                    self.add("side", self.read.side(match.group(0)), confidence, line, match.start())
        for pattern, confidence in phrases[:2]:  # the same wording across a line break
            for number, page in enumerate(self.pages):
                for match in re.finditer(pattern, page, re.IGNORECASE):
                    if "\n" in match.group(0):
                        line = self.at[(number, page.count("\n", 0, match.start()))]
                        self.add("side", self.read.side(match.group(0)), confidence, line, 0)
        title = re.compile(
            r"^(?:[A-Za-z][A-Za-z ]*\s[-–:]\s)?(buy|sell|purchase|sale|bought|sold)$", re.IGNORECASE
        )
        direction = (
            (
                r"\bto\s+your\s+debit\b|\bdebited\s+to\s+your\b|\bpayable\s+by\s+you\b|\bdue\s+from\s+you\b|\bwill\s+be\s+debited\b",
                "BUY",
            ),
            (
                r"\bto\s+your\s+credit\b|\bcredited\s+to\s+your\b|\bdue\s+to\s+you\b|\bpayable\s+to\s+you\b|\bnet\s+proceeds\b|\bwill\s+be\s+credited\b",
                "SELL",
            ),
        )
        for line in self.lines:
            for chunk in _chunks(line.text) if not is_pipe_row(line.text) else []:
                if title.match(chunk.text) and len(_chunks(line.text)) <= 2:
                    self.add("side", self.read.side(chunk.text.split()[-1]), TITLE, line, chunk.start)
            for pattern, side in direction:
                hit = re.search(pattern, line.text, re.IGNORECASE)
                if hit:
                    self.add("side", side, DIRECTION, line, hit.start())

    def identifiers(self) -> None:
        for line in self.lines:
            for match in _ISIN.finditer(line.text):
                if isin_number.is_valid(match.group(1)):
                    labelled = "isin" in line.text.casefold()
                    self.add("isin", match.group(1), LABELLED if labelled else 0.75, line, match.start(1))

    def letterhead(self) -> None:
        first = [
            line
            for line in self.lines
            if line.page == 0 and line.text.strip() and not _EMAIL_HEADER.match(line.text)
        ][:3]
        for line in first:
            for chunk in re.split(r"\s{2,}|\s[·|]\s|\s[-–]\s", line.text.strip()):
                name = chunk.strip(" ,")
                legal = _LEGAL_AT_END.match(name)
                if legal is None and not _HOUSE_WORDS.search(name):
                    continue
                if legal is not None:
                    name = legal.group(1)
                if len(name) < 4 or re.search(r"\d", name):
                    continue
                self.add(
                    "counterparty",
                    self._with_legal_form(self._as_printed(name)),
                    LETTERHEAD,
                    line,
                    line.text.find(chunk),
                )
                return

    def _with_legal_form(self, name: str) -> str:
        """A letterhead that prints the house without its legal form ("SWARTBERG SECURITIES")
        names it in full elsewhere: "Swartberg Securities (Pty) Ltd"."""
        if _LEGAL_AT_END.match(name):
            return name
        pattern = re.compile(
            r"(?<!\w)"
            + r"\s+".join(re.escape(word) for word in name.split())
            + rf"(?:\s*\([^)]{{1,12}}\))?\s+{_LEGAL}(?!\w)",
            re.IGNORECASE,
        )
        found = [match.group(0) for match in pattern.finditer(self.text)]
        mixed = [one for one in found if not one.isupper()]
        chosen = (mixed or found or [name])[0]
        return " ".join(chosen.split())

    def brand(self) -> None:
        """A letterhead that prints only the house's brand ("NORDVIK") names it in full elsewhere,
        usually in the footer: the brand's first word followed by more words and a legal form
        ("Nordvik Securities AB, Stockholm.")."""
        if any(one.name == "counterparty" for one in self.candidates):
            return
        first = next((line for line in self.lines if line.page == 0 and line.text.strip()), None)
        if first is None:
            return
        words = first.text.split()
        if not 1 <= len(words) <= 3 or not re.fullmatch(r"[^\W\d_]{3,}", words[0]):
            return
        pattern = re.compile(rf"(?<!\w){re.escape(words[0])}(?!\w)", re.IGNORECASE)
        for line in self.lines:
            if line is first:
                continue
            for match in pattern.finditer(line.text):
                tail = re.split(r",|;|\.\s|\s[-–]\s|\s{2,}", line.text[match.start() :])[0].strip()
                legal = _LEGAL_AT_END.match(tail)
                if legal is None or not _proper_name(legal.group(1)):
                    continue
                self.add(
                    "counterparty", self._as_printed(legal.group(1)), LETTERHEAD - 0.05, line, match.start()
                )
                return

    def title_reference(self) -> None:
        """The document's title followed by its number in the heading ("CONTRACT NOTE / INVOICE
        AGM-CN-2291648", "Trade Confirmation 2020-0412-77"): the trade reference."""
        head = [line for line in self.lines if line.page == 0][:20]
        for line in head:
            for chunk in _chunks(line.text):
                match = _TITLE_REFERENCE.match(chunk.text)
                if match is None or self.read.date(match.group("ref")) is not None:
                    continue
                self.offer_text(
                    "trade_reference", match.group("ref"), TITLE, line, chunk.start + match.start("ref")
                )
                return

    def _as_printed(self, name: str) -> str:
        """The name as the document prints it in mixed case, when it does (letterheads shout)."""
        if not name.isupper():
            return name
        pattern = re.compile(
            r"(?<!\w)" + r"\s+".join(re.escape(word) for word in name.split()) + r"(?!\w)", re.IGNORECASE
        )
        for match in pattern.finditer(self.text):
            if not match.group(0).isupper():
                return " ".join(match.group(0).split())
        return name

    def currency(self) -> None:
        if self.conventions.currency and not any(one.name == "currency" for one in self.candidates):
            line = next((one for one in self.lines if self.conventions.currency in one.text), self.lines[0])
            self.add(
                "currency",
                self.conventions.currency,
                0.75 if self.conventions.currency_labelled else 0.7,
                line,
                0,
            )

    # -- choosing

    def choose(self) -> tuple[dict[str, Candidate], bool, list[str]]:
        warnings: list[str] = []
        by_name: dict[str, list[Candidate]] = {}
        for one in self.candidates:
            by_name.setdefault(one.name, []).append(one)
        chosen: dict[str, Candidate] = {}
        for name, found in by_name.items():
            if name == "fees":
                continue
            chosen[name] = max(found, key=lambda one: (one.confidence, -one.page, -one.line, -one.column))
        bond = self._bond_words()
        trio = self._arithmetic(by_name)
        if trio is not None:
            picked, scale_bond = trio
            chosen.update(picked)
            bond = scale_bond
        elif self.percent_price:
            bond = True
        fees = self._fees(by_name.get("fees", []), chosen)
        if fees is not None:
            chosen["fees"] = fees
        for name, found in by_name.items():
            values = {
                one.value for one in found if one.confidence >= chosen.get(name, found[0]).confidence - 0.1
            }
            if name != "fees" and name in chosen and len(values) > 1:
                others = sorted(values - {chosen[name].value})
                warnings.append(
                    f"{name}: read as {chosen[name].value}; the document also reads {', '.join(others)}"
                )
        return chosen, bond, warnings

    def _bond_words(self) -> bool:
        return bool(
            re.search(
                r"\b(?:coupon|maturity|face\s+(?:amount|value)|par\s+value|accrued\s+interest|clean\s+price|"
                r"per\s+100\b|% of par|nominal)",
                self.text,
                re.IGNORECASE,
            )
        )

    def _arithmetic(self, by_name: dict[str, list[Candidate]]) -> tuple[dict[str, Candidate], bool] | None:
        """The quantity, price and gross that agree (quantity x price, / 100 for a bond, is the
        gross to its last printed digit), the surest such choice; None when none agree."""
        quantities = _best_per_value(by_name.get("quantity", []))
        prices = _best_per_value(by_name.get("price", []))
        grosses = _best_per_value(by_name.get("gross_amount", []))
        best: tuple[float, dict[str, Candidate], bool] | None = None
        for quantity in quantities:
            for price in prices:
                for gross in grosses:
                    if quantity.value == gross.value:
                        continue
                    amount = Decimal(gross.value)
                    tolerance = Decimal(1).scaleb(-decimal_places(amount))
                    product = Decimal(quantity.value) * Decimal(price.value)
                    for scale, is_bond in ((Decimal(1), False), (Decimal("0.01"), True)):
                        if abs(product * scale - amount) <= tolerance:
                            score = quantity.confidence + price.confidence + gross.confidence
                            if best is None or score > best[0]:
                                best = (
                                    score,
                                    {"quantity": quantity, "price": price, "gross_amount": gross},
                                    is_bond,
                                )
        if best is None:
            return None
        return best[1], best[2]

    def _fees(self, found: list[Candidate], chosen: dict[str, Candidate]) -> Candidate | None:
        """Every distinct charge summed (one printed figure counted once, the commission and the
        amounts chosen for other fields never)."""
        taken = {(one.page, one.line, one.column) for one in chosen.values()}
        parts: dict[tuple[int, int, int], Candidate] = {}
        for one in sorted(found, key=lambda one: -one.confidence):
            key = (one.page, one.line, one.column)
            if key in taken or key in parts:
                continue
            if any(
                abs(other.column - one.column) <= 2 and other.page == one.page and other.line == one.line
                for other in parts.values()
            ):
                continue
            parts[key] = one
        if not parts:
            return None
        values = [Decimal(one.value) for one in parts.values()]
        total = sum(values, Decimal(0)).quantize(
            Decimal(1).scaleb(-max(decimal_places(value) for value in values))
        )
        ordered = sorted(parts.values(), key=lambda one: (one.page, one.line, one.column))
        confidence = min(one.confidence for one in ordered)
        snippet = "\n".join(dict.fromkeys(one.snippet for one in ordered))
        first = ordered[0]
        return Candidate(
            "fees", format(total, "f"), confidence, first.page, first.line, first.column, snippet
        )


def _best_per_value(found: Iterable[Candidate]) -> list[Candidate]:
    best: dict[str, Candidate] = {}
    for one in found:
        if one.value not in best or one.confidence > best[one.value].confidence:
            best[one.value] = one
    return list(best.values())


def read_generic(pages: Sequence[str], *, is_pdf: bool = False) -> Extraction:
    """The fields of a confirmation in an unknown layout (see the module)."""
    document = _Document(pages)
    document.pairs()
    document.glued()
    document.line_items()
    document.tables()
    document.narrative()
    document.products()
    document.printed_products()
    document.labelled_dates()
    document.sides()
    document.identifiers()
    document.letterhead()
    document.brand()
    document.title_reference()
    document.currency()
    chosen, bond, warnings = document.choose()
    fields = tuple(
        Field(one.name, one.value, one.confidence, one.page + 1 if is_pdf else 0, one.snippet)
        for one in chosen.values()
    )
    return Extraction(
        format="pdf" if is_pdf else "text",
        layout=LAYOUT,
        fields=fields,
        warnings=(
            "no template matches this layout: every field was found by its wording, check them",
            *warnings,
        ),
        bond=bond,
    )
