"""The killer: SIGKILLs a service chosen by a seeded random.Random at moments drawn from it, restarts
it on the same address and data, and waits until it listens again before the next kill. Some kills
land while a write to the victim is outstanding: the write is sent, the victim is killed before it
answers, and after the restart the same write (same idempotency key) is sent again until it lands.
A kill counts as "during a write" only when the call was still unanswered at the kill and then
failed with UNAVAILABLE, never on the strength of the timing alone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import grpc

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from tests.chaos.cluster import SERVICES, Cluster
from tests.chaos.writes import Write, land
from tests.support.run_state import date

WRITE_TIMEOUT_S = 30.0


@dataclass
class Kill:
    number: int
    at_s: float  # since the chaos run started
    service: str
    day: int | None  # market's business days elapsed just before the kill (None: market was down)
    sim_date: str  # the simulated date market had published ("" when it did not answer)
    clock_running: bool | None
    write: str = ""  # the write sent just before the kill, if any
    during_write: bool = False  # that write was outstanding at the kill (then failed UNAVAILABLE)
    first_answer: str = ""  # what the interrupted call was answered
    retried: str = ""  # how the write ended after the restart
    back_in_s: float = 0.0  # restart until listening

    def line(self, days: int) -> str:
        day = "  ?" if self.day is None else f"{self.day:3d}"
        day += f" {self.sim_date}" if self.sim_date else ""
        write = ""
        if self.write:
            status = "DURING WRITE" if self.during_write else "write answered first"
            write = f"  [{status}] {self.write}: {self.first_answer} -> retry {self.retried}"
        clock = "" if self.clock_running or self.clock_running is None else " (clock done)"
        return (
            f"kill {self.number:3d} at {self.at_s:6.1f} s, day {day}/{days}{clock}: {self.service:<6} "
            f"back in {self.back_in_s:4.1f} s{write}"
        )


def victims(rng: random.Random) -> Iterator[str]:
    """Services to kill, spread evenly (each once in every round of len(SERVICES)), in seeded order."""
    while True:
        round_ = list(SERVICES)
        rng.shuffle(round_)
        yield from round_


class Killer:
    def __init__(
        self,
        cluster: Cluster,
        rng: random.Random,
        *,
        days: int,
        kills: int,
        write_kills: int,
        writes: dict[str, list[Write]],
    ) -> None:
        self.cluster = cluster
        self.rng = rng
        self.days = days
        self.target_kills = kills
        self.target_write_kills = write_kills
        self.writes = writes
        self.kills: list[Kill] = []
        self.started = time.monotonic()

    @property
    def during_write(self) -> int:
        return sum(k.during_write for k in self.kills)

    def run(self, *, max_kills: int) -> None:
        order = victims(self.rng)
        while len(self.kills) < max_kills and (
            len(self.kills) < self.target_kills or self.during_write < self.target_write_kills
        ):
            # Every draw is made whatever happens next, so the schedule is the seed's alone.
            victim = next(order)
            gap = self.rng.uniform(0.3, 2.0)
            wants_write = self.rng.random()
            delay = self.rng.uniform(0.0, 0.002)  # PostJournal and UpdateBreak answer in about 2 ms
            missing = self.target_write_kills - self.during_write
            left = max(1, self.target_kills - len(self.kills))
            time.sleep(gap)
            self.cluster.revive_crashed()
            write = None
            if victim != "market" and (wants_write < 0.55 or missing * 3 >= left):
                write = self._next_write(victim)
            self.kills.append(self._kill(victim, write, delay))

    def _next_write(self, service: str) -> Write | None:
        pending = [w for w in self.writes.get(service, []) if not w.landed]
        if service != "recon":
            return pending[0] if pending else None
        # An assignment needs its break open in this run by now.
        stub = recon_pb2_grpc.ReconServiceStub(self.cluster.channel("recon"))
        for write in pending:
            assert isinstance(write.request, recon_pb2.UpdateBreakRequest)
            try:
                brk = stub.GetBreak(recon_pb2.GetBreakRequest(break_id=write.request.break_id), timeout=10)
            except grpc.RpcError:
                continue  # not opened yet in this run (or recon is restarting)
            if brk.record.status in (recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING):
                return write
        return None

    def _kill(self, victim: str, write: Write | None, delay: float) -> Kill:
        cluster = self.cluster
        clock = cluster.clock_or_none()
        kill = Kill(
            number=len(self.kills) + 1,
            at_s=0.0,
            service=victim,
            day=None if clock is None else clock.business_days_elapsed,
            sim_date="" if clock is None else date(clock.sim_date),
            clock_running=None if clock is None else clock.running,
        )
        future = None
        outstanding = False
        if write is not None:
            # The write must reach a service that is up for it; then it is in flight at the kill.
            cluster.processes[victim].wait_serving(timeout=120)
            kill.write = write.label
            future = write.send(cluster.channel(victim), WRITE_TIMEOUT_S)
            time.sleep(delay)
            outstanding = not future.done()
        kill.at_s = time.monotonic() - self.started
        cluster.kill(victim)
        if future is not None and write is not None:
            try:
                reply = future.result()
            except grpc.RpcError as error:
                kill.first_answer = f"{error.code().name} ({error.details()})"
                kill.during_write = outstanding and error.code() == grpc.StatusCode.UNAVAILABLE
                if write.already_done(error):
                    write.landed = True
            else:
                kill.first_answer = f"answered before the kill: {write.outcome(reply)}"
                write.landed = True
        kill.back_in_s = cluster.restart(victim)
        if write is not None and not write.landed:
            kill.retried = land(
                write,
                cluster.channel(victim),
                timeout=WRITE_TIMEOUT_S,
                anomaly=lambda text: cluster.anomalies.append(f"after kill {kill.number}: {text}"),
            )
        return kill

    def report(self) -> Sequence[str]:
        by_service = {name: sum(k.service == name for k in self.kills) for name in SERVICES}
        while_running = sum(bool(k.clock_running) for k in self.kills)
        committed = sum(k.during_write and "landed before" in k.retried for k in self.kills)
        return [
            *(k.line(self.days) for k in self.kills),
            f"{len(self.kills)} kills ({', '.join(f'{n} {c}' for n, c in by_service.items())}), "
            f"{while_running} while market's clock ran, {self.during_write} during a write "
            f"({committed} of them had committed the write before dying)",
        ]
