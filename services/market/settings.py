"""market's own settings: the simulated world and how fast it runs (environment, prefix OPSUITE_)."""

from __future__ import annotations

import datetime
import math

from pydantic import AliasChoices, Field, field_validator

from services.common.settings import Settings


class MarketSettings(Settings):
    seed: int = 7
    start: datetime.date = datetime.date(2020, 1, 2)
    # Business days per second, or "max" for as fast as possible.
    speed: str = "1"
    # Business days to simulate; 0 runs until the data ends.
    days: int = Field(default=0, ge=0)
    # Multiplier on the seeded fault probabilities; 0 disables seeded faults.
    fault_rate: float = Field(default=1.0, ge=0)
    retention_events: int = Field(default=2_000_000, ge=1)
    # The key's conventional name has no prefix, so it is read as FRED_API_KEY.
    fred_api_key: str = Field(default="", validation_alias=AliasChoices("FRED_API_KEY", "fred_api_key"))

    @field_validator("speed")
    @classmethod
    def _speed_is_max_or_positive(cls, value: str) -> str:
        text = value.strip().lower()
        if text == "max":
            return text
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number > 0):
            raise ValueError(
                f"OPSUITE_SPEED must be 'max' or a positive number of business days per second "
                f"(for example 1 or 0.5), got {value!r}"
            )
        return text

    @property
    def speed_days_per_second(self) -> float | None:
        """The live speed as a number, None in as-fast-as-possible mode."""
        return None if self.speed == "max" else float(self.speed)
