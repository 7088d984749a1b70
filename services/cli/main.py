"""opsuite: an investment operations back office (market, ledger, recon, reporting, dq, documents) on one
live simulation."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

from services.cli.output import add_output_argument
from services.cli.settings import check_environment
from services.common.settings import SettingsError


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


def _business_days(text: str) -> int:
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of business days, like 3")


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if value.is_finite() and value >= 0:
        return value
    raise argparse.ArgumentTypeError(f"{text!r}: give an amount of 0 or more, like 5000 or 1250.50")


def _limit(text: str) -> int:
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r}: give how many to show, a whole number like 50")


def _add_world_arguments(parser: argparse.ArgumentParser, *, days_help: str) -> None:
    parser.add_argument("--seed", type=int, help="simulation seed (OPSUITE_SEED, default 7)")
    parser.add_argument(
        "--start", type=_date, help="first simulated business day (OPSUITE_START, default 2007-10-01)"
    )
    parser.add_argument("--days", type=int, help=days_help)
    parser.add_argument(
        "--fault-rate", type=float, help="multiplier on seeded fault rates, 0 disables (OPSUITE_FAULT_RATE)"
    )


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, *examples: str
) -> argparse.ArgumentParser:
    """A command whose help opens with its one-line summary and ends with examples to copy."""
    return commands.add_parser(
        name,
        help=summary,
        description=summary,
        epilog="examples:\n" + "\n".join(f"  {example}" for example in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_break_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mandate", help="only this mandate, for example BAL-USD")
    parser.add_argument(
        "--kind",
        action="append",
        help="only this kind, for example quantity_mismatch or cash-mismatch (repeatable, or comma-separated)",
    )
    parser.add_argument(
        "--status",
        action="append",
        help="open, investigating, resolved, written_off or all (repeatable; default: open and investigating)",
    )
    parser.add_argument(
        "--min-age", type=_business_days, help="only breaks at least this many business days old"
    )
    parser.add_argument(
        "--min-amount",
        type=_amount,
        help="only breaks whose difference is at least this much (absolute, in the mandate's base currency)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsuite",
        description=__doc__,
        epilog="examples:\n  opsuite up --speed max --days 40\n  opsuite breaks\n  opsuite trace BRK-...",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"opsuite {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    up = _command(
        commands,
        "up",
        "start every service on loopback and show a live view",
        "opsuite up --speed 2 --seed 7 --start 2020-01-02",
        "opsuite up --speed max --days 250 --fresh --yes",
    )
    _add_world_arguments(
        up,
        days_help="business days to simulate; 0 = no end (at --speed max: the end of the real data) (OPSUITE_DAYS)",
    )
    up.add_argument(
        "--speed", type=_speed, help="business days per second, or 'max' (OPSUITE_SPEED, default 1)"
    )
    up.add_argument("--data-dir", help="where every service writes its files (OPSUITE_DATA_DIR)")
    up.add_argument("--fresh", action="store_true", help="delete the data directory's event log first")
    up.add_argument("--yes", action="store_true", help="answer yes to --fresh's confirmation, for scripts")
    up.add_argument(
        "--no-view", action="store_true", help="print plain progress lines instead of the live view"
    )
    up.add_argument(
        "--for-seconds", type=float, help="stop everything after this many seconds (demos, smoke tests)"
    )

    view = _command(
        commands,
        "view",
        "the live view of a suite already running",
        "opsuite view",
        "opsuite view --plain",
    )
    view.add_argument(
        "--plain", action="store_true", help="print plain progress lines instead of the live view"
    )

    status = _command(
        commands,
        "status",
        "print the health of every service",
        "opsuite status",
        "opsuite status -o json --timeout 5",
    )
    status.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for each service")
    add_output_argument(status)

    simulate = _command(
        commands,
        "simulate",
        "write the event stream as JSON lines, without a server",
        "opsuite simulate --seed 7 --start 2008-09-01 --days 60 --out 2008.jsonl",
    )
    _add_world_arguments(simulate, days_help="business days to simulate (default 20)")
    simulate.add_argument("--out", help="output file (default: standard output)")

    breaks = _command(
        commands,
        "breaks",
        "list recon's breaks, oldest first, then the largest amount",
        "opsuite breaks",
        "opsuite breaks --mandate BAL-USD --kind cash_mismatch --min-age 3",
        "opsuite breaks --status all --min-amount 10000 -o json",
    )
    _add_break_filters(breaks)
    add_output_argument(breaks)

    one_break = _command(
        commands,
        "break",
        "one break: its figures, its parent and children, the events it is about, its history",
        "opsuite break BRK-151c8ec8900aedee3119",
    )
    one_break.add_argument("id", help="the break's id (BRK-...), as `opsuite breaks` prints it")
    add_output_argument(one_break)

    recon = _command(
        commands,
        "recon",
        "where reconciliation stands per mandate: open breaks by kind and age, escalations, suspense",
        "opsuite recon",
        "opsuite recon --mandate BAL-USD -o json",
    )
    recon.add_argument("--mandate", help="only this mandate, for example BAL-USD")
    add_output_argument(recon)

    report = _command(
        commands,
        "report",
        "one mandate's NAV beside the ledger's, its performance and largest holdings (reporting's GetReport)",
        "opsuite report BAL-USD",
        "opsuite report FI-USD --as-of 2020-03-02 -o json",
        "opsuite report BAL-USD --html bal-usd.html --attribution-period MTD",
    )
    report.add_argument("mandate", help="the mandate's id, for example BAL-USD")
    report.add_argument("--as-of", type=_date, help="a day end, YYYY-MM-DD (default: the latest valued)")
    add_output_argument(report)
    report.add_argument(
        "--html",
        metavar="FILE",
        help="write one self-contained HTML page (figures, performance, charts) to FILE instead of the tables",
    )
    report.add_argument(
        "--attribution-period",
        type=str.upper,
        choices=("1D", "MTD", "QTD", "YTD", "1Y", "SI"),
        help="the period whose attribution --html's page charts (default SI, since inception)",
    )

    _add_dq(commands)
    _add_documents(commands)

    trace = _command(
        commands,
        "trace",
        "follow one break, event, trade or trace from the market tick to the ledger journal",
        "opsuite trace BRK-151c8ec8900aedee3119",
        "opsuite trace FIL-0000002",
        "opsuite trace mkt-137",
    )
    trace.add_argument(
        "id",
        help="a break (BRK-...), an event (mkt-42, rec-..., ldg-...), a 32-hex trace id, a fill (FIL-...), "
        "a fault (FLT-...), a custodian reference (CUS-...), a confirmation (CNF-...), a cash flow "
        "(CF-...) or a journal id",
    )
    add_output_argument(trace)

    ledger = _command(
        commands,
        "ledger",
        "the book of record, read from its store",
        "opsuite ledger export --format beancount --mandate BAL-USD --out bal.beancount",
    )
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True, metavar="<command>")
    export = _command(
        ledger_commands,
        "export",
        "write the ledger as a file bean-check accepts",
        "opsuite ledger export --format beancount --mandate BAL-USD --out bal.beancount",
    )
    export.add_argument("--format", required=True, choices=("beancount",), help="the file format")
    export.add_argument(
        "--mandate", action="append", help="export only this mandate (repeatable; default every mandate)"
    )
    export.add_argument(
        "--as-of", type=_date, help="journals dated up to this day (default: everything posted)"
    )
    export.add_argument("--out", help="output file (default: standard output)")

    perf = _command(
        commands,
        "perf",
        "the performance calculators on your own files (no server needed)",
        "opsuite perf returns --input fund.csv",
        "opsuite perf attribution --input segments.csv --json",
    )
    perf_commands = perf.add_subparsers(dest="perf_command", required=True, metavar="<command>")
    returns = _command(
        perf_commands,
        "returns",
        "time-weighted, Modified Dietz and money-weighted returns of a CSV of values and flows",
        "opsuite perf returns --input fund.csv",
        "opsuite perf returns --input fund.csv --json",
    )
    _add_perf_io(
        returns,
        "a CSV with the header date,kind,amount: kind 'value' (market value that date, before its "
        "flows) or 'flow' (external flow, positive in)",
    )
    attribution = _command(
        perf_commands,
        "attribution",
        "Brinson attribution per segment and period, linked over the periods",
        "opsuite perf attribution --input segments.csv",
        "opsuite perf attribution --input segments.csv --method bhb --linking grap --json",
    )
    _add_perf_io(
        attribution,
        "a CSV with the header period,segment,portfolio_weight,portfolio_return,benchmark_weight,"
        "benchmark_return (fractions; one row per period and segment, periods in file order)",
    )
    attribution.add_argument(
        "--method",
        choices=("bf", "bhb"),
        default="bf",
        help="Brinson-Fachler (default) or Brinson-Hood-Beebower",
    )
    attribution.add_argument(
        "--linking",
        choices=("carino", "menchero", "grap"),
        default="carino",
        help="how periods are linked (default carino)",
    )
    attribution.add_argument(
        "--interaction",
        choices=("separate", "in-selection"),
        default="separate",
        help="keep the interaction effect apart (default) or fold it into selection",
    )
    return parser


def _add_documents(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    extract = _command(
        commands,
        "extract",
        "read a broker confirmation (PDF, text, SWIFT MT515, FIX 4.4) and match it to the book",
        "opsuite extract confirmation.pdf",
        "opsuite extract trade.fix --mandate BAL-USD -o json",
    )
    extract.add_argument("file", help="the confirmation's file")
    extract.add_argument(
        "--content-type",
        help="the document's type, for example application/pdf (default: from the file's suffix, "
        "else detected from the content)",
    )
    extract.add_argument("--mandate", help="consider only this mandate's fills when matching")
    add_output_argument(extract)
    ask = _command(
        commands,
        "ask",
        "ask the SOP assistant; the answer quotes the policy sections it rests on, or says they do not cover it",
        'opsuite ask "how long before a failed trade is escalated?"',
        "opsuite ask what happens when a price goes stale --policy pricing-and-stale-prices",
    )
    ask.add_argument("question", nargs="+", help="the question (quotes optional)")
    ask.add_argument(
        "--policy",
        action="append",
        help="search only this policy (its id; repeatable), for example settlement-fails",
    )
    add_output_argument(ask)


def _add_dq(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`opsuite dq` alone is where data quality stands; its subcommands read the rest of DqService."""
    dq = _command(
        commands,
        "dq",
        "where data quality stands: open issues by severity, quarantined values, each check's counts",
        "opsuite dq",
        "opsuite dq issues --min-severity warning --limit 20",
        "opsuite dq issue dq-12",
        "opsuite dq quarantine --as-of 2020-03-02 -o json",
    )
    add_output_argument(dq)
    # Not required: `opsuite dq` alone prints the status.
    dq_commands = dq.add_subparsers(dest="dq_command", metavar="<command>")
    checks = _command(
        dq_commands,
        "checks",
        "the checks dq runs, with their thresholds, and the file they come from",
        "opsuite dq checks",
        "opsuite dq checks -o json",
    )
    add_output_argument(checks, inherited=True)
    issues = _command(
        dq_commands,
        "issues",
        "dq's issues, newest first",
        "opsuite dq issues",
        "opsuite dq issues --status open --min-severity critical",
        "opsuite dq issues --kind price_spike --instrument US-MDVX --from 2020-02-03 --to 2020-02-28",
    )
    issues.add_argument(
        "--status",
        choices=("open", "acknowledged", "resolved"),
        help="only issues in this state (default: any; acknowledged ones are open and seen)",
    )
    issues.add_argument(
        "--kind",
        action="append",
        help="only this kind, for example price_spike or price-vendor-mismatch (repeatable, or comma-separated)",
    )
    issues.add_argument(
        "--min-severity",
        choices=("info", "warning", "critical"),
        help="only issues at least this severe",
    )
    subject = issues.add_mutually_exclusive_group()
    subject.add_argument(
        "--instrument", metavar="ID", help="only this instrument's issues, for example US-MDVX"
    )
    subject.add_argument(
        "--mandate", metavar="ID", help="only this mandate's (holdings) issues, for example BAL-USD"
    )
    issues.add_argument(
        "--from", dest="first", metavar="DATE", type=_date, help="value dates from this day, YYYY-MM-DD"
    )
    issues.add_argument(
        "--to", dest="last", metavar="DATE", type=_date, help="value dates up to this day, YYYY-MM-DD"
    )
    issues.add_argument(
        "--limit",
        metavar="N",
        type=_limit,
        default=50,
        help="show at most this many, the newest (default 50)",
    )
    add_output_argument(issues, inherited=True)
    one_issue = _command(
        dq_commands,
        "issue",
        "one issue in full: its figures, statistics, the events it is about and how to trace them",
        "opsuite dq issue dq-12",
    )
    one_issue.add_argument("id", help="the issue's id (dq-<n>), as `opsuite dq issues` prints it")
    add_output_argument(one_issue, inherited=True)
    ack = _command(
        dq_commands,
        "ack",
        "acknowledge an open issue: a person has seen it (it stays open until the data comes right)",
        "opsuite dq ack dq-12",
    )
    ack.add_argument("id", help="the issue's id (dq-<n>), as `opsuite dq issues` prints it")
    add_output_argument(ack, inherited=True)
    quarantine = _command(
        dq_commands,
        "quarantine",
        "the values dq holds back, each with the last good value used instead",
        "opsuite dq quarantine",
        "opsuite dq quarantine --as-of 2020-03-02",
    )
    quarantine.add_argument(
        "--as-of",
        metavar="DATE",
        type=_date,
        help="every value of this business day dq rejected, come right since or not (default: what is held now)",
    )
    add_output_argument(quarantine, inherited=True)


