"""Broker confirmation layouts as data: one TOML template per house, in the spirit of invoice2data.

A template says how to recognise a layout and where each canonical field is printed in it:

    name = "halvorsen"                       # the layout's key (Extraction.layout)
    broker = "Halvorsen Brothers & Co. LLC"  # the house
    keywords = ["HALVORSEN BROTHERS", "TRADE CONFIRMATION"]   # all must occur (any case)
    exclude_keywords = []                    # none may occur (optional)

    [options]
    date_order = "mdy"                       # dmy | mdy | ymd: numeric dates
    number_style = "us"                      # us | eu | auto (normalise.decimal_text)
    side_perspective = "client"              # client | broker: whose words Buy/Sell are
    currency = "USD"                         # the house's currency when the page does not say
    bond_keywords = ["Par Value"]            # any of them (any case) marks a bond

    [fields.trade_date]
    regex = 'Trade Date \\.+ (\\S+)'          # one capture group, or a group named "value"

    [fields.quantity]
    table = { header = ["QUANTITY", "NOMINAL"], row = 1 }

    [fields.fees]
    sum = ['SEC Fee \\.+ (\\S+)', 'Handling Fee \\.+ (\\S+)']
    optional = true

Field rules (one of regex, table or sum per field):
- regex: a pattern, or a list of them tried in order; searched page by page with MULTILINE, and
  with `ignore_case = true` and `dotall = true` when asked. The value is the group named "value",
  else the only group. A value that runs over lines (a wrapped paragraph) has each line break and
  the spaces around it read as one space.
- table: `header` (a cell label, or a list of alternatives, compared without regard to case or
  repeated spaces) and `row` (the data row under the header, 1 for the first; rules such as
  +----+, ---- or ==== are skipped). Reads tables ruled with | and + (market's kestrel) and
  tables aligned by spaces, whose columns are the runs of a ---- or ==== rule under the header
  when there is one, else the header cells; a value belongs to the column it overlaps most. A |
  row that a PDF wrapped at the page's width is joined again.
- sum: a list of patterns (or of table specs) whose every match is added up: for fees, which
  houses itemise. A charge printed in parentheses or with a minus sign adds its absolute value.
- optional = true: the layout prints the field only sometimes (fees on a sale), so its absence is
  not worth a warning. A required field that is not found is a warning, never a guess.
- negate_if: a pattern searched in the whole document (MULTILINE, IGNORECASE); when it matches the
  amount is negative (market's meridian words a sale's negative net as "payable by you").
  signed = true keeps a printed sign (a net amount printed -5.00); otherwise amounts are absolute.
The type follows the field's name: dates through date_text with the template's date order,
quantity and price through canonical_decimal, amounts through decimal_text (the printed scale
kept), side through side_text with the template's perspective, currency in capitals, text fields
stripped. Besides the canonical fields a template may read `instrument_ref`, an instrument id that
is neither an ISIN nor a CUSIP (Extraction.instrument_ref).

load_templates validates each file and raises ValueError naming the file, the rule and the
problem; select_template picks the template whose keywords all occur (the most keywords wins; two
templates that tie are an error in the templates); apply_template reads a document's pages.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from services.documents.domain.fields import CANONICAL_FIELDS, Extraction, Field
from services.documents.domain.normalise import (
    DateOrder,
    DecimalStyle,
    Perspective,
    date_text,
    decimal_text,
    side_text,
)

CONFIDENCE = 0.98
DEFAULT_CONFIDENCE = 0.9  # the template's default currency, when the page does not print one
INSTRUMENT_REF = "instrument_ref"
DATE_FIELDS = frozenset({"trade_date", "settlement_date"})
NUMBER_FIELDS = frozenset({"quantity", "price"})
MONEY_FIELDS = frozenset({"gross_amount", "commission", "fees", "accrued_interest", "net_amount"})
TEXT_FIELDS = frozenset(
    {"isin", "cusip", "security_name", "account", "counterparty", "trade_reference", INSTRUMENT_REF}
)
_RULE_KEYS = frozenset({"regex", "table", "sum", "optional", "ignore_case", "dotall", "negate_if", "signed"})
_TOP_KEYS = frozenset({"name", "broker", "keywords", "exclude_keywords", "options", "fields"})
_OPTION_KEYS = frozenset({"date_order", "number_style", "side_perspective", "currency", "bond_keywords"})
_DATE_ORDERS = ("dmy", "mdy", "ymd")
_STYLES = ("us", "eu", "auto")
_PERSPECTIVES = ("client", "broker")


# ---------------------------------------------------------------- the template records


@dataclass(frozen=True)
class TableSpec:
    """A value read from a table: the column under a header cell, `row` data rows down."""

    headers: tuple[str, ...]
    row: int = 1

    def describe(self) -> str:
        return f"table header {' or '.join(repr(one) for one in self.headers)} row {self.row}"


Source = re.Pattern[str] | TableSpec
_Fail = Callable[[str, str], ValueError]


@dataclass(frozen=True)
class Rule:
    """How one field is read: alternatives tried in order (regex or table), or parts summed."""

    name: str
    sources: tuple[Source, ...]
    summed: bool = False
    optional: bool = False
    negate_if: re.Pattern[str] | None = None
    signed: bool = False

    def describe(self) -> str:
        parts = [
            source.describe() if isinstance(source, TableSpec) else f"regex {source.pattern!r}"
            for source in self.sources
        ]
        return ("sum of " if self.summed else "") + "; ".join(parts)


@dataclass(frozen=True)
class Options:
    date_order: DateOrder = "dmy"
    number_style: DecimalStyle = "auto"
    side_perspective: Perspective = "client"
    currency: str | None = None
    bond_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    name: str
    broker: str
    keywords: tuple[str, ...]
    exclude_keywords: tuple[str, ...]
    options: Options
    rules: tuple[Rule, ...]
    source: str = ""

    def matches(self, text: str) -> bool:
        folded = text.casefold()
        return all(word.casefold() in folded for word in self.keywords) and not any(
            word.casefold() in folded for word in self.exclude_keywords
        )


# ---------------------------------------------------------------- loading


def builtin_template_paths() -> tuple[Path, ...]:
    """The templates shipped with the service (services/documents/templates/*.toml), by name."""
    folder = resources.files("services.documents").joinpath("templates")
    return tuple(sorted(Path(str(folder)).glob("*.toml")))


def load_builtin_templates() -> tuple[Template, ...]:
    return load_templates(builtin_template_paths())


def load_templates(paths: Iterable[str | Path]) -> tuple[Template, ...]:
    """Each file read and checked; ValueError names the file, the rule and the problem."""
    templates = []
    names: dict[str, str] = {}
    for path in paths:
        where = Path(path)
        try:
            data = tomllib.loads(where.read_text(encoding="utf-8"))
        except OSError as error:
            raise ValueError(f"{where.name}: cannot read the template: {error}") from None
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{where.name}: not valid TOML: {error}") from None
        template = parse_template(data, where.name)
        if template.name in names:
            raise ValueError(
                f"{where.name}: the template name {template.name!r} is also used by {names[template.name]}"
            )
        names[template.name] = where.name
        templates.append(template)
    return tuple(templates)


def parse_template(data: dict[str, Any], source: str) -> Template:
    """A template from its parsed TOML (see the module); source names it in errors."""

    def fail(where: str, problem: str) -> ValueError:
        return ValueError(f"{source}: {where}: {problem}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key; a template has {', '.join(sorted(_TOP_KEYS))}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "missing or empty: give the layout's name")
    broker = data.get("broker")
    if not isinstance(broker, str) or not broker.strip():
        raise fail("broker", "missing or empty: give the house's name")
    keywords = _strings(data.get("keywords", []), "keywords", fail)
    if not keywords:
        raise fail("keywords", "no keywords: a template needs at least one to be selected")
    excluded = _strings(data.get("exclude_keywords", []), "exclude_keywords", fail)
    options = _options(data.get("options", {}), fail)
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise fail("fields", "no field rules")
    rules = tuple(_rule(field, spec, fail) for field, spec in fields.items())
    return Template(name.strip(), broker.strip(), keywords, excluded, options, rules, source)


def _strings(value: object, where: str, fail: _Fail) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(one, str) and one.strip() for one in value):
        raise fail(where, "must be a list of non-empty strings")
    return tuple(cast(list[str], value))


def _options(value: object, fail: _Fail) -> Options:
    if not isinstance(value, dict):
        raise fail("options", "must be a table")
    unknown = sorted(set(value) - _OPTION_KEYS)
    if unknown:
        raise fail(
            f"options.{unknown[0]}", f"unknown option; the options are {', '.join(sorted(_OPTION_KEYS))}"
        )

    def choice(key: str, allowed: tuple[str, ...], default: str) -> str:
        chosen = value.get(key, default)
        if chosen not in allowed:
            raise fail(f"options.{key}", f"{chosen!r} is not one of {', '.join(allowed)}")
        return cast(str, chosen)

    currency = value.get("currency")
    if currency is not None and (not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency)):
        raise fail("options.currency", f"{currency!r} is not an ISO currency code such as USD")
    return Options(
        date_order=cast(DateOrder, choice("date_order", _DATE_ORDERS, "dmy")),
        number_style=cast(DecimalStyle, choice("number_style", _STYLES, "auto")),
        side_perspective=cast(Perspective, choice("side_perspective", _PERSPECTIVES, "client")),
        currency=currency,
        bond_keywords=_strings(value.get("bond_keywords", []), "options.bond_keywords", fail),
    )


def _rule(field: str, spec: object, fail: _Fail) -> Rule:
    where = f"fields.{field}"
    if field not in CANONICAL_FIELDS and field != INSTRUMENT_REF:
        raise fail(
            where,
            f"unknown field name {field!r}; the fields are {', '.join(CANONICAL_FIELDS)} (and {INSTRUMENT_REF})",
        )
    if not isinstance(spec, dict):
        raise fail(where, "must be a table with regex, table or sum")
    unknown = sorted(set(spec) - _RULE_KEYS)
    if unknown:
        raise fail(f"{where}.{unknown[0]}", f"unknown key; a rule has {', '.join(sorted(_RULE_KEYS))}")
    kinds = [kind for kind in ("regex", "table", "sum") if kind in spec]
    if len(kinds) != 1:
        raise fail(
            where,
            "give exactly one of regex, table or sum" + (f" (it has {', '.join(kinds)})" if kinds else ""),
        )
    for flag in ("optional", "ignore_case", "dotall", "signed"):
        if not isinstance(spec.get(flag, False), bool):
            raise fail(f"{where}.{flag}", "must be true or false")
    flags = (
        re.MULTILINE
        | (re.IGNORECASE if spec.get("ignore_case") else 0)
        | (re.DOTALL if spec.get("dotall") else 0)
    )
    kind = kinds[0]
    if kind == "sum" and field not in MONEY_FIELDS:
        raise fail(f"{where}.sum", "only amounts (fees, commission, ...) can be summed")
    if spec.get("signed") and field not in MONEY_FIELDS:
        raise fail(f"{where}.signed", "only amounts have a sign")
    raw = spec[kind]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise fail(f"{where}.{kind}", "is empty")
    sources: list[Source] = []
    for index, item in enumerate(items):
        at = f"{where}.{kind}" + (f"[{index}]" if isinstance(raw, list) else "")
        if kind == "table" or (kind == "sum" and isinstance(item, dict)):
            sources.append(_table(item, at, fail))
        elif isinstance(item, str):
            sources.append(_pattern(item, at, flags, fail))
        else:
            raise fail(at, "must be a regular expression (a string)")
    negate = spec.get("negate_if")
    negate_if = None
    if negate is not None:
        if field not in MONEY_FIELDS:
            raise fail(f"{where}.negate_if", "only amounts can be negated")
        if not isinstance(negate, str):
            raise fail(f"{where}.negate_if", "must be a regular expression (a string)")
        try:
            negate_if = re.compile(negate, re.MULTILINE | re.IGNORECASE)
        except re.error as error:
            raise fail(f"{where}.negate_if", f"bad regex {negate!r}: {error}") from None
    return Rule(
        name=field,
        sources=tuple(sources),
        summed=kind == "sum",
        optional=bool(spec.get("optional", False)),
        negate_if=negate_if,
        signed=bool(spec.get("signed", False)),
    )


def _pattern(text: str, where: str, flags: int, fail: _Fail) -> re.Pattern[str]:
    try:
        pattern = re.compile(text, flags)
    except re.error as error:
        raise fail(where, f"bad regex {text!r}: {error}") from None
    if "value" not in pattern.groupindex and pattern.groups != 1:
        raise fail(
            where,
            f"regex {text!r} has {pattern.groups} capture groups: give exactly one, or name the value (?P<value>...)",
        )
    return pattern


def _table(item: object, where: str, fail: _Fail) -> TableSpec:
    if not isinstance(item, dict):
        raise fail(where, "a table rule is { header = ..., row = ... }")
    unknown = sorted(set(item) - {"header", "row"})
    if unknown:
        raise fail(f"{where}.{unknown[0]}", "unknown key; a table rule has header and row")
    headers = _strings(item.get("header", []), f"{where}.header", fail)
    if not headers:
        raise fail(f"{where}.header", "missing: name the header cell of the column")
    row = item.get("row", 1)
    if not isinstance(row, int) or isinstance(row, bool) or row < 1:
        raise fail(f"{where}.row", f"{row!r} is not a row number (1 is the first row under the header)")
    return TableSpec(tuple(_fold(header) for header in headers), row)


# ---------------------------------------------------------------- selection


def select_template(text: str, templates: Sequence[Template]) -> Template | None:
    """The template whose keywords all occur in text (and no excluded one); the one with the most
    keywords when several do; ValueError when two tie (their keywords do not tell them apart)."""
    matching = [one for one in templates if one.matches(text)]
    if not matching:
        return None
    most = max(len(one.keywords) for one in matching)
    best = [one for one in matching if len(one.keywords) == most]
    if len(best) > 1:
        names = ", ".join(f"{one.name} ({one.source})" for one in best)
        raise ValueError(
            f"templates {names} all match this document with {most} keywords each: "
            "give one of them a keyword the others lack, or exclude_keywords"
        )
    return best[0]


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class Cell:
    text: str
    start: int
    end: int


_RULE_LINE = re.compile(r"^[\s+|=_-]*[=_-]{3,}[\s+|=_-]*$")
_GAP = re.compile(r"\s{2,}")


def is_rule(line: str) -> bool:
    """A table's rule line: +----+----+, ------  -----, ====="""
    return bool(_RULE_LINE.match(line))


def is_pipe_row(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1


def pipe_cells(line: str) -> list[Cell]:
    """The cells of a | row, with their positions."""
    cells = []
    start = line.index("|") + 1
    while True:
        end = line.find("|", start)
        if end < 0:
            break
        raw = line[start:end]
        text = raw.strip()
        offset = start + (len(raw) - len(raw.lstrip()))
        cells.append(Cell(text, offset, offset + len(text)))
        start = end + 1
    return cells


def space_cells(line: str) -> list[Cell]:
    """The cells of a row aligned by spaces: text separated by two or more spaces."""
    cells = []
    for match in re.finditer(r"\S+(?: \S+)*", line):
        cells.append(Cell(match.group(0), match.start(), match.end()))
    return cells


def rule_runs(line: str) -> list[tuple[int, int]]:
    return [(match.start(), match.end()) for match in re.finditer(r"[=_-]+", line)]


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return min(a[1], b[1]) - max(a[0], b[0])


def column_values(lines: Sequence[str], header_index: int, column: int) -> list[tuple[int, str]]:
    """The values of one column of the table whose header is lines[header_index], one per data
    row, with the row's line index: a | table by cell index, a space-aligned one by position."""
    header = lines[header_index]
    rows: list[tuple[int, str]] = []
    if is_pipe_row(header):
        for index in range(header_index + 1, len(lines)):
            line = lines[index]
            if is_rule(line):
                continue
            if not is_pipe_row(line):
                break
            cells = pipe_cells(line)
            rows.append((index, cells[column].text if column < len(cells) else ""))
        return rows
    heads = space_cells(header)
    spans = [(cell.start, cell.end) for cell in heads]
    following = header_index + 1
    if following < len(lines) and is_rule(lines[following]):
        runs = rule_runs(lines[following])
        if len(runs) == len(heads):
            spans = runs
    for index in range(header_index + 1, len(lines)):
        line = lines[index]
        if not line.strip():
            break
        if is_rule(line):
            continue
        assigned: dict[int, list[str]] = {}
        for cell in space_cells(line):
            scores = [_overlap((cell.start, cell.end), span) for span in spans]
            best = max(range(len(spans)), key=lambda at: scores[at])
            if scores[best] <= 0:
                distances = [abs((cell.start + cell.end) / 2 - (a + b) / 2) for a, b in spans]
                best = min(range(len(spans)), key=lambda at: distances[at])
            assigned.setdefault(best, []).append(cell.text)
        rows.append((index, " ".join(assigned.get(column, []))))
    return rows


def find_header(lines: Sequence[str], labels: Sequence[str]) -> Iterable[tuple[int, int]]:
    """(line index, column index) of each header cell equal to one of labels (folded)."""
    wanted = {_fold(label) for label in labels}
    for index, line in enumerate(lines):
        if is_rule(line) or not line.strip():
            continue
        cells = pipe_cells(line) if is_pipe_row(line) else space_cells(line)
        for column, cell in enumerate(cells):
            if _fold(cell.text) in wanted:
                yield index, column


# ---------------------------------------------------------------- applying


@dataclass(frozen=True)
class _Hit:
    """One value found in the pages: the text, its 0-based page, the snippet and a key that says
    where it was (so a sum counts one printed charge once)."""

    text: str
    page: int
    snippet: str
    where: tuple[int, int]


def _snippet(page: str, start: int, end: int) -> str:
    line_start = page.rfind("\n", 0, start) + 1
    line_end = page.find("\n", end)
    return page[line_start : len(page) if line_end < 0 else line_end].strip()


def _regex_hits(pattern: re.Pattern[str], pages: Sequence[str], every: bool) -> list[_Hit]:
    hits = []
    for number, page in enumerate(pages):
        for match in pattern.finditer(page):
            group: int | str = "value" if "value" in pattern.groupindex else 1
            value = match.group(group)
            if value is None:
                continue
            start, end = match.span(group)
            hits.append(_Hit(value, number, _snippet(page, start, end), (number, start)))
            if not every:
                return hits
    return hits


def unwrap_ruled_rows(lines: Sequence[str]) -> list[str]:
    """The lines with each +---+ rule, and each | row under one, that a PDF wrapped at the page's
    width joined again: a rule starts and ends with +, and a row has as many | as its rule has +."""
    joined: list[str] = []
    crossings = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith("+"):
            while not line.rstrip().endswith("+") and index + 1 < len(lines) and lines[index + 1].strip():
                index += 1
                line = line.rstrip() + lines[index].strip()
            crossings = line.count("+")
        elif stripped.startswith("|") and crossings:
            while line.count("|") < crossings and index + 1 < len(lines) and lines[index + 1].strip():
                following = lines[index + 1].strip()
                if following.startswith(("+", "|")):
                    break
                index += 1
                line = f"{line.rstrip()} {following}"
        elif stripped:
            crossings = 0
        joined.append(line)
        index += 1
    return joined


def _table_hits(spec: TableSpec, pages: Sequence[str], every: bool) -> list[_Hit]:
    hits = []
    for number, page in enumerate(pages):
        lines = unwrap_ruled_rows(page.splitlines())
        for header_index, column in find_header(lines, spec.headers):
            rows = column_values(lines, header_index, column)
            if len(rows) < spec.row:
                continue
            index, value = rows[spec.row - 1]
            if not value:
                continue
            snippet = f"{lines[header_index].strip()}\n{lines[index].strip()}"
            hits.append(_Hit(value, number, snippet, (number, -(index * 1000 + column))))
            if not every:
                return hits
    return hits


def _hits(source: Source, pages: Sequence[str], every: bool) -> list[_Hit]:
    if isinstance(source, TableSpec):
        return _table_hits(source, pages, every)
    return _regex_hits(source, pages, every)


def _one_line(text: str) -> str:
    """A value as one line: a line break and the spaces around it are one space."""
    return re.sub(r"\s*\n\s*", " ", text).strip()


def convert(name: str, printed: str, options: Options) -> str:
    """A printed value as the canonical text of the field called name (ValueError if it cannot be)."""
    text = _one_line(printed)
    if name in DATE_FIELDS:
        return date_text(text, options.date_order)
    if name == "side":
        return side_text(text, options.side_perspective)
    if name in NUMBER_FIELDS:
        number = Decimal(decimal_text(text, options.number_style)).copy_abs()
        return "0" if number == 0 else format(number.normalize(), "f")
    if name in MONEY_FIELDS:
        return decimal_text(text, options.number_style)
    if name == "currency":
        code = text.upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError(f"{printed!r} is not an ISO currency code")
        return code
    if not text:
        raise ValueError("nothing printed")
    return text


def apply_template(template: Template, pages: Sequence[str], *, is_pdf: bool = False) -> Extraction:
    """Every rule of the template read from the pages (see the module).

    pages: the document's text, one element per PDF page (one element for a text document).
    is_pdf: pages are PDF pages, so each Field's page is 1-based; otherwise it is 0."""
    fields: dict[str, Field] = {}
    warnings: list[str] = []
    instrument_ref: str | None = None
    whole = "\n".join(pages)
    options = template.options

    def page_of(hit: _Hit) -> int:
        return hit.page + 1 if is_pdf else 0

    for rule in template.rules:
        found = _read_rule(rule, pages)
        if not found:
            if not rule.optional:
                warnings.append(f"{template.name}: {rule.name} not found ({rule.describe()})")
            continue
        try:
            if rule.summed:
                value = _sum(rule, found, options)
            else:
                value = convert(rule.name, found[0].text, options)
                if rule.name in MONEY_FIELDS and not rule.signed:
                    value = value.lstrip("-")
        except ValueError as error:
            shown = found[0].text if len(found) == 1 else ", ".join(hit.text for hit in found)
            warnings.append(f"{template.name}: {rule.name} {shown!r} cannot be read: {error}")
            continue
        if rule.negate_if is not None and rule.negate_if.search(whole) and Decimal(value) != 0:
            value = value[1:] if value.startswith("-") else f"-{value}"
        if rule.name == INSTRUMENT_REF:
            instrument_ref = value
            continue
        snippet = "\n".join(dict.fromkeys(hit.snippet for hit in found))
        fields[rule.name] = Field(rule.name, value, CONFIDENCE, page_of(found[0]), snippet)
    if "currency" not in fields and options.currency:
        fields["currency"] = Field(
            "currency", options.currency, DEFAULT_CONFIDENCE, 0, f"(the {template.name} template's currency)"
        )
    folded = whole.casefold()
    bond = any(word.casefold() in folded for word in options.bond_keywords)
    return Extraction(
        format="pdf" if is_pdf else "text",
        layout=template.name,
        fields=tuple(fields.values()),
        warnings=tuple(warnings),
        bond=bond,
        instrument_ref=instrument_ref,
    )


def _read_rule(rule: Rule, pages: Sequence[str]) -> list[_Hit]:
    if not rule.summed:
        for source in rule.sources:
            hits = _hits(source, pages, every=False)
            if hits:
                return hits
        return []
    seen: dict[tuple[int, int], _Hit] = {}
    for source in rule.sources:
        for hit in _hits(source, pages, every=True):
            seen.setdefault(hit.where, hit)
    return sorted(seen.values(), key=lambda hit: hit.where)


def _sum(rule: Rule, hits: Sequence[_Hit], options: Options) -> str:
    parts = [Decimal(convert(rule.name, hit.text, options)).copy_abs() for hit in hits]
    total = sum(parts, Decimal(0))
    return format(total.quantize(Decimal(1).scaleb(-max(decimal_places(part) for part in parts))), "f")


def decimal_places(value: Decimal) -> int:
    """The decimals a number is written with (0 for a whole one)."""
    exponent = value.as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


Kind = Literal["date", "side", "number", "money", "currency", "text"]


def field_kind(name: str) -> Kind:
    """The type a field's value has, by its name."""
    if name in DATE_FIELDS:
        return "date"
    if name == "side":
        return "side"
    if name in NUMBER_FIELDS:
        return "number"
    if name in MONEY_FIELDS:
        return "money"
    if name == "currency":
        return "currency"
    return "text"
