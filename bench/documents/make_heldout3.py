"""A third held-out group of broker trade confirmations, `heldout3`, with the truth of each
(`python -m bench.documents.make_heldout3`, from the repository root).

heldout2 is scored once and then final, so the next held-out measure of the generic extractor is a
new group made the same way. Its three layouts come from how Australian brokers, Norwegian banks and
Canadian investment dealers word and lay out their confirmations. They differ in house, country
conventions and visual structure from every earlier layout (make_corpus.py: halvorsen, altmark,
thamesgate, lacroix, sakura, rigi, corvid, nordvik, aurelia; make_heldout2.py: ridgeline,
vallombrosa, harcourt; market's northbridge, kestrel, meridian). They were written without reading
the extractor, its templates or its tests:

- tallowood: Tallowood Securities Pty Limited, Sydney. An ASX market participant's confirmation
  and tax invoice, in the way Australian retail brokers set them out: ABN/AFSL header, the client's
  postal address block with a `<... A/C>` designation, the heading "CONFIRMATION - WE HAVE TODAY
  BOUGHT (SOLD) ON YOUR BEHALF", a narrative sentence that carries the side, the units, the company
  and the price, then a single column of capitalised `LABEL:` rows (COMPANY, SECURITY, AS AT DATE,
  CONFIRMATION NO, HIN, CONSIDERATION (AUD), BROKERAGE, GST, TOTAL COST / NET PROCEEDS). Brokerage
  by value band plus 10 % GST on it. Direct debit or BPAY for purchases, direct credit for sales.
  Bonds (Treasury Bonds and AUD corporates) are a fixed-income confirmation from the same house,
  dealt as principal ("we have today sold to you, as principal, face value ..."), with yield, capital
  price per $100, accrued interest, gross price and Austraclear settlement. Dates 12/03/2020.
- skarvlia: Skarvlia Bank ASA, Bergen. A Norwegian bank's contract note (sluttseddel) drawn as a
  form: boxed cells with the label above the value (English labels with the Norwegian term beside:
  "Settl. date (oppgj.dato)", "Custody acct. (depotkonto)"), then a boxed specification table
  (kursverdi, påløpte renter, kurtasje, fees) ending in "Amount payable (å betale)" or "Amount
  receivable (til gode)". Dates 12.03.2020, numbers 1 234 567,89. NOK, SEK, DKK and EUR shares
  (Oslo Børs and the Nasdaq Nordic exchanges); foreign shares carry a foreign trading fee and a
  settlement fee, and their net amount is also converted to NOK at a printed rate for the cash
  account. NOK government and corporate bonds (annual coupons, ACT/ACT and 30/360) with a CSD fee.
- beaupre: Beaupré-Macklin Capital Inc., Montréal. A Canadian investment dealer's bilingual
  (French/English) trade confirmation: a header grid whose columns carry a French and an English
  label over the value, ISO dates with the (AAAA-MM-JJ / YYYY-MM-DD) legend, then a table of the
  transaction (ACHAT / BOUGHT or VENTE / SOLD, quantity, description, price, amount) with the
  CUSIP, ISIN, market and order on the lines below and the amounts stacked under it. TSX shares in
  CAD and US-listed shares in USD (a separate USD account; SEC fee on US sales), with commission.
  Bonds are dealt as principal with no commission, and show the yield and the "total dealer
  compensation" that IIROC/CIRO rules require on a debt confirmation, which is included in the
  price and is not a fee. Canadian ACT/365 accrued interest. IIROC becomes CIRO on 2023-06-01.

Sources and habits followed (public material, structure and wording only; nothing copied): ASX
broker confirmations and CommSec's published settlement pages (T+2, cleared funds by 8 am on the
settlement date, direct debit or BPAY, CHESS sponsorship and the HIN); the Australian Office of
Financial Management's Treasury Bond naming ("2.75% 21 November 2028") and its ex-interest period
of seven days (trades here never settle inside it); Norwegian sluttseddel and VPS practice (VPS/VPU
custody accounts, the Foretaksregisteret number with MVA, bank account numbers with MOD11); Nordic
Trustee bond names with issue and maturity years ("17/27 2,85 %"); IIROC Dealer Member Rule
200.1(h) and the CRM2 amendments (yield to maturity and dealer compensation on confirmations of
debt securities, the general average-price statement), bilingual Quebec dealer forms, and the
Canadian ACT/365 accrued-interest convention.

The helpers of make_corpus.py (securities, money arithmetic, trades, holiday-aware trade dates, the
balanced plan of sides, kinds and PDFs, and the writing of documents, PDFs and truth) and
make_heldout2.py's calendars are imported, not copied. Everything is invented: houses, issuers,
people, accounts, references, telephone and bank numbers. ISINs and CUSIPs carry valid check digits,
as do the ABN, the Norwegian organisation and account numbers and the BPAY reference in the
distractors. Output is deterministic: one random.Random per layout seeded with a string, and a fixed
PDF creation date.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

from stdnum import luhn
from stdnum.au import abn as stdnum_abn
from stdnum.no import kontonr as stdnum_kontonr
from stdnum.no import orgnr as stdnum_orgnr

from bench.documents.make_corpus import (
    MONTHS,
    ChargeList,
    PlannedLayout,
    Rendered,
    Security,
    Trade,
    add_business_days,
    approximate_yield,
    coupon_period,
    d_dmy,
    d_dot,
    d_iso,
    exec_time,
    fr,
    isin_bond,
    keep,
    make_trade,
    money,
    pick_bond_date,
    pick_bond_price,
    pick_equity_quantity,
    pick_face,
    pick_open_date,
    price_decimals,
    restate_accrued,
    stated_for,
    tick_price,
    us,
    us_equity,
    with_cusip_check,
    with_isin_check,
    wrap,
    write_planned_group,
)
from bench.documents.make_heldout2 import GOOD_FRIDAYS, US_HOLIDAYS, nth_weekday

SEED = "opsuite-documents-heldout3-v1"
GROUP = "heldout3"
CREATOR = "opsuite bench/documents/make_heldout3.py"  # the PDFs' creator
YEARS = range(2019, 2024)
EASTER_SUNDAYS = tuple(day + dt.timedelta(days=2) for day in GOOD_FRIDAYS)


# ---------------------------------------------------------------- small helpers


@dataclass(frozen=True)
class Listing:
    """A security as one house lists it: its own description and, for shares, a price range."""

    sec: Security
    name: str
    low: str = "0"
    high: str = "0"


def monday_if_weekend(day: dt.date) -> dt.date:
    return day + dt.timedelta(days={5: 2, 6: 1}.get(day.weekday(), 0))


def asx_tick(price: Decimal) -> Decimal:
    return Decimal("0.001") if price < Decimal("0.10") else Decimal("0.005") if price < 2 else Decimal("0.01")


def nordic_tick(price: Decimal) -> Decimal:
    for limit, tick in (("10", "0.005"), ("50", "0.01"), ("100", "0.02"), ("200", "0.05"), ("500", "0.1")):
        if price < Decimal(limit):
            return Decimal(tick)
    return Decimal("0.2")


def tsx_tick(price: Decimal) -> Decimal:
    return Decimal("0.005") if price < Decimal("0.50") else Decimal("0.01")


# ---------------------------------------------------------------- market calendars (2019-2023)


def au_holidays() -> set[dt.date]:
    """ASX and Austraclear closing days that fall on weekdays (the year-end ones are avoided anyway),
    with the NSW bank holiday and the 2022 National Day of Mourning."""
    days = set(GOOD_FRIDAYS) | {day + dt.timedelta(days=3) for day in GOOD_FRIDAYS}
    for year in YEARS:
        days |= {
            monday_if_weekend(dt.date(year, 1, 26)),  # Australia Day
            dt.date(year, 4, 25),  # Anzac Day
            monday_if_weekend(dt.date(year, 4, 25)),
            nth_weekday(year, 6, 0, 2),  # King's (Queen's) Birthday
            nth_weekday(year, 8, 0, 1),  # NSW bank holiday
        }
    days.add(dt.date(2022, 9, 22))
    return days


def nordic_holidays() -> set[dt.date]:
    """Oslo Børs, Nasdaq Stockholm, Copenhagen and Helsinki closing days, together, so that a trade
    on any of them settles as the weekday rule says."""
    days: set[dt.date] = set()
    for easter in EASTER_SUNDAYS:
        days |= {
            easter - dt.timedelta(days=3),  # Maundy Thursday (Oslo, Copenhagen)
            easter - dt.timedelta(days=2),  # Good Friday
            easter + dt.timedelta(days=1),  # Easter Monday
            easter + dt.timedelta(days=26),  # Great Prayer Day (Copenhagen, to 2023)
            easter + dt.timedelta(days=39),  # Ascension Day
            easter + dt.timedelta(days=40),  # the day after (Copenhagen)
            easter + dt.timedelta(days=50),  # Whit Monday (Oslo, Copenhagen)
        }
    for year in YEARS:
        midsummer_eve = dt.date(year, 6, 19) + dt.timedelta(days=(4 - dt.date(year, 6, 19).weekday()) % 7)
        days |= {
            dt.date(year, month, day)
            for month, day in ((1, 1), (1, 6), (5, 1), (5, 17), (6, 5), (6, 6), (12, 6), (12, 24), (12, 31))
        }
        days.add(midsummer_eve)
    return days


def ca_holidays() -> set[dt.date]:
    """TSX and Canadian bond-market closing days of 2019-2023 that fall on weekdays."""
    days = set(GOOD_FRIDAYS)
    for year in YEARS:
        may_24 = dt.date(year, 5, 24)
        days |= {
            nth_weekday(year, 2, 0, 3),  # Family Day
            may_24 - dt.timedelta(days=may_24.weekday()),  # Victoria Day
            monday_if_weekend(dt.date(year, 7, 1)),  # Canada Day
            nth_weekday(year, 8, 0, 1),  # Civic Holiday
            nth_weekday(year, 9, 0, 1),  # Labour Day
            nth_weekday(year, 10, 0, 2),  # Thanksgiving
            monday_if_weekend(dt.date(year, 11, 11)),  # Remembrance Day (bond market)
        }
        if year >= 2021:
            days.add(monday_if_weekend(dt.date(year, 9, 30)))  # Truth and Reconciliation (bond market)
    days.add(dt.date(2022, 9, 19))
    return days


AU_HOLIDAYS, NORDIC_HOLIDAYS, CA_HOLIDAYS = au_holidays(), nordic_holidays(), ca_holidays()


# ---------------------------------------------------------------- tallowood (Australian broker)


TALLOWOOD_HOUSE = "Tallowood Securities Pty Limited"
TALLOWOOD_ABN = stdnum_abn.format(stdnum_abn.calc_check_digits("611208395") + "611208395")


def au_equity(issuer: str, code: str, kind: str, low: str, high: str) -> Listing:
    sec = Security(
        "equity",
        issuer,
        "AUD",
        "AU",
        with_isin_check("AU000000" + code),
        ticker=code,
        venue="ASX",
        share_class=kind,
        local_id=code,
    )
    return Listing(sec, issuer.upper(), low, high)


def au_bond(issuer: str, isin_body: str, coupon: str, maturity: dt.date, word: str) -> Listing:
    sec = isin_bond(
        issuer, isin_body, "AUD", coupon, maturity, frequency=2, gov=word == "Treasury Bond", word=word
    )
    when = f"{maturity.day} {MONTHS[maturity.month - 1]} {maturity.year}"
    if sec.government:
        name = f"{sec.coupon}% {when} Treasury Bond"
    else:
        name = f"{issuer} {sec.coupon}% {word} due {when}"
    return Listing(sec, name)


ORDINARY = "ORDINARY FULLY PAID"
TALLOWOOD_EQUITIES = (
    au_equity("Barrington Minerals Limited", "BRM", ORDINARY, "2.10", "7.80"),
    au_equity("Wollemi Health Group Limited", "WHG", ORDINARY, "11", "38"),
    au_equity("Pilbara Ridge Resources Limited", "PRR", ORDINARY, "0.18", "1.95"),
    au_equity("Jacaranda Financial Services Limited", "JFS", ORDINARY, "14", "31"),
    au_equity("Arnhem Property Group", "APG", "FULLY PAID ORDINARY/UNITS STAPLED SECURITIES", "2.40", "5.90"),
    au_equity("Tasman Bight Energy Limited", "TBE", ORDINARY, "4", "19"),
)
TALLOWOOD_BONDS = (
    au_bond("Commonwealth of Australia", "AU000XCLWZK", "2.75", dt.date(2028, 11, 21), "Treasury Bond"),
    au_bond("Commonwealth of Australia", "AU000XCLWZP", "3.25", dt.date(2029, 4, 21), "Treasury Bond"),
    au_bond(
        "Jacaranda Financial Services Limited",
        "AU3CB028841",
        "3.10",
        dt.date(2027, 8, 12),
        "Fixed Rate Notes",
    ),
    au_bond("Wollemi Health Group Limited", "AU3CB026217", "4.40", dt.date(2028, 9, 15), "Senior Notes"),
)
# account, postal address, HIN, BSB, bank account
TALLOWOOD_ACCOUNTS = (
    (
        "2084417",
        (
            "MR DAVID ARTHUR HOLLOWAY &",
            "MRS KAREN LOUISE HOLLOWAY",
            "<HOLLOWAY SUPER FUND A/C>",
            "PO BOX 4471",
            "PARRAMATTA NSW 2124",
        ),
        "X0071824519",
        "062-118",
        "1047 2291",
    ),
    (
        "2091163",
        ("MS PRIYA RAMAN", "UNIT 7, 22 GREVILLEA CRESCENT", "ST LUCIA QLD 4067"),
        "X0083316702",
        "084-402",
        "5530 7718",
    ),
    (
        "3105528",
        (
            "WATTLEGROVE NOMINEES PTY LTD",
            "<BRENNAN FAMILY A/C>",
            "LEVEL 3, 411 CHURCH STREET",
            "RICHMOND VIC 3121",
        ),
        "X0090057231",
        "033-019",
        "2716 4408",
    ),
)


def tallowood_brokerage(gross: Decimal) -> Decimal:
    """The house's online rates: $19.95 up to $10,000, $29.95 up to $25,000, then 0.11 %."""
    if gross <= 10_000:
        return Decimal("19.95")
    if gross <= 25_000:
        return Decimal("29.95")
    return money(gross * Decimal("0.0011"), "AUD", ROUND_HALF_UP)


