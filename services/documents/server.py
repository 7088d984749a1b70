"""DocumentsService: where each RPC's request is checked and handed to the rule that answers it.

ExtractConfirmation: extracting.Reader (size, format, sandboxed PDF text, reader), then
pipeline.Concluder (rules, match, what a mismatch owes), stored with its event-log record and the
break it owes in one transaction, then delivered (break_relay.BreakRelay: the response names the
recon break when recon took it now). Ask: library.PolicyLibrary.ask (domain/retrieval.py).
ListPolicies and IngestPolicy: the library's versions (IngestPolicy is idempotent by content).

Uploads are size-limited (OPSUITE_DOCUMENTS_MAX_BYTES, OPSUITE_DOCUMENTS_MAX_POLICY_BYTES:
RESOURCE_EXHAUSTED naming the limit, before anything is parsed) and never become files: a
confirmation and a policy are kept in the service's SQLite store under the data directory, keyed by
their ids and the SHA-256 of their content, and PDFs are read from memory by the sandboxed
workers. A request's file name is for the record only and its policy id a checked word (no '/',
'\\', '..', NUL), so nothing a request names can reach outside the data directory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import grpc
import grpc.aio

from opsuite.documents.v1 import documents_pb2, documents_pb2_grpc
from services.common import telemetry
from services.common.convert import date_from_proto, date_to_proto, timestamp_to_proto
from services.common.limits import MAX_NAME_CHARS, MAX_TEXT_CHARS, too_long
from services.common.market_events import Mandate
from services.common.paging import DEFAULT_PAGE, MAX_PAGE
from services.common.status import FieldViolation, RequestError, invalid_argument, rpc_errors, unknown_id
from services.documents.codec import response_to_proto
from services.documents.domain.policies import policy_id_problem
from services.documents.domain.retrieval import MAX_CITATIONS
from services.documents.extracting import Reader
from services.documents.library import MARKDOWN_TYPES, PDF_TYPE, PolicyConflict, PolicyLibrary
from services.documents.pipeline import Concluder, content_sha256, owed
from services.documents.sandbox import ParseRejected, SandboxUnavailable
from services.documents.store import DocumentsStore, PolicyRow

MAX_QUESTION_CHARS = 1_000
MAX_CITATIONS_ASKED = 10
UPLOAD_SOURCE = "upload"


@dataclass
class DocumentsContext:
    """What the servicer reads that the runtime fills in as it starts."""

    mandates: dict[str, Mandate] = field(default_factory=dict)
    concluder: Concluder | None = None
    library: PolicyLibrary | None = None
    library_off_reason: str = "the SOP assistant is still loading its model"
    library_failed: bool = False  # the model could not be loaded: no point asking again
    sim_time: Callable[[], dt.datetime | None] = lambda: None
    deliver: Callable[[], Awaitable[Mapping[str, str]]] | None = None
    # OPSUITE_DOCUMENTS_MAX_POLICY_BYTES: a larger policy is refused before it is read.
    max_policy_bytes: int = 2 * 1024 * 1024


def policy_to_proto(row: PolicyRow) -> documents_pb2.Policy:
    policy = documents_pb2.Policy(
        policy_id=row.policy_id,
        title=row.title,
        version=row.version,
        content_type=row.content_type,
        content_sha256=row.content_sha256,
        passage_count=row.passage_count,
        superseded_by_version=row.superseded_by,
    )
    if row.effective_date is not None:
        policy.effective_date.CopyFrom(date_to_proto(row.effective_date))
    policy.ingested_at.CopyFrom(timestamp_to_proto(row.ingested_at))
    return policy


class DocumentsServicer(documents_pb2_grpc.DocumentsServiceServicer):
    def __init__(self, store: DocumentsStore, reader: Reader, context: DocumentsContext) -> None:
        self.store = store
        self.reader = reader
        self.context = context

    # ------------------------------------------------------------ confirmations

    @rpc_errors
    async def ExtractConfirmation(
        self, request: documents_pb2.ExtractConfirmationRequest, context: grpc.aio.ServicerContext
    ) -> documents_pb2.ExtractConfirmationResponse:
        violations = too_long(
            [
                ("content_type", request.content_type, MAX_NAME_CHARS),
                ("filename", request.filename, MAX_NAME_CHARS),
                ("mandate_id", request.mandate_id, MAX_NAME_CHARS),
            ]
        )
        if violations:
            raise invalid_argument(violations)
        self.reader.check_size(request.content)
        if request.mandate_id and request.mandate_id not in self.context.mandates:
            raise unknown_id(
                "mandate_id",
                "mandate",
                request.mandate_id,
                sorted(self.context.mandates),
                "MarketService/ListMandates",
            )
        concluder = self.context.concluder
        if concluder is None:
            raise RequestError(
                grpc.StatusCode.UNAVAILABLE,
                "documents is still reading market's instruments; send the document again shortly",
                reason="NOT_READY",
            )
        extraction = await self.reader.read(request.content, request.content_type)
        sha = content_sha256(request.content)
        now = self.context.sim_time() or dt.datetime.now(dt.UTC)
        outcome = await asyncio.to_thread(
            concluder.conclude,
            extraction,
            sha,
            sim_time=now,
            trace_id=telemetry.trace_id_of(telemetry.current_traceparent()),
            mandate_hint=request.mandate_id,
        )
        response = response_to_proto(outcome)
        records, breaks = owed(outcome)
        await asyncio.to_thread(
            self.store.record_extraction,
            outcome.extraction_id,
            sha,
            UPLOAD_SOURCE,
            now,
            response.SerializeToString(),
            records,
            breaks,
        )
        if self.context.deliver is not None:
            taken = await self.context.deliver()
            break_id = taken.get(outcome.extraction_id, "")
            if break_id:
                response.break_id = break_id
                await asyncio.to_thread(
                    self.store.update_extraction, outcome.extraction_id, response.SerializeToString()
                )
            elif breaks:
                response.warnings.append(
                    "the mismatch owes recon a break, which recon could not take now; documents raises it "
                    "as soon as recon answers"
                )
        return response

    # ------------------------------------------------------------ policies

    def _library(self) -> PolicyLibrary:
        library = self.context.library
        if library is None and self.context.library_failed:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                self.context.library_off_reason,
                reason="MODEL_NOT_LOADED",
            )
        if library is None:
            raise RequestError(
                grpc.StatusCode.UNAVAILABLE, self.context.library_off_reason, reason="ASSISTANT_UNAVAILABLE"
            )
        return library

    @rpc_errors
    async def Ask(
        self, request: documents_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> documents_pb2.AskResponse:
        question = request.question.strip()
        violations: list[FieldViolation] = []
        if not question:
            violations.append(FieldViolation("question", "ask a question: it is empty"))
        violations += too_long([("question", request.question, MAX_QUESTION_CHARS)])
        if not 0 <= request.max_citations <= MAX_CITATIONS_ASKED:
            violations.append(
                FieldViolation("max_citations", f"0 (the default, {MAX_CITATIONS}) to {MAX_CITATIONS_ASKED}")
            )
        violations += too_long(
            [(f"policy_ids[{i}]", p, MAX_NAME_CHARS) for i, p in enumerate(request.policy_ids)]
        )
        if violations:
            raise invalid_argument(violations)
        library = self._library()
        known = library.known()
        for i, policy_id in enumerate(request.policy_ids):
            if policy_id not in known:
                raise unknown_id(
                    f"policy_ids[{i}]", "policy", policy_id, sorted(known), "DocumentsService/ListPolicies"
                )
        found = await asyncio.to_thread(
            library.ask,
            question,
            max_citations=request.max_citations or MAX_CITATIONS,
            policy_ids=list(request.policy_ids),
        )
        return documents_pb2.AskResponse(
            answer=found.text,
            grounded=found.grounded,
            trace_id=telemetry.trace_id_of(telemetry.current_traceparent()),
            citations=[
                documents_pb2.Citation(
                    policy_id=c.policy_id,
                    policy_title=c.policy_title,
                    policy_version=c.policy_version,
                    passage_id=c.passage_id,
                    section=c.section,
                    text=c.text,
                    score=c.score,
                )
                for c in found.citations
            ],
        )

    @rpc_errors
    async def ListPolicies(
        self, request: documents_pb2.ListPoliciesRequest, context: grpc.aio.ServicerContext
    ) -> documents_pb2.ListPoliciesResponse:
        if request.page_size < 0:
            raise invalid_argument([FieldViolation("page_size", "0 (the default) or more")])
        size = min(request.page_size or DEFAULT_PAGE, MAX_PAGE)
        rows = await asyncio.to_thread(self.store.policies, request.include_superseded)
        rows.sort(key=lambda r: (r.policy_id, r.ingested_at))
        start = 0
        if request.page_token:
            try:
                start = int(json.loads(request.page_token)["after"])
            except (ValueError, KeyError, TypeError):
                raise invalid_argument(
                    [FieldViolation("page_token", "not a token this service gave; start again without one")]
                ) from None
        page = rows[start : start + size]
        token = json.dumps({"after": start + size}) if start + size < len(rows) else ""
        return documents_pb2.ListPoliciesResponse(
            policies=[policy_to_proto(r) for r in page], next_page_token=token
        )

    @rpc_errors
    async def IngestPolicy(
        self, request: documents_pb2.IngestPolicyRequest, context: grpc.aio.ServicerContext
    ) -> documents_pb2.IngestPolicyResponse:
        violations = too_long(
            [
                ("policy_id", request.policy_id, MAX_NAME_CHARS),
                ("title", request.title, MAX_TEXT_CHARS),
                ("version", request.version, MAX_NAME_CHARS),
                ("content_type", request.content_type, MAX_NAME_CHARS),
            ]
        )
        content_type = request.content_type.strip().lower() or "text/markdown"
        if content_type not in MARKDOWN_TYPES and content_type != PDF_TYPE:
            violations.append(
                FieldViolation("content_type", "text/markdown, text/plain (Markdown) or application/pdf")
            )
        if not request.content:
            violations.append(FieldViolation("content", "the policy is empty"))
        limit = self.context.max_policy_bytes
        if len(request.content) > limit:
            raise RequestError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"the policy is {len(request.content):,} bytes; this service accepts at most {limit:,} "
                "(OPSUITE_DOCUMENTS_MAX_POLICY_BYTES)",
                violations=[FieldViolation("content", f"at most {limit:,} bytes")],
                reason="POLICY_TOO_LARGE",
            )
        # The id is a key of the store, never a path; it is still checked here, naming its field,
        # rather than when the policy is parsed.
        policy_id = request.policy_id.strip()
        if policy_id and len(policy_id) <= MAX_NAME_CHARS and (refused := policy_id_problem(policy_id)):
            violations.append(FieldViolation("policy_id", refused))
        effective = None
        if request.HasField("effective_date"):
            try:
                effective = date_from_proto(request.effective_date, "effective_date")
            except RequestError as error:
                violations.extend(error.violations)
        if violations:
            raise invalid_argument(violations)
        library = self._library()
        if content_type == PDF_TYPE:
            try:
                pages = await self.reader.pool.pages_text(request.content)
            except ParseRejected as rejected:
                raise invalid_argument(
                    [FieldViolation("content", rejected.reason)], rejected.reason
                ) from None
            except SandboxUnavailable as error:
                raise RequestError(
                    grpc.StatusCode.UNAVAILABLE, f"the PDF could not be read now: {error}"
                ) from None
            source = json.dumps(pages)
        else:
            try:
                source = request.content.decode("utf-8")
            except UnicodeDecodeError:
                raise invalid_argument([FieldViolation("content", "Markdown must be UTF-8 text")]) from None
        try:
            ingested = await asyncio.to_thread(
                library.ingest,
                source,
                PDF_TYPE if content_type == PDF_TYPE else "text/markdown",
                content_sha256(request.content),
                policy_id=request.policy_id.strip(),
                title=request.title.strip(),
                version=request.version.strip(),
                effective_date=effective,
            )
        except PolicyConflict as error:
            raise RequestError(grpc.StatusCode.ALREADY_EXISTS, str(error), reason="VERSION_EXISTS") from None
        except ValueError as error:
            raise invalid_argument([FieldViolation("content", str(error))], str(error)) from None
        return documents_pb2.IngestPolicyResponse(
            policy=policy_to_proto(ingested.row),
            passages_indexed=ingested.passages_indexed,
            unchanged=ingested.unchanged,
        )


def register(server: grpc.aio.Server, servicer: DocumentsServicer) -> list[str]:
    documents_pb2_grpc.add_DocumentsServiceServicer_to_server(servicer, server)
    return [documents_pb2.DESCRIPTOR.services_by_name["DocumentsService"].full_name]
