"""Waking asyncio watchers of a change feed: an asyncio.Condition a store's commits notify.

Any store with numbered changes and subscribe(listener) serves (recon's breaks, dq's issues); the
store calls its listeners from whichever thread committed (a handler's worker thread, the
day-end check's thread); the listener hands the new head to the event loop, which notifies the
condition. A watcher waits for "head beyond what I have read" under the condition, so a commit
between its last read and its wait is never missed, and nothing polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Protocol

_log = logging.getLogger(__name__)


class ChangeFeed(Protocol):
    def subscribe(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call listener(head) after every commit that appended changes (from the committing thread);
        returns the function that unsubscribes it."""
        ...


class CommitListeners:
    """A store's side of a change feed: listeners called with the new head after each commit that
    appended changes, from the committing thread."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._listeners: list[Callable[[int], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[int], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def notify(self, head: int) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(head)
            except Exception:  # a watcher's failure must not undo or hide a committed change
                _log.exception("a change-feed listener failed", extra={"store": self._name})


class SignalClosed(Exception):
    """The signal was closed (the service is shutting down): nothing more will wake a watcher."""


class ChangeSignal:
    """Create inside the running event loop; close() to stop listening to the store."""

    def __init__(self, store: ChangeFeed, head: int = 0) -> None:
        """head: the store's head when known. Too low is safe (a waiter re-reads the feed once more);
        too high is not, so read it before creating the signal, never after."""
        self._loop = asyncio.get_running_loop()
        self._condition = asyncio.Condition()
        self._head = head
        self._closed = False
        self._waiting = 0
        self._pending: set[asyncio.Task[None]] = set()
        self._unsubscribe = store.subscribe(self._from_any_thread)

    @property
    def head(self) -> int:
        return self._head

    @property
    def waiting(self) -> int:
        """How many watchers wait in wait_beyond now (a cancelled watcher is no longer counted)."""
        return self._waiting

    def _from_any_thread(self, head: int) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is left to wake
            self._loop.call_soon_threadsafe(self._schedule, head)

    def _schedule(self, head: int) -> None:
        task = self._loop.create_task(self._advance(head))
        self._pending.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._pending.discard)

    async def _advance(self, head: int) -> None:
        async with self._condition:
            if head > self._head:
                self._head = head
                self._condition.notify_all()

    async def wait_beyond(self, seq: int) -> int:
        """Wait until a change after `seq` is committed; returns the head then. SignalClosed when
        the signal is closed first (or already was)."""
        self._waiting += 1
        try:
            async with self._condition:
                await self._condition.wait_for(lambda: self._closed or self._head > seq)
                if self._closed:
                    raise SignalClosed
                return self._head
        finally:
            self._waiting -= 1

    def close(self) -> None:
        """Stop listening to the store and wake every watcher with SignalClosed (call in the loop)."""
        self._unsubscribe()
        self._closed = True
        self._schedule_wake()

    def _schedule_wake(self) -> None:
        async def wake() -> None:
            async with self._condition:
                self._condition.notify_all()

        task = self._loop.create_task(wake())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
