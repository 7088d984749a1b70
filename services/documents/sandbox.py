"""Text out of untrusted PDFs, parsed where a hostile file can cost one worker process and nothing more.

`pdf_pages_text` is the parse itself; it runs only inside a worker. `ParserPool` keeps N warm
workers, each a `spawn` (or `forkserver`) child that inherits none of the parent's memory (the
service later loads torch and a sentence-transformers model), under `resource` limits set once the
worker has imported pypdf: RLIMIT_AS (address space, default 512 MiB), RLIMIT_CPU (re-armed before
each job, since it counts a process's whole life) and RLIMIT_CORE 0 (a worker killed by its limits
leaves no core file). The parent adds a wall-clock limit per job (default 10 s).

Why not `concurrent.futures.ProcessPoolExecutor`: a worker that dies (SIGKILL from a timeout, the
OOM killer or an operator) breaks the whole executor with BrokenProcessPool, failing every job in
flight on the other workers too, and it offers no way to kill the one worker that runs a given job.
So each worker here is a `multiprocessing.Process` with its own pipe, serving one job at a time: a
job's thread sends the bytes, waits on the pipe and the process sentinel with the job's deadline,
and on a timeout kills exactly that process. A dead or killed worker fails only the job it was
running; the job's thread starts its replacement, which the next job waits for. A worker is also
retired (and replaced) after any job that ran out of memory or time and after `max_jobs_per_worker`
jobs, so what one file leaves behind in a worker never meets the next file for long.

The worker answers in JSON, never pickle: the parent does not unpickle what a process that has just
read a hostile file sends it, and it reads at most a bounded number of bytes of it.

Every refusal is a `ParseRejected` with a `kind` a program branches on and a `reason` a person can
act on. Failures of the sandbox itself (not started, closed, a worker that cannot start) are
`SandboxUnavailable`: the file is not to blame and the request may be retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import queue
import resource
import signal
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Final, Literal, cast, get_args

if TYPE_CHECKING:
    from pypdf import PageObject

_log = logging.getLogger(__name__)

MIB: Final = 1 << 20

RejectionKind = Literal[
    "encrypted",
    "corrupt",
    "truncated",
    "empty",
    "too_large",
    "too_many_pages",
    "timeout",
    "memory",
    "not_pdf",
    "no_text",
]
REJECTION_KINDS: Final[frozenset[str]] = frozenset(get_args(RejectionKind))

DEFAULT_WORKERS: Final = 2
DEFAULT_MEMORY_BYTES: Final = 512 * MIB
DEFAULT_TIMEOUT_S: Final = 10.0
DEFAULT_CPU_SECONDS: Final = 10
DEFAULT_MAX_PAGES: Final = 200
# A confirmation is a few thousand characters; a policy a few hundred thousand.
DEFAULT_MAX_TEXT_CHARS: Final = 5_000_000
DEFAULT_MAX_JOBS_PER_WORKER: Final = 200
# A spawned worker imports pypdf before it is ready; on a loaded CI machine that can take seconds.
DEFAULT_START_TIMEOUT_S: Final = 60.0

# The PDF header may follow up to 1 KiB of junk, and %%EOF must be within the last 1 KiB (what
# Acrobat accepts; pypdf's strict mode demands the same).
_HEADER_WINDOW: Final = 1024
_EOF_WINDOW: Final = 1024

# The start of files people send instead of a PDF, to say what was sent.
_SIGNATURES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive (or a Word/Excel file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"%!PS", "a PostScript file"),
)


class ParseRejected(Exception):
    """The file cannot be read as a PDF with text: `kind` for programs, `reason` for people."""

    def __init__(self, kind: RejectionKind, reason: str) -> None:
        super().__init__(reason)
        self.kind: RejectionKind = kind
        self.reason = reason

    def __repr__(self) -> str:
        return f"ParseRejected({self.kind!r}, {self.reason!r})"


class SandboxUnavailable(RuntimeError):
    """The sandbox could not run the job (not started, closing, or a worker failed to start).

    Not the file's fault: a gRPC service answers UNAVAILABLE, and the client may retry.
    """


# ------------------------------------------------------------------------------- inside the worker


def pdf_pages_text(
    content: bytes, *, max_pages: int, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
) -> list[str]:
    """The text of each page of a PDF, or ParseRejected saying why there is none to give.

    Runs inside a sandbox worker (`ParserPool`): it trusts pypdf to fail, not to finish quickly or
    small, and leaves time and memory to the worker's limits. Each page's text is read in pypdf's
    layout mode, which places text by its position on the page, so fixed-width tables keep their
    columns whether the producer wrote a line as one string or each cell on its own; where the page
    draws form XObjects (which layout mode does not enter) plain mode is read as well and kept if it
    found more. Trailing spaces are stripped from each line; characters that are not valid Unicode
    become "?".
    """
    _check_signature(content)
    if b"%%EOF" not in content[-_EOF_WINDOW:]:
        if b"obj" not in content:
            raise ParseRejected(
                "corrupt", "the file starts like a PDF but holds no PDF objects; it is damaged or not a PDF"
            )
        raise ParseRejected(
            "truncated",
            f"the PDF is cut short ({len(content):,} bytes with no %%EOF marker at its end); "
            "send the complete file",
        )
    try:
        return _read(content, max_pages=max_pages, max_text_chars=max_text_chars)
    except ParseRejected:
        raise
    except Exception as error:
        raise _classify(error) from error


def _check_signature(content: bytes) -> None:
    if not content:
        raise ParseRejected("empty", "the file is empty (0 bytes); send the PDF itself")
    if b"%PDF-" in content[: _HEADER_WINDOW + 5]:
        return
    for signature, what in _SIGNATURES:
        if content.startswith(signature):
            raise ParseRejected("not_pdf", f"the file is {what}, not a PDF")
    if not content.strip():
        raise ParseRejected("empty", f"the file holds only whitespace ({len(content):,} bytes)")
    raise ParseRejected("not_pdf", "the file does not start with a PDF header (%PDF-); it is not a PDF")


def _read(content: bytes, *, max_pages: int, max_text_chars: int) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content), strict=False)
    if reader.is_encrypted:
        raise ParseRejected("encrypted", "the PDF is encrypted; send it without a password")
    # The count the page tree declares, before walking it: cheap, and usually honest.
    tree = _resolved(reader.root_object.get("/Pages"))
    declared = _resolved(tree.get("/Count")) if isinstance(tree, dict) else None
    if isinstance(declared, int) and declared > max_pages:
        raise _too_many_pages(declared, max_pages)
    pages = reader.pages
    count = len(pages)  # walks the tree (pypdf bounds its depth and size, and detects cycles)
    if count == 0:
        raise ParseRejected("empty", "the PDF has no pages")
    if count > max_pages:
        raise _too_many_pages(count, max_pages)
    texts: list[str] = []
    total = 0
    for page in pages:
        text = _page_text(page)
        total += len(text)
        if total > max_text_chars:
            raise ParseRejected(
                "too_large",
                f"the PDF's text runs past {max_text_chars:,} characters (page {len(texts) + 1} of "
                f"{count}); split the document",
            )
        texts.append(text)
    if not any(text.strip() for text in texts):
        raise ParseRejected("no_text", "the PDF has no text layer (a scan?); OCR is not supported")
    return texts


def _too_many_pages(count: int, max_pages: int) -> ParseRejected:
    return ParseRejected(
        "too_many_pages", f"the PDF has {count:,} pages, more than the {max_pages:,} accepted; split it"
    )


def _page_text(page: PageObject) -> str:
    from pypdf.errors import LimitReachedError

    layout: str | None
    try:
        layout = page.extract_text(extraction_mode="layout")
    except (MemoryError, RecursionError, LimitReachedError):
        raise
    except Exception:  # layout mode is the younger code: plain mode may still read the page
        layout = None
    text = layout
    if layout is None or not layout.strip() or _draws_forms(page):
        plain = page.extract_text()
        if layout is None or _visible(plain) > _visible(layout):
            text = plain
    assert text is not None
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _draws_forms(page: PageObject) -> bool:
    """Whether the page's resources hold a form XObject (text in it is invisible to layout mode)."""
    resources = _resolved(page.get("/Resources"))
    xobjects = _resolved(resources.get("/XObject")) if isinstance(resources, dict) else None
    if not isinstance(xobjects, dict):
        return False
    for value in xobjects.values():
        xobject = _resolved(value)
        if isinstance(xobject, dict) and xobject.get("/Subtype") == "/Form":
            return True
    return False


