"""The reads once closed history was pruned: a watch from before the oldest kept change is refused
(OUT_OF_RANGE, naming it and what to do), a pruned break is NOT_FOUND saying it may have been
pruned, and the rest shows what is kept."""

from __future__ import annotations

import asyncio
import pathlib
import threading
from collections.abc import AsyncIterator

import grpc
import pytest

from opsuite.recon.v1 import recon_pb2 as pb
from services.recon import server
from services.recon.domain.breaks import break_id_for
from services.recon.store import BreakChange, BreakFilter, ReconStore, open_store
from tests.recon.service.conftest import Served, refused, serving
from tests.recon.store.scenario import DAYS, HORIZON, OLD_ID, diff, run_days

WAIT_S = 10.0  # a deadline for a message that must come, not a pause
X0 = break_id_for(diff("X0", "7").item_key, 1)  # closed on day 2: pruned
X25 = break_id_for(diff("X25", "7").item_key, 1)  # closed on day 27: kept


@pytest.fixture
async def pruned(tmp_path: pathlib.Path) -> AsyncIterator[Served]:
    store: ReconStore = open_store(tmp_path)
    run_days(store, range(len(DAYS)))
    store.prune(HORIZON)
    try:
        async with serving(store) as served:
            yield served
    finally:
        store.close()


async def test_a_watch_from_before_the_oldest_kept_change_is_refused(pruned: Served) -> None:
    oldest = pruned.store.retention().oldest_change_seq
    for after in (1, oldest - 2):
        message, violations, metadata = await refused(
            pruned.stub.WatchBreaks(pb.WatchBreaksRequest(after_change_seq=after)).read(),
            grpc.StatusCode.OUT_OF_RANGE,
        )
        assert f"after_change_seq {after} is older than the oldest change kept, {oldest}" in message
        assert f"before {HORIZON.isoformat()}" in message and "watch again with after_change_seq=0" in message
        assert metadata == {"oldest_change_seq": str(oldest), "horizon": HORIZON.isoformat()}
        assert "after_change_seq" in violations
    # Resuming right before the oldest kept change, or from 0, works.
    call = pruned.stub.WatchBreaks(pb.WatchBreaksRequest(after_change_seq=oldest - 1))
    first = await asyncio.wait_for(call.read(), WAIT_S)
    assert first.change_seq == oldest
    call.cancel()
    call = pruned.stub.WatchBreaks(pb.WatchBreaksRequest())
    current = await asyncio.wait_for(call.read(), WAIT_S)
    assert (current.kind, current.change_seq) == (pb.CHANGE_KIND_CURRENT, pruned.store.head())
    call.cancel()


async def test_a_pruned_break_is_not_found_saying_it_may_have_been_pruned(pruned: Served) -> None:
    message, violations, metadata = await refused(
        pruned.stub.GetBreak(pb.GetBreakRequest(break_id=X0)), grpc.StatusCode.NOT_FOUND
    )
    assert (
        f"no break {X0!r}: it is unknown, or it was closed before {HORIZON.isoformat()} and pruned" in message
    )
    assert "OPSUITE_RECON_KEEP_DAYS" in message and "closed before" in violations["break_id"]
    assert metadata == {"break_id": X0, "horizon": HORIZON.isoformat()}
    # The same for an update and for a parent to list the children of.
    message, _, _ = await refused(
        pruned.stub.UpdateBreak(pb.UpdateBreakRequest(break_id=X0, actor="ana", comment="hi")),
        grpc.StatusCode.NOT_FOUND,
    )
    assert "and pruned" in message
    _, violations, _ = await refused(
        pruned.stub.ListBreaks(pb.ListBreaksRequest(parent_break_id=X0)), grpc.StatusCode.NOT_FOUND
    )
    assert "pruned" in violations["parent_break_id"]
    # Not of the form of a break id: recon never had it, pruned or not.
    message, _, metadata = await refused(
        pruned.stub.GetBreak(pb.GetBreakRequest(break_id="BRK-none")), grpc.StatusCode.NOT_FOUND
    )
    assert "pruned" not in message and metadata == {"break_id": "BRK-none"}


async def test_kept_breaks_read_as_before(pruned: Served) -> None:
    for break_id in (OLD_ID, X25):
        detail = await pruned.stub.GetBreak(pb.GetBreakRequest(break_id=break_id))
        assert detail.record.break_id == break_id and len(detail.history) >= 2
    listed = await pruned.stub.ListBreaks(pb.ListBreaksRequest(page_size=1000))
    kept = [b.break_id for b in pruned.store.breaks(BreakFilter(), limit=1000)]
    assert [b.break_id for b in listed.breaks] == kept and X0 not in kept and OLD_ID in kept
    overview = await pruned.stub.GetReconciliation(pb.GetReconciliationRequest())
    open_ids = {b.break_id for m in overview.mandates for b in m.open_breaks}
    assert open_ids == {b.break_id for b in pruned.store.open_breaks()} and OLD_ID in open_ids
    assert all(len(m.latest_runs) == 2 for m in overview.mandates)  # the latest runs are kept


async def test_a_watcher_behind_a_prune_is_refused_not_skipped_ahead(
    pruned: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "WATCH_BATCH", 2)  # a watcher reading two changes at a time
    # The watch's second read of the feed waits until the prune is done: otherwise, on a quick
    # server, the watch may have read (and sent) every change before the prune starts.
    read_feed = pruned.store.change_feed
    reads = 0
    prune_done = threading.Event()

    def feed_after_the_prune(after_change_seq: int, limit: int) -> list[BreakChange]:
        nonlocal reads
        reads += 1
        if reads > 1:
            assert prune_done.wait(WAIT_S), "the test never pruned"
        return read_feed(after_change_seq, limit)

    monkeypatch.setattr(pruned.store, "change_feed", feed_after_the_prune)
    oldest = pruned.store.retention().oldest_change_seq
    call = pruned.stub.WatchBreaks(pb.WatchBreaksRequest(after_change_seq=oldest - 1))
    seen = [(await asyncio.wait_for(call.read(), WAIT_S)).change_seq]
    later = await asyncio.to_thread(pruned.store.prune, DAYS[27])
    prune_done.set()
    assert later.retention.oldest_change_seq > seen[-1] + 10
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        while True:
            message = await asyncio.wait_for(call.read(), WAIT_S)
            assert message is not grpc.aio.EOF
            seen.append(message.change_seq)
    assert caught.value.code() == grpc.StatusCode.OUT_OF_RANGE
    # What it had was gap-free, and ended before the changes it could no longer have.
    assert seen == list(range(oldest, oldest + len(seen)))
    assert seen[-1] < later.retention.oldest_change_seq - 1
