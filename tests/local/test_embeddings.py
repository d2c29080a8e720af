"""Offline embeddings with meaning (MiniLM by default, wordllama as the fast option; isometric map
into each model's dimension)."""

from __future__ import annotations

import base64
import logging
from typing import Any

import httpx
import numpy as np
import pytest

from gravixlayer.local.embedding import ALPHAS, EMBEDDING_MODELS, Embedder

EMBEDDINGS = "/v1/inference/embeddings"
E5 = "microsoft/multilingual-e5-large"


def embed(http: httpx.Client, texts: str | list[str], model: str = E5, **extra: Any) -> dict[str, Any]:
    response = http.post(EMBEDDINGS, json={"model": model, "input": texts, **extra})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def vectors(body: dict[str, Any]) -> np.ndarray:
    return np.array([item["embedding"] for item in body["data"]], dtype=np.float64)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.mark.parametrize(("model", "dim"), sorted(EMBEDDING_MODELS.items()))
def test_every_documented_model_has_its_dimension(http: httpx.Client, model: str, dim: int) -> None:
    body = embed(http, ["hello world", "second text"], model)
    assert body["object"] == "list" and body["model"] == model
    assert [item["index"] for item in body["data"]] == [0, 1]
    assert all(item["object"] == "embedding" for item in body["data"])
    matrix = vectors(body)
    assert matrix.shape == (2, dim)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 0


def test_spec_dimensions() -> None:
    assert EMBEDDING_MODELS[E5] == 1024
    assert EMBEDDING_MODELS["baai/bge-small-en-v1.5"] == 384
    assert EMBEDDING_MODELS["all-MiniLM-L6-v2"] == 384
    assert EMBEDDING_MODELS["nomic-embed-text-v1.5"] == 768
    assert EMBEDDING_MODELS["text-embedding-3-small"] == 1536
    assert EMBEDDING_MODELS["text-embedding-3-large"] == 3072
    assert EMBEDDING_MODELS["text-embedding-ada-002"] == 1536


def test_single_string_input_and_determinism(http: httpx.Client) -> None:
    one = embed(http, "I prefer coding in Python")
    assert len(one["data"]) == 1
    assert one["data"] == embed(http, "I prefer coding in Python")["data"]


