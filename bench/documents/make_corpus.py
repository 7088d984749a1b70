"""A fixed corpus of broker trade confirmations, with the truth of each, to measure the documents
service's field extractor (`python -m bench.documents.make_corpus`, from the repository root).

Written before any extraction template, so it is a fixed test set: nine broker layouts that market's
own three (services/market/sim/confirmations.py: northbridge, kestrel, meridian) do not cover, in two
groups, and two standard message formats:

- templated (templates will be written for them): halvorsen (US, two-column key/value side by side),
  altmark (German bank, vertical label/value note), thamesgate (UK contract note, multi-column table),
  lacroix (French narrative letter, agency "we have purchased for your account" for shares, principal
  "we have sold to you" for bonds), sakura (Japanese trade report, tables, JPY), rigi (Swiss bank
  advice with dotted leaders, 1'234.50 grouping, CHF/EUR/USD).
- unseen (no template is ever written for them; they measure the generic fallback): corvid (US
  principal dealer ticket, "WE SOLD TO YOU", CUSIP only, one fees line), nordvik (trading-app
  notification, every label stacked above its value, ISO dates, ungrouped numbers, no broker
  reference), aurelia (invoice-style line items, weekday dates, sale charges in parentheses, five
  currencies).
- formats: six SWIFT MT515 messages and six FIX 4.4 Confirmation (35=AK) messages.

Everything is invented: houses, issuers, accounts, references, BICs. Identifiers carry valid check
digits (python-stdnum); a US ISIN embeds the CUSIP and a UK ISIN the SEDOL. Output is deterministic:
one random.Random per layout seeded by a string (stable across runs and Python processes), and PDFs
carry a fixed creation date as services/market/pdf.py does, so a rerun rewrites identical bytes.

The held-out groups' generators (make_heldout2.py to make_heldout5.py) use this module's helpers, not
copies of them: securities, money arithmetic, trades and their dates, the balanced plan of a layout's
documents (PlannedLayout, write_planned_group) and the writing of documents, PDFs and truth
(write_documents).

Public material followed for the two message formats (structure only; nothing copied):
- SWIFT MT515 Client Confirmation of Purchase or Sale: the format specification in ISO 15022's data
  field dictionary (https://www.iso20022.org/15022/uhb/finmt515.htm): sequence A GENL (:20C::SEME,
  :23G:, :98C::PREP, :22F::TRTR, subsequence A1 LINK), optional sequence B PAFILL, sequence C CONFDET
  (98a TRAD/SETT, 90a DEAL, 99A DAAC, 22H BUSE/PAYM, subsequence C1 CONFPRTY with 95a and
  :97A::SAFE, then 36B CONF and 35B), sequence D SETDET (:22F::SETR, D1 SETPRTY, D3 AMT with one
  19A each). The brief names CONFDET "B" and SETDET "C"; the specification letters them C and D
  (B is the optional partial-fill block), and the block names, which are what a parser keys on,
  are the same. The SWIFT User Handbook pages for MT515 field 95a (BUYR, SELL; options P BIC and
  Q name and address) and field 19A (ACRU, CHAR, COAX, DEAL, EXEC, OTHR, REGF, SETT, STAM, STEX,
  TRAX, VATA), pinas.synology.me/Swift_Manual/2006/FINAL/US5MA/DOC/ALHF028.HTM and ALHF073.HTM.
  Public MT515 samples in parser test suites: a bond confirmation with :90A::DEAL//PRCT/99,00000000,
  :36B::CONF//FAMT/15000000, and :19A::ACRU// and ::SETT// in separate AMT blocks; an exchange
  trade with :90B::DEAL//ACTU/INR758,14, :19A::DEAL//, ::EXEC//, ::TRAX//, ::SETT//.
- FIX 4.4 Confirmation (MsgType AK): the field order of the FIX 4.4 message definition as generated
  in TimelordUK/jspurefix, src/types/FIX4.4/quickfix/confirmation.ts (664, 666, 773, 665, Parties,
  60, 75, Instrument, 80, 54, 15, CpctyConfGrp 862/528/863, 79, 6, 423, 381, 157, 158, 159, 118,
  64, CommissionData 12/13, MiscFeesGrp 136/137/138/139); the FIX.4.4 35=AK sample in
  connamara/quickfixn's unit tests (664=0001 666=0 773=1 665=4 60= 75= 55= 80= 54= 862= 528= 863=
  79= 6= 381= 118=); PriceType(423) from the fixparser package's field types: 1 = percentage of par,
  2 = per unit (the brief had them the other way round; the standard is followed); MiscFeeType(139)
  1 regulatory, 2 tax, 4 exchange fees, 5 stamp, 7 other, 9 consumption tax; CommType(13) 3 absolute;
  PartyIDSource(447) B BIC, D proprietary; PartyRole(452) 1 executing firm, 3 client id;
  SecurityIDSource(22) 1 CUSIP, 4 ISIN, with the ISIN of a US security as an alternate id (454/455/456).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from pathlib import Path
from typing import Generic, TypeVar

from fpdf import FPDF
from stdnum import cusip as stdnum_cusip
from stdnum import isin as stdnum_isin
from stdnum.gb import sedol as stdnum_sedol

SEED = "opsuite-documents-corpus-v1"
DOCS_PER_LAYOUT = 12
MESSAGES_PER_FORMAT = 6
CORPUS = Path(__file__).resolve().parent / "corpus"
PDF_CREATION_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
CREATOR = "opsuite bench/documents/make_corpus.py"  # the PDFs' creator
MINOR_UNITS = {"JPY": 0}  # every other currency here has 2
CANONICAL_FIELDS = (
    "trade_date",
    "settlement_date",
    "side",
    "quantity",
    "isin",
    "cusip",
    "security_name",
    "price",
    "currency",
    "gross_amount",
    "commission",
    "fees",
    "accrued_interest",
    "net_amount",
    "account",
    "counterparty",
    "trade_reference",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
SPANISH_MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SOH = "\x01"
PAGE_BREAK = "\f"  # a line holding only this starts a new PDF page (two blank lines in text)


# ---------------------------------------------------------------- numbers and dates


def places(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def money(value: Decimal, currency: str, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places(currency)), rounding=rounding)


def canonical(value: Decimal) -> str:
    """A quantity or price without trailing zeros or exponent: 2500, 1000000, 98.765."""
    return f"{value.normalize():f}"


def money_text(value: Decimal, currency: str) -> str:
    """An amount with exactly the currency's minor units: 1234567.89, JPY 1234567."""
    return f"{money(value, currency):f}"


