"""ISINs and CUSIPs of the universe: synthetic like the companies, but well formed.

Each instrument's identifiers come from SHA-256 of its instrument_id, so they are the same in
every process and for every seed, and no random stream draws for them (no event moved when they
were added). The check digits are python-stdnum's (`stdnum.cusip.calc_check_digit`,
`stdnum.gb.sedol.calc_check_digit`, `stdnum.isin.calc_check_digit`), so every id validates with
`stdnum.isin.is_valid` / `stdnum.cusip.is_valid`, as a data-quality check would test them.

An ISIN is a country code, a 9-character national id and a check digit:

| market | ISIN country | national id | CUSIP |
|---|---|---|---|
| US | US | the CUSIP: 6-character issuer and 2-character issue from the hash, then its check digit | the same 9 characters |
| EU | DE | "000" and a 6-character WKN-shaped id from the hash (a WKN has no check digit) | empty |
| UK | GB | "00" and a SEDOL: a letter, 5 characters from the hash, its check digit | empty |
| JP | JP | "3" and 8 digits from the hash (Japan's ISINs of listed shares begin JP3) | empty |

The EU names list on one euro market with no country in the reference data; DE (Xetra) is a
choice, not a fact about the fictional companies. Characters drawn for a CUSIP, WKN or SEDOL
avoid the letters each scheme leaves out (I and O in CUSIPs and WKNs; vowels in SEDOLs).
"""

from __future__ import annotations

import hashlib

from stdnum import cusip as stdnum_cusip
from stdnum import isin as stdnum_isin
from stdnum.gb import sedol as stdnum_sedol

DIGITS = "0123456789"
CUSIP_CHARACTERS = DIGITS + "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O
SEDOL_LETTERS = "BCDFGHJKLMNPQRSTVWXYZ"  # SEDOLs use no vowels
SEDOL_CHARACTERS = DIGITS + SEDOL_LETTERS
ISIN_COUNTRY = {"US": "US", "EU": "DE", "UK": "GB", "JP": "JP"}


class _Characters:
    """Characters taken one at a time from the SHA-256 of an instrument id."""

    def __init__(self, instrument_id: str) -> None:
        digest = hashlib.sha256(f"opsuite-market/identifier/{instrument_id}".encode()).digest()
        self._value = int.from_bytes(digest, "big")

    def take(self, alphabet: str, count: int) -> str:
        out = []
        for _ in range(count):
            self._value, index = divmod(self._value, len(alphabet))
            out.append(alphabet[index])
        return "".join(out)


def cusip_for(instrument_id: str) -> str:
    """A 9-character CUSIP: issuer (6) and issue (2) from the id's hash, then the check digit."""
    body = _Characters(instrument_id).take(CUSIP_CHARACTERS, 8)
    return body + stdnum_cusip.calc_check_digit(body)


def national_id(instrument_id: str, market: str) -> str:
    """The 9-character national id inside the instrument's ISIN (the table above)."""
    if market == "US":
        return cusip_for(instrument_id)
    characters = _Characters(instrument_id)
    if market == "EU":
        return "000" + characters.take(CUSIP_CHARACTERS, 6)
    if market == "UK":
        body = characters.take(SEDOL_LETTERS, 1) + characters.take(SEDOL_CHARACTERS, 5)
        return "00" + body + stdnum_sedol.calc_check_digit(body)
    if market == "JP":
        return "3" + characters.take(DIGITS, 8)
    raise ValueError(f"market: no ISIN country for {market!r}; known: {', '.join(ISIN_COUNTRY)}")


def isin_for(instrument_id: str, market: str) -> str:
    """A 12-character ISIN: the market's country code, the national id, the check digit."""
    body = ISIN_COUNTRY.get(market, "") + national_id(instrument_id, market)
    return body + stdnum_isin.calc_check_digit(body)


def identifiers(instrument_id: str, market: str) -> tuple[str, str]:
    """(isin, cusip) of an instrument; the CUSIP is empty outside the US."""
    return isin_for(instrument_id, market), cusip_for(instrument_id) if market == "US" else ""
