"""A fifth held-out group of broker trade confirmations, `heldout5`, with the truth of each
(`python -m bench.documents.make_heldout5`, from the repository root).

heldout4 is scored once and then final, so the next held-out measure of the generic extractor is a
new group made the same way. Its three layouts come from how Singapore stockbrokers, Belgian banks
and Mexican brokerage houses (casas de bolsa) word and lay out their confirmations. None of these
markets is the home market of an earlier layout (make_corpus.py: halvorsen, altmark, thamesgate,
lacroix, sakura, rigi, corvid, nordvik, aurelia; make_heldout2.py: ridgeline, vallombrosa, harcourt;
make_heldout3.py: tallowood, skarvlia, beaupre; make_heldout4.py: vindhya, swartberg, albarracin;
market's northbridge, kestrel, meridian). They were written without reading the extractor, its
templates, its tests, its scoring script or the documents of the other groups:

- kallang: Kallang Bay Securities Pte. Ltd., Singapore. An SGX-ST trading member's "contract note
  cum tax invoice": the letterhead with the company and GST registration number, the client's
  address beside a block of contract particulars (contract no., contract date, due date, account
  no., CDP account, trading representative, payment mode), the sentence "We have this day BOUGHT
  (SOLD) for your account and risk, as agent, subject to the rules ... of SGX-ST and CDP", a one-row
  table (market, security, quantity, price, currency, amount) with the stock code, ISIN, order
  number and time on the line below, and the charges stacked under the amount column: brokerage,
  CDP clearing fee 0.0325 %, SGX trading fee 0.0075 %, SGX settlement instruction fee, GST on all of
  them (7 %, 8 % from 2023), and "NET AMOUNT DUE FROM YOU / TO YOU". Dates 12-MAR-2020, numbers
  1,234,567.89, share prices to 3 dp. SGD shares, one USD-traded REIT (with an indicative SGD
  equivalent), and SGX-listed Singapore Government Securities and SGD retail bonds with accrued
  interest. Payment by EPS/GIRO/PayNow, or through an SRS account.
- leiedal: Leiedal Bank NV, Gent. A Belgian bank's "borderel" in Dutch (Flemish): letterhead with
  the enterprise number, the client's address on the right, "Gent, 13 maart 2020", a sentence that
  refers to the client's order, one line with the side, quantity and security and one with the
  market, time and price, then a signed settlement ledger from the account's point of view (debits
  with a minus sign: "Bruto bedrag", "Verlopen interest", "Makelaarsloon", "Beurstaks 0,35 %", the
  French FTT on French purchases, "Netto bedrag"), the current account to be debited or credited
  with its value date, and the MiFID ex-post cost summary. Dates 12/03/2020, numbers 1.234.567,89.
  Shares on Euronext Brussels, Amsterdam and Paris as agent; OLOs on Euronext Brussels as agent
  (exempt from the stock-exchange tax); corporate bonds sold to or bought from the client by the
  bank as counterparty ("hebben wij u verkocht"), with no brokerage but with the 0,12 % tax.
- tepeyac: Tepeyac Casa de Bolsa, S.A. de C.V., Grupo Financiero Tepeyac, Ciudad de México. A
  Mexican broker's "confirmación de operaciones" in Spanish: letterhead with the RFC, the client and
  contract block, the market (capitales or dinero), a table of executions (boleta, time, exchange:
  BMV or BIVA, títulos, price, importe) with the total and average price, then a summary with
  "(+)", "(-)" and "(=)" markers: importe, comisión por intermediación, IVA 16 % sobre comisión, and
  "NETO A CARGO" or "NETO A SU FAVOR". Prices with a peso sign ($45.32), dates 12/mar/2020. BMV
  shares and US shares of the Sistema Internacional de Cotizaciones (SIC) priced in pesos, settled
  T+2; Bonos M and fixed-rate certificados bursátiles dealt by the house on its own account ("COMPRA
  EN DIRECTO": "la Casa de Bolsa ... le vendió"), quoted per $100 nominal with a clean price to 6 dp,
  settled T+1 (24 horas), with accrued interest on 182-day coupon periods, actual/360.

Sources and habits followed (public material, structure and wording only; nothing copied): the SGX
Rulebook on contract notes (brokerage, stamp duty, GST and other fees shown separately, SGX and CDP
charges distinguished from the member's), Singapore brokers' published schedules (brokerage by
contract size with a minimum, CDP clearing fee 0.0325 %, SGX trading fee 0.0075 %, the S$0.35
settlement instruction fee and GST on all of them), the T+2 cycle of SGX since December 2018, CDP
and SRS accounts; Belgian brokers' tariff pages and borderels (makelaarsloon by slices of EUR
10.000, the taks op de beursverrichtingen at 0,35 % capped at EUR 1.600 for shares and 0,12 % capped
at EUR 1.300 for bonds, OLOs exempt, the French FTT on purchases, verlopen interest, valutadatum);
Mexican brokerage confirmations and the Banxico conventions for Bonos M (VN $100, 182-day coupons,
accrued interest actual/360, prices per 100 of nominal), the commission plus 16 % IVA, Indeval
settlement, BMV and BIVA, and the SIC.

The helpers of make_corpus.py (securities, money arithmetic, trades, holiday-aware trade dates, the
balanced plan of sides, kinds and PDFs, tick prices, coupon periods, accrued restatement, and the
writing of documents, PDFs and truth), make_heldout2.py's calendars and make_heldout4.py's figure
checks are imported, not copied. Everything is invented: houses, issuers, people, accounts,
references, telephone and bank numbers. ISINs carry valid check digits, as do the Singapore UEN, the
Belgian enterprise number, the Belgian account numbers and IBANs, the Mexican RFCs and CLABEs in the
distractors. Output is deterministic: one random.Random per layout seeded with a string, and a fixed
PDF creation date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from stdnum import iban as stdnum_iban
from stdnum.mx import rfc as stdnum_rfc
from stdnum.sg import uen as stdnum_uen

from bench.documents.make_corpus import (
    MONTHS,
    SPANISH_MONTHS,
    US_EQUITIES,
    ChargeList,
    Charges,
    PlannedLayout,
    Rendered,
    Security,
    Trade,
    add_business_days,
    approximate_yield,
    coupon_period,
    d_dmy,
    de,
    exec_time,
    isin_bond,
    keep,
    make_trade,
    money,
    pick_bond_date,
    pick_open_date,
    price_decimals,
    restate_accrued,
    stated_for,
    tick_price,
    us,
    weekday_holidays,
    with_isin_check,
    wrap,
    write_planned_group,
)
from bench.documents.make_heldout2 import GOOD_FRIDAYS, TARGET_HOLIDAYS, nth_weekday
from bench.documents.make_heldout4 import check_figures, half_up

SEED = "opsuite-documents-heldout5-v1"
GROUP = "heldout5"
CREATOR = "opsuite bench/documents/make_heldout5.py"  # the PDFs' creator
YEARS = range(2019, 2024)
DUTCH_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
SPANISH_ABBREVIATIONS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")

# ---------------------------------------------------------------- small helpers


@dataclass(frozen=True)
class Listing:
    """A security as one house lists it: its own description, and for shares a price range, the
    exchange code and the market it is dealt on; `flag` marks a house-specific property (a French
    large cap that pays the FTT, a government bond, a SIC listing)."""

    sec: Security
    name: str
    low: str = "0"
    high: str = "0"
    code: str = ""
    series: str = ""
    market: str = ""
    flag: bool = False


def pick_from(rng: random.Random, choices: tuple[int, ...]) -> Decimal:
    return Decimal(rng.choice(choices))


# ---------------------------------------------------------------- kallang (Singapore stockbroker)


KALLANG_HOUSE = "Kallang Bay Securities Pte. Ltd."
KALLANG_UEN = "198904417" + stdnum_uen.calc_local_company_check_digit("198904417")
assert stdnum_uen.is_valid(KALLANG_UEN)

SG_HOLIDAYS = weekday_holidays(
    "2019-01-01 2019-02-05 2019-02-06 2019-04-19 2019-05-01 2019-05-20 2019-06-05 2019-08-09 2019-08-12 "
    "2019-10-28 2019-12-25 "
    "2020-01-01 2020-01-27 2020-04-10 2020-05-01 2020-05-07 2020-05-25 2020-07-10 2020-07-31 2020-08-10 "
    "2020-12-25 "
    "2021-01-01 2021-02-12 2021-04-02 2021-05-13 2021-05-26 2021-07-20 2021-08-09 2021-11-04 "
    "2022-02-01 2022-02-02 2022-04-15 2022-05-02 2022-05-03 2022-05-16 2022-07-11 2022-08-09 2022-10-24 "
    "2022-12-26 "
    "2023-01-02 2023-01-23 2023-01-24 2023-04-07 2023-05-01 2023-06-02 2023-06-29 2023-08-09 2023-09-01 "
    "2023-11-13 2023-12-25"
)
SG_GST_8_FROM = dt.date(2023, 1, 1)


def d_sg(day: dt.date) -> str:
    return f"{day.day:02d}-{MONTHS[day.month - 1][:3].upper()}-{day.year}"


def sg_equity(issuer: str, code: str, isin_body: str, low: str, high: str, currency: str = "SGD") -> Listing:
    sec = Security(
        "equity",
        issuer,
        currency,
        "SG",
        with_isin_check(isin_body),
        ticker=code,
        venue="SGX-ST",
    )
    return Listing(sec, issuer.upper(), low, high, code=code, market="SGX")


def sg_bond(
    issuer: str, isin_body: str, coupon: str, maturity: dt.date, name: str, code: str, gov: bool
) -> Listing:
    sec = isin_bond(
        issuer,
        isin_body,
        "SGD",
        coupon,
        maturity,
        frequency=2,
        day_count="ACT/ACT" if gov else "ACT/365",
        gov=gov,
        word="Bond" if gov else "Notes",
    )
    return Listing(sec, name, code=code, market="SGX", flag=gov)


KALLANG_EQUITIES = (
    sg_equity("Tanjong Pagar Shipping Ltd", "T7P", "SG1T4471205", "0.480", "1.650"),
    sg_equity("Bukit Timah Land Ltd", "B4T", "SG1B2208357", "1.150", "4.380"),
    sg_equity("Straits Lion Bank Ltd", "S2L", "SG1S7730914", "11.80", "36.50"),
    sg_equity("Jurong Precision Engineering Ltd", "J5P", "SG1J0984423", "0.165", "0.480"),
    sg_equity("Sentosa Hospitality Trust", "S9RU", "SG1S5516720", "0.585", "1.120"),
    sg_equity("Raffles Cay Marine Ltd", "R8C", "SG1R3362081", "2.05", "6.90"),
    sg_equity("Orchard Digital US REIT", "OD8U", "SG1O2219846", "0.520", "1.080", currency="USD"),
    sg_equity("Kampong Glam Foods Ltd", "K3G", "SG1K6630127", "0.880", "2.640"),
)
KALLANG_BONDS = (
    sg_bond(
        "Government of Singapore",
        "SG7J2410925",
        "2.875",
        dt.date(2029, 7, 1),
        "SGS BOND 2.875% 01-JUL-2029",
        "NZ9S",
        True,
    ),
    sg_bond(
        "Government of Singapore",
        "SG7M1163528",
        "2.250",
        dt.date(2036, 8, 1),
        "SGS BOND 2.250% 01-AUG-2036",
        "N8JS",
        True,
    ),
    sg_bond(
        "Marina Crest Holdings Ltd",
        "SG6MC441520",
        "4.150",
        dt.date(2027, 9, 15),
        "MARINA CREST HLDGS 4.15% NOTES 15SEP2027",
        "M4CB",
        False,
    ),
    sg_bond(
        "Raffles Cay Marine Ltd",
        "SG6RC227081",
        "5.250",
        dt.date(2028, 3, 20),
        "RAFFLES CAY MARINE 5.25% NOTES 20MAR2028",
        "R5NB",
        False,
    ),
)


@dataclass(frozen=True)
class SingaporeClient:
    account: str
    address: tuple[str, ...]
    cdp: str  # the client's own securities account at CDP (not the broker account)
    payment: str  # CASH or SRS
    representative: str


KALLANG_CLIENTS = (
    SingaporeClient(
        "0412-3387156",
        ("MR TAN BOON HOCK", "BLK 418 BEDOK NORTH AVENUE 2", "#09-112", "SINGAPORE 460418"),
        "1681-0034-5521-7790",
        "CASH",
        "T05 JASON ONG KAI MING",
    ),
    SingaporeClient(
        "0412-5520931",
        ("MDM LIM SWEE LAN", "28 JALAN KEMBANGAN", "SINGAPORE 419124"),
        "1681-0091-2276-4408",
        "SRS",
        "T12 PRISCILLA NG",
    ),
    SingaporeClient(
        "0577-1048826",
        ("CHUA & SONS INVESTMENT PTE LTD", "10 ANSON ROAD #21-07", "INTERNATIONAL PLAZA", "SINGAPORE 079903"),
        "1681-0402-8815-3361",
        "CASH",
        "T05 JASON ONG KAI MING",
    ),
)


def sg_tick(price: Decimal) -> Decimal:
    if price < Decimal("0.2"):
        return Decimal("0.001")
    if price < 1:
        return Decimal("0.005")
    return Decimal("0.01")


def kallang_brokerage(gross: Decimal, ccy: str, bond: bool) -> Decimal:
    if bond:
        rate = Decimal("0.0012")
    elif gross <= 50_000:
        rate = Decimal("0.0028")
    elif gross <= 100_000:
        rate = Decimal("0.0022")
    else:
        rate = Decimal("0.0018")
    minimum = Decimal("25.00") if ccy == "SGD" else Decimal("18.00")
    return max(half_up(gross * rate, ccy), minimum)


def kallang_charges(trade_date: dt.date) -> Charges:
    gst = Decimal("0.08") if trade_date >= SG_GST_8_FROM else Decimal("0.07")

    def charges(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, ChargeList]:
        ccy = sec.currency
        brokerage = kallang_brokerage(gross, ccy, sec.kind == "bond")
        clearing = half_up(gross * Decimal("0.000325"), ccy)
        trading = half_up(gross * Decimal("0.000075"), ccy)
        instruction = Decimal("0.35") if ccy == "SGD" else Decimal("0.26")
        tax = half_up((brokerage + clearing + trading + instruction) * gst, ccy)
        return brokerage, [
            ("CDP Clearing Fee", clearing),
            ("SGX Trading Fee", trading),
            ("SGX Settlement Instruction Fee", instruction),
            (f"GST @ {gst * 100:.0f}%", tax),
        ]

    return charges


def sg_corporate_accrued(sec: Security, face: Decimal, settle: dt.date) -> tuple[Decimal, int]:
    """SGD corporate bonds: actual days since the last coupon over 365."""
    assert sec.coupon is not None
    last, _ = coupon_period(sec, settle)
    days = (settle - last).days
    return money(face * sec.coupon / 100 * Decimal(days) / 365, sec.currency), days


def kallang_quantity(rng: random.Random, price: Decimal) -> Decimal:
    """Board lots of 100 shares, more of them for cheaper shares."""
    if price < 1:
        lots = rng.choice((50, 80, 100, 150, 200, 250, 300, 500, 800, 1000))
    elif price < 5:
        lots = rng.choice((10, 20, 30, 50, 60, 100, 150, 200, 300))
    else:
        lots = rng.choice((1, 2, 3, 5, 8, 10, 15, 20, 30, 50))
    return Decimal(lots * 100)


def kallang_trade(rng: random.Random, doc_id: str, kind: str, side: str, listing: Listing) -> Trade:
    sec = listing.sec
    client = rng.choice(KALLANG_CLIENTS)
    if kind == "bond":
        quantity = pick_from(rng, (10_000, 20_000, 25_000, 50_000, 80_000, 100_000, 150_000, 250_000))
        decimals = rng.choice((2, 3, 3))
        price = Decimal(rng.randint(92 * 10**decimals, 108 * 10**decimals)).scaleb(-decimals)
        trade_date = pick_bond_date(rng, sec, SG_HOLIDAYS, 2, 7)
    else:
        price = tick_price(rng, listing.low, listing.high, sg_tick)
        quantity = kallang_quantity(rng, price)
        trade_date = pick_open_date(rng, SG_HOLIDAYS, 2)
    trade = make_trade(
        layout="kallang",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=kallang_charges(trade_date),
        account=client.account,
        counterparty=KALLANG_HOUSE,
        reference=f"{'B' if side == 'BUY' else 'S'}{trade_date:%y%m%d}-{rng.randint(1, 99_999):05d}",
    )
    if kind == "bond" and not listing.flag:
        restate_accrued(trade, *sg_corporate_accrued(sec, quantity, trade.settle_date))
    trade.extra = {
        "client": client.account,
        "order": f"{trade_date:%y%m%d}{rng.randint(1_000_000, 9_999_999)}",
        "time": exec_time(rng, 9, 16),
        "name": listing.name,
        "code": listing.code,
        "printed": d_sg(add_business_days(trade_date, 1)),
    }
    if sec.currency == "USD":
        trade.extra["fx"] = f"{Decimal(rng.randint(13_200, 14_200)) / 10_000:.4f}"
    if kind == "bond":
        trade.extra["yield"] = approximate_yield(sec, price, trade.settle_date)
    return trade


def render_kallang(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    client = next(c for c in KALLANG_CLIENTS if c.account == x["client"])
    ccy = t.currency
    width = 96
    srs = client.payment == "SRS"

    def particular(label: str, value: str) -> str:
        return f"{label:<16}: {value}"

    def charge(label: str, value: Decimal) -> str:
        return f"{'':<44}{label:<34}{us(value):>18}"

    right = [
        particular("Contract No.", t.reference or ""),
        particular("Contract Date", d_sg(t.trade_date)),
        particular("Due Date", d_sg(t.settle_date)),
        particular("Account No.", t.account),
        particular("CDP A/C No.", client.cdp),
        particular("Trading Rep.", client.representative),
        particular("Payment Mode", "SRS" if srs else "CASH"),
    ]
    left = list(client.address) + [""] * (len(right) - len(client.address))
    lines = [
        f"{'KALLANG BAY SECURITIES PTE. LTD.':<56}{'CONTRACT NOTE CUM TAX INVOICE':>40}",
        f"(Co. Reg. No. / GST Reg. No. {KALLANG_UEN})",
        "8 Marina View #31-02 Asia Square Tower 1 Singapore 018960",
        "Tel: +65 6590 4417   Fax: +65 6590 4418   Dealing: +65 6590 4400   www.kallangbay.com.sg",
        "Trading Member of Singapore Exchange Securities Trading Limited / Clearing Member of CDP",
        "-" * width,
    ]
    lines += [f"{a:<50}{b}" for a, b in zip(left, right, strict=True)]
    lines += ["-" * width, ""]
    verb = "BOUGHT" if t.buy else "SOLD"
    lines += wrap(
        f"We have this day {verb} for your account and risk, as agent, subject to the rules, regulations "
        "and customs of Singapore Exchange Securities Trading Limited (SGX-ST) and The Central Depository "
        "(Pte) Limited (CDP):",
        width,
    )
    lines += [
        "",
        f"{'Mkt':<5}{'Security':<42}{'Quantity':>11}{'Price':>11}{'  Curr':<7}{'Amount':>18}",
        "-" * width,
    ]
    price_text = us(t.price, price_decimals(t.price, 3))
    lines.append(
        f"{'SGX':<5}{x['name']:<42}{us(t.quantity, 0):>11}{price_text:>11}{'  ' + ccy:<7}{us(t.gross):>18}"
    )
    lines.append(f"{'':<5}Stock Code {x['code']}   ISIN {s.isin}   Order {x['order']}   Time {x['time']}")
    if t.bond:
        assert s.coupon is not None and s.maturity is not None
        basis = "ACT/ACT" if s.government else "ACT/365"
        lines.append(
            f"{'':<5}Nominal {ccy} {us(t.quantity, 0)} at {price_text} per 100   Coupon {s.coupon:.3f}% p.a. "
            f"semi-annual   Yield {x['yield']}%"
        )
        lines.append(f"{'':<5}Maturity {d_sg(s.maturity)}   Accrued interest basis {basis}")
    lines += [f"{'':<78}{'-' * 18}", charge("Contract Value", t.gross)]
    if t.bond:
        lines.append(charge(f"Accrued Interest ({t.days} days)", t.accrued or Decimal(0)))
    lines.append(charge("Brokerage", t.commission or Decimal(0)))
    for label, value in t.fee_items:
        lines.append(charge(label, value))
    lines.append(f"{'':<78}{'-' * 18}")
    due = "NET AMOUNT DUE FROM YOU" if t.buy else "NET AMOUNT DUE TO YOU"
    lines.append(f"{'':<44}{due:<34}{ccy + ' ' + us(t.net):>18}")
    lines.append(f"{'':<78}{'=' * 18}")
    if ccy == "USD":
        equivalent = money(t.net * Decimal(x["fx"]), "SGD")
        lines += [
            "",
            f"Settlement currency SGD at indicative rate USD 1 = SGD {x['fx']}: SGD {us(equivalent)}",
            "(the final SGD amount is fixed at the rate of the due date)",
        ]
    lines.append("")
    if t.buy and srs:
        lines += wrap(
            "Payment will be debited from your SRS account with Straits Lion Bank on the due date. Please ensure "
            "sufficient funds in your SRS account.",
            width,
        )
    elif t.buy:
        lines += wrap(
            f"Please pay by 12 noon on the due date by EPS, GIRO or PayNow to UEN {KALLANG_UEN} quoting "
            f"{t.reference}. Late payment interest is charged at 3% per annum above the prime rate.",
            width,
        )
    elif srs:
        lines += wrap("Sale proceeds will be credited to your SRS account on the due date.", width)
    else:
        lines += wrap(
            "Sale proceeds will be credited to your designated bank account through the Direct Crediting "
            "Service on the due date, provided the securities are in your CDP account.",
            width,
        )
    lines += [
        "",
        *wrap(
            f"This contract note is issued by {keep(KALLANG_HOUSE)} and is also a Tax Invoice. Please notify us "
            "in writing of any discrepancy within 3 market days of its date, failing which it is deemed "
            "correct. E. & O. E.",
            width,
        ),
        f"{'Computer-generated, no signature is required. Issued ' + x['printed'] + '.':<85}Page 1 of 1",
    ]
    return Rendered(
        lines, x["name"], stated_for(t) | {"security_name"}, font="Courier", size=8.5, bold_lines=1
    )


# ---------------------------------------------------------------- leiedal (Belgian bank, Dutch)


LEIEDAL_HOUSE = "Leiedal Bank NV"


def be_enterprise(body: str) -> str:
    """A Belgian enterprise (VAT) number 0xxx.xxx.xxx: 97 minus the first eight digits mod 97."""
    digits = f"0{body}"
    check = 97 - int(digits[:8]) % 97
    full = f"{digits}{check:02d}"
    return f"{full[:4]}.{full[4:7]}.{full[7:]}"


def be_account(body: str) -> str:
    """An old-format Belgian account number xxx-xxxxxxx-cc (cc = first ten digits mod 97, 0 -> 97)."""
    check = int(body) % 97 or 97
    return f"{body[:3]}-{body[3:]}-{check:02d}"


def be_iban(body: str) -> str:
    national = be_account(body).replace("-", "")
    compact = "BE" + stdnum_iban.calc_check_digits("BE00" + national) + national
    assert stdnum_iban.is_valid(compact)
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


LEIEDAL_VAT = be_enterprise("4128763")


def d_nl_long(day: dt.date) -> str:
    return f"{day.day} {DUTCH_MONTHS[day.month - 1]} {day.year}"


def be_signed(value: Decimal, debit: bool) -> str:
    return ("-" if debit and value else "") + de(value)


def eu_listing(issuer: str, isin_body: str, market: str, low: str, high: str, ftt: bool = False) -> Listing:
    sec = Security(
        "equity",
        issuer,
        "EUR",
        isin_body[:2],
        with_isin_check(isin_body),
        venue=market,
    )
    return Listing(sec, issuer.upper(), low, high, market=market, flag=ftt)


def be_bond(issuer: str, isin_body: str, coupon: str, maturity: dt.date, name: str, olo: bool) -> Listing:
    sec = isin_bond(issuer, isin_body, "EUR", coupon, maturity, frequency=1, day_count="ACT/ACT", gov=olo)
    return Listing(sec, name, market="Euronext Brussel" if olo else "buiten beurs", flag=olo)


LEIEDAL_EQUITIES = (
    eu_listing("Kortrijkse Textielgroep NV", "BE097441822", "Euronext Brussel", "18", "64"),
    eu_listing("Meetjesland Biscuits NV", "BE000386140", "Euronext Brussel", "38", "124"),
    eu_listing("Scheldepoort Logistics NV", "BE097520317", "Euronext Brussel", "22", "58"),
    eu_listing("Groep Van den Broeck NV", "BE000377815", "Euronext Brussel", "61", "182"),
    eu_listing("Ardennes Ciments SA", "BE097402256", "Euronext Brussel", "7", "19"),
    eu_listing("Zeeuwse Delta Verzekeringen NV", "NL001552098", "Euronext Amsterdam", "12", "41"),
    eu_listing("Société Lorraine d'Énergie SA", "FR001402763", "Euronext Parijs", "31", "92", ftt=True),
    eu_listing("Compagnie Vosgienne de Papeterie SA", "FR000061548", "Euronext Parijs", "8", "26"),
    eu_listing(
        "Groupe Champenois de Distribution SA", "FR001400K51", "Euronext Parijs", "24", "71", ftt=True
    ),
)
LEIEDAL_BONDS = (
    be_bond(
        "Koninkrijk België",
        "BE000034917",
        "0.90",
        dt.date(2029, 6, 22),
        "OLO 91 0,90% 22/06/2029",
        True,
    ),
    be_bond(
        "Koninkrijk België",
        "BE000035331",
        "1.40",
        dt.date(2037, 6, 22),
        "OLO 93 1,40% 22/06/2037",
        True,
    ),
    be_bond(
        "Groep Van den Broeck NV",
        "BE631144750",
        "2.375",
        dt.date(2027, 10, 14),
        "GROEP VAN DEN BROECK 2,375% 14/10/2027",
        False,
    ),
    be_bond(
        "Kortrijkse Textielgroep NV",
        "BE630872245",
        "3.125",
        dt.date(2029, 5, 5),
        "KORTRIJKSE TEXTIELGROEP 3,125% 05/05/2029",
        False,
    ),
)


@dataclass(frozen=True)
class BelgianClient:
    securities: str  # effectenrekening (the account)
    cash: str  # zichtrekening, printed as an IBAN
    address: tuple[str, ...]
    adviser: str
    reference_prefix: str = ""  # a client that quotes its own reference on every order


LEIEDAL_CLIENTS = (
    BelgianClient(
        be_account("7310412285"),
        be_iban("7310098847"),
        ("Dhr. en Mevr. PEETERS-CLAES", "Kouter 41 bus 3", "9000 GENT"),
        "Kantoor Gent-Kouter, tel. 09 265 41 10",
    ),
    BelgianClient(
        be_account("7310557301"),
        be_iban("7310221576"),
        ("Mevr. Anke DE SMET", "Sint-Salvatorskerkhof 12", "8000 BRUGGE"),
        "Kantoor Brugge-Zand, tel. 050 44 71 20",
    ),
    BelgianClient(
        be_account("7311204418"),
        be_iban("7310904463"),
        (
            "VANHOUTTE BEHEER BV",
            "t.a.v. Dhr. Pieter Vanhoutte",
            "Kortrijksesteenweg 1140",
            "9051 SINT-DENIJS-WESTREM",
        ),
        "Private Banking Gent, tel. 09 265 42 00",
        "VHB",
    ),
)
FRENCH_FTT = Decimal("0.003")


def leiedal_commission(gross: Decimal, market: str) -> Decimal:
    """Makelaarsloon: a flat fee up to EUR 2.500, then a fee per started slice of EUR 10.000."""
    slices = (gross / 10_000).to_integral_value(rounding=ROUND_CEILING)
    if market == "Euronext Brussel":
        return Decimal("7.50") if gross <= 2_500 else Decimal("15.00") * slices
    return Decimal("12.50") if gross <= 2_500 else Decimal("20.00") * slices


def leiedal_charges(listing: Listing) -> Charges:
    def charges(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, ChargeList]:
        if sec.kind == "bond":
            if listing.flag:  # an OLO on Euronext Brussels, as agent; exempt from the tax
                commission = max(half_up(gross * Decimal("0.0020")), Decimal("25.00"))
                return commission, [("Beurstaks (OLO, vrijgesteld)", Decimal("0.00"))]
            # the bank as counterparty: a net price, no brokerage, but the tax on bonds
            return None, [("Beurstaks 0,12 %", min(half_up(gross * Decimal("0.0012")), Decimal("1300.00")))]
        items = [("Beurstaks 0,35 %", min(half_up(gross * Decimal("0.0035")), Decimal("1600.00")))]
        if listing.flag and side == "BUY":
            items.append(("Franse taks op financiële transacties 0,30 %", half_up(gross * FRENCH_FTT)))
        return leiedal_commission(gross, listing.market), items

    return charges


def leiedal_quantity(rng: random.Random) -> Decimal:
    base = rng.choice((25, 40, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2500, 5000, 12000))
    if rng.random() < 0.25:
        base += rng.randint(1, 24)
    return Decimal(base)


def leiedal_trade(rng: random.Random, doc_id: str, kind: str, side: str, listing: Listing) -> Trade:
    sec = listing.sec
    client = rng.choice(LEIEDAL_CLIENTS)
    if kind == "bond":
        quantity = pick_from(rng, (10_000, 15_000, 20_000, 25_000, 50_000, 75_000, 100_000, 250_000))
        decimals = rng.choice((2, 2, 3))
        price = Decimal(rng.randint(86 * 10**decimals, 109 * 10**decimals)).scaleb(-decimals)
        trade_date = pick_bond_date(rng, sec, TARGET_HOLIDAYS, 2, 3)
    else:
        quantity = leiedal_quantity(rng)
        low = Decimal(listing.low)
        tick = Decimal("0.002") if low < 10 else Decimal("0.01")
        price = tick_price(rng, listing.low, listing.high, lambda _: tick)
        trade_date = pick_open_date(rng, TARGET_HOLIDAYS, 2)
    trade = make_trade(
        layout="leiedal",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=leiedal_charges(listing),
        account=client.securities,
        counterparty=LEIEDAL_HOUSE,
        reference=f"{trade_date:%Y}/{rng.randint(100_000, 999_999):07d}",
    )
    step = Decimal("0.05") if price < 20 else Decimal("0.50")
    limit = (price / step).to_integral_value(rounding=ROUND_CEILING) * step
    if side == "SELL":
        limit = max(step, limit - step * rng.randint(1, 4))
    trade.extra = {
        "client": client.securities,
        "order": f"{rng.randint(10_000_000, 99_999_999)}",
        "received": d_dmy(trade_date),
        "limit": de(limit, 2) + (" %" if kind == "bond" else " EUR") if rng.random() < 0.7 else "",
        "your_ref": f"{client.reference_prefix}-{rng.randint(100_000, 999_999)}"
        if client.reference_prefix
        else "",
        "time": exec_time(rng, 9, 17),
        "issued": d_nl_long(add_business_days(trade_date, 1)),
        "name": listing.name,
    }
    return trade


def render_leiedal(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    listing = next(item for item in (*LEIEDAL_EQUITIES, *LEIEDAL_BONDS) if item.sec == s)
    client = next(c for c in LEIEDAL_CLIENTS if c.securities == x["client"])
    width = 92
    principal = t.bond and not listing.flag
    debit = t.buy

    def amount(label: str, value: Decimal, negative: bool) -> str:
        return f"{label:<58}{'EUR':<6}{be_signed(value, negative):>16}"

    kind_word = "OBLIGATIES" if t.bond else "AANDELEN"
    title = f"BORDEREL VAN {'AANKOOP' if t.buy else 'VERKOOP'} - {kind_word}"
    lines = [
        f"{'LEIEDAL BANK':<{width - len(title)}}{title}",
        f"{LEIEDAL_HOUSE} - Kouter 8, 9000 Gent - BTW BE {LEIEDAL_VAT} - RPR Gent",
        "Tel. 09 265 40 00 - www.leiedalbank.be - BIC LEIDBE22 - FSMA-vergunning als kredietinstelling",
        "",
    ]
    lines += [f"{'':<50}{part}" for part in client.address]
    lines += [
        "",
        f"Gent, {x['issued']}",
        "",
        f"{'Effectenrekening':<22}{t.account}",
        f"{'Borderelnummer':<22}{t.reference}",
    ]
    if x["your_ref"]:
        lines.append(f"{'Uw referte':<22}{x['your_ref']}")
    lines.append(f"{'Uw contactpersoon':<22}{client.adviser}")
    lines.append("")
    limit = f", limiet {x['limit']}" if x["limit"] else ", zonder limiet (bestens)"
    if principal:
        sentence = (
            f"Ingevolge uw opdracht van {x['received']} (ordernummer {x['order']}{limit}) "
            + ("hebben wij u verkocht" if t.buy else "hebben wij van u gekocht")
            + ", als tegenpartij voor eigen rekening van de bank:"
        )
    else:
        sentence = (
            f"Ingevolge uw opdracht van {x['received']} (ordernummer {x['order']}{limit}) hebben wij voor uw "
            + ("rekening gekocht:" if t.buy else "rekening verkocht:")
        )
    lines += [*wrap(sentence, width), ""]
    side_word = "AANKOOP" if t.buy else "VERKOOP"
    if t.bond:
        assert s.coupon is not None and s.maturity is not None
        price_text = de(t.price, price_decimals(t.price, 2)) + " %"
        lines.append(f"{side_word:<10}nominaal EUR {de(t.quantity, 0)}   {x['name']}")
        lines.append(f"{'':<10}ISIN {s.isin}   jaarlijkse coupon {de(s.coupon, 3)} %")
        if principal:
            lines.append(
                f"{'':<10}Buiten beurs, Leiedal Bank NV als tegenpartij - {d_dmy(t.trade_date)} om {x['time']}"
            )
            lines.append(f"{'':<10}Nettokoers {price_text} (geen makelaarsloon)")
        else:
            lines.append(f"{'':<10}Euronext Brussel - uitgevoerd op {d_dmy(t.trade_date)} om {x['time']}")
            lines.append(f"{'':<10}Koers {price_text}")
    else:
        price_text = de(t.price, price_decimals(t.price, 2))
        lines.append(f"{side_word:<10}{de(t.quantity, 0)}   {x['name']}")
        lines.append(f"{'':<10}ISIN {s.isin}")
        lines.append(f"{'':<10}{listing.market} - uitgevoerd op {d_dmy(t.trade_date)} om {x['time']}")
        lines.append(f"{'':<10}Koers {price_text} EUR")
    lines += ["", "-" * width]
    if t.bond:
        gross_label = f"Bruto bedrag ({de(t.quantity, 0)} x {price_text})"
    else:
        gross_label = f"Bruto bedrag ({de(t.quantity, 0)} x {price_text})"
    lines.append(amount(gross_label, t.gross, debit))
    if t.bond:
        lines.append(amount(f"Verlopen interest ({t.days} dagen)", t.accrued or Decimal(0), debit))
    if t.commission is not None:
        lines.append(amount("Makelaarsloon", t.commission, True))
    for label, value in t.fee_items:
        lines.append(amount(label, value, True))
    lines.append(f"{'':<64}{'-' * 16}")
    lines.append(amount("Netto bedrag", t.net, debit))
    lines += ["-" * width, ""]
    verb = "Te debiteren van" if t.buy else "Te crediteren op"
    lines.append(f"{verb} zichtrekening {client.cash}, valuta {d_dmy(t.settle_date)}")
    lines.append("")
    # the MiFID ex-post cost summary: brokerage and taxes, plus on a principal deal the bank's margin
    # inside the price; never the taxes on their own
    margin = half_up(t.quantity * Decimal("0.0050")) if principal else Decimal(0)
    costs = (t.commission or Decimal(0)) + t.fees + margin
    share = (costs / t.gross * 100).quantize(Decimal("0.01"))
    summary = (
        f"Kosten en lasten van deze verrichting (MiFID, ex post): totaal EUR {keep(de(costs))}, of "
        f"{keep(de(share))} % van het bruto bedrag"
    )
    if principal:
        summary += f", waarvan marge van de bank begrepen in de koers EUR {keep(de(margin))}"
    lines += wrap(summary + ".", width)
    if principal:
        lines += wrap(
            "De bank trad op als tegenpartij voor eigen rekening. De koers is een nettokoers; de marge van "
            "de bank is erin begrepen.",
            width,
        )
    elif t.bond:
        lines += wrap("Verrichtingen in lineaire obligaties (OLO) zijn vrijgesteld van de beurstaks.", width)
    lines += [
        "",
        "Gelieve dit borderel na te kijken en ons binnen 30 dagen eventuele opmerkingen mee te delen.",
        "Dit document geldt als fiscaal attest voor de taks op de beursverrichtingen.",
    ]
    return Rendered(
        lines, x["name"], stated_for(t) | {"security_name"}, font="Helvetica", size=9, bold_lines=1
    )


# ---------------------------------------------------------------- tepeyac (Mexican casa de bolsa)


TEPEYAC_HOUSE = "Tepeyac Casa de Bolsa, S.A. de C.V., Grupo Financiero Tepeyac"
TEPEYAC_RFC = "TCB950612QK" + stdnum_rfc.calc_check_digit("TCB950612QK")
assert stdnum_rfc.is_valid(TEPEYAC_RFC, validate_check_digits=True)


def mx_holidays() -> set[dt.date]:
    """BMV and Indeval closing days of 2019-2023 that fall on weekdays."""
    days: set[dt.date] = set()
    for good_friday in GOOD_FRIDAYS:
        days |= {good_friday, good_friday - dt.timedelta(days=1)}
    for year in YEARS:
        days |= {
            nth_weekday(year, 2, 0, 1),  # Constitution Day (first Monday of February)
            nth_weekday(year, 3, 0, 3),  # Benito Juárez (third Monday of March)
            nth_weekday(year, 11, 0, 3),  # Revolution Day (third Monday of November)
        }
        days |= {dt.date(year, m, d) for m, d in ((1, 1), (5, 1), (9, 16), (11, 2), (12, 12), (12, 25))}
    return {day for day in days if day.weekday() < 5}


MX_HOLIDAYS = mx_holidays()


def mxn(value: Decimal, decimals: int = 2) -> str:
    return "$" + us(value, decimals)


def d_mx(day: dt.date) -> str:
    return f"{day.day:02d}/{SPANISH_ABBREVIATIONS[day.month - 1]}/{day.year}"


def d_mx_long(day: dt.date) -> str:
    return f"{day.day} de {SPANISH_MONTHS[day.month - 1]} de {day.year}"


def clabe(body: str) -> str:
    """An 18-digit CLABE: the check digit uses the weights 3, 7, 1."""
    total = sum(int(d) * w % 10 for d, w in zip(body, (3, 7, 1) * 6, strict=False))
    return body + str((10 - total % 10) % 10)


def mx_equity(issuer: str, code: str, series: str, isin_body: str, low: str, high: str) -> Listing:
    sec = Security("equity", issuer, "MXN", "MX", with_isin_check(isin_body), ticker=code, venue="BMV")
    return Listing(sec, issuer.upper(), low, high, code=code, series=series, market="capitales")


def sic_equity(us_sec: Security, low: str, high: str) -> Listing:
    sec = dataclasses.replace(us_sec, currency="MXN", venue="SIC")
    return Listing(sec, us_sec.issuer.upper(), low, high, code=us_sec.ticker or "", series="*", flag=True)


def mx_bond(
    issuer: str, isin_body: str, coupon: str, maturity: dt.date, name: str, tipo: str, code: str, series: str
) -> Listing:
    sec = isin_bond(issuer, isin_body, "MXN", coupon, maturity, frequency=2, day_count="ACT/360")
    sec = dataclasses.replace(sec, settle_days=1, government=tipo == "M", local_id=tipo)
    return Listing(sec, name, code=code, series=series, market="dinero", flag=tipo == "M")


TEPEYAC_EQUITIES = (
    mx_equity("Grupo Altomar, S.A.B. de C.V.", "ALTOMAR", "*", "MX01AL0C000", "31", "96"),
    mx_equity("Cementos del Bajío, S.A.B. de C.V.", "CBAJIO", "CPO", "MXP2251C110", "8", "23"),
    mx_equity("Grupo Financiero Anáhuac, S.A.B. de C.V.", "GFANAH", "O", "MXP3707A101", "62", "184"),
    mx_equity("Telecomunicaciones Sierra Madre, S.A.B. de C.V.", "TSIERRA", "L", "MX01TS0E000", "9", "19"),
    mx_equity("Fomento Minero Zacatecano, S.A.B. de C.V.", "FOMINZA", "B", "MX01FM1B000", "41", "128"),
    sic_equity(US_EQUITIES[1], "420", "1650"),
    sic_equity(US_EQUITIES[4], "1900", "5400"),
)
TEPEYAC_BONDS = (
    mx_bond(
        "Estados Unidos Mexicanos",
        "MX0MGO0000P",
        "7.50",
        dt.date(2029, 12, 13),
        "BONOS M 7.50% 13/12/2029",
        "M",
        "BONOS",
        "291213",
    ),
    mx_bond(
        "Estados Unidos Mexicanos",
        "MX0MGO0000R",
        "8.00",
        dt.date(2033, 5, 26),
        "BONOS M 8.00% 26/05/2033",
        "M",
        "BONOS",
        "330526",
    ),
    mx_bond(
        "Grupo Altomar, S.A.B. de C.V.",
        "MX91AL0C001",
        "8.45",
        dt.date(2026, 9, 10),
        "CEBURES ALTOMAR 16 TASA FIJA 8.45% 10/09/2026",
        "91",
        "ALTOMAR",
        "16",
    ),
    mx_bond(
        "Fomento Minero Zacatecano, S.A.B. de C.V.",
        "MX91FM1B002",
        "9.10",
        dt.date(2028, 3, 2),
        "CEBURES FOMINZA 18 TASA FIJA 9.10% 02/03/2028",
        "91",
        "FOMINZA",
        "18",
    ),
)


@dataclass(frozen=True)
class MexicanClient:
    contract: str
    name: str
    rfc: str
    address: tuple[str, str]
    promoter: str
    clabe: str  # the house's deposit CLABE for this contract


def person_rfc(body: str) -> str:
    return body + stdnum_rfc.calc_check_digit(body)


TEPEYAC_CLIENTS = (
    MexicanClient(
        "0317-4402281",
        "ING. JORGE ALBERTO RAMÍREZ VILLASEÑOR",
        person_rfc("RAVJ750412HG"),
        ("Av. Insurgentes Sur 1605, Int. 804, Col. San José Insurgentes", "C.P. 03900, Benito Juárez, CDMX"),
        "045 LIC. ANDREA SOLÍS MEDINA",
        clabe("01218000442281903"),
    ),
    MexicanClient(
        "0317-5519046",
        "MARÍA FERNANDA GARZA TREVIÑO",
        person_rfc("GATF820907KM"),
        ("Calzada del Valle 400 Ote., Col. Del Valle", "C.P. 66220, San Pedro Garza García, N.L."),
        "112 ING. ROBERTO CANTÚ LOZANO",
        clabe("01218000551904601"),
    ),
    MexicanClient(
        "0422-0087315",
        "INMOBILIARIA LOS ARCOS DEL BAJÍO, S.A. DE C.V.",
        "IAB060315" + "T7" + stdnum_rfc.calc_check_digit("IAB060315T7"),
        ("Blvd. Bernardo Quintana 7001, Piso 3, Col. Centro Sur", "C.P. 76090, Querétaro, Qro."),
        "045 LIC. ANDREA SOLÍS MEDINA",
        clabe("01218000008731577"),
    ),
)
TEPEYAC_COMMISSION = Decimal("0.0025")
MX_IVA = Decimal("0.16")


def tepeyac_charges(
    sec: Security, side: str, qty: Decimal, gross: Decimal
) -> tuple[Decimal | None, ChargeList]:
    if sec.kind == "bond":
        return None, []  # dealt by the house on its own account at a net price
    commission = half_up(gross * TEPEYAC_COMMISSION, "MXN")
    return commission, [("IVA 16% sobre comisión", half_up(commission * MX_IVA, "MXN"))]


def mx_coupon_period(sec: Security, settle: dt.date) -> tuple[dt.date, dt.date]:
    """Coupon dates every 182 days back from maturity: the last on or before settlement, and the next."""
    assert sec.maturity is not None
    following = sec.maturity
    while following - dt.timedelta(days=182) > settle:
        following -= dt.timedelta(days=182)
    return following - dt.timedelta(days=182), following


def mx_accrued(sec: Security, face: Decimal, settle: dt.date) -> tuple[Decimal, int]:
    """Accrued interest on the whole nominal: days since the last coupon, actual/360."""
    assert sec.coupon is not None
    last, _ = mx_coupon_period(sec, settle)
    days = (settle - last).days
    return money(face * sec.coupon / 100 * Decimal(days) / 360, "MXN"), days


def mx_yield(sec: Security, price: Decimal, settle: dt.date) -> str:
    return f"{Decimal(approximate_yield(sec, price, settle)):.4f}"


def tepeyac_trade(rng: random.Random, doc_id: str, kind: str, side: str, listing: Listing) -> Trade:
    sec = listing.sec
    client = rng.choice(TEPEYAC_CLIENTS)
    fills: list[tuple[str, str, Decimal]] = []
    if kind == "bond":
        titles = rng.choice((2_000, 5_000, 10_000, 20_000, 25_000, 50_000, 100_000))
        quantity = Decimal(titles * 100)
        price = Decimal(rng.randint(88_000_000, 107_000_000)).scaleb(-6)
        trade_date = pick_bond_date(rng, sec, MX_HOLIDAYS, 1, 3, mx_coupon_period)
    else:
        quantity = Decimal(rng.choice((100, 200, 300, 500, 800, 1000, 1500, 2000, 2500, 4000, 5000, 8000)))
        if listing.flag:
            quantity = Decimal(rng.choice((10, 15, 20, 25, 40, 50, 60, 100, 120, 200)))
        if rng.random() < 0.2:
            quantity += rng.randint(1, 9)
        price = tick_price(rng, listing.low, listing.high, lambda _: Decimal("0.01"))
        trade_date = pick_open_date(rng, MX_HOLIDAYS, 2)
        ticket = str(rng.randint(4_000_000, 4_999_999))
        hour = rng.randint(8, 14)  # the BMV and BIVA session runs 8:30-15:00 Mexico City time
        first = f"{hour:02d}:{rng.randint(30 if hour == 8 else 0, 59):02d}:{rng.randint(0, 59):02d}"
        if quantity >= 200 and rng.random() < 0.5:
            part = (quantity * Decimal(rng.choice((40, 50, 60, 75))) / 100).to_integral_value()
            second = f"{first[:6]}{min(59, int(first[6:]) + rng.randint(1, 9)):02d}"
            fills = [(ticket, first, part), (ticket, second, quantity - part)]
        else:
            fills = [(ticket, first, quantity)]
    prefix = "CD" if kind == "bond" else "CC"
    trade = make_trade(
        layout="tepeyac",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=tepeyac_charges,
        account=client.contract,
        counterparty=TEPEYAC_HOUSE,
        reference=f"{prefix}-{trade_date:%y%m%d}-{rng.randint(1, 99_999):05d}",
    )
    if kind == "bond":
        restate_accrued(trade, *mx_accrued(sec, quantity, trade.settle_date))
    trade.extra = {
        "client": client.contract,
        "issued": d_mx_long(add_business_days(trade_date, 1)),
        "name": listing.name,
        "cash_balance": str(Decimal(rng.randint(1_000_00, 2_500_000_00)) / 100),
        "fills": ";".join(
            f"{ticket}|{time}|{rng.choice(('BMV', 'BMV', 'BIVA'))}|{quantity}"
            for ticket, time, quantity in fills
        ),
    }
    if kind == "bond":
        trade.extra["yield"] = mx_yield(sec, price, trade.settle_date)
    return trade


def render_tepeyac(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    listing = next(item for item in (*TEPEYAC_EQUITIES, *TEPEYAC_BONDS) if item.sec == s)
    client = next(c for c in TEPEYAC_CLIENTS if c.contract == x["client"])
    width = 96

    def summary(marker: str, label: str, value: Decimal) -> str:
        return f"{'':<20}{marker:<5}{label:<46}{mxn(value):>20}"

    lines = [
        f"{'TEPEYAC CASA DE BOLSA':<60}{'CONFIRMACIÓN DE OPERACIONES':>36}",
        TEPEYAC_HOUSE,
        f"R.F.C. {TEPEYAC_RFC} - Paseo de la Reforma 389, Piso 17, Col. Cuauhtémoc, C.P. 06500, CDMX",
        "Centro de Atención a Clientes: 55 5241 8800 - Del interior sin costo: 800 083 7322",
        "",
        f"{'Ciudad de México, a ' + x['issued']:<80}{'Hoja 1 de 1':>16}",
        "=" * width,
        f"{'CLIENTE':<10}{client.name:<48}{'CONTRATO':<10}{client.contract}",
        f"{'R.F.C.':<10}{client.rfc:<48}{'PROMOTOR':<10}{client.promoter}",
        f"{'DOMICILIO':<10}{client.address[0]}",
        f"{'':<10}{client.address[1]}",
        "=" * width,
        "",
    ]
    if t.bond:
        operation = "COMPRA EN DIRECTO" if t.buy else "VENTA EN DIRECTO"
        lines.append(f"MERCADO DE DINERO - OPERACIÓN: {operation}")
    else:
        operation = "COMPRA" if t.buy else "VENTA"
        market = "MERCADO GLOBAL (SIC)" if listing.flag else "MERCADO DE CAPITALES"
        lines.append(f"{market} - OPERACIÓN: {operation}")
    lines += [
        f"Folio de confirmación: {t.reference}",
        f"Fecha de concertación: {d_mx(t.trade_date)}{'':<8}Fecha de liquidación: {d_mx(t.settle_date)} "
        + ("(24 horas)" if t.bond else "(48 horas)"),
        "Cifras en pesos mexicanos (MXN)",
        "",
    ]
    if t.bond:
        assert s.coupon is not None and s.maturity is not None
        verb = "le VENDIÓ" if t.buy else "le COMPRÓ"
        lines += wrap(
            f"Tepeyac Casa de Bolsa, actuando por cuenta propia con su posición, {verb} en directo los "
            "siguientes títulos de deuda:",
            width,
        )
        lines += [
            "",
            f"{'TIPO VALOR':<12}{'EMISORA':<10}{'SERIE':<9}{'ISIN':<15}DESCRIPCIÓN",
            f"{listing.sec.local_id or '':<12}{listing.code:<10}{listing.series:<9}{s.isin:<15}{x['name']}",
            "",
        ]
        titles = t.quantity / 100
        _, following = mx_coupon_period(s, t.settle_date)
        rows = [
            ("Títulos", us(titles, 0)),
            ("Valor nominal por título", mxn(Decimal(100))),
            ("Valor nominal total", mxn(t.quantity)),
            ("Precio limpio (por $100 de valor nominal)", us(t.price, 6)),
            ("Tasa de rendimiento", f"{x['yield']}%"),
            ("Tasa de cupón", f"{s.coupon:.2f}% (periodos de 182 días)"),
            ("Próximo pago de cupón", d_mx(following)),
            ("Días por vencer", str((s.maturity - t.settle_date).days)),
        ]
        lines += [f"{'':<4}{label:<46}{value}" for label, value in rows]
        lines += [
            "",
            summary("(=)", "Importe a precio limpio", t.gross),
            summary("(+)", f"Intereses devengados ({t.days} días)", t.accrued or Decimal(0)),
            f"{'':<71}{'-' * 20}",
            summary("(=)", "NETO A CARGO" if t.buy else "NETO A SU FAVOR", t.net),
            "",
        ]
        lines += wrap(
            "Operación en directo con la posición propia de la Casa de Bolsa: el precio es neto y no causa "
            "comisión ni IVA. Liquidación a 24 horas a través de S.D. Indeval.",
            width,
        )
    else:
        lines += [
            f"{'EMISORA':<10}{'SERIE':<7}{'ISIN':<15}DESCRIPCIÓN",
            f"{listing.code:<10}{listing.series:<7}{s.isin:<15}{x['name']}",
            "",
            f"{'BOLETA':<10}{'HORA':<10}{'BOLSA':<7}{'TÍTULOS':>10}{'PRECIO':>16}{'IMPORTE':>20}",
            "-" * 73,
        ]
        for fill in x["fills"].split(";"):
            ticket, time, venue, filled = fill.split("|")
            quantity = Decimal(filled)
            lines.append(
                f"{ticket:<10}{time:<10}{venue:<7}{us(quantity, 0):>10}{mxn(t.price):>16}"
                f"{mxn(money(quantity * t.price, 'MXN')):>20}"
            )
        lines += [
            f"{'':<27}{'-' * 10}{'':<16}{'-' * 20}",
            f"{'TOTAL':<27}{us(t.quantity, 0):>10}{'':<16}{mxn(t.gross):>20}",
            f"{'PRECIO PROMEDIO PONDERADO':<27}{mxn(t.price, 4):>26}",
            "",
            summary("", "Importe de la operación", t.gross),
            summary(
                "(+)" if t.buy else "(-)", "Comisión por intermediación 0.25%", t.commission or Decimal(0)
            ),
        ]
        for label, value in t.fee_items:
            lines.append(summary("(+)" if t.buy else "(-)", label, value))
        lines += [
            f"{'':<71}{'-' * 20}",
            summary("(=)", "NETO A CARGO" if t.buy else "NETO A SU FAVOR", t.net),
            "",
        ]
        sic = " Valores del SIC, cotizados y liquidados en pesos." if listing.flag else ""
        lines += wrap(
            "Operación realizada por cuenta y orden del cliente, como comisionista. Liquidación a 48 horas "
            f"(T+2) a través de S.D. Indeval.{sic} Este documento no es un comprobante fiscal: el CFDI de "
            "comisiones se emite al cierre del mes.",
            width,
        )
    lines += [
        "",
        f"Saldo de efectivo disponible al cierre del día: {mxn(Decimal(x['cash_balance']))}",
        f"Depósitos a su contrato: CLABE {client.clabe}, referencia {client.contract.replace('-', '')}",
        "",
        "Si no recibimos objeciones dentro de los 2 días hábiles siguientes, la operación se tendrá por",
        "aceptada. Consultas y aclaraciones: Unidad Especializada, 55 5241 8899, une@tepeyaccb.com.mx",
    ]
    return Rendered(
        lines, x["name"], stated_for(t) | {"security_name"}, font="Courier", size=8.5, bold_lines=1
    )


# ---------------------------------------------------------------- the three layouts and output


Layout = PlannedLayout[Listing]

LAYOUTS = (
    Layout("kallang", KALLANG_HOUSE, kallang_trade, render_kallang, KALLANG_EQUITIES, KALLANG_BONDS, 4, 5, 2),
    Layout("leiedal", LEIEDAL_HOUSE, leiedal_trade, render_leiedal, LEIEDAL_EQUITIES, LEIEDAL_BONDS, 5, 6, 2),
    Layout("tepeyac", TEPEYAC_HOUSE, tepeyac_trade, render_tepeyac, TEPEYAC_EQUITIES, TEPEYAC_BONDS, 4, 5, 2),
)


def main() -> None:
    write_planned_group(GROUP, LAYOUTS, seed=f"{SEED}/", creator=CREATOR, margin=12, check=check_figures)


if __name__ == "__main__":
    main()
