"""MiniLM's int8 conversion: converted once into the cache, batch-independent, close to the shipped model,
and the shipped model whenever the conversion cannot happen."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gravixlayer.local import minilm_int8
from gravixlayer.local.sentence_encoder import MiniLM, model_file

SENTENCES = ["What is my preferred language?", "I prefer coding in Python", "The weather is cold today"]
QUIET = "I prefer coding in Python"
# Texts whose activations dwarf QUIET's: with one activation scale per batch (the reverted
# per-tensor recipe), QUIET's vector moved by 0.02-0.03 per element next to these.
LOUD = [
    "!!!! ???? #### $$$$ " * 30,
    "ZYZZYVA QUIXOTIC XYLOPHONE JUXTAPOSITION " * 12 + "0123456789 " * 10,
    "a",
]


def _shipped() -> Path:
    path = model_file()
    assert path is not None
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory, and a process that has decided nothing yet."""
    monkeypatch.setenv(minilm_int8.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(minilm_int8, "_decided", {})
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def converted_file() -> Iterator[Path]:
    """A freshly converted model (in its own cache directory)."""
    with pytest.MonkeyPatch.context() as patch:
        import tempfile

        with tempfile.TemporaryDirectory() as work:
            patch.setenv(minilm_int8.CACHE_ENV, work)
            patch.setattr(minilm_int8, "_decided", {})
            path = minilm_int8.fast_model(_shipped())
            assert path.parent == Path(work), "the conversion did not happen"
            yield path


@pytest.fixture(scope="module")
def converted(converted_file: Path) -> MiniLM:
    """An encoder on the freshly converted model."""
    return MiniLM(converted_file)


def test_first_use_converts_into_the_cache_and_later_uses_reuse_it(cache: Path) -> None:
    converted = minilm_int8.fast_model(_shipped())
    assert converted.parent == cache and converted.is_file()
    assert [p.name for p in cache.iterdir()] == [converted.name]  # no temporary left
    stamp = converted.stat().st_mtime_ns
    minilm_int8._decided.clear()  # as a new process would
    assert minilm_int8.fast_model(_shipped()) == converted and converted.stat().st_mtime_ns == stamp
    assert minilm_int8.RECIPE.startswith("minilm-rowquant")  # never the reverted per-tensor file


def test_converted_vectors_stay_close_to_the_shipped_ones(converted: MiniLM) -> None:
    vectors = converted.encode(SENTENCES)[0]
    shipped = MiniLM(_shipped()).encode(SENTENCES)[0]
    assert not np.array_equal(vectors, shipped)  # the int8 model is the one running
    assert (vectors * shipped).sum(axis=1).min() > 0.98
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]


def test_a_text_embeds_the_same_alone_and_among_louder_texts(converted: MiniLM) -> None:
    alone = converted.encode([QUIET])[0][0]
    for company in ([*LOUD], LOUD[:1], LOUD[1:2], [*SENTENCES, *LOUD]):
        together = converted.encode([*company, QUIET])[0][-1]
        np.testing.assert_allclose(together, alone, atol=1e-6)


def test_the_default_encoder_runs_the_converted_model(cache: Path) -> None:
    vectors = MiniLM().encode(SENTENCES)[0]
    assert len(list(cache.glob("minilm-*.onnx"))) == 1
    np.testing.assert_array_equal(vectors, MiniLM(next(cache.glob("minilm-*.onnx"))).encode(SENTENCES)[0])


def test_without_onnx_the_shipped_model_runs(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    assert minilm_int8.fast_model(_shipped()) == _shipped()
    assert not cache.exists()


def test_an_unwritable_cache_falls_back_logs_once_and_prints_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")  # even root cannot create a directory under a file
    monkeypatch.setenv(minilm_int8.CACHE_ENV, str(blocker / "cache"))
    monkeypatch.setattr(minilm_int8, "_decided", {})
    with caplog.at_level(logging.INFO, logger="gravixlayer"):
        first = MiniLM().encode(SENTENCES)[0]
        second = MiniLM().encode(SENTENCES)[0]
    np.testing.assert_array_equal(first, MiniLM(_shipped()).encode(SENTENCES)[0])
    np.testing.assert_array_equal(first, second)
    records = [r for r in caplog.records if r.name == "gravixlayer.local" and "MiniLM" in r.getMessage()]
    assert len(records) == 1 and "runs as shipped" in records[0].getMessage()
    assert capfd.readouterr() == ("", "")


def test_a_failed_conversion_or_a_damaged_cache_falls_back_to_the_shipped_model(
    cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with caplog.at_level(logging.WARNING, logger="gravixlayer"):
        assert minilm_int8.fast_model(broken) == broken
    assert "conversion failed" in caplog.text
    assert not list(cache.iterdir())
    # A damaged file where the converted model should be: the encoder answers from the shipped model
    # and drops the file, so that the next start converts again.
    cache.mkdir(exist_ok=True)
    damaged = cache / minilm_int8._cache_name(_shipped())
    damaged.write_bytes(b"truncated")
    with caplog.at_level(logging.WARNING, logger="gravixlayer"):
        vectors = MiniLM().encode(SENTENCES)[0]
    np.testing.assert_array_equal(vectors, MiniLM(_shipped()).encode(SENTENCES)[0])
    assert "did not load" in caplog.text and not damaged.exists()


def test_concurrent_first_starts_each_get_a_whole_model(cache: Path) -> None:
    code = (
        "from gravixlayer.local.minilm_int8 import fast_model;"
        "from gravixlayer.local.sentence_encoder import model_file;"
        "print(fast_model(model_file()))"
    )
    env = {**minilm_int8._child_env(), minilm_int8.CACHE_ENV: str(cache)}
    starts = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True)
        for _ in range(3)
    ]
    paths = {start.communicate(timeout=300)[0].strip() for start in starts}
    assert all(start.returncode == 0 for start in starts)
    assert len(paths) == 1 and Path(paths.pop()).parent == cache
    assert len(list(cache.iterdir())) == 1  # one model, no temporary left
    MiniLM(next(cache.iterdir())).encode(SENTENCES)


def test_the_rewrite_runs_every_weight_product_in_int8_and_fuses_each_attention(converted_file: Path) -> None:
    import onnx

    ops = Counter(node.op_type for node in onnx.load(str(converted_file)).graph.node)
    assert ops["MatMulIntegerToFloat"] == 36 and ops["MultiHeadAttention"] == 6
    assert ops["MatMul"] == 0 and ops["Softmax"] == 0


def test_a_refused_attention_fusion_keeps_the_integer_products(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnx

    real_check, checked = minilm_int8._check, []

    def check(source: Path, target: Path) -> None:
        checked.append(target)
        if len(checked) == 1:
            raise ValueError("MultiHeadAttention is not implemented here")  # as an older onnxruntime might
        real_check(source, target)

    monkeypatch.setattr(minilm_int8, "_check", check)
    target = tmp_path / "model.onnx"
    minilm_int8._convert(_shipped(), target)
    ops = Counter(node.op_type for node in onnx.load(str(target)).graph.node)
    assert len(checked) == 2 and ops["MatMulIntegerToFloat"] == 36 and ops["MultiHeadAttention"] == 0


def test_the_cache_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(minilm_int8.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert minilm_int8.cache_dir() == tmp_path / "gravixlayer"
