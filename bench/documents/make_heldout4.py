"""A fourth held-out group of broker trade confirmations, `heldout4`, with the truth of each
(`python -m bench.documents.make_heldout4`, from the repository root).

heldout3 is scored once and then final, so the next held-out measure of the generic extractor is a
new group made the same way. Its three layouts come from how Indian stockbrokers, South African
stockbrokers and Spanish banks word and lay out their confirmations. They differ in house, country
conventions and visual structure from every earlier layout (make_corpus.py: halvorsen, altmark,
thamesgate, lacroix, sakura, rigi, corvid, nordvik, aurelia; make_heldout2.py: ridgeline,
vallombrosa, harcourt; make_heldout3.py: tallowood, skarvlia, beaupre; market's northbridge, kestrel,
meridian). They were written without reading the extractor, its templates, its tests or its scoring
script:

- vindhya: Vindhya Shares & Stock Brokers Private Limited, Mumbai. An NSE member's "contract note
  cum tax invoice" in the SEBI format, printed landscape: the member code, SEBI registration, CIN,
  GSTIN and compliance officer above a two-column header of `Label : value` pairs (contract note
  no., UCC, PAN, DP ID, settlement no., place of supply), then "I / We have this day done by your
  order and on your account the following transactions" and a wide table with one row per trade
  (order no. and time, trade no. and time, description, B/S, quantity, gross rate, brokerage per
  unit, net rate per unit, net total before levies), then an obligation summary with an NSE, a BSE
  and a total column in which amounts payable by the client are in parentheses: pay-in/pay-out
  obligation, taxable value of supply (brokerage), exchange transaction charges, SEBI turnover fees,
  CGST and SGST (client in Maharashtra) or IGST (elsewhere), securities transaction tax, stamp duty,
  and the net amount receivable/(payable). Amounts in lakh/crore grouping (12,34,567.89), dates
  12-03-2020. Government securities and listed NCDs are bought and sold on NSE's RFQ platform on a
  debt-segment contract note (face value, clean price per Rs.100, yield, accrued interest).
- swartberg: Swartberg Securities (Pty) Ltd, Sandton. A JSE member's contract note and tax invoice:
  the client block and the contract block side by side, separated by a rule, then "we have today
  BOUGHT/SOLD for your account, as agent, on the JSE" over a one-row table (share code, instrument,
  ISIN, quantity, price, consideration), then a costs matrix with Excl. VAT, VAT and Incl. VAT
  columns (brokerage, Strate fee, investor protection levy, securities transfer tax on purchases)
  and its total, and "Amount due by you / to you". Settlement T+3 (JSE). Dates 2020/03/12, numbers
  1 234 567.89. Government and corporate bonds on the JSE interest rate market, with the traded
  yield, clean and all-in prices and ACT/365 accrued interest.
- albarracin: Banco de Albarracín, S.A., Teruel. A Spanish bank's securities note, entirely in
  Spanish ("COMPRA DE VALORES", "VENTA DE RENTA FIJA"): rows of column headings with the values
  underneath (TITULAR, CUENTA DE VALORES, FECHA CONTRATACIÓN, FECHA LIQUIDACIÓN, Nº TÍTULOS,
  CAMBIO), a sentence in the bank's voice, and a settlement table with CARGO (debit) and ABONO
  (credit) columns that ends in "TOTAL A SU CARGO" or "LÍQUIDO A SU FAVOR". Shares on the BME
  continuous market as agent, with the bank's commission, the exchange and Iberclear fees and the
  Spanish FTT (0,2 % on purchases of large Spanish companies from 16 January 2021). Spanish
  government bonds are sold to and bought from the client by the bank on its own account (no
  commission), corporate bonds are dealt as agent. Numbers 1.234.567,89, dates 12/03/2020, and the
  issue date written "13 de marzo de 2020".

Sources and habits followed (public material, structure and wording only; nothing copied): SEBI's
prescribed contents of a contract note and NSE member contract notes (UCC, PAN, settlement number,
"I / We have this day done by your order and on your account", the obligation summary with taxes
shown line by line, SAC 997152 for stock broking), the Indian lakh/crore digit grouping, the charges
on delivery trades in 2019-2023 (STT 0.1 % rounded to the rupee, the uniform stamp duty of the
Indian Stamp Act from 1 July 2020, GST 18 % on brokerage and charges) and the move of Indian equity
settlement from T+2 to T+1 completed on 27 January 2023; JSE contract notes and published retail
cost schedules (brokerage, Strate, investor protection levy, 15 % VAT, STT 0.25 % on purchases, T+3
settlement, the FSP number and company registration format), South African bonds' ACT/365
accrued interest and books-closed period; Spanish bank notes ("nota de liquidación", efectivo,
cánones de Bolsa y de liquidación, cupón corrido, cargo/abono), the Spanish financial transactions
tax (Ley 5/2020) and Iberclear settlement.

The helpers of make_corpus.py (securities, money arithmetic, trades, holiday-aware trade dates, the
balanced plan of sides, kinds and PDFs, tick prices, coupon periods, accrued restatement, and the
writing of documents, PDFs and truth) and make_heldout2.py's calendars are imported, not copied.
Everything is invented: houses, issuers, people, accounts, references, telephone and bank numbers.
ISINs carry valid check digits, as do the GSTIN, the Spanish CIF, DNI letters, CCC account numbers
and IBANs in the distractors. Output is deterministic: one random.Random per layout seeded with a
string, and a fixed PDF creation date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from stdnum import luhn
from stdnum.es import ccc as stdnum_ccc
from stdnum.es import cif as stdnum_cif
from stdnum.es import dni as stdnum_dni
from stdnum.in_ import gstin as stdnum_gstin
from stdnum.in_ import pan as stdnum_pan

from bench.documents.make_corpus import (
    SPANISH_MONTHS,
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
    isin_bond,
    keep,
    make_trade,
    money,
    number,
    pick_bond_date,
    pick_bond_price,
    pick_equity_quantity,
    pick_face,
    pick_open_date,
    price_decimals,
    restate_accrued,
    stated_for,
    tick_price,
    weekday_holidays,
    with_isin_check,
    wrap,
    write_planned_group,
)
from bench.documents.make_heldout2 import GOOD_FRIDAYS, TARGET_HOLIDAYS

SEED = "opsuite-documents-heldout4-v1"
GROUP = "heldout4"
YEARS = range(2019, 2024)
CREATOR = "opsuite bench/documents/make_heldout4.py"  # the PDFs' creator


# ---------------------------------------------------------------- small helpers


@dataclass(frozen=True)
class Listing:
    """A security as one house lists it: its own description, and for shares a price range and
    flags of the house's market (an exchange code, whether a transaction tax applies)."""

    sec: Security
    name: str
    low: str = "0"
    high: str = "0"
    code: str = ""
    large_cap: bool = False


def half_up(value: Decimal, currency: str = "EUR") -> Decimal:
    return money(value, currency, ROUND_HALF_UP)


