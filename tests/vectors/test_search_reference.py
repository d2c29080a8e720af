"""Local's exact search equals a brute-force numpy reference, for every metric, with and without filters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gravixlayer.local.vector_index import IndexMatrix

from .conftest import call, make_index

N, DIM, QUERIES, TOP_K = 1500, 24, 6, 25


def reference(data: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """Scores in float64, as the API documents them (decision 20: higher is better)."""
    d = data.astype(np.float64)
    q = query.astype(np.float64)
    if metric == "cosine":
        return (d @ q) / (np.linalg.norm(d, axis=1) * np.linalg.norm(q))
    if metric == "dot_product":
        return d @ q
    return 1.0 / (1.0 + np.linalg.norm(d - q, axis=1))


def check(hits: list[tuple[str, float]], expected: np.ndarray, allowed: np.ndarray | None = None) -> None:
    order = np.argsort(-expected, kind="stable")
    if allowed is not None:
        order = order[allowed[order]]
    want = order[:TOP_K]
    got_ids = [int(vid.removeprefix("v")) for vid, _ in hits]
    assert len(got_ids) == len(want)
    got_scores = np.array([score for _, score in hits])
    np.testing.assert_allclose(got_scores, expected[got_ids], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_scores, expected[want], rtol=1e-4, atol=1e-5)
    # Same set, except where two scores tie within float32 rounding at the cut.
    cut = expected[want[-1]]
    assert {i for i in got_ids if expected[i] > cut + 1e-5} == {int(i) for i in want if expected[i] > cut + 1e-5}


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot_product"])
async def test_search_equals_numpy_reference(api: Any, metric: str) -> None:
    rng = np.random.default_rng({"cosine": 1, "euclidean": 2, "dot_product": 3}[metric])
    data = rng.standard_normal((N, DIM)).astype(np.float32)
    groups = rng.integers(0, 3, N)
    index = await make_index(api, dimension=DIM, metric=metric)
    vectors = api.vectors.index(index.id)
    await call(
        vectors.upsert_many(
            {"id": f"v{i}", "embedding": data[i], "metadata": {"group": int(groups[i])}} for i in range(N)
        )
    )
    queries = [rng.standard_normal(DIM).astype(np.float32) for _ in range(QUERIES)] + [data[17].copy()]
    for query in queries:
        expected = reference(data, query, metric)
        result = await call(vectors.search(query, limit=TOP_K))
        check([(h.id, h.score) for h in result], expected)
        filtered = await call(vectors.search(query, limit=TOP_K, filter={"group": [0, 2]}))
        check([(h.id, h.score) for h in filtered], expected, allowed=np.isin(groups, [0, 2]))
        assert all(h.metadata["group"] in (0, 2) for h in filtered)
    exact = await call(vectors.search(data[17], limit=1))
    assert exact[0].id == "v17"
    if metric != "dot_product":
        assert exact[0].score == pytest.approx(1.0, abs=1e-5)
    await call(api.vectors.indexes.delete(index.id))


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot_product"])
def test_matrix_after_deletes_and_replacements_matches_reference(metric: str) -> None:
    """The swap-on-delete matrix keeps every remaining row right."""
    rng = np.random.default_rng(11)
    data = rng.standard_normal((400, 8)).astype(np.float32)
    matrix = IndexMatrix(8, metric)
    matrix.upsert([f"v{i}" for i in range(400)], data, [{"i": i} for i in range(400)])
    gone = set(rng.choice(400, 150, replace=False).tolist())
    assert sorted(matrix.delete([f"v{i}" for i in gone] + ["unknown"])) == sorted(f"v{i}" for i in gone)
    replaced = [i for i in range(400) if i not in gone][:20]
    data[replaced] = rng.standard_normal((20, 8)).astype(np.float32)
    matrix.upsert([f"v{i}" for i in replaced], data[replaced], [{"i": i} for i in replaced])
    alive = np.array([i not in gone for i in range(400)])
    assert len(matrix) == int(alive.sum())
    for _ in range(5):
        query = rng.standard_normal(8).astype(np.float32)
        hits = matrix.search(query, TOP_K)
        check([(h.id, h.score) for h in hits], reference(data, query, metric), allowed=alive)
        for hit in hits:
            assert matrix.metadata[hit.position] == {"i": int(hit.id[1:])}


def test_zero_vectors_and_empty_index() -> None:
    matrix = IndexMatrix(3, "cosine")
    assert matrix.search(np.ones(3, dtype=np.float32), 5) == []
    matrix.upsert(["zero", "one"], np.array([[0, 0, 0], [1, 0, 0]], dtype=np.float32), [{}, {}])
    hits = matrix.search(np.array([1, 0, 0], dtype=np.float32), 5)
    assert [(h.id, h.score) for h in hits] == [("one", 1.0), ("zero", 0.0)]
    assert matrix.search(np.zeros(3, dtype=np.float32), 5)[0].score == 0.0
