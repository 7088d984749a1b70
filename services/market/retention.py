"""Which of market's events the event log keeps: a bounded window that never strands a follower.

Two limits, whichever trims more: the last `events` events (OPSUITE_RETENTION_EVENTS), and, when
`days` is set (OPSUITE_RETENTION_DAYS), the events of the last `days` simulated business days.
Then one hold: every event after the lowest position a declared follower (OPSUITE_MARKET_FOLLOWERS)
has acknowledged is kept, however far behind that follower is; a declared follower that has not
acknowledged yet holds everything from seq 1. A follower that restarts therefore always finds the
events after its stored cursor, the promise a PostgreSQL replication slot makes to its standby, at
the same price: a declared follower that never comes back keeps the log growing until it is
removed from the list.

Pure: the runtime feeds it day starts and acknowledgements and trims the log to keep_from().
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

FOLLOWER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


class UnknownFollower(ValueError):
    """An acknowledgement from a follower that is not declared."""


def parse_followers(text: str) -> tuple[str, ...]:
    """ "ledger, recon" -> ("ledger", "recon"); ValueError naming a name that is not one."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    for name in names:
        if not FOLLOWER_NAME.fullmatch(name):
            raise ValueError(
                f"{name!r} is not a follower name (lower-case letters, digits, - and _, starting with a letter)"
            )
    return names


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    events: int  # at most this many events are kept (unless a follower holds more)
    days: int = 0  # 0: no age limit; else only the last `days` business days are kept


class Retention:
    def __init__(
        self, policy: RetentionPolicy, followers: Iterable[str], acknowledged: Mapping[str, int] | None = None
    ) -> None:
        self.policy = policy
        known = acknowledged or {}
        self.positions: dict[str, int] = {name: int(known.get(name, 0)) for name in followers}
        # The first seq of each of the last `days` business days, oldest first.
        self._day_starts: collections.deque[int] = collections.deque(maxlen=policy.days or 1)

    def on_day(self, first_seq: int) -> None:
        """A business day whose first event is first_seq was appended."""
        self._day_starts.append(first_seq)

    def acknowledge(self, follower: str, applied_seq: int, head_seq: int) -> bool:
        """Record that `follower` has applied every event up to applied_seq; True when its position
        moved. UnknownFollower when it is not declared; ValueError for a seq past the head. A lower
        seq than before is taken as it is (a follower restored from an older backup needs the events
        after it again)."""
        if follower not in self.positions:
            declared = ", ".join(self.positions) or "none"
            raise UnknownFollower(
                f"{follower!r} is not a declared follower (declared: {declared}); add it to "
                "OPSUITE_MARKET_FOLLOWERS so market keeps the events it has not applied"
            )
        if applied_seq > head_seq:
            raise ValueError(f"applied_seq {applied_seq} is past market's head, seq {head_seq}")
        moved = self.positions[follower] != applied_seq
        self.positions[follower] = applied_seq
        return moved

    def keep_from(self, head_seq: int) -> int:
        """The oldest seq the log must keep with the head at head_seq (1: keep everything)."""
        keep = head_seq - self.policy.events + 1
        if self.policy.days and len(self._day_starts) == self.policy.days:
            keep = max(keep, self._day_starts[0])
        if self.positions:
            keep = min(keep, min(self.positions.values()) + 1)
        return max(1, keep)
