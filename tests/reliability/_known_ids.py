"""Real resources of one tenant, made through the SDK, whose ids feed path parameters to the fuzzer.

A service that is not served yet (its SDK module or its Local router still missing) is skipped: the
fuzzer then only sends random ids there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from gravixlayer import GravixLayer, GravixLayerError
from gravixlayer.local import LocalServer

DEPLOYABLE_MODEL = "qwen/qwen-2.5-vl-7b-instruct"


@dataclass
class KnownIds:
    ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, *values: str | None) -> None:
        self.ids.setdefault(kind, []).extend(v for v in values if v)

    def for_param(self, name: str) -> list[str]:
        """Ids that fit a path parameter, judged by its name (``file_id`` -> files, ...)."""
        name = name.lower()
        for kind, values in self.ids.items():
            if kind in name:
                return values
        if name in ("id", "path"):
            return [v for values in self.ids.values() for v in values]
        return []


def gpu_model(client: GravixLayer) -> str:
    return str(next(iter(client.accelerators.list())).gpu_model)


def known_ids_for(server: LocalServer, key: str) -> KnownIds:
    known = KnownIds()
    tag = uuid.uuid4().hex[:8]
    with GravixLayer(api_key=key, base_url=server.base_url, max_retries=0) as client:
        try:
            d = client.deployments.create(
                deployment_name=f"fuzz-{tag}", model_name=DEPLOYABLE_MODEL, gpu_model=gpu_model(client)
            )
            known.add("deployment", d.deployment_id, d.deployment_name)
        except (ImportError, GravixLayerError):
            pass
        try:
            f = client.files.create(file=b"fuzz me\n", purpose="fine-tune", filename=f"fuzz-{tag}.jsonl")
            known.add("file", f.id)
        except (ImportError, GravixLayerError):
            pass
        try:
            index = client.vectors.indexes.create(
                name=f"fuzz-{tag}", dimension=4, metric="cosine", cloud_provider="AWS", region="us-east-1"
            )
            known.add("index", index.id)
            v = client.vectors.index(index.id).upsert(
                [0.1, 0.2, 0.3, 0.4], id=f"vec-{tag}", metadata={"k": "v"}
            )
            known.add("vector", getattr(v, "id", None) or f"vec-{tag}")
        except (ImportError, GravixLayerError):
            pass
        try:
            sandbox = client.sandbox.sandboxes.create(provider="gravix", region="local", timeout=600)
            known.add("sandbox", sandbox.sandbox_id)
            ctx = client.sandbox.sandboxes.create_code_context(sandbox.sandbox_id)
            known.add("context", getattr(ctx, "context_id", None) or getattr(ctx, "id", None))
        except (ImportError, GravixLayerError, TypeError):
            pass
    return known
