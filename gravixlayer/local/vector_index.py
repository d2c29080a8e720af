"""The in-memory side of GravixLayer Local's vector database: one float32 matrix per index.

SQLite holds the truth (``vector_store.py`` commits every write before it is answered); this module
keeps, per index, a contiguous float32 matrix of the vectors, their ids and metadata, and answers
exact searches with numpy:

* ``cosine``: ``m·q / (|m| |q|)`` in [-1, 1] (a zero vector scores 0);
* ``dot_product``: ``m·q``;
* ``euclidean``: the similarity ``1 / (1 + |m - q|)`` in (0, 1] (decision 20: higher is better for
  every metric). Candidates are picked with ``|m|² - 2 m·q + |q|²`` and their distances recomputed
  exactly, so near-ties are ordered by the true distance.

Values anywhere in float32's range are searchable: squared norms are kept in float64, and a search
whose float32 products overflow (values near 3.4e38) is redone in float64, so every score is a
finite number.

Filters are flat objects: a scalar value means equality (``True`` is not ``1``), a list value means
any of its values. Deleting swaps the last row into the hole, so the matrix stays dense.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]
    DoubleArray = npt.NDArray[np.float64]
    ScoreArray = npt.NDArray[np.floating[Any]]
    BoolArray = npt.NDArray[np.bool_]

__all__ = ["METRICS", "IndexMatrix", "Hit", "matches", "json_equal"]

METRICS = ("cosine", "euclidean", "dot_product")
_MIN_CAPACITY = 64
_MISSING = object()


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values where booleans are not numbers (``True != 1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def matches(metadata: Mapping[str, Any], flt: Mapping[str, Any]) -> bool:
    """Whether one metadata object passes a filter (every key must match)."""
    for key, wanted in flt.items():
        value = metadata.get(key, _MISSING)
        if value is _MISSING:
            return False
        if isinstance(wanted, list):
            if not any(json_equal(value, option) for option in wanted):
                return False
        elif not json_equal(value, wanted):
            return False
    return True


@dataclass(frozen=True)
class Hit:
    position: int
    id: str
    score: float


class IndexMatrix:
    """The vectors of one index in memory. Callers hold ``lock`` around every call."""

    def __init__(self, dimension: int, metric: str) -> None:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        self.dimension = dimension
        self.metric = metric
        self.lock = threading.RLock()
        self._matrix: FloatArray = np.empty((_MIN_CAPACITY, dimension), dtype=np.float32)
        self._sq_norms: DoubleArray = np.empty(_MIN_CAPACITY, dtype=np.float64)
        self.ids: list[str] = []
        self.metadata: list[dict[str, Any]] = []
        self._position: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, vector_id: object) -> bool:
        return vector_id in self._position

    @property
    def matrix(self) -> FloatArray:
        """The live rows (a view: do not keep it past the lock)."""
        return self._matrix[: len(self.ids)]

    def position(self, vector_id: str) -> int | None:
        return self._position.get(vector_id)

    def row(self, vector_id: str) -> FloatArray | None:
        pos = self._position.get(vector_id)
        return None if pos is None else self._matrix[pos]

    # -- writes -------------------------------------------------------------------------------------

    def _reserve(self, count: int) -> None:
        needed = len(self.ids) + count
        capacity = self._matrix.shape[0]
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        matrix = np.empty((capacity, self.dimension), dtype=np.float32)
        matrix[: len(self.ids)] = self._matrix[: len(self.ids)]
        norms = np.empty(capacity, dtype=np.float64)
        norms[: len(self.ids)] = self._sq_norms[: len(self.ids)]
        self._matrix, self._sq_norms = matrix, norms

    def upsert(self, ids: Sequence[str], vectors: FloatArray, metadata: Sequence[dict[str, Any]]) -> None:
        """Insert or replace rows; ``vectors`` is ``(len(ids), dimension)`` float32, ids are distinct."""
        new = [i for i, vector_id in enumerate(ids) if vector_id not in self._position]
        self._reserve(len(new))
        positions = np.empty(len(ids), dtype=np.int64)
        for i, vector_id in enumerate(ids):
            pos = self._position.get(vector_id)
            if pos is None:
                pos = len(self.ids)
                self._position[vector_id] = pos
                self.ids.append(vector_id)
                self.metadata.append(metadata[i])
            else:
                self.metadata[pos] = metadata[i]
            positions[i] = pos
        self._matrix[positions] = vectors
        wide = vectors.astype(np.float64)
        self._sq_norms[positions] = np.einsum("ij,ij->i", wide, wide)

    def set_metadata(self, vector_id: str, metadata: dict[str, Any]) -> None:
        pos = self._position.get(vector_id)
        if pos is not None:
            self.metadata[pos] = metadata

    def delete(self, ids: Iterable[str]) -> list[str]:
        """Remove rows (unknown ids are skipped); returns the ids removed."""
        removed = []
        for vector_id in ids:
            pos = self._position.pop(vector_id, None)
            if pos is None:
                continue
            last = len(self.ids) - 1
            if pos != last:
                moved = self.ids[last]
                self.ids[pos] = moved
                self.metadata[pos] = self.metadata[last]
                self._matrix[pos] = self._matrix[last]
                self._sq_norms[pos] = self._sq_norms[last]
                self._position[moved] = pos
            self.ids.pop()
            self.metadata.pop()
            removed.append(vector_id)
        return removed

    # -- search -------------------------------------------------------------------------------------

    def mask(self, flt: Mapping[str, Any] | None) -> BoolArray | None:
        """Rows passing ``flt`` (None: no filter)."""
        if not flt:
            return None
        return np.fromiter((matches(m, flt) for m in self.metadata), dtype=np.bool_, count=len(self.metadata))

    def _dots(self, query: FloatArray) -> ScoreArray:
        """``matrix @ query`` in float32, or in float64 when float32 overflows (values near 3.4e38)."""
        rows = self.matrix
        with np.errstate(over="ignore", invalid="ignore"):
            dots: ScoreArray = rows @ query
        if not np.isfinite(dots).all():
            dots = rows.astype(np.float64) @ query.astype(np.float64)
        return dots

    def scores(self, query: FloatArray) -> ScoreArray:
        """The score of every row for ``query`` (cosine, dot product, or the euclidean candidate key)."""
        dots = self._dots(query)
        if self.metric == "dot_product":
            return dots
        wide_query = query.astype(np.float64)
        q_sq = float(wide_query @ wide_query)
        norms = self._sq_norms[: len(self.ids)]
        if self.metric == "cosine":
            denominator = np.sqrt(norms) * np.sqrt(q_sq)
            out: ScoreArray = np.divide(dots, denominator, out=np.zeros_like(dots), where=denominator > 0)
            return np.clip(out, -1.0, 1.0, out=out)
        # euclidean: negated squared distance, a cheap key to choose candidates with
        key: ScoreArray = dots * 2.0 - norms - q_sq
        return key

    def search(self, query: FloatArray, top_k: int, flt: Mapping[str, Any] | None = None) -> list[Hit]:
        """The ``top_k`` best rows for ``query`` (shape ``(dimension,)`` float32), best first."""
        count = len(self.ids)
        if count == 0 or top_k <= 0:
            return []
        keys = self.scores(query)
        allowed = self.mask(flt)
        if allowed is not None:
            candidates = np.flatnonzero(allowed)
            if candidates.size == 0:
                return []
            keys_of = keys[candidates]
        else:
            candidates = None
            keys_of = keys
        wanted = min(top_k, keys_of.size)
        if self.metric == "euclidean":
            wanted = min(keys_of.size, max(2 * top_k, top_k + 32))  # re-ranked exactly below
        if wanted < keys_of.size:
            best = np.argpartition(-keys_of, wanted - 1)[:wanted]
        else:
            best = np.arange(keys_of.size)
        positions = best if candidates is None else candidates[best]
        if self.metric == "euclidean":
            distances = np.linalg.norm(self._matrix[positions].astype(np.float64) - query.astype(np.float64), axis=1)
            final = 1.0 / (1.0 + distances)
        else:
            final = keys_of[best].astype(np.float64)
        order = np.lexsort((positions, -final))[:top_k]  # best score first; ties by insertion order
        return [Hit(int(positions[i]), self.ids[int(positions[i])], float(final[i])) for i in order]
