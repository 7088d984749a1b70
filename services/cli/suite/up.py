"""opsuite up: every service as its own process on loopback, a live view, a clean stop at any moment.

Before anything starts: the run is planned (a weekend start rolls to the next business day, a run
longer than the data is shortened, each said once), the data directory is locked, every address is
checked free, and a previous run is either resumed (said so, and from where) or, with --fresh,
deleted after the person has seen what goes. Then market starts, then every follower at once (each
serves once it has caught up), then the edge (start_waves); a signal at any moment stops them all.
A service that crashes later is restarted with backoff (supervisor.py), and a run with an end says
once when it is done.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from services.cli.registry import MARKET_FOLLOWERS, available_services, concrete_addresses, edge_available
from services.cli.settings import SupervisorSettings, check_environment
from services.cli.suite.completion import wait_until_done
from services.cli.suite.preflight import DataDirLock, Refused, check_addresses_free
from services.cli.suite.previous_run import delete, plan_fresh, read_previous_run
from services.cli.suite.supervisor import (
    Child,
    GaveUp,
    RestartPolicy,
    StartupFailed,
    keep_alive,
    kill_now,
    launch,
    stop_child,
    wait_serving,
)
from services.cli.view.live import LiveView
from services.common.channels import Security
from services.common.settings import EDGE, load_settings


def _overrides(args: argparse.Namespace) -> dict[str, str]:
    """The command's flags as the environment variables the services read."""
    pairs = {
        "OPSUITE_SEED": args.seed,
        "OPSUITE_START": args.start.isoformat() if args.start else None,
        "OPSUITE_DAYS": args.days,
        "OPSUITE_SPEED": args.speed,
        "OPSUITE_DATA_DIR": args.data_dir,
        "OPSUITE_FAULT_RATE": args.fault_rate,
    }
    return {key: str(value) for key, value in pairs.items() if value is not None}


def _token_line(env: dict[str, str]) -> str:
    """How the edge's writes are guarded, and how to change it; never the token itself."""
    if env.get("OPSUITE_API_TOKEN"):
        return (
            "  writes (every request but GET) need the API token: send "
            "`Authorization: Bearer $OPSUITE_API_TOKEN`; the dashboard asks for it once"
        )
    return (
        "  writes (every request but GET) are open to whoever reaches the edge; to require a token, start "
        "with OPSUITE_API_TOKEN=$(openssl rand -hex 32) and send `Authorization: Bearer <token>`"
    )


def _confirm(question: str, console: Console) -> bool:
    try:
        answer = console.input(f"{question} \\[y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _prepare(
    args: argparse.Namespace, settings: SupervisorSettings, names: list[str], console: Console
) -> None:
    """The run's plan, then --fresh (after confirmation) or the resume message; Refused when this
    run cannot go ahead."""
    # The run's identity and its days are market's to define; market logs the same notes.
    from services.market.run_identity import RunIdentity
    from services.market.run_plan import plan_run
    from services.market.settings import MarketSettings

    world = load_settings(MarketSettings)
    try:
        run = plan_run(
            world.start,
            world.days,
            live=world.speed != "max",
            api_key=world.fred_api_key or None,
            fred_url=world.fred_url or None,
        )
    except ValueError as error:
        raise Refused(str(error)) from None
    for note in run.notes:
        console.print(escape(note))
    if args.fresh:
        plan = plan_fresh(settings, names)
        if plan.untouched:
            console.print(f"note: {plan.untouched}")
        if plan.paths:
            console.print(
                escape(f"--fresh deletes the previous run in {settings.data_dir}: {plan.describe()}")
            )
            if not getattr(args, "yes", False):
                if not sys.stdin.isatty():
                    raise Refused("--fresh would delete the files above; add --yes to confirm from a script")
                if not _confirm("Delete them?", console):
                    raise Refused("nothing deleted; the previous run is kept")
            delete(plan)
            console.print("deleted")
        return
    previous = read_previous_run(settings)
    if previous is None:
        return
    stored = previous.identity
    differences = RunIdentity.of(world.seed, world.fault_rate, run).differences(stored) if stored else []
    if differences:
        raise Refused(
            f"{settings.data_dir} holds another run ({previous.describe()}): {'; '.join(differences)}. "
            "`opsuite up --fresh` deletes it, or give this run another --data-dir"
        )
    console.print(
        escape(f"resuming the run in {settings.data_dir}: {previous.describe()}; market replays it first")
    )


