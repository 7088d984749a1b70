"""A second held-out group of broker trade confirmations, `heldout2`, with the truth of each
(`python -m bench.documents.make_heldout2`, from the repository root).

The `unseen` layouts of make_corpus.py (corvid, nordvik, aurelia) have been looked at while the
generic extractor was developed, so they are a development set now. This group replaces them as the
held-out measure. Its three layouts were designed from how real houses word and lay out their
confirmations, without reading the extractor, its templates or its tests:

- ridgeline: Ridgeline Prime Services LLC, New York. A US prime broker's confirmation sent as an
  e-mail (From/Sent/To/Subject headers), a TRADE DETAILS section of label/value rows, amounts
  right-aligned under an "Amount (USD)" heading, and a SETTLEMENT INSTRUCTIONS block full of other
  numbers (DTC participant, ABA routing number, the clearing agent's account). Long-form US dates
  (March 12, 2020); "SELL SHORT" and "BUY TO COVER" besides BUY and SELL. US equities and US
  corporates (agency) and Treasuries (principal, no commission). The PDFs are the e-mail as
  printed from a mail client, with the printing user and time above the headers.
- vallombrosa: Banca Vallombrosa S.p.A., Florence. An Italian bank's "nota di eseguito" in the
  bank's English version: two pages, the trade on page 1 and the settlement summary
  ("Countervalue", "Total to settle") on page 2; day-first dates (12/03/2020) and Italian numbers
  (1.234.567,89). Shares are executed on the customer's behalf (PURCHASE / SALE); bonds are dealt
  on the bank's own account and written from the bank's side ("WE HAVE SOLD TO YOU" is the
  customer's purchase), with no commission. Italian, French and Spanish FTT on purchases, a MiFID II
  ex-post cost total (commission plus charges) and a print date as distractors. EUR only.
- harcourt: Harcourt Pier Securities Limited, Hong Kong. An SEHK contract note: two-column header
  block, a table of the executions (one line per fill, with an average price when there are several
  fills), then Brokerage, Stamp Duty, SFC Transaction Levy, HKEX Trading Fee, CCASS Settlement Fee
  and, from 2023, the AFRC levy, at the rates of the trade date. Dates as 12-Mar-20 (two-digit
  years). HKD equities only (HK, Cayman, Bermuda and H-share issuers, short stock names).

The helpers of make_corpus.py (securities, money arithmetic, trades, holiday-aware trade dates, the
balanced plan of sides, kinds and PDFs, and the writing of documents, PDFs and truth) are imported,
not copied. Everything is invented: houses, issuers, accounts, references, people, telephone and
bank numbers. ISINs and CUSIPs (and the CINS inside a Cayman or Bermuda ISIN) carry valid check
digits; the distractor ABA routing number, Italian IBAN and VAT number do too. Output is
deterministic: one random.Random per layout, seeded with a string, and a fixed PDF creation date.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from stdnum import iban as stdnum_iban
from stdnum import luhn

from bench.documents.make_corpus import (
    MONTHS,
    PAGE_BREAK,
    WEEKDAYS,
    PlannedLayout,
    Rendered,
    Security,
    Trade,
    add_business_days,
    approximate_yield,
    d_dmy,
    de,
    decimals_of,
    eu_equity,
    exec_time,
    isin_bond,
    make_trade,
    money,
    pick_bond_price,
    pick_equity_price,
    pick_equity_quantity,
    pick_face,
    pick_open_date,
    price_decimals,
    stated_for,
    us,
    us_bond,
    us_equity,
    weekday_holidays,
    with_cusip_check,
    with_isin_check,
    write_planned_group,
)

SEED = "opsuite-documents-heldout2-v1"
GROUP = "heldout2"
CREATOR = "opsuite bench/documents/make_heldout2.py"  # the PDFs' creator


# ---------------------------------------------------------------- dates and small helpers


def d_long(day: dt.date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"  # March 12, 2020


def d_long_weekday(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {d_long(day)}"  # Thursday, March 12, 2020


def d_hk(day: dt.date) -> str:
    return f"{day.day:02d}-{MONTHS[day.month - 1][:3]}-{day:%y}"  # 12-Mar-20


def clock_12(rng: random.Random, start: int, end: int) -> str:
    hour = rng.randint(start, end)
    return f"{(hour - 1) % 12 + 1}:{rng.randint(0, 59):02d} {'AM' if hour < 12 else 'PM'}"


def aba(body: str) -> str:
    """An ABA routing number: eight digits and the 3-7-1 weighted check digit."""
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 1, 3, 7, 1, 3, 7), strict=True))
    return body + str((10 - total % 10) % 10)


_CIN_ODD = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23)


def italian_iban(abi: str, cab: str, account: str) -> str:
    """IT + check digits + CIN + ABI + CAB + account (12): a well-formed Italian IBAN."""
    bban = abi + cab + account.zfill(12)
    total = 0
    for position, char in enumerate(bban):
        index = int(char) if char.isdigit() else ord(char) - ord("A")
        total += _CIN_ODD[index] if position % 2 == 0 else index
    cin = chr(ord("A") + total % 26)
    body = cin + bban
    return "IT" + stdnum_iban.calc_check_digits("IT00" + body) + body


def maturity_of(sec: Security) -> dt.date:
    assert sec.maturity is not None
    return sec.maturity


def it_coupon(sec: Security) -> str:
    """A coupon the Italian way, at least two decimals: 1,65 / 4,375."""
    assert sec.coupon is not None
    return de(sec.coupon, max(2, decimals_of(sec.coupon)))


def spaced_iban(value: str) -> str:
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


GOOD_FRIDAYS = tuple(
    dt.date(*d) for d in ((2019, 4, 19), (2020, 4, 10), (2021, 4, 2), (2022, 4, 15), (2023, 4, 7))
)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th given weekday of a month (n = -1: the last)."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def us_holidays() -> set[dt.date]:
    """NYSE and SIFMA holidays of 2019-2023 that fall on weekdays (fixed dates as observed)."""
    days = set(GOOD_FRIDAYS)
    for year in range(2019, 2024):
        days |= {
            nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
            nth_weekday(year, 2, 0, 3),  # Presidents' Day
            nth_weekday(year, 5, 0, -1),  # Memorial Day
            nth_weekday(year, 9, 0, 1),  # Labor Day
            nth_weekday(year, 10, 0, 2),  # Columbus Day (bond market)
            nth_weekday(year, 11, 3, 4),  # Thanksgiving
        }
        for month, day in ((1, 1), (7, 4), (11, 11), (12, 25)) + (((6, 19),) if year >= 2022 else ()):
            date = dt.date(year, month, day)
            date += dt.timedelta(days={5: -1, 6: 1}.get(date.weekday(), 0))
            days.add(date)
    return days


def target_holidays() -> set[dt.date]:
    """TARGET2 closing days, and 15 August, when Borsa Italiana is closed."""
    days = set(GOOD_FRIDAYS) | {d + dt.timedelta(days=3) for d in GOOD_FRIDAYS}
    for year in range(2019, 2024):
        days |= {
            dt.date(year, m, d) for m, d in ((1, 1), (5, 1), (8, 15), (12, 24), (12, 25), (12, 26), (12, 31))
        }
    return days


def hk_holidays() -> set[dt.date]:
    """Hong Kong general holidays of 2019-2023 that fell on weekdays."""
    listed = (
        "2019-01-01 2019-02-05 2019-02-06 2019-02-07 2019-04-05 2019-04-19 2019-04-22 2019-05-01 2019-05-13 "
        "2019-06-07 2019-07-01 2019-10-01 2019-10-07 2019-12-25 2019-12-26 "
        "2020-01-01 2020-01-27 2020-01-28 2020-04-10 2020-04-13 2020-04-30 2020-05-01 2020-06-25 2020-07-01 "
        "2020-10-01 2020-10-02 2020-10-26 2020-12-25 "
        "2021-01-01 2021-02-12 2021-02-15 2021-04-02 2021-04-05 2021-04-06 2021-05-19 2021-06-14 2021-07-01 "
        "2021-09-22 2021-10-01 2021-10-14 2021-12-27 "
        "2022-02-01 2022-02-02 2022-02-03 2022-04-05 2022-04-15 2022-04-18 2022-05-02 2022-05-09 2022-06-03 "
        "2022-07-01 2022-09-12 2022-10-04 2022-12-26 2022-12-27 "
        "2023-01-02 2023-01-23 2023-01-24 2023-01-25 2023-04-05 2023-04-07 2023-04-10 2023-05-01 2023-05-26 "
        "2023-06-22 2023-10-02 2023-10-23 2023-12-25 2023-12-26"
    )
    return weekday_holidays(listed)


US_HOLIDAYS, TARGET_HOLIDAYS, HK_HOLIDAYS = us_holidays(), target_holidays(), hk_holidays()


def limit_price(price: Decimal, step: Decimal, steps: int, side: str) -> Decimal:
    """An order's limit in whole cents, at or through the execution price by a few steps."""
    if side == "BUY":
        return price.quantize(Decimal("0.01"), rounding=ROUND_CEILING) + step * steps
    return price.quantize(Decimal("0.01"), rounding=ROUND_FLOOR) - step * steps


