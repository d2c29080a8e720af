"""Real, offline text embeddings for GravixLayer Local.

Two source models (``Embedder(engine=...)``, Local's ``embedding_engine``):

- ``"minilm"`` (default): the sentence-transformer all-MiniLM-L6-v2 (int8
  ONNX, 384-d, see ``sentence_encoder.py``): real sentence embeddings,
  ~800 sentences/s batched on two cores.
- ``"wordllama"`` (the fast option, ~50k sentences/s): ``wordllama``'s 256-d
  ``l2_supercat`` static token vectors (shipped inside its wheel, loaded with
  downloads disabled). A text is lower-cased (the static vectors of
  mixed-case words are noisier), tokenized, and its token vectors averaged and
  unit-normalised (``WordLlama.embed(norm=True)``, done here so tokens are
  counted once). It ranks a paraphrase above a look-alike sentence far less
  often (``tests/local/test_embedding_quality.py``).

Served models: every embedding model of spec §7.7 (newer column) and §11 at
its documented dimension D (384...3072). Each model gets a fixed orthonormal
basis: a D x (B+1) Gaussian matrix seeded by the model's name (B = the
source dimension), QR-decomposed (signs fixed), giving Q (D x B, orthonormal
columns) and a unit vector c orthogonal to Q's image. A unit source vector v
is served as

    e(v) = sqrt(1 - ALPHA) * Q v + sqrt(ALPHA) * c

which is unit-norm and turns every cosine into ``(1 - ALPHA) * cos + ALPHA``,
an affine, order-preserving map: rankings are exactly the source model's.
Where D equals B (the 384-d models under MiniLM) there is no room for c:
those models serve MiniLM's own cosines (ALPHA 0) in a rotated basis, and
``all-MiniLM-L6-v2`` itself serves MiniLM's vectors unchanged.

Why ALPHA: the source models give lower absolute cosines than the e5/bge
models these names stand for (which score related text at ~0.7-0.9), and
callers (the memory feature: threshold 0.3 by default, 0.5 in the seed's
example) apply fixed thresholds tuned for that range. Per source model, ALPHA
is the smallest multiple of 0.05 for which the seed's memory example passes
its 0.5 threshold, measured in ``tests/local/test_embeddings.py``.

MiniLM, ALPHA = 0.3, for the query "What is my preferred language?":

    "I prefer coding in Python"   raw 0.326 -> served 0.528  (above 0.5)
    "I like Python"               raw 0.443 -> served 0.610
    "The weather is cold today"   raw 0.096 -> served 0.367

and over the 435 pairs of 30 mutually unrelated sentences raw cosines have
mean 0.044 and 95th percentile 0.194 (served 0.331 and 0.436; 1% of those
pairs reach 0.5). ALPHA 0.25 gives the memory pair 0.495.

wordllama, ALPHA = 0.4:

    "I prefer coding in Python"   raw 0.230 -> served 0.538  (above 0.5)
    "I like Python"               raw 0.074 -> served 0.444
    "The weather is cold today"   raw -0.086 -> served 0.348

Unrelated text: over the 435 pairs of 30 mutually unrelated sentences in
the tests, raw cosines have mean 0.010 and 95th percentile 0.132 (served
0.406 and 0.479); 2% of those pairs reach a served 0.5, the price of a
static word-vector model. Raising ALPHA lets more related pairs pass a 0.5
threshold but also more unrelated ones; 0.4 is the smallest multiple of
0.05 that passes the memory example (0.35 gives 0.4995).

``dimensions=k`` truncates to the first k components and renormalises
(as OpenAI's text-embedding-3 models do); it needs k <= D.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import LocalAPIError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]

__all__ = ["Embedder", "EMBEDDING_MODELS", "ENGINES", "ALPHAS", "BASE_DIMENSIONS", "minilm_available"]

ENGINES = ("minilm", "wordllama")
BASE_DIMENSIONS = {"minilm": 384, "wordllama": 256}
ALPHAS = {"minilm": 0.3, "wordllama": 0.4}
"""Weight of the shared component c: served cosine = (1 - ALPHA) * raw cosine + ALPHA."""
_NATIVE = {"minilm": "all-MiniLM-L6-v2"}
"""The served model that *is* the source model: its vectors are served unchanged."""

EMBEDDING_MODELS: dict[str, int] = {
    "microsoft/multilingual-e5-large": 1024,
    "multilingual-e5-large": 1024,
    "baai/bge-large-en-v1.5": 1024,
    "baai/bge-base-en-v1.5": 768,
    "baai/bge-small-en-v1.5": 384,
    "all-MiniLM-L6-v2": 384,
    "sentence-transformers/all-MiniLM-L6-v2": 384,
    "all-mpnet-base-v2": 768,
    "embed-english-v3.0": 1024,
    "embed-english-light-v3.0": 384,
    "nomic-embed-text-v1": 768,
    "nomic-embed-text-v1.5": 768,
    "nomic-ai/nomic-embed-text-v1.5": 768,
    "nomic-ai/nomic-embed-text:v1.5": 768,
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
"""Served embedding models and their dimensions (spec §7.7 newer column, §11)."""

_SAME_MODEL: dict[str, str] = {
    "multilingual-e5-large": "microsoft/multilingual-e5-large",
    "sentence-transformers/all-MiniLM-L6-v2": "all-MiniLM-L6-v2",
    "nomic-ai/nomic-embed-text-v1.5": "nomic-embed-text-v1.5",
    "nomic-ai/nomic-embed-text:v1.5": "nomic-embed-text-v1.5",
}
"""Names of one model: they share a basis, so their vectors are interchangeable."""

_BY_LOWER = {name.lower(): name for name in EMBEDDING_MODELS}
_BATCH = 256


def minilm_available() -> bool:
    """Whether the MiniLM sentence model and onnxruntime are installed."""
    from importlib.util import find_spec

    from .sentence_encoder import model_file

    return find_spec("onnxruntime") is not None and model_file() is not None


class Embedder:
    """Embeds texts for every served model; safe to share between threads."""

    def __init__(self, alpha: float | None = None, engine: str = "minilm") -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        alpha = ALPHAS[engine] if alpha is None else alpha
        if not 0.0 <= alpha < 1.0:
            raise ValueError("alpha must be in [0, 1)")
        self.engine = engine
        self.alpha = alpha
        self.base_dimension = BASE_DIMENSIONS[engine]
        self._lock = threading.Lock()
        self._model: Any = None
        self._projections: dict[str, tuple[FloatArray, FloatArray | None]] = {}

    def __repr__(self) -> str:
        state = "loaded" if self._model is not None else "not loaded"
        return f"Embedder({self.engine} {self.base_dimension}-d, {state}, alpha={self.alpha})"

    @property
    def loaded(self) -> bool:
        """Whether the source model is in memory (the first call loads it)."""
        return self._model is not None

    @property
    def inline_limit(self) -> int:
        """Batches up to this size are cheap enough to embed on the event loop (~1 ms)."""
        return 1 if self.engine == "minilm" else 32

    def served_alpha(self, model: str) -> float:
        """ALPHA as applied to ``model``: 0 where its dimension leaves no room for the offset."""
        return self.alpha if EMBEDDING_MODELS[self.resolve(model)] > self.base_dimension else 0.0

    def warm_up(self, *models: str) -> None:
        """Load the weights (and the given models' bases) now instead of on first use."""
        self._load()
        for model in models:
            self._projection(self.resolve(model))

    def is_warm(self, model: str) -> bool:
        """Whether embedding with ``model`` needs no slow first-time setup."""
        name = _BY_LOWER.get(model.lower(), model)
        return self.loaded and _SAME_MODEL.get(name, name) in self._projections

    # -- model names -----------------------------------------------------------

    @staticmethod
    def models() -> list[str]:
        return list(EMBEDDING_MODELS)

    @staticmethod
    def resolve(model: str) -> str:
        """The served name for ``model`` (case-insensitive); 404 if unknown."""
        name = _BY_LOWER.get(model.lower())
        if name is None:
            raise LocalAPIError(
                404,
                "model_not_found",
                f"unknown embedding model {model!r}; available: {', '.join(EMBEDDING_MODELS)}",
            )
        return name

    def dimension(self, model: str) -> int:
        return EMBEDDING_MODELS[self.resolve(model)]

    # -- embedding ---------------------------------------------------------------

    def embed(self, texts: Sequence[str], model: str, dimensions: int | None = None) -> FloatArray:
        """Unit vectors, float32, shape ``(len(texts), D)`` (or ``dimensions``)."""
        return self.embed_with_usage(texts, model, dimensions)[0]

    def embed_with_usage(
        self, texts: Sequence[str], model: str, dimensions: int | None = None
    ) -> tuple[FloatArray, int]:
        """Like ``embed`` and also the number of tokens read."""
        import numpy as np

        name = self.resolve(model)
        full = EMBEDDING_MODELS[name]
        if dimensions is not None and not 1 <= dimensions <= full:
            raise LocalAPIError(
                400,
                "invalid_request",
                f"dimensions must be between 1 and {full} for {name}, got {dimensions}",
            )
        base, tokens = self.base_vectors(texts)
        matrix, offset = self._projection(name)
        out: FloatArray = base @ matrix
        if offset is not None:
            out += offset
        if dimensions is not None and dimensions < full:
            out = np.ascontiguousarray(out[:, :dimensions])
            out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out, tokens

    def count_tokens(self, texts: Sequence[str]) -> int:
        return self.base_vectors(texts)[1]

    def base_vectors(self, texts: Sequence[str]) -> tuple[FloatArray, int]:
        """The source model's unit vectors of the texts, and the token count."""
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise LocalAPIError(400, "invalid_request", f"input[{i}] must be a string")
            if not text:
                raise LocalAPIError(400, "invalid_request", f"input[{i}] must not be empty")
        model = self._load()
        if self.engine == "minilm":
            vectors: FloatArray
            vectors, count = model.encode(texts)
            return vectors, count
        return self._wordllama_vectors(model, texts)

    def _wordllama_vectors(self, wordllama: Any, texts: Sequence[str]) -> tuple[FloatArray, int]:
        """wordllama's 256-d unit vectors of the lower-cased texts, and the token count."""
        import numpy as np

        table = wordllama.embedding
        out = np.empty((len(texts), self.base_dimension), dtype=np.float32)
        total = 0
        for start in range(0, len(texts), _BATCH):
            chunk = [text.lower() for text in texts[start : start + _BATCH]]
            encodings = wordllama.tokenize(chunk)
            ids = np.array([enc.ids for enc in encodings], dtype=np.int64)
            mask = np.array([enc.attention_mask for enc in encodings], dtype=np.float32)
            np.clip(ids, 0, table.shape[0] - 1, out=ids)
            counts = mask.sum(axis=1)
            if (counts == 0).any():  # cannot happen for non-empty text; be explicit anyway
                bad = start + int(np.argmax(counts == 0))
                raise LocalAPIError(400, "invalid_request", f"input[{bad}] has no tokens")
            sums = np.einsum("btd,bt->bd", table[ids], mask)
            sums /= np.linalg.norm(sums, axis=1, keepdims=True)
            out[start : start + len(chunk)] = sums
            total += int(counts.sum())
        return out, total

    # -- internals -----------------------------------------------------------------

    def _load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    if self.engine == "minilm":
                        from .sentence_encoder import MiniLM

                        self._model = MiniLM()
                    else:
                        self._model = _load_wordllama()
        return self._model

    def _projection(self, name: str) -> tuple[FloatArray, FloatArray | None]:
        key = _SAME_MODEL.get(name, name)
        cached = self._projections.get(key)
        if cached is None:
            if _NATIVE.get(self.engine) == key:
                import numpy as np

                cached = (np.eye(self.base_dimension, dtype=np.float32), None)
            else:
                cached = _isometry(key, EMBEDDING_MODELS[key], self.alpha, self.base_dimension)
            with self._lock:
                self._projections[key] = cached
        return cached


def _load_wordllama() -> Any:
    """Load the shipped weights strictly offline (the package dir has the cache layout).

    wordllama calls ``logging.basicConfig(level=INFO)`` when imported; a
    library must not reconfigure its host's logging, so that is undone.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
        from wordllama import WordLlama
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def _isometry(name: str, dimension: int, alpha: float, base: int) -> tuple[FloatArray, FloatArray | None]:
    """``(sqrt(1-alpha) Q^T, sqrt(alpha) c)`` for ``name``: fixed, seeded by the name.

    With ``dimension == base`` there is no room for c: ``(Q^T, None)``, a rotation.
    """
    import numpy as np

    seed = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")
    columns = base + 1 if dimension > base else base
    gaussian = np.random.default_rng(seed).standard_normal((dimension, columns))
    q, r = np.linalg.qr(gaussian)
    q *= np.sign(np.diag(r))  # make the decomposition unique
    if dimension == base:
        return np.ascontiguousarray(q.T.astype(np.float32)), None
    matrix = (np.sqrt(1.0 - alpha) * q[:, :base].T).astype(np.float32)
    offset = (np.sqrt(alpha) * q[:, base]).astype(np.float32)
    return np.ascontiguousarray(matrix), offset
