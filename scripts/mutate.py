"""Mutation testing of the pure domain with mutmut: `make mutate` (all targets) or
`make mutate TARGET=lots` (one target, for a quick run).

Each target is one module (or folder) to mutate and the tests that should catch its
mistakes. mutmut reads its configuration from ./pyproject.toml and works in ./mutants,
so every target runs in its own scratch copy of the project under build/mutation/<target>:
targets never share state and can run side by side. The survivors of each run, with
their diffs, are written to build/mutation/<target>/survivors.txt, and one line per
target to build/mutation/summary.tsv, which docs/testing.md quotes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation"
MUTMUT = Path(sys.executable).with_name("mutmut")


@dataclass(frozen=True)
class Target:
    name: str
    mutate: tuple[str, ...]  # glob patterns of the files mutated, relative to the project
    tests: tuple[str, ...]  # the tests that should kill the mutants (pytest arguments)


# A target is one module; its name is "<service>.<module>" (ledger.lots, recon.aging,
# market.bonds, common.convert), and a prefix ("ledger", "market") selects a group.
# The tests listed per folder are those that exercise the pure domain directly. Slow
# end-to-end tests (servers, subprocesses) are left out: a mutant only they would kill is a
# gap in the fast tests, which is what this run exists to find.

# The platform's modules that every domain shares: pure rules (or, for convert, the wire's limits).
COMMON = "common"
COMMON_PURE = ("convert.py", "calendar.py", "market_events/__init__.py")

# Tests per service: tests/<service>/domain unless listed here.
TESTS: dict[str, tuple[str, ...]] = {
    "common": (
        "tests/common/test_convert.py",
        "tests/common/test_calendar.py",
        "tests/common/test_market_events.py",
        "tests/recon/domain/test_aging_calendar.py",
    ),
    "dashboard": ("tests/edge/dashboard/domain",),
}


def _folders() -> list[tuple[str, Path]]:
    """(target prefix, module or folder): convert, the simulation, and every service's domain/,
    so a new service's domain is under mutation testing the day it lands."""
    folders = [(COMMON, ROOT / "services/common" / module) for module in COMMON_PURE]
    folders.append(("market", ROOT / "services/market/sim"))
    folders += [(domain.parent.name, domain) for domain in sorted(ROOT.glob("services/*/domain"))]
    folders.append(("dashboard", ROOT / "services/edge/dashboard/domain"))  # the edge's dashboard
    return folders


def _tests_of(service: str) -> tuple[str, ...]:
    if service in TESTS:
        return TESTS[service]
    domain_tests = ROOT / "tests" / service / "domain"
    return (str(domain_tests.relative_to(ROOT)) if domain_tests.is_dir() else f"tests/{service}",)


def _targets() -> tuple[Target, ...]:
    targets = []
    for prefix, path in _folders():
        if path.is_file():  # a module of the platform; a package's __init__ is named for its package
            stem = path.parent.name if path.name == "__init__.py" else path.stem
            targets.append(Target(f"{prefix}.{stem}", (str(path.relative_to(ROOT)),), _tests_of(prefix)))
            continue
        # A folder: each module, in subpackages too (market.macro.regime), but not the
        # packages' __init__ files, which only gather names.
        for module in sorted(path.rglob("*.py")):
            if module.name == "__init__.py":
                continue
            dotted = ".".join(module.relative_to(path).with_suffix("").parts)
            targets.append(Target(f"{prefix}.{dotted}", (str(module.relative_to(ROOT)),), _tests_of(prefix)))
    return tuple(targets)


TARGETS = _targets()

# Files a target's scratch copy needs besides the tests and the code under test.
COPIED = ("services", "tests", "gen", "protos", "bench")

# Deselected inside mutation runs: these start servers or subprocesses, which mutants in
# a scratch copy cannot reach, and each takes seconds; the domain tests are what is measured.
DESELECT_MARKERS = "not slow"


def _write_config(workdir: Path, target: Target) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject = re.sub(r"\n\[tool\.mutmut\][^\[]*", "\n", pyproject)
    only = ", ".join(f'"{pattern}"' for pattern in target.mutate)
    tests = ", ".join(f'"{test}"' for test in target.tests)
    pyproject += (
        "\n[tool.mutmut]\n"
        'source_paths = ["services/"]\n'
        f"only_mutate = [{only}]\n"
        f'pytest_add_cli_args_test_selection = [{tests}, "-m", "{DESELECT_MARKERS}"]\n'
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "--timeout=120"]\n'
        "use_git_change_detection = false\n"
    )
    (workdir / "pyproject.toml").write_text(pyproject)


