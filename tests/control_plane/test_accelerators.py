"""client.accelerators and the Local hardware catalogue (spec §5.1, ruling 14)."""

from __future__ import annotations

import json
from importlib import resources

import httpx

from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer.types.accelerators import Accelerator, AcceleratorList

EXPECTED = {
    "NVIDIA_T4_16GB": 16,
    "NVIDIA_L4_24GB": 24,
    "NVIDIA_A10G_24GB": 24,
    "NVIDIA_L40S_48GB": 48,
    "NVIDIA_A100_40GB": 40,
    "NVIDIA_A100_80GB": 80,
    "NVIDIA_H100_80GB": 80,
    "NVIDIA_H200_141GB": 141,
}


def check(accelerators: AcceleratorList) -> None:
    assert isinstance(accelerators, AcceleratorList) and len(accelerators) >= len(EXPECTED)
    by_model = {a.gpu_model: a for a in accelerators}
    for model, memory in EXPECTED.items():
        acc = by_model[model]
        assert isinstance(acc, Accelerator)
        assert acc.gpu_memory == acc.hw_memory == memory
        assert acc.hw_model == model and acc.gpu_link == acc.hw_link and acc.gpu_link
        assert acc.gpu_id == acc.accelerator_id and acc.gpu_id
        assert acc.name == model.replace("_", " ") and acc.memory == f"{memory}GB"
        assert isinstance(acc.pricing, float) and acc.pricing > 0 and acc.price_per_hour == acc.pricing
        assert acc.provider == "NVIDIA" and acc.status == "available" and acc.updated_at
    assert by_model["NVIDIA_T4_16GB"].name == "NVIDIA T4 16GB"
    prices = [by_model[m].pricing or 0 for m in ("NVIDIA_T4_16GB", "NVIDIA_A100_80GB", "NVIDIA_H100_80GB", "NVIDIA_H200_141GB")]
    assert prices == sorted(prices), "bigger GPUs cost more"


def test_list_sync(client: GravixLayer) -> None:
    accelerators = client.accelerators.list()
    check(accelerators)
    assert [a.to_dict() for a in client.deployments.list_hardware()] == [a.to_dict() for a in accelerators]


async def test_list_async(aclient: AsyncGravixLayer) -> None:
    check(await aclient.accelerators.list())
    check(await aclient.deployments.list_hardware())


def test_seed_snippets(client: GravixLayer) -> None:
    lines = [f"{h.hw_model}: {h.pricing}" for h in client.deployments.list_hardware()]
    assert "NVIDIA_T4_16GB: " in lines[0]
    names = [acc.name for acc in client.accelerators.list()]
    assert "NVIDIA H100 80GB" in names


def test_wire_shape_has_both_field_families(http: httpx.Client) -> None:
    body = http.get("/v1/accelerators").json()
    assert isinstance(body, list)
    keys = {"gpu_id", "gpu_model", "gpu_link", "gpu_memory", "accelerator_id", "hw_model", "hw_link", "hw_memory",
            "provider", "pricing", "status", "updated_at"}  # fmt: skip
    for item in body:
        assert set(item) == keys
        assert item["gpu_model"] == item["hw_model"] and item["gpu_memory"] == item["hw_memory"]
        assert isinstance(item["gpu_memory"], int) and isinstance(item["pricing"], float)


def test_data_file_is_marked_as_sample_prices() -> None:
    text = resources.files("gravixlayer.local").joinpath("data/accelerators.json").read_text("utf-8")
    data = json.loads(text)
    assert data["sample_prices"] is True and "SAMPLE PRICES" in data["_note"]
