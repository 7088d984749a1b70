"""What a data directory already holds: the run `opsuite up` resumes, or what `--fresh` deletes.

Market records its run's identity (services/market/run_identity.py) in the event log and replays the log on
restart; the supervisor reads the same record first, so the person is told up front that the run
resumes and from where, or why this data directory cannot serve the run they asked for.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.cli.output import grouped
from services.common.eventlog import open_event_log
from services.common.eventlog.factory import DEFAULT_FILE
from services.common.outages import BackendUnavailable
from services.common.settings import Settings
from services.market.run_identity import RUN_META_KEY, parse_record

MARKET_SOURCE = "market"


@dataclass(frozen=True)
class PreviousRun:
    identity: dict[str, object]  # as market recorded it (RunIdentity.as_record)
    events: int
    last_day: dt.date | None

    def describe(self) -> str:
        seed, start = self.identity.get("seed", "?"), self.identity.get("start", "?")
        up_to = f" up to {self.last_day}" if self.last_day else ""
        return f"seed {seed} from {start}, {grouped(self.events)} market events{up_to}"


def _sqlite_file(settings: Settings) -> Path | None:
    url = settings.eventlog_url
    if not url or url == "sqlite://":
        return settings.data_dir / DEFAULT_FILE
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite://"))
    return None


def read_previous_run(settings: Settings) -> PreviousRun | None:
    """The run the event log holds, or None when it holds none (or cannot be read now)."""
    file = _sqlite_file(settings)
    if file is not None and not file.exists():
        return None  # opening it would create it
    try:
        log = open_event_log(settings.eventlog_url or None, settings.data_dir)
    except (ValueError, BackendUnavailable):
        return None  # market itself will say what is wrong with the URL or the backend
    try:
        head = log.head(MARKET_SOURCE)
        if head == 0:
            return None
        identity = parse_record(log.get_meta(RUN_META_KEY))
        last = log.read(MARKET_SOURCE, head, 1)
    except BackendUnavailable:
        return None
    finally:
        log.close()
    last_day = last[0].sim_time.date() if last else None
    return PreviousRun(identity, head, last_day)


@dataclass(frozen=True)
class FreshPlan:
    """What `--fresh` deletes: existing paths and their sizes, and what it cannot delete."""

    paths: tuple[Path, ...]
    sizes: tuple[int, ...]
    untouched: str  # "" or a sentence about an event log --fresh leaves alone

    def describe(self) -> str:
        listed = ", ".join(
            f"{path} ({_size(size)})" for path, size in zip(self.paths, self.sizes, strict=True)
        )
        return listed or "nothing (the data directory holds no run)"


def plan_fresh(settings: Settings, services: Sequence[str]) -> FreshPlan:
    file = _sqlite_file(settings)
    candidates: list[Path] = []
    untouched = ""
    if file is not None:
        candidates.extend(sorted(file.parent.glob(f"{file.name}*")))
    else:
        untouched = (
            f"the event log at {settings.eventlog_url.partition('#')[0]} is not deleted by --fresh "
            "(give OPSUITE_EVENTLOG_URL a new #prefix for a new run)"
        )
    candidates.extend(settings.data_dir / name for name in services if (settings.data_dir / name).exists())
    sizes = tuple(_disk_usage(path) for path in candidates)
    return FreshPlan(tuple(candidates), sizes, untouched)


def delete(plan: FreshPlan) -> None:
    for path in plan.paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _disk_usage(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")
