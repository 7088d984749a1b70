"""The breaks documents owes recon, delivered from the store's outbox by RaiseBreak.

A break is owed from the commit of the extraction that found the mismatch; it is raised after the
commit, and retried with backoff (services/common/redelivery.py) from then and from start-up while
recon cannot take it, so a crash or an absent recon loses nothing. RaiseBreak is idempotent by the document's SHA-256, so raising one twice
(a crash after recon answered, before the outbox row was deleted) opens one break.
"""

from __future__ import annotations

import asyncio
import logging

import grpc
import grpc.aio

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.documents.store import DocumentsStore

log = logging.getLogger(__name__)
RAISE_TIMEOUT_S = 5.0
_BATCH = 100
# Codes after which the same request can succeed later (recon down, busy, or not past a day end).
_RETRYABLE = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)


class BreakRelay:
    def __init__(self, store: DocumentsStore, recon: recon_pb2_grpc.ReconServiceStub | None) -> None:
        self.store = store
        self.recon = recon
        self._lock = asyncio.Lock()
        self.raised = 0
        self.refused = 0

    def owes(self) -> bool:
        """Whether a break recon could take is still owed (none is, without recon)."""
        return self.recon is not None and bool(self.store.breaks_owed(1))

    async def deliver(self) -> dict[str, str]:
        """Raise every break owed; {extraction id: break id} of those recon took now."""
        taken: dict[str, str] = {}
        if self.recon is None:
            return taken
        async with self._lock:
            while True:
                owed = await asyncio.to_thread(self.store.breaks_owed, _BATCH)
                if not owed:
                    return taken
                for outbox_id, extraction_id, payload in owed:
                    request = recon_pb2.RaiseBreakRequest.FromString(payload)
                    try:
                        reply = await self.recon.RaiseBreak(request, timeout=RAISE_TIMEOUT_S)
                    except grpc.aio.AioRpcError as error:
                        if error.code() in _RETRYABLE:
                            log.info(
                                "recon cannot take a break now; it stays owed",
                                extra={"extraction_id": extraction_id, "reason": error.details()},
                            )
                            return taken
                        # Refused for good (the request is wrong for this recon): say so, do not retry.
                        self.refused += 1
                        log.error(
                            "recon refused a confirmation break",
                            extra={
                                "extraction_id": extraction_id,
                                "code": error.code().name,
                                "reason": error.details(),
                            },
                        )
                    else:
                        taken[extraction_id] = reply.record.break_id
                        self.raised += 1
                    await asyncio.to_thread(self.store.break_raised, outbox_id)
