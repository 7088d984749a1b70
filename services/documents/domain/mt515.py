"""A SWIFT MT515 (Client Confirmation of Purchase or Sale) read into canonical fields.

The message is the text of a FIN message: blocks {1:}{2:}{3:} (optional), block 4 between "{4:"
and "-}", and {5:} (optional). Block 4 alone is accepted too when it opens with its :16R:GENL
sequence, as systems often print it. In block 4 each field is ":TAG:" at the start of a line,
continued on the following lines; generic fields carry a qualifier (":98A::TRAD//20200312"), and
:16R:/:16S: open and close the sequences (GENL, CONFDET, CONFPRTY, SETDET, SETPRTY, AMT, ...).

What is read (confidence 0.99 for each, page 0, the field as printed for a snippet):
- 20C::SEME trade_reference; 98A/98C/98E::TRAD and ::SETT trade_date and settlement_date
- 22H::BUSE side (BUYI buy, SELL sell; SUBS and REDM, funds, buy and sell)
- 36B::CONF quantity (UNIT units; FAMT or AMOR a face amount, which marks the trade a bond)
- 90A::DEAL//PRCT price as a percentage of par (a bond); 90B::DEAL//ACTU price and currency
- 35B: ISIN line isin; a national id line /US/ or /CA/ with 9 characters cusip (either kept,
  with a warning, when its check digit fails); other lines security_name (joined by spaces)
- 19A: DEAL gross_amount, SETT net_amount, EXEC and LOCO commission (summed), ACRU
  accrued_interest, every charge or tax (FEE_QUALIFIERS) summed into fees; an amount in another
  currency than the trade's is left out of a sum, with a warning
- 97A::SAFE account: the safekeeping account of a party on the client's side (the investor INVE,
  the buyer and its receiving chain REAG, RECU, REI1, REI2 for a purchase, the seller and its
  delivering chain for a sale, or the message's receiver), else one outside any party block; the
  account of a party on the counterparty's side is never taken
- the counterparty: the seller (95a::SELL, or SELR as some write it) when the client buys, the
  buyer (95a::BUYR) when it sells, from the confirmation parties (CONFPRTY), else the settlement
  parties; a BIC (95P), a name and address (95Q, lines joined), or issuer/code (95R). A party that
  is the receiver of the message (the client itself) is not taken: the parties then contradict
  the buy/sell indicator, which is a warning.
Decimal commas become points and amounts keep their printed decimals (USD12345,67 is 12345.67); a
sign N makes an amount negative. A field whose value cannot be read (a date 20201316, a quantity
without its decimal comma) is left out with a warning; a message that is not an MT515 (no block 4,
another message type in block 2, no :23G:, no :20C::SEME, no :35B:) raises ValueError saying which.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from stdnum import cusip as cusip_number
from stdnum import isin as isin_number

from services.documents.domain.fields import Extraction, Field
from services.documents.domain.normalise import canonical_decimal, date_text, decimal_text

CONFIDENCE = 0.99
FEE_QUALIFIERS = frozenset(
    {
        "BAKL", "CBCH", "CHAR", "COAX", "COUN", "ENTF", "EUTR", "LADT", "LEVY", "LIDT", "LOCL", "LOTE",
        "LYDT", "MACO", "OTHR", "POST", "REGF", "RSCH", "SHIP", "STAM", "STEX", "TRAN", "TRAX", "VATA",
        "WITH",
    }
)  # fmt: skip
COMMISSION_QUALIFIERS = frozenset({"EXEC", "LOCO"})
_SIDES = {"BUYI": "BUY", "SELL": "SELL", "SUBS": "BUY", "REDM": "SELL"}
_PARTY_SEQUENCES = ("CONFPRTY", "SETPRTY")
# The parties on the client's side of its trade (the trading party, and the settlement chain on
# the receiving side for a purchase, the delivering side for a sale), and the counterparty's role.
_CLIENT_SIDE = {
    "BUY": frozenset({"INVE", "BUYR", "REAG", "RECU", "REI1", "REI2"}),
    "SELL": frozenset({"INVE", "SELL", "SELR", "DEAG", "DECU", "DEI1", "DEI2"}),
}
_COUNTERPARTY = {"BUY": frozenset({"SELL", "SELR"}), "SELL": frozenset({"BUYR"})}
_TAG_LINE = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_AMOUNT = re.compile(r"^(N?)([A-Z]{3})(\d+,\d*)$")
_NUMBER = re.compile(r"^(N?)(\d+,\d*)$")


@dataclass(frozen=True)
class _Tag:
    """One field of block 4: its tag (20C), its text after ":20C:" (lines joined by newlines),
    the sequences around it (("SETDET", "AMT")) and the number of the innermost one."""

    tag: str
    text: str
    path: tuple[str, ...]
    block: int

    @property
    def qualifier(self) -> str:
        return self.text[1:5] if self.text.startswith(":") else ""

    @property
    def issuer(self) -> str:
        return self.text[6:].split("/", 1)[0] if self.qualifier else ""

    @property
    def rest(self) -> str:
        """What follows the qualifier and its data source scheme (":SEME//REF" gives REF)."""
        if not self.qualifier:
            return self.text
        return self.text[6:].split("/", 1)[1] if "/" in self.text[6:] else self.text[6:]

    @property
    def snippet(self) -> str:
        return f":{self.tag}:{self.text}"


def parse_mt515(text: str) -> Extraction:
    """The canonical fields of an MT515 (see the module)."""
    headers, body = _blocks(text)
    receiver = _receiver(headers)
    tags = _tags(body)
    _require(tags)
    reading = _Reading(tags)
    reading.general()
    reading.confirmation()
    reading.instrument()
    reading.amounts()
    reading.parties(receiver)
    return Extraction(
        format="mt515",
        layout="swift-mt515",
        fields=tuple(reading.fields.values()),
        warnings=tuple(reading.warnings),
        bond=reading.bond,
    )


def _blocks(text: str) -> tuple[dict[str, str], str]:
    """The header blocks ({1:}, {2:}, {3:}) by number, and the text of block 4."""
    message = text.lstrip("\ufeff").strip()
    start = message.find("{4:")
    if start < 0:
        if ":16R:GENL" in message:
            bare_end = re.search(r"(?m)^-\}", message)
            return {}, message[: bare_end.start()] if bare_end else message
        raise ValueError("not an MT515: there is no block 4 ({4: ... -}) and no :16R:GENL sequence")
    headers: dict[str, str] = {}
    position = 0
    while position < start:
        if message[position].isspace():
            position += 1
            continue
        if message[position] != "{":
            raise ValueError(
                f"not a SWIFT message: {message[position : min(start, position + 12)]!r} before block 4"
            )
        depth, end = 0, position
        for end in range(position, start):
            depth += {"{": 1, "}": -1}.get(message[end], 0)
            if depth == 0:
                break
        number, _, content = message[position + 1 : end].partition(":")
        headers[number] = content
        position = end + 1
    closing = re.search(r"(?m)^-\}", message[start + 3 :])
    if closing is None:
        raise ValueError("not a complete MT515: block 4 has no closing '-}'")
    return headers, message[start + 3 : start + 3 + closing.start()]


def _receiver(headers: dict[str, str]) -> str:
    """The receiver's BIC8 (the client), from block 2 (input) or block 1 (output), or ""."""
    application = headers.get("2", "")
    if application:
        kind = application[1:4]
        if kind != "515":
            raise ValueError(f"not an MT515: block 2 says MT{kind} ({{2:{application}}})")
        if application[0] == "I":
            return application[4:12]
        if application[0] == "O":
            return headers.get("1", "")[3:11]
    return ""


