"""The watch RPCs of one servicer (reporting's WatchNav, the ledger's WatchJournals and
WatchTrialBalance): one ChangeSignal over the store's commits, created by the first watch inside the
server's event loop, and closed when the service drains, so every open watch ends at once with
UNAVAILABLE saying where to resume, instead of holding the server for its grace period.

A watch reads what its store committed after its position, sends it, and waits on the signal for
the next commit (services/common/change_signal.py): nothing polls. A cancelled watch leaves the
signal's waiters (`waiting`), so an abandoned stream holds nothing.
"""

from __future__ import annotations

import grpc

from services.common.change_signal import ChangeFeed, ChangeSignal, SignalClosed
from services.common.status import RequestError


def shutting_down(service: str, resume: str) -> RequestError:
    """UNAVAILABLE for a watch that ends (or is refused) because the service shuts down; `resume`
    says how to watch again without missing anything ("after_seq=42")."""
    return RequestError(
        grpc.StatusCode.UNAVAILABLE,
        f"{service} is shutting down; watch again with {resume} to miss nothing",
        reason="SHUTTING_DOWN",
    )


class Watchers:
    """feed: the store whose commits wake the watches; service: its name, for the refusals."""

    def __init__(self, feed: ChangeFeed, service: str) -> None:
        self._feed = feed
        self._service = service
        self._signal: ChangeSignal | None = None
        self._closing = False

    def signal(self, resume: str) -> ChangeSignal:
        """The signal a new watch waits on; UNAVAILABLE once the service drains. Call inside the
        server's event loop, before the watch's first read of the store (see ChangeSignal)."""
        if self._closing:
            raise shutting_down(self._service, resume)
        if self._signal is None:
            self._signal = ChangeSignal(self._feed)
        return self._signal

    async def wait_beyond(self, signal: ChangeSignal, position: int, resume: str) -> None:
        """Wait until the store commits past `position`; UNAVAILABLE (naming `resume`) when the
        service drains first."""
        try:
            await signal.wait_beyond(position)
        except SignalClosed:
            raise shutting_down(self._service, resume) from None

    @property
    def waiting(self) -> int:
        """Watches waiting for a commit now."""
        return self._signal.waiting if self._signal is not None else 0

    def close(self) -> None:
        """The service drains: open watches end with UNAVAILABLE, new ones are refused."""
        self._closing = True
        if self._signal is not None:
            self._signal.close()
            self._signal = None
