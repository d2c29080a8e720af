"""Every Python snippet of the user's SDK reference, executed as written against GravixLayer Local.

The snippets are read from `../shared/seed/sdk-reference.md` at test time, so the test follows the
reference rather than a copy of it. Only the reference's placeholders are replaced (ids such as
"file-123" or "index-id" become the ids of objects the earlier snippets created), and a few objects the
reference assumes exist are prepared first: `data.jsonl`, and an index whose dimension fits each vector
snippet (the reference's raw-embedding snippets use 3-d vectors, its text snippets a 1024-d model).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "sdk-reference.md"

pytestmark = pytest.mark.skipif(not SEED.exists(), reason=f"the SDK reference is not at {SEED}")


def snippets() -> list[tuple[str, str]]:
    """(section path, code) for each ```python block, in document order."""
    text = SEED.read_text()
    out: list[tuple[str, str]] = []
    headings: dict[int, str] = {}
    for match in re.finditer(r"^(#+) ([^\n]+)$|^```python\n(.*?)^```", text, re.M | re.S):
        if match.group(1):
            level = len(match.group(1))
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = match.group(2).strip()
        else:
            out.append((" / ".join(headings[k] for k in sorted(headings)), match.group(3)))
    return out


def substitute(section: str, code: str) -> str:
    """Replace the reference's placeholders with expressions naming real objects."""
    code = code.replace('"file-123"', "file.id")
    code = code.replace('"deployment-id-or-name"', "deployment.deployment_id")
    code = code.replace('"memory-id"', "memory_id")
    code = code.replace('"vec-1"', "'vec-1'")
    if "Sandboxes / Kill" in section:
        code = code.replace('"sandbox-id"', "spare_sandbox.sandbox_id")
    code = code.replace('"sandbox-id"', "sandbox.sandbox_id")
    code = code.replace('"index-id"', "index_id")
    return code


def prepare(section: str, ns: dict[str, Any], client: GravixLayer) -> None:
    """Objects the reference takes for granted before a snippet."""
    if section.endswith("Memory / Get"):
        ns["memory_id"] = ns["results"].results[0].id
    if "Vector Database / Indexes" in section and "index" in ns:
        ns["index_id"] = ns["index"].id
    if "Vector Database / Vectors / Initialize" in section:
        ns["index_id"] = client.vectors.indexes.create(
            name="seed-raw", dimension=3, metric="cosine", cloud_provider="aws", region="us-east-1"
        ).id
    if "Upsert Text" in section or "Search Text" in section:
        text_index = client.vectors.indexes.create(
            name=f"seed-text-{len(ns)}", dimension=1024, metric="cosine", cloud_provider="aws", region="us-east-1"
        )
        ns["vectors_raw"] = ns.get("vectors_raw", ns["vectors"])
        ns["vectors"] = client.vectors.index(text_index.id)
    elif "Vector Database / Vectors" in section and "vectors_raw" in ns:
        ns["vectors"] = ns["vectors_raw"]
    if "Sandboxes / Kill" in section:
        ns["spare_sandbox"] = client.sandbox.sandboxes.create(provider="aws", region="us-east-1")


def test_every_reference_snippet_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = snippets()
    assert len(blocks) >= 40, "the reference should have its ~45 snippets"
    # the stand-in answers chat here (the real local model has its own tests in tests/llm/)
    with LocalServer(api_keys=["your-api-key"], deployment_ready_delay=0, chat_engine="standin") as local:
        monkeypatch.setenv("GRAVIXLAYER_BASE_URL", local.base_url)
        monkeypatch.chdir(tmp_path)
        Path("data.jsonl").write_text('{"prompt": "hi", "completion": "hello"}\n')
        ns: dict[str, Any] = {"__name__": "seed"}
        outputs: dict[str, str] = {}
        for section, code in blocks:
            prepare(section, ns, local.client)
            try:
                exec(compile(substitute(section, code), f"<reference: {section}>", "exec"), ns)
            except Exception as exc:  # pragma: no cover - the message is the point
                raise AssertionError(f"reference snippet '{section}' failed: {exc!r}\n{code}") from exc
            outputs[section] = capsys.readouterr().out
        ns["client"].close()

    by_name = {k.split(" / ", 1)[-1]: v for k, v in outputs.items()}
    assert by_name["Chat Completions / Create (Non-streaming)"].strip()
    assert by_name["Chat Completions / Create (Streaming)"].strip()
    assert by_name["Completions (Legacy) / Create (Non-streaming)"].strip()
    assert by_name["Embeddings / Create"].startswith("[")
    assert "Uploaded file ID: " in by_name["Files / Create (Upload)"]
    assert "my-data.jsonl" in by_name["Files / List"]
    assert '"completion": "hello"' in by_name["Files / Content (Download)"]
    assert by_name["Files / Delete"].strip()
    assert "Deployment created: " in by_name["Deployments / Create"]
    assert "NVIDIA T4 16GB" in by_name["Accelerators / List"]
    # both memories state the preference; which ranks first is the embedding model's call
    assert by_name["Memory / Search"].strip() in ("I prefer coding in Python", "I like Python")
