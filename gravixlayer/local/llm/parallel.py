"""Weight products split across two threads that each use one BLAS thread.

A multi-threaded BLAS makes its threads wait for each other by spinning: when
another process holds one of the cores, a pass can take thirty times as long
(measured: 0.05 s becomes 1.8 s on a busy 2-core machine). Splitting each
product by rows between two Python threads, each calling a one-thread BLAS,
gives the same speed on free cores, and on busy ones at worst the time of
one thread doing both halves plus a blocking wait, never a spin.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    F32 = npt.NDArray[np.float32]

__all__ = ["RowSplit", "plain_product"]

_MIN_ROWS = 256
"""Weights with fewer output rows are not worth a hand-off (~20 us)."""


def plain_product(x: F32, weight: F32) -> F32:
    """``x @ weight.T`` on the calling thread."""
    out: F32 = x @ weight.T
    return out


class RowSplit:
    """``x @ weight.T`` with the weight's second half of rows computed on a helper thread."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="gravixlayer-llm-half", daemon=True)
        self._thread.start()

    def __call__(self, x: F32, weight: F32) -> F32:
        import numpy as np

        rows = weight.shape[0]
        if rows < _MIN_ROWS:
            return plain_product(x, weight)
        half = rows // 2
        self._tasks.put((x, weight[half:]))
        first = x @ weight[:half].T
        second = self._results.get()
        if isinstance(second, BaseException):
            raise second
        out: F32 = np.concatenate([first, second], axis=-1)
        return out

    def _serve(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            x, weight = task
            try:
                self._results.put(x @ weight.T)
            except Exception as exc:  # handed back to the caller
                self._results.put(exc)

    def close(self) -> None:
        self._tasks.put(None)