# ---------------------------------------------------------------- ridgeline (US prime broker e-mail)


RIDGELINE_HOUSE = "Ridgeline Prime Services LLC"
RIDGELINE_EQUITIES = (
    us_equity("Tamarack Software Inc.", "TMRK", "87523T", "NASDAQ"),
    us_equity("Quillon Therapeutics Inc.", "QLTX", "74838R", "NASDAQ"),
    us_equity("Oakhurst Industrial Corp.", "OKHI", "67208D", "NYSE"),
    us_equity("Brightwater Utilities Co.", "BWUC", "10921N", "NYSE"),
    us_equity("Seacliff Hotels & Resorts Inc.", "SCHR", "81175J", "NYSE"),
    us_equity("Halcyon Freight Systems Inc.", "HFSY", "40537W", "NYSE"),
)
RIDGELINE_BONDS = (
    us_bond("Oakhurst Industrial Corp.", "67208D", "AG", "4.750", dt.date(2030, 4, 15), "SR NT"),
    us_bond("Brightwater Utilities Co.", "10921N", "BK", "3.350", dt.date(2032, 10, 1), "1ST MTG BD"),
    us_bond("Seacliff Hotels & Resorts Inc.", "81175J", "AC", "6.125", dt.date(2028, 8, 15), "SR NT"),
    us_bond("United States Treasury", "912828", "4Q", "2.875", dt.date(2028, 8, 15), "Note", gov=True),
    us_bond("United States Treasury", "912810", "SB", "3.000", dt.date(2048, 2, 15), "Bond", gov=True),
)
# account, account name, recipient, commission per share
RIDGELINE_ACCOUNTS = (
    ("4RP-118204", "ASHGROVE MACRO MASTER FUND LP", "ops@ashgrovecap.example", Decimal("0.0200")),
    (
        "4RP-120577",
        "PENWITH LONG/SHORT EQUITY FUND LTD",
        "tradesupport@penwith-am.example",
        Decimal("0.0150"),
    ),
    ("7RP-003318", "CALDERBROOK CAPITAL PARTNERS LP", "middleoffice@calderbrook.example", Decimal("0.0125")),
)
RIDGELINE_TICKERS = {sec.issuer: sec.ticker or "" for sec in RIDGELINE_EQUITIES}
RIDGELINE_MIC = {"NYSE": "XNYS", "NASDAQ": "XNAS"}


