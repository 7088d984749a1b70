"""opsuite simulate: the event stream as JSON lines, without a server."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TextIO

from rich.console import Console
from rich.progress import Progress

from services.common.settings import load_settings
from services.market import codec
from services.market.fred import load_macro
from services.market.settings import MarketSettings
from services.market.sim.engine import SimConfig, Simulation


def simulate(args: argparse.Namespace) -> int:
    settings = load_settings(MarketSettings)
    seed = settings.seed if args.seed is None else args.seed
    start = args.start or settings.start
    days = 20 if args.days is None else args.days
    fault_rate = settings.fault_rate if args.fault_rate is None else args.fault_rate
    if days <= 0:
        print("opsuite simulate: --days must be positive", file=sys.stderr)
        return 2
    try:
        macro = load_macro(start, api_key=settings.fred_api_key or None)
        sim = Simulation(SimConfig(seed=seed, start=start, days=days, fault_rate=fault_rate), macro)
    except ValueError as error:
        print(f"opsuite simulate: {error}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        out: TextIO = (
            stack.enter_context(open(args.out, "w", encoding="utf-8", newline="\n"))
            if args.out
            else sys.stdout
        )
        progress = stack.enter_context(
            Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())
        )
        task = progress.add_task("simulating", total=days)
        written = 0
        while (day := sim.step()) is not None:
            for event in day.events:
                out.write(codec.event_to_json(codec.event_to_proto(event)))
                out.write("\n")
            written += len(day.events)
            progress.update(task, advance=1, description=f"simulating {day.date}")
    print(
        f"wrote {written} events for {sim.days_elapsed} business days (seed {seed}, from {start})",
        file=sys.stderr,
    )
    return 0
