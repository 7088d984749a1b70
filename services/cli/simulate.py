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
from services.market.fred import load_series
from services.market.run_plan import plan_for_series
from services.market.settings import MarketSettings
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.macro import build_history
from services.market.sim.macro.extension import extend


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
        # Loaded once for both the plan and the history: with a FRED key that is one fetch.
        series = load_series(settings.fred_api_key or None, root_url=settings.fred_url or None)
        plan = plan_for_series(series, start, days)
        macro = build_history(series, plan.start)
        sim = Simulation(
            SimConfig(seed=seed, start=plan.start, days=plan.days, fault_rate=fault_rate),
            macro,
            extension=lambda: extend(series, seed),  # the days past the real data, as market's
        )
    except ValueError as error:
        print(f"opsuite simulate: {error}", file=sys.stderr)
        return 2
    for note in plan.notes:
        print(f"opsuite simulate: {note}", file=sys.stderr)
    with contextlib.ExitStack() as stack:
        out: TextIO = (
            stack.enter_context(open(args.out, "w", encoding="utf-8", newline="\n"))
            if args.out
            else sys.stdout
        )
        progress = stack.enter_context(
            Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())
        )
        task = progress.add_task("simulating", total=plan.days)
        written = 0
        while (day := sim.step()) is not None:
            for event in day.events:
                out.write(codec.event_to_json(codec.event_to_proto(event)))
                out.write("\n")
            written += len(day.events)
            progress.update(task, advance=1, description=f"simulating {day.date}")
    print(
        f"wrote {written} events for {sim.days_elapsed} business days (seed {seed}, from {plan.start})",
        file=sys.stderr,
    )
    return 0