def ridgeline_name(sec: Security) -> str:
    if sec.kind == "equity":
        return f"{sec.issuer.upper().replace('.', '').replace(',', '')} COM"
    if sec.government:
        return f"US TREASURY N/B {sec.coupon:.3f}% {sec.maturity:%m/%d/%Y}"
    issuer = sec.issuer.upper().replace(".", "").replace(",", "")
    return f"{issuer} {sec.coupon:.3f}% {sec.bond_word} DUE {sec.maturity:%m/%d/%Y}"


def ridgeline_trade(rng: random.Random, doc_id: str, kind: str, side: str, sec: Security) -> Trade:
    account, account_name, recipient, per_share = rng.choice(RIDGELINE_ACCOUNTS)
    if kind == "bond":
        quantity, price = pick_face(rng, "USD"), pick_bond_price(rng, sec)
    else:
        quantity = pick_equity_quantity(rng, "USD")
        price = pick_equity_price(rng, "USD", rng.choice((2, 4, 4)))
    trade_date = pick_open_date(rng, US_HOLIDAYS, sec.settle_days)

    def charges(
        sec: Security, side: str, qty: Decimal, gross: Decimal
    ) -> tuple[Decimal | None, list[tuple[str, Decimal]]]:
        items: list[tuple[str, Decimal]] = [("Ticket Charge", Decimal("3.00"))]
        if sec.kind == "equity":
            commission: Decimal | None = money(qty * per_share, "USD")
            if side == "SELL":
                items.append(("SEC Fee", money(gross * Decimal("22.90") / 1_000_000, "USD", ROUND_UP)))
                taf = max(money(qty * Decimal("0.000130"), "USD", ROUND_HALF_UP), Decimal("0.01"))
                items.append(("FINRA TAF", min(taf, Decimal("6.49"))))
        elif sec.government:
            commission = None  # dealt as principal, net price
        else:
            commission = money(qty / 1000 * Decimal("1.25"), "USD")
            if side == "SELL":
                taf = money(qty / 1000 * Decimal("0.00075"), "USD", ROUND_HALF_UP)
                items.append(("FINRA TAF", min(max(taf, Decimal("0.01")), Decimal("0.75"))))
        return commission, items

    trade = make_trade(
        layout="ridgeline",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=charges,
        account=account,
        counterparty=RIDGELINE_HOUSE,
        reference=f"RPS-{trade_date:%Y%m%d}-{rng.randint(1, 999999):06d}",
    )
    verb = side
    if kind == "equity" and side == "SELL" and rng.random() < 0.45:
        verb = "SELL SHORT"
    elif kind == "equity" and side == "BUY" and rng.random() < 0.3:
        verb = "BUY TO COVER"
    limit = limit_price(price, Decimal("0.01"), rng.randint(0, 6), side)
    order_type = "Market" if rng.random() < 0.3 else f"Limit {us(limit)}"
    trade.extra = {
        "verb": verb,
        "account_name": account_name,
        "recipient": recipient,
        "per_share": f"{per_share:.4f}",
        "time": exec_time(rng),
        "sent": clock_12(rng, 17, 20),
        "printed": clock_12(rng, 7, 9),
        "order": f"O-{rng.randint(10_000_000, 99_999_999)}",
        "order_type": order_type,
        "tif": "Day" if order_type == "Market" else rng.choice(("Day", "Day", "GTC")),
        "locate": f"LOC-{rng.randint(1_000_000, 9_999_999)}",
        "venue": rng.choice((RIDGELINE_MIC.get(sec.venue or "", "XNYS"), "Multiple (average price)")),
    }
    if kind == "bond":
        trade.extra["yield"] = approximate_yield(sec, price, trade.settle_date)
    return trade


