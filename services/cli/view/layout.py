"""How the live view's panels share the console: every panel stays on screen, with fewer rows if need be.

The screen is composed for the console's size on every refresh (so a resize applies at
once): borders only when there is room for them, prices beside fills, ledger beside recon on
a wide console, then dq and reporting; then rows are taken away, least needed first, until the
whole fits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table

from services.cli.view import panels
from services.cli.view.model import ViewState

BOXED_MIN_HEIGHT = 40  # below this, borders would cost rows that figures need
BOXED_MIN_WIDTH = 100
PAIRED_MIN_WIDTH = 150  # ledger and recon side by side


@dataclass(frozen=True)
class Budget:
    """Rows each panel may show."""

    market: int  # prices and fills, side by side; 0: their titles, one line
    ledger: int
    recon: int
    escalations: int
    reporting: int  # 0: one line saying how many mandates it values
    dq: int  # values held back; 0: one line of dq's counts
    services: int


# Which panel gives up a row first, and down to how many: the market's last ticks matter least,
# the services' states most (a crashed service must stay visible). Reporting's NAVs go to one line
# before the ledger loses a row: cash, suspense and an unbalanced book are what an operator acts on,
# and `opsuite report` gives a mandate's NAV in full. dq's held-back values keep a row longer than
# reporting's NAVs (a value held back changes what the NAVs are made of) and go to one line, whose
# counts stay, before the ledger loses one; `opsuite dq quarantine` lists them in full. Before that,
# the market's last tick goes (its panels to one line each): at 80×24 the line dq's counts take
# would otherwise be a mandate's cash.
SHRINK_ORDER = (
    ("escalations", 0),
    ("market", 3),
    ("recon", 3),
    ("reporting", 3),
    ("dq", 3),
    ("market", 1),
    ("recon", 1),
    ("reporting", 1),
    ("reporting", 0),
    ("dq", 1),
    ("market", 0),
    ("dq", 0),
    ("ledger", 3),
    ("ledger", 1),
    ("services", 1),
)


def wanted(state: ViewState) -> Budget:
    return Budget(
        market=max(len(state.prices), len(state.fills), 1),
        ledger=len(state.cash or ()),
        recon=max(len(state.recon.kinds) if state.recon else 0, 1),
        escalations=len(state.recon.escalations) if state.recon else 0,
        reporting=len(state.reporting.rows) if state.reporting else 0,
        dq=len(state.dq.rows) if state.dq else 0,
        services=len(state.services),
    )


def shrink(budget: Budget) -> Budget | None:
    """The budget with one row less, taken where SHRINK_ORDER says; None when nothing is left to take."""
    for name, floor in SHRINK_ORDER:
        if getattr(budget, name) > floor:
            return replace(budget, **{name: getattr(budget, name) - 1})
    return None


def _side_by_side(left: RenderableType, right: RenderableType) -> Table:
    grid = Table.grid(expand=True, padding=(0, 2))
    grid.add_column(ratio=1)
    grid.add_column(ratio=1)
    grid.add_row(left, right)
    return grid


def compose(state: ViewState, budget: Budget, *, compact: bool, paired: bool) -> Group:
    parts: list[RenderableType] = [panels.header(state.clock, state.events_per_second, state.done, compact)]
    parts.append(
        _side_by_side(
            panels.prices_panel(state.prices, budget.market, compact),
            panels.fills_panel(state.fills, state.fill_count, budget.market, compact),
        )
    )
    books: list[RenderableType] = []
    if state.cash is not None:
        books.append(panels.ledger_panel(state.cash, budget.ledger, compact))
    if state.recon is not None:
        recon: RenderableType = panels.recon_panel(state.recon, budget.recon, compact)
        if budget.escalations:
            recon = Group(recon, panels.escalations_panel(state.recon, budget.escalations, compact))
        books.append(recon)
    if paired and len(books) == 2:
        parts.append(_side_by_side(*books))
    else:
        parts.extend(books)
    if state.dq is not None:
        parts.append(panels.dq_panel(state.dq, budget.dq, compact))
    if state.reporting is not None:
        parts.append(panels.reporting_panel(state.reporting, budget.reporting, compact))
    parts.append(
        panels.services_panel(state.services, state.not_built, state.supervised, budget.services, compact)
    )
    return Group(*parts)


def fit(state: ViewState, console: Console, options: ConsoleOptions, height: int) -> Group:
    """The fullest screen whose height is at most `height` (the smallest one if none is)."""
    width = options.max_width
    compact = height < BOXED_MIN_HEIGHT or width < BOXED_MIN_WIDTH
    paired = width >= PAIRED_MIN_WIDTH
    measuring = options.update(width=width, height=None)
    budget = wanted(state)
    while True:
        screen = compose(state, budget, compact=compact, paired=paired)
        smaller = shrink(budget)
        if smaller is None or len(console.render_lines(screen, measuring, pad=False)) <= height:
            return screen
        budget = smaller


class Screen:
    """One frame of the view, laid out when rich renders it, for the console's size at that moment."""

    def __init__(self, state: ViewState):
        self.state = state

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # One line short of the terminal: a frame of the full height would scroll by its last newline.
        yield fit(self.state, console, options, max(options.size.height - 1, 1))
