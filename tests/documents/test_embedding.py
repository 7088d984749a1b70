"""The real embedding model (services/documents/embedding.py), offline: loaded once for the module
with HF_HUB_OFFLINE=1 set, so a load that tried the network would fail rather than download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from services.documents import embedding


@pytest.fixture(scope="module")
def model() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        yield embedding.load_model()


def test_the_packaged_model_files_are_found() -> None:
    path = embedding.model_path()
    assert (path / "model.safetensors").is_file()
    assert (path / "tokenizer.json").is_file()


def test_the_model_runs_on_the_cpu(model: Any) -> None:
    assert str(model.device) == "cpu"
    assert model.get_embedding_dimension() == embedding.DIMENSIONS


def test_vectors_are_unit_length_float32_one_row_per_text(model: Any) -> None:
    vectors = embedding.embed(["The custodian failed to deliver.", "Cash is reconciled daily.", "x"], model)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedding.embed([], model).shape == (0, 384)


def test_two_paraphrases_are_closer_than_an_unrelated_sentence(model: Any) -> None:
    first, paraphrase, unrelated = embedding.embed(
        [
            "The custodian has not settled the trade on its settlement date.",
            "The bank did not settle the deal on the day it was due to settle.",
            "What's the wifi password for the visitor meeting rooms?",
        ],
        model,
    )
    close = float(first @ paraphrase)
    far = float(first @ unrelated)
    assert close > far + 0.3, (close, far)


def test_the_same_text_gives_the_same_vector(model: Any) -> None:
    once, again = embedding.embed(["Overdraft interest is borne by the firm."] * 2, model)
    np.testing.assert_allclose(once, again, atol=1e-6)
