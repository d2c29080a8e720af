"""Hardware catalogue (spec §5.1, ruling 14): ``GET /v1/accelerators``.

The GPUs come from ``data/accelerators.json``, whose prices are local sample
prices (see the note in that file). Each item carries both field families the
vendor's readers use (``gpu_*`` and ``accelerator_id``/``hw_*``/``provider``).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = ["routes", "catalogue", "find_gpu"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _expand(item: dict[str, Any], updated_at: str) -> dict[str, Any]:
    model = str(item["gpu_model"])
    provider = model.split("_", 1)[0]
    family = model.split("_", 1)[1].rsplit("_", 1)[0] if model.count("_") >= 2 else model
    memory = int(item["gpu_memory"])
    link = str(item["gpu_link"])
    gpu_id = f"{_slug(provider)}-{_slug(family)}-{memory}gb-{_slug(link)}"
    return {
        "gpu_id": gpu_id,
        "gpu_model": model,
        "gpu_link": link,
        "gpu_memory": memory,
        "accelerator_id": gpu_id,
        "hw_model": model,
        "hw_link": link,
        "hw_memory": memory,
        "provider": provider,
        "pricing": float(item["pricing"]),
        "status": "available",
        "updated_at": updated_at,
    }


@lru_cache(maxsize=1)
def catalogue() -> tuple[dict[str, Any], ...]:
    """Every accelerator as served (both field families), from the packaged data file."""
    text = resources.files("gravixlayer.local").joinpath("data/accelerators.json").read_text("utf-8")
    data = json.loads(text)
    return tuple(_expand(item, data["updated_at"]) for item in data["accelerators"])


def find_gpu(name: str) -> dict[str, Any] | None:
    """The accelerator whose model (``NVIDIA_T4_16GB``) or id (``nvidia-t4-16gb-pcie``) is ``name``, any case."""
    wanted = name.strip().lower()
    for item in catalogue():
        if wanted in (item["gpu_model"].lower(), item["gpu_id"]):
            return item
    return None


async def list_accelerators(request: Request) -> Response:
    return JSONResponse([dict(item) for item in catalogue()])


routes: list[BaseRoute] = [Route("/v1/accelerators", list_accelerators, methods=["GET"])]