def _resolved(value: object) -> object:
    """An indirect reference's object; anything else as it is."""
    from pypdf.generic import PdfObject

    return value.get_object() if isinstance(value, PdfObject) else value


def _visible(text: str) -> int:
    return sum(1 for character in text if not character.isspace())


_MEMORY_REASON: Final = "reading the PDF needs more memory than the parser is allowed (a decompression bomb?)"


def _classify(error: BaseException) -> ParseRejected:
    """What an exception out of pypdf says about the file."""
    from pypdf.errors import LimitReachedError

    chain = list(_causes(error))
    if any(isinstance(link, MemoryError) for link in chain):
        return ParseRejected("memory", _MEMORY_REASON)
    if any(isinstance(link, RecursionError) for link in chain):
        return ParseRejected("corrupt", "the PDF nests its objects too deeply to read; it is malformed")
    for link in chain:
        if isinstance(link, LimitReachedError):
            detail = _detail(link)
            if "decompress" in detail.lower() or "output" in detail.lower():
                return ParseRejected(
                    "memory",
                    f"a stream in the PDF inflates past the parser's limit (a decompression bomb?): {detail}",
                )
            return ParseRejected("too_large", f"the PDF is larger inside than the parser accepts: {detail}")
    return ParseRejected("corrupt", f"the PDF is damaged and cannot be read ({_detail(error)})")


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _detail(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True)
class _WorkerConfig:
    memory_bytes: int
    cpu_seconds: int
    max_pages: int
    max_text_chars: int


