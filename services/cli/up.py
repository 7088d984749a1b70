"""opsuite up: every service as its own process on loopback, a live view, a clean stop.

Each service runs as `python -m services.<name>` in its own session (so a
Ctrl-C in the terminal reaches only this supervisor, which then stops the
services in order with SIGTERM), with its output in <data dir>/logs/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.console import Console

from services.cli.registry import available_services, concrete_addresses
from services.cli.view import LiveView
from services.common.settings import Settings, load_settings

START_TIMEOUT_S = 180.0


class StartupFailed(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    address: str
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    returncode: int | None = None
    started_at: float = field(default_factory=time.monotonic)


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


def _fresh(settings: Settings, names: list[str]) -> None:
    for path in settings.data_dir.glob("eventlog.sqlite3*"):
        path.unlink()
    for name in names:
        shutil.rmtree(settings.data_dir / name, ignore_errors=True)


async def _start(child: Child, env: dict[str, str]) -> None:
    child.log_path.parent.mkdir(parents=True, exist_ok=True)
    with child.log_path.open("ab") as log_file:
        child.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"services.{child.name}",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )


async def _wait_serving(child: Child, timeout: float) -> None:
    """Follow the service's health until SERVING, failing fast if the process dies."""
    assert child.process is not None

    async def serving() -> None:
        async with grpc.aio.insecure_channel(child.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                await channel.channel_ready()
                try:
                    async for reply in stub.Watch(health_pb2.HealthCheckRequest()):
                        if reply.status == health_pb2.HealthCheckResponse.SERVING:
                            return
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.UNAVAILABLE:
                        raise

    waiter = asyncio.ensure_future(serving())
    died = asyncio.ensure_future(child.process.wait())
    done, _ = await asyncio.wait({waiter, died}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in (waiter, died):
        if task not in done:
            task.cancel()
    if waiter in done:
        waiter.result()
        return
    tail = child.log_path.read_text(errors="replace").splitlines()[-15:]
    why = (
        f"exited with code {child.process.returncode}"
        if died in done
        else f"not serving after {timeout:.0f} s"
    )
    raise StartupFailed(f"{child.name} {why}; last lines of {child.log_path}:\n" + "\n".join(tail))


async def _stop(children: list[Child], grace_s: float, console: Console) -> bool:
    """SIGTERM in reverse start order; kill what outlives the grace period. True if all exited 0."""
    clean = True
    for child in reversed(children):
        process = child.process
        if process is None:
            continue
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=grace_s + 5)
            except TimeoutError:
                console.print(f"[red]{child.name} did not stop within {grace_s + 5:.0f} s; killing it[/]")
                process.kill()
                await process.wait()
        child.returncode = process.returncode
        clean &= child.returncode == 0
        console.print(f"stopped {child.name} (exit code {child.returncode})")
    return clean


async def _up(args: argparse.Namespace) -> int:
    console = Console()
    overrides = _overrides(args)
    os.environ.update(overrides)
    settings = load_settings()
    names = available_services()
    if args.fresh:
        _fresh(settings, names)
    addresses = concrete_addresses(settings)
    env = {**os.environ, **{f"OPSUITE_{name.upper()}_ADDR": address for name, address in addresses.items()}}
    env.setdefault("PYTHONUNBUFFERED", "1")
    logs = settings.data_dir / "logs"
    children = [Child(name, addresses[name], logs / f"{name}.log") for name in names]

    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_requested.set)

    console.print(f"opsuite: data in {settings.data_dir}, logs in {logs}")
    try:
        with console.status("starting") as progress:
            for child in children:
                progress.update(f"starting {child.name} on {child.address} ...")
                await _start(child, env)
                await _wait_serving(child, START_TIMEOUT_S)
                console.print(
                    f"[green]✓[/] {child.name:<10} serving on {child.address} "
                    f"(pid {child.process.pid if child.process else '?'}, "
                    f"{time.monotonic() - child.started_at:.1f} s)"
                )
    except (StartupFailed, grpc.aio.AioRpcError) as error:
        console.print(f"[red]start-up failed:[/] {error}")
        await _stop(children, settings.shutdown_grace_s, console)
        return 1

    console.print("all services serving; Ctrl-C stops them")
    view = LiveView(addresses, children, plain=args.no_view or not console.is_terminal, console=console)
    view_task = asyncio.create_task(view.run())
    exits = [asyncio.ensure_future(c.process.wait()) for c in children if c.process]
    waiters = [asyncio.ensure_future(stop_requested.wait()), *exits]
    await asyncio.wait(waiters, timeout=args.for_seconds, return_when=asyncio.FIRST_COMPLETED)
    view_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await view_task
    for waiter in waiters:
        waiter.cancel()
    crashed = [c.name for c in children if c.process and c.process.returncode is not None]
    if crashed:
        console.print(f"[red]{', '.join(crashed)} stopped unexpectedly; see {logs}[/]")
    console.print("stopping ...")
    clean = await _stop(children, settings.shutdown_grace_s, console)
    return 0 if clean and not crashed else 1


def up(args: argparse.Namespace) -> int:
    return asyncio.run(_up(args))
