"""What the policies do not cover: topics of fund operations that no policy answers.

A bi-encoder and BM25 both find *something* for any operations question: "when is the
performance fee crystallised?" lands on the NAV policy's section on the management fee, with a
cosine as high as a covered question's. Knowing where the library's coverage ends is what tells
the two apart. services/documents/policies/out_of_scope.toml lists such topics (securities lending,
swing pricing, proxy voting, KYC, ...), written from the shipped policies and general knowledge of
fund operations, without sight of any evaluation question. A question nearer to one of them than
the policies' own passages are to it is likely not answered by the policies; the nearest topic's
cosine is the third feature of the refusal decision (services/documents/domain/retrieval.py).

A topic the library covers stops counting (it is *retired*): when a passage or one of its
sentences of the current library is at least RETIRED_AT cosine from the topic's text. The shipped
policies reach at most 0.642 on any topic (bench/documents/retrieval_eval.py records it), so none is
retired by them; a user who ingests a securities-lending policy retires the securities-lending
topic without editing the file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# A topic at least this near (cosine) to some passage or sentence of the library is covered by it.
RETIRED_AT = 0.66
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# The feature's value when no topic counts: the median nearest-topic cosine of the development
# questions (bench/documents/retrieval_eval.py), so the decision then leans neither way.
NO_TOPIC_COSINE = 0.42


@dataclass(frozen=True, slots=True)
class Topic:
    topic_id: str
    text: str


def parse_topics(content: str) -> tuple[Topic, ...]:
    """The [[topic]] entries of an out-of-scope file (id: kebab-case, unique; text: not empty)."""
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"the out-of-scope topics are not valid TOML: {error}") from error
    topics: list[Topic] = []
    seen: set[str] = set()
    for number, entry in enumerate(data.get("topic", []), start=1):
        topic_id = str(entry.get("id", ""))
        text = " ".join(str(entry.get("text", "")).split())
        if not _ID.fullmatch(topic_id):
            raise ValueError(
                f"topic {number}: id {topic_id!r} is not kebab-case (for example securities-lending)"
            )
        if topic_id in seen:
            raise ValueError(f"topic {number}: id {topic_id!r} is used twice")
        if not text:
            raise ValueError(f"topic {topic_id}: its text is empty")
        seen.add(topic_id)
        topics.append(Topic(topic_id, text))
    return tuple(topics)


@dataclass(frozen=True)
class Nearest:
    """The out-of-scope topic nearest to a question, and its cosine (None: no topic counts)."""

    topic_id: str | None
    cosine: float


class OutOfScope:
    """The topics still out of the library's scope, with their unit vectors."""

    def __init__(self, topics: Sequence[Topic], vectors: NDArray[np.floating]) -> None:
        matrix = (
            np.asarray(vectors, dtype=np.float64).reshape(len(topics), -1) if topics else np.zeros((0, 1))
        )
        if len(topics) and np.any(np.linalg.norm(matrix, axis=1) == 0):
            raise ValueError("a topic's embedding is all zeros: embed its text again")
        self.topics = tuple(topics)
        self.vectors = matrix / np.linalg.norm(matrix, axis=1, keepdims=True) if len(topics) else matrix

    def active(self, library_vectors: NDArray[np.floating]) -> OutOfScope:
        """The topics the library does not cover: none of its vectors (passages and sentences, unit
        length) within RETIRED_AT of the topic."""
        library = np.asarray(library_vectors, dtype=np.float64)
        if not self.topics or library.size == 0:
            return self
        library = library / np.linalg.norm(library, axis=1, keepdims=True)
        nearest = (self.vectors @ library.T).max(axis=1)
        keep = [at for at in range(len(self.topics)) if nearest[at] < RETIRED_AT]
        return OutOfScope([self.topics[at] for at in keep], self.vectors[keep])

    def nearest(self, query_vector: NDArray[np.floating]) -> Nearest:
        if not self.topics:
            return Nearest(None, NO_TOPIC_COSINE)
        query = np.asarray(query_vector, dtype=np.float64).reshape(-1)
        norm = np.linalg.norm(query)
        if norm == 0:
            return Nearest(None, NO_TOPIC_COSINE)
        cosines = self.vectors @ (query / norm)
        at = int(cosines.argmax())
        return Nearest(self.topics[at].topic_id, float(cosines[at]))
