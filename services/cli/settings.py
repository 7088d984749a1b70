"""What `opsuite up` itself reads from the environment (prefix OPSUITE_), beside every service's settings."""

from __future__ import annotations

import importlib

from pydantic import Field

from services.common.settings import EDGE, Settings, SettingsError, load_settings


class SupervisorSettings(Settings):
    # Restarts in a row of a crashing service; one more failure and the suite stops.
    restart_limit: int = Field(default=5, ge=1, description="a whole number of failures, 1 or more")
    # The first restart's delay; each further failure in a row doubles it, up to 30 s.
    restart_backoff_s: float = Field(default=1.0, gt=0, description="seconds, a number above 0")
    # How long a starting service may go without progress: to listen (market replays its log
    # first), then between two moves of its applied_seq while it catches up (supervisor.wait_serving).
    start_timeout_s: float = Field(default=180.0, gt=0, description="seconds, a number above 0")


def suite_settings_classes() -> list[type[Settings]]:
    """The settings of the supervisor and of every service this installation has."""
    from services.cli.registry import available_services, edge_available

    classes: list[type[Settings]] = [SupervisorSettings]
    for name in [*available_services(), *([EDGE] if edge_available() else [])]:
        module = importlib.import_module(f"services.{name}.settings")
        classes.extend(
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Settings) and value.__module__ == module.__name__
        )
    return classes


def check_environment() -> None:
    """SettingsError naming every refused OPSUITE_* variable any part of the suite reads, once each.

    Every command checks them first: a variable only `opsuite up`'s market reads (OPSUITE_SPEED)
    is as wrong when a person runs `opsuite status` with it set, and saying so early is cheaper
    than a service that will not start later.
    """
    lines: list[str] = []
    for kind in suite_settings_classes():
        try:
            load_settings(kind)
        except SettingsError as error:
            lines.extend(line for line in str(error).splitlines() if line not in lines)
    if lines:
        raise SettingsError("\n".join(lines))
