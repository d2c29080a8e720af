"""Choosing the next token: greedy, temperature and nucleus (top_p) sampling.

Log-probabilities reported to the caller come from the model's own
distribution (log-softmax of the raw logits, before temperature, top_p or a
grammar constraint), which is what OpenAI's ``logprobs`` mean.

Under a constraint (``allowed``), candidates are tried in the model's order
of preference: the ``_TOP_K`` most likely tokens first and, only if none of
them fits, the rest of the vocabulary. Sampling then draws among the allowed
candidates of that first window, renormalised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["SamplingParams", "Choice", "Sampler"]

_TOP_K = 64


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.0
    """0 means greedy (the default of GravixLayer Local's model: same question, same answer)."""
    top_p: float = 1.0
    seed: int | None = None
    top_logprobs: int | None = None
    """None: no log-probabilities; 0-20: the chosen token's and this many alternatives."""


@dataclass(frozen=True)
class Choice:
    token: int
    logprob: float
    top: tuple[tuple[int, float], ...]


class Sampler:
    def __init__(self, params: SamplingParams, rng: np.random.Generator) -> None:
        self.params = params
        self.rng = rng

    def choose(
        self, logits: npt.NDArray[np.float32], allowed: Callable[[int], bool] | None = None
    ) -> Choice | None:
        """The next token (None if the constraint allows no token at all)."""
        token = self._pick(logits, allowed)
        if token is None:
            return None
        shifted = logits - logits.max()
        log_z = float(np.log(np.exp(shifted).sum()))
        top: tuple[tuple[int, float], ...] = ()
        k = self.params.top_logprobs or 0
        if k:
            best = np.argpartition(-logits, k)[:k]
            best = best[np.argsort(-logits[best], kind="stable")]
            top = tuple((int(i), float(shifted[i]) - log_z) for i in best)
        return Choice(token, float(shifted[token]) - log_z, top)

    def _pick(self, logits: npt.NDArray[np.float32], allowed: Callable[[int], bool] | None) -> int | None:
        greedy = self.params.temperature <= 0.0
        if allowed is None:
            if greedy:
                return int(np.argmax(logits))
            return self._sample(logits, np.arange(logits.shape[0]))
        window = np.argpartition(-logits, _TOP_K)[:_TOP_K]
        window = window[np.argsort(-logits[window], kind="stable")]
        fits = [int(i) for i in window if allowed(int(i))]
        if fits:
            if greedy or len(fits) == 1:
                return fits[0]
            return self._sample(logits, np.array(fits))
        rest = np.argsort(-logits, kind="stable")
        for token in rest[_TOP_K:]:
            if allowed(int(token)):
                return int(token)
        return None

    def _sample(self, logits: npt.NDArray[np.float32], candidates: npt.NDArray[np.int64]) -> int:
        scaled = logits[candidates].astype(np.float64) / self.params.temperature
        scaled -= scaled.max()
        probs = np.exp(scaled)
        probs /= probs.sum()
        if self.params.top_p < 1.0:
            order = np.argsort(-probs, kind="stable")
            cumulative = np.cumsum(probs[order])
            keep = order[: int(np.searchsorted(cumulative, self.params.top_p)) + 1]
            probs = probs[keep] / probs[keep].sum()
            candidates = candidates[keep]
        return int(candidates[self.rng.choice(len(candidates), p=probs)])
