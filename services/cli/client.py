"""Talking to a service from the command line: one channel per command, and errors a person can act on.

Every failure becomes a CommandFailed with one line and an exit code: 1 when the service cannot be
reached or has nothing by that name, 2 when the request itself is wrong (the person can fix it),
so no command prints a gRPC traceback. `opsuite breaks`, `break`, `recon` and `dq` share it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

import grpc
from grpc_status import rpc_status

from services.common.channels import open_blocking_channel
from services.common.settings import load_settings

CALL_TIMEOUT_S = 15.0
USAGE = 2  # the person asked for something that cannot be: a fix names itself
FAILED = 1  # the service is not there, or answered that nothing matches
# How the platform ends a refusal it expects to pass (services/common/availability.py: a service
# still starting up); the service itself said it, so it is not "does not answer".
RETRY_SUFFIX = "retry in a moment"

Stub = TypeVar("Stub")
Reply = TypeVar("Reply")
V = TypeVar("V", bound=int)


class CommandFailed(Exception):
    """One line for stderr and the exit code the command returns; `status` and `details`: the
    service's answer, if any (a command that knows better words for it starts from its details)."""

    def __init__(
        self, message: str, exit_code: int, status: grpc.StatusCode | None = None, details: str = ""
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.status = status
        self.details = details


def address_variable(service: str) -> str:
    """The variable that says where `service` listens (services/common/settings.py)."""
    return f"OPSUITE_{service.upper()}_ADDR"


def one_line(details: str | None) -> str:
    # A multi-line detail would break the promise of one line on stderr.
    return " ".join(str(details or "").split())


def _said_by_service(error: grpc.RpcError, details: str) -> bool:
    """True when the service itself answered UNAVAILABLE (starting up, a backend outage), rather than
    the channel failing to reach it: every refusal the platform raises carries google.rpc details
    (services/common/status.py), and the start-up refusal its own suffix."""
    try:
        rich = rpc_status.from_call(error) is not None
    except ValueError:  # details that disagree with the status line: still the service's own
        rich = True
    return rich or details.endswith(RETRY_SUFFIX)


def failure(service: str, address: str, error: grpc.RpcError) -> CommandFailed:
    """The one line a person reads for a failed call to `service` at `address`."""
    code = error.code()
    details = one_line(error.details())
    if code is grpc.StatusCode.UNAVAILABLE and _said_by_service(error, details):
        return CommandFailed(f"{service} cannot answer now: {details}", FAILED, code, details)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return CommandFailed(
            f"{service} does not answer at {address} ({address_variable(service)}; {code.name.lower()}): "
            "start the suite with `opsuite up`, or see where each service listens with `opsuite status`",
            FAILED,
        )
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return CommandFailed(f"{service} refused the request: {details}", USAGE, code, details)
    if code is grpc.StatusCode.NOT_FOUND:
        return CommandFailed(details, FAILED, code, details)
    return CommandFailed(f"{service} answered {code.name}: {details}", FAILED, code, details)


class ServiceClient(Generic[Stub]):
    """A service's stub at `address`, with each call turned into a reply or a CommandFailed."""

    service = ""  # the service's name, as the messages say it

    def __init__(self, stub: Stub, address: str) -> None:
        self.stub = stub
        self.address = address

    def call(self, method: Callable[..., Reply], request: object) -> Reply:
        try:
            return method(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as error:
            raise failure(self.service, self.address, error) from None


@contextmanager
def channel_to(service: str) -> Iterator[tuple[grpc.Channel, str]]:
    """A channel to `service` at the address the settings give (OPSUITE_<SERVICE>_ADDR), for a command."""
    settings = load_settings()
    address = settings.addr(service)
    with open_blocking_channel(settings, address) as channel:
        yield channel, address


def choose(
    given: Sequence[str], names: Mapping[V, str], what: str, option: str, *, also: Sequence[str] = ()
) -> list[V]:
    """The enum values named by short names (any case, - or _, repeated or comma-separated); a name
    outside `names` and `also` is a CommandFailed (exit 2) listing them."""
    by_name = {name: number for number, name in names.items()}
    chosen: list[V] = []
    for text in given:
        for part in text.split(","):
            key = part.strip().lower().replace("-", "_")
            if key in also:
                continue
            if key not in by_name:
                known = ", ".join([*by_name, *also])
                raise CommandFailed(f"{part.strip()!r} is not a {what}; give {option} one of: {known}", USAGE)
            chosen.append(by_name[key])
    return chosen
