"""market's own settings: the simulated world and how fast it runs (environment, prefix OPSUITE_)."""

from __future__ import annotations

import datetime
import math

from pydantic import AliasChoices, Field, field_validator

from services.common.settings import Settings
from services.market.retention import parse_followers


class MarketSettings(Settings):
    seed: int = Field(default=7, description="a whole number")
    # The autumn of 2007: at the default speed the regime turns to stress within a minute (December
    # 2007) and to crisis within two (February 2008); Lehman's September 2008 comes four minutes in.
    start: datetime.date = Field(default=datetime.date(2007, 10, 1), description="a date as YYYY-MM-DD")
    # Business days per second, or "max" for as fast as possible.
    speed: str = Field(default="1", description="business days per second (a positive number) or 'max'")
    # Business days to simulate; 0: no end at a set speed, the end of the real data at max speed.
    days: int = Field(
        default=0,
        ge=0,
        description="a whole number of business days, 0 or more (0: no end, or the end of the real data at max speed)",
    )
    # Multiplier on the seeded fault probabilities; 0 disables seeded faults.
    fault_rate: float = Field(
        default=1.0, ge=0, description="a number 0 or more (1 is the seeded rate, 0 disables seeded faults)"
    )
    # InjectFault changes the simulated world (a dropped trade, a price spike): off unless an operator
    # asks for it, so a deployed market cannot be made to lie by whoever reaches its port. The local
    # demo (`opsuite up`) turns it on; a test that injects faults says so in its environment.
    allow_fault_injection: bool = Field(
        default=False,
        description="true or false (true lets InjectFault schedule faults; false refuses it)",
    )
    retention_events: int = Field(default=2_000_000, ge=1, description="a whole number of events, 1 or more")
    # Keep only the last N simulated business days as well (whichever limit trims more); 0: no age limit.
    retention_days: int = Field(default=0, ge=0, description="a whole number of business days, 0 or more")
    # The followers whose unapplied events retention keeps (services/market/retention.py); opsuite up
    # names the ones it starts.
    market_followers: str = Field(
        default="", description="follower names separated by commas (lower-case letters, digits, - and _)"
    )
    # The key's conventional name has no prefix, so it is read as FRED_API_KEY.
    fred_api_key: str = Field(
        default="",
        validation_alias=AliasChoices("FRED_API_KEY", "fred_api_key"),
        description="a FRED API key, or nothing for the shipped snapshot",
    )
    # Where FRED's API is; empty: fredapi's own (https://api.stlouisfed.org/fred). A mirror, a proxy,
    # or the tests' local fake FRED.
    fred_url: str = Field(default="", description="the root URL of FRED's API, or nothing for FRED's own")

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
            raise ValueError("not a positive number or 'max'")
        return text

    @field_validator("market_followers")
    @classmethod
    def _followers_are_names(cls, value: str) -> str:
        parse_followers(value)
        return value

    @property
    def followers(self) -> tuple[str, ...]:
        return parse_followers(self.market_followers)

    @property
    def speed_days_per_second(self) -> float | None:
        """The live speed as a number, None in as-fast-as-possible mode."""
        return None if self.speed == "max" else float(self.speed)