def render_ridgeline(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    name = ridgeline_name(s)
    x = t.extra
    verb = x["verb"]
    width = 78
    if t.bond:
        short = "T" if s.government else RIDGELINE_TICKERS[s.issuer]
        subject_what = f"{us(t.quantity, 0)} {short} {s.coupon:.3f} {s.maturity:%m/%d/%y}"
    else:
        subject_what = f"{us(t.quantity, 0)} {s.ticker}"

    def row(label: str, value: str) -> str:
        return f"{label:<24}{value}"

    def amount(label: str, value: Decimal, note: str = "") -> str:
        return (f"{label:<40}{us(value):>16}" + (f"   {note}" if note else "")).rstrip()

    lines: list[str] = []
    if printed:
        lines += [
            f"{'Trade Operations - J. Okafor':<56}{d_long_weekday(add_business_days(t.trade_date, 1))}",
            f"{'':<56}{x['printed']}",
            "",
        ]
    lines += [
        "From:     Ridgeline Prime Confirms <confirms@ridgelineprime.example>",
        f"Sent:     {d_long_weekday(t.trade_date)} {x['sent']}",
        f"To:       {x['recipient']}",
        "Cc:       pb-client-service@ridgelineprime.example",
        f"Subject:  Trade Confirmation - {verb} {subject_what} - {t.reference}",
        "",
        "Ridgeline Prime Services LLC",
        "Prime Brokerage Operations | 200 Vesey Street, 24th Floor, New York, NY 10281",
        "Client Service Desk +1 (212) 555-0187 | Member NYSE, FINRA, SIPC",
        "",
        "Dear Client,",
        "",
        "We confirm the following transaction for the account shown. Please review it promptly and",
        "report any discrepancy to the Client Service Desk within one business day.",
        "",
        "TRADE DETAILS",
        "-" * width,
        row("Confirmation No.", t.reference or ""),
        row("Account", t.account),
        row("Account Name", x["account_name"]),
        row("Transaction", verb),
        row("Trade Date", d_long(t.trade_date)),
        row("Settlement Date", d_long(t.settle_date)),
        row("Security", name),
    ]
    if t.bond:
        capacity = "Principal" if s.government else "Agent"
        lines += [
            row("CUSIP / ISIN", f"{s.cusip} / {s.isin}"),
            row("Par Amount", us(t.quantity, 0)),
            row("Price (% of par)", us(t.price, price_decimals(t.price, 3))),
            row("Yield to Maturity", f"{x['yield']}%"),
            row("Coupon / Maturity", f"{s.coupon:.3f}% / {d_long(maturity_of(s))}"),
            row("Day Count", s.day_count),
            row("Capacity", capacity),
            row("Execution Time", f"{x['time']} ET"),
        ]
    else:
        lines += [
            row("Symbol", s.ticker or ""),
            row("CUSIP / ISIN", f"{s.cusip} / {s.isin}"),
            row("Quantity", us(t.quantity, 0)),
            row("Price", us(t.price, 4)),
            row("Capacity", "Agent"),
            row("Venue", x["venue"]),
            row("Execution Time", f"{x['time']} ET"),
            row("Order ID", f"{x['order']} ({x['order_type']}, {x['tif']})"),
        ]
        if verb == "SELL SHORT":
            lines.append(row("Locate ID", f"{x['locate']} (easy to borrow)"))
    lines += ["", f"{'':<40}{'Amount (USD)':>16}", amount("Principal Amount", t.gross)]
    if t.bond:
        lines.append(amount(f"Accrued Interest ({t.days} days)", t.accrued or Decimal(0)))
    if t.commission is not None:
        rate = f"USD {x['per_share']} per share" if not t.bond else "USD 1.25 per bond"
        lines.append(amount(f"Commission ({rate})", t.commission))
    lines += [amount(label, value) for label, value in t.fee_items]
    lines += [
        f"{'':<40}{'-' * 16}",
        amount("Net Amount", t.net, "Debit" if t.buy else "Credit"),
        "-" * width,
        "",
        "SETTLEMENT INSTRUCTIONS",
        row("Method", "Fed book-entry, DVP" if t.bond and s.government else "DVP through DTC"),
        row("Clearing Agent", "Harborview Trust Company, N.A."),
        row("DTC Participant No.", "2907"),
        row("Agent ABA", aba("02601357")),
        row("For Account", "7731-00452"),
        row("FFC", f"{t.account} / {x['account_name']}"),
        "",
        "This confirmation is subject to your Prime Brokerage Agreement and to the rules of the",
        "exchanges and clearing houses concerned. Prices and amounts are in US dollars.",
        "",
        "Regards,",
        "Trade Confirmations | Ridgeline Prime Services LLC",
    ]
    return Rendered(
        lines, name, stated_for(t, cusip=True) | {"security_name"}, font="Helvetica", size=9, bold_lines=0
    )


# ---------------------------------------------------------------- vallombrosa (Italian bank, 2 pages)


VALLOMBROSA_HOUSE = "Banca Vallombrosa S.p.A."
VALLOMBROSA_EQUITIES = (
    eu_equity("Laboratori Castellani SpA", "LCAS", "IT000516694", "Euronext Milan (XMIL)", "AZ. ORD."),
    eu_equity("Vetrerie Anselmi SpA", "VANS", "IT000542718", "Euronext Milan (XMIL)", "AZ. ORD."),
    eu_equity("Assicurazioni Pontremoli SpA", "APON", "IT000381205", "Euronext Milan (XMIL)", "AZ. ORD."),
    eu_equity("Officine Baldacci SpA", "OBAL", "IT000471236", "Euronext Milan (XMIL)", "AZ. ORD."),
    eu_equity("Groupe Marivaux SA", "MRVX", "FR001052733", "Euronext Paris (XPAR)", "AZ. ORD."),
    eu_equity("Construcciones Albarrán SA", "CALB", "ES010524813", "Bolsa de Madrid (XMAD)", "AZ. ORD."),
    eu_equity("Hollersbach Chemie AG", "HBC", "DE000HLB7C2", "Xetra (XETR)", "AZ. NOM."),
)
VALLOMBROSA_EQUITY_NAMES = {
    "IT": lambda s: s.issuer.upper().removesuffix(" SPA"),
    "FR": lambda s: s.issuer.upper().removesuffix(" SA"),
    "ES": lambda s: s.issuer.upper().removesuffix(" SA"),
    "DE": lambda s: s.issuer.upper().removesuffix(" AG"),
}
VALLOMBROSA_BONDS = (
    isin_bond(
        "Repubblica Italiana",
        "IT000543602",
        "EUR",
        "1.65",
        dt.date(2032, 3, 1),
        frequency=2,
        gov=True,
        word="BTP",
    ),
    isin_bond(
        "Repubblica Italiana",
        "IT000531129",
        "EUR",
        "2.80",
        dt.date(2028, 12, 1),
        frequency=2,
        gov=True,
        word="BTP",
    ),
    isin_bond("Officine Baldacci SpA", "XS188231457", "EUR", "3.25", dt.date(2029, 5, 15), word="Notes"),
    isin_bond(
        "Assicurazioni Pontremoli SpA", "XS207754102", "EUR", "4.375", dt.date(2031, 10, 21), word="Notes"
    ),
)
# dossier, holder lines, customer code (NDG), account number inside the IBAN, branch
VALLOMBROSA_ACCOUNTS = (
    (
        "0280 004417 92",
        ("ROSSETTI MARIA GRAZIA", "VIA DEI SERVI 22", "50122 FIRENZE FI"),
        "0004417921",
        "02800",
    ),
    (
        "0280 006153 07",
        ("BERTINI GIANLUCA E PAOLA", "VIALE MILTON 81", "50129 FIRENZE FI"),
        "0006153077",
        "02800",
    ),
    (
        "0411 002298 45",
        ("IMMOBILIARE CORSINI S.R.L.", "PIAZZA SANTO SPIRITO 3", "50125 FIRENZE FI"),
        "0002298450",
        "04110",
    ),
)
VALLOMBROSA_BRANCHES = {"02800": "0280 FIRENZE SEDE", "04110": "0411 FIRENZE OLTRARNO"}


def vallombrosa_name(sec: Security) -> str:
    if sec.kind == "equity":
        return f"{VALLOMBROSA_EQUITY_NAMES[sec.country](sec)} {sec.share_class}"
    maturity = d_dmy(maturity_of(sec))
    if sec.government:
        return f"BTP {it_coupon(sec)}% {maturity}"
    issuer = sec.issuer.upper().removesuffix(" SPA")
    return f"{issuer} {it_coupon(sec)}% {maturity}"


def vallombrosa_trade(rng: random.Random, doc_id: str, kind: str, side: str, sec: Security) -> Trade:
    dossier, holder, ndg, branch = rng.choice(VALLOMBROSA_ACCOUNTS)
    if kind == "bond":
        quantity, price = pick_face(rng, "EUR"), pick_bond_price(rng, sec)
    else:
        quantity = pick_equity_quantity(rng, "EUR")
        price = pick_equity_price(rng, "EUR", rng.choice((3, 4)))
    trade_date = pick_open_date(rng, TARGET_HOLIDAYS, sec.settle_days)

    def charges(
        sec: Security, side: str, qty: Decimal, gross: Decimal
    ) -> tuple[Decimal | None, list[tuple[str, Decimal]]]:
        items: list[tuple[str, Decimal]] = []
        if sec.kind == "bond":
            commission = None  # own account: the price is net
            items.append(("Fixed expenses", Decimal("3.50")))
        else:
            commission = max(money(gross * Decimal("0.0019"), "EUR"), Decimal("12.00"))
            items.append(("Fixed expenses", Decimal("2.50")))
            if side == "BUY" and sec.country == "IT":
                items.append(("Italian FTT (Tobin tax) 0,10%", money(gross * Decimal("0.001"), "EUR")))
            if side == "BUY" and sec.country == "FR":
                items.append(("French FTT 0,30%", money(gross * Decimal("0.003"), "EUR")))
            if side == "BUY" and sec.country == "ES" and trade_date >= dt.date(2021, 1, 16):
                items.append(("Spanish FTT 0,20%", money(gross * Decimal("0.002"), "EUR")))
        if side == "SELL":
            items.append(("Substitute tax on capital gains 26%", Decimal("0.00")))
        return commission, items

    trade = make_trade(
        layout="vallombrosa",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=charges,
        account=dossier,
        counterparty=VALLOMBROSA_HOUSE,
        reference=f"{trade_date:%Y}/{rng.randint(1, 999999):07d}",
    )
    previous_weekday = trade_date - dt.timedelta(days=1 if trade_date.weekday() else 3)
    received = trade_date if rng.random() < 0.6 else previous_weekday
    second = rng.randint(9 * 3600 + 5 * 60, 17 * 3600 + 20 * 60)  # execution, within Borsa hours
    executed = f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
    second = (
        rng.randint(8 * 3600, second - 30) if received == trade_date else rng.randint(8 * 3600, 21 * 3600)
    )
    received_time = f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
    step = Decimal("0.01") if kind == "equity" else Decimal("0.05")
    limit = limit_price(price, step, rng.randint(1, 4), side)
    trade.extra = {
        "holder": "|".join(holder),
        "ndg": ndg,
        "iban": italian_iban("03318", branch, ndg + "1"),
        "branch": VALLOMBROSA_BRANCHES[branch],
        "order": f"{received:%y%m%d}{rng.randint(1_000_000, 9_999_999)}",
        "received": f"{d_dmy(received)} {received_time}",
        "channel": rng.choice(("Internet banking", "Branch", "Telephone banking")),
        "limit": "At best" if rng.random() < 0.35 else f"Limit {de(limit)}",
        "time": executed,
        "loss": de(Decimal(rng.randint(20_000, 900_000)) / 100),
        "loss_year": str(trade_date.year + 4),
    }
    if kind == "bond":
        trade.extra["yield"] = de(Decimal(approximate_yield(sec, price, trade.settle_date)), 3)
    return trade


def render_vallombrosa(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    name = vallombrosa_name(s)
    note = t.reference or ""
    print_date = add_business_days(t.trade_date, 1)
    holder = x["holder"].split("|")
    rule = "=" * 92

    def row(label: str, value: str) -> str:
        return f"{label:<28}{value}"

    def amount(label: str, value: Decimal) -> str:
        return f"   {label:<52}{'EUR':>6}{de(value):>16}"

    header = [
        "Banca Vallombrosa S.p.A.",
        "Via de' Tornabuoni 14 - 50123 Firenze - Tel. +39 055 2718 400 - www.bancavallombrosa.example",
        f"Share capital EUR 48.000.000 fully paid - Tax code and VAT no. 0441882048{luhn.calc_check_digit('0441882048')}",
        "ABI 03318 - Member of the Interbank Deposit Protection Fund",
    ]
    page1 = [
        *header,
        "",
        *(" " * 52 + line for line in ("To the attention of", *holder)),
        "",
        f"{'Firenze, ' + d_dmy(print_date):<80}{'Page 1 of 2':>12}",
        "",
        f"EXECUTION NOTE (NOTA DI ESEGUITO) No. {note}",
        "Investment services: execution of orders on behalf of customers; dealing on own account",
        rule,
        row("Securities dossier", t.account),
        row("Customer code (NDG)", x["ndg"]),
        row("Settlement current account", spaced_iban(x["iban"])),
        row("Branch", x["branch"]),
        row("Order no.", f"{x['order']} received {x['received']} ({x['channel']})"),
        row("Order type", x["limit"]),
        rule,
        "TRANSACTION DETAILS",
        "",
    ]
    if t.bond:
        verb = "WE HAVE SOLD TO YOU" if t.buy else "WE HAVE BOUGHT FROM YOU"
        page1 += [
            row("Operation", f"{verb}, dealing on own account"),
            row("Security", name),
            row("ISIN", s.isin),
            row("Execution venue", "Banca Vallombrosa S.p.A. - systematic internaliser"),
            row("Execution date and time", f"{d_dmy(t.trade_date)} {x['time']}"),
            row("Value date", d_dmy(t.settle_date)),
            row("Nominal value", de(t.quantity, 0)),
            row("Price (clean, % of nominal)", de(t.price, price_decimals(t.price, 3))),
            row("Currency", "EUR"),
            row(
                "Coupon",
                f"{it_coupon(s)}% " + ("semi-annual" if s.frequency == 2 else "annual") + f", {s.day_count}",
            ),
            row("Gross yield to maturity", f"{x['yield']}%"),
        ]
    else:
        page1 += [
            row("Operation", "PURCHASE" if t.buy else "SALE"),
            row("Security", name),
            row("ISIN", s.isin),
            row("Execution venue", s.venue or ""),
            row("Execution date and time", f"{d_dmy(t.trade_date)} {x['time']}"),
            row("Value date", d_dmy(t.settle_date)),
            row("Quantity", de(t.quantity, 0)),
            row("Price", de(t.price, 4)),
            row("Currency", "EUR"),
            row("Capacity", "Order executed on your behalf on the execution venue"),
        ]
    page1 += [
        "",
        "The settlement summary follows on page 2.",
        "",
        f"Banca Vallombrosa S.p.A. - Execution note {note} - page 1/2",
    ]
    summary = [amount("Countervalue", t.gross)]
    if t.bond:
        summary.append(amount(f"Accrued interest ({t.days} days)", t.accrued or Decimal(0)))
    if t.commission is not None:
        summary.append(amount("Bank commission (0,19% min. EUR 12,00)", t.commission))
    summary += [amount(label, value) for label, value in t.fee_items]
    costs = (t.commission or Decimal(0)) + t.fees
    share = (costs / t.gross * 100).quantize(Decimal("0.001"), ROUND_HALF_UP)
    direction = "to your DEBIT" if t.buy else "to your CREDIT"
    page2 = [
        "Banca Vallombrosa S.p.A.",
        f"{'Execution note No. ' + note + ' - dossier ' + t.account:<80}{'Page 2 of 2':>12}",
        "",
        "SETTLEMENT SUMMARY",
        rule,
        *summary,
        " " * 61 + "-" * 16,
        amount(f"Total to settle, {direction}", t.net),
        f"   Value date {d_dmy(t.settle_date)}, current account {spaced_iban(x['iban'])}",
        rule,
        "",
    ]
    if not t.buy:
        page2 += [
            "Capital gains are taxed under the administered savings regime. Capital losses available",
            f"for offset after this sale: EUR {x['loss']}, usable until 31/12/{x['loss_year']}.",
            "",
        ]
    page2 += [
        "Costs and charges (MiFID II, ex-post information)",
        f"   Total costs and charges of this transaction: EUR {de(costs)} ({de(share, 3)}% of the countervalue)",
        "",
        "Please check this note and notify the Bank of any objection within 60 days of receipt.",
        "",
        f"Banca Vallombrosa S.p.A. - Execution note {note} - page 2/2",
    ]
    return Rendered(
        [*page1, PAGE_BREAK, *page2], name, stated_for(t) | {"security_name"}, size=8.5, bold_lines=1
    )


# ---------------------------------------------------------------- harcourt (Hong Kong contract note)


HARCOURT_HOUSE = "Harcourt Pier Securities Limited"


@dataclass(frozen=True)
class HKStock:
    sec: Security
    short_name: str
    lot: int
    low: int
    high: int


def hk_stock(
    code: str, short: str, issuer: str, kind: str, body: str, lot: int, low: int, high: int
) -> HKStock:
    if kind == "HK":
        isin = with_isin_check("HK" + code[1:] + body)  # HK + 4-digit code + 5 digits
    elif kind in {"KY", "BM"}:
        isin = with_isin_check(kind + with_cusip_check("G" + body))  # the CINS inside the ISIN
    else:
        isin = with_isin_check("CNE1000" + body)  # an H share
    sec = Security("equity", issuer, "HKD", kind, isin, local_id=code, ticker=code, venue="SEHK")
    return HKStock(sec, short, lot, low, high)


HARCOURT_STOCKS = (
    hk_stock("01187", "HONG WAH PPT", "Hong Wah Properties Holdings Limited", "HK", "00031", 1000, 3, 12),
    hk_stock("02263", "JADE RIVER BIO-B", "Jade River Biotechnology Inc.", "KY", "4817210", 500, 20, 80),
    hk_stock("00718", "KWAI CHUNG PORTS", "Kwai Chung Ports Holdings Ltd", "BM", "5217X10", 2000, 1, 6),
    hk_stock("03369", "LINGNAN ENERGY", "Lingnan Clean Energy Co., Ltd. H Shares", "CN", "03R8", 2000, 2, 8),
    hk_stock("06118", "SUNWAH DIGITAL", "Sunwah Digital Holdings Ltd", "KY", "8620A10", 100, 100, 450),
    hk_stock("01853", "FOTAN MEDICAL", "Fo Tan Medical Group Ltd", "KY", "3391B10", 200, 30, 120),
    hk_stock("00884", "MEI FOO HLDGS", "Mei Foo Holdings Ltd", "HK", "00172", 500, 10, 40),
)
# account, holder, type, AE code
HARCOURT_ACCOUNTS = (
    ("60-208417-1", "CHAN SIU MING", "CASH", "K17"),
    ("60-311052-8", "WONG KA LOK", "CASH", "K22"),
    ("62-100773-4", "LEUNG MEI YEE", "MARGIN", "M05"),
)


def hk_tick(price: Decimal) -> Decimal:
    """The SEHK spread table (part A) for the price ranges used here."""
    for limit, tick in (
        ("0.25", "0.001"),
        ("0.5", "0.005"),
        ("10", "0.01"),
        ("20", "0.02"),
        ("100", "0.05"),
        ("200", "0.1"),
        ("500", "0.2"),
        ("1000", "0.5"),
    ):
        if price < Decimal(limit):
            return Decimal(tick)
    return Decimal("1")


def hk_rates(day: dt.date) -> dict[str, Decimal]:
    """Statutory rates of the trade date (per side): stamp duty 0.1 % (0.13 % from 1 Aug 2021 to
    16 Nov 2023), SFC levy 0.0027 %, trading fee 0.005 % (0.00565 % from 2023), AFRC levy
    0.00015 % from 2023."""
    stamp = "0.0013" if dt.date(2021, 8, 1) <= day <= dt.date(2023, 11, 16) else "0.001"
    return {
        "stamp": Decimal(stamp),
        "levy": Decimal("0.000027"),
        "trading": Decimal("0.0000565") if day.year >= 2023 else Decimal("0.00005"),
        "afrc": Decimal("0.0000015") if day.year >= 2023 else Decimal(0),
    }


def harcourt_trade(rng: random.Random, doc_id: str, kind: str, side: str, stock: HKStock) -> Trade:
    account, holder, account_type, ae = rng.choice(HARCOURT_ACCOUNTS)
    trade_date = pick_open_date(rng, HK_HOLIDAYS, stock.sec.settle_days)
    while True:
        base = Decimal(rng.randint(stock.low * 100, stock.high * 100)) / 100
        tick = hk_tick(base)
        base = (base / tick).to_integral_value() * tick
        lots = max(1, round(rng.randint(20_000, 900_000) / (float(base) * stock.lot)))
        count = 1 if lots < 2 or rng.random() < 0.45 else rng.choice((2, 2, 3)) if lots >= 3 else 2
        cuts = sorted(rng.sample(range(1, lots), count - 1)) if count > 1 else []
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, lots], strict=True)]
        fills = [(Decimal(p * stock.lot), base + tick * rng.randint(-1, 2)) for p in parts]
        quantity = sum((q for q, _ in fills), Decimal(0))
        gross = sum((q * p for q, p in fills), Decimal(0))
        average = gross / quantity
        if decimals_of(average) <= 4 and all(p > 0 for _, p in fills):
            break
    rates = hk_rates(trade_date)
    rate = Decimal("0.0025") if account_type == "CASH" else Decimal("0.0020")

    def charges(
        sec: Security, side: str, qty: Decimal, gross: Decimal
    ) -> tuple[Decimal | None, list[tuple[str, Decimal]]]:
        commission = max(money(gross * rate, "HKD", ROUND_HALF_UP), Decimal("100.00"))
        stamp = (gross * rates["stamp"]).quantize(Decimal(1), rounding=ROUND_UP)  # to the whole dollar
        items = [
            ("Stamp Duty", money(stamp, "HKD")),
            ("SFC Transaction Levy", money(gross * rates["levy"], "HKD", ROUND_HALF_UP)),
        ]
        if rates["afrc"]:
            items.append(("AFRC Transaction Levy", money(gross * rates["afrc"], "HKD", ROUND_HALF_UP)))
        items += [
            ("HKEX Trading Fee", money(gross * rates["trading"], "HKD", ROUND_HALF_UP)),
            (
                "CCASS Settlement Fee",
                min(
                    max(money(gross * Decimal("0.00002"), "HKD", ROUND_HALF_UP), Decimal("2.00")),
                    Decimal("100.00"),
                ),
            ),
        ]
        return commission, items

    trade = make_trade(
        layout="harcourt",
        group=GROUP,
        doc_id=doc_id,
        sec=stock.sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=average,
        charges=charges,
        account=account,
        counterparty=HARCOURT_HOUSE,
        reference=f"C{trade_date:%y%m%d}-{rng.randint(1, 9999):04d}",
    )
    assert trade.gross == gross, (doc_id, trade.gross, gross)
    order = f"{rng.randint(100_000, 999_999):07d}"
    # within a continuous trading session (09:30-12:00, 13:00-16:00), a few minutes before its end at most
    second = rng.choice((rng.randint(34_200, 42_600), rng.randint(46_800, 56_400)))
    times = []
    for _ in fills:
        times.append(f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}")
        second += rng.randint(1, 240)
    trade.extra = {
        "holder": holder,
        "type": account_type,
        "ae": ae,
        "rate": f"{rate * 100:.2f}%",
        "short": stock.short_name,
        "fills": ";".join(f"{q}@{p}@{tm}" for (q, p), tm in zip(fills, times, strict=True)),
        "order": order,
        "channel": rng.choice(("Mobile App", "Internet", "Phone (recorded line)")),
    }
    return trade