def decimals_of(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number(value: Decimal, decimals: int | None, thousands: str, point: str) -> str:
    """A number with a grouping and a decimal mark: 1,234,567.89 / 1.234.567,89 / 1 234 567,89."""
    if decimals is not None:
        value = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + thousands.join(groups) + (point + fraction if fraction else "")


def us(value: Decimal, decimals: int | None = 2) -> str:
    return number(value, decimals, ",", ".")


def de(value: Decimal, decimals: int | None = 2) -> str:
    return number(value, decimals, ".", ",")


def fr(value: Decimal, decimals: int | None = 2) -> str:
    return number(value, decimals, " ", ",")


def ch(value: Decimal, decimals: int | None = 2) -> str:
    return number(value, decimals, "'", ".")


def plain(value: Decimal, decimals: int | None = 2) -> str:
    return number(value, decimals, "", ".")


def swift_number(value: Decimal) -> str:
    """ISO 15022 number: decimal comma, no grouping, trailing comma for a whole number (2500,)."""
    text = f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"
    whole, _, fraction = text.partition(".")
    return f"{whole},{fraction}"


def swift_amount(value: Decimal, currency: str) -> str:
    return swift_number(money(value, currency))


def price_decimals(price: Decimal, minimum: int) -> int:
    return max(minimum, decimals_of(price))


def d_iso(day: dt.date) -> str:
    return day.isoformat()


def d_us(day: dt.date) -> str:
    return f"{day.month:02d}/{day.day:02d}/{day.year}"


def d_us_text(day: dt.date) -> str:
    return f"{MONTHS[day.month - 1][:3]} {day.day}, {day.year}"  # Mar 12, 2020


def d_dot(day: dt.date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year}"


def d_dmy(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def d_short(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"  # 12 Mar 2020


def d_jp(day: dt.date) -> str:
    return f"{day.year}/{day.month:02d}/{day.day:02d}"


def d_weekday(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"


def d_swift(day: dt.date) -> str:
    return f"{day.year}{day.month:02d}{day.day:02d}"


def add_business_days(day: dt.date, count: int) -> dt.date:
    """Weekdays only; the corpus uses no holiday calendar."""
    while count:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, day.day)  # coupon days here are valid in every month used


def pick_trade_date(rng: random.Random) -> dt.date:
    """A weekday in 2019-2023 away from the year-end and US Independence Day holidays."""
    start = dt.date(2019, 1, 7)
    while True:
        day = start + dt.timedelta(days=rng.randrange(0, 1800))
        if day.weekday() >= 5 or day.year > 2023:
            continue
        if (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 6):
            continue
        if day.month == 7 and day.day <= 7:
            continue
        return day


def weekday_holidays(listed: str) -> set[dt.date]:
    """A market's holidays from a listing of ISO dates separated by white space."""
    return {dt.date.fromisoformat(day) for day in listed.split()}


def pick_open_date(rng: random.Random, holidays: set[dt.date], settle_days: int) -> dt.date:
    """A trade date (pick_trade_date) such that neither it nor any day up to its settlement is a
    holiday of the market, so that weekday-only T+n settlement is also the real one."""
    while True:
        day = pick_trade_date(rng)
        settle = add_business_days(day, settle_days)
        if not any(day + dt.timedelta(days=n) in holidays for n in range((settle - day).days + 1)):
            return day


def wrap(paragraph: str, width: int) -> list[str]:
    """Wrap prose; figures and names joined with \x00 stay on one line."""
    lines = textwrap.wrap(paragraph, width, break_on_hyphens=False, break_long_words=False)
    return [line.replace("\x00", " ") for line in lines]


def keep(text: str) -> str:
    return text.replace(" ", "\x00")


def dots(label: str, width: int) -> str:
    return (label + " ").ljust(width, ".")


# ---------------------------------------------------------------- securities


def with_cusip_check(body: str) -> str:
    return body + stdnum_cusip.calc_check_digit(body)


def with_isin_check(body: str) -> str:
    return body + stdnum_isin.calc_check_digit(body)


@dataclass(frozen=True)
class Security:
    kind: str  # "equity" or "bond"
    issuer: str
    currency: str
    country: str
    isin: str
    cusip: str | None = None
    sedol: str | None = None
    local_id: str | None = None  # WKN, Valor or exchange code
    ticker: str | None = None
    venue: str | None = None
    share_class: str = ""
    coupon: Decimal | None = None
    maturity: dt.date | None = None
    frequency: int = 1
    day_count: str = "ACT/ACT"
    government: bool = False
    settle_days: int = 2
    bond_word: str = ""
    short_name: str = ""  # the house name of a gilt ("Treasury 4¼% Gilt 2032")


def us_equity(issuer: str, ticker: str, issuer_code: str, venue: str) -> Security:
    cusip = with_cusip_check(issuer_code + "10")
    return Security(
        "equity",
        issuer,
        "USD",
        "US",
        with_isin_check("US" + cusip),
        cusip=cusip,
        ticker=ticker,
        venue=venue,
        share_class="COM",
    )


def us_bond(
    issuer: str, issuer_code: str, issue: str, coupon: str, maturity: dt.date, word: str, gov: bool = False
) -> Security:
    cusip = with_cusip_check(issuer_code + issue)
    return Security(
        "bond",
        issuer,
        "USD",
        "US",
        with_isin_check("US" + cusip),
        cusip=cusip,
        coupon=Decimal(coupon),
        maturity=maturity,
        frequency=2,
        day_count="ACT/ACT" if gov else "30/360",
        government=gov,
        settle_days=1 if gov else 2,
        bond_word=word,
    )


def eu_equity(
    issuer: str, ticker: str, isin_body: str, venue: str, share_class: str, local_id: str | None = None
) -> Security:
    return Security(
        "equity",
        issuer,
        "EUR",
        isin_body[:2],
        with_isin_check(isin_body),
        ticker=ticker,
        venue=venue,
        share_class=share_class,
        local_id=local_id,
    )


def gb_equity(issuer: str, ticker: str, sedol_body: str, share_class: str) -> Security:
    sedol = sedol_body + stdnum_sedol.calc_check_digit(sedol_body)
    return Security(
        "equity",
        issuer,
        "GBP",
        "GB",
        with_isin_check("GB00" + sedol),
        sedol=sedol,
        ticker=ticker,
        venue="LSE",
        share_class=share_class,
    )


def ch_equity(issuer: str, ticker: str, valor: str, share_class: str) -> Security:
    return Security(
        "equity",
        issuer,
        "CHF",
        "CH",
        with_isin_check("CH" + valor.zfill(9)),
        ticker=ticker,
        venue="SIX Swiss Exchange",
        share_class=share_class,
        local_id=valor,
    )


def jp_equity(issuer: str, code: str) -> Security:
    return Security(
        "equity",
        issuer,
        "JPY",
        "JP",
        with_isin_check("JP3" + code + "0000"),
        ticker=code,
        venue="TSE Prime",
        local_id=code,
    )


def isin_bond(
    issuer: str,
    isin_body: str,
    currency: str,
    coupon: str,
    maturity: dt.date,
    *,
    frequency: int = 1,
    day_count: str = "ACT/ACT",
    gov: bool = False,
    word: str = "",
    local_id: str | None = None,
    short_name: str = "",
    sedol_body: str | None = None,
) -> Security:
    sedol = None
    if sedol_body is not None:
        sedol = sedol_body + stdnum_sedol.calc_check_digit(sedol_body)
        isin_body = "GB00" + sedol
    country = {"XS": "EU"}.get(isin_body[:2], isin_body[:2])
    return Security(
        "bond",
        issuer,
        currency,
        country,
        with_isin_check(isin_body),
        sedol=sedol,
        coupon=Decimal(coupon),
        maturity=maturity,
        frequency=frequency,
        day_count=day_count,
        government=gov,
        bond_word=word,
        local_id=local_id,
        short_name=short_name,
        settle_days=1 if word == "Gilt" else 2,
    )


US_EQUITIES = (
    us_equity("Harrowgate Instruments Inc.", "HRWG", "41234X", "NYSE"),
    us_equity("Bluewater Logistics Corp.", "BWLC", "09627L", "NYSE"),
    us_equity("Caldera Biosciences Inc.", "CLDB", "12873Q", "NASDAQ"),
    us_equity("Pinecrest Financial Group Inc.", "PCFG", "72284M", "NYSE"),
    us_equity("Stonebridge Semiconductor Corp.", "SBSC", "86163R", "NASDAQ"),
    us_equity("Redfern Energy Inc.", "RFEN", "75689T", "NYSE"),
)
US_CORPORATES = (
    us_bond("Kessler Industrial Corp.", "49271K", "AD", "4.250", dt.date(2029, 6, 15), "Senior Notes"),
    us_bond("Marlow Health Systems Inc.", "57163P", "AB", "3.625", dt.date(2031, 3, 1), "Notes"),
    us_bond("Ashby Rail Holdings Corp.", "04471R", "AF", "5.100", dt.date(2033, 11, 15), "Debentures"),
    us_bond("Pinecrest Financial Group Inc.", "72284M", "BC", "2.875", dt.date(2027, 9, 20), "Senior Notes"),
)
US_TREASURIES = (
    us_bond("United States Treasury", "91282C", "BN", "2.375", dt.date(2029, 5, 15), "Note", gov=True),
    us_bond("United States Treasury", "912810", "SJ", "3.000", dt.date(2049, 2, 15), "Bond", gov=True),
)
EUR_EQUITIES = (
    eu_equity("Velmont Pharma AG", "VMP", "DE000VLM4T2", "XETRA", "Namens-Aktien o.N.", "VLM4T2"),
    eu_equity("Grauhaus Maschinenbau SE", "GMB", "DE000GRH8M1", "XETRA", "Inhaber-Aktien o.N.", "GRH8M1"),
    eu_equity("Sonnfeld Energie AG", "SFE", "DE000SNF3E5", "XETRA", "Inhaber-Aktien o.N.", "SNF3E5"),
    eu_equity("Cirrane SA", "CIRR", "FR000012745", "Euronext Paris", "Actions ordinaires"),
    eu_equity("Compagnie Lévrier SA", "LEVR", "FR000013308", "Euronext Paris", "Actions ordinaires"),
    eu_equity("Brunelli Costruzioni SpA", "BCOS", "IT000521443", "Euronext Milan", "Azioni ordinarie"),
    eu_equity("Van Hoorn Groep NV", "VHG", "NL001173928", "Euronext Amsterdam", "Gewone aandelen"),
)
EUR_BONDS = (
    isin_bond(
        "Bundesrepublik Deutschland",
        "DE000110247",
        "EUR",
        "0.500",
        dt.date(2028, 2, 15),
        gov=True,
        word="Anleihe",
        local_id="110247",
    ),
    isin_bond(
        "République Française", "FR001400BKZ", "EUR", "1.250", dt.date(2034, 5, 25), gov=True, word="OAT"
    ),
    isin_bond("Velmont Pharma AG", "XS221873645", "EUR", "2.125", dt.date(2030, 9, 18), word="Notes"),
    isin_bond("Cirrane SA", "FR001359842", "EUR", "3.375", dt.date(2031, 4, 7), word="Obligations"),
    isin_bond("Brunelli Costruzioni SpA", "XS198277310", "EUR", "4.000", dt.date(2028, 7, 1), word="Notes"),
)
GBP_EQUITIES = (
    gb_equity("Ashcombe Foods plc", "ASHF", "B1XQ7M", "Ord 25p"),
    gb_equity("Wexley Mining plc", "WXM", "B4TZ9P", "Ord 10p"),
    gb_equity("Harbour Lane Insurance plc", "HLI", "BD8R2K", "Ord 5p"),
    gb_equity("Pellow & Grant plc", "PLG", "B7NWL4", "Ord 1p"),
    gb_equity("Kingsmere Telecom plc", "KMT", "BYQ6J3", "Ord 20p"),
)
GBP_BONDS = (
    isin_bond(
        "United Kingdom Treasury",
        "",
        "GBP",
        "4.25",
        dt.date(2032, 6, 7),
        frequency=2,
        gov=True,
        word="Gilt",
        short_name="Treasury 4¼% Gilt 2032",
        sedol_body="B7Z53W",
    ),
    isin_bond(
        "United Kingdom Treasury",
        "",
        "GBP",
        "1.5",
        dt.date(2047, 7, 22),
        frequency=2,
        gov=True,
        word="Gilt",
        short_name="Treasury 1½% Gilt 2047",
        sedol_body="BDCHBW",
    ),
    isin_bond(
        "Ashcombe Foods plc",
        "XS215573318",
        "GBP",
        "5.375",
        dt.date(2030, 10, 12),
        word="Notes",
        short_name="Ashcombe Foods plc 5.375% Notes 2030",
    ),
)
CHF_EQUITIES = (
    ch_equity("Brändli Pharma AG", "BRPN", "1124873", "registered shares"),
    ch_equity("Sarnen Versicherungen AG", "SARN", "3348120", "registered shares"),
    ch_equity("Glarus Precision Holding AG", "GLPH", "41872255", "bearer shares"),
    ch_equity("Limmat Logistik AG", "LIML", "2219983", "registered shares"),
)
CHF_BONDS = (
    isin_bond(
        "Schweizerische Eidgenossenschaft",
        "CH011863542",
        "CHF",
        "0.500",
        dt.date(2032, 6, 27),
        day_count="30/360",
        gov=True,
        word="Anleihe",
        local_id="11863542",
    ),
    isin_bond(
        "Sarnen Versicherungen AG",
        "CH041190077",
        "CHF",
        "1.125",
        dt.date(2029, 11, 30),
        day_count="30/360",
        word="Anleihe",
        local_id="41190077",
    ),
)
JPY_EQUITIES = (
    jp_equity("Hoshimura Electric Co., Ltd.", "6512"),
    jp_equity("Kanazawa Precision Industries, Ltd.", "7731"),
    jp_equity("Tsubaki Shoji Corporation", "8079"),
    jp_equity("Minatomirai Foods Co., Ltd.", "2893"),
    jp_equity("Aokawa Heavy Industries, Ltd.", "7018"),
)


def caps(text: str) -> str:
    return text.upper().replace(".", "").replace(",", "")


# ---------------------------------------------------------------- one trade


@dataclass
class Trade:
    layout: str
    group: str
    doc_id: str
    sec: Security
    side: str  # the client's: BUY or SELL
    trade_date: dt.date
    settle_date: dt.date
    quantity: Decimal
    price: Decimal
    gross: Decimal
    commission: Decimal | None  # None: not charged and not printed
    fee_items: list[tuple[str, Decimal]]
    accrued: Decimal | None
    days: int | None
    net: Decimal
    account: str
    counterparty: str
    reference: str | None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.sec.currency

    @property
    def bond(self) -> bool:
        return self.sec.kind == "bond"

    @property
    def fees(self) -> Decimal:
        return sum((amount for _, amount in self.fee_items), Decimal(0))

    @property
    def buy(self) -> bool:
        return self.side == "BUY"


ChargeList = list[tuple[str, Decimal]]
Charges = Callable[[Security, str, Decimal, Decimal], tuple[Decimal | None, ChargeList]]


def coupon_period(sec: Security, settle: dt.date) -> tuple[dt.date, dt.date]:
    """The last coupon date on or before settlement and the next one, counted back from maturity."""
    assert sec.maturity is not None
    months = 12 // sec.frequency
    last = sec.maturity
    while last > settle:
        last = add_months(last, -months)
    return last, add_months(last, months)


def accrued_interest(sec: Security, face: Decimal, settle: dt.date) -> tuple[Decimal, int]:
    assert sec.coupon is not None and sec.maturity is not None
    last, following = coupon_period(sec, settle)
    if sec.day_count == "30/360":
        d1, d2 = min(last.day, 30), settle.day
        if d2 == 31 and d1 == 30:
            d2 = 30
        days = 360 * (settle.year - last.year) + 30 * (settle.month - last.month) + (d2 - d1)
        amount = face * sec.coupon / 100 * days / 360
    else:
        days = (settle - last).days
        amount = face * sec.coupon / 100 / sec.frequency * Decimal(days) / Decimal((following - last).days)
    return money(amount, sec.currency), days


def make_trade(
    *,
    layout: str,
    group: str,
    doc_id: str,
    sec: Security,
    side: str,
    trade_date: dt.date,
    quantity: Decimal,
    price: Decimal,
    charges: Charges,
    account: str,
    counterparty: str,
    reference: str | None,
    extra: dict[str, str] | None = None,
) -> Trade:
    ccy = sec.currency
    settle = add_business_days(trade_date, sec.settle_days)
    gross = money(quantity * price / 100 if sec.kind == "bond" else quantity * price, ccy)
    accrued, days = accrued_interest(sec, quantity, settle) if sec.kind == "bond" else (None, None)
    commission, items = charges(sec, side, quantity, gross)
    fees = sum((amount for _, amount in items), Decimal(0))
    costs = (commission or Decimal(0)) + fees
    net = gross + (costs if side == "BUY" else -costs) + (accrued or Decimal(0))
    return Trade(
        layout,
        group,
        doc_id,
        sec,
        side,
        trade_date,
        settle,
        quantity,
        price,
        gross,
        commission,
        items,
        accrued,
        days,
        net,
        account,
        counterparty,
        reference,
        extra or {},
    )


def restate_accrued(trade: Trade, accrued: Decimal, days: int) -> None:
    """Replace make_trade's accrued interest by a market's own convention, and the net with it."""
    costs = (trade.commission or Decimal(0)) + trade.fees
    trade.accrued, trade.days = accrued, days
    trade.net = trade.gross + (costs if trade.buy else -costs) + accrued


def pick_bond_date(
    rng: random.Random,
    sec: Security,
    holidays: set[dt.date],
    settle_days: int,
    quiet_days: int,
    period: Callable[[Security, dt.date], tuple[dt.date, dt.date]] = coupon_period,
) -> dt.date:
    """A trade date (pick_open_date) whose settlement is not a coupon date and not within
    `quiet_days` before the next coupon (the record date, shut or books-closed period), so that no
    trade is ex-interest; `period` gives the coupon dates around a settlement date."""
    while True:
        trade_date = pick_open_date(rng, holidays, settle_days)
        settle = add_business_days(trade_date, settle_days)
        last, following = period(sec, settle)
        if settle != last and (following - settle).days > quiet_days:
            return trade_date


def pick_equity_quantity(rng: random.Random, currency: str) -> Decimal:
    if currency == "JPY":
        return Decimal(rng.choice((1, 2, 3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80)) * 100)
    base = rng.choice(
        (
            150,
            200,
            250,
            300,
            400,
            500,
            600,
            750,
            800,
            1000,
            1200,
            1250,
            1500,
            2000,
            2500,
            3000,
            3500,
            4000,
            5000,
            6000,
            7500,
            8000,
            10000,
            12500,
            15000,
            20000,
            25000,
        )
    )
    if rng.random() < 0.2:
        base += rng.randint(1, 99)  # an odd lot
    return Decimal(base)


def pick_equity_price(rng: random.Random, currency: str, decimals: int) -> Decimal:
    low, high = {"USD": (8, 420), "EUR": (6, 260), "GBP": (1, 48), "CHF": (12, 480), "JPY": (300, 9800)}[
        currency
    ]
    scale = 10**decimals
    return Decimal(rng.randint(low * scale, high * scale)).scaleb(-decimals)


def tick_price(rng: random.Random, low: str, high: str, tick: Callable[[Decimal], Decimal]) -> Decimal:
    """A price between low and high on the market's tick grid (one tick at the least)."""
    value = Decimal(rng.randint(int(Decimal(low) * 1000), int(Decimal(high) * 1000))) / 1000
    step = tick(value)
    return max(step, (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step)


def pick_bond_price(rng: random.Random, sec: Security) -> Decimal:
    if sec.government and sec.currency == "USD":
        return Decimal(rng.randint(88 * 32, 106 * 32)) / 32  # 32nds, exact in decimals (99.28125)
    decimals = rng.choice((2, 3, 3, 3, 4))
    scale = 10**decimals
    return Decimal(rng.randint(84 * scale, 112 * scale)).scaleb(-decimals)


def pick_face(rng: random.Random, currency: str) -> Decimal:
    return Decimal(
        rng.choice((25000, 50000, 100000, 150000, 200000, 250000, 300000, 500000, 750000, 1000000, 2000000))
    )


def pick_quantity_and_price(
    rng: random.Random, sec: Security, decimals: int | tuple[int, ...]
) -> tuple[Decimal, Decimal]:
    """A face amount and a price for a bond; for a share, a quantity and a price in whole yen or
    with `decimals` decimals (drawn from them when they are a tuple)."""
    if sec.kind == "bond":
        return pick_face(rng, sec.currency), pick_bond_price(rng, sec)
    if sec.currency == "JPY":
        decimals = 0
    elif isinstance(decimals, tuple):
        decimals = rng.choice(decimals)
    return pick_equity_quantity(rng, sec.currency), pick_equity_price(rng, sec.currency, decimals)


def exec_time(rng: random.Random, start: int = 9, end: int = 15) -> str:
    return f"{rng.randint(start, end):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


# ---------------------------------------------------------------- charges of each house


def _min(amount: Decimal, floor: str) -> Decimal:
    return max(amount, Decimal(floor))


def charges_halvorsen(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    items: list[tuple[str, Decimal]] = []
    if sec.kind == "equity":
        commission = _min(money(qty * Decimal("0.015"), "USD"), "15.00")
        if side == "SELL":
            items.append(("SEC Fee", money(gross * Decimal("22.90") / 1_000_000, "USD", ROUND_UP)))
            taf = max(money(qty * Decimal("0.000130"), "USD", ROUND_HALF_UP), Decimal("0.01"))
            items.append(("FINRA TAF", min(taf, Decimal("6.49"))))
    else:
        commission = Decimal("0.00") if sec.government else money(qty / 1000, "USD")  # $1 a bond
    items.append(("Handling Fee", Decimal("4.75")))
    return commission, items


def charges_altmark(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    if sec.kind == "bond":
        return _min(money(gross * Decimal("0.001"), "EUR"), "25.00"), [("Settlement fee", Decimal("3.50"))]
    items = [
        ("Exchange fee", _min(money(gross * Decimal("0.000024"), "EUR"), "0.60")),
        ("Clearing fee", Decimal("2.50")),
    ]
    if side == "BUY" and sec.country == "FR":
        items.append(("French financial transaction tax 0,3 %", money(gross * Decimal("0.003"), "EUR")))
    if side == "BUY" and sec.country == "IT":
        items.append(("Italian financial transaction tax 0,1 %", money(gross * Decimal("0.001"), "EUR")))
    return _min(money(gross * Decimal("0.00125"), "EUR"), "9.90"), items


def charges_thamesgate(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    if sec.kind == "bond":
        return _min(money(gross * Decimal("0.0005"), "GBP"), "25.00"), []
    items = []
    if side == "BUY":
        items.append(("Stamp Duty Reserve Tax", money(gross * Decimal("0.005"), "GBP", ROUND_HALF_UP)))
    if gross > 10000:
        items.append(("PTM Levy", Decimal("1.00")))
    return _min(money(gross * Decimal("0.002"), "GBP"), "12.50"), items


def charges_lacroix(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    if sec.kind == "bond":
        return None, []  # dealt as principal, net price
    items = []
    if side == "BUY" and sec.country == "FR":
        items.append(("the French financial transaction tax", money(gross * Decimal("0.003"), "EUR")))
    if side == "BUY" and sec.country == "IT":
        items.append(("the Italian financial transaction tax", money(gross * Decimal("0.001"), "EUR")))
    items.append(("market charges", _min(money(gross * Decimal("0.00001"), "EUR"), "2.10")))
    return _min(money(gross * Decimal("0.0015"), "EUR"), "15.00"), items


def charges_sakura(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    commission = max(money(gross * Decimal("0.0011"), "JPY", ROUND_DOWN), Decimal(2750))
    return commission, [("Consumption Tax (10%)", money(commission * Decimal("0.10"), "JPY", ROUND_DOWN))]


def charges_rigi(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    ccy = sec.currency
    stamp = Decimal("0.00075") if sec.country == "CH" else Decimal("0.0015")
    items = [("Swiss federal stamp duty", money(gross * stamp, ccy))]
    if sec.country == "CH":
        items.append(("SIX exchange fee", _min(money(gross * Decimal("0.00005"), ccy), "1.00")))
    else:
        items.append(("Foreign charges", Decimal("25.00")))
    rate = Decimal("0.002") if sec.kind == "bond" else Decimal("0.005")
    return money(gross * rate, ccy), items


def charges_corvid(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    items = [("Processing fee", Decimal("5.00"))]
    if sec.kind == "equity" and side == "SELL":
        items.append(("SEC fee", money(gross * Decimal("22.90") / 1_000_000, "USD", ROUND_UP)))
    return None, items  # principal: no commission


def market_taxes(sec: Security, side: str, gross: Decimal) -> list[tuple[str, Decimal]]:
    """The taxes and levies of the security's market, as a pan-European house words them."""
    ccy = sec.currency
    items: list[tuple[str, Decimal]] = []
    if sec.kind != "equity":
        return items
    if side == "BUY" and sec.country == "FR":
        items.append(("French FTT @ 0.30%", money(gross * Decimal("0.003"), ccy)))
    if side == "BUY" and sec.country == "IT":
        items.append(("Italian FTT @ 0.10%", money(gross * Decimal("0.001"), ccy)))
    if side == "BUY" and sec.country == "GB":
        items.append(("UK stamp duty (SDRT) @ 0.50%", money(gross * Decimal("0.005"), ccy, ROUND_HALF_UP)))
    if sec.country == "GB" and gross > 10000:
        items.append(("PTM levy", Decimal("1.00")))
    if side == "SELL" and sec.country == "US":
        items.append(("SEC fee", money(gross * Decimal("22.90") / 1_000_000, ccy, ROUND_UP)))
    return items


def charges_nordvik(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    ccy = sec.currency
    items = [*market_taxes(sec, side, gross), ("Transaction fee", Decimal("1.50"))]
    if sec.kind == "bond":
        return _min(money(gross * Decimal("0.0005"), ccy), "25.00"), items
    return _min(money(gross * Decimal("0.001"), ccy), "9.00"), items


SETTLEMENT_FEES = {"USD": "12.00", "EUR": "12.00", "GBP": "10.00", "CHF": "12.00", "JPY": "1500"}


def charges_aurelia(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    ccy = sec.currency
    fee = Decimal(SETTLEMENT_FEES[ccy])
    items = [
        *market_taxes(sec, side, gross),
        ("Settlement fee", fee),
        ("VAT on settlement fee @ 23%", money(fee * Decimal("0.23"), ccy)),
    ]
    if sec.kind == "bond":
        rate = Decimal("0.0005")
    else:
        rate = Decimal("0.0010") if ccy == "JPY" else Decimal("0.0012")
    return money(gross * rate, ccy), items


# ---------------------------------------------------------------- a rendered document


@dataclass
class Rendered:
    lines: list[str]
    security_name: str | None
    stated: set[str]  # canonical fields the document prints
    font: str = "Courier"
    size: float = 9
    bold_lines: int = 1  # leading lines set in bold in the PDF
    counterparty: str | None = None  # the house's name as this layout prints it, when not as registered


BASE_STATED = {
    "trade_date",
    "settlement_date",
    "side",
    "quantity",
    "price",
    "currency",
    "gross_amount",
    "net_amount",
    "account",
    "counterparty",
    "trade_reference",
}


def stated_for(t: Trade, *, isin: bool = True, cusip: bool = False, **omit: bool) -> set[str]:
    """The usual fields, plus commission/fees/accrued when the trade has them."""
    stated = set(BASE_STATED)
    if isin:
        stated.add("isin")
    if cusip and t.sec.cusip:
        stated.add("cusip")
    if t.commission is not None:
        stated.add("commission")
    if t.fee_items:
        stated.add("fees")
    if t.bond:
        stated.add("accrued_interest")
    for name, dropped in omit.items():
        if dropped:
            stated.discard(name)
    return stated


# ---------------------------------------------------------------- templated layouts


def render_halvorsen(t: Trade) -> Rendered:
    """Halvorsen Brothers & Co. LLC, New York: two columns of dotted key/value pairs side by side."""
    s = t.sec

    def usd(value: Decimal) -> str:
        return "$" + us(value)

    if t.bond and s.government:
        name = f"US TREASURY {s.bond_word.upper()} {s.coupon:.3f}% {d_us(s.maturity)}"
    elif t.bond:
        name = f"{caps(s.issuer)} {s.coupon:.3f}% {d_us(s.maturity)}"
    else:
        name = f"{caps(s.issuer)} {s.share_class}"
    capacity = "PRINCIPAL" if t.bond and s.government else "AGENT"
    rows: list[tuple[tuple[str, str] | None, tuple[str, str] | None]] = [
        (("Trade Date", d_us(t.trade_date)), ("Settlement Date", d_us(t.settle_date))),
        (("Account No.", t.account), ("Confirm No.", t.reference or "")),
    ]
    if t.bond:
        rows += [
            (("Par Value", us(t.quantity, 0)), ("Price", us(t.price, price_decimals(t.price, 3)))),
            (("CUSIP", s.cusip or ""), ("ISIN", s.isin)),
            (("Currency", "USD"), ("Yield to Mat.", t.extra["yield"] + "%")),
            (("Coupon", f"{s.coupon:.3f}%"), ("Maturity", d_us(s.maturity))),
        ]
    else:
        rows += [
            (("Quantity", us(t.quantity, 0)), ("Price", us(t.price, 4))),
            (("Symbol", s.ticker or ""), ("CUSIP", s.cusip or "")),
            (("Currency", "USD"), ("ISIN", s.isin)),
            (("Exec Time", t.extra["time"] + " ET"), ("Market", s.venue or "")),
        ]
    amounts: list[tuple[str, str]] = [("Principal Amount", usd(t.gross))]
    if t.bond:
        amounts.append(("Accrued Interest", usd(t.accrued or Decimal(0))))
    amounts.append(("Commission", usd(t.commission or Decimal(0))))
    if t.bond:
        amounts.append(("Interest Days", str(t.days)))
    amounts += [(label, usd(amount)) for label, amount in t.fee_items]
    amount_rows = [
        (amounts[i], amounts[i + 1] if i + 1 < len(amounts) else None) for i in range(0, len(amounts), 2)
    ]

    def two_columns(pairs: list[tuple[tuple[str, str] | None, tuple[str, str] | None]]) -> list[str]:
        out = []
        for left, right in pairs:
            text_left = f"{dots(left[0], 18)} {left[1]}" if left else ""
            text_right = f"{dots(right[0], 18)} {right[1]}" if right else ""
            out.append((text_left.ljust(42) + text_right).rstrip())
        return out

    lines = [
        "HALVORSEN BROTHERS & CO. LLC".ljust(60) + "TRADE CONFIRMATION",
        "120 Broad Street, New York, NY 10005".ljust(60) + "Member FINRA / SIPC",
        "",
        ("YOU BOUGHT" if t.buy else "YOU SOLD").ljust(60) + f"Capacity: {capacity}",
        "",
        *two_columns(rows),
        "",
        f"Description: {name}",
        "",
        *two_columns(amount_rows),
        f"{dots('Net Amount', 18)} {usd(t.net)}",
        "",
        "All amounts in USD. Securities are held subject to the terms of your account agreement.",
        f"Halvorsen Brothers & Co. LLC acted as {capacity.lower()} in this transaction.",
    ]
    return Rendered(lines, name, stated_for(t, cusip=True) | {"security_name"})


def render_altmark(t: Trade) -> Rendered:
    """Altmark Bankhaus AG, Frankfurt: a vertical label : value settlement note, German number style."""
    s = t.sec
    transaction = "Purchase" if t.buy else "Sale"
    if t.bond:
        issued = s.maturity.year - 10 if s.maturity else 0
        name = f"{de(s.coupon or Decimal(0), 3)} % {s.issuer} {s.bond_word} {issued}/{s.maturity.year if s.maturity else ''}"
    else:
        name = f"{s.issuer} {s.share_class}"
    width = 34

    def row(label: str, value: str) -> str:
        return f"{label.ljust(24)}: {value}"

    def amount(label: str, value: Decimal) -> str:
        return f"{label.ljust(width)}: EUR {de(value).rjust(14)}"

    ids = f"{s.isin} / {s.local_id}" if s.local_id else s.isin
    lines = [
        "Altmark Bankhaus AG · Neue Mainzer Straße 41 · 60311 Frankfurt am Main",
        "",
        " " * 46 + f"Frankfurt am Main, {d_dot(t.trade_date)}",
        "SECURITIES SETTLEMENT NOTE",
        transaction,
        "",
        row("Settlement note no.", t.reference or ""),
        row("Order no.", t.extra["order"]),
        row("Securities account", t.account),
        row("Transaction type", transaction),
        row("Trading venue", s.venue or "OTC / Altmark Bankhaus AG"),
        row("Trade date / time", f"{d_dot(t.trade_date)} {t.extra['time']}"),
        row("Value date", d_dot(t.settle_date)),
        "",
        row("Security", name),
        row("ISIN / WKN" if s.local_id else "ISIN", ids),
    ]
    if t.bond:
        lines += [
            row("Nominal", f"EUR {de(t.quantity)}"),
            row("Price", f"{de(t.price, price_decimals(t.price, 3))} %"),
            row("Coupon / maturity", f"{de(s.coupon or Decimal(0), 3)} % / {d_dot(s.maturity)}"),
        ]
    else:
        lines += [
            row("Quantity", f"{de(t.quantity, 0)} shares"),
            row("Price", f"EUR {de(t.price, price_decimals(t.price, 3))}"),
        ]
    lines += ["", amount("Market value", t.gross)]
    if t.bond:
        lines.append(amount(f"Accrued interest ({t.days} days)", t.accrued or Decimal(0)))
    lines.append(amount("Commission", t.commission or Decimal(0)))
    lines += [amount(label, value) for label, value in t.fee_items]
    lines += [
        " " * (width + 6) + "-" * 14,
        amount("Amount to your debit" if t.buy else "Amount to your credit", t.net),
        f"Value {d_dot(t.settle_date)}, booked to current account {t.extra['cash']}.",
        "",
        "This note is produced by machine and bears no signature. Altmark Bankhaus AG, Frankfurt am Main.",
    ]
    return Rendered(lines, name, stated_for(t) | {"security_name"})


def render_thamesgate(t: Trade) -> Rendered:
    """Thamesgate Stockbrokers plc, London: a contract note whose bargain is one row of a table."""
    s = t.sec
    name = s.short_name if t.bond else f"{s.issuer} {s.share_class}"
    headers = ["Bargain Date", "Settlement", "B/S", "Quantity", "Stock", "Price GBP"]
    values = [
        d_short(t.trade_date),
        d_short(t.settle_date),
        "BUY" if t.buy else "SELL",
        us(t.quantity, 0),
        name,
        us(t.price, price_decimals(t.price, 3 if t.bond else 4)),
    ]
    widths = [max(len(h), len(v)) for h, v in zip(headers, values, strict=True)]
    aligns = ["<", "<", "<", ">", "<", ">"]

    def table_row(cells: list[str]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, aligns, widths, strict=True)).rstrip()

    indent = sum(widths[:4]) + 2 * 4
    ids = f"ISIN {s.isin}" + (f"  SEDOL {s.sedol}" if s.sedol else "")
    charge_lines = [("Consideration", t.gross)]
    if t.bond:
        charge_lines.append((f"Accrued interest ({t.days} days)", t.accrued or Decimal(0)))
    rate = "0.05%" if t.bond else "0.20%"
    charge_lines.append((f"Commission ({rate})", t.commission or Decimal(0)))
    charge_lines += t.fee_items
    pad = " " * 34
    lines = [
        "THAMESGATE STOCKBROKERS PLC",
        "14 Cannon Walk, London EC4N 6AP",
        "Authorised and regulated by the Financial Conduct Authority",
        "",
        f"CONTRACT NOTE{'':<34}Contract No: {t.reference}",
        f"Account: {t.account:<36}Tax point: {d_short(t.trade_date)}",
        "We have today dealt on your behalf as agent, subject to the rules of the London Stock Exchange.",
        "",
        table_row(headers),
        table_row(["-" * w for w in widths]),
        table_row(values),
        " " * indent + ids,
        "",
        *(f"{pad}{label:<32}{us(value):>14}" for label, value in charge_lines),
        pad + "-" * 46,
        f"{pad}{('Total due from you' if t.buy else 'Total due to you') + ' (GBP)':<32}{us(t.net):>14}",
        "",
        "Thamesgate Stockbrokers plc. Registered in England and Wales No. 04418203.",
        "Please retain this contract note for tax purposes.",
    ]
    return Rendered(lines, name, stated_for(t) | {"security_name"})


def render_lacroix(t: Trade) -> Rendered:
    """Lacroix Frères & Associés SA, Paris: a letter; shares as agent, bonds as principal."""
    s = t.sec

    def eur(value: Decimal) -> str:
        return keep(f"{fr(value)} EUR")

    if t.bond:
        name = f"{s.issuer.upper()} {fr(s.coupon or Decimal(0), 3)} % {d_dmy(s.maturity)}"
        verb = "sold to you" if t.buy else "bought from you"
        opening = (
            f"We confirm that on {d_dmy(t.trade_date)} we have {verb}, as principal, a nominal amount of "
            f"{eur(t.quantity)} of {keep(name)} (ISIN {s.isin}) at a clean price of "
            f"{keep(fr(t.price, price_decimals(t.price, 3)) + ' %')}, for settlement on {d_dmy(t.settle_date)}."
        )
        middle = (
            f"The consideration amounts to {eur(t.gross)}, to which accrued interest of "
            f"{eur(t.accrued or Decimal(0))} for {t.days} days is added. Being a principal transaction at a "
            f"net price, it bears no brokerage."
        )
    else:
        name = s.issuer.upper()
        verb = "purchased" if t.buy else "sold"
        opening = (
            f"We hereby confirm that on {d_dmy(t.trade_date)} we have {verb} for your account "
            f"{keep(fr(t.quantity, 0))} shares of {keep(name)} (ISIN {s.isin}) on {keep(s.venue or '')} at a "
            f"price of {eur(t.price)} per share, for settlement on {d_dmy(t.settle_date)}."
        )
        charges = [f"our brokerage of {eur(t.commission or Decimal(0))}"]
        charges += [f"{label} of {eur(value)}" for label, value in t.fee_items]
        listed = ", ".join(charges[:-1]) + " and " + charges[-1] if len(charges) > 1 else charges[0]
        added = "added to it" if t.buy else "deducted from it"
        middle = f"The gross amount of the transaction is {eur(t.gross)}; {listed} are {added}."
    closing = (
        f"The total of {eur(t.net)} will be debited to your account for value {d_dmy(t.settle_date)}."
        if t.buy
        else f"The net proceeds of {eur(t.net)} will be credited to your account for value {d_dmy(t.settle_date)}."
    )
    lines = [
        "LACROIX FRÈRES & ASSOCIÉS SA",
        "Entreprise d'investissement - 27, rue de la Chaussée-d'Antin, 75009 Paris",
        "",
        " " * 56 + f"Paris, {d_dmy(t.trade_date)}",
        f"Our ref.: {t.reference}",
        f"Your account: {t.account}",
        "",
        "TRADE ADVICE (AVIS D'OPÉRÉ)",
        "",
        "Dear Sir or Madam,",
        "",
    ]
    for paragraph in (opening, middle, closing):
        lines += wrap(paragraph, 88)
        lines.append("")
    lines += [
        "Please advise us of any discrepancy within 48 hours of receipt.",
        "",
        "Yours faithfully,",
        "",
        "Middle Office, Lacroix Frères & Associés SA",
    ]
    return Rendered(lines, name, stated_for(t) | {"security_name"}, font="Helvetica", size=10)


def render_sakura(t: Trade) -> Rendered:
    """Sakurabashi Securities Co., Ltd., Tokyo: a trade report of two small tables, whole yen."""
    s = t.sec
    name = s.issuer.upper()

    def table(headers: list[str], values: list[str], aligns: str) -> list[str]:
        widths = [max(len(h), len(v)) for h, v in zip(headers, values, strict=True)]
        head = "  ".join(f"{h:{a}{w}}" for h, a, w in zip(headers, aligns, widths, strict=True))
        rule = "  ".join("=" * w for w in widths)
        row = "  ".join(f"{v:{a}{w}}" for v, a, w in zip(values, aligns, widths, strict=True))
        return [" " + head.rstrip(), " " + rule, " " + row.rstrip()]

    ((tax_label, tax),) = t.fee_items
    lines = [
        "SAKURABASHI SECURITIES CO., LTD.",
        "1-4-7 Nihonbashi-Kabutocho, Chuo-ku, Tokyo 103-0026",
        "Financial Instruments Business Operator, Director-General of Kanto Local Finance Bureau No. 3107",
        "",
        "TRADE REPORT (TORIHIKI HOKOKUSHO)",
        f"Report No.    {t.reference:<30}Issue Date    {d_jp(t.trade_date)}",
        f"Account No.   {t.account:<30}Account Type  Specified (Tokutei)",
        "Currency      JPY",
        "",
        *table(
            ["Trade Date", "Settle Date", "Code", "B/S", "Quantity", "Unit Price", "Amount"],
            [
                d_jp(t.trade_date),
                d_jp(t.settle_date),
                s.local_id or "",
                "BUY" if t.buy else "SELL",
                us(t.quantity, 0),
                us(t.price, decimals_of(t.price)),
                us(t.gross, 0),
            ],
            "<<<<>>>",
        ),
        f" Issue: {name}",
        f" ISIN: {s.isin}   Market: {s.venue}   Exec Time: {t.extra['time']}",
        "",
        *table(
            ["Commission", tax_label, "Net Settlement Amount"],
            [us(t.commission or Decimal(0), 0), us(tax, 0), us(t.net, 0)],
            ">>>",
        ),
        "",
        "Net settlement amount is "
        + ("payable by you" if t.buy else "payable to you")
        + " on the settle date.",
        "Sakurabashi Securities Co., Ltd.",
    ]
    return Rendered(lines, name, stated_for(t) | {"security_name"})


def render_rigi(t: Trade) -> Rendered:
    """Rigi Privatbank AG, Zürich: an advice with dotted leaders and Swiss grouping (1'234.50)."""
    s = t.sec
    ccy = t.currency
    kind = "PURCHASE" if t.buy else "SALE"
    venue = "SIX Swiss Exchange" if s.country == "CH" else (s.venue or "OTC")
    if t.bond:
        name = f"{s.coupon:.3f}% {s.issuer} {s.maturity.year if s.maturity else ''}"
        holding = [
            f"   {ccy} {ch(t.quantity, 0)} nominal  {name}",
            f"   at {ch(t.price, price_decimals(t.price, 2))}%",
        ]
        title = "BOND TRANSACTION"
    else:
        name = f"{s.issuer}, {'common shares' if s.share_class == 'COM' else s.share_class}"
        holding = [f"   {ch(t.quantity, 0)}  {name}", f"   at {ccy} {ch(t.price)}"]
        title = "STOCK EXCHANGE TRANSACTION"
    ids = f"Valor {s.local_id} / ISIN {s.isin}" if s.local_id else f"ISIN {s.isin}"

    def leader(label: str, value: Decimal) -> str:
        return f"{dots(label, 50)} {ccy} {ch(value):>14}"

    amounts = [leader("Transaction value", t.gross)]
    if t.bond:
        amounts.append(leader(f"Accrued interest {t.days} days", t.accrued or Decimal(0)))
    amounts.append(leader("Brokerage", t.commission or Decimal(0)))
    amounts += [leader(label, value) for label, value in t.fee_items]
    final = f"Debit value {d_dot(t.settle_date)}" if t.buy else f"Credit value {d_dot(t.settle_date)}"
    lines = [
        "RIGI PRIVATBANK AG",
        "Bahnhofstrasse 88, CH-8001 Zürich".ljust(58) + f"Zürich, {d_dot(t.trade_date)}",
        "",
        f"{title} - {kind}",
        "",
        f"{'Our reference':<20}{t.reference}",
        f"{'Portfolio':<20}{t.account}",
        f"{'Trade date':<20}{d_dot(t.trade_date)}  {t.extra['time'][:5]}",
        f"{'Value date':<20}{d_dot(t.settle_date)}",
        f"{'Place of execution':<20}{venue}",
        "",
        f"We have {'bought' if t.buy else 'sold'} for your account",
        holding[0],
        f"   {ids}",
        holding[1],
        "",
        *amounts,
        " " * 56 + "-" * 14,
        leader(final, t.net),
        "",
        "Please check this advice. Without objection within 30 days it is deemed approved.",
        "Rigi Privatbank AG, Zürich",
    ]
    return Rendered(lines, name, stated_for(t) | {"security_name"})


# ---------------------------------------------------------------- unseen layouts


def render_corvid(t: Trade) -> Rendered:
    """Corvid Fixed Income LLC, Chicago: a principal dealer's ticket in capitals, from its own side."""
    s = t.sec
    verb = "WE SOLD TO YOU" if t.buy else "WE BOUGHT FROM YOU"
    if t.bond:
        words = "TREASURY " + s.bond_word.upper() if s.government else caps(s.issuer)
        name = f"{words} {s.coupon:.3f}% DUE {d_us_text(s.maturity).upper()}"
        qty = f"{us(t.quantity, 0)} FACE"
        price = us(t.price, price_decimals(t.price, 3))
    else:
        name = f"{caps(s.issuer)} COMMON"
        qty = f"{us(t.quantity, 0)} SHS"
        price = us(t.price, 4)
    lines = [
        "CORVID FIXED INCOME LLC" + " " * 26 + "*** TRADE CONFIRMATION ***",
        "311 W. Monroe St, Chicago IL 60606 - Member FINRA, SIPC",
        "",
        f"REF {t.reference}   ACCT {t.account}   RR {t.extra['rr']}   CCY USD",
        "",
        f"{verb:<22}{qty:>16}",
        f"{'DESCRIPTION':<22}{name}",
        f"{'CUSIP ' + (s.cusip or ''):<22}{'PRICE ' + price:>16}"
        + (f"   YIELD {t.extra['yield']} TO MAT" if t.bond else ""),
        f"TRADE DATE {d_us_text(t.trade_date)}    SETTLE {d_us_text(t.settle_date)}",
        "",
        f"{'PRINCIPAL':<16}{us(t.gross):>16}",
    ]
    if t.bond:
        lines.append(f"{'ACCRUED INT':<16}{us(t.accrued or Decimal(0)):>16}   ({t.days} DAYS)")
    lines += [
        f"{'FEES':<16}{us(t.fees):>16}",
        f"{'NET AMOUNT':<16}{us(t.net):>16}   {'DUE FROM YOU' if t.buy else 'DUE TO YOU'}",
        "",
        "CORVID FIXED INCOME LLC ACTED AS PRINCIPAL FOR ITS OWN ACCOUNT. THE PRICE INCLUDES ANY MARKUP",
        "OR MARKDOWN. YIELD AND OTHER DETAILS FURNISHED ON REQUEST.",
    ]
    stated = stated_for(t, isin=False, cusip=True) | {"security_name"}
    return Rendered(lines, name, stated, counterparty=t.counterparty.upper())


def render_nordvik(t: Trade) -> Rendered:
    """Nordvik Securities AB: a trading app's notification, each label stacked above its value."""
    s = t.sec
    ccy = t.currency
    name = s.short_name or (
        f"{s.issuer} {s.coupon:.3f}% {s.maturity.year if s.maturity else ''}" if t.bond else s.issuer
    )
    pairs = [
        ("ACTION", "Bought" if t.buy else "Sold"),
        ("INSTRUMENT", name),
        ("ISIN", s.isin),
        ("MARKET", s.venue or "OTC"),
        ("TRADE DATE", f"{d_iso(t.trade_date)} {t.extra['time']} CET"),
        ("SETTLEMENT DATE", d_iso(t.settle_date)),
        ("NOMINAL" if t.bond else "QUANTITY", plain(t.quantity, 0)),
        (
            "PRICE",
            f"{plain(t.price, decimals_of(t.price))} %"
            if t.bond
            else f"{plain(t.price, decimals_of(t.price))} {ccy}",
        ),
        ("AMOUNT", f"{plain(t.gross, places(ccy))} {ccy}"),
    ]
    if t.bond:
        pairs.append(
            ("ACCRUED INTEREST", f"{plain(t.accrued or Decimal(0), places(ccy))} {ccy} ({t.days} days)")
        )
    pairs += [
        ("BROKERAGE", f"{plain(t.commission or Decimal(0), places(ccy))} {ccy}"),
        ("CHARGES AND TAXES", f"{plain(t.fees, places(ccy))} {ccy}"),
        ("TOTAL TO PAY" if t.buy else "TOTAL TO RECEIVE", f"{plain(t.net, places(ccy))} {ccy}"),
        ("ACCOUNT", t.account),
        ("YOUR ORDER REFERENCE", t.extra["client_ref"]),
    ]
    lines = ["NORDVIK", "Trade notification", "", "Your order has been executed.", ""]
    for label, value in pairs:
        lines += [label, value, ""]
    lines += [
        "Questions? Reply to this message or call +46 8 555 012 00.",
        "Nordvik Securities AB, Stockholm. Authorised by Finansinspektionen.",
    ]
    stated = stated_for(t) | {"security_name"}
    stated.discard("trade_reference")  # only the client's own order reference is printed
    return Rendered(lines, name, stated, font="Helvetica", size=10, bold_lines=2)


def render_aurelia(t: Trade) -> Rendered:
    """Aurelia Global Markets Limited, Dublin: an invoice of numbered line items in any currency."""
    s = t.sec
    ccy = t.currency
    dp = places(ccy)

    def amount(value: Decimal, negative: bool = False) -> str:
        text = us(value, dp)
        return f"({text})" if negative else f"{text} "

    if t.bond:
        name = f"{s.issuer} {s.coupon:.3f}% {d_dmy(s.maturity)}"
        what = f"{'Purchase' if t.buy else 'Sale'} {ccy} nominal"
        rate = us(t.price, price_decimals(t.price, 3)) + "%"
    else:
        name = f"{s.issuer} ord. shs"
        what = "Purchase" if t.buy else "Sale"
        rate = us(t.price, max(decimals_of(t.price), dp))
    items = [(what, us(t.quantity, 0), rate, amount(t.gross))]
    if t.bond:
        items.append(
            (f"Accrued interest, {t.days} days", "", f"{s.coupon:.3f}%", amount(t.accrued or Decimal(0)))
        )
    commission_rate = "0.05%" if t.bond else ("0.10%" if ccy == "JPY" else "0.12%")
    items.append(("Commission", "", commission_rate, amount(t.commission or Decimal(0), not t.buy)))
    for label, value in t.fee_items:
        text, _, pct = label.partition(" @ ")
        items.append((text, "", pct, amount(value, not t.buy)))
    lines = [
        "AURELIA GLOBAL MARKETS LIMITED",
        "2 Custom House Plaza, IFSC, Dublin 1, Ireland. Regulated by the Central Bank of Ireland.",
        "",
        f"CONTRACT NOTE / INVOICE {t.reference}".rjust(92),
        f"Bill to account: {t.account}",
        f"Dealing date:    {d_weekday(t.trade_date)}",
        f"Value date:      {d_weekday(t.settle_date)}",
        "",
        f"{'#':>2}  {'Description':<40}{'Quantity':>12}{'Rate':>14}{'Amount ' + ccy:>18}",
        "-" * 88,
    ]
    for number_, (text, qty, rate_, value) in enumerate(items, start=1):
        lines.append(f"{number_:>2}  {text:<40}{qty:>12}{rate_:>14}{value:>18}")
        if number_ == 1:
            lines.append(f"{'':>2}  {name}")
            lines.append(f"{'':>2}  ISIN {s.isin}" + (f"  CUSIP {s.cusip}" if s.cusip else ""))
    lines += [
        " " * 70 + "-" * 18,
        f"{'    TOTAL PAYABLE BY YOU' if t.buy else '    TOTAL DUE TO YOU':<68}{amount(t.net):>20}",
        "",
        "Amounts in brackets are deducted. Aurelia Global Markets Limited acted as agent.",
        f"VAT No. IE 3318742QH. Settlement against payment in {ccy}.",
    ]
    stated = stated_for(t, cusip=True) | {"security_name"}
    return Rendered(lines, name, stated)


# ---------------------------------------------------------------- the nine layouts


@dataclass(frozen=True)
class Layout:
    name: str
    group: str
    house: str
    render: Callable[[Trade], Rendered]
    charges: Charges
    equities: tuple[Security, ...]
    bonds: tuple[Security, ...]
    bond_count: int
    accounts: tuple[str, ...]
    reference: Callable[[random.Random, dt.date], str | None]
    equity_decimals: tuple[int, ...] = (2,)


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "halvorsen",
        "templated",
        "Halvorsen Brothers & Co. LLC",
        render_halvorsen,
        charges_halvorsen,
        US_EQUITIES,
        US_CORPORATES + US_TREASURIES,
        5,
        ("4TR-20931", "4TR-31177", "7QX-00482"),
        lambda r, d: f"HB{d:%y%m%d}-{r.randint(10000, 99999)}",
        (2, 2, 4),
    ),
    Layout(
        "altmark",
        "templated",
        "Altmark Bankhaus AG",
        render_altmark,
        charges_altmark,
        EUR_EQUITIES,
        EUR_BONDS,
        5,
        ("0046 2217 09", "0046 3381 12", "0081 0045 77"),
        lambda r, d: f"{d:%Y}-{d:%m%d}-{r.randint(100000, 999999)}",
        (2, 3),
    ),
    Layout(
        "thamesgate",
        "templated",
        "Thamesgate Stockbrokers plc",
        render_thamesgate,
        charges_thamesgate,
        GBP_EQUITIES,
        GBP_BONDS,
        4,
        ("TG-0045821", "TG-0061130", "TG-0072294"),
        lambda r, d: f"TG/{d:%y%m%d}/{r.randint(1, 9999):05d}",
        (2, 3, 4),
    ),
    Layout(
        "lacroix",
        "templated",
        "Lacroix Frères & Associés SA",
        render_lacroix,
        charges_lacroix,
        EUR_EQUITIES,
        EUR_BONDS,
        5,
        ("00451-22871-03", "00451-30992-11"),
        lambda r, d: f"LF/OP/{d:%Y}/{r.randint(1, 99999):06d}",
        (2,),
    ),
    Layout(
        "sakura",
        "templated",
        "Sakurabashi Securities Co., Ltd.",
        render_sakura,
        charges_sakura,
        JPY_EQUITIES,
        (),
        0,
        ("102-558731", "102-604418"),
        lambda r, d: f"SB-{d:%Y%m%d}-{r.randint(1, 999999):06d}",
        (0,),
    ),
    Layout(
        "rigi",
        "templated",
        "Rigi Privatbank AG",
        render_rigi,
        charges_rigi,
        (*CHF_EQUITIES, EUR_EQUITIES[0], US_EQUITIES[2]),
        (*CHF_BONDS, EUR_BONDS[2], US_CORPORATES[1]),
        5,
        ("1188-4471.001", "1188-5093.002"),
        lambda r, d: f"BA-{d:%Y}-{r.randint(100000, 999999)}",
        (2,),
    ),
    Layout(
        "corvid",
        "unseen",
        "Corvid Fixed Income LLC",
        render_corvid,
        charges_corvid,
        US_EQUITIES,
        US_CORPORATES + US_TREASURIES,
        8,
        ("77-30918-2", "77-41025-9"),
        lambda r, d: f"CFI{r.randint(1000000, 9999999)}",
        (2, 4),
    ),
    Layout(
        "nordvik",
        "unseen",
        "Nordvik Securities AB",
        render_nordvik,
        charges_nordvik,
        EUR_EQUITIES + GBP_EQUITIES[:2] + US_EQUITIES[:2],
        EUR_BONDS + GBP_BONDS[:1],
        4,
        ("ISK 9922-118 873", "KF 9922-204 118"),
        lambda r, d: None,
        (2, 3),
    ),
    Layout(
        "aurelia",
        "unseen",
        "Aurelia Global Markets Limited",
        render_aurelia,
        charges_aurelia,
        (
            US_EQUITIES[0],
            EUR_EQUITIES[3],
            EUR_EQUITIES[5],
            GBP_EQUITIES[2],
            CHF_EQUITIES[1],
            JPY_EQUITIES[0],
            JPY_EQUITIES[3],
        ),
        (US_CORPORATES[0], EUR_BONDS[4], GBP_BONDS[2], CHF_BONDS[1]),
        4,
        ("AGM-0045-EQ", "AGM-0045-FI", "AGM-0112-GL"),
        lambda r, d: f"AGM-CN-{r.randint(1000000, 9999999)}",
        (2, 4),
    ),
)


def approximate_yield(sec: Security, price: Decimal, settle: dt.date) -> str:
    """A yield to maturity printed beside the price (a distractor; the simple approximation)."""
    assert sec.coupon is not None and sec.maturity is not None
    years = Decimal((sec.maturity - settle).days) / Decimal("365.25")
    value = (sec.coupon + (100 - price) / years) / ((100 + price) / 2) * 100
    return f"{value.quantize(Decimal('0.001'))}"


def balanced_plan(
    rng: random.Random, bonds: int, pdfs: int, bond_pdfs: int, *, balanced: bool = True
) -> list[tuple[str, str, bool]]:
    """Kinds, client sides and PDF flags for twelve documents: six buys and six sells, `pdfs` of
    them printed to PDF (`bond_pdfs` of those bonds, when there are bonds) and, when `balanced`,
    both sides among the bonds and among the equities."""
    while True:
        kinds = ["bond"] * bonds + ["equity"] * (DOCS_PER_LAYOUT - bonds)
        rng.shuffle(kinds)
        sides = ["BUY", "SELL"] * (DOCS_PER_LAYOUT // 2)
        rng.shuffle(sides)
        ok = True
        for kind in {"bond", "equity"} & set(kinds):
            chosen = {s for k, s in zip(kinds, sides, strict=True) if k == kind}
            if kind == "bond" and bonds < 2:
                continue
            ok = ok and chosen == {"BUY", "SELL"}
        if ok or not balanced:
            break
    bond_index = [i for i, k in enumerate(kinds) if k == "bond"]
    equity_index = [i for i, k in enumerate(kinds) if k == "equity"]
    pdf = set(rng.sample(bond_index, bond_pdfs)) if bond_index else set()
    pdf |= set(rng.sample(equity_index, pdfs - len(pdf)))
    return [(k, s, i in pdf) for i, (k, s) in enumerate(zip(kinds, sides, strict=True))]


def layout_trades(layout: Layout) -> list[tuple[Trade, bool]]:
    """The layout's twelve trades, each with whether it is printed to PDF (five of them, two bonds
    among those when there are bonds; the sides are not balanced within each kind)."""
    rng = random.Random(f"{SEED}:{layout.name}")
    trades = []
    for i, (kind, side, as_pdf) in enumerate(balanced_plan(rng, layout.bond_count, 5, 2, balanced=False)):
        sec = rng.choice(layout.bonds if kind == "bond" else layout.equities)
        trade_date = pick_trade_date(rng)
        quantity, price = pick_quantity_and_price(rng, sec, layout.equity_decimals)
        if kind == "equity" and sec.currency == "JPY" and rng.random() < 0.25:
            price += Decimal("0.5")
        extra = {
            "time": exec_time(rng),
            "order": str(rng.randint(10_000_000, 99_999_999)),
            "cash": f"0046 {rng.randint(1000, 9999)} 00",
            "rr": f"{rng.randint(10, 99)}",
            "client_ref": f"PM-{rng.randint(10000, 99999)}",
        }
        trade = make_trade(
            layout=layout.name,
            group=layout.group,
            doc_id=f"{layout.name}-{i + 1:02d}",
            sec=sec,
            side=side,
            trade_date=trade_date,
            quantity=quantity,
            price=price,
            charges=layout.charges,
            account=rng.choice(layout.accounts),
            counterparty=layout.house,
            reference=layout.reference(rng, trade_date),
            extra=extra,
        )
        if kind == "bond":
            trade.extra["yield"] = approximate_yield(sec, price, trade.settle_date)
        trades.append((trade, as_pdf))
    return trades


# ---------------------------------------------------------------- truth and output


def truth(t: Trade, stated: Iterable[str], security_name: str | None, content_type: str) -> dict:
    ccy = t.currency
    values = {
        "trade_date": d_iso(t.trade_date),
        "settlement_date": d_iso(t.settle_date),
        "side": t.side,
        "quantity": canonical(t.quantity),
        "isin": t.sec.isin,
        "cusip": t.sec.cusip,
        "security_name": security_name,
        "price": canonical(t.price),
        "currency": ccy,
        "gross_amount": money_text(t.gross, ccy),
        "commission": money_text(t.commission, ccy) if t.commission is not None else None,
        "fees": money_text(t.fees, ccy),
        "accrued_interest": money_text(t.accrued, ccy) if t.accrued is not None else None,
        "net_amount": money_text(t.net, ccy),
        "account": t.account,
        "counterparty": t.counterparty,
        "trade_reference": t.reference,
    }
    wanted = set(stated)
    fields = {name: values[name] for name in CANONICAL_FIELDS if name in wanted}
    missing = [name for name, value in fields.items() if value is None]
    if missing:
        raise AssertionError(f"{t.doc_id}: stated fields without a value: {missing}")
    return {
        "layout": t.layout,
        "group": t.group,
        "kind": t.sec.kind,
        "content_type": content_type,
        "fields": fields,
    }


def render_pdf(
    rendered: Rendered, *, title: str, author: str, creator: str, landscape: bool = False, margin: float = 15
) -> bytes:
    """One A4 page (more if long, or where a line is PAGE_BREAK); lines are placed as written, never
    re-wrapped, so every figure stays on one line and pypdf extracts the text as printed. The
    creation date is fixed, so a rerun writes identical bytes."""
    pdf = FPDF(orientation="L" if landscape else "P", format="A4")
    pdf.set_creation_date(PDF_CREATION_DATE)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator(creator)
    pdf.set_auto_page_break(auto=True, margin=margin)
    pdf.add_page()
    height = rendered.size * 0.5
    for index, line in enumerate(rendered.lines):
        if line == PAGE_BREAK:
            pdf.add_page()
            continue
        bold = "B" if index < rendered.bold_lines else ""
        pdf.set_font(rendered.font, bold, rendered.size)
        pdf.cell(0, height, line if line else " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def clear(directory: Path) -> None:
    """Remove what an earlier run of this generator wrote in its own output directory."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.iterdir():
        if path.is_file() and path.suffix in {".txt", ".pdf", ".json", ".fix"}:
            path.unlink()


Document = tuple[Trade, Rendered, bool]  # a trade, as rendered, and whether it is printed to PDF


def write_documents(
    directory: Path,
    documents: Iterable[Document],
    *,
    author: str,
    creator: str,
    landscape: bool = False,
    margin: float = 15,
) -> list[Path]:
    """Empty `directory` of an earlier run's output, then write each document there, as a PDF
    (render_pdf) or a UTF-8 text file, with its truth beside it. Trailing spaces are dropped, and a
    counterparty the layout prints otherwise than as registered replaces the trade's in the truth."""
    clear(directory)
    written = []
    for trade, rendered, as_pdf in documents:
        doc_id = trade.doc_id
        rendered.lines = [line if line == PAGE_BREAK else line.rstrip() for line in rendered.lines]
        if rendered.counterparty is not None:
            trade.counterparty = rendered.counterparty
        for line in rendered.lines:
            line.encode("latin-1")  # the PDF core fonts are Latin-1; the text files are UTF-8
        if as_pdf:
            path = directory / f"{doc_id}.pdf"
            title = f"Trade confirmation {doc_id}"
            pdf = render_pdf(
                rendered, title=title, author=author, creator=creator, landscape=landscape, margin=margin
            )
            path.write_bytes(pdf)
            content_type = "application/pdf"
        else:
            path = directory / f"{doc_id}.txt"
            text_lines = ["\n" if line == PAGE_BREAK else line for line in rendered.lines]
            path.write_text("\n".join(text_lines) + "\n", encoding="utf-8")
            content_type = "text/plain"
        write_json(
            directory / f"{doc_id}.truth.json",
            truth(trade, rendered.stated, rendered.security_name, content_type),
        )
        written.append(path)
    return written


def report(written: list[Path], where: Path) -> None:
    pdfs = sum(1 for path in written if path.suffix == ".pdf")
    print(f"wrote {len(written)} documents ({pdfs} PDF) and their truth under {where}")


def write_layout(layout: Layout) -> list[Path]:
    documents = ((trade, layout.render(trade), as_pdf) for trade, as_pdf in layout_trades(layout))
    return write_documents(
        CORPUS / layout.group / layout.name, documents, author=layout.house, creator=CREATOR
    )


# ---------------------------------------------------------------- the held-out groups' layouts


Item = TypeVar("Item")  # what a held-out layout deals: a Security, or a house's own listing of one


@dataclass(frozen=True)
class PlannedLayout(Generic[Item]):
    """A layout of a held-out group (make_heldout2.py and later): twelve documents on a balanced plan,
    each built from the next item of a shuffled deck of its kind."""

    name: str
    house: str
    build: Callable[[random.Random, str, str, str, Item], Trade]  # (rng, doc_id, kind, side, item)
    render: Callable[[Trade, bool], Rendered]  # (trade, printed to PDF) -> Rendered
    equities: tuple[Item, ...]
    bonds: tuple[Item, ...]
    bond_count: int
    pdfs: int
    bond_pdfs: int
    landscape: bool = False  # its PDFs are printed on landscape pages


def planned_documents(
    layout: PlannedLayout[Item], rng: random.Random, check: Callable[[Trade], None] | None = None
) -> list[Document]:
    """The layout's twelve trades (each passed to `check`, when given), rendered, each with whether
    it is printed to PDF (balanced_plan). Securities are dealt from a shuffled deck of each kind, so
    that every one is used before any repeats."""
    plan = balanced_plan(rng, layout.bond_count, layout.pdfs, layout.bond_pdfs)
    decks: dict[str, list[Item]] = {"equity": [], "bond": []}
    out = []
    for index, (kind, side, as_pdf) in enumerate(plan):
        deck = decks[kind]
        if not deck:
            items = layout.bonds if kind == "bond" else layout.equities
            deck += rng.sample(items, k=len(items))
        trade = layout.build(rng, f"{layout.name}-{index + 1:02d}", kind, side, deck.pop())
        if check is not None:
            check(trade)
        out.append((trade, layout.render(trade, as_pdf), as_pdf))
    return out


def write_planned_group(
    group: str,
    layouts: Iterable[PlannedLayout[Item]],
    *,
    seed: str,
    creator: str,
    margin: float = 15,
    check: Callable[[Trade], None] | None = None,
) -> None:
    """Write each layout's documents (planned_documents, with a random.Random seeded with `seed`
    followed by the layout's name) under CORPUS / group / the layout's name, and say so."""
    written: list[Path] = []
    for layout in layouts:
        directory = CORPUS / group / layout.name
        written += write_documents(
            directory,
            planned_documents(layout, random.Random(seed + layout.name), check),
            author=layout.house,
            creator=creator,
            landscape=layout.landscape,
            margin=margin,
        )
    report(written, CORPUS / group)


# ---------------------------------------------------------------- SWIFT MT515


@dataclass(frozen=True)
class Counterparty:
    name: str
    bic: str
    show_name: bool  # False: only the BIC is printed, so the legal name is not stated


def charges_market(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, list]:
    """Charges in the standard messages, labelled with their MT515 19A qualifier."""
    ccy = sec.currency
    items: list[tuple[str, Decimal]] = []
    if sec.kind == "bond":
        if sec.government:
            return None, []
        return money(gross * Decimal("0.0005"), ccy), [
            ("CHAR", Decimal("7.50") if ccy != "JPY" else Decimal(1000))
        ]
    commission = money(gross * Decimal("0.0008"), ccy)
    if ccy == "USD" and side == "SELL":
        items.append(("REGF", money(gross * Decimal("22.90") / 1_000_000, ccy, ROUND_UP)))
    if ccy == "GBP" and side == "BUY":
        items.append(("STAM", money(gross * Decimal("0.005"), ccy, ROUND_HALF_UP)))
    if ccy == "GBP" and gross > 10000:
        items.append(("OTHR", Decimal("1.00")))  # PTM levy
    if ccy == "EUR" and side == "BUY" and sec.country == "FR":
        items.append(("TRAX", money(gross * Decimal("0.003"), ccy)))
    if ccy == "CHF":
        items.append(("STAM", money(gross * Decimal("0.00075"), ccy)))
        items.append(("STEX", _min(money(gross * Decimal("0.00005"), ccy), "1.00")))
    if ccy == "JPY":
        items.append(("COAX", money(commission * Decimal("0.10"), ccy, ROUND_DOWN)))
    if ccy in {"USD", "EUR"} and not items:
        items.append(("CHAR", Decimal("2.50")))
    return commission, items


def message_trade(
    name: str,
    index: int,
    sec: Security,
    side: str,
    trade_date: dt.date,
    quantity: Decimal,
    price: Decimal,
    account: str,
    party: Counterparty,
    reference: str,
) -> Trade:
    """The trade of the standard message `name`-NN (the formats group), with the market's charges."""
    return make_trade(
        layout=name,
        group="formats",
        doc_id=f"{name}-{index + 1:02d}",
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=charges_market,
        account=account,
        counterparty=party.name,
        reference=reference,
    )


MT515_CASES = (
    # security, side, counterparty, client BIC, account
    (
        US_EQUITIES[1],
        "BUY",
        Counterparty("Oberon Securities LLC", "OBSCUS33", True),
        "RIGIBKZZ",
        "SAFE-220417",
    ),
    (EUR_BONDS[3], "SELL", Counterparty("Altmark Bankhaus AG", "ALTMDEFF", True), "NORDSESS", "3318-20041"),
    (
        GBP_EQUITIES[0],
        "BUY",
        Counterparty("Thamesgate Stockbrokers plc", "THMGGB2L", False),
        "AURLIE2D",
        "AGM-0045-EQ",
    ),
    (
        US_TREASURIES[0],
        "BUY",
        Counterparty("Corvid Fixed Income LLC", "CRVDUS44", True),
        "PNCRUS3B",
        "77-30918-2",
    ),
    (
        CHF_EQUITIES[2],
        "SELL",
        Counterparty("Rigi Privatbank AG", "RIGICHZZ", True),
        "HLVBUS33",
        "1188-4471.001",
    ),
    (
        JPY_EQUITIES[1],
        "SELL",
        Counterparty("Sakurabashi Securities Co., Ltd.", "SKRBJPJT", False),
        "KSTLGB2L",
        "JP-0093311",
    ),
)


def mt515_message(rng: random.Random, index: int) -> tuple[bytes, dict]:
    sec, side, party, client_bic, account = MT515_CASES[index]
    trade_date = pick_trade_date(rng)
    quantity, price = pick_quantity_and_price(rng, sec, 2)
    reference = f"{party.bic[:4]}{trade_date:%y%m%d}{rng.randint(1000, 9999)}"
    t = message_trade("mt515", index, sec, side, trade_date, quantity, price, account, party, reference)
    ccy = t.currency
    if sec.kind == "bond":
        name = f"{caps(sec.issuer)} {swift_number(sec.coupon or Decimal(0))} {d_swift(sec.maturity)}"
    else:
        name = caps(sec.issuer)
    client_q, broker_q = ("BUYR", "SELL") if t.buy else ("SELL", "BUYR")
    broker_party = (
        f":95Q::{broker_q}//{party.name.upper()}" if party.show_name else f":95P::{broker_q}//{party.bic}"
    )
    lines = [
        ":16R:GENL",
        f":20C::SEME//{reference}",
        ":23G:NEWM",
        f":98C::PREP//{d_swift(t.trade_date)}{rng.randint(16, 19):02d}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}",
        ":22F::TRTR//TRAD",
        ":16R:LINK",
        f":20C::RELA//{'ORD' + str(rng.randint(100000, 999999))}",
        ":16S:LINK",
        ":16S:GENL",
        ":16R:CONFDET",
        f":98A::TRAD//{d_swift(t.trade_date)}",
        f":98A::SETT//{d_swift(t.settle_date)}",
        (
            f":90A::DEAL//PRCT/{swift_number(t.price)}"
            if t.bond
            else f":90B::DEAL//ACTU/{ccy}{swift_number(t.price)}"
        ),
    ]
    if t.bond:
        lines.append(f":99A::DAAC//{t.days:03d}")
    lines += [
        f":22H::BUSE//{'BUYI' if t.buy else 'SELL'}",
        ":22H::PAYM//APMT",
        ":16R:CONFPRTY",
        f":95P::{client_q}//{client_bic}",
        f":97A::SAFE//{account}",
        ":16S:CONFPRTY",
        ":16R:CONFPRTY",
        broker_party,
        ":16S:CONFPRTY",
        f":36B::CONF//{'FAMT' if t.bond else 'UNIT'}/{swift_number(t.quantity)}",
        f":35B:ISIN {sec.isin}",
    ]
    if sec.cusip:
        lines.append(f"/US/{sec.cusip}")
    lines += [
        name,
        ":16S:CONFDET",
        ":16R:SETDET",
        ":22F::SETR//TRAD",
        ":16R:SETPRTY",
        f":95P::{'REAG' if t.buy else 'DEAG'}//{party.bic}",
        ":16S:SETPRTY",
        ":16R:SETPRTY",
        f":95P::PSET//{ {'USD': 'DTCYUS33', 'EUR': 'CEDELULL', 'GBP': 'CRSTGB22', 'CHF': 'INSECHZZ', 'JPY': 'JJSDJPJT'}[ccy] }",
        ":16S:SETPRTY",
    ]
    amounts = [("DEAL", t.gross)]
    if t.commission is not None:
        amounts.append(("EXEC", t.commission))
    amounts += t.fee_items
    if t.bond:
        amounts.append(("ACRU", t.accrued or Decimal(0)))
    amounts.append(("SETT", t.net))
    for qualifier, value in amounts:
        lines += [":16R:AMT", f":19A::{qualifier}//{ccy}{swift_amount(value, ccy)}", ":16S:AMT"]
    lines.append(":16S:SETDET")
    header = (
        f"{{1:F01{party.bic}AXXX{rng.randint(1000, 9999)}{rng.randint(100000, 999999)}}}"
        f"{{2:I515{client_bic}XXXXN}}{{4:"
    )
    text = header + "\r\n" + "\r\n".join(lines) + "\r\n-}"
    stated = stated_for(t, cusip=True, counterparty=not party.show_name) | {"security_name"}
    if party.show_name:
        t.counterparty = party.name.upper()
    return text.encode("ascii"), truth(t, stated, name, "text/plain")


# ---------------------------------------------------------------- FIX 4.4 Confirmation


FIX_MISC_FEE_TYPE = {
    "REGF": "1",
    "TRAX": "2",
    "STEX": "4",
    "STAM": "5",
    "OTHR": "7",
    "CHAR": "7",
    "COAX": "9",
}

FIX_CASES = (
    # security, side, counterparty, with SecurityDesc(107)
    (US_EQUITIES[4], "SELL", Counterparty("Halvorsen Brothers & Co. LLC", "HLVBUS33", True), True),
    (EUR_EQUITIES[4], "BUY", Counterparty("Lacroix Freres & Associes SA", "LCRXFRPP", True), True),
    (US_CORPORATES[2], "BUY", Counterparty("Oberon Securities LLC", "OBSCUS33", True), True),
    (GBP_BONDS[1], "SELL", Counterparty("Thamesgate Stockbrokers plc", "THMGGB2L", True), True),
    (JPY_EQUITIES[4], "BUY", Counterparty("Sakurabashi Securities Co., Ltd.", "SKRBJPJT", False), False),
    (EUR_BONDS[2], "SELL", Counterparty("Altmark Bankhaus AG", "ALTMDEFF", False), True),
)


def fix_message(fields: list[tuple[int, str]]) -> bytes:
    """BeginString, BodyLength and CheckSum around the body fields (35 first)."""
    body = "".join(f"{tag}={value}{SOH}" for tag, value in fields)
    head = f"8=FIX.4.4{SOH}9={len(body.encode('latin-1'))}{SOH}"
    checksum = sum((head + body).encode("latin-1")) % 256
    return (head + body + f"10={checksum:03d}{SOH}").encode("latin-1")


def fix_amount(value: Decimal, currency: str) -> str:
    return money_text(value, currency)


def fix_percentage(coupon: Decimal | None) -> str:
    """FIX Percentage type: a fraction, 0.051 for 5.1 %."""
    return canonical((coupon or Decimal(0)) / 100)


def fix_confirmation(rng: random.Random, index: int) -> tuple[bytes, dict]:
    sec, side, party, with_desc = FIX_CASES[index]
    trade_date = pick_trade_date(rng)
    quantity, price = pick_quantity_and_price(rng, sec, (2, 4))
    account = rng.choice(
        ("OPS-FI-GLOBAL", "OPS-BAL-USD") if sec.kind == "bond" else ("OPS-EQ-GLOBAL", "OPS-BAL-USD")
    )
    confirm_id = f"{party.bic[:4]}-C{trade_date:%y%m%d}-{rng.randint(100, 999)}"
    t = message_trade("fix44", index, sec, side, trade_date, quantity, price, account, party, confirm_id)
    ccy = t.currency
    if sec.kind == "bond":
        desc = f"{sec.issuer.upper()} {sec.coupon}% {sec.maturity:%m/%d/%Y}" if sec.maturity else sec.issuer
    else:
        desc = sec.issuer.upper()
    sending = (
        f"{d_swift(t.trade_date)}-{rng.randint(17, 20):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    )
    transact = f"{d_swift(t.trade_date)}-{exec_time(rng, 13, 16)}"
    fields: list[tuple[int, str]] = [
        (35, "AK"),
        (49, party.bic),
        (56, "OPSUITEBO"),
        (34, str(rng.randint(100, 9999))),
        (52, sending),
        (664, confirm_id),
        (666, "0"),  # ConfirmTransType: new
        (773, "2"),  # ConfirmType: confirmation
        (665, "4"),  # ConfirmStatus: confirmed
        (453, "2"),
        (448, party.name if party.show_name else party.bic),
        (447, "D" if party.show_name else "B"),
        (452, "1"),  # executing firm
        (448, account.split("-")[1] + "-DESK"),
        (447, "D"),
        (452, "3"),  # client id
        (60, transact),
        (75, d_swift(t.trade_date)),
        (55, sec.ticker or "[N/A]"),
    ]
    if sec.cusip:
        fields += [(48, sec.cusip), (22, "1"), (454, "1"), (455, sec.isin), (456, "4")]
    else:
        fields += [(48, sec.isin), (22, "4")]
    fields.append(
        (
            167,
            ("TNOTE" if sec.government and ccy == "USD" else "GOVT" if sec.government else "CORP")
            if sec.kind == "bond"
            else "CS",
        )
    )
    if sec.kind == "bond":
        fields += [(541, d_swift(sec.maturity)), (223, fix_percentage(sec.coupon))]
    if with_desc:
        fields.append((107, desc))
    fields += [
        (80, canonical(t.quantity)),
        (54, "1" if t.buy else "2"),
        (15, ccy),
        (862, "1"),
        (528, "P" if sec.kind == "bond" else "A"),  # OrderCapacity: principal / agency
        (863, canonical(t.quantity)),
        (79, account),
        (6, canonical(t.price)),
        (423, "1" if sec.kind == "bond" else "2"),  # PriceType: 1 percentage of par, 2 per unit
        (381, fix_amount(t.gross, ccy)),
    ]
    if t.bond:
        fields += [
            (157, str(t.days)),
            (158, fix_percentage(sec.coupon)),
            (159, fix_amount(t.accrued or Decimal(0), ccy)),
        ]
    fields += [(118, fix_amount(t.net, ccy)), (63, "0"), (64, d_swift(t.settle_date))]
    if t.commission is not None:
        fields += [(12, fix_amount(t.commission, ccy)), (13, "3")]
    if t.fee_items:
        fields.append((136, str(len(t.fee_items))))
        for qualifier, value in t.fee_items:
            fields += [(137, fix_amount(value, ccy)), (138, ccy), (139, FIX_MISC_FEE_TYPE[qualifier])]
    stated = stated_for(t, cusip=True, counterparty=not party.show_name)
    if with_desc:
        stated.add("security_name")
    return fix_message(fields), truth(t, stated, desc if with_desc else None, "text/plain")


def write_formats() -> list[Path]:
    written = []
    for name, extension, count, build in (
        ("mt515", "txt", MESSAGES_PER_FORMAT, mt515_message),
        ("fix44", "fix", MESSAGES_PER_FORMAT, fix_confirmation),
    ):
        directory = CORPUS / "formats" / name
        clear(directory)
        rng = random.Random(f"{SEED}:{name}")
        for index in range(count):
            content, data = build(rng, index)
            doc_id = f"{name}-{index + 1:02d}"
            path = directory / f"{doc_id}.{extension}"
            path.write_bytes(content)
            write_json(directory / f"{doc_id}.truth.json", data)
            written.append(path)
    return written


def main() -> None:
    written: list[Path] = []
    for layout in LAYOUTS:
        written += write_layout(layout)
    written += write_formats()
    report(written, CORPUS)


if __name__ == "__main__":
    main()