def tallowood_charges(
    sec: Security, side: str, qty: Decimal, gross: Decimal
) -> tuple[Decimal | None, ChargeList]:
    if sec.kind == "bond":
        return None, []  # principal: the price is net, no brokerage and no GST
    brokerage = tallowood_brokerage(gross)
    return brokerage, [("GST", money(brokerage * Decimal("0.10"), "AUD", ROUND_HALF_UP))]


def tallowood_trade(rng: random.Random, doc_id: str, kind: str, side: str, listing: Listing) -> Trade:
    sec = listing.sec
    account, address, hin, bsb, bank_account = rng.choice(TALLOWOOD_ACCOUNTS)
    if kind == "bond":
        quantity, price = pick_face(rng, "AUD"), pick_bond_price(rng, sec)
        # never settle on a coupon date or inside the ex-interest period before one
        trade_date = pick_bond_date(rng, sec, AU_HOLIDAYS, sec.settle_days, 8)
    else:
        quantity = pick_equity_quantity(rng, "AUD")
        price = tick_price(rng, listing.low, listing.high, asx_tick)
        trade_date = pick_open_date(rng, AU_HOLIDAYS, sec.settle_days)
    trade = make_trade(
        layout="tallowood",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=tallowood_charges,
        account=account,
        counterparty=TALLOWOOD_HOUSE,
        reference=str(rng.randint(40_000_000, 79_999_999)),
    )
    crn = account + str(rng.randint(10, 99))
    step = asx_tick(price) * rng.randint(0, 4)
    limit = price + step if side == "BUY" else price - step
    trade.extra = {
        "address": "|".join(address),
        "hin": hin,
        "bsb": bsb,
        "bank": bank_account,
        "order": str(rng.randint(100_000_000, 999_999_999)),
        "order_type": "AT MARKET"
        if rng.random() < 0.3
        else f"LIMIT ${us(limit, price_decimals(limit, 2))}, GOOD FOR DAY",
        "bpay": crn + luhn.calc_check_digit(crn) if rng.random() < 0.5 else "",
        "printed": d_dmy(add_business_days(trade_date, 1)),
        "austraclear": f"TLWD{rng.randint(10, 99)}",
    }
    if kind == "bond":
        trade.extra["yield"] = approximate_yield(sec, price, trade.settle_date)
    return trade


