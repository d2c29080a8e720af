"""A llama-architecture transformer in numpy: weights in float32, a KV cache.

SmolLM2-135M: 30 layers, width 576, 9 query heads sharing 3 key/value heads
(grouped-query attention), SwiGLU feed-forward of 1536, RMSNorm, rotary
position encoding on adjacent pairs (GGUF's llama layout: llama.cpp's
converter permutes the query/key rows so "normal" rope applies), and an
output layer that reuses the token embedding when the file has no
``output.weight``.

numpy 2 promotion: a numpy float64 scalar times a float32 array gives
float64 (and ~10x slower matmuls), so every scale here is a Python float or
float32 array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .gguf_file import GGUFFile

if TYPE_CHECKING:
    import numpy.typing as npt

    F32 = npt.NDArray[np.float32]

__all__ = ["ModelConfig", "Transformer", "KVCache"]


@dataclass(frozen=True)
class ModelConfig:
    n_layers: int
    dim: int
    n_heads: int
    n_kv_heads: int
    hidden: int
    vocab: int
    context: int
    rope_base: float
    eps: float

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    @classmethod
    def from_metadata(cls, meta: dict[str, object]) -> ModelConfig:
        arch = str(meta.get("general.architecture"))
        if arch != "llama":
            raise ValueError(f"unsupported architecture {arch!r} (only llama)")

        def get(key: str) -> object:
            return meta[f"llama.{key}"]

        n_heads = int(str(get("attention.head_count")))
        return cls(
            n_layers=int(str(get("block_count"))),
            dim=int(str(get("embedding_length"))),
            n_heads=n_heads,
            n_kv_heads=int(str(meta.get("llama.attention.head_count_kv", n_heads))),
            hidden=int(str(get("feed_forward_length"))),
            vocab=len(meta["tokenizer.ggml.tokens"]),  # type: ignore[arg-type]
            context=int(str(get("context_length"))),
            rope_base=float(str(meta.get("llama.rope.freq_base", 10000.0))),
            eps=float(str(meta.get("llama.attention.layer_norm_rms_epsilon", 1e-5))),
        )


@dataclass
class _Layer:
    attn_norm: F32
    wqkv: F32
    """Query, key and value projections stacked: (dim + 2 * kv_dim, dim)."""
    wo: F32
    ffn_norm: F32
    w_gate_up: F32
    """Gate and up projections stacked: (2 * hidden, dim)."""
    w_down: F32


class KVCache:
    """Keys and values of every position seen so far, per layer; grows by doubling."""

    def __init__(self, config: ModelConfig, capacity: int = 256) -> None:
        self.length = 0
        shape = (config.n_layers, config.n_kv_heads, capacity, config.head_dim)
        self.keys: F32 = np.zeros(shape, dtype=np.float32)
        self.values: F32 = np.zeros(shape, dtype=np.float32)

    def reserve(self, total: int) -> None:
        capacity = self.keys.shape[2]
        if total <= capacity:
            return
        while capacity < total:
            capacity *= 2
        for name in ("keys", "values"):
            old = getattr(self, name)
            new = np.zeros((*old.shape[:2], capacity, old.shape[3]), dtype=np.float32)
            new[:, :, : self.length] = old[:, :, : self.length]
            setattr(self, name, new)

    def copy(self) -> KVCache:
        clone = KVCache.__new__(KVCache)
        clone.length = self.length
        clone.keys = self.keys.copy()
        clone.values = self.values.copy()
        return clone


class Transformer:
    """Forward pass over new tokens, appending to a ``KVCache``; returns logits."""

    def __init__(self, gguf: GGUFFile) -> None:
        self.config = config = ModelConfig.from_metadata(gguf.metadata)
        self.embedding: F32 = gguf.tensor("token_embd.weight")
        self.output: F32 = gguf.tensor("output.weight") if "output.weight" in gguf.tensors else self.embedding
        self.output_norm: F32 = gguf.tensor("output_norm.weight")
        self.layers: list[_Layer] = []
        for i in range(config.n_layers):

            def t(name: str, i: int = i) -> F32:
                return gguf.tensor(f"blk.{i}.{name}.weight")

            self.layers.append(
                _Layer(
                    attn_norm=t("attn_norm"),
                    wqkv=np.concatenate([t("attn_q"), t("attn_k"), t("attn_v")]),
                    wo=t("attn_output"),
                    ffn_norm=t("ffn_norm"),
                    w_gate_up=np.concatenate([t("ffn_gate"), t("ffn_up")]),
                    w_down=t("ffn_down"),
                )
            )
        half = config.head_dim // 2
        exponents = np.arange(half, dtype=np.float64) * (2.0 / config.head_dim)
        self._inv_freq = (1.0 / config.rope_base**exponents).astype(np.float32)

    def new_cache(self, capacity: int = 256) -> KVCache:
        return KVCache(self.config, capacity)

    def _rope_tables(self, positions: npt.NDArray[np.int64]) -> tuple[F32, F32]:
        """Cosines and sines of every position's angles, (T, head_dim / 2): once per pass, for all layers."""
        angles = positions[:, None].astype(np.float32) * self._inv_freq[None, :]
        return np.cos(angles), np.sin(angles)

    @staticmethod
    def _rope(x: F32, cos: F32, sin: F32) -> F32:
        """Rotate adjacent pairs of ``x`` (heads, T, head_dim) by position."""
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def _norm(self, x: F32, weight: F32) -> F32:
        scale = 1.0 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.config.eps)
        out: F32 = x * scale * weight
        return out

    def _attention_inputs(self, x: F32, layer: _Layer, cos: F32, sin: F32) -> tuple[F32, F32, F32]:
        """Rotated queries (heads, T, head_dim), rotated keys and values (kv_heads, T, head_dim)."""
        c = self.config
        t, hd = x.shape[0], c.head_dim
        q_dim, kv_dim = c.dim, c.n_kv_heads * hd
        qkv = self._norm(x, layer.attn_norm) @ layer.wqkv.T
        qk = self._rope(
            qkv[:, : q_dim + kv_dim].reshape(t, c.n_heads + c.n_kv_heads, hd).transpose(1, 0, 2), cos, sin
        )
        v = qkv[:, q_dim + kv_dim :].reshape(t, c.n_kv_heads, hd).transpose(1, 0, 2)
        return qk[: c.n_heads], qk[c.n_heads :], v

    def _feed_forward(self, x: F32, layer: _Layer) -> F32:
        """``x`` plus the layer's SwiGLU feed-forward of it."""
        gate_up = self._norm(x, layer.ffn_norm) @ layer.w_gate_up.T
        gate, up = gate_up[:, : self.config.hidden], gate_up[:, self.config.hidden :]
        act = (gate / (1.0 + np.exp(-gate)) * up).astype(np.float32, copy=False)
        out: F32 = x + act @ layer.w_down.T
        return out

    @staticmethod
    def _softmax(scores: F32) -> F32:
        """In place, over the last axis."""
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        return scores

    def forward(self, ids: list[int], cache: KVCache, all_logits: bool = False) -> F32:
        """Logits of the last new token (or of every new token), shape (vocab,) or (T, vocab).

        One token is a decode step: ``forward_steps`` with one sequence.
        """
        n = len(ids)
        if n == 1:
            step = self.forward_steps(ids, [cache])
            return step if all_logits else step[0]
        c = self.config
        start = cache.length
        cache.reserve(start + n)
        positions = np.arange(start, start + n, dtype=np.int64)
        hd, nkv, group = c.head_dim, c.n_kv_heads, c.n_heads // c.n_kv_heads
        inv_sqrt = float(1.0 / np.sqrt(hd))
        future = np.arange(start + n)[None, :] > positions[:, None]
        mask = np.where(future, np.float32(-np.inf), np.float32(0.0)).astype(np.float32)
        x = self.embedding[ids]
        cos, sin = self._rope_tables(positions)
        for li, layer in enumerate(self.layers):
            q, k, v = self._attention_inputs(x, layer, cos, sin)
            cache.keys[li, :, start : start + n] = k
            cache.values[li, :, start : start + n] = v
            keys = cache.keys[li, :, : start + n]
            values = cache.values[li, :, : start + n]
            scores = (q.reshape(nkv, group, n, hd) @ keys[:, None].transpose(0, 1, 3, 2)) * inv_sqrt + mask
            attn = (self._softmax(scores) @ values[:, None]).reshape(c.n_heads, n, hd)
            x = self._feed_forward(x + attn.transpose(1, 0, 2).reshape(n, c.dim) @ layer.wo.T, layer)
        cache.length = start + n
        x = self._norm(x if all_logits else x[-1:], self.output_norm)
        logits: F32 = x @ self.output.T
        return logits if all_logits else logits[0]

    def forward_steps(self, ids: list[int], caches: list[KVCache]) -> F32:
        """One new token for each of several sequences in one pass: logits, shape (len(ids), vocab).

        The weight matmuls take every sequence as one row of a batch (the weights are read once);
        attention runs per sequence, over its own cache and position.
        """
        c = self.config
        hd, nkv, group = c.head_dim, c.n_kv_heads, c.n_heads // c.n_kv_heads
        inv_sqrt = float(1.0 / np.sqrt(hd))
        positions = np.array([cache.length for cache in caches], dtype=np.int64)
        for cache in caches:
            cache.reserve(cache.length + 1)
        x = self.embedding[ids]
        cos, sin = self._rope_tables(positions)
        attn = np.empty((len(ids), c.dim), dtype=np.float32)
        for li, layer in enumerate(self.layers):
            q, k, v = self._attention_inputs(x, layer, cos, sin)
            for row, cache in enumerate(caches):
                pos = int(positions[row])
                cache.keys[li, :, pos] = k[:, row]
                cache.values[li, :, pos] = v[:, row]
                keys = cache.keys[li, :, : pos + 1]
                values = cache.values[li, :, : pos + 1]
                scores = (q[:, row].reshape(nkv, group, hd) @ keys.transpose(0, 2, 1)) * inv_sqrt
                attn[row] = (self._softmax(scores) @ values).reshape(c.dim)
            x = self._feed_forward(x + attn @ layer.wo.T, layer)
        for cache in caches:
            cache.length += 1
        logits: F32 = self._norm(x, self.output_norm) @ self.output.T
        return logits
