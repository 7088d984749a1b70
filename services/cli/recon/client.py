"""Talking to recon from the command line: one channel, every page, and errors a person can act on.

Every failure becomes a CommandFailed with one line and an exit code: 1 when recon cannot be
reached or has nothing by that name, 2 when the request itself is wrong (the person can fix it),
so no command prints a gRPC traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import grpc

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.paging import MAX_PAGE
from services.common.settings import load_settings

CALL_TIMEOUT_S = 15.0
USAGE = 2  # the person asked for something that cannot be: a fix names itself
FAILED = 1  # recon is not there, or answered that nothing matches

Request = TypeVar("Request")
Reply = TypeVar("Reply")


class CommandFailed(Exception):
    """One line for stderr and the exit code the command returns; `status`: recon's answer, if any."""

    def __init__(self, message: str, exit_code: int, status: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.status = status


class Recon:
    """recon's stub at `address`, with each call turned into a reply or a CommandFailed."""

    def __init__(self, stub: recon_pb2_grpc.ReconServiceStub, address: str) -> None:
        self.stub = stub
        self.address = address

    def call(self, method: Callable[..., Reply], request: object) -> Reply:
        try:
            return method(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as error:
            raise self._failure(error) from None

    def _failure(self, error: grpc.RpcError) -> CommandFailed:
        code = error.code()
        # A multi-line detail would break the promise of one line on stderr.
        details = " ".join(str(error.details() or "").split())
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return CommandFailed(
                f"recon does not answer at {self.address} ({code.name.lower()}): start the suite with "
                "`opsuite up`, or see where each service listens with `opsuite status`",
                FAILED,
            )
        if code is grpc.StatusCode.INVALID_ARGUMENT:
            return CommandFailed(f"recon refused the request: {details}", USAGE, code)
        if code is grpc.StatusCode.NOT_FOUND:
            return CommandFailed(details, FAILED, code)
        return CommandFailed(f"recon answered {code.name}: {details}", FAILED, code)

    def list_breaks(self, request: recon_pb2.ListBreaksRequest) -> list[recon_pb2.Break]:
        """Every break the request matches, page after page."""
        request.page_size = MAX_PAGE
        found: list[recon_pb2.Break] = []
        while True:
            reply = self.call(self.stub.ListBreaks, request)
            found.extend(reply.breaks)
            if not reply.next_page_token:
                return found
            request.page_token = reply.next_page_token

    def known_mandates(self) -> list[str]:
        reply = self.call(self.stub.GetReconciliation, recon_pb2.GetReconciliationRequest())
        return sorted(m.mandate_id for m in reply.mandates)

    def unknown_mandate(self, mandate_id: str) -> CommandFailed:
        known = self.known_mandates()
        listed = ", ".join(known) if known else "none yet (no check has run)"
        return CommandFailed(
            f"recon knows no mandate {mandate_id!r}; give --mandate one of: {listed}",
            USAGE,
        )

    def check_mandate(self, mandate_id: str) -> None:
        """CommandFailed (exit 2, with the known mandates) unless recon has reconciled `mandate_id`."""
        if mandate_id and mandate_id not in self.known_mandates():
            raise self.unknown_mandate(mandate_id)


@contextmanager
def connect() -> Iterator[Recon]:
    """recon at the address the settings give (OPSUITE_RECON_ADDR), for the length of a command."""
    address = load_settings().addr("recon")
    with grpc.insecure_channel(address) as channel:
        yield Recon(recon_pb2_grpc.ReconServiceStub(channel), address)