def plural(count: int | None, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


# ---------------------------------------------------------------- vindhya (Indian stockbroker)


VINDHYA_HOUSE = "Vindhya Shares & Stock Brokers Private Limited"
VINDHYA_PAN = "AADCV4417M"
VINDHYA_GSTIN = (
    "27"
    + VINDHYA_PAN
    + "1Z"
    + luhn.calc_check_digit("27" + VINDHYA_PAN + "1Z", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
)
assert stdnum_gstin.is_valid(VINDHYA_GSTIN)

# NSE trading holidays of 2019-2023 that fell on weekdays, and 1 April (the banks' annual closing,
# a settlement holiday). Where a date moved late (Bakri Id 2023), both days are listed.
IN_HOLIDAYS = weekday_holidays(
    "2019-03-04 2019-03-21 2019-04-01 2019-04-17 2019-04-19 2019-04-29 2019-05-01 2019-06-05 2019-08-12 "
    "2019-08-15 2019-09-02 2019-09-10 2019-10-02 2019-10-08 2019-10-21 2019-10-28 2019-11-12 2019-12-25 "
    "2020-02-21 2020-03-10 2020-04-01 2020-04-02 2020-04-06 2020-04-10 2020-04-14 2020-05-01 2020-05-25 "
    "2020-10-02 2020-11-16 2020-11-30 2020-12-25 "
    "2021-01-26 2021-03-11 2021-03-29 2021-04-01 2021-04-02 2021-04-14 2021-04-21 2021-05-13 2021-07-21 "
    "2021-08-19 2021-09-10 2021-10-15 2021-11-04 2021-11-05 2021-11-19 "
    "2022-01-26 2022-03-01 2022-03-18 2022-04-01 2022-04-14 2022-04-15 2022-05-03 2022-08-09 2022-08-15 "
    "2022-08-31 2022-10-05 2022-10-24 2022-10-26 2022-11-08 "
    "2023-01-26 2023-03-07 2023-03-30 2023-04-04 2023-04-07 2023-04-14 2023-05-01 2023-06-28 2023-06-29 "
    "2023-08-15 2023-09-19 2023-10-02 2023-10-24 2023-11-14 2023-11-27 2023-12-25"
)
IN_T1_FROM = dt.date(2023, 1, 27)  # every NSE share settles T+1 from this trade date
IN_T1_PHASE = dt.date(2022, 2, 25)  # the phase-in, stock by stock; no trade is dated inside it
IN_STAMP_FROM = dt.date(2020, 7, 1)  # the uniform stamp duty of the amended Indian Stamp Act


def inr(value: Decimal, decimals: int = 2) -> str:
    """Indian digit grouping: 12,34,567.89 (thousands, then lakhs and crores)."""
    value = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):f}".partition(".")
    head, tail = whole[:-3], whole[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return sign + ",".join([*groups, tail]) + ("." + fraction if fraction else "")


def d_dash(day: dt.date) -> str:
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def in_equity(issuer: str, symbol: str, isin_body: str, low: str, high: str) -> Listing:
    sec = Security(
        "equity",
        issuer,
        "INR",
        "IN",
        with_isin_check(isin_body),
        ticker=symbol,
        venue="NSE",
        share_class="EQ",
    )
    name = issuer.upper().replace("LIMITED", "LTD").replace(".", "")
    return Listing(sec, name, low, high, code=symbol)


def in_bond(issuer: str, isin_body: str, coupon: str, maturity: dt.date, name: str) -> Listing:
    gov = issuer == "Government of India"
    sec = isin_bond(
        issuer,
        isin_body,
        "INR",
        coupon,
        maturity,
        frequency=2 if gov else 1,
        day_count="30/360" if gov else "ACT/ACT",
        gov=gov,
        word="GS" if gov else "NCD",
    )
    return Listing(dataclasses.replace(sec, settle_days=1), name)


VINDHYA_EQUITIES = (
    in_equity("Deccan Textile Mills Limited", "DECTEX", "INE318Q0101", "85", "340"),
    in_equity("Konkan Agro Chemicals Limited", "KONKAGRO", "INE742H0101", "140", "620"),
    in_equity("Narmada Cables & Wires Limited", "NARMCAB", "INE551K0102", "380", "1450"),
    in_equity("Sahyadri Pharmaceuticals Limited", "SAHYPHAR", "INE207D0101", "900", "3400"),
    in_equity("Malabar Ports & Logistics Limited", "MALPORT", "INE913M0101", "45", "180"),
    in_equity("Thar Solar Power Limited", "THARSOL", "INE0GK40101", "22", "96"),
)
VINDHYA_BONDS = (
    in_bond("Government of India", "IN002021004", "6.83", dt.date(2031, 5, 19), "6.83% GS 2031"),
    in_bond("Government of India", "IN002019017", "7.12", dt.date(2029, 8, 22), "7.12% GS 2029"),
    in_bond(
        "Malabar Ports & Logistics Limited",
        "INE913M07AD",
        "8.35",
        dt.date(2028, 9, 14),
        "8.35% MALABAR PORTS & LOGISTICS LTD NCD SR-IV 2028",
    ),
    in_bond(
        "Sahyadri Pharmaceuticals Limited",
        "INE207D07BF",
        "7.95",
        dt.date(2027, 3, 26),
        "7.95% SAHYADRI PHARMACEUTICALS LTD NCD SR-II 2027",
    ),
)


@dataclass(frozen=True)
class IndianClient:
    ucc: str
    name: str
    address: tuple[str, ...]
    pan: str
    state: str  # place of supply, with its GST state code
    dp: str  # depository participant ID / beneficiary client ID


VINDHYA_CLIENTS = (
    IndianClient(
        "VK4471",
        "MR ANIRUDH SHRIKANT KULKARNI",
        ("FLAT 12, SHUBHANKAR CHS, PRABHAT ROAD", "ERANDWANE, PUNE 411004"),
        "AKLPK4471Q",
        "MAHARASHTRA (27)",
        "IN301127 / 10448812",
    ),
    IndianClient(
        "VR0982",
        "MRS MEENAKSHI RAGHAVAN",
        ("NO 14, 3RD CROSS STREET, KASTURBA NAGAR", "ADYAR, CHENNAI 600020"),
        "BQRPR0982M",
        "TAMIL NADU (33)",
        "IN302814 / 20557319",
    ),
    IndianClient(
        "VC1530",
        "NIRMAL HOLDINGS PRIVATE LIMITED",
        ("304, SHIVALIK PLAZA, IIM ROAD", "AMBAWADI, AHMEDABAD 380015"),
        "AACCN1530F",
        "GUJARAT (24)",
        "IN303028 / 30118874",
    ),
)
for _client in VINDHYA_CLIENTS:
    assert stdnum_pan.is_valid(_client.pan), _client.pan


def nse_tick(price: Decimal) -> Decimal:
    return Decimal("0.05")


def vindhya_rates(trade_date: dt.date) -> dict[str, Decimal]:
    return {
        "brokerage": Decimal("0.0030"),
        "exchange": Decimal("0.0000345") if trade_date.year >= 2021 else Decimal("0.0000325"),
        "sebi": Decimal("0.000001"),  # Rs.10 per crore
        "stt": Decimal("0.001"),
        "stamp": Decimal("0.00015") if trade_date >= IN_STAMP_FROM else Decimal("0.00005"),
        "debt_brokerage": Decimal("0.0010"),
        "debt_stamp": Decimal("0.000001"),
    }


def vindhya_gst(base: Decimal, intra_state: bool) -> ChargeList:
    if intra_state:
        half = half_up(base * Decimal("0.09"), "INR")
        return [("CGST @ 9%", half), ("SGST @ 9%", half), ("IGST @ 18%", Decimal("0.00"))]
    return [
        ("CGST @ 9%", Decimal("0.00")),
        ("SGST @ 9%", Decimal("0.00")),
        ("IGST @ 18%", half_up(base * Decimal("0.18"), "INR")),
    ]


def vindhya_charges(trade_date: dt.date, intra_state: bool, fills: list[Decimal], price: Decimal) -> Charges:
    """Brokerage is charged trade by trade (0.30 % of each trade's value); the levies on the whole."""
    rates = vindhya_rates(trade_date)

    def charges(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, ChargeList]:
        if sec.kind == "bond":
            brokerage = max(half_up(gross * rates["debt_brokerage"], "INR"), Decimal("100.00"))
            items = vindhya_gst(brokerage, intra_state)
            if side == "BUY" and trade_date >= IN_STAMP_FROM:
                items.append(("Stamp duty", half_up(gross * rates["debt_stamp"], "INR")))
            return brokerage, items
        brokerage = sum((half_up(fill * price * rates["brokerage"], "INR") for fill in fills), Decimal(0))
        exchange = half_up(gross * rates["exchange"], "INR")
        sebi = half_up(gross * rates["sebi"], "INR")
        items = [("Exchange transaction charges", exchange), ("SEBI turnover fees", sebi)]
        items += vindhya_gst(brokerage + exchange + sebi, intra_state)
        stt = (gross * rates["stt"]).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        items.append(("Securities transaction tax", stt))
        if side == "BUY" or trade_date < IN_STAMP_FROM:
            items.append(("Stamp duty", half_up(gross * rates["stamp"], "INR")))
        return brokerage, items

    return charges


def fiscal_year(day: dt.date) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def vindhya_trade(rng: random.Random, doc_id: str, kind: str, side: str, listing: Listing) -> Trade:
    sec = listing.sec
    client = rng.choice(VINDHYA_CLIENTS)
    intra_state = client.state.startswith("MAHARASHTRA")
    fills: list[Decimal] = []
    if kind == "bond":
        quantity = Decimal(rng.choice((100_000, 200_000, 300_000, 500_000, 1_000_000, 2_500_000, 5_000_000)))
        price = Decimal(rng.randint(88 * 10_000, 108 * 10_000)).scaleb(-4)
        trade_date = pick_bond_date(rng, sec, IN_HOLIDAYS, 1, 15)
    else:
        quantity = pick_equity_quantity(rng, "INR")
        price = tick_price(rng, listing.low, listing.high, nse_tick)
        while True:
            trade_date = pick_open_date(rng, IN_HOLIDAYS, 2)
            if not IN_T1_PHASE <= trade_date < IN_T1_FROM:
                break
        sec = dataclasses.replace(sec, settle_days=1 if trade_date >= IN_T1_FROM else 2)
        if quantity >= 20 and rng.random() < 0.4:
            first = Decimal(rng.randint(1, int(quantity) - 1))
            fills = [first, quantity - first]
        else:
            fills = [quantity]
    trade = make_trade(
        layout="vindhya",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=vindhya_charges(trade_date, intra_state, fills, price),
        account=client.ucc,
        counterparty=VINDHYA_HOUSE,
        reference=f"VSB/CN/{fiscal_year(trade_date)}/{rng.randint(1, 99_999):07d}",
    )
    rates = vindhya_rates(trade_date)
    start = rng.randint(9 * 3600 + 15 * 60, 15 * 3600 + 20 * 60)
    rows = []
    for fill in fills:
        start += rng.randint(0, 400)
        row_brokerage = half_up(fill * price * rates["brokerage"], "INR")
        order_time = start - rng.randint(1, 30)
        rows.append(
            "|".join(
                (
                    str(fill),
                    f"{order_time // 3600:02d}:{order_time // 60 % 60:02d}:{order_time % 60:02d}",
                    f"{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}",
                    str(rng.randint(10_000_000, 99_999_999)),
                    str(row_brokerage),
                )
            )
        )
    year_start = dt.date(trade_date.year, 1, 1)
    sessions = sum(
        1
        for n in range((trade_date - year_start).days + 1)
        if (year_start + dt.timedelta(days=n)).weekday() < 5
        and year_start + dt.timedelta(days=n) not in IN_HOLIDAYS
    )
    trade.extra = {
        "client": client.ucc,
        "order": f"1{rng.randint(100_000_000_000_000, 999_999_999_999_999)}",
        "fills": ";".join(rows),
        "settlement_no": f"{trade_date.year}{sessions:03d}",
        "deal": f"RFQ{trade_date:%y%m%d}{rng.randint(1000, 9999)}",
        "deal_time": f"{rng.randint(10, 16):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        "name": listing.name,
        "invoice": f"VSB/GST/{fiscal_year(trade_date)}/{rng.randint(1, 999_999):07d}",
    }
    if kind == "bond":
        trade.extra["yield"] = approximate_yield(sec, price, trade.settle_date)
    return trade


def render_vindhya(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    client = next(c for c in VINDHYA_CLIENTS if c.ucc == x["client"])
    width = 158

    def pair(label: str, value: str) -> str:
        return f"{label:<20}: {value}"

    def two(left: tuple[str, str] | None, right: tuple[str, str] | None) -> str:
        return f"{pair(*left) if left else '':<78}{pair(*right) if right else ''}"

    def owed(value: Decimal, payable: bool) -> str:
        return f"({inr(value)})" if payable and value else inr(value)

    title = "CONTRACT NOTE CUM TAX INVOICE" + (" - DEBT SEGMENT (NSE RFQ PLATFORM)" if t.bond else "")
    lines = [
        "VINDHYA SHARES & STOCK BROKERS PRIVATE LIMITED".ljust(width - len(title)) + title,
        f"{'Member: National Stock Exchange of India Ltd (Member Code 13847)':<98}"
        f"(Tax invoice under Section 31 of the CGST Act, 2017)",
        f"SEBI Regn. No. INZ000182734   CIN U67120MH2004PTC148215   GSTIN {VINDHYA_GSTIN}   PAN {VINDHYA_PAN}",
        "Regd. Office: Unit 402, Dalal Chambers, 14 Bank Street, Fort, Mumbai 400 001   Tel +91 22 4055 8800",
        "Compliance Officer: Mr. R. K. Deshpande, Tel +91 22 4055 8815, compliance@vindhya.example   "
        "Investor grievances: grievances@vindhya.example",
        "-" * width,
    ]
    right_side: list[tuple[str, str] | None] = [("Trade Date", d_dash(t.trade_date))]
    if t.bond:
        right_side += [("Deal Reference", x["deal"]), ("Settlement Date", d_dash(t.settle_date))]
    else:
        right_side += [
            ("Settlement No.", f"{x['settlement_no']} (NSE, T+{s.settle_days})"),
            ("Settlement Date", d_dash(t.settle_date)),
        ]
    right_side += [
        ("DP ID / Client ID", client.dp),
        ("Place of Supply", client.state),
        ("Client GSTIN", "NA"),
        ("Invoice No.", x["invoice"]),
    ]
    left_side: list[tuple[str, str] | None] = [
        ("Contract Note No.", t.reference or ""),
        ("Name of the Client", client.name),
        ("Client Code (UCC)", t.account),
        ("PAN of Client", client.pan),
        ("Address", client.address[0]),
        *(("", line) for line in client.address[1:]),
    ]
    for index in range(max(len(left_side), len(right_side))):
        left = left_side[index] if index < len(left_side) else None
        right = right_side[index] if index < len(right_side) else None
        if left and not left[0]:
            lines.append(f"{'':<22}{left[1]:<56}{pair(*right) if right else ''}")
        else:
            lines.append(two(left, right))
    lines += [
        "-" * width,
        "Dear Sir / Madam,",
        "I / We have this day done by your order and on your account the following transactions "
        "(B = Bought, S = Sold). We have acted as your broker.",
        "",
    ]
    bs = "B" if t.buy else "S"
    charges = dict(t.fee_items)
    if t.bond:
        assert s.coupon is not None and s.maturity is not None
        lines += [
            f"{'Deal No.':<16}{'Deal Time':<11}{'Security Description':<52}{'ISIN':<14}{'B/S':<5}"
            f"{'Face Value (Rs.)':>17}{'Clean Price':>13}{'Yield':>9}{'Consideration (Rs.)':>21}",
            f"{'':<16}{'':<11}{'':<52}{'':<14}{'':<5}{'':>17}{'per Rs.100':>13}{'(%)':>9}{'':>21}",
            "-" * width,
            f"{x['deal']:<16}{x['deal_time']:<11}{x['name']:<52}{s.isin:<14}{bs:<5}"
            f"{inr(t.quantity, 0):>17}{t.price:>13.4f}{x['yield']:>9}{inr(t.gross):>21}",
            f"{'':<27}Coupon {s.coupon}% p.a. payable "
            f"{'half-yearly' if s.frequency == 2 else 'annually'}; maturity {d_dash(s.maturity)}; "
            f"day count {s.day_count}",
            "-" * width,
            "",
            f"{'OBLIGATION DETAILS':<72}{'Amount (Rs.)':>22}",
            f"{'Consideration (face value x clean price / 100)':<72}{owed(t.gross, t.buy):>22}",
            f"{'Accrued interest (' + plural(t.days, 'day') + ')':<72}{owed(t.accrued or Decimal(0), t.buy):>22}",
            f"{'Taxable value of supply (brokerage)':<72}{owed(t.commission or Decimal(0), True):>22}",
        ]
        for label in ("CGST @ 9%", "SGST @ 9%", "IGST @ 18%", "Stamp duty"):
            value = charges.get(label, Decimal("0.00"))
            lines.append(f"{label:<72}{owed(value, True):>22}")
        lines += [
            f"{'':<72}{'-' * 22}",
            f"{'Net amount receivable / (payable) by client':<72}{owed(t.net, t.buy):>22}",
        ]
    else:
        fills = [row.split("|") for row in x["fills"].split(";")]
        header = (
            f"{'Order No.':<18}{'Order':<10}{'Trade No.':<11}{'Trade':<10}{'Security / Contract Description':<36}"
            f"{'B/S':<4}{'Quantity':>9}{'Gross Rate /':>14}{'Brokerage':>12}{'Net Rate':>13}"
            f"{'Net Total (Before':>20}"
        )
        header2 = (
            f"{'':<18}{'Time':<10}{'':<11}{'Time':<10}{'':<36}{'':<4}{'':>9}{'Trade Price':>14}"
            f"{'per Unit':>12}{'per Unit':>13}{'Levies) (Rs.)':>20}"
        )
        lines += [header, header2, "-" * width]
        for index, (qty_text, order_time, trade_time, trade_no, brokerage_text) in enumerate(fills):
            qty, brokerage = Decimal(qty_text), Decimal(brokerage_text)
            per_unit = brokerage / qty
            net_rate = t.price + per_unit if t.buy else t.price - per_unit
            value = money(qty * t.price, "INR")
            net_total = value + brokerage if t.buy else value - brokerage
            lines.append(
                f"{x['order']:<18}{order_time:<10}{trade_no:<11}{trade_time:<10}"
                f"{(x['name'] if index == 0 else ''):<36}{bs:<4}{qty:>9}{t.price:>14.4f}"
                f"{per_unit:>12.4f}{net_rate:>13.4f}{inr(net_total):>20}"
            )
            if index == 0:
                lines.append(f"{'':<49}{s.ticker}-{s.share_class}  ISIN {s.isin}")
        if len(fills) > 1:
            brokerage = t.commission or Decimal(0)
            net_total = t.gross + brokerage if t.buy else t.gross - brokerage
            lines.append(
                f"{'':<49}{'Sub Total':<36}{'':<4}{t.quantity:>9}{t.price:>14.4f}{'':>12}{'':>13}"
                f"{inr(net_total):>20}"
            )
        lines += [
            "-" * width,
            "",
            f"{'OBLIGATION DETAILS':<64}{'NSE-CM (Rs.)':>20}{'BSE-CM (Rs.)':>16}{'Net Total (Rs.)':>20}",
        ]

        def row(label: str, value: Decimal, payable: bool) -> str:
            return f"{label:<64}{owed(value, payable):>20}{'0.00':>16}{owed(value, payable):>20}"

        lines += [
            row("Pay in / Pay out obligation", t.gross, t.buy),
            row("Taxable value of supply (brokerage)", t.commission or Decimal(0), True),
        ]
        for label in (
            "Exchange transaction charges",
            "SEBI turnover fees",
            "CGST @ 9%",
            "SGST @ 9%",
            "IGST @ 18%",
            "Securities transaction tax",
            "Stamp duty",
        ):
            lines.append(row(label, charges.get(label, Decimal("0.00")), True))
        lines += [
            f"{'':<64}{'-' * 20}{'-' * 16}{'-' * 20}",
            row("Net amount receivable / (payable) by client", t.net, t.buy),
        ]
    levied = "the brokerage" if t.bond else "the brokerage, the exchange transaction charges and SEBI fees"
    lines += [
        "",
        f"Description of service: stock broking (SAC 997152). GST is charged on {levied}.",
        "Amounts payable by you are shown in brackets. Brokerage is within the limits prescribed by SEBI and",
        "the exchange.",
        "This contract note is issued subject to the Rules, Byelaws and Regulations of the Exchange and the",
        "Clearing Corporation. Please report any discrepancy within 24 hours of receipt.",
        "",
        f"{'':<90}For {VINDHYA_HOUSE}",
        f"Date: {d_dash(t.trade_date)}   Place: Mumbai{'':<66}Authorised Signatory (digitally signed)",
    ]
    return Rendered(lines, x["name"], stated_for(t) | {"security_name"}, font="Courier", size=8, bold_lines=1)


# ---------------------------------------------------------------- swartberg (South African stockbroker)


SWARTBERG_HOUSE = "Swartberg Securities (Pty) Ltd"
SWARTBERG_VAT = "447018225" + luhn.calc_check_digit("447018225")


def za_holidays() -> set[dt.date]:
    """South African public holidays of 2019-2023 (a Sunday holiday moves to the Monday), with the
    2019 and 2021 election days and the two holidays declared in 2022 and 2023: the JSE and Strate
    are closed on all of them."""
    days = set(GOOD_FRIDAYS) | {day + dt.timedelta(days=3) for day in GOOD_FRIDAYS}  # Family Day
    for year in YEARS:
        for month, day in (
            (1, 1),
            (3, 21),
            (4, 27),
            (5, 1),
            (6, 16),
            (8, 9),
            (9, 24),
            (12, 16),
            (12, 25),
            (12, 26),
        ):
            date = dt.date(year, month, day)
            days.add(date + dt.timedelta(days=1) if date.weekday() == 6 else date)
    days |= weekday_holidays("2019-05-08 2021-11-01 2022-12-27 2023-12-15")
    return days


ZA_HOLIDAYS = za_holidays()


def rand(value: Decimal) -> str:
    return number(value, 2, " ", ".")


def d_za(day: dt.date) -> str:
    return f"{day.year}/{day.month:02d}/{day.day:02d}"


def za_equity(issuer: str, code: str, isin_digits: str, low: str, high: str) -> Listing:
    sec = Security(
        "equity",
        issuer,
        "ZAR",
        "ZA",
        with_isin_check("ZAE000" + isin_digits),
        ticker=code,
        venue="JSE",
        share_class="ORD",
        settle_days=3,
    )
    return Listing(sec, issuer, low, high, code=code)


def za_bond(issuer: str, code: str, isin_digits: str, coupon: str, maturity: dt.date) -> Listing:
    gov = issuer == "Republic of South Africa"
    sec = isin_bond(
        issuer,
        "ZAG000" + isin_digits,
        "ZAR",
        coupon,
        maturity,
        frequency=2,
        day_count="ACT/365",
        gov=gov,
        word="Government Bond" if gov else "Senior Unsecured Notes",
    )
    sec = dataclasses.replace(sec, settle_days=3, local_id=code)
    described = f"{Decimal(coupon):.3f}% {d_za(maturity)}"
    name = f"REPUBLIC OF SOUTH AFRICA {described}" if gov else f"{issuer.upper()} {described} SNR UNSEC"
    return Listing(sec, name, code=code)


SWARTBERG_EQUITIES = (
    za_equity("Karoo Breweries Limited", "KBR", "18422", "42", "118"),
    za_equity("Highveld Platinum Holdings Limited", "HVP", "20731", "85", "390"),
    za_equity("Umhlanga Retail Group Limited", "URG", "15986", "18", "64"),
    za_equity("Kalahari Cement Limited", "KCM", "24410", "6", "21"),
    za_equity("Outeniqua Timber Holdings Limited", "OTH", "19075", "11", "36"),
    za_equity("Limpopo Telecommunications Limited", "LPT", "22658", "140", "520"),
    za_equity("Cederberg Financial Services Limited", "CFS", "17349", "220", "810"),
)
SWARTBERG_BONDS = (
    za_bond("Republic of South Africa", "R2029", "14871", "8.500", dt.date(2029, 2, 28)),
    za_bond("Republic of South Africa", "R2034", "16270", "8.875", dt.date(2034, 1, 15)),
    za_bond("Karoo Breweries Limited", "KBR07", "19944", "9.150", dt.date(2027, 6, 22)),
    za_bond("Highveld Platinum Holdings Limited", "HVP03", "17716", "10.250", dt.date(2026, 10, 12)),
)


@dataclass(frozen=True)
class SouthAfricanClient:
    account: str
    address: tuple[str, ...]
    tax_no: str
    bank: str  # the client's nominated bank account for proceeds


SWARTBERG_CLIENTS = (
    SouthAfricanClient(
        "44-180627",
        ("Mr S.P. Nkosi", "PO Box 31877", "Braamfontein", "2017"),
        "0127" + "44185" + luhn.calc_check_digit("012744185"),
        "Nedbank, branch 198765, account ending 4471",
    ),
    SouthAfricanClient(
        "44-207315",
        ("Mrs A.M. van der Merwe", "17 Protea Crescent", "Durbanville", "7550"),
        "2318" + "60274" + luhn.calc_check_digit("231860274"),
        "FNB, branch 250655, account ending 0932",
    ),
    SouthAfricanClient(
        "51-004418",
        (
            "Fynbos Family Trust (IT 1184/2011)",
            "c/o Botha & Partners",
            "3 Church Street",
            "Stellenbosch 7600",
        ),
        "9071" + "22851" + luhn.calc_check_digit("907122851"),
        "Standard Bank, branch 051001, account ending 7720",
    ),
)


def swartberg_charges(side: str) -> Charges:
    def charges(sec: Security, _side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, ChargeList]:
        vat = Decimal("0.15")
        if sec.kind == "bond":
            brokerage = max(half_up(gross * Decimal("0.0010"), "ZAR"), Decimal("250.00"))
            return brokerage, [("VAT on brokerage", half_up(brokerage * vat, "ZAR"))]
        brokerage = max(half_up(gross * Decimal("0.0045"), "ZAR"), Decimal("110.00"))
        strate = min(max(half_up(gross * Decimal("0.000055"), "ZAR"), Decimal("11.95")), Decimal("128.40"))
        ipl = half_up(gross * Decimal("0.000002"), "ZAR")
        items = [
            ("Strate settlement fee", strate),
            ("Investor protection levy", ipl),
            ("VAT on brokerage", half_up(brokerage * vat, "ZAR")),
            ("VAT on Strate settlement fee", half_up(strate * vat, "ZAR")),
            ("VAT on investor protection levy", half_up(ipl * vat, "ZAR")),
        ]
        if side == "BUY":
            items.append(("Securities transfer tax", half_up(gross * Decimal("0.0025"), "ZAR")))
        return brokerage, items

    return charges


def za_accrued(sec: Security, face: Decimal, settle: dt.date) -> tuple[Decimal, int]:
    """South African bonds: actual days since the last coupon over 365."""
    assert sec.coupon is not None
    last, _ = coupon_period(sec, settle)
    days = (settle - last).days
    return money(face * sec.coupon / 100 * Decimal(days) / 365, sec.currency), days


def swartberg_trade(rng: random.Random, doc_id: str, kind: str, side: str, listing: Listing) -> Trade:
    sec = listing.sec
    client = rng.choice(SWARTBERG_CLIENTS)
    if kind == "bond":
        quantity = Decimal(rng.choice((100_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000)))
        price = pick_bond_price(rng, sec)
        trade_date = pick_bond_date(rng, sec, ZA_HOLIDAYS, 3, 15)
    else:
        quantity = pick_equity_quantity(rng, "ZAR")
        price = tick_price(rng, listing.low, listing.high, lambda _: Decimal("0.01"))
        trade_date = pick_open_date(rng, ZA_HOLIDAYS, 3)
    trade = make_trade(
        layout="swartberg",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=swartberg_charges(side),
        account=client.account,
        counterparty=SWARTBERG_HOUSE,
        reference=f"SW{rng.randint(1_000_000, 9_999_999)}",
    )
    if kind == "bond":
        restate_accrued(trade, *za_accrued(sec, quantity, trade.settle_date))
    trade.extra = {
        "client": client.account,
        "dealer": rng.choice(("TM", "JvR", "PN", "KD")),
        "your_ref": f"{rng.choice(('ORD', 'WEB', 'TEL'))}-{rng.randint(100_000, 999_999)}",
        "time": f"{rng.randint(9, 16):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        "jse_id": str(rng.randint(1_000_000, 9_999_999)),
        "printed": d_za(add_business_days(trade_date, 1)),
        "name": listing.name,
    }
    if kind == "bond":
        trade.extra["yield"] = approximate_yield(sec, price, trade.settle_date)
    return trade


def render_swartberg(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    client = next(c for c in SWARTBERG_CLIENTS if c.account == x["client"])
    width = 100
    verb = "BOUGHT" if t.buy else "SOLD"
    right = [
        ("Contract note no.", t.reference or ""),
        ("Account no.", t.account),
        ("Trade date", d_za(t.trade_date)),
        ("Settlement date", f"{d_za(t.settle_date)} (T+3)"),
        ("Dealer", x["dealer"]),
        ("Your reference", x["your_ref"]),
        ("Printed", x["printed"]),
    ]
    left = [*client.address, "", f"Income tax no. {client.tax_no}", "Client VAT no. not registered"]
    lines = [
        f"{'SWARTBERG SECURITIES':<{width - 28}}{'CONTRACT NOTE / TAX INVOICE':>28}",
        f"{SWARTBERG_HOUSE}   Reg. No. 2004/018225/07   VAT No. {SWARTBERG_VAT}",
        "An authorised financial services provider (FSP 44718) and a member of the JSE Limited",
        "12th Floor, Sandton Gate, 25 Fifth Street, Sandton 2196   PO Box 78114, Sandton 2146",
        "Tel +27 11 555 0140   Fax +27 11 555 0141   dealing@swartberg.example",
        "=" * width,
        f"{'CLIENT':<46}| CONTRACT",
    ]
    for index in range(max(len(left), len(right))):
        l_text = left[index] if index < len(left) else ""
        r_text = f"{right[index][0]:<20}{right[index][1]}" if index < len(right) else ""
        lines.append(f"{l_text:<46}| {r_text}")
    lines += ["=" * width, ""]
    if t.bond:
        assert s.coupon is not None and s.maturity is not None
        all_in = t.price + (t.accrued or Decimal(0)) * 100 / t.quantity
        lines += [
            *wrap(
                f"We confirm that we have today {verb} for your account, as agent, on the JSE interest rate "
                f"market, nominal {keep('R ' + rand(t.quantity))} of the bond below.",
                width,
            ),
            "",
            f"{'Bond code':<11}{'Description':<52}{'ISIN':<14}{'Nominal (R)':>23}",
            "-" * width,
            f"{s.local_id or '':<11}{x['name']:<52}{s.isin:<14}{rand(t.quantity):>23}",
            "-" * width,
            f"{'Traded yield (%)':<40}{x['yield']:>18}",
            f"{'Clean price (per R100 nominal)':<40}{t.price:>18.5f}",
            f"{'All-in price (per R100 nominal)':<40}{all_in:>18.5f}",
            f"{'Coupon':<40}{f'{s.coupon:.3f}% semi-annual':>18}",
            f"{'Next coupon date':<40}{d_za(coupon_period(s, t.settle_date)[1]):>18}",
            "",
            f"{'Clean consideration':<60}{'R':>4}{rand(t.gross):>18}",
            f"{'Accrued interest (' + plural(t.days, 'day') + ', actual/365)':<60}{'R':>4}{rand(t.accrued or Decimal(0)):>18}",
            "",
        ]
    else:
        cents = number(t.price * 100, 0, " ", ".")
        lines += [
            *wrap(
                f"We confirm that we have today {verb} for your account, as agent, on the JSE Limited (main board) "
                f"at {x['time']}, JSE trade ID {x['jse_id']}. Price {keep('R ' + rand(t.price))} "
                f"({keep(cents + ' cents')}) per share.",
                width,
            ),
            "",
            f"{'Share code':<12}{'Instrument':<37}{'ISIN':<14}{'Quantity':>9}{'Price (R)':>10}{'Consideration (R)':>18}",
            "-" * width,
            f"{s.ticker or '':<12}{x['name']:<37}{s.isin:<14}{number(t.quantity, 0, ' ', '.'):>9}"
            f"{rand(t.price):>10}{rand(t.gross):>18}",
            "-" * width,
            "",
        ]
    charges = dict(t.fee_items)
    vat_of = {
        "Brokerage": charges.get("VAT on brokerage", Decimal(0)),
        "Strate settlement fee": charges.get("VAT on Strate settlement fee", Decimal(0)),
        "Investor protection levy": charges.get("VAT on investor protection levy", Decimal(0)),
    }
    costs: list[tuple[str, Decimal, Decimal | None]] = [
        ("Brokerage", t.commission or Decimal(0), vat_of["Brokerage"])
    ]
    if not t.bond:
        costs += [
            ("Strate settlement fee", charges["Strate settlement fee"], vat_of["Strate settlement fee"]),
            (
                "Investor protection levy",
                charges["Investor protection levy"],
                vat_of["Investor protection levy"],
            ),
        ]
        if "Securities transfer tax" in charges:
            costs.append(("Securities transfer tax (STT)", charges["Securities transfer tax"], None))
    lines.append(f"{'Costs':<44}{'Excl. VAT (R)':>18}{'VAT 15% (R)':>16}{'Incl. VAT (R)':>18}")
    total = Decimal(0)
    for label, amount, vat in costs:
        incl = amount + (vat or Decimal(0))
        total += incl
        lines.append(
            f"{label:<44}{rand(amount):>18}{(rand(vat) if vat is not None else '-'):>16}{rand(incl):>18}"
        )
    lines += [f"{'':<78}{'-' * 18}", f"{'Total costs':<78}{rand(total):>18}", ""]
    due = "AMOUNT DUE BY YOU" if t.buy else "AMOUNT DUE TO YOU"
    lines += [f"{due:<60}{'R':>4}{rand(t.net):>18}", "=" * width, ""]
    if t.buy:
        lines += wrap(
            f"Please pay by EFT to reach us by 10:00 on {d_za(t.settle_date)}: Swartberg Securities Trust Account, "
            f"Standard Bank, branch code 051001, account no. 0720 441 829, reference {t.account}.",
            width,
        )
    else:
        lines += wrap(
            f"The proceeds will be paid on {d_za(t.settle_date)} into your nominated account ({client.bank}).",
            width,
        )
    lines += [
        "",
        "This transaction is subject to the JSE "
        + ("Interest Rate and Currency Rules." if t.bond else "Equities Rules and Directives."),
        "Settlement takes place through Strate on the settlement date. Errors and omissions excepted.",
        f"{SWARTBERG_HOUSE} - client services 0860 555 014",
    ]
    return Rendered(
        lines, x["name"], stated_for(t) | {"security_name"}, font="Helvetica", size=8.5, bold_lines=1
    )


# ---------------------------------------------------------------- albarracin (Spanish bank)


ALBARRACIN_HOUSE = "Banco de Albarracín, S.A."
ALBARRACIN_CIF = "A4411826" + stdnum_cif.calc_check_digits("A4411826")[0]
assert stdnum_cif.is_valid(ALBARRACIN_CIF)


def ccc(entity: str, office: str, account: str) -> str:
    """A Spanish CCC (entidad, oficina, dígitos de control, cuenta) with its check digits."""
    draft = f"{entity}{office}00{account}"
    return f"{entity} {office} {stdnum_ccc.calc_check_digits(draft)} {account}"


def spaced_iban(ccc_text: str) -> str:
    compact = "".join(stdnum_ccc.to_iban(ccc_text.replace(" ", "")).split())
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def dni(digits: str) -> str:
    return digits + stdnum_dni.calc_check_digit(digits)


def d_es_long(day: dt.date) -> str:
    return f"{day.day} de {SPANISH_MONTHS[day.month - 1]} de {day.year}"


def es_equity(issuer: str, isin_digits: str, low: str, high: str, large_cap: bool) -> Listing:
    sec = Security(
        "equity",
        issuer,
        "EUR",
        "ES",
        with_isin_check("ES0" + isin_digits),
        venue="BME",
        share_class="ACC.",
    )
    return Listing(sec, issuer.upper(), low, high, large_cap=large_cap)


def es_bond(issuer: str, isin_body: str, coupon: str, maturity: dt.date, name: str) -> Listing:
    gov = issuer == "Reino de España"
    sec = isin_bond(issuer, isin_body, "EUR", coupon, maturity, frequency=1, day_count="ACT/ACT", gov=gov)
    return Listing(sec, name)


ALBARRACIN_EQUITIES = (
    es_equity("Aragonesa de Energías, S.A.", "10521783", "9", "24", True),
    es_equity("Aceites del Moncayo, S.A.", "13488205", "3", "11", False),
    es_equity("Constructora Ebro Norte, S.A.", "12107346", "14", "46", True),
    es_equity("Telecomunicaciones del Cantábrico, S.A.", "17860912", "2", "7", True),
    es_equity("Farmacéutica Turia, S.A.", "13955017", "18", "62", False),
    es_equity("Inmobiliaria Guadarrama SOCIMI, S.A.", "10594411", "6", "15", False),
    es_equity("Hoteles Tramontana, S.A.", "14420368", "21", "58", True),
)
ALBARRACIN_BONDS = (
    es_bond(
        "Reino de España",
        "ES00000129T",
        "1.45",
        dt.date(2029, 4, 30),
        "OBLIGACIONES DEL ESTADO 1,450% 30/04/2029",
    ),
    es_bond(
        "Reino de España", "ES00000127K", "0.75", dt.date(2027, 7, 30), "BONOS DEL ESTADO 0,750% 30/07/2027"
    ),
    es_bond(
        "Reino de España",
        "ES0000012L7",
        "2.15",
        dt.date(2034, 10, 31),
        "OBLIGACIONES DEL ESTADO 2,150% 31/10/2034",
    ),
    es_bond(
        "Aragonesa de Energías, S.A.",
        "ES0205217AB",
        "1.875",
        dt.date(2028, 6, 15),
        "ARAGONESA DE ENERGÍAS 1,875% VTO. 15/06/2028",
    ),
    es_bond(
        "Hoteles Tramontana, S.A.",
        "ES0244203CD",
        "3.25",
        dt.date(2027, 3, 22),
        "HOTELES TRAMONTANA 3,250% VTO. 22/03/2027",
    ),
)


@dataclass(frozen=True)
class SpanishClient:
    titular: str
    nif: str
    address: tuple[str, ...]
    securities: str  # cuenta de valores (the account)
    cash: str  # cuenta de efectivo, printed as an IBAN
    office: str
    code: str  # código de cliente


ALBARRACIN_CLIENTS = (
    SpanishClient(
        "D. JAVIER ORTIZ MONZÓN",
        dni("25471893"),
        ("C/ Sagasta, 27, 3º B", "50006 ZARAGOZA"),
        ccc("0412", "0033", "3000185462"),
        spaced_iban(ccc("0412", "0033", "0200781135")),
        "0033 ZARAGOZA - PASEO INDEPENDENCIA",
        "10448207",
    ),
    SpanishClient(
        "Dña. PILAR ESCRICHE LAHOZ",
        dni("18442071"),
        ("Avda. de Sagunto, 44, 2º", "44002 TERUEL"),
        ccc("0412", "0001", "3000227189"),
        spaced_iban(ccc("0412", "0001", "0200415520")),
        "0001 TERUEL - OFICINA PRINCIPAL",
        "10227561",
    ),
    SpanishClient(
        "HORNOS DEL JILOCA, S.L.",
        "B4470312" + stdnum_cif.calc_check_digits("B4470312")[0],
        ("Polígono La Paz, calle D, nave 12", "44195 TERUEL"),
        ccc("0412", "0001", "3000301644"),
        spaced_iban(ccc("0412", "0001", "0200902237")),
        "0001 TERUEL - OFICINA PRINCIPAL",
        "20318864",
    ),
)
ES_FTT_FROM = dt.date(2021, 1, 16)


def spanish_tick(price: Decimal) -> Decimal:
    return Decimal("0.002") if price < 10 else Decimal("0.005") if price < 50 else Decimal("0.01")


def bme_fee(value: Decimal) -> Decimal:
    """The exchange fee (canon de contratación), by the order's value (simplified tiers)."""
    for limit, fixed, rate in (
        ("300", "1.10", "0"),
        ("3000", "2.45", "0.000024"),
        ("35000", "4.65", "0.000012"),
        ("70000", "6.40", "0.000008"),
        ("140000", "9.20", "0.000004"),
    ):
        if value <= Decimal(limit):
            return half_up(Decimal(fixed) + value * Decimal(rate))
    return half_up(Decimal("13.40") + value * Decimal("0.000002"))


def iberclear_fee(value: Decimal) -> Decimal:
    return half_up(Decimal("0.25") + value * Decimal("0.000005"))


def albarracin_charges(trade_date: dt.date, large_cap: bool) -> Charges:
    def charges(sec: Security, side: str, qty: Decimal, gross: Decimal) -> tuple[Decimal | None, ChargeList]:
        if sec.kind == "bond":
            if sec.government:
                return None, []  # the bank deals on its own account: a net price, no charges
            commission = max(half_up(gross * Decimal("0.0015")), Decimal("30.00"))
            return commission, [("Canon de liquidación (Iberclear)", iberclear_fee(gross))]
        commission = max(half_up(gross * Decimal("0.0025")), Decimal("9.95"))
        items = [
            ("Canon de contratación (BME)", bme_fee(gross)),
            ("Canon de liquidación (Iberclear)", iberclear_fee(gross)),
        ]
        if side == "BUY" and large_cap and trade_date >= ES_FTT_FROM:
            items.append(("Impuesto s/ Transacciones Financieras 0,2%", half_up(gross * Decimal("0.002"))))
        return commission, items

    return charges


def albarracin_trade(rng: random.Random, doc_id: str, kind: str, side: str, listing: Listing) -> Trade:
    sec = listing.sec
    client = rng.choice(ALBARRACIN_CLIENTS)
    if kind == "bond":
        quantity, price = pick_face(rng, "EUR"), pick_bond_price(rng, sec)
        trade_date = pick_bond_date(rng, sec, TARGET_HOLIDAYS, 2, 3)
    else:
        quantity = pick_equity_quantity(rng, "EUR")
        price = tick_price(rng, listing.low, listing.high, spanish_tick)
        trade_date = pick_open_date(rng, TARGET_HOLIDAYS, 2)
        while side == "BUY" and listing.large_cap and trade_date < ES_FTT_FROM:
            trade_date = pick_open_date(rng, TARGET_HOLIDAYS, 2)  # a purchase that carries the tax
    prefix = "RF" if kind == "bond" else "RV"
    trade = make_trade(
        layout="albarracin",
        group=GROUP,
        doc_id=doc_id,
        sec=sec,
        side=side,
        trade_date=trade_date,
        quantity=quantity,
        price=price,
        charges=albarracin_charges(trade_date, listing.large_cap),
        account=client.securities,
        counterparty=ALBARRACIN_HOUSE,
        reference=f"{prefix}-{trade_date:%Y}-{rng.randint(1, 999_999):07d}",
    )
    trade.extra = {
        "client": client.securities,
        "order": str(rng.randint(7_000_000_000, 7_999_999_999)),
        "time": f"{rng.randint(9, 16):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        "issued": d_es_long(add_business_days(trade_date, 1)),
        "name": listing.name,
    }
    if kind == "bond":
        trade.extra["yield"] = de(Decimal(approximate_yield(sec, price, trade.settle_date)), 3)
    return trade


def render_albarracin(t: Trade, printed: bool) -> Rendered:
    s = t.sec
    x = t.extra
    client = next(c for c in ALBARRACIN_CLIENTS if c.securities == x["client"])
    width = 96
    principal = t.bond and s.government

    def headed(cells: list[tuple[str, str, int]]) -> list[str]:
        """A row of column headings with the values underneath."""
        return [
            "".join(f"{label:<{w}}" for label, _, w in cells),
            "".join(f"{value:<{w}}" for _, value, w in cells),
            "",
        ]

    if t.bond:
        title = ("COMPRA" if t.buy else "VENTA") + " DE RENTA FIJA"
    else:
        title = ("COMPRA" if t.buy else "VENTA") + " DE VALORES - RENTA VARIABLE"
    lines = [
        f"{'BANCO DE ALBARRACÍN':<{width - 32}}{'NOTA DE LIQUIDACIÓN DE VALORES':>32}",
        f"{ALBARRACIN_HOUSE} - CIF {ALBARRACIN_CIF} - Plaza del Torico, 3 - 44001 Teruel",
        "Inscrito en el Registro Mercantil de Teruel, tomo 412, folio 87, hoja TE-5521. Registro del Banco",
        "de España nº 0412. Servicio de atención al cliente: 978 55 04 12.",
        "",
        f"Oficina {client.office}",
        "",
        f"{client.titular:<60}Código de cliente: {client.code}",
        f"{client.address[0]:<60}Teruel, {x['issued']}",
        f"{client.address[1]:<60}Página 1 de 1",
        "",
        "=" * width,
        title,
        "=" * width,
        "",
    ]
    if t.bond:
        assert s.coupon is not None
        nominal = de(t.quantity) + " EUR"
        price_text = de(t.price, price_decimals(t.price, 3))
        if principal:
            verb = "le ha vendido" if t.buy else "le ha comprado"
            sentence = (
                f"Le comunicamos que el Banco, actuando por cuenta propia, {verb} nominal {keep(nominal)} de "
                f"{keep(x['name'])} al precio ex-cupón del {keep(price_text + ' %')}."
            )
            capacity = "CUENTA PROPIA (CONTRAPARTIDA)"
            market = "FUERA DE MERCADO (OTC)"
        else:
            verb = "comprado" if t.buy else "vendido"
            sentence = (
                f"Le comunicamos que, siguiendo sus instrucciones, hemos {verb} por su cuenta nominal "
                f"{keep(nominal)} de {keep(x['name'])} al precio ex-cupón del {keep(price_text + ' %')}."
            )
            capacity = "CUENTA AJENA (AGENTE)"
            market = "AIAF - SEND"
        lines += [*wrap(sentence, width), ""]
        lines += headed(
            [
                ("TITULAR", client.titular, 42),
                ("NIF", client.nif, 14),
                ("CUENTA DE VALORES", t.account, 40),
            ]
        )
        lines += headed(
            [
                ("TIPO DE OPERACIÓN", "COMPRA" if t.buy else "VENTA", 20),
                ("FECHA CONTRATACIÓN", d_dmy(t.trade_date), 22),
                ("FECHA LIQUIDACIÓN", d_dmy(t.settle_date), 22),
                ("Nº DE OPERACIÓN", t.reference or "", 32),
            ]
        )
        lines += headed([("VALOR", x["name"], 50), ("ISIN", s.isin, 16), ("MERCADO", market, 30)])
        lines += headed(
            [
                ("NOMINAL (EUR)", de(t.quantity), 20),
                ("PRECIO EX-CUPÓN (%)", price_text, 22),
                ("TIR (%)", x["yield"], 12),
                ("CUPÓN", f"{de(s.coupon, 3)}% ANUAL", 18),
                ("CAPACIDAD", capacity, 24),
            ]
        )
    else:
        verb = "COMPRADO" if t.buy else "VENDIDO"
        price_text = de(t.price, price_decimals(t.price, 3))
        lines += [
            *wrap(
                f"Le comunicamos que, siguiendo sus instrucciones, hemos {verb} por su cuenta, actuando como "
                f"intermediario, {keep(de(t.quantity, 0))} acciones de {keep(x['name'])} en el Mercado Continuo "
                f"al cambio de {keep(price_text)} euros.",
                width,
            ),
            "",
        ]
        lines += headed(
            [
                ("TITULAR", client.titular, 42),
                ("NIF", client.nif, 14),
                ("CUENTA DE VALORES", t.account, 40),
            ]
        )
        lines += headed(
            [
                ("TIPO DE OPERACIÓN", "COMPRA" if t.buy else "VENTA", 20),
                ("FECHA CONTRATACIÓN", d_dmy(t.trade_date), 22),
                ("FECHA LIQUIDACIÓN", d_dmy(t.settle_date), 22),
                ("Nº DE OPERACIÓN", t.reference or "", 32),
            ]
        )
        lines += headed(
            [("VALOR", x["name"], 50), ("ISIN", s.isin, 16), ("MERCADO", "BME MERCADO CONTINUO (XMAD)", 30)]
        )
        lines += headed(
            [
                ("Nº TÍTULOS", de(t.quantity, 0), 20),
                ("CAMBIO (EUR)", price_text, 22),
                ("HORA", x["time"], 12),
                ("Nº ORDEN", x["order"], 18),
                ("CAPACIDAD", "CUENTA AJENA", 24),
            ]
        )

    def entry(label: str, value: Decimal, credit: bool) -> str:
        cargo, abono = ("", de(value)) if credit else (de(value), "")
        return f"{label:<60}{cargo:>18}{abono:>18}"

    lines += [
        "-" * width,
        f"{'DETALLE DE LA LIQUIDACIÓN':<60}{'CARGO (EUR)':>18}{'ABONO (EUR)':>18}",
        "-" * width,
    ]
    lines.append(entry("Efectivo" if not t.bond else "Efectivo (nominal x precio / 100)", t.gross, not t.buy))
    if t.bond:
        lines.append(
            entry(
                f"Cupón corrido ({t.days} {'día' if t.days == 1 else 'días'})",
                t.accrued or Decimal(0),
                not t.buy,
            )
        )
    if t.commission is not None:
        rate = "0,15%, mín. 30,00" if t.bond else "0,25%, mín. 9,95"
        lines.append(entry(f"Comisión de intermediación ({rate})", t.commission, False))
    for label, value in t.fee_items:
        lines.append(entry(label, value, False))
    lines += [f"{'':<60}{'-' * 36}"]
    if t.buy:
        lines.append(entry("TOTAL A SU CARGO", t.net, False))
        movement = f"Adeudamos en su cuenta {client.cash} con fecha valor {d_dmy(t.settle_date)}."
    else:
        lines.append(entry("LÍQUIDO A SU FAVOR", t.net, True))
        movement = f"Abonamos en su cuenta {client.cash} con fecha valor {d_dmy(t.settle_date)}."
    lines += ["-" * width, "", *wrap(movement, width), ""]
    if principal:
        lines += wrap(
            "El Banco ha actuado como contrapartida por cuenta propia: el precio es neto y no se aplica "
            "comisión de intermediación ni gastos.",
            width,
        )
    elif t.bond:
        lines += wrap("Operación liquidada a través de Iberclear. Tipo de retención aplicado: 0,00 %.", width)
    else:
        lines += wrap(
            "Operación ejecutada en el centro de ejecución indicado conforme a la política de mejor ejecución "
            "del Banco. Liquidación a través de Iberclear (D+2).",
            width,
        )
    lines += [
        "",
        "Conserve este documento a efectos fiscales. Banco de Albarracín, S.A. está adherido al Fondo de",
        "Garantía de Depósitos de Entidades de Crédito.",
    ]
    return Rendered(
        lines, x["name"], stated_for(t) | {"security_name"}, font="Courier", size=8.5, bold_lines=1
    )


# ---------------------------------------------------------------- the three layouts and output


Layout = PlannedLayout[Listing]

LAYOUTS = (
    Layout(
        "vindhya",
        VINDHYA_HOUSE,
        vindhya_trade,
        render_vindhya,
        VINDHYA_EQUITIES,
        VINDHYA_BONDS,
        4,
        6,
        2,
        landscape=True,
    ),
    Layout(
        "swartberg",
        SWARTBERG_HOUSE,
        swartberg_trade,
        render_swartberg,
        SWARTBERG_EQUITIES,
        SWARTBERG_BONDS,
        4,
        5,
        2,
    ),
    Layout(
        "albarracin",
        ALBARRACIN_HOUSE,
        albarracin_trade,
        render_albarracin,
        ALBARRACIN_EQUITIES,
        ALBARRACIN_BONDS,
        5,
        6,
        2,
    ),
)


def check_figures(t: Trade) -> None:
    """The money rules of ../README.md, checked on every trade before it is written."""
    ccy = t.currency
    expected_gross = money(t.quantity * t.price / 100 if t.bond else t.quantity * t.price, ccy)
    assert t.gross == expected_gross, t.doc_id
    costs = (t.commission or Decimal(0)) + t.fees
    expected_net = t.gross + (costs if t.buy else -costs) + (t.accrued or Decimal(0))
    assert t.net == expected_net and t.net > 0, t.doc_id
    assert add_business_days(t.trade_date, t.sec.settle_days) == t.settle_date, t.doc_id


def main() -> None:
    write_planned_group(GROUP, LAYOUTS, seed=f"{SEED}/", creator=CREATOR, margin=12, check=check_figures)


if __name__ == "__main__":
    main()
