"""Policy documents as passages: Markdown (with optional front matter) and text read from a PDF.

A policy is split into passages by heading, one passage per section, which is the unit the SOP
assistant retrieves and cites.

Markdown (`parse_policy`):

- Front matter is optional: a first line `---`, then `key: value` lines, then `---`. The keys read
  are policy_id, title, version and effective_date (YYYY-MM-DD); others are ignored; a value may be
  quoted ("1.0"). Blank lines and `#` comments are allowed inside.
- The first `#` heading is the policy's title. `##` and `###` headings open sections (level 2 and
  3); `####` and deeper are not sections: they stay in the body of the section around them, so a
  short sub-point is read with its context. Headings inside fenced code blocks (``` or ~~~) are
  text. Setext headings (a line underlined with === or ---) are not recognised.
- A section's text is its own body: the lines between its heading and the next heading, trimmed.
  A section whose own body is empty (a parent heading directly followed by its subsections) yields
  no passage. Its heading still appears in the path of its subsections: `Section.path` is the
  chain of headings from the policy title down to the section, which retrieval reads as context.
  Text between the title and the first section (a preamble) is a passage of level 1 under the
  title; a later `#` heading is a level-1 section.
- Without front matter (a user's upload) the title is the first `#` heading and the policy id is
  derived from the title as a slug ("Settlement Fails" is "settlement-fails"). Values given to
  `parse_policy` (the ingest request's own fields) win over the front matter, which wins over what
  is derived from the text.
- Passage ids are "<policy_id>#<slug of the heading>", unique within the policy (a repeated
  heading gets "-2", "-3"), and stable from one version of a policy to the next while the heading
  is unchanged.

Every failure is a ValueError whose message says what is wrong and what to do about it: content
that is not UTF-8, an empty document, no headings, no title, no section with text, a front matter
that is not closed or has a line that is not `key: value`, a date that is not YYYY-MM-DD, an id
that cannot be derived from the title.

PDF (`sections_from_pdf_text`): a PDF's text, page by page as an extractor returns it, has lost the
Markdown marks, so headings are recognised by how their lines look (see that function).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# Markdown headings that open a section; deeper headings stay in the body of their section.
SECTION_LEVELS = (2, 3)


@dataclass(frozen=True, slots=True)
class Section:
    """One passage: a section's own text under its heading."""

    passage_id: str
    # The heading exactly as written (without the Markdown marks or the PDF numbering).
    heading: str
    # 1 for a preamble under the title (or a later `#` heading), 2 for `##`, 3 for `###`.
    level: int
    # The section's own body, trimmed; never empty.
    text: str
    # Headings from the policy title down to this section's heading, inclusive.
    path: tuple[str, ...]

    @property
    def context(self) -> str:
        """The heading path as one line, e.g. "Pricing > Stale Price Identification > Stale FX Rates"."""
        return " > ".join(self.path)


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    policy_id: str
    title: str
    # "" when neither the front matter nor the caller gives one.
    version: str
    effective_date: date | None
    sections: tuple[Section, ...]


# ---------------------------------------------------------------- shared helpers


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by '-': "Buy-Ins and Cash Settlement" is "buy-ins-and-cash-settlement"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


_POLICY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def policy_id_problem(policy_id: str) -> str:
    """Why `policy_id` cannot be a policy's id, "" when it can. An id is a word of letters, digits,
    '.', '_' and '-' that starts with a letter or digit, so no id is a path ('..', '/etc/passwd',
    'a/b', 'a\\b'), holds a NUL or a control character, or starts with a dot."""
    if _POLICY_ID.fullmatch(policy_id):
        return ""
    return (
        f"policy id {policy_id!r} is not usable: use letters, digits, '.', '_' and '-' only "
        "(for example 'settlement-fails'), or leave it out to derive it from the title"
    )


def _checked_policy_id(policy_id: str) -> str:
    problem = policy_id_problem(policy_id)
    if problem:
        raise ValueError(problem)
    return policy_id


def _derived_policy_id(title: str) -> str:
    slug = slugify(title)
    if not slug:
        raise ValueError(
            f"cannot derive a policy id from the title {title!r} (it has no letters or digits in "
            "A-Z, 0-9): give a policy_id in the front matter or with the upload"
        )
    return slug


@dataclass(frozen=True, slots=True)
class _Block:
    """A heading and the body lines up to the next heading, before the tree is resolved."""

    level: int
    heading: str
    lines: tuple[str, ...]