def _quiet() -> None:
    """pypdf logs and warns about every flaw it works around: a hostile file makes thousands."""
    warnings.simplefilter("ignore")
    pypdf_logger = logging.getLogger("pypdf")
    pypdf_logger.addHandler(logging.NullHandler())
    pypdf_logger.propagate = False
    pypdf_logger.setLevel(logging.CRITICAL + 1)


def _apply_limits(config: _WorkerConfig) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _, hard_as = resource.getrlimit(resource.RLIMIT_AS)
    memory = config.memory_bytes if hard_as == resource.RLIM_INFINITY else min(config.memory_bytes, hard_as)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    _arm_cpu_limit(config.cpu_seconds)


def _arm_cpu_limit(seconds: int) -> None:
    """RLIMIT_CPU counts the process's whole life: allow `seconds` more from now (SIGXCPU then)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _worker_main(conn: Connection, config: _WorkerConfig) -> None:
    """A worker's life: import pypdf, take the limits, say ready, then one job at a time until EOF."""
    _quiet()
    import pypdf  # noqa: F401  (warm: the import costs more than a small PDF's parse)

    # SIGINT (a terminal's Ctrl-C reaches the whole process group) is the parent's to handle.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _apply_limits(config)
    try:
        conn.send_bytes(b'{"ready": true}')
    except OSError:
        return  # the pool closed before this worker was ready
    while True:
        try:
            content = conn.recv_bytes()
        except (EOFError, OSError):
            # The pool let this worker go (or the parent is gone). Leave at once: the interpreter's
            # clean-up would only walk a heap a hostile file may have filled to the limit.
            os._exit(0)
        _arm_cpu_limit(config.cpu_seconds)
        try:
            reply = _job_reply(content, config)
        except MemoryError:  # so short of memory that even the refusal could not be written
            reply = _MEMORY_REPLY
        del content
        try:
            conn.send_bytes(reply)
        except OSError:
            os._exit(0)


_MEMORY_REPLY: Final = json.dumps({"kind": "memory", "reason": _MEMORY_REASON}).encode()


def _job_reply(content: bytes, config: _WorkerConfig) -> bytes:
    try:
        pages = pdf_pages_text(content, max_pages=config.max_pages, max_text_chars=config.max_text_chars)
    except ParseRejected as rejected:
        return _rejection_reply(rejected)
    except Exception as error:  # anything else pypdf raises (MemoryError included) is the file's doing
        return _rejection_reply(_classify(error))
    return json.dumps({"pages": pages}, ensure_ascii=False).encode("utf-8")


def _rejection_reply(rejected: ParseRejected) -> bytes:
    return json.dumps({"kind": rejected.kind, "reason": rejected.reason}).encode()


# ------------------------------------------------------------------------------- in the parent


class _Spawn:
    """A place in the pool whose worker could not be started: the job that takes it starts one."""


_SPAWN: Final = _Spawn()


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    jobs: int = 0


@dataclass(eq=False)
class _Job:
    content: bytes
    lock: threading.Lock = field(default_factory=threading.Lock)
    worker: _Worker | None = None
    cancelled: bool = False

    def cancel(self) -> None:
        """Abandon the job: a worker running it is killed (its thread then replaces the worker)."""
        with self.lock:
            self.cancelled = True
            if self.worker is not None:
                _kill(self.worker)