def render_tallowood(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    listing = next(item for item in (*TALLOWOOD_EQUITIES, *TALLOWOOD_BONDS) if item.sec == s)
    name = listing.name
    address = x["address"].split("|")
    right = ["CONFIRMATION" if t.bond else "TAX INVOICE", "Page 1 of 1", f"Printed {x['printed']}"]

    def aud(value: Decimal) -> str:
        return "$" + us(value)

    def row(label: str, value: str) -> str:
        return f"{label + ':':<34}{value}"

    lines = [
        TALLOWOOD_HOUSE,
        f"ABN {TALLOWOOD_ABN}   AFSL 483172   Market Participant of ASX Limited (PID 02147)",
        "Level 18, 2 Chifley Square, Sydney NSW 2000   GPO Box 5120, Sydney NSW 2001",
        "Telephone 1300 555 862   From overseas +61 2 9555 0862   Fax +61 2 9555 0899",
        "",
    ]
    for index in range(max(len(address), len(right))):
        left = address[index] if index < len(address) else ""
        lines.append(f"{left:<62}{right[index] if index < len(right) else ''}")
    lines.append("")
    if t.bond:
        verb = "sold to you" if t.buy else "bought from you"
        lines += [
            "CONFIRMATION - FIXED INCOME (PRINCIPAL TRANSACTION)",
            "",
            *wrap(
                f"We confirm that we have today {verb}, as principal, face value {keep(aud(t.quantity))} of "
                f"{keep(name)} on the terms set out below.",
                92,
            ),
            "",
            row("SECURITY", name),
            row("ISSUER", s.issuer),
            row("ISIN", s.isin),
            row("TRADE DATE", d_dmy(t.trade_date)),
            row("SETTLEMENT DATE", d_dmy(t.settle_date)),
            row("CONFIRMATION NO", t.reference or ""),
            row("ACCOUNT NO", t.account),
            row("FACE VALUE", aud(t.quantity)),
            row("COUPON", f"{s.coupon}% p.a., payable half-yearly"),
            row("NEXT COUPON DATE", d_dmy(coupon_period(s, t.settle_date)[1])),
            row("YIELD TO MATURITY", f"{x['yield']}% p.a."),
            row("CAPITAL PRICE (PER $100 FACE)", us(t.price, price_decimals(t.price, 3))),
        ]
        gross_price = t.price + (t.accrued or Decimal(0)) * 100 / t.quantity
        lines += [
            row("GROSS PRICE (INCL. ACCRUED)", us(gross_price, 4)),
            row("CAPITAL CONSIDERATION (AUD)", aud(t.gross)),
            row(f"ACCRUED INTEREST ({t.days} DAYS)", aud(t.accrued or Decimal(0))),
            row("TOTAL CONSIDERATION", aud(t.net) + (" PAYABLE BY YOU" if t.buy else " PAYABLE TO YOU")),
            "",
            *wrap(
                f"Settlement is delivery versus payment through Austraclear (our participant code "
                f"{x['austraclear']}). No brokerage is charged: {TALLOWOOD_HOUSE} acted as principal and its "
                "remuneration is included in the price.",
                92,
            ),
        ]
    else:
        verb = "BOUGHT" if t.buy else "SOLD"
        lines += [
            f"CONFIRMATION - WE HAVE TODAY {verb} ON YOUR BEHALF",
            "",
            *wrap(
                f"As your agent and subject to the ASX Operating Rules, we have today {verb.lower()} on your "
                f"behalf {keep(us(t.quantity, 0))} {keep(name)} {keep(s.share_class)} (ASX code {s.ticker}) "
                f"at an average price of {'$' + us(t.price, price_decimals(t.price, 2))}.",
                92,
            ),
            "",
            row("COMPANY", name),
            row("SECURITY", s.share_class),
            row("ASX CODE / ISIN", f"{s.ticker} / {s.isin}"),
            row("DATE", d_dmy(t.trade_date)),
            row("AS AT DATE", d_dmy(t.trade_date)),
            row("CONFIRMATION NO", t.reference or ""),
            row("ORDER NO", f"{x['order']} ({x['order_type']})"),
            row("ACCOUNT NO", t.account),
            row("HOLDER ID (HIN)", x["hin"]),
            row("UNITS", us(t.quantity, 0)),
            row("AVERAGE PRICE", "$" + us(t.price, 4)),
            row("CONSIDERATION (AUD)", aud(t.gross)),
            row("BROKERAGE (EXCL. GST)", aud(t.commission or Decimal(0))),
            *(row(label, aud(value)) for label, value in t.fee_items),
            row("TOTAL COST" if t.buy else "NET PROCEEDS", aud(t.net)),
            row("SETTLEMENT DATE", d_dmy(t.settle_date)),
            "",
        ]
        if not t.buy:
            payment = f"PAYMENT METHOD - DIRECT CREDIT TO BSB {x['bsb']} ACCOUNT {x['bank']} ON {d_dmy(t.settle_date)}."
        elif x["bpay"]:
            payment = (
                f"PAYMENT METHOD - BPAY: BILLER CODE 226241, REF {x['bpay']}, CLEARED FUNDS BY 8AM ON "
                f"{d_dmy(t.settle_date)}."
            )
        else:
            payment = (
                f"PAYMENT METHOD - DIRECT DEBIT OF CLEARED FUNDS FROM BSB {x['bsb']} ACCOUNT {x['bank']} "
                f"ON {d_dmy(t.settle_date)}."
            )
        lines += [
            *wrap(payment, 92),
            "",
            "The securities are registered on your CHESS-sponsored holding (HIN above); ASX Settlement will",
            "send you a holding statement. This confirmation is a tax invoice: GST is charged on brokerage only.",
        ]
    lines += [
        "",
        "Please check this confirmation and tell us of any error within 24 hours. E&OE.",
        f"{TALLOWOOD_HOUSE} - Client Services 1300 555 862 - tallowood.example",
    ]
    return Rendered(lines, name, stated_for(t) | {"security_name"}, font="Helvetica", size=9, bold_lines=1)


# ---------------------------------------------------------------- skarvlia (Norwegian bank)


SKARVLIA_HOUSE = "Skarvlia Bank ASA"


def orgnr(body: str) -> str:
    """A Norwegian organisation number: eight digits and the MOD11 check digit (bodies whose
    remainder would be 10 are not used)."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    check = (11 - sum(w * int(c) for w, c in zip(weights, body, strict=True)) % 11) % 11
    number = body + str(check)
    assert check < 10 and stdnum_orgnr.is_valid(number), body
    return stdnum_orgnr.format(number)


def kontonr(body: str) -> str:
    """A Norwegian bank account number (XXXX.XX.XXXXX) with its MOD11 check digit."""
    weights = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    check = (11 - sum(w * int(c) for w, c in zip(weights, body, strict=True)) % 11) % 11
    number = body + str(check)
    assert check < 10 and stdnum_kontonr.is_valid(number), body
    return f"{number[:4]}.{number[4:6]}.{number[6:]}"


SKARVLIA_ORGNR = orgnr("98461173")


def nordic_equity(
    issuer: str, ticker: str, isin_body: str, ccy: str, venue: str, low: str, high: str
) -> Listing:
    sec = Security(
        "equity", issuer, ccy, isin_body[:2], with_isin_check(isin_body), ticker=ticker, venue=venue
    )
    return Listing(sec, issuer, low, high)


def nok_bond(issuer: str, isin_body: str, coupon: str, maturity: dt.date, issued: int) -> Listing:
    gov = issuer == "Kongeriket Norge"
    sec = isin_bond(
        issuer,
        isin_body,
        "NOK",
        coupon,
        maturity,
        day_count="ACT/ACT" if gov else "30/360",
        gov=gov,
        word="Statsobligasjon" if gov else "Obligasjon",
    )
    coupon_text = fr(sec.coupon or Decimal(0), 2)
    if gov:
        return Listing(sec, f"Statsobligasjon {coupon_text} % {d_dot(maturity)}")
    return Listing(sec, f"{issuer} {issued % 100:02d}/{maturity:%y} {coupon_text} %")


SKARVLIA_EQUITIES = (
    nordic_equity("Skagerrak Havbruk ASA", "SKHAV", "NO001083274", "NOK", "Oslo Børs (XOSL)", "95", "240"),
    nordic_equity("Lysefjord Tankers ASA", "LYTK", "NO001117925", "NOK", "Oslo Børs (XOSL)", "18", "74"),
    nordic_equity("Bjørnevik Kraft ASA", "BJKR", "NO000384119", "NOK", "Oslo Børs (XOSL)", "140", "420"),
    nordic_equity("Fosen Subsea ASA", "FOSUB", "NO001205518", "NOK", "Oslo Børs (XOSL)", "4", "19"),
    nordic_equity(
        "Kolmården Verkstad AB ser. B", "KOLV B", "SE001427513", "SEK", "Nasdaq Stockholm (XSTO)", "60", "210"
    ),
    nordic_equity(
        "Limfjord Medico A/S", "LIMED", "DK006023104", "DKK", "Nasdaq Copenhagen (XCSE)", "180", "640"
    ),
    nordic_equity("Saimaan Paperi Oyj", "SAIPA", "FI400029881", "EUR", "Nasdaq Helsinki (XHEL)", "8", "31"),
)
SKARVLIA_BONDS = (
    nok_bond("Kongeriket Norge", "NO001078624", "1.75", dt.date(2027, 2, 17), 2016),
    nok_bond("Kongeriket Norge", "NO001082139", "2.00", dt.date(2028, 4, 26), 2018),
    nok_bond("Bjørnevik Kraft ASA", "NO001080273", "2.85", dt.date(2027, 6, 14), 2017),
    nok_bond("Skagerrak Havbruk ASA", "NO001084517", "4.10", dt.date(2026, 10, 5), 2018),
    nok_bond("Lysefjord Tankers ASA", "NO001079911", "5.25", dt.date(2025, 3, 20), 2018),
)
# custody account, client no., name and address, settlement bank account
SKARVLIA_ACCOUNTS = (
    (
        "81 4471 093",
        "1048823",
        ("Ingrid Solheim Aase", "Kalfarveien 31", "5018 Bergen"),
        kontonr("3630142281"),
    ),
    (
        "81 5520 417",
        "1102764",
        ("Terje Vangsnes", "Øvre Fjellsmauet 6", "5018 Bergen"),
        kontonr("3630177504"),
    ),
    (
        "83 0098 215",
        "2207315",
        ("Fjellstrand Eiendom AS", "c/o Hauge, Nygårdsgaten 112", "5008 Bergen"),
        kontonr("3633052918"),
    ),
)
MIN_BROKERAGE = {"NOK": "99.00", "SEK": "99.00", "DKK": "79.00", "EUR": "9.90"}
FOREIGN_FEE = {"SEK": "59.00", "DKK": "45.00", "EUR": "6.00"}
SETTLEMENT_FEE = {"SEK": "35.00", "DKK": "25.00", "EUR": "3.50"}
NOK_RATE = {"SEK": ("0.9200", "1.0600"), "DKK": ("1.3000", "1.6800"), "EUR": ("9.7000", "12.1000")}


def skarvlia_charges(
    sec: Security, side: str, qty: Decimal, gross: Decimal
) -> tuple[Decimal | None, ChargeList]:
    ccy = sec.currency
    if sec.kind == "bond":
        commission = max(money(gross * Decimal("0.001"), ccy, ROUND_HALF_UP), Decimal("500.00"))
        return commission, [("CSD fee (VPS-gebyr)", Decimal("75.00"))]
    commission = max(money(gross * Decimal("0.0005"), ccy, ROUND_HALF_UP), Decimal(MIN_BROKERAGE[ccy]))
    if ccy == "NOK":
        return commission, []
    return commission, [
        ("Foreign trading fee (utl. handelsgebyr)", Decimal(FOREIGN_FEE[ccy])),
        ("Settlement fee (oppgj.gebyr)", Decimal(SETTLEMENT_FEE[ccy])),
    ]


def skarvlia_trade(rng: random.Random, doc_id: str, kind: str, side: str, listing: Listing) -> Trade:
    sec = listing.sec
    custody, client_no, holder, cash_account = rng.choice(SKARVLIA_ACCOUNTS)
    if kind == "bond":
        quantity, price = pick_face(rng, "NOK"), pick_bond_price(rng, sec)
    else:
        quantity = pick_equity_quantity(rng, sec.currency)
        price = tick_price(rng, listing.low, listing.high, nordic_tick)
    trade_date = pick_open_date(rng, NORDIC_HOLIDAYS, sec.settle_days)
    trade = make_trade(
        layout="skarvlia",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=skarvlia_charges,
        account=custody,
        counterparty=SKARVLIA_HOUSE,
        reference=f"{trade_date:%Y}-{rng.randint(100_000, 999_999)}",
    )
    trade.extra = {
        "client_no": client_no,
        "holder": "|".join(holder),
        "cash": cash_account,
        "order": str(rng.randint(10_000_000, 99_999_999)),
        "time": exec_time(rng, 9, 15),
        "printed": d_dot(add_business_days(trade_date, 1)),
    }
    if sec.currency != "NOK":
        low, high = NOK_RATE[sec.currency]
        rate = Decimal(rng.randint(int(Decimal(low) * 10_000), int(Decimal(high) * 10_000))) / 10_000
        trade.extra["rate"] = fr(rate, 4)
        trade.extra["nok"] = fr(money(trade.net * rate, "NOK"))
    if kind == "bond":
        trade.extra["yield"] = fr(Decimal(approximate_yield(sec, price, trade.settle_date)), 3)
    return trade


def grid(rows: list[list[tuple[str, str, int]]]) -> list[str]:
    """A form of boxed cells, each with its label above its value; the widths are inner widths, and
    every row spans the same total width."""

    def cuts(row: list[tuple[str, str, int]]) -> set[int]:
        marks, position = {0}, 0
        for _, _, width in row:
            position += width + 1
            marks.add(position)
        return marks

    def border(marks: set[int]) -> str:
        end = max(marks)
        return "".join("+" if i in marks else "-" for i in range(end + 1))

    out: list[str] = []
    previous: set[int] = set()
    for row in rows:
        here = cuts(row)
        out.append(border(here | previous))
        out.append("|" + "|".join(f" {label:<{width - 1}}" for label, _, width in row) + "|")
        out.append("|" + "|".join(f" {value:<{width - 1}}" for _, value, width in row) + "|")
        previous = here
    out.append(border(previous))
    return out


def render_skarvlia(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    ccy = t.currency
    listing = next(item for item in (*SKARVLIA_EQUITIES, *SKARVLIA_BONDS) if item.sec == s)
    name = listing.name
    holder = x["holder"].split("|")
    third, two_thirds, whole = 29, 59, 89
    side = "PURCHASE (KJØP)" if t.buy else "SALE (SALG)"
    rows: list[list[tuple[str, str, int]]] = [
        [
            ("Contract note (sluttseddel)", t.reference or "", third),
            ("Trade date (handelsdato)", d_dot(t.trade_date), third),
            ("Settl. date (oppgj.dato)", d_dot(t.settle_date), third),
        ],
        [
            ("Client no. (kundenr.)", x["client_no"], third),
            ("Custody acct. (depotkonto)", t.account, third),
            ("Order no. (ordrenr.)", x["order"], third),
        ],
        [("Security (verdipapir)", name, two_thirds), ("ISIN", s.isin, third)],
    ]
    if t.bond:
        rows += [
            [
                ("Nominal (pålydende)", fr(t.quantity, 0), third),
                ("Price (kurs) % of nominal", fr(t.price, price_decimals(t.price, 3)), third),
                ("Currency (valuta)", ccy, third),
            ],
            [
                ("Coupon (kupong)", f"{fr(s.coupon or Decimal(0), 2)} % p.a., {s.day_count}", third),
                ("Maturity (forfall)", d_dot(s.maturity or t.settle_date), third),
                ("Yield (eff. rente)", f"{x['yield']} %", third),
            ],
            [
                ("Venue (markedsplass)", "OTC - Skarvlia Bank Markets", two_thirds),
                ("Time (tid)", f"{x['time']} CET", third),
            ],
        ]
    else:
        rows += [
            [
                ("Qty (antall)", fr(t.quantity, 0), third),
                ("Price (kurs)", fr(t.price, price_decimals(t.price, 2)), third),
                ("Currency (valuta)", ccy, third),
            ],
            [
                ("Venue (markedsplass)", s.venue or "", two_thirds),
                ("Time (tid)", f"{x['time']} CET", third),
            ],
        ]
    if t.bond:
        rate = "0,10 %, min. NOK 500"
    else:
        rate = f"0,05 %, min. {ccy} {fr(Decimal(MIN_BROKERAGE[ccy]), 0 if ccy != 'EUR' else 2)}"
    spec = [("Market value (kursverdi)", t.gross)]
    if t.bond:
        spec.append((f"Accrued int. (påløpte renter), {t.days} days", t.accrued or Decimal(0)))
    spec.append((f"Brokerage (kurtasje) {rate}", t.commission or Decimal(0)))
    spec += t.fee_items
    label_width, amount_width = 61, 27

    def spec_row(label: str, value: Decimal) -> str:
        return f"| {label:<{label_width - 1}}|{fr(value):>{amount_width - 1}} |"

    rule = "+" + "-" * label_width + "+" + "-" * amount_width + "+"
    total = "Amount payable (å betale)" if t.buy else "Amount receivable (til gode)"
    if ccy == "NOK":
        cash = (
            f"NOK {fr(t.net)} will be {'debited to' if t.buy else 'credited to'} account {x['cash']} "
            f"with value date {d_dot(t.settle_date)}."
        )
    else:
        cash = (
            f"Converted at {ccy}/NOK {x['rate']}: NOK {x['nok']} will be "
            f"{'debited to' if t.buy else 'credited to'} account {x['cash']} with value date "
            f"{d_dot(t.settle_date)}."
        )
    register = "VPS" if ccy == "NOK" else "VPU, foreign securities"
    lines = [
        "SKARVLIA BANK ASA",
        "Strandkaien 14, Postboks 1180 Sentrum, 5811 Bergen",
        f"Tlf. +47 55 55 21 40 | Foretaksregisteret NO {SKARVLIA_ORGNR} MVA | www.skarvlia.example",
        "",
        f"{holder[0]:<70}Bergen, {x['printed']}",
        f"{holder[1]:<70}Side 1 av 1",
        *holder[2:],
        "",
        f"CONTRACT NOTE (SLUTTSEDDEL) - {side}",
        "",
        *grid(rows),
        "",
        f"{'SPECIFICATION (SPESIFIKASJON)':<{whole - 3}}{ccy:>3}",
        rule,
        *(spec_row(label, value) for label, value in spec),
        rule,
        spec_row(total, t.net),
        rule,
        "",
        *wrap(cash, 90),
        f"The securities are registered in custody account {t.account} ({register}).",
        "",
        f"{SKARVLIA_HOUSE} acted as agent (kommisjonær). Contract note under the Securities Trading Act",
        "(vphl.). Please report any error at once. Customer service (kundeservice) 55 55 21 00, 08-16.",
    ]
    return Rendered(lines, name, stated_for(t) | {"security_name"}, font="Courier", size=8.5, bold_lines=1)


# ---------------------------------------------------------------- beaupre (Canadian dealer, bilingual)


BEAUPRE_HOUSE = "Beaupré-Macklin Capital Inc."


def ca_equity(issuer: str, ticker: str, issuer_code: str, name: str, low: str, high: str) -> Listing:
    cusip = with_cusip_check(issuer_code + "10")
    sec = Security(
        "equity",
        issuer,
        "CAD",
        "CA",
        with_isin_check("CA" + cusip),
        cusip=cusip,
        ticker=ticker,
        venue="TSX",
        share_class="COMMON",
    )
    return Listing(sec, name, low, high)


def us_listing(
    issuer: str, ticker: str, issuer_code: str, venue: str, name: str, low: str, high: str
) -> Listing:
    return Listing(us_equity(issuer, ticker, issuer_code, venue), name, low, high)


def ca_bond(issuer: str, issuer_code: str, issue: str, coupon: str, maturity: dt.date, word: str) -> Listing:
    cusip = with_cusip_check(issuer_code + issue)
    gov = issuer == "Government of Canada"
    sec = Security(
        "bond",
        issuer,
        "CAD",
        "CA",
        with_isin_check("CA" + cusip),
        cusip=cusip,
        coupon=Decimal(coupon),
        maturity=maturity,
        frequency=2,
        day_count="ACT/365",
        government=gov,
        bond_word=word,
    )
    month = MONTHS[maturity.month - 1][:3].upper()
    words = f" {word}" if word else ""
    name = f"{issuer.upper().replace('.', '')} {Decimal(coupon):.3f}%{words} {month} {maturity.day:02d} {maturity.year}"
    return Listing(sec, name)


BEAUPRE_EQUITIES = (
    ca_equity(
        "Chaudière Forest Products Inc.", "CFP", "16209C", "CHAUDIERE FOREST PRODUCTS INC COMMON", "12", "48"
    ),
    ca_equity("Laurentide Pipelines Ltd.", "LPL", "51849P", "LAURENTIDE PIPELINES LTD COMMON", "22", "68"),
    ca_equity("Gaspésie Mining Corp.", "GMC", "36720X", "GASPESIE MINING CORP COMMON", "0.85", "6.40"),
    ca_equity(
        "Bytown Financial Group Inc.", "BFG", "12440T", "BYTOWN FINANCIAL GROUP INC COMMON", "45", "138"
    ),
    ca_equity("Okanagan Hydro Corp.", "OKH", "67885H", "OKANAGAN HYDRO CORP COMMON", "9", "27"),
    us_listing("Penobscot Paper Company", "PNPC", "70742W", "NYSE", "PENOBSCOT PAPER CO COM", "14", "52"),
    us_listing(
        "Adirondack Medical Devices Inc.",
        "ADMD",
        "00688E",
        "NASDAQ",
        "ADIRONDACK MEDICAL DEVICES INC COM",
        "30",
        "190",
    ),
)
BEAUPRE_BONDS = (
    ca_bond("Government of Canada", "13509Q", "AK", "2.250", dt.date(2029, 6, 1), ""),
    ca_bond("Government of Canada", "13509Q", "AF", "2.000", dt.date(2028, 6, 1), ""),
    ca_bond("Laurentide Pipelines Ltd.", "51849P", "AC", "3.950", dt.date(2029, 11, 15), "MTN"),
    ca_bond("Bytown Financial Group Inc.", "12440T", "BD", "2.600", dt.date(2027, 1, 28), "DEP NT"),
    ca_bond("Okanagan Hydro Corp.", "67885H", "AB", "4.400", dt.date(2033, 3, 15), "SR NT"),
)
# account base, account type, advisor, name and address
BEAUPRE_ACCOUNTS = (
    (
        "271-40518",
        "COMPTANT / CASH",
        "7KD N. OUELLET",
        ("MME JOSÉE LAFRAMBOISE", "4517, AVENUE DE L'ESPLANADE", "MONTRÉAL QC  H2T 2Y6"),
    ),
    (
        "271-40526",
        "REER / RRSP",
        "7KD N. OUELLET",
        ("M. DANIEL O'CONNOR-ROY", "88, RUE SAINT-LOUIS", "QUÉBEC QC  G1R 3Z3"),
    ),
    (
        "354-11902",
        "CELI / TFSA",
        "3PB A. SINGH-BÉLANGER",
        ("DR ANITA KOWALCZYK", "1207 BANK STREET, APT 4", "OTTAWA ON  K1S 3X7"),
    ),
)


def canadian_accrued(sec: Security, face: Decimal, settle: dt.date) -> tuple[Decimal, int]:
    """Canadian convention: actual days over 365, and within the last half of a long period the half
    coupon less the interest still to run, so that accrued interest never passes the coupon."""
    assert sec.coupon is not None
    last, following = coupon_period(sec, settle)
    days = (settle - last).days
    coupon = face * sec.coupon / 100
    if days > 182:
        amount = coupon / 2 - coupon * Decimal((following - settle).days) / 365
    else:
        amount = coupon * Decimal(days) / 365
    return money(amount, sec.currency), days


def beaupre_commission(gross: Decimal, ccy: str) -> Decimal:
    """1 % of the first 10,000, 0.5 % of the rest, at least 45.00."""
    first = min(gross, Decimal(10_000))
    amount = first * Decimal("0.01") + (gross - first) * Decimal("0.005")
    return max(money(amount, ccy, ROUND_HALF_UP), Decimal("45.00"))


def beaupre_charges(
    sec: Security, side: str, qty: Decimal, gross: Decimal
) -> tuple[Decimal | None, ChargeList]:
    if sec.kind == "bond":
        return None, []  # principal: the compensation is in the price
    items: ChargeList = []
    if sec.currency == "USD" and side == "SELL":
        items.append(("FRAIS SEC / SEC FEE", money(gross * Decimal("22.90") / 1_000_000, "USD", ROUND_UP)))
    return beaupre_commission(gross, sec.currency), items


def beaupre_trade(rng: random.Random, doc_id: str, kind: str, side: str, listing: Listing) -> Trade:
    sec = listing.sec
    base, account_type, advisor, holder = rng.choice(BEAUPRE_ACCOUNTS)
    holidays = CA_HOLIDAYS | US_HOLIDAYS if sec.currency == "USD" else CA_HOLIDAYS
    if kind == "bond":
        quantity, price = pick_face(rng, "CAD"), pick_bond_price(rng, sec)
    else:
        quantity = pick_equity_quantity(rng, sec.currency)
        price = tick_price(rng, listing.low, listing.high, tsx_tick)
    trade_date = pick_open_date(rng, holidays, sec.settle_days)
    account = f"{base}-{2 if sec.currency == 'USD' else 1}"
    trade = make_trade(
        layout="beaupre",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=beaupre_charges,
        account=account,
        counterparty=BEAUPRE_HOUSE,
        reference=f"B{trade_date:%m%d}{rng.randint(10_000, 99_999)}",
    )
    if kind == "bond":
        restate_accrued(trade, *canadian_accrued(sec, quantity, trade.settle_date))
    limit = price + Decimal("0.01") * rng.randint(0, 5) * (1 if side == "BUY" else -1)
    trade.extra = {
        "type": account_type,
        "advisor": advisor,
        "holder": "|".join(holder),
        "order": str(rng.randint(30_000_000, 39_999_999)),
        "order_type": "AU MARCHÉ / MARKET" if rng.random() < 0.35 else f"LIMITE / LIMIT {us(limit)}",
        "solicited": rng.choice(("SOLLICITÉ / SOLICITED", "NON SOLLICITÉ / UNSOLICITED")),
        "compensation": us(money(quantity * Decimal(rng.randint(10, 60)) / 10_000, "CAD")),
        "regulator": "OCRI / CIRO" if trade_date >= dt.date(2023, 6, 1) else "OCRCVM / IIROC",
    }
    if kind == "bond":
        trade.extra["yield"] = approximate_yield(sec, price, trade.settle_date)
    return trade


def render_beaupre(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    ccy = t.currency
    listing = next(item for item in (*BEAUPRE_EQUITIES, *BEAUPRE_BONDS) if item.sec == s)
    name = listing.name
    holder = x["holder"].split("|")
    width = 106
    header = [
        ("NO DE COMPTE", "ACCOUNT NO.", t.account),
        ("TYPE DE COMPTE", "ACCOUNT TYPE", x["type"]),
        ("CONSEILLER", "ADVISOR", x["advisor"]),
        ("DATE D'OPÉRATION", "TRADE DATE", d_iso(t.trade_date)),
        ("DATE DE RÈGLEMENT", "SETTLEMENT DATE", d_iso(t.settle_date)),
        ("NO D'OPÉRATION", "TRADE NO.", t.reference or ""),
    ]
    widths = [max(len(a), len(b), len(c)) + 2 for a, b, c in header]
    header_lines = [
        "".join(f"{cell[row]:<{w}}" for cell, w in zip(header, widths, strict=True)) for row in range(3)
    ]

    def table(op: str, qty: str, desc: str, price: str, amount: str) -> str:
        return f"{op:<12}{qty:>11}  {desc:<53}{price:>12}{amount:>16}"

    def amount_row(label: str, value: Decimal) -> str:
        return f"{'':<34}{label:<56}{us(value):>16}"

    french, english = ("ACHAT", "BOUGHT") if t.buy else ("VENTE", "SOLD")
    if t.bond:
        price_text = us(t.price, price_decimals(t.price, 3))
        notes = [
            f"CUSIP {s.cusip}   ISIN {s.isin}",
            f"COUPON {s.coupon:.3f}% SEMESTRIEL / SEMI-ANNUAL   ÉCHÉANCE / MATURITY {d_iso(s.maturity or t.settle_date)}",
            f"RENDEMENT / YIELD TO MATURITY {x['yield']}%   HORS COTE / OVER THE COUNTER",
            "CONTREPARTISTE / PRINCIPAL",
            f"RÉMUNÉRATION TOTALE DU COURTIER / TOTAL DEALER COMPENSATION {x['compensation']} CAD",
            "(INCLUSE DANS LE PRIX / INCLUDED IN THE PRICE)",
        ]
    else:
        price_text = us(t.price, price_decimals(t.price, 2))
        market = "TSX" if ccy == "CAD" else s.venue or ""
        notes = [
            f"CUSIP {s.cusip}   ISIN {s.isin}   SYMBOLE / SYMBOL {s.ticker}",
            f"MARCHÉ / MARKET {market}   COMMANDE / ORDER {x['order']} ({x['order_type']})",
            f"MANDATAIRE / AGENT   {x['solicited']}",
        ]
    rule = "-" * width
    lines = [
        "BEAUPRÉ-MACKLIN CAPITAL INC.".ljust(82) + "AVIS D'EXÉCUTION".rjust(24),
        f"{'Valeurs mobilières / Securities':<82}{'TRADE CONFIRMATION':>24}",
        "1000, rue De La Gauchetière Ouest, bureau 2400, Montréal (Québec) H3B 4W5",
        "Tél. / Tel. 514 555-0142   Sans frais / Toll free 1 888 555-0142   www.beaupremacklin.example",
        f"Membre du FCPE / Member of CIPF   Courtier réglementé par l'{x['regulator'].split(' / ')[0]} / "
        f"Regulated by {x['regulator'].split(' / ')[1]}",
        "",
        f"{holder[0]:<82}{'PAGE 1 DE / OF 1':>24}",
        *holder[1:],
        "",
        "Nous confirmons avoir effectué l'opération suivante pour votre compte, sous réserve des conditions",
        "au verso. / We confirm the following transaction for your account, subject to the terms on the reverse.",
        "",
        *header_lines,
        f"DATES: AAAA-MM-JJ / YYYY-MM-DD   DEVISE / CURRENCY: {ccy}",
        rule,
        table("OPÉRATION", "QUANTITÉ/", "DESCRIPTION DU TITRE", "PRIX", "MONTANT"),
        table("TRANSACTION", "NOMINAL", "SECURITY DESCRIPTION", "PRICE", f"AMOUNT ({ccy})"),
        rule,
        table(french, us(t.quantity, 0), name, price_text, us(t.gross)),
        table(english, "", notes[0], "", ""),
        *(table("", "", note, "", "") for note in notes[1:]),
        "",
    ]
    if t.commission is not None:
        lines.append(amount_row("COMMISSION", t.commission))
    lines += [amount_row(label, value) for label, value in t.fee_items]
    if t.bond:
        lines.append(
            amount_row(f"INTÉRÊTS COURUS / ACCRUED INTEREST ({t.days} J / DAYS)", t.accrued or Decimal(0))
        )
    total = (
        "MONTANT NET À PAYER / NET AMOUNT DUE FROM YOU"
        if t.buy
        else "MONTANT NET À RECEVOIR / NET DUE TO YOU"
    )
    lines += [
        f"{'':<90}{'-' * 16}",
        amount_row(total, t.net),
        rule,
        "",
    ]
    if t.buy:
        lines += [
            "Paiement exigible à la date de règlement. / Payment is due on the settlement date: Banque",
            f"Lanaudière, institution 0412, transit 30021, compte / account 5061-882, référence {t.account}.",
        ]
    else:
        lines.append(
            "Le produit sera porté au crédit de votre compte à la date de règlement. / The proceeds will be credited"
        )
        lines.append("to your account on the settlement date.")
    lines += [
        "",
        "Le prix peut être un prix moyen; détails sur demande. / The price may be an average price; details",
        "are available on request.",
        f"{BEAUPRE_HOUSE} a agi à titre de {'contrepartiste' if t.bond else 'mandataire'}. /",
        f"{BEAUPRE_HOUSE} acted as {'principal' if t.bond else 'agent'}.",
        "S.E.& O. / E.&O.E.",
    ]
    return Rendered(
        lines, name, stated_for(t, cusip=True) | {"security_name"}, font="Courier", size=8, bold_lines=2
    )


# ---------------------------------------------------------------- the three layouts and output


Layout = PlannedLayout[Listing]

LAYOUTS = (
    Layout(
        "tallowood",
        TALLOWOOD_HOUSE,
        tallowood_trade,
        render_tallowood,
        TALLOWOOD_EQUITIES,
        TALLOWOOD_BONDS,
        4,
        5,
        2,
    ),
    Layout(
        "skarvlia",
        SKARVLIA_HOUSE,
        skarvlia_trade,
        render_skarvlia,
        SKARVLIA_EQUITIES,
        SKARVLIA_BONDS,
        4,
        6,
        2,
    ),
    Layout("beaupre", BEAUPRE_HOUSE, beaupre_trade, render_beaupre, BEAUPRE_EQUITIES, BEAUPRE_BONDS, 5, 5, 2),
)


def main() -> None:
    write_planned_group(GROUP, LAYOUTS, seed=f"{SEED}/", creator=CREATOR)


if __name__ == "__main__":
    main()
