"""documents service benchmark: `python -m bench.documents_service [--quick] [--json PATH]`
(see bench/README.md, "documents: extraction, Ask, model and memory").

Four figures, each beside a baseline measured in the same run:

1. Reading a confirmation, time per page. The documents: the corpus's templated and unseen layouts
   (bench/documents/corpus: its PDFs, and its texts apart) and market's own confirmations (a seeded
   simulation, seed 7 from 2020-02-03, no faults; bench/documents/extraction_accuracy.py's
   market_documents), every one rendered to PDF by services/market/pdf.py. Per document and round,
   in turn:
   - the service's read: services/documents/extracting.py's Reader.read, as ExtractConfirmation
     calls it, in this process on an event loop, over a warm ParserPool (the service's settings:
     2 workers, 512 MiB, 10 s, 50 pages): the size check, the format, the page texts from a sandbox
     worker (ParserPool.pages_text: pypdf in layout mode, JSON back over a pipe), then
     extract_text_document (template or generic reader) and require_confirmation. The time spent
     in pages_text is noted apart.
   - the baseline: bare pypdf in this process, `PdfReader(...).pages[i].extract_text()` for every
     page (plain mode). Ratio: the service's read / bare pypdf.
   - the worker's own parse (sandbox.pdf_pages_text) in this process: what the sandbox's pipe and
     the extraction add is the service's read minus this.
   - pypdfium2 (PdfDocument, get_textpage().get_text_range() per page), when it is installed, as a
     candidate fast path; its text is compared with the service's (exact, same words, and the same
     fields when extract_text_document reads it).
   A text document has no pages: its whole read (Reader.read) is given per document.
   Three 8-page PDFs (eight market confirmations each) show the cost of a page beyond the first.
2. Ask, once warm: a real running documents service, started with market and recon as
   tests/documents/conftest.py starts them (tests.support.processes.start_service; market at full
   speed for a few business days), asked every question of bench/documents/questions/
   calibration.toml over gRPC, one at a time, after a few warm-up questions. Baseline: a bare
   `embed([question])` of the same model in this process. Also timed: the embedding of the
   expanded question (the model call Ask makes), PolicyLibrary.ask in this process (the shipped
   policies in a store of its own: Ask without gRPC), and the bare embed with one torch thread
   (the service runs OPSUITE_DOCUMENTS_TORCH_THREADS, one by default). For each question every
   path runs once, in a rotating order, each after a pause (--pause-ms, 100): torch's threads spin a while after a call, and a
   call on the heels of another process's is slower for it on two cores. The service's answers
   and this process's must cite the same sections, or the bench exits with 1.
3. Model load: `python -c` processes (nothing imported before) each timing the import of
   sentence-transformers (torch with it), then embedding.load_model(), then a first embed; the
   service's own load_s from its log. The disk cache is warm (the files were read before): a first
   start after boot is slower.
4. Resident memory (VmRSS, and the peak VmHWM, from /proc/<pid>/status) of the documents process
   once SERVING and after the Ask run, and of each of its PDF workers.

--quick (for tests/test_bench_smoke.py): 12 PDFs, 4 texts, a 4-page PDF, 8 questions, one round,
one cold load, and the services start first so that the three loads of torch overlap (its figures
are not for reading). Without --quick, each part runs alone, one after the other. Results: printed, and written to bench/documents_service.json (--json elsewhere).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc

from bench.documents.extraction_accuracy import Document, corpus_documents, market_documents
from opsuite.documents.v1 import documents_pb2, documents_pb2_grpc
from services.common.status import RequestError
from services.documents.domain.extract import extract_text_document
from services.documents.domain.fields import Extraction
from services.documents.domain.templates import load_builtin_templates
from services.documents.extracting import Reader
from services.documents.sandbox import ParserPool, pdf_pages_text
from services.documents.settings import DocumentsSettings
from services.market.pdf import render_confirmation_pdf
from tests.support.processes import ServiceProcess, start_service

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bench" / "documents_service.json"
QUESTIONS = ROOT / "bench" / "documents" / "questions" / "calibration.toml"
PDF = "application/pdf"
SEED = 5  # the world's, as tests/documents/conftest.py
START = "2020-02-03"
AIM_PAGE_P50_MS = 20.0
AIM_ASK_P95_MS = 50.0
WARMUP_QUESTIONS = 3

COLD_LOAD = """
import json, os, time
t0 = time.perf_counter()
import sentence_transformers  # torch with it
from services.documents import embedding
t1 = time.perf_counter()
model = embedding.load_model()
t2 = time.perf_counter()
embedding.embed(["When is a settlement fail escalated?"], model)
t3 = time.perf_counter()
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_embed_ms": 1000 * (t3 - t2),
                  "rss_mib": int(status["VmRSS"].split()[0]) / 1024,
                  "torch_threads": __import__("torch").get_num_threads(), "ended": time.time()}))