def _tags(body: str) -> list[_Tag]:
    tags: list[_Tag] = []
    path: list[tuple[str, int]] = []
    count = 0
    for line in body.splitlines():
        match = _TAG_LINE.match(line)
        if match is None:
            if tags and line.strip():
                last = tags[-1]
                tags[-1] = _Tag(last.tag, f"{last.text}\n{line.rstrip()}", last.path, last.block)
            continue
        tag, value = match.group(1), match.group(2).rstrip()
        if tag == "16R":
            count += 1
            path.append((value, count))
        elif tag == "16S":
            names = [name for name, _ in path]
            if value in names:
                del path[len(names) - 1 - names[::-1].index(value) :]
        tags.append(_Tag(tag, value, tuple(name for name, _ in path), path[-1][1] if path else 0))
    return tags


def _require(tags: list[_Tag]) -> None:
    present = {tag.tag for tag in tags}
    if "23G" not in present:
        raise ValueError("not an MT515: no :23G: (function of the message)")
    if not any(tag.tag == "20C" and tag.qualifier == "SEME" for tag in tags):
        raise ValueError("not an MT515: no :20C::SEME// (the sender's reference)")
    if "35B" not in present:
        raise ValueError("not an MT515: no :35B: (the financial instrument)")


def _swift_number(printed: str) -> str:
    """A SWIFT number (decimal comma, optional sign N) as canonical text with its printed decimals."""
    match = _NUMBER.match(printed.strip())
    if match is None:
        raise ValueError(f"{printed!r} is not a SWIFT number (digits with a decimal comma)")
    return decimal_text(("-" if match.group(1) else "") + match.group(2), style="eu")


