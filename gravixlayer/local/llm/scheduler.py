"""One thread runs every forward pass of the local model; concurrent decodes share one batched pass.

Decoding a 135M model on a CPU is bound by memory bandwidth: each step reads all
~540 MB of float32 weights. Two consequences shape this module:

- A single generation is fastest with two BLAS threads on a 2-core machine
  (~35 tokens/s against ~23 on one). BLAS thread counts are process-wide, so
  only one thread sets and uses them: the worker. (Two Python threads each
  calling a one-thread BLAS on half of each product gain nothing: measured
  21 against 23 tokens/s.)
- Concurrent generations must not each read the weights. Every decode step
  waiting when the worker wakes (one new token per sequence) becomes one row
  of a single batched pass, so 20 streaming chats cost little more than one
  instead of twenty passes fighting over two cores.

Two threads only help while both cores are free: OpenBLAS threads wait for
each other by spinning, so when another process holds a core a two-thread
pass can take twenty times as long as a one-thread pass (measured on a busy
2-core machine: 0.05 s against 1.8 s). ``ThreadTuner`` times every decode pass
and keeps the thread count that is faster now, trying the other one rarely
(the slower it was, the more rarely). Prompt blocks use the count decode
passes found faster, and one thread until there is a measurement.

Prompts (and the forced tokens of JSON and tool constraints) run in blocks of
``PREFILL_BLOCK`` tokens, interleaved with the batched decode steps so a long
prompt does not stall every stream.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .model import KVCache, Transformer

    F32 = npt.NDArray[np.float32]

__all__ = ["ForwardScheduler", "ThreadTuner", "blas_threads", "THREADS_ENV", "PREFILL_BLOCK"]

logger = logging.getLogger("gravixlayer.local")

THREADS_ENV = "GRAVIXLAYER_LOCAL_LLM_THREADS"
PREFILL_BLOCK = 256
MAX_GENERATIONS = 16
"""Generations decoding at once; later ones wait for a free place before their prompt runs. Past ~16 rows
a pass is bound by compute rather than by reading the weights, so more rows add little throughput and
make every running answer slower (first come, first served beats everyone in lockstep)."""
_GATHER_SHARE = 0.25
"""The worker waits for the other running generations' next steps at most this share of the last pass
(their threads need the GIL to sample and stream their token; a pass that leaves them out costs them
a whole pass)."""


def blas_threads() -> int:
    """Most BLAS threads a pass may use: every core up to 4 (a 135M model gains nothing past that);
    ``GRAVIXLAYER_LOCAL_LLM_THREADS`` overrides it (1 keeps the model on one core)."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(4, os.cpu_count() or 1))


class ThreadTuner:
    """Chooses between one thread and ``most`` by the measured time of recent decode passes."""

    PROBE_EVERY = 16
    """Passes between two tries of the thread count not in use, at least; a try that was k times slower
    waits 20*k passes, so tries cost at most ~5% of the time."""
    ROW_COST = 0.15
    """Extra cost of each further row of a batched pass, relative to a one-row pass (measured ~0.1-0.2)."""
    _ALPHA = 0.3

    def __init__(self, most: int) -> None:
        self.options = (most, 1) if most > 1 else (1,)
        self._cost: dict[int, float] = {}
        self._passes = 0

    def threads(self) -> int:
        """The thread count for the next decode pass."""
        self._passes += 1
        untried = [t for t in self.options if t not in self._cost]
        if untried:
            return untried[0]
        best = min(self.options, key=self._cost.__getitem__)
        if len(self.options) == 1:
            return best
        other = next(t for t in self.options if t != best)
        interval = max(self.PROBE_EVERY, round(20 * self._cost[other] / self._cost[best]))
        if self._passes % interval == 0:
            return other
        return best

    def record(self, threads: int, seconds: float, rows: int) -> None:
        """The count in use is averaged over passes; a try of the other count replaces its figure, so one
        try after the machine quietens is enough to switch back (an average would need several tries,
        ``PROBE_EVERY`` passes apart)."""
        unit = seconds / (1.0 + self.ROW_COST * (rows - 1))
        old = self._cost.get(threads)
        if old is not None and threads == self.current() and len(self._cost) == len(self.options):
            unit = old + self._ALPHA * (unit - old)
        self._cost[threads] = unit

    def current(self) -> int:
        """The thread count that is faster now (for prompt blocks)."""
        known = [t for t in self.options if t in self._cost]
        return min(known, key=self._cost.__getitem__) if len(known) == len(self.options) else 1


