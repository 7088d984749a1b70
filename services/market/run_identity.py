"""What makes a run the run in a data directory: what must be equal for a restart to resume it.

Market records the identity in the event log when a run begins and compares it on every restart;
`opsuite up` reads the same record first, to refuse before anything starts. The data is part of the
identity (its source, its last business day and a hash of every observation), because the replay
and the synthetic days past the data are computed from it: other data would replay another world
under the old events. So is the version of the simulation's rules (WORLD_VERSION): a release whose
simulation makes other events of the same seed would replay another world too. The number of days
is not: a run may be resumed with more days, or none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping

from services.market.run_plan import RunPlan

RUN_META_KEY = "market.run"  # the event log's meta key the identity is stored under
# The version of what a seed makes of the data: raised by every change to the simulation that changes
# its events (2: the broker's corrected confirmations, and settlement delays off the confirmation;
# 3: each trade.fill caused by its instrument's price.tick of the day).
WORLD_VERSION = 3

_LABELS = {
    "seed": "seed",
    "start": "start",
    "fault_rate": "fault rate",
    "data_source": "data",
    "data_last": "data ending",
    "data_hash": "data hash",
    "world": "simulation version",
}
_SOURCES = {"snapshot": "the FRED snapshot", "fred": "live FRED"}
NOT_RECORDED = "(not recorded)"


@dataclasses.dataclass(frozen=True, slots=True)
class RunIdentity:
    seed: int
    start: dt.date  # the business day the run begins on
    fault_rate: float
    data_source: str  # "snapshot" or "fred"
    data_last: dt.date  # the last business day of the real data
    data_hash: str  # series.fingerprint of the data
    world: int = WORLD_VERSION  # the simulation's rules

    @classmethod
    def of(cls, seed: int, fault_rate: float, plan: RunPlan) -> RunIdentity:
        return cls(seed, plan.start, fault_rate, plan.data_source, plan.real_until, plan.data_hash)

    def as_record(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "start": self.start.isoformat(),
            "fault_rate": self.fault_rate,
            "data_source": self.data_source,
            "data_last": self.data_last.isoformat(),
            "data_hash": self.data_hash,
            "world": self.world,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_record(), sort_keys=True)

    def differences(self, stored: Mapping[str, object]) -> list[str]:
        """What the stored run (as recorded, possibly by an older version without some keys) has
        that this one does not, in words, stored first: "seed 7, not 8", "data ending 2021-01-04,
        not 2026-11-27". The data's hash is named only when its source and last day agree (when
        they do not, the hash differs too and says nothing more)."""
        differing = {
            key: (stored.get(key), wanted)
            for key, wanted in self.as_record().items()
            if not _same(key, stored.get(key), wanted)
        }
        if "data_source" in differing or "data_last" in differing:
            differing.pop("data_hash", None)
        return [
            f"{_LABELS[key]} {_shown(key, had)}, not {_shown(key, wanted)}"
            for key, (had, wanted) in differing.items()
        ]


def parse_record(text: str | None) -> dict[str, object]:
    """The stored identity as recorded ({} when there is none or it is not a JSON object)."""
    if not text:
        return {}
    try:
        record = json.loads(text)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _same(key: str, had: object, wanted: object) -> bool:
    if key == "fault_rate":
        try:
            return float(had) == float(wanted)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    return had == wanted


def _shown(key: str, value: object) -> str:
    if value is None:
        return NOT_RECORDED
    if key == "data_source":
        return _SOURCES.get(str(value), str(value))
    if key == "data_hash":
        return str(value)[:12]
    return str(value)