def start_waves(children: list[Child]) -> list[list[Child]]:
    """The order of the start-up: market alone, then every follower at once, then the edge.

    The followers only read market and each other through calls that wait or retry (a follower is
    deployed that way on Kubernetes too, where nothing orders the pods), and each is SERVING only
    once it has caught up with market: started one after another, each caught up alone while the
    others waited, so a long run's start-up took the sum of their catch-ups instead of the longest.
    The edge fronts them all, so it starts once they serve."""
    market = [child for child in children if child.name == "market"]
    followers = [child for child in children if child.name != "market" and not child.http]
    edges = [child for child in children if child.http]
    return [wave for wave in (market, followers, edges) if wave]


async def _start_all(
    children: list[Child], env: dict[str, str], timeout_s: float, console: Console, security: Security
) -> None:
    with console.status("starting") as progress:
        for wave in start_waves(children):
            for child in wave:
                await launch(child, env)
            await _wait_wave(wave, env, timeout_s, security, console, progress)


async def _wait_wave(
    wave: list[Child],
    env: dict[str, str],
    timeout_s: float,
    security: Security,
    console: Console,
    progress: Status,
) -> None:
    """Wait until every child of the wave serves, saying so in the wave's order (StartupFailed as
    soon as one fails, whichever it is)."""

    async def serving(child: Child) -> float:
        await wait_serving(child, timeout_s, security)
        return time.monotonic() - child.started_at

    waits = [asyncio.ensure_future(serving(child)) for child in wave]
    remaining: set[asyncio.Future[float]] = set(waits)
    said = 0
    try:
        while remaining:
            starting = [child.name for child, wait in zip(wave, waits, strict=True) if not wait.done()]
            progress.update(f"starting {', '.join(starting)} (each serves once it has caught up) ...")
            done, remaining = await asyncio.wait(remaining, return_when=asyncio.FIRST_COMPLETED)
            for wait in done:
                wait.result()  # a StartupFailed is raised here
            while said < len(wave) and waits[said].done():
                _say_serving(wave[said], waits[said].result(), env, console)
                said += 1
    finally:
        for wait in waits:
            wait.cancel()


def _say_serving(child: Child, took: float, env: dict[str, str], console: Console) -> None:
    pid = child.process.pid if child.process else "?"
    if child.http:
        url = f"http://{child.address}"
        console.print(
            f"[green]✓[/] {child.name:<10} {url} (pid {pid}, {took:.1f} s): the HTTP/JSON API, "
            f"its docs at {url}/docs, the live dashboard at {url}/"
        )
        console.print(escape(_token_line(env)), highlight=False)
    else:
        console.print(f"[green]✓[/] {child.name:<10} serving on {child.address} (pid {pid}, {took:.1f} s)")


async def _stop_all(children: list[Child], grace_s: float, console: Console) -> bool:
    """SIGTERM to every service at once (reverse start order), each killed if it outlives the grace
    period; True when every one stopped cleanly."""
    running = [child for child in reversed(children) if child.process is not None]
    codes = await asyncio.gather(*(stop_child(child, grace_s) for child in running))
    clean = True
    for child, code in zip(running, codes, strict=True):
        # Stopped before its signal handlers were installed, a service ends by the signal itself.
        ok = code in (0, -signal.SIGTERM)
        clean &= ok
        console.print(
            f"stopped {child.name} (exit code {code})" if ok else f"[red]{child.name} exited with {code}[/]"
        )
    return clean