@dataclass(eq=False)
class _Job:
    ids: Sequence[int]
    cache: KVCache
    done: threading.Event = field(default_factory=threading.Event)
    offset: int = 0
    logits: F32 | None = None
    error: BaseException | None = None


class ForwardScheduler:
    """Runs ``Transformer`` passes for every thread that asks, on one worker thread."""

    def __init__(self, model: Transformer, threads: int | None = None) -> None:
        self._model = model
        self.tuner = ThreadTuner(threads if threads is not None else blas_threads())
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._running = 0
        self._last_pass = 0.0
        self._last_rows = 0
        self._worker: threading.Thread | None = None
        self._places = threading.BoundedSemaphore(MAX_GENERATIONS)

    @contextmanager
    def generation(self) -> Iterator[None]:
        """Holds one of ``MAX_GENERATIONS`` places, and counts the generation so the worker knows how many
        steps to wait for."""
        with self._places:
            with self._cond:
                self._running += 1
            try:
                yield
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def forward(self, ids: Sequence[int], cache: KVCache) -> F32:
        """Logits after feeding ``ids`` (appended to ``cache``); blocks until the worker has run them."""
        if not ids:
            raise ValueError("forward needs at least one token")
        job = _Job(ids, cache)
        with self._cond:
            self._ensure_worker()
            self._queue.append(job)
            self._cond.notify_all()
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.logits is not None
        return job.logits

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._serve, name="gravixlayer-llm", daemon=True)
            self._worker.start()

    def _take(self) -> list[_Job]:
        with self._cond:
            while not self._queue:
                self._cond.wait()
            deadline = time.monotonic() + _GATHER_SHARE * self._last_pass
            # Wait for the generations of the last pass, not every running one: one whose reader is slow
            # or gone must not slow the others down.
            while len(self._queue) < min(self._running, self._last_rows):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            jobs, self._queue = self._queue, []
            return jobs

    def _serve(self) -> None:
        from threadpoolctl import ThreadpoolController

        controller = ThreadpoolController()
        while True:
            jobs = self._take()
            try:
                self._run(jobs, controller)
            except BaseException as exc:  # never leave a caller waiting on a job that will not run
                logger.exception("local model worker failed")
                for job in jobs:
                    if not job.done.is_set():
                        self._finish(job, error=exc)
                if not isinstance(exc, Exception):
                    raise

    def _run(self, jobs: list[_Job], controller: Any) -> None:
        steps = [j for j in jobs if len(j.ids) == 1]
        blocks = [j for j in jobs if len(j.ids) > 1]
        if steps:
            threads = self.tuner.threads()
            with controller.limit(limits=threads, user_api="blas"):
                started = time.perf_counter()
                self._steps(steps)
                self._last_pass, self._last_rows = time.perf_counter() - started, len(steps)
                self.tuner.record(threads, self._last_pass, len(steps))
        if blocks:
            with controller.limit(limits=self.tuner.current(), user_api="blas"):
                unfinished = self._blocks(blocks)
            if unfinished:
                with self._cond:
                    self._queue[:0] = unfinished

    def _steps(self, steps: list[_Job]) -> None:
        try:
            outputs = self._model.forward_steps([j.ids[0] for j in steps], [j.cache for j in steps])
            for job, logits in zip(steps, outputs, strict=True):
                self._finish(job, logits=logits)
        except Exception as exc:  # handed to every waiting caller
            logger.exception("local model forward pass failed")
            for job in steps:
                self._finish(job, error=exc)

    def _blocks(self, blocks: list[_Job]) -> list[_Job]:
        unfinished: list[_Job] = []
        for job in blocks:
            try:
                end = min(job.offset + PREFILL_BLOCK, len(job.ids))
                logits = self._model.forward(list(job.ids[job.offset : end]), job.cache)
                job.offset = end
                if end == len(job.ids):
                    self._finish(job, logits=logits)
                else:
                    unfinished.append(job)
            except Exception as exc:
                logger.exception("local model forward pass failed")
                self._finish(job, error=exc)
        return unfinished

    @staticmethod
    def _finish(job: _Job, *, logits: F32 | None = None, error: BaseException | None = None) -> None:
        job.logits, job.error = logits, error
        job.done.set()
