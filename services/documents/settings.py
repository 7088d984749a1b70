"""documents' own settings (environment, prefix OPSUITE_)."""

from __future__ import annotations

from pydantic import DirectoryPath, Field

from services.common.serve import MAX_MESSAGE_BYTES
from services.common.settings import Settings

# The largest upload limit a setting may give: a request is the document and a few short fields, and
# gRPC refuses a message over MAX_MESSAGE_BYTES itself, before documents could name its own limit.
MAX_UPLOAD_LIMIT = MAX_MESSAGE_BYTES - 64 * 1024


class DocumentsSettings(Settings):
    # Uploads larger than this are refused (RESOURCE_EXHAUSTED; the edge answers 413) before any
    # parsing. The edge's own body limit (OPSUITE_EDGE_MAX_BODY_BYTES, 16 MiB) holds 10 MiB in base64.
    documents_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=MAX_UPLOAD_LIMIT,
        description=f"bytes, from 1024 to {MAX_UPLOAD_LIMIT} (gRPC's message limit, less room for the request's other fields)",
    )
    # A policy (IngestPolicy) larger than this is refused the same way: each of its sentences is
    # embedded when it is ingested, so a policy costs far more to take than a confirmation of its size.
    documents_max_policy_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        le=MAX_UPLOAD_LIMIT,
        description=f"bytes, from 1024 to {MAX_UPLOAD_LIMIT}",
    )
    # PDF text runs in worker processes with these limits, so a hostile file costs one worker.
    documents_workers: int = Field(
        default=2, ge=1, le=16, description="a number of worker processes, 1 to 16"
    )
    documents_worker_memory_mb: int = Field(default=512, ge=64, description="megabytes, 64 or more")
    documents_worker_timeout_s: float = Field(default=10.0, gt=0, description="seconds, more than 0")
    documents_max_pages: int = Field(default=50, ge=1, description="pages, 1 or more")
    # A folder of the user's own confirmation templates (*.toml), read beside the shipped ones.
    documents_templates: DirectoryPath | None = Field(
        default=None, description="the path of an existing folder of template files, or nothing"
    )
    # True: an uploaded confirmation that disagrees with its fill raises a recon break (RaiseBreak).
    documents_raise_breaks: bool = Field(default=True, description="true or false")
    # True: market's own confirmations that disagree with their fills raise recon breaks too; each
    # closes when the broker replaces the confirmation (docs/documents.md, "Market's own
    # confirmations"). False: they are read and recorded only.
    documents_raise_market_breaks: bool = Field(default=True, description="true or false")
    # True: load the embedding model for the SOP assistant (Ask, IngestPolicy, ListPolicies); False:
    # those answer UNAVAILABLE saying so, and confirmations are still extracted (a machine or a test
    # that needs no answers saves the model's 10-20 s and 0.5 GB).
    documents_use_model: bool = Field(default=True, description="true or false")
    # Threads torch computes one question's embedding with. One by default: on the 2-core machine it
    # was as fast at the median as two and without their bursts at p95 (bench/README.md, "Ask, warm").
    documents_torch_threads: int = Field(default=1, ge=1, le=64, description="threads, 1 to 64")