async def _supervise(
    args: argparse.Namespace, settings: SupervisorSettings, names: list[str], console: Console
) -> int:
    started = asyncio.get_running_loop().time()
    addresses = concrete_addresses(settings)
    env = {**os.environ, **{f"OPSUITE_{name.upper()}_ADDR": address for name, address in addresses.items()}}
    env.setdefault("PYTHONUNBUFFERED", "1")
    # A plaintext health port is a pod's (one service a network namespace); on one machine every
    # service would try to bind the same port, and the supervisor asks each on its own port anyway.
    if env.pop("OPSUITE_HEALTH_PORT", None):
        console.print(
            "opsuite up: OPSUITE_HEALTH_PORT is for one service a pod; not passed on to the services"
        )
    # Market keeps every event a follower it starts has not applied yet, so none is stranded by
    # retention however far behind it falls (services/market/retention.py).
    env.setdefault("OPSUITE_MARKET_FOLLOWERS", ",".join(name for name in names if name in MARKET_FOLLOWERS))
    # The local demo lets a person inject faults (market refuses them by default); a person who sets
    # OPSUITE_ALLOW_FAULT_INJECTION=false keeps them off.
    env.setdefault("OPSUITE_ALLOW_FAULT_INJECTION", "true")
    logs = settings.data_dir / "logs"
    children = [Child(name, addresses[name], logs / f"{name}.log") for name in names]
    if edge_available():  # started last, after every service it fronts; stopped first
        children.append(Child(EDGE, addresses[EDGE], logs / f"{EDGE}.log", http=True))
    listening = {child.name: child.address for child in children}

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            console.print("[red]second signal: killing every service now[/]")
            kill_now(children)
            return
        console.print(f"{signal.Signals(signum).name}: stopping every service ...")
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, on_signal, signum)

    try:
        lock = DataDirLock.acquire(settings.data_dir, listening)
    except Refused as refused:
        console.print(f"[red]opsuite up: {escape(str(refused))}[/]")
        return 2
    try:
        if lock.stale_owner is not None:
            console.print(f"taking over {lock.path}: its owner (pid {lock.stale_owner}) is no longer running")
        try:
            check_addresses_free(listening)
            _prepare(args, settings, names, console)
        except Refused as refused:
            console.print(f"[red]opsuite up: {escape(str(refused))}[/]")
            return 2
        console.print(f"opsuite: data in {settings.data_dir}, logs in {logs}")
        return await _run(args, settings, children, env, addresses, started, stop, console)
    finally:
        lock.release()


async def _run(
    args: argparse.Namespace,
    settings: SupervisorSettings,
    children: list[Child],
    env: dict[str, str],
    addresses: dict[str, str],
    started: float,
    stop: asyncio.Event,
    console: Console,
) -> int:
    grace_s = settings.shutdown_grace_s
    stop_requested = asyncio.ensure_future(stop.wait())
    starting = asyncio.ensure_future(_start_all(children, env, settings.start_timeout_s, console, settings))
    await asyncio.wait({starting, stop_requested}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        console.print("stopped during start-up")
        return 0 if await _stop_all(children, grace_s, console) else 1
    failure = starting.exception()
    if failure is not None:
        stop_requested.cancel()
        if not isinstance(failure, StartupFailed):
            raise failure
        console.print(f"[red]start-up failed: {escape(str(failure))}[/]\nits log: {failure.child.log_path}")
        await _stop_all(children, grace_s, console)
        return 1

    console.print("all services serving; Ctrl-C stops them")
    policy = RestartPolicy(limit=settings.restart_limit, first_delay_s=settings.restart_backoff_s)
    keepers = {
        asyncio.ensure_future(
            keep_alive(
                child,
                env,
                policy,
                settings.start_timeout_s,
                lambda text: console.print(escape(text)),
                settings,
            )
        )
        for child in children
    }
    services = [child for child in children if not child.http]  # the edge has no stream to follow
    done = asyncio.ensure_future(wait_until_done(addresses, [c.name for c in services], started, settings))
    view = LiveView(
        addresses, services, plain=args.no_view or not console.is_terminal, console=console, security=settings
    )
    view_task = asyncio.ensure_future(view.run())
    deadline = None if args.for_seconds is None else time.monotonic() + args.for_seconds
    waiting: set[asyncio.Future[object]] = {stop_requested, done, *keepers}  # type: ignore[arg-type]
    exit_code = 0
    while True:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        finished, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not finished or stop_requested in finished:
            break
        if done in finished:
            waiting.discard(done)
            if done.exception() is None:
                console.print(f"[green]{done.result().sentence()}[/]")
                view.done = True
            continue
        gave_up = next(iter(finished))
        error = gave_up.exception()
        console.print(f"[red]{escape(str(error))}[/]; stopping the suite")
        exit_code = 1
        break
    for task in (view_task, done, stop_requested, *keepers):
        task.cancel()
    for task in (view_task, done, *keepers):
        with contextlib.suppress(asyncio.CancelledError, GaveUp, Exception):
            await task
    console.print("stopping ...")
    clean = await _stop_all(children, grace_s, console)
    return exit_code if clean else 1


def up(args: argparse.Namespace) -> int:
    # soft_wrap: a sentence printed to a pipe or a log stays one line, whatever the width
    console = Console(soft_wrap=True)
    os.environ.update(_overrides(args))
    check_environment()  # every service's variables, before any of them starts
    settings = load_settings(SupervisorSettings)
    names = available_services()
    try:
        return asyncio.run(_supervise(args, settings, names, console))
    except KeyboardInterrupt:  # before the signal handlers were installed: nothing had started
        return 130
