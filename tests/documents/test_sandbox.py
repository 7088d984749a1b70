"""The PDF sandbox: every hostile file is refused with the right kind and a reason a person can act
on, in bounded time, at the cost of one worker process at most, and the pool serves the next file.

The limits here are small (256 MiB, 3 s) so the hostile files hit them quickly; each file is built
in memory by tests/documents/hostile.py. Durations are measured around calls that return, never
waited out with sleeps.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fpdf import FPDF

from services.documents.sandbox import (
    MIB,
    ParseRejected,
    ParserPool,
    SandboxUnavailable,
    pdf_pages_text,
)
from services.market.pdf import PDF_CREATION_DATE
from tests.documents import hostile

TIMEOUT_S = 3.0
# What a refusal may take beyond the wall-clock limit: killing the worker and reading its status.
MARGIN_S = 5.0
LIMITS: dict[str, float] = {
    "memory_bytes": 256 * MIB,
    "cpu_seconds": 3,
    "timeout_s": TIMEOUT_S,
    "max_pages": 50,
}

pytestmark = pytest.mark.timeout(120)


def _pool(workers: int = 2, **overrides: float) -> ParserPool:
    limits = {**LIMITS, **overrides}
    return ParserPool(
        workers,
        memory_bytes=int(limits["memory_bytes"]),
        cpu_seconds=int(limits["cpu_seconds"]),
        timeout_s=limits["timeout_s"],
        max_pages=int(limits["max_pages"]),
        max_jobs_per_worker=int(limits.get("max_jobs_per_worker", 200)),
    )


@pytest.fixture(scope="module")
def pool() -> Iterator[ParserPool]:
    with _pool() as started:
        yield started


def _expected_confirmation() -> list[str]:
    return [line.rstrip() for line in hostile.CONFIRMATION_TEXT.splitlines()]


def _assert_serves(pool: ParserPool) -> None:
    [page] = pool.pages_text_sync(hostile.normal_pdf())
    assert page.splitlines() == _expected_confirmation()


def _rejection(pool: ParserPool, content: bytes) -> tuple[ParseRejected, float]:
    started = time.monotonic()
    with pytest.raises(ParseRejected) as raised:
        pool.pages_text_sync(content)
    return raised.value, time.monotonic() - started


def _rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS line")


def _wait_for(condition: Callable[[], bool], what: str, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


# ------------------------------------------------------------------ what a good PDF gives


def test_a_confirmation_reads_line_for_line_with_its_columns(pool: ParserPool) -> None:
    _assert_serves(pool)


def test_a_table_drawn_cell_by_cell_keeps_its_columns() -> None:
    """Layout mode places text by position: numbers right-aligned in cells end in one column.

    (Plain mode would give "AAPL 1,200 123.45" with single spaces, losing the columns.)
    """
    pdf = FPDF(format="A4")
    pdf.set_creation_date(PDF_CREATION_DATE)
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    for row in [("SYMBOL", "QTY", "PRICE"), ("AAPL", "1,200", "123.45"), ("MSFT", "50", "3,310.10")]:
        for index, cell in enumerate(row):
            pdf.cell(35, 5, cell, align="L" if index == 0 else "R")
        pdf.ln()
    [page] = pdf_pages_text(bytes(pdf.output()), max_pages=5)
    header, apple, microsoft = page.splitlines()
    assert apple.split()[0] == "AAPL" and microsoft.split()[0] == "MSFT"
    for line in (header, apple, microsoft):
        assert "  " in line  # columns are padded, not joined by single spaces
    # Right edges agree to within a character (layout mode rounds positions to a character grid).
    assert abs(apple.index("1,200") + len("1,200") - (microsoft.index("50") + len("50"))) <= 1
    assert abs(apple.index("123.45") + len("123.45") - (microsoft.index("3,310.10") + len("3,310.10"))) <= 1
    assert abs(header.index("QTY") + len("QTY") - (apple.index("1,200") + len("1,200"))) <= 1


def test_text_inside_a_form_xobject_is_read_too() -> None:
    # Layout mode does not enter form XObjects; plain mode does, and is used when it finds more.
    assert pdf_pages_text(hostile.xobject_fanout_pdf(levels=1, pages=1), max_pages=5) == ["hello"]


def test_a_broken_xref_is_rebuilt_as_viewers_do(pool: ParserPool) -> None:
    [page] = pool.pages_text_sync(hostile.broken_xref_pdf())
    assert page.splitlines() == _expected_confirmation()


def test_a_form_xobject_that_draws_itself_is_read_once(pool: ParserPool) -> None:
    assert pool.pages_text_sync(hostile.xobject_cycle_pdf()) == ["hello\nhello"]


# ------------------------------------------------------------------ every hostile file


HOSTILE: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("encrypted", hostile.encrypted_pdf, "encrypted", "encrypted; send it without a password"),
    ("truncated", hostile.truncated_pdf, "truncated", "cut short"),
    ("random bytes", hostile.corrupt_pdf, "corrupt", "no PDF objects"),
    ("garbled objects", hostile.garbled_pdf, "corrupt", "damaged"),
    ("xref to nowhere", hostile.missing_root_pdf, "corrupt", "damaged"),
    ("empty file", hostile.empty_file, "empty", "0 bytes"),
    ("zero pages", hostile.zero_page_pdf, "empty", "no pages"),
    ("PNG", hostile.png_file, "not_pdf", "PNG image, not a PDF"),
    ("image only", hostile.image_only_pdf, "no_text", "no text layer (a scan?); OCR is not supported"),
    ("5,000 pages", hostile.many_pages_pdf, "too_many_pages", "5,000 pages, more than the 50"),
    ("page tree cycle", hostile.page_tree_cycle_pdf, "corrupt", "cyclic"),
    ("nested arrays in the page", hostile.deep_nesting_pdf, "corrupt", "too deeply"),
    ("nested arrays in the content", hostile.deep_content_nesting_pdf, "corrupt", "too deeply"),
    ("1 GiB stream", hostile.single_stream_bomb_pdf, "memory", "decompression bomb"),
    ("16 x 70 MB content streams", hostile.decompression_bomb_pdf, "memory", "decompression bomb"),
    ("2**40 form draws", hostile.xobject_fanout_pdf, "timeout", f"longer than {TIMEOUT_S:g} s"),
]


@pytest.mark.parametrize(
    ("build", "kind", "reason"),
    [pytest.param(build, kind, reason, id=name) for name, build, kind, reason in HOSTILE],
)
def test_each_hostile_file_is_refused_in_bounded_time_and_the_pool_serves_on(
    pool: ParserPool, build: Callable[[], bytes], kind: str, reason: str
) -> None:
    rejected, took = _rejection(pool, build())
    assert (rejected.kind, rejected.reason) == (kind, rejected.reason)
    assert reason in rejected.reason
    assert took < TIMEOUT_S + MARGIN_S
    _assert_serves(pool)
    assert len(pool.worker_pids()) == 2


def test_the_fixtures_are_deterministic_and_as_hostile_as_named() -> None:
    for cached in (hostile.encrypted_pdf, hostile.image_only_pdf, hostile.zero_page_pdf):
        assert cached.__wrapped__() == cached.__wrapped__()  # type: ignore[attr-defined]
    assert hostile.corrupt_pdf() == hostile.corrupt_pdf() and hostile.garbled_pdf() == hostile.garbled_pdf()
    assert len(hostile.single_stream_bomb_pdf()) < 2 * MIB  # inflates to 1 GiB
    assert len(hostile.decompression_bomb_pdf()) < 2 * MIB  # 16 x 70 MiB
    assert hostile.deep_nesting_pdf().count(b"[") >= 100_000
    assert len(hostile.many_pages_pdf()) < MIB


@pytest.mark.parametrize(
    ("content", "kind", "reason"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "not_pdf", "a JPEG image, not a PDF"),
        (b"PK\x03\x04\x14\x00", "not_pdf", "ZIP archive (or a Word/Excel file)"),
        (b"Dear client, please find attached", "not_pdf", "does not start with a PDF header"),
        (b"  \r\n\t ", "empty", "only whitespace"),
    ],
)
def test_what_was_sent_instead_of_a_pdf_is_named(content: bytes, kind: str, reason: str) -> None:
    with pytest.raises(ParseRejected) as raised:
        pdf_pages_text(content, max_pages=5)
    assert raised.value.kind == kind and reason in raised.value.reason


def test_a_page_count_the_tree_understates_is_still_refused() -> None:
    lying = hostile.many_pages_pdf(200).replace(b"/Count 200 ", b"/Count 1   ")
    with pytest.raises(ParseRejected) as raised:
        pdf_pages_text(lying, max_pages=50)
    assert raised.value.kind == "too_many_pages" and "200 pages" in raised.value.reason


def test_the_parent_does_not_grow_with_a_memory_bomb(pool: ParserPool) -> None:
    _assert_serves(pool)  # threads and buffers of an ordinary job exist before the first reading
    before = _rss_kib()
    for bomb in (hostile.single_stream_bomb_pdf(), hostile.decompression_bomb_pdf()):
        rejected, _ = _rejection(pool, bomb)
        assert rejected.kind == "memory"
    # The bombs themselves (3 MB) are the test's; what they inflate to stays in the workers.
    assert _rss_kib() - before < 16 * 1024


# ------------------------------------------------------------------ the workers


def test_a_worker_killed_mid_job_fails_only_that_job() -> None:
    with _pool(timeout_s=30.0, cpu_seconds=30, max_pages=1_000) as pool:
        results: dict[str, object] = {}

        def run(name: str, content: bytes) -> None:
            try:
                results[name] = pool.pages_text_sync(content)
            except ParseRejected as rejected:
                results[name] = rejected

        slow = threading.Thread(target=run, args=("slow", hostile.xobject_fanout_pdf()))
        slow.start()
        _wait_for(lambda: len(pool.busy_pids()) == 1, "the slow job to start")
        [victim] = pool.busy_pids()
        other = threading.Thread(target=run, args=("other", hostile.many_pages_pdf(300)))
        other.start()
        _wait_for(lambda: len(pool.busy_pids()) == 2, "the other job to start")
        os.kill(victim, signal.SIGKILL)
        slow.join(30)
        other.join(30)

        killed = results["slow"]
        assert isinstance(killed, ParseRejected)
        assert killed.kind == "memory" and "killed" in killed.reason
        assert results["other"] == ["hello"] * 300
        assert victim not in pool.worker_pids() and len(pool.worker_pids()) == 2
        _assert_serves(pool)


def test_an_idle_worker_killed_is_replaced_and_no_job_is_blamed(pool: ParserPool) -> None:
    _assert_serves(pool)
    victim = pool.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: "\nState:\tZ" in Path(f"/proc/{victim}/status").read_text(), "the worker to die")
    for _ in range(3):  # whichever worker each job takes
        _assert_serves(pool)
    assert victim not in pool.worker_pids() and len(pool.worker_pids()) == 2


def test_a_timeout_kills_the_worker_and_a_warm_one_takes_its_place(pool: ParserPool) -> None:
    before = set(pool.worker_pids())
    replaced = pool.stats().get("workers_replaced", 0)
    rejected, took = _rejection(pool, hostile.xobject_fanout_pdf())
    assert rejected.kind == "timeout"
    assert TIMEOUT_S <= took < TIMEOUT_S + MARGIN_S
    assert pool.stats()["workers_replaced"] == replaced + 1
    after = set(pool.worker_pids())
    assert len(after) == 2 and len(after - before) == 1
    _assert_serves(pool)


def test_the_cpu_limit_stops_a_worker_the_wall_clock_would_not() -> None:
    with _pool(1, cpu_seconds=1, timeout_s=60.0) as pool:
        rejected, took = _rejection(pool, hostile.xobject_fanout_pdf())
        assert rejected.kind == "timeout"
        assert "1 s of CPU" in rejected.reason
        assert took < 2 + MARGIN_S
        _assert_serves(pool)


def test_workers_run_under_their_limits() -> None:
    with _pool(1, memory_bytes=300 * MIB, cpu_seconds=7) as pool:
        [pid] = pool.worker_pids()
        limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
        row = {line[:26].strip(): line[26:].split() for line in limits[1:]}
        assert row["Max address space"][:2] == [str(300 * MIB)] * 2
        assert row["Max core file size"][:2] == ["0", "0"]
        assert int(row["Max cpu time"][0]) >= 7  # re-armed before each job: seconds used so far + 7


def test_workers_do_not_inherit_the_parents_memory() -> None:
    """Started by spawn, a worker is a fresh interpreter: the parent's 300 MB are not in it."""
    ballast = bytearray(os.urandom(1024)) * (300 * 1024)
    with _pool(1) as pool:
        [pid] = pool.worker_pids()
        assert _rss_kib(pid) < 100 * 1024
        _assert_serves(pool)
    assert len(ballast) == 300 * MIB


