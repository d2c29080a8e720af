"""`to_pandas()` on every list/result type and `upsert_dataframe()`: against GravixLayer Local and on
hand-made responses (flattened metadata, tz-aware timestamps, float scores, embeddings only when asked)."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gravixlayer import GravixLayer, GravixLayerValidationError
from gravixlayer._dataframes import dataframe_to_vectors, frame_from_items, nest_metadata
from gravixlayer.types.accelerators import AcceleratorList
from gravixlayer.types.deployments import DeploymentList
from gravixlayer.types.files import FileList
from gravixlayer.types.memory import MemoryResults
from gravixlayer.types.vectors import SearchResponse, VectorList

EMBED = "baai/bge-small-en-v1.5"  # 384 dimensions on Local


def is_utc(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.DatetimeTZDtype) and str(series.dt.tz) == "UTC"


# -- pure conversions --------------------------------------------------------------------------------


def test_search_hits_flatten_nested_metadata_with_prefixes() -> None:
    resp = SearchResponse.model_validate({
        "hits": [
            {"id": "a", "score": 0.5, "metadata": {"category": "x", "source": {"kind": "doc", "page": 2}}},
            {"id": "b", "score": 0.9, "metadata": {"category": "y", "extra": True, "source": "inline"}},
            {"id": "c", "score": 1, "metadata": None},
        ],
        "query_time_ms": 3,
    })  # fmt: skip
    df = resp.to_pandas()
    assert list(df["id"]) == ["c", "b", "a"]  # best first
    assert list(df.columns) == ["id", "score", "metadata.category", "metadata.extra", "metadata.source",
                                "metadata.source.kind", "metadata.source.page"]  # fmt: skip
    assert df["score"].dtype == "float64"
    row_a = df.set_index("id").loc["a"]
    assert row_a["metadata.source.kind"] == "doc" and row_a["metadata.source.page"] == 2
    assert df.set_index("id").loc["b", "metadata.source"] == "inline"
    assert pd.isna(df.set_index("id").loc["c", "metadata.category"])
    raw = resp.to_pandas(flatten=False)
    assert list(raw.columns) == ["id", "score", "metadata"] and raw["metadata"].iloc[2] == {
        "category": "x", "source": {"kind": "doc", "page": 2}}  # fmt: skip


def test_metadata_keys_never_shadow_top_level_columns() -> None:
    df = frame_from_items([{"id": "1", "metadata": {"id": "inner"}, "metadata.id": "top"}], ("id", "metadata.id", "metadata"))
    assert df["metadata.id"].iloc[0] == "top" and df["metadata.id_"].iloc[0] == "inner"


def test_embeddings_only_when_asked_as_float32_arrays() -> None:
    resp = SearchResponse.model_validate({"hits": [{"id": "a", "score": 0.1, "values": [0.5, 0.25, 1.0]}]})
    assert "embedding" not in resp.to_pandas().columns
    emb = resp.to_pandas(embeddings=True)["embedding"].iloc[0]
    assert isinstance(emb, np.ndarray) and emb.dtype == np.float32 and emb.tolist() == [0.5, 0.25, 1.0]
    vl = VectorList.model_validate({"data": [{"id": "v", "embedding": [1.0, 2.0], "created_at": "2025-01-02T03:04:05"}]})
    assert "embedding" not in vl.to_pandas().columns
    assert vl.to_pandas(embeddings=True)["embedding"].iloc[0].dtype == np.float32
    assert vl.to_pandas(include_values=True)["embedding"].iloc[0].shape == (2,)


def test_timestamps_are_tz_aware_utc_from_iso_strings_and_unix_seconds() -> None:
    files = FileList.model_validate({"data": [{"id": "f", "filename": "a.txt", "bytes": 3, "created_at": 1700000000}]})
    df = files.to_pandas()
    assert is_utc(df["created_at"]) and df["created_at"].iloc[0] == pd.Timestamp("2023-11-14 22:13:20", tz="UTC")
    deps = DeploymentList.model_validate({"data": [
        {"deployment_id": "d1", "created_at": "2025-05-01T10:00:00+02:00"},
        {"deployment_id": "d2", "created_at": "2025-05-01T10:00:00"},  # naive: read as UTC
        {"deployment_id": "d3", "created_at": "not a date"},
    ]})  # fmt: skip
    created = deps.to_pandas()["created_at"]
    assert is_utc(created)
    assert created.iloc[0] == pd.Timestamp("2025-05-01T08:00:00", tz="UTC")
    assert created.iloc[1] == pd.Timestamp("2025-05-01T10:00:00", tz="UTC") and pd.isna(created.iloc[2])


def test_memory_results_frame() -> None:
    results = MemoryResults.model_validate({"results": [
        {"id": "m1", "memory": "likes tea", "score": "0.75", "created_at": "2025-01-01T00:00:00Z",
         "metadata": {"user_id": "u1", "importance_score": 1.0}},
    ]})  # fmt: skip
    df = results.to_pandas()
    assert df["score"].dtype == "float64" and df["score"].iloc[0] == 0.75
    assert is_utc(df["created_at"]) and df["metadata.user_id"].iloc[0] == "u1"


def test_nest_metadata_undoes_flattening_and_drops_missing() -> None:
    assert nest_metadata({"a": 1, "b.c": np.int64(2), "b.d": float("nan"), "e": None, "f": np.float32(0.5)}) == {
        "a": 1, "b": {"c": 2}, "f": 0.5}  # fmt: skip


def test_dataframe_to_vectors_checks_the_frame() -> None:
    df = pd.DataFrame({"id": ["a"], "text": ["hello"], "vec": [[1.0, 2.0]]})
    with pytest.raises(ValueError, match="exactly one of text_column"):
        dataframe_to_vectors(df, id_column="id", text_column="text", embedding_column="vec", metadata_columns=None)
    with pytest.raises(KeyError, match="id_column='nope'"):
        dataframe_to_vectors(df, id_column="nope", text_column="text", embedding_column=None, metadata_columns=None)
    bad = pd.DataFrame({"vec": [[1.0, float("nan")]]})
    with pytest.raises(ValueError, match="row 0: 'vec' must be a non-empty list or array of finite numbers"):
        dataframe_to_vectors(bad, id_column=None, text_column=None, embedding_column="vec", metadata_columns=None)
    is_text, items = dataframe_to_vectors(df, id_column="id", text_column="text", embedding_column=None, metadata_columns=["vec"])
    assert is_text and items == [{"text": "hello", "id": "a", "metadata": {"vec": [1.0, 2.0]}}]


def test_import_gravixlayer_does_not_import_pandas_or_ipywidgets() -> None:
    code = (
        "import sys, gravixlayer, gravixlayer_notebook; from gravixlayer import GravixLayer; "
        "import gravixlayer.types.vectors, gravixlayer.types.files; "
        "print(sorted(m for m in ('pandas', 'numpy', 'ipywidgets', 'IPython', 'tqdm') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


# -- against GravixLayer Local -------------------------------------------------------------------------


@pytest.fixture
def index(client: GravixLayer) -> Iterator[Any]:
    created = client.vectors.indexes.create(
        name=f"nb-{uuid.uuid4().hex[:8]}", dimension=384, metric="cosine", cloud_provider="AWS", region="us-east-1",
        index_type="serverless",
    )  # fmt: skip
    yield client.vectors.index(created.id)
    client.vectors.indexes.delete(created.id)


def test_upsert_dataframe_round_trip_with_embeddings(index: Any) -> None:
    rng = np.random.default_rng(7)
    df = pd.DataFrame({
        "id": [f"v{i}" for i in range(250)],
        "vec": list(rng.normal(size=(250, 384)).astype(np.float32)),
        "metadata.category": ["a", "b"] * 125,
        "metadata.source.page": list(range(250)),
    })  # fmt: skip
    result = index.upsert_dataframe(df, id_column="id", embedding_column="vec", batch_size=100)
    assert result.upserted_count == 250 and result.failed_count == 0 and result.ids[:2] == ["v0", "v1"]
    hits = index.search(embedding=df["vec"].iloc[3].tolist(), limit=5, include_values=True)
    frame = hits.to_pandas(embeddings=True)
    assert frame["id"].iloc[0] == "v3" and frame["score"].dtype == "float64"
    assert frame["metadata.category"].iloc[0] == "b" and frame["metadata.source.page"].iloc[0] == 3
    assert np.allclose(frame["embedding"].iloc[0], df["vec"].iloc[3], atol=1e-5)
    again = index.upsert_dataframe(frame.rename(columns={"embedding": "vec"}), id_column="id", embedding_column="vec")
    assert again.upserted_count == 5  # idempotent: a frame from to_pandas goes back as it came
    stored = index.list().to_pandas(embeddings=True)
    assert len(stored) == 250 and is_utc(stored["created_at"])
    assert stored.set_index("id").loc["v3", "metadata.source.page"] == 3


def test_upsert_dataframe_text_with_progress_bar(index: Any, capsys: pytest.CaptureFixture[str]) -> None:
    df = pd.DataFrame({"doc": ["I like tea", "Cats purr", "Rust is fast"], "tag": ["drink", "pet", "code"]})
    result = index.upsert_dataframe(df, text_column="doc", model=EMBED, metadata_columns=["tag"], batch_size=2, progress=True)
    assert result.upserted_count == 3 and len(result.ids) == 3
    assert "3/3" in capsys.readouterr().err  # tqdm's bar went to stderr, batch by batch
    hits = index.search_text(query="kitten", model=EMBED, limit=3).to_pandas()
    assert set(hits["metadata.tag"]) == {"drink", "pet", "code"} and hits["score"].is_monotonic_decreasing
    with pytest.raises(GravixLayerValidationError, match="needs model="):
        index.upsert_dataframe(df, text_column="doc")
    with pytest.raises(GravixLayerValidationError, match="text_column='nope' is not a column"):
        index.upsert_dataframe(df, text_column="nope", model=EMBED)


async def test_async_upsert_dataframe(aclient: Any, index: Any) -> None:
    df = pd.DataFrame({"id": ["x1", "x2"], "vec": [[0.1] * 384, [0.2] * 384]})
    result = await aclient.vectors.index(index.index_id).upsert_dataframe(df, id_column="id", embedding_column="vec")
    assert result.upserted_count == 2


def test_files_deployments_hardware_frames_from_local(client: GravixLayer) -> None:
    uploaded = client.files.create(file=io.BytesIO(b'{"a": 1}\n'), purpose="fine-tune", filename="nb-frame.jsonl")
    files = client.files.list().to_pandas()
    assert uploaded.id in set(files["id"]) and is_utc(files["created_at"])
    assert list(files.columns) == ["id", "filename", "bytes", "purpose", "created_at", "expires_after"]
    hardware = client.accelerators.list().to_pandas()
    assert len(hardware) > 0 and hardware["pricing"].dtype == "float64" and (hardware["pricing"] > 0).all()
    assert hardware["gpu_memory"].dtype == "float64" and hardware["name"].notna().all()
    gpu = hardware["gpu_model"].iloc[0]
    dep = client.deployments.create(deployment_name=f"nb-{uuid.uuid4().hex[:6]}", model_name="qwen/qwen-2.5-vl-7b-instruct", gpu_model=gpu)
    try:
        deps = client.deployments.list().to_pandas()
        row = deps.set_index("deployment_id").loc[dep.deployment_id]
        assert row["gpu_model"] == gpu and is_utc(deps["created_at"])
    finally:
        client.deployments.delete(dep.deployment_id)
    client.files.delete(uploaded.id)
    assert isinstance(AcceleratorList().to_pandas(), pd.DataFrame)
