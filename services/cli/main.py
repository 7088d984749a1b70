"""The opsuite command: up, status, simulate, ledger export, trace."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2020-01-02") from error


def _speed(text: str) -> str:
    if text == "max":
        return text
    try:
        if float(text) > 0:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r}: give business days per second (a positive number) or 'max'")


def _add_world_arguments(parser: argparse.ArgumentParser, *, days_help: str) -> None:
    parser.add_argument("--seed", type=int, help="simulation seed (OPSUITE_SEED, default 7)")
    parser.add_argument(
        "--start", type=_date, help="first simulated business day (OPSUITE_START, default 2020-01-02)"
    )
    parser.add_argument("--days", type=int, help=days_help)
    parser.add_argument(
        "--fault-rate", type=float, help="multiplier on seeded fault rates, 0 disables (OPSUITE_FAULT_RATE)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opsuite", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start every service on loopback and show a live view")
    _add_world_arguments(up, days_help="business days to simulate, 0 = until the data ends (OPSUITE_DAYS)")
    up.add_argument(
        "--speed", type=_speed, help="business days per second, or 'max' (OPSUITE_SPEED, default 1)"
    )
    up.add_argument("--data-dir", help="where every service writes its files (OPSUITE_DATA_DIR)")
    up.add_argument("--fresh", action="store_true", help="delete the data directory's event log first")
    up.add_argument(
        "--no-view", action="store_true", help="print plain progress lines instead of the live view"
    )
    up.add_argument(
        "--for-seconds", type=float, help="stop everything after this many seconds (demos, smoke tests)"
    )

    status = commands.add_parser("status", help="print the health of every service")
    status.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for each service")

    simulate = commands.add_parser("simulate", help="write the event stream as JSON lines, without a server")
    _add_world_arguments(simulate, days_help="business days to simulate (default 20)")
    simulate.add_argument("--out", help="output file (default: standard output)")

    trace = commands.add_parser(
        "trace", help="follow one break, event or trace from the market tick to the ledger"
    )
    trace.add_argument(
        "id", help="a break id (BRK-...), an event id (mkt-42, rec-..., ldg-...) or a 32-hex trace id"
    )

    ledger = commands.add_parser("ledger", help="the book of record, read from its store")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    export = ledger_commands.add_parser("export", help="write the ledger as a file bean-check accepts")
    export.add_argument("--format", required=True, choices=("beancount",), help="the file format")
    export.add_argument(
        "--mandate", action="append", help="export only this mandate (repeatable; default every mandate)"
    )
    export.add_argument(
        "--as-of", type=_date, help="journals dated up to this day (default: everything posted)"
    )
    export.add_argument("--out", help="output file (default: standard output)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "up":
        from services.cli.up import up

        return up(args)
    if args.command == "status":
        from services.cli.status import status

        return status(args)
    if args.command == "simulate":
        from services.cli.simulate import simulate

        return simulate(args)
    if args.command == "trace":
        from services.cli.trace import trace

        return trace(args)
    if args.command == "ledger":
        from services.cli.ledger import export

        return export(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