def _sections(blocks: Sequence[_Block], policy_id: str, title: str) -> tuple[Section, ...]:
    """Sections with their heading paths; headings with no text of their own yield none."""
    stack: list[tuple[int, str]] = []
    used: dict[str, int] = {}
    sections: list[Section] = []
    for block in blocks:
        while stack and stack[-1][0] >= block.level:
            stack.pop()
        stack.append((block.level, block.heading))
        text = "\n".join(block.lines).strip()
        if not text:
            continue
        path = tuple(heading for _, heading in stack)
        if path[0] != title:
            path = (title, *path)
        slug = slugify(block.heading) or "section"
        used[slug] = used.get(slug, 0) + 1
        if used[slug] > 1:
            slug = f"{slug}-{used[slug]}"
        sections.append(Section(f"{policy_id}#{slug}", block.heading, block.level, text, path))
    return tuple(sections)


# ---------------------------------------------------------------- Markdown


def _decoded(content: bytes | str) -> str:
    if isinstance(content, str):
        text = content
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"the policy is not UTF-8 text (byte 0x{content[error.start]:02x} at offset "
                f"{error.start} cannot be decoded): save the file as UTF-8, or upload a PDF "
                "as application/pdf"
            ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise ValueError("the policy contains NUL bytes, so it is not a text file: upload Markdown or a PDF")
    return text


