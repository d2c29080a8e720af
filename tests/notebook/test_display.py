"""Rich display of SDK objects: escaped cards and tables, shortened embeddings, errors, lazy registration."""

from __future__ import annotations

from typing import Any

from IPython.core.interactiveshell import InteractiveShell

from gravixlayer import GravixLayerNotFoundError
from gravixlayer.types.accelerators import AcceleratorList
from gravixlayer.types.embeddings import CreateEmbeddingResponse
from gravixlayer_notebook._display import error_html, model_html, model_markdown


def test_lists_render_as_escaped_tables(magics: Any) -> None:
    hw = AcceleratorList.model_validate({"data": [{"gpu_model": "<script>x</script>", "gpu_memory": 16, "pricing": 0.5}]})
    html = model_html(hw)
    assert "<table" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert "| gpu_model |" in model_markdown(hw).replace("gpu_model | gpu_memory", "gpu_model |")


def test_embeddings_are_shortened(magics: Any) -> None:
    resp = CreateEmbeddingResponse.model_validate({"data": [{"embedding": [0.1] * 1024, "index": 0}], "model": "m"})
    html = model_html(resp)
    assert "1021 more" in html and html.count("0.1") < 10


def test_errors_render_as_cards(magics: Any) -> None:
    err = GravixLayerNotFoundError("no such <model>", status_code=404, code="model_not_found", request_id="req-1")
    html = error_html(err)
    assert "GravixLayerNotFoundError" in html and "no such &lt;model&gt;" in html and "req-1" in html


def test_formatters_are_registered_by_name_and_used(ip: InteractiveShell, magics: Any) -> None:
    hw = AcceleratorList.model_validate({"data": [{"gpu_model": "T4", "pricing": 0.39}]})
    data, _ = ip.display_formatter.format(hw)
    assert "<table" in data["text/html"] and "T4" in data["text/markdown"]
    err = GravixLayerNotFoundError("missing", status_code=404)
    assert "gravix-error" in ip.display_formatter.format(err)[0]["text/html"]
