"""How every opsuite command prints: tables for people, JSON for scripts, numbers a person can read.

Every command that prints a table takes `-o json` (add_output_argument) and then prints the same
rows with print_json instead. Numbers in tables carry thousands separators and are right-aligned
(`grouped`, `numeric_column`), so a column of amounts lines up by its units. Ids are never cut
(`print_tables`): rich shrinks a table to the console, and a no_wrap column that does not fit gets
an ellipsis, but an id a person copies must stay whole. So the console is made at least as wide as
the table's narrowest rendering (ids whole, free text folded), and output that is not a terminal (a
pipe, a file, a test) gets a generous width so descriptions stay on one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console, RenderableType
from rich.table import Table

from services.common.text import grouped

__all__ = [
    "OUTPUT_FORMATS",
    "add_output_argument",
    "grouped",
    "numeric_column",
    "print_json",
    "print_tables",
]

OUTPUT_FORMATS = ("table", "json")
PIPE_WIDTH = 200  # a pipe has no width of its own; wide enough for a break's row on one line
UNBOUNDED = 10_000


def add_output_argument(parser: argparse.ArgumentParser, *, inherited: bool = False) -> None:
    """`inherited`: a subcommand's, which keeps what its parent command was given (`opsuite dq -o json
    issues`) unless given again; argparse would otherwise reset it to the subcommand's default."""
    parser.add_argument(
        "-o",
        "--output",
        choices=OUTPUT_FORMATS,
        default=argparse.SUPPRESS if inherited else "table",
        help="table for people (default) or json for scripts",
    )


def print_json(payload: Any) -> None:
    """One JSON document on stdout; decimals stay strings so no amount loses a cent."""
    json.dump(payload, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def numeric_column(table: Table, header: str, **options: Any) -> None:
    """A right-aligned column that never wraps a number across lines."""
    table.add_column(header, justify="right", no_wrap=True, **options)


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
