"""Printing tables whose id columns never wrap, at any terminal width.

rich shrinks a table to the console, and a no_wrap column that does not fit gets cut with an
ellipsis: an id a person copies must never be cut. So the console is made at least as wide as
the table's narrowest rendering (the ids whole, the free-text columns folded), and output that is
not a terminal (a pipe, a file, a test) gets a generous width so descriptions stay on one line.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.table import Table

PIPE_WIDTH = 200  # a pipe has no width of its own; wide enough for a break's row on one line
UNBOUNDED = 10_000


def print_tables(*renderables: RenderableType) -> None:
    probe = Console()
    width = probe.width if probe.is_terminal else max(probe.width, PIPE_WIDTH)
    unbounded = probe.options.update_width(UNBOUNDED)  # else the minimum is capped at the console's width
    for renderable in renderables:
        if isinstance(renderable, Table):
            width = max(width, probe.measure(renderable, options=unbounded).minimum)
    console = Console(width=width)
    for renderable in renderables:
        console.print(renderable)
