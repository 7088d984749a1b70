"""The fan-out: a panel is rendered once per version however many streams read it, a change wakes every
waiting stream (also one made while a stream was reading), closing wakes them for good; and the feeds'
reconnection backoff."""

from __future__ import annotations

import asyncio

from services.edge.dashboard.feed import backoff_s
from services.edge.dashboard.hub import MAX_TRACKED_BREAKS, Hub, Panel


def test_a_panel_is_rendered_once_per_version() -> None:
    renders = []

    def render() -> dict[str, str]:
        renders.append(1)
        return {"html": f"<p>{len(renders)}</p>"}

    hub = Hub()
    panel = hub.add(Panel("clock", render))
    assert panel.payload() == {"html": "<p>1</p>"}
    assert panel.payload() == {"html": "<p>1</p>"}
    hub.changed("clock")
    hub.changed("clock")  # two changes before anyone reads: one rendering
    assert panel.version == 3
    assert panel.payload() == {"html": "<p>2</p>"}
    assert len(renders) == 2


async def test_a_change_wakes_every_waiting_stream_even_one_made_while_reading() -> None:
    hub = Hub()
    hub.add(Panel("breaks", lambda: {}))
    first, second = hub.generation(), hub.generation()
    waiting = [asyncio.create_task(hub.wait(g, 5)) for g in (first, second)]
    await asyncio.sleep(0)
    hub.changed("breaks")
    assert await asyncio.gather(*waiting) == [True, True]
    # Taken before a read, changed during it: the wait returns at once.
    taken = hub.generation()
    hub.changed("breaks")
    assert await hub.wait(taken, 5) is True
    # Nothing changed: the wait times out (the stream then sends its heartbeat).
    assert await hub.wait(hub.generation(), 0.01) is False


async def test_closing_wakes_the_streams() -> None:
    hub = Hub()
    waiting = asyncio.create_task(hub.wait(hub.generation(), 5))
    await asyncio.sleep(0)
    hub.close()
    assert await waiting is True and hub.closing


def test_break_versions_for_break_pages_forget_the_oldest() -> None:
    hub = Hub()
    assert hub.break_version("BRK-a") == 0
    hub.break_changed("BRK-a")
    hub.break_changed("BRK-a")
    assert hub.break_version("BRK-a") == 2
    for n in range(MAX_TRACKED_BREAKS):
        hub.break_changed(f"BRK-{n}")
    assert hub.break_version("BRK-a") == 0  # the oldest forgotten
    assert hub.break_version(f"BRK-{MAX_TRACKED_BREAKS - 1}") == 1


def test_reconnection_backoff_doubles_to_ten_seconds() -> None:
    assert [backoff_s(n) for n in range(0, 8)] == [0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