def test_a_worker_is_renewed_after_its_share_of_jobs() -> None:
    with _pool(1, max_jobs_per_worker=2) as pool:
        [first] = pool.worker_pids()
        _assert_serves(pool)
        _assert_serves(pool)
        [second] = pool.worker_pids()
        assert second != first
        _assert_serves(pool)


# ------------------------------------------------------------------ callers


def test_many_threads_share_the_pool(pool: ParserPool) -> None:
    failures: list[BaseException] = []

    def work() -> None:
        try:
            _assert_serves(pool)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []


async def test_asyncio_callers_get_their_own_answers(pool: ParserPool) -> None:
    good, bad = hostile.normal_pdf(), hostile.encrypted_pdf()
    results = await asyncio.gather(
        *(pool.pages_text(content) for content in (good, bad, good, bad, good)), return_exceptions=True
    )
    for content, result in zip((good, bad, good, bad, good), results, strict=True):
        if content is good:
            assert isinstance(result, list) and result[0].splitlines() == _expected_confirmation()
        else:
            assert isinstance(result, ParseRejected) and result.kind == "encrypted"


async def test_a_cancelled_request_frees_its_worker_at_once(pool: ParserPool) -> None:
    task = asyncio.create_task(pool.pages_text(hostile.xobject_fanout_pdf()))
    while not pool.busy_pids():
        await asyncio.sleep(0.01)
    [victim] = pool.busy_pids()
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    while victim in pool.worker_pids():
        await asyncio.sleep(0.01)
    assert time.monotonic() - started < TIMEOUT_S  # killed, not left to run into its timeout
    result = await pool.pages_text(hostile.normal_pdf())
    assert result[0].splitlines() == _expected_confirmation()


def test_a_pool_serves_only_between_start_and_close() -> None:
    pool = _pool(1)
    with pytest.raises(SandboxUnavailable, match="start"):
        pool.pages_text_sync(hostile.normal_pdf())
    pool.start()
    try:
        assert len(pool.worker_pids()) == 1
        _assert_serves(pool)
    finally:
        pool.close()
    with pytest.raises(SandboxUnavailable, match="closed"):
        pool.pages_text_sync(hostile.normal_pdf())
    pool.close()  # twice is harmless


def test_close_fails_a_running_job_as_unavailable_not_as_the_files_fault() -> None:
    pool = _pool(1, timeout_s=30.0, cpu_seconds=30)
    pool.start()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            pool.pages_text_sync(hostile.xobject_fanout_pdf())
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    _wait_for(lambda: bool(pool.busy_pids()), "the job to start")
    pool.close()
    thread.join(10)
    [error] = outcome
    assert isinstance(error, SandboxUnavailable)