def _add_perf_io(parser: argparse.ArgumentParser, input_help: str) -> None:
    """The input file and output switch every `opsuite perf` command takes."""
    parser.add_argument("--input", required=True, help=input_help)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")


def _version() -> str:
    try:
        return importlib.metadata.version("opsuite")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


# command -> (module, function): imported only when run, so `opsuite --help` stays quick and a
# command another engineer is still writing does not break the others.
HANDLERS = {
    "up": ("services.cli.suite.up", "up"),
    "view": ("services.cli.view.live", "view_command"),
    "status": ("services.cli.suite.status", "status"),
    "simulate": ("services.cli.simulate", "simulate"),
    "breaks": ("services.cli.recon.breaks", "breaks_command"),
    "break": ("services.cli.recon.break_detail", "break_command"),
    "recon": ("services.cli.recon.summary", "recon_command"),
    "trace": ("services.cli.trace.command", "trace"),
    "ledger": ("services.cli.ledger", "export"),
    "perf": ("services.cli.perf", "perf"),
    "report": ("services.cli.report", "report_command"),
    "dq": ("services.cli.dq.command", "dq_command"),
    "extract": ("services.cli.documents", "extract_command"),
    "ask": ("services.cli.documents", "ask_command"),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module, function = HANDLERS[args.command]
    handler: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), function)
    try:
        if args.command != "up":  # up checks them after its flags have become variables
            check_environment()
        return handler(args)
    except SettingsError as error:
        for line in str(error).splitlines():
            print(f"opsuite: {line}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader stopped early (| head): nothing left to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
