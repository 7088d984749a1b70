"""A FIX 4.4 Confirmation (MsgType 35=AK) read into canonical fields.

A FIX message is tag=value fields, each ended by SOH (0x01). Logs and e-mails usually print SOH
as '|', and both are accepted: the separator is SOH when the text holds one, else '|'. Text before
"8=FIX" (a log line's timestamp) is dropped with a warning; a text holding two messages raises.
Tags are split here rather than with a FIX library: the grammar is tag=value, and the one subtle
case, a length-prefixed data field that may hold the separator (RawData 96, EncodedText 355, ...),
is read by its length. BodyLength(9) and CheckSum(10), when present, are verified and a wrong one
is a warning, not a failure (a log line that was edited or re-encoded still says what it says).

What is read (confidence 0.99 unless said, page 0, "tag=value" as printed for a snippet):
- 664 ConfirmID trade_reference; 75 TradeDate trade_date; 64 SettlDate settlement_date
- 54 Side side (1 buy, 3 buy minus: BUY; 2 sell, 4 sell plus, 5 and 6 sell short: SELL)
- 80 AllocQty quantity, else 53 Quantity; 6 AvgPx price; 15 Currency currency; PriceType(423)=1
  (a percentage, of par for bonds; FIX 4.4 codes 2 as per unit) marks the trade a bond
- 107 SecurityDesc security_name (a 55 Symbol alone is a code, not a name); 48 SecurityID with 22 IDSource (4 or ISIN:
  isin, 1: cusip), and the same from the SecurityAltID group (455 with 456); an identifier whose
  check digit is wrong is kept, with a warning
- 381 GrossTradeAmt gross_amount; 159 AccruedInterestAmt accrued_interest; 118 NetMoney net_amount
- 12 Commission with 13 CommType: 3 (absolute) is the amount; 1 (per unit) is multiplied by the
  quantity and 2 (percent, written as a fraction: 5% is 0.05) by the gross amount, each with a
  warning and confidence 0.9, rounded half up to the gross amount's decimals (2 without one)
- the MiscFees group (136; 137 amount, 138 currency, 139 type) summed into fees, except type 3
  (local commission), which is added to commission as MT515's LOCO is; a fee in another currency
  than the trade's is left out with a warning
- 79 AllocAccount account, else 1 Account
- the Parties group (453; 448 PartyID, 447 source, 452 role): the executing firm (452=1), else the
  contra firm (452=17), is the counterparty
A field whose value cannot be read (AvgPx abc, TradeDate 20201312) is left out with a warning; a
message whose MsgType is not AK, or that has none, raises ValueError naming what it is.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from stdnum import bic
from stdnum import cusip as cusip_number
from stdnum import isin as isin_number

from services.documents.domain.fields import Extraction, Field
from services.documents.domain.normalise import canonical_decimal, date_text, decimal_text

SOH = "\x01"
CONFIDENCE = 0.99
COMPUTED = 0.9
# Length tag -> the data tag whose value it measures (such a value may hold the separator).
RAW_DATA = {
    90: 91, 93: 89, 95: 96, 212: 213, 348: 349, 350: 351, 352: 353, 354: 355,
    356: 357, 358: 359, 360: 361, 362: 363, 364: 365, 445: 446, 618: 619, 621: 622,
}  # fmt: skip
# Repeating groups read here: count tag -> (the tag that opens an entry, the other tags of one).
GROUPS = {136: (137, frozenset({138, 139})), 453: (448, frozenset({447, 452})), 454: (455, frozenset({456}))}
_MESSAGE_TYPES = {
    "0": "Heartbeat", "8": "ExecutionReport", "A": "Logon", "D": "NewOrderSingle", "J": "AllocationInstruction",
    "P": "AllocationInstructionAck", "AE": "TradeCaptureReport", "AS": "AllocationReport",
    "AU": "ConfirmationAck", "BH": "ConfirmationRequest",
}  # fmt: skip
_SIDES = {"1": "BUY", "2": "SELL", "3": "BUY", "4": "SELL", "5": "SELL", "6": "SELL"}
_CONFIRM_STATUS = {"2": "mismatched account", "3": "missing settlement instructions", "5": "request rejected"}
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")

Token = tuple[int, str, int]  # tag, value, offset of the tag in the message


def parse_fix44(text: str) -> Extraction:
    """The canonical fields of a FIX 4.4 Confirmation (see the module)."""
    warnings: list[str] = []
    message, separator = _frame(text, warnings)
    tokens = _tokenise(message, separator)
    _check_envelope(message, separator, tokens, warnings)
    kinds = [value for tag, value, _ in tokens if tag == 35]
    if not kinds:
        raise ValueError("not a FIX Confirmation: the message has no MsgType (35)")
    if kinds[0] != "AK":
        name = _MESSAGE_TYPES.get(kinds[0], "another message type")
        raise ValueError(f"not a FIX Confirmation (35=AK): its MsgType is 35={kinds[0]} ({name})")
    return _Reading(tokens, warnings).extraction()


def _frame(text: str, warnings: list[str]) -> tuple[str, str]:
    """The message from its 8=FIX on, and its separator."""
    stripped = text.lstrip("\ufeff").strip()
    start = stripped.find("8=FIX")
    if start < 0:
        raise ValueError("not a FIX message: there is no BeginString (8=FIX...)")
    separator = SOH if SOH in stripped else "|"
    if separator not in stripped:
        raise ValueError("not a FIX message: its fields are not separated by SOH (0x01) or '|'")
    if start > 0:
        warnings.append(f"the {start} characters before 8=FIX were left out: {stripped[:start].strip()!r}")
    message = stripped[start:]
    others = message.count(f"{separator}8=FIX")
    if others:
        raise ValueError(f"the text holds {others + 1} FIX messages; give one confirmation at a time")
    return message, separator


def _tokenise(message: str, separator: str) -> list[Token]:
    tokens: list[Token] = []
    lengths: dict[int, int] = {}
    position = 0
    while position < len(message):
        equals = message.find("=", position)
        if equals < 0:
            if message[position:].strip():
                raise ValueError(f"not a FIX message: {message[position:]!r} is not tag=value")
            break
        tag_text = message[position:equals]
        if not tag_text.isdigit():
            raise ValueError(f"not a FIX message: {tag_text!r} (at character {position}) is not a tag number")
        tag = int(tag_text)
        if tag in lengths:
            end = equals + 1 + lengths.pop(tag)
        else:
            end = message.find(separator, equals + 1)
            end = len(message) if end < 0 else end
        value = message[equals + 1 : end]
        tokens.append((tag, value, position))
        if tag in RAW_DATA and value.isdigit():
            lengths[RAW_DATA[tag]] = int(value)
        position = end + 1
    return tokens


def _check_envelope(message: str, separator: str, tokens: list[Token], warnings: list[str]) -> None:
    """BeginString first and FIX.4.4; BodyLength(9) and CheckSum(10) right when present."""
    if tokens[0][0] != 8:
        warnings.append("BeginString(8) is not the first field")
    elif tokens[0][1] != "FIX.4.4":
        warnings.append(f"BeginString(8) is {tokens[0][1]}; read as FIX 4.4")
    trailer = next((token for token in tokens if token[0] == 10), None)
    end = trailer[2] if trailer else len(message)
    if trailer is not None and trailer is not tokens[-1]:
        warnings.append("the fields after CheckSum(10) were left out")
        del tokens[tokens.index(trailer) + 1 :]
    if len(tokens) > 1 and tokens[1][0] == 9 and trailer is not None:
        body_start = tokens[2][2] if len(tokens) > 2 else end
        length = len(message[body_start:end].encode("utf-8"))
        if tokens[1][1] != str(length):
            warnings.append(f"BodyLength(9) says {tokens[1][1]} but the body is {length} characters long")
    if trailer is not None:
        wire = message[:end].replace(separator, SOH).encode("utf-8")
        total = sum(wire) % 256
        if trailer[1] != f"{total:03d}":
            warnings.append(f"CheckSum(10) says {trailer[1]} but the message sums to {total:03d}")


class _Reading:
    """The fields of one Confirmation's tokens, with its warnings."""

    def __init__(self, tokens: list[Token], warnings: list[str]) -> None:
        self.warnings = warnings
        self.fields: dict[str, Field] = {}
        self.bond = False
        self.top: dict[int, str] = {}
        self.groups: dict[int, list[dict[int, str]]] = {count: [] for count in GROUPS}
        for tag, value, _ in tokens:
            if self._in_group(tag, value):
                continue
            self.top.setdefault(tag, value)
        for count, entries in self.groups.items():
            declared = self.top.get(count)
            if declared is not None and declared != str(len(entries)):
                self.warnings.append(f"{count}={declared} but the group has {len(entries)} entries")

    def _in_group(self, tag: int, value: str) -> bool:
        for count, (opener, members) in GROUPS.items():
            entries = self.groups[count]
            if tag == opener:
                entries.append({tag: value})
                return True
            if tag in members and entries and tag not in entries[-1]:
                entries[-1][tag] = value
                return True
        return False

    def add(self, name: str, value: str, snippet: str, confidence: float = CONFIDENCE) -> None:
        self.fields[name] = Field(name, value, confidence, 0, snippet)

    def text(self, name: str, tag: int) -> None:
        value = self.top.get(tag, "").strip()
        if value:
            self.add(name, value, f"{tag}={value}")

    def number(self, tag: int) -> str | None:
        value = self.top.get(tag)
        if value is None:
            return None
        if not _NUMBER.match(value):
            self.warnings.append(f"{tag}={value}: not a number; left out")
            return None
        return decimal_text(value, style="us")

    def extraction(self) -> Extraction:
        self.status()
        self.text("trade_reference", 664)
        for name, tag in (("trade_date", 75), ("settlement_date", 64)):
            if self.top.get(tag):
                try:
                    self.add(name, date_text(self.top[tag]), f"{tag}={self.top[tag]}")
                except ValueError as error:
                    self.warnings.append(f"{tag}={self.top[tag]}: {error}; no {name}")
        side = self.top.get(54)
        if side is not None:
            if side in _SIDES:
                self.add("side", _SIDES[side], f"54={side}")
            else:
                self.warnings.append(f"54={side}: neither a buy nor a sell, so no side")
        quantity_tag = 80 if 80 in self.top else 53
        quantity = self.number(quantity_tag)
        if quantity is not None:
            self.add("quantity", canonical_decimal(quantity), f"{quantity_tag}={self.top[quantity_tag]}")
        price = self.number(6)
        if price is not None:
            self.add("price", price, f"6={self.top[6]}")
        self.bond = self.top.get(423) == "1"
        self.text("currency", 15)
        self.instrument()
        for name, tag in (("gross_amount", 381), ("accrued_interest", 159), ("net_amount", 118)):
            amount = self.number(tag)
            if amount is not None:
                self.add(name, amount, f"{tag}={self.top[tag]}")
        self.charges()
        self.text("account", 79 if 79 in self.top else 1)
        self.counterparty()
        return Extraction(
            "fix44", "fix44-confirmation", tuple(self.fields.values()), tuple(self.warnings), self.bond
        )

    def status(self) -> None:
        kind = self.top.get(666)
        if kind in ("1", "2"):
            self.warnings.append(
                f"666={kind}: this confirmation {'replaces' if kind == '1' else 'cancels'} an earlier one"
            )
        status = self.top.get(665)
        if status in _CONFIRM_STATUS:
            self.warnings.append(f"665={status}: {_CONFIRM_STATUS[status]}")
        if self.top.get(773) == "3":
            self.warnings.append("773=3: a rejected confirmation request, not a confirmation")

    def instrument(self) -> None:
        # The security's name is SecurityDesc (107); a Symbol (55) alone is a ticker or code, not a name.
        if self.top.get(107, "").strip() not in ("", "[N/A]", "N/A"):
            self.text("security_name", 107)
        ids = (
            [(self.top[48], self.top.get(22, ""), f"48={self.top[48]} 22={self.top.get(22, '')}")]
            if 48 in self.top
            else []
        )
        ids += [(e[455], e.get(456, ""), f"455={e[455]} 456={e.get(456, '')}") for e in self.groups[454]]
        for value, source, snippet in ids:
            name = {"4": "isin", "ISIN": "isin", "1": "cusip"}.get(source)
            if name is None:
                continue
            if name in self.fields and self.fields[name].value != value:
                self.warnings.append(f"{snippet}: a second {name}; the first is kept")
            elif name not in self.fields:
                self.add(name, value, snippet)
                if not (isin_number if name == "isin" else cusip_number).is_valid(value):
                    self.warnings.append(f"{name.upper()} {value} fails its check digit")

    def charges(self) -> None:
        currency = self.top.get(15, "")
        commission = self.commission()
        fees: list[tuple[Decimal, str]] = []
        local: list[tuple[Decimal, str]] = []
        for entry in self.groups[136]:
            snippet = " ".join(f"{tag}={value}" for tag, value in entry.items())
            if not _NUMBER.match(entry[137]):
                self.warnings.append(f"{snippet}: not a number; left out")
            elif currency and entry.get(138, currency) != currency:
                self.warnings.append(f"{snippet}: in {entry[138]}, the trade in {currency}; left out")
            else:
                (local if entry.get(139) == "3" else fees).append((Decimal(entry[137]), snippet))
        if local:
            parts = ([commission] if commission else []) + local
            self.add(
                "commission",
                format(sum((amount for amount, _ in parts), Decimal(0)), "f"),
                " ".join(snippet for _, snippet in parts),
                self.fields["commission"].confidence if "commission" in self.fields else CONFIDENCE,
            )
        if fees:
            total = sum((amount for amount, _ in fees), Decimal(0))
            self.add("fees", format(total, "f"), " ".join(snippet for _, snippet in fees))

    def commission(self) -> tuple[Decimal, str] | None:
        rate_text = self.number(12)
        if rate_text is None:
            return None
        rate, kind = Decimal(rate_text), self.top.get(13)
        snippet = f"12={self.top[12]}" + (f" 13={kind}" if kind else "")
        if self.top.get(479, self.top.get(15)) != self.top.get(15):
            self.warnings.append(f"479={self.top[479]}: the commission is in another currency than the trade")
        if kind in (None, "3"):
            if kind is None:
                self.warnings.append("CommType(13) missing: Commission(12) read as an absolute amount")
            self.add("commission", rate_text, snippet)
            return rate, snippet
        if kind not in ("1", "2"):
            self.warnings.append(
                f"{snippet}: CommType {kind} is not turned into an amount here; no commission"
            )
            return None
        base_name, base = self.commission_base(kind)
        if base is None:
            self.warnings.append(f"{snippet}: no {base_name} to compute the commission from; no commission")
            return None
        gross = self.fields.get("gross_amount")
        places = _places(gross.value) if gross else 2
        amount = (rate * base).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        self.warnings.append(f"commission computed: {rate_text} x {base_name} {base} = {amount} ({snippet})")
        self.add("commission", format(amount, "f"), snippet, COMPUTED)
        return amount, snippet

    def commission_base(self, kind: str) -> tuple[str, Decimal | None]:
        """What a per-unit (kind 1) or percent (kind 2) commission multiplies, and its value."""
        quantity, gross = self.fields.get("quantity"), self.fields.get("gross_amount")
        if kind == "1":
            return "quantity", Decimal(quantity.value) if quantity else None
        if gross:
            return "gross amount", Decimal(gross.value)
        price = self.fields.get("price")
        if quantity and price:
            return "quantity x price", Decimal(quantity.value) * Decimal(price.value) / (
                100 if self.bond else 1
            )
        return "gross amount", None

    def counterparty(self) -> None:
        parties = self.groups[453]
        for role in ("1", "17"):
            party = next((entry for entry in parties if entry.get(452) == role), None)
            if party is not None and party[448].strip():
                snippet = " ".join(f"{tag}={value}" for tag, value in party.items())
                name = party[448].strip()
                if party.get(447) == "B" or bic.is_valid(name):
                    # A BIC names no firm a person reads: the counterparty is the firm's name.
                    self.warnings.append(
                        f"the counterparty is given only as BIC {name}: no counterparty name"
                    )
                else:
                    self.add("counterparty", name, snippet)
                return


def _places(text: str) -> int:
    """The decimals printed in canonical decimal text."""
    return len(text.partition(".")[2])