class _Reading:
    """The fields read so far from one message, with its warnings."""

    def __init__(self, tags: list[_Tag]) -> None:
        self.tags = tags
        self.fields: dict[str, Field] = {}
        self.warnings: list[str] = []
        self.bond = False
        self.currency = ""

    def add(self, name: str, value: str, *sources: _Tag) -> None:
        snippet = "\n".join(source.snippet for source in sources)
        self.fields[name] = Field(name, value, CONFIDENCE, 0, snippet)

    def read(self, name: str, source: _Tag, convert: Callable[[], str]) -> bool:
        """Adds name from convert(); a value it cannot read is a warning, not a failure."""
        try:
            value = convert()
        except ValueError as error:
            self.warnings.append(f"{source.snippet}: {error}; no {name}")
            return False
        self.add(name, value, source)
        return True

    def find(self, tag: str, qualifier: str, sequence: str = "") -> _Tag | None:
        """The first tag:qualifier, within sequence when it has one there, else anywhere."""
        matches = [one for one in self.tags if one.tag[:2] == tag[:2] and one.qualifier == qualifier]
        if len(tag) == 3:
            matches = [one for one in matches if one.tag == tag]
        inside = [one for one in matches if sequence in one.path] if sequence else []
        found = inside or matches
        return found[0] if found else None

    def general(self) -> None:
        function = next(tag for tag in self.tags if tag.tag == "23G").text
        if function.startswith("CANC"):
            self.warnings.append(f"23G:{function}: this message cancels an earlier confirmation")
        elif function.startswith("PREA"):
            self.warnings.append(f"23G:{function}: a preadvice, not the confirmation itself")
        if function.endswith(("/COPY", "/DUPL", "/CODU")):
            self.warnings.append(f"23G:{function}: a copy or duplicate of a confirmation")
        reference = self.find("20C", "SEME")
        if reference is not None and reference.rest:
            self.add("trade_reference", reference.rest, reference)

    def confirmation(self) -> None:
        for qualifier, name in (("TRAD", "trade_date"), ("SETT", "settlement_date")):
            found = self.find("98", qualifier, "CONFDET")
            if found is None:
                continue
            if found.tag in ("98A", "98C", "98E") and re.match(r"^\d{8}", found.rest):
                self.read(name, found, partial(date_text, found.rest[:8]))
            else:
                self.warnings.append(f"{found.snippet}: no date given, so no {name}")
        side = self.find("22H", "BUSE", "CONFDET")
        if side is not None:
            if side.rest in _SIDES:
                self.add("side", _SIDES[side.rest], side)
            else:
                self.warnings.append(f"{side.snippet}: not a buy or a sell, so no side")
        quantity = self.find("36B", "CONF", "CONFDET")
        if quantity is not None:
            kind, _, amount = quantity.rest.partition("/")
            if self.read("quantity", quantity, lambda: canonical_decimal(_swift_number(amount))):
                self.bond = self.bond or kind in ("FAMT", "AMOR")
        self.price()

    def price(self) -> None:
        price = self.find("90", "DEAL", "CONFDET")
        if price is None:
            return
        kind, _, amount = price.rest.partition("/")
        priced = _AMOUNT.match(amount)
        if price.tag == "90A" and kind == "PRCT":
            if self.read("price", price, lambda: _swift_number(amount)):
                self.bond = True
        elif price.tag == "90B" and kind == "ACTU" and priced is not None:
            sign, currency, number = priced.groups()
            self.add("price", _swift_number(sign + number), price)
            self.currency = currency
            self.add("currency", currency, price)
        else:
            self.warnings.append(f"{price.snippet}: not a price per unit or a percentage, so no price")

    def instrument(self) -> None:
        found = next(tag for tag in self.tags if tag.tag == "35B")
        names: list[str] = []
        for line in (line.strip() for line in found.text.split("\n")):
            if line.startswith("ISIN "):
                isin = line[5:].strip()
                self.add("isin", isin, found)
                if not isin_number.is_valid(isin):
                    self.warnings.append(f"ISIN {isin} fails its check digit")
            elif re.match(r"^/[A-Z]{2}/", line):
                country, number = line[1:3], line[4:].strip()
                if country in ("US", "CA") and len(number) == 9:
                    self.add("cusip", number, found)
                    if not cusip_number.is_valid(number):
                        self.warnings.append(f"CUSIP {number} fails its check digit")
            elif line:
                names.append(line)
        if names:
            self.add("security_name", " ".join(names), found)

    def amounts(self) -> None:
        sums: dict[str, list[tuple[Decimal, _Tag]]] = {"commission": [], "fees": []}
        single = {"DEAL": "gross_amount", "SETT": "net_amount", "ACRU": "accrued_interest"}
        amounts = [tag for tag in self.tags if tag.tag == "19A"]
        if not self.currency:
            # The trade's currency: the deal amount's, else the settlement amount's, else the first.
            ranked = sorted(amounts, key=lambda tag: {"DEAL": 0, "SETT": 1}.get(tag.qualifier, 2))
            first = next((_AMOUNT.match(tag.rest) for tag in ranked if _AMOUNT.match(tag.rest)), None)
            if first is not None:
                self.currency = first.group(2)
                source = next(tag for tag in ranked if _AMOUNT.match(tag.rest))
                self.add("currency", self.currency, source)
        for amount in amounts:
            match = _AMOUNT.match(amount.rest)
            if match is None:
                self.warnings.append(f"{amount.snippet}: not a currency and an amount; left out")
                continue
            sign, currency, number = match.groups()
            value = _swift_number(sign + number)
            qualifier = amount.qualifier
            if qualifier in single:
                name = single[qualifier]
                if name in self.fields:
                    self.warnings.append(f"{amount.snippet}: a second {name}; the first is kept")
                    continue
                self.add(name, value, amount)
                if currency != self.currency:
                    self.warnings.append(f"{amount.snippet}: in {currency}, the trade in {self.currency}")
            elif qualifier in COMMISSION_QUALIFIERS or qualifier in FEE_QUALIFIERS:
                target = "commission" if qualifier in COMMISSION_QUALIFIERS else "fees"
                if currency != self.currency:
                    self.warnings.append(
                        f"{amount.snippet}: in {currency}, the trade in {self.currency}; left out of {target}"
                    )
                    continue
                sums[target].append((Decimal(value), amount))
            else:
                self.warnings.append(f"{amount.snippet}: {qualifier} is not read into any field; left out")
        for name, parts in sums.items():
            if parts:
                total = sum((part for part, _ in parts), Decimal(0))
                self.add(name, format(total, "f"), *(source for _, source in parts))

    def parties(self, receiver: str) -> None:
        blocks: dict[int, list[_Tag]] = {}
        for tag in self.tags:
            if tag.path and tag.path[-1] in _PARTY_SEQUENCES:
                blocks.setdefault(tag.block, []).append(tag)
        side = self.fields["side"].value if "side" in self.fields else ""
        mine, theirs = _CLIENT_SIDE.get(side, frozenset({"INVE"})), _COUNTERPARTY.get(side, frozenset())

        def is_receiver(party: _Tag) -> bool:
            return party.tag == "95P" and bool(receiver) and party.rest[:8] == receiver

        def client_block(block: list[_Tag]) -> bool:
            return any(
                tag.tag.startswith("95") and (tag.qualifier in mine or is_receiver(tag)) for tag in block
            )

        safes = [tag for block in blocks.values() if client_block(block) for tag in block]
        safes += [tag for tag in self.tags if not (tag.path and tag.path[-1] in _PARTY_SEQUENCES)]
        account = next((tag for tag in safes if tag.tag == "97A" and tag.qualifier == "SAFE"), None)
        if account is not None:
            self.add("account", account.rest, account)
        ordered = sorted(blocks.values(), key=lambda block: block[0].path[-1] != "CONFPRTY")
        for block in ordered:
            party = next((tag for tag in block if tag.tag.startswith("95") and tag.qualifier in theirs), None)
            if party is None:
                continue
            if is_receiver(party):
                self.warnings.append(
                    f"{party.snippet}: the {'seller' if side == 'BUY' else 'buyer'} is the receiver of the "
                    "message, the client itself: the parties contradict the buy/sell indicator, so no "
                    "counterparty"
                )
            elif party.tag == "95P":
                # A BIC names no firm a person reads: the counterparty is the firm's name (95Q).
                self.warnings.append(f"{party.snippet}: the counterparty is given only as BIC {party.rest}")
            else:
                self.add("counterparty", _party(party), party)
            return


def _party(party: _Tag) -> str:
    if party.tag == "95Q":
        return " ".join(line.strip() for line in party.rest.split("\n") if line.strip())
    if party.tag == "95R":
        return f"{party.issuer}/{party.rest}"
    return party.rest
