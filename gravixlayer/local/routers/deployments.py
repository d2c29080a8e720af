"""Deployments service (spec §4, rulings 12-13).

A deployment is stored in SQLite and is ``creating`` until
``config.deployment_ready_delay`` seconds have passed; then it is
``running``, or ``failed`` when the model's fp16 weights (2 bytes per
parameter) do not fit in the GPUs' memory, with the reason in
``failure_reason``. No model is actually loaded: GravixLayer Local
simulates the control plane only.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .. import standin
from .._body import RequestModel, parse_body
from ..errors import LocalAPIError
from ..storage import Storage, tenant_of
from .accelerators import catalogue, find_gpu

__all__ = ["routes", "SCHEMA", "deployable_models"]

PREFIX = "/v1/deployments"
MAX_BODY_BYTES = 64 * 1024
GPU_COUNTS = (1, 2, 4, 8)
MAX_REPLICAS = 100
HW_TYPES = ("dedicated",)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

SCHEMA = [
    """
    CREATE TABLE deployments_items (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        model_name TEXT NOT NULL,
        gpu_model TEXT NOT NULL,
        gpu_count INTEGER NOT NULL,
        min_replicas INTEGER NOT NULL,
        max_replicas INTEGER NOT NULL,
        hw_type TEXT NOT NULL,
        created_at REAL NOT NULL,
        ready_at REAL NOT NULL,
        outcome TEXT NOT NULL,
        failure_reason TEXT,
        UNIQUE (tenant, name)
    );
    CREATE INDEX deployments_items_tenant ON deployments_items (tenant, created_at);
    """
]

# Nominal sizes (billions of parameters) of the deployable models; others are sized from a "<N>b" in
# their name, else treated as small. Hosted models of other providers cannot be deployed.
_PARAMS_B: dict[str, float] = {
    "mistralai/mistral-nemo-instruct-2407": 12.0,
    "qwen/qwen-2.5-vl-7b-instruct": 7.0,
    "meta-llama/llama-3.1-8b-instruct": 8.0,
    "meta-llama/llama-3.1-70b-instruct": 70.0,
}
_HOSTED_PREFIXES = ("anthropic/", "openai/")
_SIZE_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)b(?![a-z])")


def deployable_models() -> list[str]:
    return [m for m in standin.CHAT_MODELS if not m.lower().startswith(_HOSTED_PREFIXES)]


def _params_b(model: str) -> float:
    if model in _PARAMS_B:
        return _PARAMS_B[model]
    sizes = _SIZE_RE.findall(model.lower())
    return float(sizes[-1]) if sizes else 1.0


class CreateDeployment(RequestModel):
    deployment_name: str
    model_name: str
    gpu_model: str
    gpu_count: int = 1
    min_replicas: int = 1
    max_replicas: int = 1
    hw_type: str = "dedicated"


def _bad(message: str) -> LocalAPIError:
    return LocalAPIError(400, "invalid_request", message)


def _validate(body: CreateDeployment) -> tuple[str, dict[str, Any]]:
    """The canonical model name and the GPU, or a 400 saying what is wrong."""
    if not NAME_RE.fullmatch(body.deployment_name):
        raise _bad(
            "deployment_name must be 1-100 characters: letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit; got {body.deployment_name!r}"
        )
    model = standin.resolve_chat_model(body.model_name)
    if model is None or model not in deployable_models():
        why = "is served by its provider and cannot be deployed" if model else "is not a known model"
        raise _bad(f"model_name {body.model_name!r} {why}; deployable models: {', '.join(deployable_models())}")
    gpu = find_gpu(body.gpu_model)
    if gpu is None:
        known = ", ".join(item["gpu_model"] for item in catalogue())
        raise _bad(f"gpu_model {body.gpu_model!r} is not a known accelerator; see GET /v1/accelerators ({known})")
    if body.gpu_count not in GPU_COUNTS:
        raise _bad(f"gpu_count must be one of {', '.join(map(str, GPU_COUNTS))}; got {body.gpu_count}")
    if not 0 <= body.min_replicas <= MAX_REPLICAS:
        raise _bad(f"min_replicas must be between 0 and {MAX_REPLICAS}; got {body.min_replicas}")
    if not 1 <= body.max_replicas <= MAX_REPLICAS:
        raise _bad(f"max_replicas must be between 1 and {MAX_REPLICAS}; got {body.max_replicas}")
    if body.max_replicas < body.min_replicas:
        raise _bad(f"max_replicas ({body.max_replicas}) must be >= min_replicas ({body.min_replicas})")
    if body.hw_type not in HW_TYPES:
        raise _bad(f"hw_type must be one of {', '.join(HW_TYPES)}; got {body.hw_type!r}")
    return model, gpu


def _outcome(model: str, gpu: dict[str, Any], count: int) -> tuple[str, str | None]:
    needed = _params_b(model) * 2
    available = gpu["gpu_memory"] * count
    if needed > available:
        return "failed", (
            f"{model} needs about {needed:g} GB of GPU memory for its fp16 weights; "
            f"{count} x {gpu['gpu_model']} has {available} GB (use a larger gpu_model or gpu_count)"
        )
    return "running", None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _public(row: sqlite3.Row, now: float, *, status: str | None = None) -> dict[str, Any]:
    current = status or (row["outcome"] if now >= row["ready_at"] else "creating")
    gpu = find_gpu(row["gpu_model"])
    out: dict[str, Any] = {
        "deployment_id": row["id"],
        "deployment_name": row["name"],
        "status": current,
        "created_at": _iso(row["created_at"]),
        "model_name": row["model_name"],
        "gpu_model": row["gpu_model"],
        "gpu_count": row["gpu_count"],
        "min_replicas": row["min_replicas"],
        "max_replicas": row["max_replicas"],
        "hw_type": row["hw_type"],
    }
    if gpu is not None:
        out["hardware"] = f"{gpu['gpu_id']}_{row['gpu_count']}"
    if current == "failed" and row["failure_reason"]:
        out["failure_reason"] = row["failure_reason"]
    return out


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def create_deployment(request: Request) -> Response:
    tenant = tenant_of(request)
    body = await parse_body(request, CreateDeployment, max_bytes=MAX_BODY_BYTES)
    model, gpu = _validate(body)
    outcome, reason = _outcome(model, gpu, body.gpu_count)
    now = time.time()
    delay = float(request.app.state.config.deployment_ready_delay)
    deployment_id = str(uuid.uuid4())
    storage = _storage(request)
    try:
        with storage.transaction() as db:
            db.execute(
                "INSERT INTO deployments_items (id, tenant, name, model_name, gpu_model, gpu_count,"
                " min_replicas, max_replicas, hw_type, created_at, ready_at, outcome, failure_reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    deployment_id, tenant, body.deployment_name, model, gpu["gpu_model"], body.gpu_count,
                    body.min_replicas, body.max_replicas, body.hw_type, now, now + delay, outcome, reason,
                ),
            )  # fmt: skip
    except sqlite3.IntegrityError:
        raise LocalAPIError(409, "conflict", f"deployment '{body.deployment_name}' already exists") from None
    row = storage.query_one("SELECT * FROM deployments_items WHERE id = ?", (deployment_id,))
    assert row is not None
    return JSONResponse({**_public(row, now, status="creating"), "message": "Deployment created successfully"})


async def list_deployments(request: Request) -> Response:
    tenant = tenant_of(request)
    rows = _storage(request).query(
        "SELECT * FROM deployments_items WHERE tenant = ? ORDER BY created_at, id", (tenant,)
    )
    now = time.time()
    return JSONResponse([_public(row, now) for row in rows])


async def delete_deployment(request: Request) -> Response:
    tenant = tenant_of(request)
    deployment_id = request.path_params["deployment_id"]
    changed = _storage(request).execute(
        "DELETE FROM deployments_items WHERE tenant = ? AND id = ?", (tenant, deployment_id)
    )
    if not changed:
        raise LocalAPIError(404, "not_found", f"deployment {deployment_id!r} not found")
    return JSONResponse({"message": "Deployment deleted", "deployment_id": deployment_id})


routes: list[BaseRoute] = [
    Route(f"{PREFIX}/create", create_deployment, methods=["POST"]),
    Route(f"{PREFIX}/list", list_deployments, methods=["GET"]),
    Route(f"{PREFIX}/delete/{{deployment_id}}", delete_deployment, methods=["DELETE"]),
]
