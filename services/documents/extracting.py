"""Reading an uploaded document: the size limit, the format, the PDF text from the sandboxed workers,
and the reader; each refusal as the status a person can act on, and nothing stored for it.

- larger than OPSUITE_DOCUMENTS_MAX_BYTES: RESOURCE_EXHAUSTED, before anything is parsed;
- empty, a content type not accepted, content that does not agree with its type, an MT515 or FIX
  message that is not a confirmation: INVALID_ARGUMENT naming the problem (formats.py, mt515.py,
  fix44.py say which);
- a PDF the worker rejects (encrypted, truncated, corrupt, too many pages, no text, a bomb that
  ran out of memory or time): INVALID_ARGUMENT with the worker's reason and its kind;
- a document read but stating no trade: INVALID_ARGUMENT (pipeline.require_confirmation);
- no worker can start (the pool is closed at shutdown): UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc

from services.common.status import FieldViolation, RequestError
from services.documents.domain.extract import extract_document, extract_text_document
from services.documents.domain.fields import Extraction
from services.documents.domain.formats import detect_format
from services.documents.domain.templates import Template
from services.documents.pipeline import NotAConfirmation, require_confirmation
from services.documents.sandbox import ParseRejected, ParserPool, SandboxUnavailable


def _invalid(reason: str, code: str, metadata: dict[str, str] | None = None) -> RequestError:
    return RequestError(
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
        violations=[FieldViolation("content", reason)],
        reason=code,
        metadata=metadata,
    )


def _no_pdf_here(_: bytes) -> Sequence[str]:
    raise AssertionError("PDFs are read by the worker pool, never in the service's process")


class Reader:
    def __init__(self, templates: Sequence[Template], pool: ParserPool, max_bytes: int) -> None:
        self.templates = tuple(templates)
        self.pool = pool
        self.max_bytes = max_bytes

    def check_size(self, content: bytes) -> None:
        if len(content) > self.max_bytes:
            raise RequestError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"the document is {len(content):,} bytes; this service accepts at most {self.max_bytes:,} "
                "(OPSUITE_DOCUMENTS_MAX_BYTES)",
                violations=[FieldViolation("content", f"at most {self.max_bytes:,} bytes")],
                reason="DOCUMENT_TOO_LARGE",
            )

    async def read(self, content: bytes, content_type: str) -> Extraction:
        """The fields of an uploaded confirmation (see the module for every refusal)."""
        self.check_size(content)
        try:
            kind = detect_format(content, content_type)
        except ValueError as error:
            raise _invalid(str(error), "UNREADABLE_DOCUMENT") from None
        try:
            if kind == "pdf":
                try:
                    pages = await self.pool.pages_text(content)
                except ParseRejected as rejected:
                    raise _invalid(
                        rejected.reason, f"PDF_{rejected.kind.upper()}", {"kind": rejected.kind}
                    ) from None
                except SandboxUnavailable as error:
                    raise RequestError(
                        grpc.StatusCode.UNAVAILABLE,
                        f"the PDF could not be read now ({error}); nothing was stored; send it again",
                        reason="PARSER_UNAVAILABLE",
                    ) from None
                extraction = await asyncio.to_thread(
                    extract_text_document, pages, is_pdf=True, templates=self.templates
                )
            else:
                extraction = await asyncio.to_thread(
                    extract_document, content, content_type, self.templates, _no_pdf_here
                )
            require_confirmation(extraction)
        except NotAConfirmation as error:
            raise _invalid(str(error), "NOT_A_CONFIRMATION") from None
        except ValueError as error:
            raise _invalid(str(error), "UNREADABLE_DOCUMENT") from None
        return extraction