class ParserPool:
    """N warm worker processes that turn PDF bytes into page texts, or refuse with ParseRejected.

    Thread-safe and asyncio-friendly: `await pages_text(content)` from an event loop (grpc.aio),
    `pages_text_sync(content)` from any thread. At most `workers` jobs run at once; the rest wait
    for a worker (that wait is not counted in the job's timeout). Use `start()` before the first
    job (it waits until every worker is warm) and `close()` at shutdown, or `with ParserPool() as pool`.
    """

    def __init__(
        self,
        workers: int = DEFAULT_WORKERS,
        *,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        cpu_seconds: int = DEFAULT_CPU_SECONDS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
        max_jobs_per_worker: int = DEFAULT_MAX_JOBS_PER_WORKER,
        start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
        start_method: Literal["spawn", "forkserver"] = "spawn",
    ) -> None:
        if workers < 1:
            raise ValueError(f"a pool needs at least one worker, not {workers}")
        if memory_bytes < 64 * MIB:
            raise ValueError(
                f"memory_bytes of {memory_bytes:,} is too small for a Python worker (64 MiB at least)"
            )
        if cpu_seconds < 1 or timeout_s <= 0 or max_pages < 1 or max_jobs_per_worker < 1:
            raise ValueError("cpu_seconds, timeout_s, max_pages and max_jobs_per_worker must be positive")
        self.size = workers
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        self.cpu_seconds = cpu_seconds
        self.max_jobs_per_worker = max_jobs_per_worker
        self.start_timeout_s = start_timeout_s
        self._config = _WorkerConfig(
            memory_bytes=memory_bytes,
            cpu_seconds=cpu_seconds,
            max_pages=max_pages,
            max_text_chars=max_text_chars,
        )
        # The largest reply a worker may send: every character escaped in JSON, plus framing.
        self._max_reply_bytes = 6 * max_text_chars + 16 * max_pages + 4096
        self._context = (
            multiprocessing.get_context("forkserver")
            if start_method == "forkserver"
            else multiprocessing.get_context("spawn")
        )
        # Idle workers; _SPAWN where a worker could not be replaced (the next job starts one);
        # None once the pool closes (it wakes every waiting thread).
        self._idle: queue.SimpleQueue[_Worker | _Spawn | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._busy: dict[_Worker, float] = {}
        self._state: Literal["new", "running", "closed"] = "new"
        self._threads: ThreadPoolExecutor | None = None
        self._counts: Counter[str] = Counter()

    # ---------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Start every worker and wait until each has imported pypdf and taken its limits."""
        with self._lock:
            if self._state != "new":
                raise SandboxUnavailable(f"the parser pool is {self._state}; start() runs once")
            self._state = "running"
            self._threads = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="pdf-sandbox")
            started = [self._spawn_locked() for _ in range(self.size)]
        try:
            for worker in started:
                self._wait_ready(worker)
        except BaseException:
            self.close()
            raise
        for worker in started:
            self._idle.put(worker)

    def close(self) -> None:
        """Stop every worker. Jobs still running fail with SandboxUnavailable; waiting ones too."""
        with self._lock:
            if self._state == "closed":
                return
            self._state = "closed"
            workers = list(self._workers)
            busy = set(self._busy)
            self._workers.clear()
            threads, self._threads = self._threads, None
        for _ in range(self.size):
            self._idle.put(None)  # wakes every thread waiting for a worker
        for worker in workers:
            if worker in busy:
                _kill(worker)  # its job's thread sees it end, and closes its pipe
            else:
                with contextlib.suppress(OSError):
                    worker.conn.close()  # an idle worker reads EOF and exits
        deadline = time.monotonic() + 2.0
        for worker in workers:
            # ValueError: a busy worker's thread has closed the process object first.
            with contextlib.suppress(ValueError):
                worker.process.join(max(0.0, deadline - time.monotonic()))
                if worker.process.is_alive():
                    _kill(worker)
                    worker.process.join(1.0)
        if threads is not None:
            threads.shutdown(wait=False)  # queued jobs find the pool closed: SandboxUnavailable

    def __enter__(self) -> ParserPool:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------- the jobs

    async def pages_text(self, content: bytes) -> list[str]:
        """The text of each page (see `pdf_pages_text`), parsed in a worker; for asyncio callers.

        If the awaiting task is cancelled (a gRPC client gone or past its deadline), the worker
        running the job is killed and replaced rather than left to finish for nobody.
        """
        threads = self._threads
        if threads is None or self._state != "running":
            raise self._unavailable()
        job = _Job(content)
        future = asyncio.get_running_loop().run_in_executor(threads, self._run, job)
        try:
            return await future
        except asyncio.CancelledError:
            job.cancel()
            raise

    def pages_text_sync(self, content: bytes) -> list[str]:
        """The same as `pages_text`, blocking the calling thread."""
        return self._run(_Job(content))

    def busy_pids(self) -> list[int]:
        """Process ids of the workers running a job now, oldest job first (for tests and ops)."""
        with self._lock:
            return [
                worker.process.pid or 0 for worker, _ in sorted(self._busy.items(), key=lambda item: item[1])
            ]

    def worker_pids(self) -> list[int]:
        """Process ids of every live worker, idle or busy."""
        with self._lock:
            return sorted(worker.process.pid or 0 for worker in self._workers)

    def stats(self) -> dict[str, int]:
        """Counters since start: jobs, ok, rejected:<kind>, workers_started, workers_replaced."""
        with self._lock:
            return dict(self._counts)

    def _run(self, job: _Job) -> list[str]:
        for _ in range(3):
            worker = self._acquire()
            with job.lock:
                if job.cancelled:
                    self._release(worker)
                    raise SandboxUnavailable("the job was cancelled")
                job.worker = worker
            try:
                outcome, keep = self._dispatch(worker, job)
            except BaseException:
                with job.lock:
                    job.worker = None
                self._retire(worker)
                raise
            with job.lock:
                job.worker = None
                cancelled = job.cancelled
            if outcome is None:
                continue  # the worker was gone before it took the job: the file is not to blame
            if keep and not cancelled:  # a cancel may have killed it just as it answered
                self._release(worker)
            else:
                self._retire(worker)
            if cancelled:
                raise SandboxUnavailable("the job was cancelled")
            if self._state != "running":
                raise SandboxUnavailable("the parser pool closed while the job ran")
            with self._lock:
                self._counts["jobs"] += 1
                self._counts["ok" if isinstance(outcome, list) else f"rejected:{outcome.kind}"] += 1
            if isinstance(outcome, list):
                return outcome
            raise outcome
        raise SandboxUnavailable("no PDF sandbox worker would take the job (each died before it could)")

    def _unavailable(self) -> SandboxUnavailable:
        if self._state == "new":
            return SandboxUnavailable("the parser pool is not started; call start() first")
        return SandboxUnavailable(f"the parser pool is {self._state}")

    def _acquire(self) -> _Worker:
        """An idle, warm worker: waits for one to be free, and for a fresh one to be ready."""
        while True:
            if self._state != "running":
                raise self._unavailable()
            worker = self._idle.get()
            if worker is None:
                self._idle.put(None)  # pass the wake-up on to the next waiter
                raise self._unavailable()
            if isinstance(worker, _Spawn):
                try:
                    with self._lock:
                        worker = self._spawn_locked()
                except OSError as error:
                    self._idle.put(_SPAWN)
                    raise SandboxUnavailable(f"a PDF sandbox worker could not be started: {error}") from error
            if not worker.ready:
                try:
                    self._wait_ready(worker)
                except SandboxUnavailable:
                    self._replace(worker)
                    raise
            if not worker.process.is_alive():
                self._replace(worker)
                continue
            with self._lock:
                self._busy[worker] = time.monotonic()
            return worker

    def _dispatch(self, worker: _Worker, job: _Job) -> tuple[list[str] | ParseRejected | None, bool]:
        """Run one job on `worker`: (pages or the rejection, whether the worker may take another).

        None instead of an outcome: the worker was dead before it could take the job (it is replaced
        here). A worker that does not answer in time is killed; the caller retires every worker this
        says may not take another job.
        """
        try:
            worker.conn.send_bytes(job.content)
        except OSError:
            self._replace(worker)
            return None, False
        worker.jobs += 1
        ready = multiprocessing.connection.wait(
            [worker.conn, worker.process.sentinel], timeout=self.timeout_s
        )
        if not ready:
            _kill(worker)
            return (
                ParseRejected(
                    "timeout",
                    f"reading the PDF took longer than {self.timeout_s:g} s and was stopped "
                    "(a very complex or hostile file?)",
                ),
                False,
            )
        if worker.conn not in ready:
            return self._died(worker), False
        try:
            reply = json.loads(worker.conn.recv_bytes(maxlength=self._max_reply_bytes))
        except (EOFError, ConnectionError):
            return self._died(worker), False
        except OSError:  # longer than maxlength (the unread rest makes the pipe useless)
            _kill(worker)
            return ParseRejected("too_large", "the PDF's text is too large to return"), False
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            _kill(worker)
            return ParseRejected("corrupt", "the parser returned an unreadable answer for this PDF"), False
        fresh = worker.jobs < self.max_jobs_per_worker
        if "pages" in reply:
            return [str(page) for page in reply["pages"]], fresh
        kind = str(reply.get("kind"))
        rejected = ParseRejected(
            cast(RejectionKind, kind) if kind in REJECTION_KINDS else "corrupt",
            str(reply.get("reason") or "the PDF cannot be read"),
        )
        # What a memory bomb left in a worker's heap is not for the next file.
        return rejected, fresh and rejected.kind not in ("memory", "timeout")

    def _died(self, worker: _Worker) -> ParseRejected:
        """The worker ended mid-job: say what its exit status tells about the file."""
        worker.process.join(5.0)
        code = worker.process.exitcode
        _log.warning("PDF sandbox worker %s died mid-job (exit status %s)", worker.process.pid, code)
        if code == -signal.SIGXCPU:
            return ParseRejected(
                "timeout",
                f"reading the PDF used more than {self.cpu_seconds} s of CPU and was stopped "
                "(a very complex or hostile file?)",
            )
        if code == -signal.SIGKILL:
            return ParseRejected(
                "memory",
                "the parser was killed while reading this PDF (out of memory?); the file may be a "
                "decompression bomb, or the service was short of memory: try it once more",
            )
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return ParseRejected("corrupt", f"the parser crashed on this PDF ({name}); the file is malformed")
        return ParseRejected("corrupt", f"the parser stopped while reading this PDF (exit status {code})")

    # ---------------------------------------------------------------- the workers

    def _spawn_locked(self) -> _Worker:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main, args=(child, self._config), name="pdf-sandbox", daemon=True
        )
        process.start()
        child.close()
        worker = _Worker(process=process, conn=parent)
        self._workers.add(worker)
        self._counts["workers_started"] += 1
        return worker

    def _wait_ready(self, worker: _Worker) -> None:
        ready = multiprocessing.connection.wait(
            [worker.conn, worker.process.sentinel], timeout=self.start_timeout_s
        )
        if worker.conn in ready:
            with contextlib.suppress(EOFError, OSError, ValueError):
                if json.loads(worker.conn.recv_bytes(maxlength=64)).get("ready"):
                    worker.ready = True
                    return
        _kill(worker)
        worker.process.join(1.0)
        if not ready:
            raise SandboxUnavailable(f"a PDF sandbox worker did not start within {self.start_timeout_s:g} s")
        raise SandboxUnavailable(
            f"a PDF sandbox worker exited while starting (exit status {worker.process.exitcode}; its "
            f"stderr says why): is memory_bytes ({self.memory_bytes:,}) enough, and is the main module "
            "safe to import (`if __name__ == '__main__':`)?"
        )

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.pop(worker, None)
            running = self._state == "running" and worker in self._workers
        if running:
            self._idle.put(worker)

    def _retire(self, worker: _Worker) -> None:
        """Let a worker go (its pipe closed, it exits; killed if it lingers) and start its replacement."""
        with contextlib.suppress(OSError):
            worker.conn.close()
        self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        """Forget `worker`, ending it, and (while the pool runs) queue a new one in its place.

        The new process starts now and warms up while it waits in the queue: the next job that
        takes it first waits for it to say it is ready.
        """
        fresh: _Worker | _Spawn | None = None
        with self._lock:
            self._busy.pop(worker, None)
            known = worker in self._workers
            self._workers.discard(worker)
            if known:
                self._counts["workers_replaced"] += 1
                if self._state == "running":
                    try:
                        fresh = self._spawn_locked()
                    except OSError:
                        _log.exception("a PDF sandbox worker could not be started; the next job tries again")
                        fresh = _SPAWN
        if fresh is not None:
            self._idle.put(fresh)
        with contextlib.suppress(ValueError):  # closed already: replaced once before
            worker.process.join(1.0)  # a retired worker exits on its own at once
            _kill(worker)
            worker.process.join(1.0)
            worker.process.close()
        with contextlib.suppress(OSError):
            worker.conn.close()


def _kill(worker: _Worker) -> None:
    with contextlib.suppress(ValueError, OSError, AttributeError):
        if worker.process.is_alive():
            worker.process.kill()