def render_harcourt(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    fills = [tuple(part.split("@")) for part in x["fills"].split(";")]
    width = 96
    rule = "-" * width

    def table(cells: tuple[str, str, str, str, str, str, str]) -> str:
        code, name, order, time, qty, price, amount = cells
        return f"{code:<7}{name:<20}{order:<11}{time:<10}{qty:>13}{price:>14}{amount:>21}".rstrip()

    def charge(label: str, value: Decimal) -> str:
        return f"{'':<44}{label:<34}{us(value):>18}"

    verb = "BOUGHT" if t.buy else "SOLD"
    lines = [
        "HARCOURT PIER SECURITIES LIMITED",
        "Exchange Participant of The Stock Exchange of Hong Kong Limited (Broker No. 4127)",
        "Licensed Corporation under the SFO for Type 1 regulated activity (CE No. BKQ214)",
        "21/F, Admiralty Harbour Centre, 18 Harcourt Road, Admiralty, Hong Kong",
        "Tel (852) 2555 0143   Fax (852) 2555 0199   Customer Hotline (852) 2555 0100",
        "",
        f"{'CONTRACT NOTE':<84}{'Page 1 of 1':>12}",
        "",
        f"{'A/C No.     : ' + t.account:<52}Contract No. : {t.reference}",
        f"{'A/C Name    : ' + x['holder']:<52}Trade Date   : {d_hk(t.trade_date)}",
        f"{'A/C Type    : ' + x['type']:<52}Settle Date  : {d_hk(t.settle_date)}",
        f"{'AE Code     : ' + x['ae']:<52}Currency     : HKD",
        "",
        f"We have this day {verb} for your account and at your risk, as your agent, the following",
        "securities on The Stock Exchange of Hong Kong Limited:",
        "",
        rule,
        table(("Stock", "Stock Name", "Order No.", "Time", "Quantity", "Price", "Amount (HKD)")),
        rule,
    ]
    for index, (qty, price, time) in enumerate(fills):
        q, p = Decimal(qty), Decimal(price)
        first = index == 0
        lines.append(
            table(
                (
                    s.local_id or "" if first else "",
                    x["short"] if first else "",
                    x["order"],
                    time,
                    us(q, 0),
                    us(p, 3),
                    us(q * p),
                )
            )
        )
    lines.append(f"{'':<7}ISIN {s.isin}")
    if len(fills) > 1:
        lines += [
            f"{'':<47}{'-' * 14}{'':<14}{'-' * 21}",
            f"{'':<7}{'Total / Average Price':<40}{us(t.quantity, 0):>14}{us(t.price, 4):>14}{us(t.gross):>21}",
        ]
    lines += [
        rule,
        charge("Consideration", t.gross),
        charge(f"Brokerage ({x['rate']}, min. HKD 100)", t.commission or Decimal(0)),
        *(charge(label, value) for label, value in t.fee_items),
        f"{'':<44}{'-' * 52}",
        charge(f"Amount {'Payable by You' if t.buy else 'Receivable by You'} (HKD)", t.net),
        "",
        f"Order channel: {x['channel']}. Settlement {'payment due' if t.buy else 'proceeds available'} on "
        f"{d_hk(t.settle_date)}.",
        'Cheques should be crossed and made payable to "Harcourt Pier Securities Limited - Client A/C"',
        "or paid into our segregated account no. 015-228-74519-001 with Victoria Harbour Bank Limited.",
        "Please examine this contract note and report any discrepancy within 3 business days. E.&O.E.",
    ]
    return Rendered(lines, x["short"], stated_for(t) | {"security_name"}, size=8.5, bold_lines=1)


# ---------------------------------------------------------------- the three layouts and output


Layout = PlannedLayout[Any]  # dealing a Security, or an HKStock for harcourt

LAYOUTS = (
    Layout(
        "ridgeline",
        RIDGELINE_HOUSE,
        ridgeline_trade,
        render_ridgeline,
        RIDGELINE_EQUITIES,
        RIDGELINE_BONDS,
        5,
        5,
        2,
    ),
    Layout(
        "vallombrosa",
        VALLOMBROSA_HOUSE,
        vallombrosa_trade,
        render_vallombrosa,
        VALLOMBROSA_EQUITIES,
        VALLOMBROSA_BONDS,
        5,
        6,
        2,
    ),
    Layout("harcourt", HARCOURT_HOUSE, harcourt_trade, render_harcourt, HARCOURT_STOCKS, (), 0, 5, 0),
)


def main() -> None:
    write_planned_group(GROUP, LAYOUTS, seed=f"{SEED}:", creator=CREATOR)


if __name__ == "__main__":
    main()
