"""The policies the SOP assistant answers from: ingestion (Markdown or PDF; a new version supersedes
the old), the search index over the current versions, and Ask.

The shipped policies (services/documents/policies/*.md) are ingested at start-up when the store
does not hold their content yet, so a release's new wording reaches an existing data directory.
Each version's passages are embedded once, at ingestion, and the vectors are stored beside it;
start-up parses the stored source again and rebuilds the index from the stored vectors.

The library needs the embedding model: with the model off (OPSUITE_DOCUMENTS_USE_MODEL=false) the
service has no library, and Ask and IngestPolicy answer UNAVAILABLE saying so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from services.documents.domain.policies import PolicyDocument, parse_policy, policy_from_pdf_text
from services.documents.domain.retrieval import (
    Answer,
    Index,
    answer,
    embedding_texts,
    expand_query,
    passages_of,
)
from services.documents.domain.scope import OutOfScope, Topic, parse_topics
from services.documents.store import DocumentsStore, PolicyRow

MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown", "text/plain"})
PDF_TYPE = "application/pdf"
Embed = Callable[[Sequence[str]], NDArray[np.float32]]
DIMENSIONS = 384


class PolicyConflict(ValueError):
    """A version that exists already with other content."""


@dataclass(frozen=True)
class Ingested:
    row: PolicyRow
    passages_indexed: int
    unchanged: bool


OUT_OF_SCOPE_FILE = "out_of_scope.toml"


def shipped_topics() -> tuple[Topic, ...]:
    """The topics no shipped policy covers (services/documents/policies/out_of_scope.toml)."""
    entry = resources.files("services.documents").joinpath("policies", OUT_OF_SCOPE_FILE)
    return parse_topics(entry.read_text(encoding="utf-8"))


def shipped_policies() -> list[tuple[str, bytes]]:
    folder = resources.files("services.documents").joinpath("policies")
    return sorted(
        (entry.name, entry.read_bytes()) for entry in folder.iterdir() if entry.name.endswith(".md")
    )


def _document(
    row_source: str, content_type: str, *, policy_id: str, title: str, version: str, effective: dt.date | None
) -> PolicyDocument:
    if content_type == PDF_TYPE:
        pages = json.loads(row_source)
        return policy_from_pdf_text(
            pages, policy_id=policy_id, title=title, version=version, effective_date=effective
        )
    return parse_policy(
        row_source, policy_id=policy_id, title=title, version=version, effective_date=effective
    )


def _next_version(existing: Sequence[PolicyRow]) -> str:
    numbers = []
    for row in existing:
        head = row.version.split(".")[0]
        if head.isdigit():
            numbers.append(int(head))
    return f"{max(numbers, default=0) + 1}.0"


class PolicyLibrary:
    def __init__(self, store: DocumentsStore, embed: Embed, topics: Sequence[Topic] | None = None) -> None:
        self.store = store
        self.embed = embed
        self._lock = threading.Lock()
        self._index: Index | None = None
        self._rows: list[PolicyRow] = []
        chosen = shipped_topics() if topics is None else tuple(topics)
        self._topics = OutOfScope(
            chosen, self.embed([one.text for one in chosen]) if chosen else np.zeros((0, 1))
        )
        # The topics the current library does not cover (see services/documents/domain/scope.py).
        self._scope = self._topics

    def ingest(
        self,
        source: str,
        content_type: str,
        content_sha256: str,
        *,
        policy_id: str = "",
        title: str = "",
        version: str = "",
        effective_date: dt.date | None = None,
        shipped: bool = False,
        now: dt.datetime | None = None,
    ) -> Ingested:
        """Parse, embed and store a policy version (ValueError: not a policy; PolicyConflict)."""
        document = _document(
            source, content_type, policy_id=policy_id, title=title, version=version, effective=effective_date
        )
        with self._lock:
            versions = [
                r for r in self.store.policies(include_superseded=True) if r.policy_id == document.policy_id
            ]
            current = next((r for r in versions if not r.superseded_by), None)
            if current is not None and current.content_sha256 == content_sha256:
                return Ingested(current, current.passage_count, True)
            chosen = document.version or _next_version(versions)
            if any(r.version == chosen for r in versions):
                raise PolicyConflict(
                    f"version {chosen} of policy {document.policy_id} exists already with other content; "
                    "give the new content a new version"
                )
            document = PolicyDocument(
                document.policy_id, document.title, chosen, document.effective_date, document.sections
            )
            passages = passages_of([document])
            vectors = self.embed(embedding_texts(passages))
            row = PolicyRow(
                policy_id=document.policy_id,
                version=chosen,
                title=document.title,
                effective_date=document.effective_date,
                content_type=PDF_TYPE if content_type == PDF_TYPE else "text/markdown",
                content_sha256=content_sha256,
                ingested_at=now or dt.datetime.now(dt.UTC),
                superseded_by="",
                shipped=shipped,
                source=source,
                passage_count=len(passages),
                vectors=np.asarray(vectors, dtype=np.float32).tobytes(),
            )
            self.store.store_policy(row)
            self._rebuild()
            return Ingested(row, len(passages), False)

    def ingest_shipped(self) -> int:
        """The shipped policies whose content the store does not hold yet; how many were added."""
        added = 0
        for _, content in shipped_policies():
            sha = hashlib.sha256(content).hexdigest()
            if not self.ingest(content.decode("utf-8"), "text/markdown", sha, shipped=True).unchanged:
                added += 1
        return added

    def load(self) -> None:
        with self._lock:
            self._rebuild()

    def _rebuild(self) -> None:
        rows = self.store.policies()
        documents, matrices = [], []
        for row in rows:
            documents.append(
                _document(
                    row.source,
                    row.content_type,
                    policy_id=row.policy_id,
                    title=row.title,
                    version=row.version,
                    effective=row.effective_date,
                )
            )
            # One row per passage and sentence (embedding_texts); rows stored one per passage by an
            # earlier release still load (each sentence then takes its passage's vector).
            matrices.append(np.frombuffer(row.vectors, dtype=np.float32).reshape(-1, DIMENSIONS))
        self._rows = rows
        if not documents:
            self._index = None
            self._scope = self._topics
            return
        self._index = Index.of_documents(zip(documents, matrices, strict=True))
        self._scope = self._topics.active(np.vstack([self._index.vectors, self._index.unit_vectors]))

    def rows(self, include_superseded: bool = False) -> list[PolicyRow]:
        return self.store.policies(include_superseded=include_superseded)

    def known(self) -> set[str]:
        return {row.policy_id for row in self._rows}

    def ask(self, question: str, *, max_citations: int, policy_ids: Sequence[str] = ()) -> Answer:
        index, scope = self._index, self._scope
        if index is None:
            return answer(question, [])
        query = self.embed([expand_query(question)])[0]
        hits = index.search(question, query, policy_ids=policy_ids)
        return answer(
            question, hits, scope=scope.nearest(query), topics=scope.topics, max_citations=max_citations
        )

    def out_of_scope(self) -> tuple[Topic, ...]:
        """The topics the current library does not cover."""
        return self._scope.topics