def _prepare(target: Target) -> Path:
    # Always from scratch: mutmut keeps a verdict while the mutated function is unchanged,
    # even when the tests changed, so a cached "survived" would hide a new test's kill.
    workdir = WORK / target.name
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        destination = workdir / name
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _write_config(workdir, target)
    # mutmut runs pytest inside ./mutants, which it creates; it must exist before the
    # interpreter starts, or the import system caches it as missing and `tests` won't import.
    (workdir / "mutants").mkdir(exist_ok=True)
    return workdir


PROGRESS_EVERY = 15.0
_PROGRESS = re.compile(r"(\d+)/(\d+) ")
_STATUS = re.compile(r"^\s*(?P<name>\S+): (?P<status>[a-z ]+)$")


def _results(workdir: Path) -> dict[str, str]:
    output = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=workdir, capture_output=True, text=True, check=True
    ).stdout
    results = {}
    for line in output.splitlines():
        match = _STATUS.match(line)
        if match:
            results[match["name"]] = match["status"].strip()
    return results


def _show(workdir: Path, name: str) -> str:
    return subprocess.run(
        [str(MUTMUT), "show", name], cwd=workdir, capture_output=True, text=True, check=False
    ).stdout


def run(target: Target, max_children: int) -> dict[str, int]:
    workdir = _prepare(target)
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(workdir / "mutants")}
    log_path = workdir / "mutmut.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(MUTMUT), "run", "--max-children", str(max_children)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        while process.poll() is None:
            time.sleep(PROGRESS_EVERY)
            progress = _PROGRESS.findall(log_path.read_bytes().decode(errors="replace")[-4000:])
            if progress:
                done, total = progress[-1]
                print(
                    f"  {target.name}: {done}/{total} mutants run, {time.monotonic() - started:.0f} s",
                    flush=True,
                )
    if process.returncode != 0:
        raise SystemExit(
            f"mutmut failed on {target.name} (exit {process.returncode}); its output is in {log_path}"
        )
    results = _results(workdir)
    counts: dict[str, int] = {}
    for status in results.values():
        counts[status] = counts.get(status, 0) + 1
    survivors = sorted(name for name, status in results.items() if status not in {"killed"})
    with (workdir / "survivors.txt").open("w") as report:
        for name in survivors:
            report.write(f"## {name}: {results[name]}\n{_show(workdir, name)}\n")
    counts["seconds"] = round(time.monotonic() - started)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "targets", nargs="*", help="target names (default: all): " + ", ".join(t.name for t in TARGETS)
    )
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--list", action="store_true", help="print each target, its module and its tests, then exit"
    )
    args = parser.parse_args()
    if args.list:
        for target in TARGETS:
            print(f"{target.name}\t{' '.join(target.mutate)}\t{' '.join(target.tests)}")
        return
    chosen = [
        target
        for target in TARGETS
        if not args.targets
        or any(target.name == name or target.name.startswith(name + ".") for name in args.targets)
    ]
    unknown = [
        name
        for name in args.targets
        if not any(t.name == name or t.name.startswith(name + ".") for t in TARGETS)
    ]
    if unknown:
        parser.error(
            f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(t.name for t in TARGETS)}"
        )
    WORK.mkdir(parents=True, exist_ok=True)
    for target in chosen:
        counts = run(target, args.max_children)
        total = sum(count for status, count in counts.items() if status != "seconds")
        killed = counts.get("killed", 0)
        score = f"{100 * killed / total:.0f}%" if total else "n/a"
        others = ", ".join(
            f"{status} {count}"
            for status, count in sorted(counts.items())
            if status not in {"killed", "seconds"}
        )
        print(
            f"{target.name}: {killed} of {total} killed ({score}); {others or 'no survivors'}; {counts['seconds']} s"
        )
        print(f"  survivors and their diffs: {(WORK / target.name / 'survivors.txt').relative_to(ROOT)}")
        row = f"{target.name}\t{killed}\t{total}\t{score}\t{others}\t{counts['seconds']}\n"
        (WORK / target.name / "summary.tsv").write_text(row)
    # One table of the latest result of every target run so far (each run writes its own row,
    # so targets run side by side never overwrite each other's).
    rows = sorted(path.read_text() for path in WORK.glob("*/summary.tsv"))
    (WORK / "summary.tsv").write_text("target\tkilled\ttotal\tscore\tnot killed\tseconds\n" + "".join(rows))
    print(f"summary of every target run so far: {(WORK / 'summary.tsv').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
