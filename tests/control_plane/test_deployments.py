"""client.deployments, sync and async, against a real GravixLayer Local."""

from __future__ import annotations

import uuid

import httpx
import pytest

from gravixlayer import (
    AsyncGravixLayer,
    GravixLayer,
    GravixLayerBadRequestError,
    GravixLayerConflictError,
    GravixLayerDeploymentFailedError,
    GravixLayerNotFoundError,
    GravixLayerValidationError,
    GravixLayerWaitTimeoutError,
)
from gravixlayer.local import LocalServer
from gravixlayer.types.deployments import Deployment, DeploymentList

MODEL = "qwen/qwen-2.5-vl-7b-instruct"
GPU = "NVIDIA_T4_16GB"


def unique(prefix: str = "dep") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_lifecycle_sync(client: GravixLayer) -> None:
    name = unique()
    deployment = client.deployments.create(
        deployment_name=name, model_name=MODEL, gpu_model=GPU, gpu_count=1, min_replicas=1, max_replicas=2
    )
    assert isinstance(deployment, Deployment)
    assert deployment.deployment_name == name and deployment.status == "creating"
    assert deployment.message and deployment.created_at
    assert (deployment.model_name, deployment.gpu_model, deployment.gpu_count) == (MODEL, GPU, 1)
    assert (deployment.min_replicas, deployment.max_replicas, deployment.hw_type) == (1, 2, "dedicated")
    uuid.UUID(deployment.deployment_id or "")

    listed = client.deployments.list()
    assert isinstance(listed, DeploymentList)
    assert name in [d.deployment_name for d in listed]
    by_name = client.deployments.get(name)
    by_id = client.deployments.get(deployment.deployment_id or "")
    assert by_name.deployment_id == by_id.deployment_id == deployment.deployment_id
    assert by_name.status == "running", "ready delay is 0 in tests"

    ready = client.deployments.wait_until_ready(name, timeout=30, poll_interval=0.05)
    assert ready.is_ready and ready.deployment_id == deployment.deployment_id

    deleted = client.deployments.delete(name)
    assert deleted.deployment_id == deployment.deployment_id and deleted.message
    assert name not in [d.deployment_name for d in client.deployments.list()]
    with pytest.raises(GravixLayerNotFoundError, match=name):
        client.deployments.get(name)
    with pytest.raises(GravixLayerNotFoundError):
        client.deployments.delete(deployment.deployment_id or "")


async def test_lifecycle_async(aclient: AsyncGravixLayer) -> None:
    name = unique()
    deployment = await aclient.deployments.create(name, MODEL, GPU)
    assert deployment.status == "creating"
    assert name in [d.deployment_name for d in await aclient.deployments.list()]
    assert (await aclient.deployments.get(deployment.deployment_id or "")).deployment_name == name
    ready = await aclient.deployments.wait_until_ready(deployment.deployment_id or "", timeout=30, poll_interval=0.05)
    assert ready.status == "running"
    await aclient.deployments.delete(deployment.deployment_id or "")
    with pytest.raises(GravixLayerNotFoundError):
        await aclient.deployments.get(name)


def test_seed_snippets(client: GravixLayer) -> None:
    deployment = client.deployments.create(
        deployment_name="my-custom-model",
        model_name="qwen/qwen-2.5-vl-7b-instruct",
        gpu_model="NVIDIA_T4_16GB",
        gpu_count=1,
        min_replicas=1,
        max_replicas=1,
        auto_retry=True,  # Automatically handle name conflicts
    )
    assert deployment.deployment_id
    deployments = client.deployments.list()
    assert all(d.deployment_id and d.status for d in deployments)
    got = client.deployments.get(deployment.deployment_name or "")
    assert "deployment_id=" in repr(got)
    client.deployments.delete(deployment.deployment_id or "")
    hardware = client.deployments.list_hardware()
    assert all(h.hw_model and h.pricing for h in hardware)


def test_duplicate_name_conflicts_and_auto_retry_suffixes(client: GravixLayer) -> None:
    name = unique("dup")
    first = client.deployments.create(name, MODEL, GPU)
    with pytest.raises(GravixLayerConflictError) as info:
        client.deployments.create(name, MODEL, GPU)
    assert info.value.status_code == 409 and info.value.code == "conflict"
    assert info.value.body == {"code": "conflict", "error": f"deployment '{name}' already exists"}

    second = client.deployments.create(name, MODEL, GPU, auto_retry=True)
    assert second.deployment_name != name and (second.deployment_name or "").startswith(name + "-")
    mine = [d for d in client.deployments.list() if (d.deployment_name or "").startswith(name)]
    assert sorted(d.deployment_id or "" for d in mine) == sorted([first.deployment_id or "", second.deployment_id or ""])


async def test_auto_retry_async(aclient: AsyncGravixLayer) -> None:
    name = unique("dup")
    await aclient.deployments.create(name, MODEL, GPU)
    second = await aclient.deployments.create(name, MODEL, GPU, auto_retry=True)
    assert second.deployment_name != name
    assert len([d for d in await aclient.deployments.list() if (d.deployment_name or "").startswith(name)]) == 2


def test_wait_until_ready_raises_on_failure(client: GravixLayer) -> None:
    name = unique("big")
    client.deployments.create(name, "meta-llama/llama-3.1-70b-instruct", GPU)
    with pytest.raises(GravixLayerDeploymentFailedError) as info:
        client.deployments.wait_until_ready(name, timeout=30, poll_interval=0.05)
    assert "failed" in str(info.value) and "140 GB" in str(info.value)
    failed = client.deployments.get(name)
    assert failed.is_failed and "fp16" in (failed.failure_reason or "")
    # The same model fits on two 80 GB GPUs.
    fits = client.deployments.create(unique("big"), "meta-llama/llama-3.1-70b-instruct", "NVIDIA_A100_80GB", gpu_count=2)
    assert client.deployments.wait_until_ready(fits.deployment_id or "", poll_interval=0.05).is_ready


