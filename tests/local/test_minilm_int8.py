"""MiniLM's int8 conversion: converted once into the cache, same rankings, and the shipped model otherwise."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from gravixlayer.local import minilm_int8
from gravixlayer.local.sentence_encoder import MiniLM, model_file

SENTENCES = ["What is my preferred language?", "I prefer coding in Python", "The weather is cold today"]


def _shipped_vectors() -> np.ndarray:
    encoder = MiniLM()
    path = model_file()
    assert path is not None
    encoder._session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return encoder.encode(SENTENCES)[0]


def test_first_use_converts_into_the_cache_and_later_uses_reuse_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(minilm_int8.CACHE_ENV, str(tmp_path / "cache"))
    source = model_file()
    assert source is not None
    converted = minilm_int8.fast_model(source)
    assert converted.parent == tmp_path / "cache" and converted.is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [converted.name]  # no temporary left
    stamp = converted.stat().st_mtime_ns
    assert minilm_int8.fast_model(source) == converted and converted.stat().st_mtime_ns == stamp
    vectors = MiniLM().encode(SENTENCES)[0]
    shipped = _shipped_vectors()
    assert (vectors * shipped).sum(axis=1).min() > 0.98
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]


def test_without_onnx_the_shipped_model_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(minilm_int8.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    source = model_file()
    assert source is not None
    assert minilm_int8.fast_model(source) == source
    assert not (tmp_path / "cache").exists()


def test_a_failed_conversion_or_a_damaged_cache_falls_back_to_the_shipped_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    source = model_file()
    assert source is not None
    monkeypatch.setenv(minilm_int8.CACHE_ENV, str(tmp_path / "cache"))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with caplog.at_level(logging.WARNING, logger="gravixlayer"):
        assert minilm_int8.fast_model(broken) == broken
    assert "conversion failed" in caplog.text
    assert not [p for p in (tmp_path / "cache").iterdir()]
    # A damaged file where the converted model should be: the encoder still answers, from the shipped model.
    damaged = tmp_path / "cache" / minilm_int8._cache_name(source)
    damaged.write_bytes(b"truncated")
    vectors = MiniLM().encode(SENTENCES)[0]
    np.testing.assert_allclose(vectors, _shipped_vectors(), atol=1e-5)


def test_the_cache_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(minilm_int8.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert minilm_int8.cache_dir() == tmp_path / "gravixlayer"