_FRONT_MATTER_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*(.*)")


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int]:
    """The front matter's keys and values, and the index of the first line after it."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise ValueError(
            "the front matter opened by '---' on line 1 is never closed: end it with a line '---' "
            "before the title, or remove the first line"
        )
    values: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], start=2):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _FRONT_MATTER_LINE.fullmatch(stripped)
        if match is None:
            raise ValueError(
                f"front matter line {number} ({stripped[:60]!r}) is not 'key: value': "
                "write it as, for example, 'version: \"1.2\"'"
            )
        value = match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[match.group(1).lower()] = value
    return values, end + 1


def _parsed_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"effective_date {value!r} is not a date: write it as YYYY-MM-DD (for example 2026-01-05)"
        ) from None


_ATX_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(```|~~~)")


def _markdown_blocks(lines: Sequence[str]) -> tuple[list[_Block], int]:
    """Blocks by `#`, `##` and `###` heading, and the number of headings of any level seen."""
    blocks: list[_Block] = []
    level, heading, body = 0, "", list[str]()
    headings = 0
    fence = ""
    for line in lines:
        fence_match = _FENCE.match(line)
        if fence_match is not None and (not fence or fence_match.group(1) == fence):
            fence = "" if fence else fence_match.group(1)
            body.append(line)
            continue
        match = None if fence else _ATX_HEADING.fullmatch(line)
        if match is not None and match.group(2):
            headings += 1
            marks = len(match.group(1))
            if marks == 1 or marks in SECTION_LEVELS:
                if level or any(text.strip() for text in body):
                    blocks.append(_Block(level, heading, tuple(body)))
                level, heading, body = marks, match.group(2).strip(), []
                continue
        body.append(line)
    if level or any(text.strip() for text in body):
        blocks.append(_Block(level, heading, tuple(body)))
    return blocks, headings


def parse_policy(
    content: bytes | str,
    *,
    policy_id: str = "",
    title: str = "",
    version: str = "",
    effective_date: date | None = None,
) -> PolicyDocument:
    """A Markdown policy as passages; the keyword values, when given, win over the front matter."""
    text = _decoded(content)
    if not text.strip():
        raise ValueError(
            "the policy is empty: upload a Markdown document with a '# Title' and '## Section' headings"
        )
    lines = text.split("\n")
    meta, start = _front_matter(lines)
    blocks, headings = _markdown_blocks(lines[start:])
    if headings == 0:
        raise ValueError(
            "the policy has no Markdown headings: start it with a '# Title' line and begin each "
            "section with a '## Heading' line"
        )
    first_title = next((block.heading for block in blocks if block.level == 1), "")
    title = title or meta.get("title", "") or first_title
    if not title:
        raise ValueError(
            "the policy has no title: add a first heading '# Title', or a 'title:' in the front matter"
        )
    policy_id = _checked_policy_id(policy_id or meta.get("policy_id", "") or _derived_policy_id(title))
    version = version or meta.get("version", "")
    if effective_date is None and meta.get("effective_date"):
        effective_date = _parsed_date(meta["effective_date"])
    # The title heading's own text (a preamble) is a level-1 passage; text before any heading too.
    blocks = [
        _Block(1, title, block.lines)
        if block.level == 0 or (block.level == 1 and block.heading == first_title)
        else block
        for block in blocks
    ]
    sections = _sections(blocks, policy_id, title)
    if not sections:
        raise ValueError(
            "the policy has headings but no text under any of them: write each section's text "
            "below its '## Heading' line"
        )
    return PolicyDocument(policy_id, title, version, effective_date, sections)


# ---------------------------------------------------------------- PDF text

_NUMBERED_HEADING = re.compile(r"(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.*)")
_PAGE_NUMBER = re.compile(r"(?i)(page\s+)?\d{1,4}(\s*(/|of)\s*\d{1,4})?|[-–—]\s*\d{1,4}\s*[-–—]")
_SENTENCE_ENDS = (".", ":", ";", "!", "?")
_BULLET = re.compile(r"[•▪◦·*\-–—]\s+\S")
# Words a Title Case heading leaves in lower case.
_MINOR_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "in",
        "into",
        "nor",
        "of",
        "on",
        "or",
        "per",
        "the",
        "to",
        "vs",
        "via",
        "with",
    ]
)
HEADING_MAX_CHARS = 80
HEADING_MAX_WORDS = 12


def _looks_like_title_case(line: str) -> bool:
    """Every word starts with a capital, a digit or a symbol, except the minor words."""
    words = line.split()
    if not words[0][0].isupper():
        return False
    has_letters = False
    for word in words:
        core = word.strip("()[]\"'“”‘’,&/")
        if not core:
            continue
        if any(ch.isalpha() for ch in core):
            has_letters = True
        if core[0].islower() and core.lower() not in _MINOR_WORDS:
            return False
    return has_letters


def _heading_shape(line: str) -> tuple[int, str] | None:
    """(level, heading) when a line is shaped like a heading; the context is checked by the caller.

    Numbered ("3 Scope", "3.2 Buy-Ins") gives level 2 for one number and 3 for two or more; an
    unnumbered Title Case line gives level 2.
    """
    if len(line) > HEADING_MAX_CHARS or (not line[-1].isalnum() and line[-1] != ")"):
        return None
    numbered = _NUMBERED_HEADING.fullmatch(line)
    if numbered is not None:
        rest = numbered.group(2)
        if rest[0].isupper() and len(rest.split()) <= HEADING_MAX_WORDS:
            return min(2 + numbered.group(1).count("."), 3), rest
        return None
    if len(line.split()) <= HEADING_MAX_WORDS and _looks_like_title_case(line):
        return 2, line
    return None


def _page_lines(pages: Sequence[str]) -> tuple[list[str], list[str]]:
    """The pages' non-empty lines without page numbers and running headers or footers, and the
    running headers (first lines) that were removed, in order.

    A running header or footer is a line that is the first or the last of at least two pages and
    of at least half of them.
    """
    per_page = [[line.strip() for line in page.splitlines() if line.strip()] for page in pages]
    edges: dict[str, int] = {}
    for lines in per_page:
        for line in {lines[0], lines[-1]} if lines else set[str]():
            edges[line] = edges.get(line, 0) + 1
    running = {line for line, count in edges.items() if count >= 2 and count * 2 >= len(per_page)}
    kept = [
        line
        for lines in per_page
        for line in lines
        if line not in running and not _PAGE_NUMBER.fullmatch(line)
    ]
    headers = [lines[0] for lines in per_page if lines and lines[0] in running]
    return kept, list(dict.fromkeys(headers))


def _joined(lines: Sequence[str]) -> list[str]:
    """Body lines as the PDF wrapped them, rejoined: one line per paragraph or bullet.

    A line that ends a sentence (. : ; ! ?) closes its paragraph, a bullet opens a new one, and a
    word broken by a hyphen at the end of a line is mended ("settle-" + "ment").
    """
    out: list[str] = []
    open_paragraph = False
    for line in lines:
        if open_paragraph and out and not _BULLET.match(line):
            if out[-1].endswith("-") and line[:1].islower():
                out[-1] = out[-1][:-1] + line
            else:
                out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
        open_paragraph = not line.endswith(_SENTENCE_ENDS)
    return out


def sections_from_pdf_text(pages: Sequence[str], *, policy_id: str = "pdf") -> tuple[Section, ...]:
    """Passages from the text of a PDF, one string per page (as pypdf's extract_text gives).

    The heuristic, in order:

    1. Page furniture goes: lines that are only a page number ("3", "Page 3 of 7", "- 3 -") and
       running headers and footers (the same line first or last on at least two pages and on at
       least half of them).
    2. A line is shaped like a heading when it is at most 80 characters and 12 words, ends in a
       letter, a digit or ')' (not in '.', ':' or ','), and either is numbered ("2 Scope",
       "4.1 Buy-Ins": the number is dropped from the heading; one number is level 2, two or more
       level 3) and the rest starts with a capital, or is in Title Case (every word capitalised
       but for and, of, the, in, for ...; ALL CAPS counts).
    3. Such a line is a heading only where a heading can start and where body text follows: the
       line before it (if any) ends a sentence (. : ; ! ?) or is itself a heading, so a wrapped
       line in the middle of a paragraph is never one; and the line after it is not the end of
       the document. A run of heading-shaped lines is a chain of headings (a parent without text
       of its own followed by its first subsection).
    4. The first line of the document, when shaped like a heading and not numbered, is the
       document's title (level 1); without one, a running header shaped like a heading is (the
       title repeated on each page), else the first heading. Body text before any heading is a
       preamble under the title.
    5. Body lines are rejoined into paragraphs: a line not ending a sentence continues on the
       next one, unless that one is a bullet; a hyphen broken at the end of a line is mended.

    Unnumbered headings are all level 2: text alone cannot tell a subsection from a section, so a
    Title Case parent without text of its own is dropped (as in Markdown) and its subsections'
    paths lack it; numbered headings keep their nesting. It misses headings that end with a full
    stop or a colon, sentence-case headings ("Scope of
    this policy") unless numbered, and headings longer than 12 words; it can take a short Title
    Case line that stands alone after a sentence (a signature, a table caption) for a heading.
    Raises ValueError when there is no text or no heading.
    """
    lines, running_headers = _page_lines(pages)
    if not lines:
        raise ValueError(
            "the PDF has no extractable text (a scanned image?): upload a PDF with a text layer or the Markdown source"
        )
    blocks: list[_Block] = []
    level, heading, body = 0, "", list[str]()
    title = ""
    previous_was_heading = False
    for index, line in enumerate(lines):
        shape = _heading_shape(line)
        can_start = index == 0 or previous_was_heading or lines[index - 1].endswith(_SENTENCE_ENDS)
        if shape is not None and can_start and index + 1 < len(lines):
            if level or body:
                blocks.append(_Block(level, heading, tuple(_joined(body))))
            level, heading = shape
            if index == 0 and _NUMBERED_HEADING.fullmatch(line) is None:
                level, title = 1, heading
            body = []
            previous_was_heading = True
            continue
        body.append(line)
        previous_was_heading = False
    if level or body:
        blocks.append(_Block(level, heading, tuple(_joined(body))))
    if not any(block.level >= 1 for block in blocks):
        raise ValueError(
            "no headings were recognised in the PDF's text: number the section headings (1, 1.1) "
            "or put each on its own line in Title Case, or upload the Markdown source"
        )
    if not title:
        # No title line of its own: a running header shaped like a heading (often the title
        # repeated on every page), else the first heading.
        shaped = [header for header in running_headers if _heading_shape(header) is not None]
        title = shaped[0] if shaped else next(block.heading for block in blocks if block.level >= 1)
    blocks = [_Block(1, title, block.lines) if block.level == 0 else block for block in blocks]
    return _sections(blocks, _checked_policy_id(policy_id), title)


def policy_from_pdf_text(
    pages: Sequence[str],
    *,
    policy_id: str = "",
    title: str = "",
    version: str = "",
    effective_date: date | None = None,
) -> PolicyDocument:
    """A PDF policy's passages as a PolicyDocument; the title defaults to the first line's heading."""
    probe = sections_from_pdf_text(pages)
    title = title or probe[0].path[0]
    policy_id = _checked_policy_id(policy_id or _derived_policy_id(title))
    sections = sections_from_pdf_text(pages, policy_id=policy_id)
    if title != sections[0].path[0]:
        sections = tuple(
            Section(s.passage_id, s.heading, s.level, s.text, (title, *s.path[1:])) for s in sections
        )
    return PolicyDocument(policy_id, title, version, effective_date, sections)