async def test_wait_until_ready_raises_on_failure_async(aclient: AsyncGravixLayer) -> None:
    name = unique("big")
    await aclient.deployments.create(name, "mistralai/mistral-nemo-instruct-2407", GPU)
    with pytest.raises(GravixLayerDeploymentFailedError, match="24 GB"):
        await aclient.deployments.wait_until_ready(name, timeout=30, poll_interval=0.05, progress=True)


def test_wait_until_ready_times_out(client_a: GravixLayer) -> None:
    deployment = client_a.deployments.create(unique("slow"), MODEL, GPU)
    with pytest.raises(GravixLayerWaitTimeoutError) as info:
        client_a.deployments.wait_until_ready(deployment.deployment_id or "", timeout=0.3, poll_interval=0.05)
    assert "creating" in str(info.value)
    assert client_a.deployments.get(deployment.deployment_id or "").status == "creating"


async def test_wait_until_ready_times_out_async(aclient_a: AsyncGravixLayer) -> None:
    deployment = await aclient_a.deployments.create(unique("slow"), MODEL, GPU)
    with pytest.raises(GravixLayerWaitTimeoutError):
        await aclient_a.deployments.wait_until_ready(
            deployment.deployment_name or "", timeout=0.2, poll_interval=0.05, progress=True, http_timeout=10
        )


def test_wait_until_ready_unknown_and_bad_arguments(client: GravixLayer) -> None:
    with pytest.raises(GravixLayerNotFoundError):
        client.deployments.wait_until_ready(unique("nobody"), timeout=5, poll_interval=0.05)
    for kwargs in ({"timeout": 0}, {"timeout": -1}, {"poll_interval": 0}):
        with pytest.raises(GravixLayerValidationError):
            client.deployments.wait_until_ready("x", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs,word",
    [
        ({"gpu_model": "NVIDIA_T5_17GB"}, "gpu_model"),
        ({"model_name": "nobody/unknown-model"}, "model_name"),
        ({"model_name": "openai/gpt-4o-mini"}, "cannot be deployed"),
        ({"gpu_count": 3}, "gpu_count"),
        ({"deployment_name": "has spaces"}, "deployment_name"),
        ({"hw_type": "serverless"}, "hw_type"),
        ({"min_replicas": 3, "max_replicas": 4, "gpu_count": 16}, "gpu_count"),
    ],
)
def test_local_refuses_bad_deployments_with_400(client: GravixLayer, kwargs: dict[str, object], word: str) -> None:
    args: dict[str, object] = {"deployment_name": unique(), "model_name": MODEL, "gpu_model": GPU, **kwargs}
    with pytest.raises(GravixLayerBadRequestError) as info:
        client.deployments.create(**args)  # type: ignore[arg-type]
    assert info.value.status_code == 400 and word in str(info.value)


def test_sdk_validates_before_sending(client: GravixLayer) -> None:
    for kwargs in (
        {"deployment_name": ""},
        {"gpu_count": 0},
        {"max_replicas": 0},
        {"min_replicas": 2, "max_replicas": 1},
        {"gpu_count": True},
    ):
        args: dict[str, object] = {"deployment_name": "x", "model_name": MODEL, "gpu_model": GPU, **kwargs}
        with pytest.raises(GravixLayerValidationError):
            client.deployments.create(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b'{"deployment_name": 5, "model_name": "m", "gpu_model": "g"}', b'{"model_name": "m"}'],
)
def test_local_create_bad_json_is_400(http: httpx.Client, body: bytes) -> None:
    response = http.post("/v1/deployments/create", content=body)
    assert response.status_code == 400 and set(response.json()) == {"error", "code"}


def test_wire_shapes(http: httpx.Client) -> None:
    name = unique("wire")
    created = http.post("/v1/deployments/create", json={"deployment_name": name, "model_name": MODEL, "gpu_model": GPU})
    assert created.status_code == 200
    body = created.json()
    for key in ("deployment_id", "deployment_name", "status", "created_at", "message"):
        assert isinstance(body[key], str)
    listed = http.get("/v1/deployments/list")
    assert isinstance(listed.json(), list), "ruling 12: a bare array"
    deleted = http.delete(f"/v1/deployments/delete/{body['deployment_id']}")
    assert deleted.json() == {"message": "Deployment deleted", "deployment_id": body["deployment_id"]}
    missing = http.delete(f"/v1/deployments/delete/{body['deployment_id']}")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_tenants_are_isolated(client_a: GravixLayer, client_b: GravixLayer) -> None:
    name = unique("iso")
    a = client_a.deployments.create(name, MODEL, GPU)
    b = client_b.deployments.create(name, MODEL, GPU)  # the same name is free in another tenant
    assert a.deployment_id != b.deployment_id
    assert a.deployment_id not in [d.deployment_id for d in client_b.deployments.list()]
    with pytest.raises(GravixLayerNotFoundError):
        client_b.deployments.get(a.deployment_id or "")
    raw = httpx.delete(
        f"{client_b.base_url}/v1/deployments/delete/{a.deployment_id}",
        headers={"Authorization": f"Bearer {client_b.api_key}"},
    )
    assert raw.status_code == 404
    assert client_a.deployments.get(name).deployment_id == a.deployment_id


def test_status_is_creating_until_the_delay_has_passed(special: LocalServer, client_a: GravixLayer) -> None:
    deployment = client_a.deployments.create(unique("wait"), MODEL, GPU)
    assert client_a.deployments.get(deployment.deployment_id or "").status == "creating"
    assert not client_a.deployments.get(deployment.deployment_id or "").is_ready