def test_base64_equals_floats(http: httpx.Client) -> None:
    texts = ["alpha beta", "gamma delta"]
    floats = vectors(embed(http, texts, "baai/bge-small-en-v1.5")).astype(np.float32)
    encoded = embed(http, texts, "baai/bge-small-en-v1.5", encoding_format="base64")
    decoded = np.array(
        [np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4") for item in encoded["data"]]
    )
    assert decoded.shape == (2, 384)
    np.testing.assert_array_equal(decoded, floats)


def test_dimensions_truncates_and_renormalises(http: httpx.Client) -> None:
    full = vectors(embed(http, "text to shorten", "text-embedding-3-small"))[0]
    short = vectors(embed(http, "text to shorten", "text-embedding-3-small", dimensions=256))[0]
    assert short.shape == (256,)
    np.testing.assert_allclose(short, full[:256] / np.linalg.norm(full[:256]), atol=1e-5)
    response = http.post(EMBEDDINGS, json={"model": "all-MiniLM-L6-v2", "input": "x", "dimensions": 385})
    assert response.status_code == 400 and "dimensions" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"model": E5, "input": ""},
        {"model": E5, "input": []},
        {"model": E5, "input": ["ok", ""]},
        {"model": E5, "input": [1, 2, 3]},
        {"model": E5, "input": None},
        {"model": E5},
        {"model": E5, "input": "x", "encoding_format": "hex"},
        {"model": E5, "input": "x", "dimensions": 0},
        {"model": E5, "input": "x", "dimensions": "8"},
    ],
)
def test_bad_input_is_400(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post(EMBEDDINGS, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] in ("invalid_request", "invalid_json")


def test_aliases_of_one_model_agree(embedder: Embedder) -> None:
    texts = ["same model, two names"]
    np.testing.assert_array_equal(embedder.embed(texts, E5), embedder.embed(texts, "multilingual-e5-large"))
    np.testing.assert_array_equal(
        embedder.embed(texts, "BAAI/bge-large-en-v1.5"), embedder.embed(texts, "baai/bge-large-en-v1.5")
    )


@pytest.mark.parametrize("engine", ["minilm", "wordllama"])
def test_map_is_isometric_with_documented_offset(engine: str) -> None:
    """Served cosine = (1 - ALPHA) * source cosine + ALPHA; 384-d models under MiniLM keep ALPHA 0."""
    embedder = Embedder(engine=engine)
    texts = ["I prefer coding in Python", "The weather is cold today", "My favourite food is sushi"]
    base, _ = embedder.base_vectors(texts)
    raw = base @ base.T
    for model in ("baai/bge-small-en-v1.5", E5, "text-embedding-3-large"):
        served = embedder.embed(texts, model)
        assert served.dtype == np.float32 and served.shape == (3, embedder.dimension(model))
        alpha = embedder.served_alpha(model)
        assert alpha == (0.0 if engine == "minilm" and model.startswith("baai/bge-small") else ALPHAS[engine])
        np.testing.assert_allclose(served @ served.T, (1 - alpha) * raw + alpha, atol=1e-5)


def test_all_minilm_serves_the_sentence_transformer_unchanged() -> None:
    embedder = Embedder(engine="minilm")
    texts = ["What is my preferred language?", "I prefer coding in Python"]
    np.testing.assert_array_equal(embedder.embed(texts, "all-MiniLM-L6-v2"), embedder.base_vectors(texts)[0])
    a, b = embedder.embed(texts, "sentence-transformers/all-MiniLM-L6-v2")
    assert float(a @ b) == pytest.approx(0.326, abs=0.01)  # sentence-transformers' float model: 0.331


def test_related_pair_scores_clearly_above_unrelated(http: httpx.Client) -> None:
    pairs = [
        ("Where do I live?", "I live in Berlin", "The stock market fell sharply"),
        ("Which sport do I play?", "I play tennis every Sunday", "I work as an accountant"),
        ("How is the weather?", "It is raining and cold outside", "I prefer coding in Python"),
    ]
    for query, related, unrelated in pairs:
        q, r, u = vectors(embed(http, [query, related, unrelated]))
        assert q @ r > q @ u + 0.15, (query, q @ r, q @ u)


def test_seed_memory_example_passes_threshold(http: httpx.Client) -> None:
    """The memory example: threshold 0.5 keeps the stored preference, drops unrelated text."""
    stored = ["I prefer coding in Python", "I like Python", "The weather is cold today"]
    memories = vectors(embed(http, stored))
    query = vectors(embed(http, "What is my preferred language?"))[0]
    scores = dict(zip(stored, (memories @ query).tolist(), strict=True))
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    assert ranked[-1] == "The weather is cold today"
    assert scores["I prefer coding in Python"] > 0.5
    assert scores["The weather is cold today"] < 0.45
    assert scores["I prefer coding in Python"] - scores["The weather is cold today"] > 0.15
    # measured when calibrating (see embedding.py): 0.528, 0.610, 0.367 ("I like Python" may rank first)
    assert scores["I prefer coding in Python"] == pytest.approx(0.528, abs=0.01)


def test_wordllama_fast_option_keeps_its_calibration() -> None:
    embedder = Embedder(engine="wordllama")
    stored = embedder.embed(["I prefer coding in Python", "I like Python", "The weather is cold today"], E5)
    query = embedder.embed(["What is my preferred language?"], E5)[0]
    np.testing.assert_allclose(stored @ query, [0.538, 0.444, 0.348], atol=0.01)


def test_embedder_api(embedder: Embedder) -> None:
    assert E5 in embedder.models() and embedder.dimension(E5) == 1024
    matrix = embedder.embed(["a", "b", "c"], "all-mpnet-base-v2")
    assert matrix.shape == (3, 768) and matrix.dtype == np.float32
    batch = embedder.embed([f"sentence number {i}" for i in range(600)], "baai/bge-small-en-v1.5")
    single = embedder.embed(["sentence number 599"], "baai/bge-small-en-v1.5")
    np.testing.assert_allclose(batch[599], single[0], atol=1e-6)
    assert embedder.count_tokens(["hello world"]) > 0


def test_loading_does_not_reconfigure_logging() -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    Embedder().warm_up()
    assert (list(root.handlers), root.level) == before


UNRELATED = """The weather is cold today
I prefer coding in Python
My sister lives in Madrid
The train to Boston leaves at noon
Bananas are rich in potassium
He scored two goals in the final
The stock market fell sharply on Monday
Our meeting was moved to Thursday
She plays the violin beautifully
The new phone has a larger battery
Mount Everest is the highest mountain
I need to renew my passport
The restaurant serves excellent pasta
Quantum computers use qubits
The kids built a sandcastle at the beach
Please water the plants while I am away
The museum opens at nine
Electric cars are becoming cheaper
My dog loves chasing squirrels
The bakery sells fresh croissants
Heavy rain caused flooding downtown
The library is closed on Sundays
He forgot his umbrella at the office
Coffee prices rose last year
The concert was sold out
Vaccines train the immune system
I am allergic to peanuts
The bridge was painted red
Chess requires careful planning
The printer is out of paper""".splitlines()


def test_unrelated_sentences_mostly_stay_below_half(embedder: Embedder) -> None:
    """The calibration figures quoted in embedding.py's docstring."""
    matrix = embedder.embed(UNRELATED, E5)
    scores = (matrix @ matrix.T)[np.triu_indices(len(UNRELATED), 1)]
    assert len(scores) == 435
    assert scores.mean() == pytest.approx(0.331, abs=0.01)
    assert np.percentile(scores, 95) < 0.5
    assert (scores >= 0.5).mean() < 0.05
