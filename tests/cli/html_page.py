"""Read an HTML page the way the tests of `opsuite report --html` need it, with the standard library.

`read_page` parses the page with html.parser and fails on a closing tag that closes nothing open, or an
element left open at the end (so "it parses" means the tags balance, inline SVG included). It keeps every
attribute that can load something (src, href, xlink:href, ...), every id, the text of the whole page, and,
per <figure>, its caption, whether it holds an <svg>, its text and its SVG's text apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
LOADING = {"src", "href", "xlink:href", "srcset", "data", "poster", "action", "background"}


@dataclass
class Figure:
    ident: str
    caption: str = ""
    svgs: int = 0
    text: list[str] = field(default_factory=list)
    svg_text: list[str] = field(default_factory=list)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    @property
    def chart_text(self) -> str:
        """The text drawn in the chart itself (axes, legend, labels), without caption or note."""
        return " ".join(" ".join(self.svg_text).split())


@dataclass
class Page:
    tags: list[str] = field(default_factory=list)
    references: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, value)
    ids: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    figures: dict[str, Figure] = field(default_factory=dict)
    title: str = ""

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    def external_references(self) -> list[tuple[str, str, str]]:
        """Attributes that would fetch something from elsewhere: anything but a #fragment or data:."""
        return [r for r in self.references if not r[2].startswith(("#", "data:"))]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.open: list[str] = []
        self.figure: Figure | None = None
        self.in_caption = False
        self.in_title = False

    def _start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append(tag)
        values = {name: value or "" for name, value in attrs}
        self.page.references += [(tag, name, value) for name, value in values.items() if name in LOADING]
        if "id" in values:
            self.page.ids.append(values["id"])
        if tag == "figure":
            self.figure = self.page.figures.setdefault(values.get("id", ""), Figure(values.get("id", "")))
        elif tag == "figcaption":
            self.in_caption = True
        elif tag == "title" and "head" in self.open:  # the page's, not an SVG's
            self.in_title = True
        elif tag == "svg" and self.figure is not None:
            self.figure.svgs += 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs)
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:] or 'nothing'}"
        self.open.pop()
        if tag == "figure":
            self.figure = None
        elif tag == "figcaption":
            self.in_caption = False
        elif tag == "title":
            self.in_title = False

    def handle_data(self, data: str) -> None:
        self.page.text.append(data)
        if self.in_title:
            self.page.title += data
        if self.figure is not None:
            self.figure.text.append(data)
            if "svg" in self.open:
                self.figure.svg_text.append(data)
            if self.in_caption:
                self.figure.caption += data


def read_page(text: str) -> Page:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    assert not reader.open, f"left open at the end: {reader.open}"
    return reader.page


def urls_outside_namespaces(text: str) -> list[str]:
    """Every http(s) address in the page except the xmlns declarations of inline SVG (names, not links)."""
    without_namespaces = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", text)
    return re.findall(r"(?:https?:)?//[\w.-]+\.\w+[^\s\"'<>)]*", without_namespaces)
