"""Talking to recon from the command line: every page of its breaks, and the mandates it knows.

Calls and their failures go through services/cli/client.py, as every command's do: one line and
exit code 1 when recon cannot be reached or has nothing by that name, 2 when the request is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.cli.client import USAGE, CommandFailed, ServiceClient, channel_to
from services.common.paging import MAX_PAGE


class Recon(ServiceClient[recon_pb2_grpc.ReconServiceStub]):
    """recon's stub at `address`, with each call turned into a reply or a CommandFailed."""

    service = "recon"

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
    with channel_to("recon") as (channel, address):
        yield Recon(recon_pb2_grpc.ReconServiceStub(channel), address)