"""


# ---------------------------------------------------------------- small helpers


def _ms(samples: Sequence[float]) -> dict[str, float]:
    """p50, p95 and max of seconds, in milliseconds."""
    ordered = sorted(samples)
    if not ordered:
        return {"p50": float("nan"), "p95": float("nan"), "max": float("nan"), "n": 0}
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "p50": round(1000 * statistics.median(ordered), 3),
        "p95": round(1000 * p95, 3),
        "max": round(1000 * ordered[-1], 3),
        "n": len(ordered),
    }


def _status(pid: int) -> dict[str, str]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in lines if ":" in line)


def _mib(pid: int, key: str = "VmRSS") -> float:
    value = _status(pid).get(key)
    return round(int(value.split()[0]) / 1024, 1) if value else float("nan")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _status(int(entry.name)).get("PPid", "").strip() == str(pid):
            found.append(int(entry.name))
    return sorted(found)


def _pdf_workers(pid: int) -> list[dict[str, Any]]:
    """The documents process's PDF workers (multiprocessing spawn children) and their memory."""
    workers = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "spawn_main" in cmdline:
            workers.append({"pid": child, "rss_mib": _mib(child), "peak_rss_mib": _mib(child, "VmHWM")})
    return workers


def _memory(pid: int) -> dict[str, Any]:
    return {
        "rss_mib": _mib(pid),
        "peak_rss_mib": _mib(pid, "VmHWM"),
        "pdf_workers": _pdf_workers(pid),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _code() -> dict[str, Any]:
    """The commit measured, and the documents files that differ from it (the tree is shared)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "changed_documents_files": git("status", "--porcelain", "services/documents").splitlines(),
    }


def _machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def _same_fields(a: Extraction, b: Extraction) -> bool:
    return a.layout == b.layout and {f.name: f.value for f in a.fields} == {f.name: f.value for f in b.fields}


def _words(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- the documents


def bench_documents(quick: bool) -> tuple[list[Document], list[Document], list[Document]]:
    """The one-confirmation PDFs, the texts, and the long PDFs (eight confirmations each)."""
    corpus = corpus_documents(["templated", "unseen"])
    market = market_documents(days=6 if quick else 40, count=4 if quick else 40)
    as_pdf = [
        d
        if d.content_type == PDF
        else replace(
            d,
            doc_id=d.doc_id.removesuffix(".txt") + ".pdf",
            content=render_confirmation_pdf(d.content.decode("utf-8"), title=d.doc_id.removesuffix(".txt")),
            content_type=PDF,
        )
        for d in market
    ]
    pdfs = [d for d in corpus if d.content_type == PDF] + as_pdf
    texts = [d for d in corpus if d.content_type != PDF]
    long = [
        _long_pdf(market[8 * n : 8 * n + 8] if len(market) >= 8 * (n + 1) else market, f"long-{n + 1}")
        for n in range(1 if quick else 3)
    ]
    if quick:
        pdfs = pdfs[::4][:8] + as_pdf[:4]
        texts = texts[::8][:4]
    return pdfs, texts, long


def _long_pdf(chunk: Sequence[Document], name: str) -> Document:
    """One PDF of several market confirmations, each on its own page(s)."""
    from fpdf import FPDF

    from services.market.pdf import PDF_CREATION_DATE

    pdf = FPDF(format="A4")
    pdf.set_creation_date(PDF_CREATION_DATE)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font("Courier", size=9)
    for document in chunk:
        text = _text_of(document)
        pdf.add_page()
        pdf.set_font("Courier", size=9)
        for line in text.splitlines():
            safe = line.encode("latin-1", errors="replace").decode("latin-1")
            pdf.multi_cell(0, 4.5, safe if safe else " ", new_x="LMARGIN", new_y="NEXT")
    return Document(name, "market", "long", "equity", bytes(pdf.output()), PDF, {})


def _text_of(document: Document) -> str:
    if document.content_type != PDF:
        return document.content.decode("utf-8")
    return "\n".join(pdf_pages_text(document.content, max_pages=50))


# ---------------------------------------------------------------- 1. extraction


class TimedPool:
    """The pool as Reader sees it, noting the time each pages_text takes."""

    def __init__(self, pool: ParserPool) -> None:
        self.pool = pool
        self.last_s = 0.0
        self.last_pages: list[str] = []

    async def pages_text(self, content: bytes) -> list[str]:
        started = time.perf_counter()
        try:
            self.last_pages = await self.pool.pages_text(content)
            return self.last_pages
        finally:
            self.last_s = time.perf_counter() - started


def _bare_pypdf(content: bytes) -> tuple[int, list[str]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    texts = [reader.pages[i].extract_text() for i in range(len(reader.pages))]
    return len(texts), texts


def _pdfium(content: bytes) -> list[str]:
    import pypdfium2 as pdfium  # type: ignore[import-not-found]

    document = pdfium.PdfDocument(content)
    try:
        texts = []
        for i in range(len(document)):
            page = document[i]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


@dataclass
class Samples:
    """Seconds per page of each path, over every (document, round)."""

    service: list[float] = field(default_factory=list)
    pool: list[float] = field(default_factory=list)
    rest: list[float] = field(default_factory=list)
    worker_in_process: list[float] = field(default_factory=list)
    pypdf: list[float] = field(default_factory=list)
    pdfium: list[float] = field(default_factory=list)


async def _extraction(
    pdfs: Sequence[Document], texts: Sequence[Document], long: Sequence[Document], rounds: int
) -> dict[str, Any]:
    settings = DocumentsSettings()
    pool = ParserPool(
        settings.documents_workers,
        memory_bytes=settings.documents_worker_memory_mb * 1024 * 1024,
        cpu_seconds=max(1, int(settings.documents_worker_timeout_s)),
        timeout_s=settings.documents_worker_timeout_s,
        max_pages=settings.documents_max_pages,
    )
    started = time.perf_counter()
    await asyncio.to_thread(pool.start)
    pool_start_s = time.perf_counter() - started
    timed = TimedPool(pool)
    templates = load_builtin_templates()
    reader = Reader(templates, timed, settings.documents_max_bytes)  # type: ignore[arg-type]
    try:
        import pypdfium2  # type: ignore[import-not-found]

        pdfium_version: str | None = getattr(pypdfium2, "V_PYPDFIUM2", None) or "installed"
    except ImportError:
        pdfium_version = None

    async def service_read(document: Document) -> tuple[float, float, Extraction | None, str]:
        started = time.perf_counter()
        try:
            extraction: Extraction | None = await reader.read(document.content, document.content_type)
            refused = ""
        except RequestError as error:
            extraction, refused = None, str(error)
        return time.perf_counter() - started, timed.last_s, extraction, refused

    # Warm: every document once (the workers' first layout-mode page, the templates' regexes).
    service_pages: dict[str, list[str]] = {}
    service_fields: dict[str, Extraction | None] = {}
    refused: dict[str, str] = {}
    for document in [*pdfs, *texts, *long]:
        _, _, extraction, why = await service_read(document)
        if document.content_type == PDF:
            service_pages[document.doc_id] = list(timed.last_pages)
        service_fields[document.doc_id] = extraction
        if why:
            refused[document.doc_id] = why
        if document.content_type == PDF:
            _bare_pypdf(document.content)
            if pdfium_version:
                _pdfium(document.content)

    single, many = Samples(), Samples()
    text_reads: list[float] = []
    order = random.Random(SEED)
    for _ in range(rounds):
        documents = [*pdfs, *texts, *long]
        order.shuffle(documents)
        for document in documents:
            total, in_pool, _, _ = await service_read(document)
            if document.content_type != PDF:
                text_reads.append(total)
                continue
            samples = many if document.layout == "long" else single
            t0 = time.perf_counter()
            pages, _ = _bare_pypdf(document.content)
            t1 = time.perf_counter()
            pdf_pages_text(document.content, max_pages=settings.documents_max_pages)
            t2 = time.perf_counter()
            samples.service.append(total / pages)
            samples.pool.append(in_pool / pages)
            samples.rest.append((total - in_pool) / pages)
            samples.pypdf.append((t1 - t0) / pages)
            samples.worker_in_process.append((t2 - t1) / pages)
            if pdfium_version:
                t3 = time.perf_counter()
                _pdfium(document.content)
                samples.pdfium.append((time.perf_counter() - t3) / pages)
    worker_memory = [
        {"pid": pid, "rss_mib": _mib(pid), "peak_rss_mib": _mib(pid, "VmHWM")} for pid in pool.worker_pids()
    ]
    pool.close()

    comparison: dict[str, Any] | None = None
    if pdfium_version:
        exact = words = fields = 0
        differing: list[str] = []
        for document in pdfs:
            ours = service_pages[document.doc_id]
            theirs = [t.replace("\r\n", "\n") for t in _pdfium(document.content)]
            exact += ours == theirs
            words += [_words(t) for t in ours] == [_words(t) for t in theirs]
            mine = service_fields[document.doc_id]
            try:
                other: Extraction | None = extract_text_document(theirs, is_pdf=True, templates=templates)
            except ValueError:
                other = None
            same = (mine is None and other is None) or (
                mine is not None and other is not None and _same_fields(mine, other)
            )
            fields += same
            if not same:
                differing.append(document.doc_id)
        comparison = {
            "documents": len(pdfs),
            "same_text_exactly": exact,
            "same_words": words,
            "same_fields_extracted": fields,
            "documents_with_other_fields": differing,
        }

    def rows(samples: Samples) -> dict[str, Any]:
        bare = _ms(samples.pypdf)
        out: dict[str, Any] = {
            "service_read": _ms(samples.service),
            "of_which_pool_pages_text": _ms(samples.pool),
            "of_which_after_the_pool": _ms(samples.rest),
            "worker_parse_in_process": _ms(samples.worker_in_process),
            "bare_pypdf_plain": bare,
        }
        ours = out["service_read"]
        out["service_vs_bare_pypdf"] = {
            "p50": round(ours["p50"] / bare["p50"], 2),
            "p95": round(ours["p95"] / bare["p95"], 2),
        }
        if samples.pdfium:
            out["pdfium"] = _ms(samples.pdfium)
            out["pdfium_vs_bare_pypdf"] = {
                "p50": round(out["pdfium"]["p50"] / bare["p50"], 3),
                "p95": round(out["pdfium"]["p95"] / bare["p95"], 3),
            }
        return out

    return {
        "documents": {
            "pdf": len(pdfs),
            "pdf_market": sum(d.group == "market" for d in pdfs),
            "text": len(texts),
            "long_pdfs": len(long),
            "long_pdf_pages": [len(service_pages[d.doc_id]) for d in long],
            "refused_by_the_reader": refused,
        },
        "rounds": rounds,
        "pool_start_s": round(pool_start_s, 2),
        "single_page_pdfs_per_page": rows(single),
        "long_pdfs_per_page": rows(many),
        "texts_per_document": _ms(text_reads),
        "pdfium_version": pdfium_version,
        "pdfium_against_the_service_text": comparison,
        "bench_pool_workers_memory": worker_memory,
    }


# ---------------------------------------------------------------- 3. model load, cold


def start_cold_load() -> tuple[subprocess.Popen[str], float]:
    """A `python -c` process that imports and loads the model and says how long each took."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    started = time.time()
    process = subprocess.Popen(
        [sys.executable, "-c", COLD_LOAD],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, started


def finish_cold_load(process: subprocess.Popen[str], started: float) -> dict[str, Any]:
    out, err = process.communicate(timeout=600)
    if process.returncode != 0:
        raise SystemExit(f"the cold model load failed:\n{err[-3000:]}")
    one = json.loads(out.strip().splitlines()[-1])
    ended = one.pop("ended")
    return {**{k: round(v, 3) for k, v in one.items()}, "process_wall_s": round(ended - started, 2)}


def summarise_cold_loads(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not runs:
        return None
    return {
        "runs": runs,
        "import_s_median": round(statistics.median(r["import_s"] for r in runs), 2),
        "load_s_median": round(statistics.median(r["load_s"] for r in runs), 2),
        "process_wall_s_median": round(statistics.median(r["process_wall_s"] for r in runs), 2),
        "rss_mib_median": round(statistics.median(r["rss_mib"] for r in runs), 1),
    }


# ---------------------------------------------------------------- 2. the running service


@dataclass
class World:
    root: Path
    processes: list[ServiceProcess]
    documents: ServiceProcess | None = None
    started: float = 0.0

    def stop(self) -> list[str]:
        problems = []
        for process in reversed(self.processes):
            try:
                code = process.stop()
            except AssertionError as error:
                problems.append(str(error)[:500])
                continue
            if code != 0:
                problems.append(f"{process.name} exited {code}: {process.log_text()[-1500:]}")
        return problems


def start_world(root: Path, days: int) -> World:
    """market (full speed, `days` business days), recon and documents, as tests/documents/conftest.py."""
    env = {
        "OPSUITE_SEED": str(SEED),
        "OPSUITE_START": START,
        "OPSUITE_DAYS": str(days),
        "OPSUITE_SPEED": "max",
        "OPSUITE_EVENTLOG_URL": f"sqlite:///{root}/eventlog.sqlite3",
        "OPSUITE_MARKET_FOLLOWERS": "recon,documents",
    }
    world = World(root, [])
    try:
        market = start_service("market", root / "market", env)
        world.processes.append(market)
        market.wait_serving()
        followers = {**env, "OPSUITE_MARKET_ADDR": market.address}
        recon = start_service("recon", root / "recon", {**followers, "OPSUITE_RECON_USE_LEDGER": "false"})
        world.processes.append(recon)
        recon.wait_serving()
        world.started = time.perf_counter()
        documents = start_service(
            "documents", root / "documents", {**followers, "OPSUITE_RECON_ADDR": recon.address}
        )
        world.processes.append(documents)
        world.documents = documents
    except BaseException:
        world.stop()
        raise
    return world


def _service_load_s(documents: ServiceProcess) -> float | None:
    for line in documents.lines:
        if "the SOP assistant is ready" in line:
            try:
                record = json.loads(line)
            except ValueError:
                return None
            value = record.get("load_s", record.get("extra", {}).get("load_s"))
            return float(value) if value is not None else None
    return None


def load_questions(count: int | None) -> list[str]:
    questions = [q["text"] for q in tomllib.loads(QUESTIONS.read_text(encoding="utf-8"))["question"]]
    return questions if count is None else questions[:: max(1, len(questions) // count)][:count]


def _key(citations: Sequence[Any]) -> list[tuple[str, str]]:
    return [(c.policy_id, c.section) for c in citations]


def build_library(model: Any, root: Path) -> tuple[Any, float]:
    """PolicyLibrary in this process over a store of its own, the shipped policies ingested."""
    from services.documents.embedding import embed
    from services.documents.library import PolicyLibrary
    from services.documents.store import open_store

    started = time.perf_counter()
    library = PolicyLibrary(open_store(root), lambda texts: embed(texts, model))
    library.ingest_shipped()
    library.load()
    return library, time.perf_counter() - started


def bench_ask(
    world: World, questions: Sequence[str], rounds: int, model: Any, library: Any, gap_s: float
) -> dict[str, Any]:
    import torch

    from services.documents.domain.retrieval import MAX_CITATIONS, expand_query
    from services.documents.embedding import embed

    documents = world.documents
    assert documents is not None
    documents.wait_serving(timeout=600)
    serving_after_s = time.perf_counter() - world.started
    pid = documents.process.pid
    serving_memory = _memory(pid)
    load_serving = _load()
    threads = torch.get_num_threads()

    def bare(texts: Sequence[str]) -> Any:
        return embed(texts, model)

    ask_s: list[float] = []
    embed_s: list[float] = []
    embed_one_thread_s: list[float] = []
    embed_expanded_s: list[float] = []
    library_s: list[float] = []
    disagreements: list[dict[str, Any]] = []
    with grpc.insecure_channel(documents.address) as channel:
        stub = documents_pb2_grpc.DocumentsServiceStub(channel)

        def ask(question: str) -> documents_pb2.AskResponse:
            return stub.Ask(documents_pb2.AskRequest(question=question), timeout=60)

        for question in questions[:WARMUP_QUESTIONS]:
            ask(question)
            bare([question])
            library.ask(question, max_citations=MAX_CITATIONS)

        def one_thread(question: str) -> Any:
            torch.set_num_threads(1)
            try:
                return bare([question])
            finally:
                torch.set_num_threads(threads)

        paths: dict[str, tuple[Callable[[str], Any], list[float]]] = {
            "ask": (ask, ask_s),
            "embed": (lambda q: bare([q]), embed_s),
            "expanded": (lambda q: bare([expand_query(q)]), embed_expanded_s),
            "library": (lambda q: library.ask(q, max_citations=MAX_CITATIONS), library_s),
            "one_thread": (one_thread, embed_one_thread_s),
        }
        names = list(paths)
        turn = 0
        for round_number in range(rounds):
            for question in questions:
                # Each path in turn, the order rotating, each after a pause: a question arrives on
                # its own, not on the heels of another process's (torch's threads spin a while
                # after each call on this 2-core machine).
                replies: dict[str, Any] = {}
                turn += 1
                for name in names[turn % len(names) :] + names[: turn % len(names)]:
                    call, samples = paths[name]
                    time.sleep(gap_s)
                    started = time.perf_counter()
                    replies[name] = call(question)
                    samples.append(time.perf_counter() - started)
                reply, mine = replies["ask"], replies["library"]
                if round_number == 0 and (
                    reply.grounded != mine.grounded or _key(reply.citations) != _key(mine.citations)
                ):
                    disagreements.append(
                        {
                            "question": question,
                            "service": [reply.grounded, _key(reply.citations)],
                            "in_process": [mine.grounded, _key(mine.citations)],
                        }
                    )
    ask_ms, embed_ms, library_ms = _ms(ask_s), _ms(embed_s), _ms(library_s)
    one_ms = _ms(embed_one_thread_s)
    return {
        "questions": len(questions),
        "rounds": rounds,
        "warmup_questions": WARMUP_QUESTIONS,
        "pause_before_each_call_ms": round(1000 * gap_s),
        "service_ask_grpc": ask_ms,
        "bare_embed_question": embed_ms,
        "embed_expanded_question": _ms(embed_expanded_s),
        "in_process_library_ask": library_ms,
        "bare_embed_question_one_torch_thread": one_ms,
        "torch_threads": threads,
        "samples_ms_in_order": {
            name: [round(1000 * x, 2) for x in samples] for name, (_, samples) in paths.items()
        },
        "service_ask_vs_bare_embed": {
            "p50": round(ask_ms["p50"] / embed_ms["p50"], 2),
            "p95": round(ask_ms["p95"] / embed_ms["p95"], 2),
        },
        "service_ask_vs_bare_embed_one_torch_thread": {
            "p50": round(ask_ms["p50"] / one_ms["p50"], 2),
            "p95": round(ask_ms["p95"] / one_ms["p95"], 2),
        },
        "in_process_ask_vs_bare_embed": {
            "p50": round(library_ms["p50"] / embed_ms["p50"], 2),
            "p95": round(library_ms["p95"] / embed_ms["p95"], 2),
        },
        "answers_disagreeing": disagreements,
        "load_average_serving": load_serving,
        "documents_serving_after_start_s": round(serving_after_s, 2),
        "documents_model_load_s_in_service": _service_load_s(documents),
        "memory_serving": serving_memory,
        "memory_after_ask": _memory(pid),
    }


# ---------------------------------------------------------------- run and print


def _line(name: str, row: dict[str, float], extra: str = "") -> str:
    return f"  {name:<44} p50 {row['p50']:8.2f} ms   p95 {row['p95']:8.2f} ms{extra}"


def print_report(result: dict[str, Any]) -> None:
    ex = result["extraction"]
    docs = ex["documents"]
    print(
        f"extraction: {docs['pdf']} one-confirmation PDFs ({docs['pdf_market']} of market's), "
        f"{docs['text']} texts, {docs['long_pdfs']} long PDFs ({docs['long_pdf_pages']} pages), "
        f"{ex['rounds']} round(s); pool started in {ex['pool_start_s']} s"
    )
    for title, key in (
        ("one-page PDFs, per page", "single_page_pdfs_per_page"),
        ("long PDFs, per page", "long_pdfs_per_page"),
    ):
        rows = ex[key]
        ratio = rows["service_vs_bare_pypdf"]
        print(f" {title}:")
        print(
            _line(
                "service read (Reader.read, warm pool)",
                rows["service_read"],
                f"   = {ratio['p50']:.2f} / {ratio['p95']:.2f} x bare pypdf",
            )
        )
        print(_line("  of which the pool's pages_text", rows["of_which_pool_pages_text"]))
        print(_line("  of which after the pool (extraction)", rows["of_which_after_the_pool"]))
        print(_line("worker's parse in process (layout mode)", rows["worker_parse_in_process"]))
        print(_line("bare pypdf extract_text (baseline)", rows["bare_pypdf_plain"]))
        if "pdfium" in rows:
            r = rows["pdfium_vs_bare_pypdf"]
            print(
                _line(
                    "pypdfium2 get_text_range",
                    rows["pdfium"],
                    f"   = {r['p50']:.3f} / {r['p95']:.3f} x bare pypdf",
                )
            )
    print(_line(" texts, per document (Reader.read)", ex["texts_per_document"]))
    if docs["refused_by_the_reader"]:
        print(f"  refused by the reader (timed all the same): {sorted(docs['refused_by_the_reader'])}")
    cmp = ex["pdfium_against_the_service_text"]
    if cmp is None:
        print("  pypdfium2 is not installed: no fast-path figures (.venv/bin/pip install pypdfium2)")
    else:
        print(
            f"  pypdfium2 against the service's text, {cmp['documents']} PDFs: the same text exactly "
            f"{cmp['same_text_exactly']}, the same words {cmp['same_words']}, the same fields extracted "
            f"{cmp['same_fields_extracted']}"
        )
    single = ex["single_page_pdfs_per_page"]["service_read"]
    print(
        f"  aim p50 under {AIM_PAGE_P50_MS:.0f} ms a page: {'met' if single['p50'] < AIM_PAGE_P50_MS else 'NOT met'} "
        f"({single['p50']:.1f} ms)"
    )

    load = result["model_load_cold"]
    if load is None:
        print("model load, cold: not measured (--cold-loads 0)")
    else:
        print(
            f"model load, cold python -c ({len(load['runs'])}): import {load['import_s_median']} s, "
            f"load {load['load_s_median']} s, to a first embedding {load['process_wall_s_median']} s, "
            f"RSS {load['rss_mib_median']} MiB (medians); "
            f"runs (import, load) {[(r['import_s'], r['load_s']) for r in load['runs']]}"
        )

    ask = result["ask"]
    ratio = ask["service_ask_vs_bare_embed"]
    print(
        f"Ask: {ask['questions']} questions x {ask['rounds']} round(s), after {ask['warmup_questions']} warm-up:"
    )
    print(
        _line(
            "service Ask over gRPC",
            ask["service_ask_grpc"],
            f"   = {ratio['p50']:.2f} / {ratio['p95']:.2f} x bare embed",
        )
    )
    r = ask["in_process_ask_vs_bare_embed"]
    print(
        _line(
            "PolicyLibrary.ask in process",
            ask["in_process_library_ask"],
            f"   = {r['p50']:.2f} / {r['p95']:.2f} x bare embed",
        )
    )
    print(_line("embed of the expanded question", ask["embed_expanded_question"]))
    print(_line("bare embed([question]) (baseline)", ask["bare_embed_question"]))
    r = ask["service_ask_vs_bare_embed_one_torch_thread"]
    print(
        _line(
            "bare embed([question]), one torch thread",
            ask["bare_embed_question_one_torch_thread"],
            f"   (Ask = {r['p50']:.2f} / {r['p95']:.2f} x this)",
        )
    )
    p95 = ask["service_ask_grpc"]["p95"]
    print(
        f"  aim p95 under {AIM_ASK_P95_MS:.0f} ms: {'met' if p95 < AIM_ASK_P95_MS else 'NOT met'} ({p95:.1f} ms)"
    )
    n = ask["questions"]
    print(
        f"  Ask answers agree: {n - len(ask['answers_disagreeing'])} of {n} cite the same sections in process"
    )
    print(
        f"  documents SERVING {ask['documents_serving_after_start_s']} s after its start "
        f"(its model load {ask['documents_model_load_s_in_service']} s)"
    )
    for when in ("memory_serving", "memory_after_ask"):
        mem = ask[when]
        workers = ", ".join(f"{w['rss_mib']:.0f}" for w in mem["pdf_workers"])
        print(
            f"  documents RSS {when.removeprefix('memory_').replace('_', ' ')}: {mem['rss_mib']:.0f} MiB "
            f"(peak {mem['peak_rss_mib']:.0f}); PDF workers {workers} MiB"
        )
    print(f"machine: {result['machine']['cpus']} cores, load average {result['load_average']}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few documents and questions (smoke test)")
    parser.add_argument("--json", type=Path, default=OUTPUT)
    parser.add_argument("--rounds", type=int, help="extraction rounds (default 5, quick 1)")
    parser.add_argument("--ask-rounds", type=int, help="rounds over the questions (default 5, quick 1)")
    parser.add_argument("--cold-loads", type=int, help="cold model loads (default 3; quick 1, or 0)")
    parser.add_argument(
        "--pause-ms", type=float, default=100.0, help="pause before each timed Ask or embed (default 100)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (1 if quick else 5)
    ask_rounds = args.ask_rounds or (1 if quick else 5)
    cold = args.cold_loads if args.cold_loads is not None else (1 if quick else 3)
    warnings.simplefilter("ignore")
    logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)

    began = time.perf_counter()
    loads: dict[str, list[float]] = {"start": _load()}
    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.documents_service" + (" --quick" if quick else ""),
        "machine": _machine(),
        "code": _code(),
        "quick": quick,
        "load_average": loads,
    }
    with tempfile.TemporaryDirectory(prefix="bench-documents-") as tmp:
        root = Path(tmp)
        world: World | None = None
        cold_runs: list[dict[str, Any]] = []
        pending: tuple[subprocess.Popen[str], float] | None = None
        try:
            if quick:
                # Everything at once, so that the three loads of torch overlap: the figures of a
                # quick run are not for reading.
                world = start_world(root / "world", days=3)
                pending = start_cold_load() if cold else None
            else:
                print(f"model load: {cold} cold python -c processes, one after the other ...", flush=True)
                for _ in range(cold):
                    cold_runs.append(finish_cold_load(*start_cold_load()))
                loads["after_cold_loads"] = _load()
            print("extraction ...", flush=True)
            pdfs, texts, long = bench_documents(quick)
            result["extraction"] = asyncio.run(_extraction(pdfs, texts, long, rounds))
            loads["after_extraction"] = _load()
            from services.documents.embedding import load_model

            model = load_model()
            library, library_build_s = build_library(model, root / "library")
            if pending is not None:
                cold_runs.append(finish_cold_load(*pending))
            result["model_load_cold"] = summarise_cold_loads(cold_runs)
            if world is None:
                print("starting market, recon and documents ...", flush=True)
                world = start_world(root / "world", days=10)
            questions = load_questions(8 if quick else None)
            print(f"Ask: {len(questions)} questions ...", flush=True)
            result["ask"] = bench_ask(world, questions, ask_rounds, model, library, args.pause_ms / 1000)
            result["ask"]["in_process_library_build_s"] = round(library_build_s, 2)
            library.store.close()
        finally:
            if pending is not None and pending[0].poll() is None:
                pending[0].kill()
                pending[0].wait()
            problems = world.stop() if world is not None else []
        if problems:
            raise SystemExit("a service did not stop cleanly:\n" + "\n".join(problems))
    loads["end"] = _load()
    result["seconds"] = round(time.perf_counter() - began, 1)
    print_report(result)
    print(f"done in {result['seconds']} s")
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {args.json}")
    if result["ask"]["answers_disagreeing"]:
        print("the service's answers and the in-process library's differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
