"""A deployment program: deploy a model, wait until it runs, then chat with it by deployment name
(as the platform's dashboard shows it) and by id; and an Ollama-first chat app using `llama3.1:8b`."""

from __future__ import annotations

import uuid

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer


def test_deployment_used_as_a_model(program_env: LocalServer) -> None:
    # --- the program, unchanged ---
    client = GravixLayer()
    name = f"support-bot-{uuid.uuid4().hex[:6]}"
    deployment = client.deployments.create(
        deployment_name=name, model_name="qwen/qwen-2.5-vl-7b-instruct", gpu_model="NVIDIA_T4_16GB",
    )  # fmt: skip
    client.deployments.wait_until_ready(deployment.deployment_id, timeout=60)
    by_name = client.chat.completions.create(
        model=name, messages=[{"role": "user", "content": "Summarise our refund policy."}], max_tokens=40
    )
    by_id = client.chat.completions.create(
        model=deployment.deployment_id, messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in by_id if chunk.choices)
    legacy = client.completions.create(model=name, prompt="Dear customer,", max_tokens=10)
    client.deployments.delete(deployment.deployment_id)
    client.close()
    # --- what it must have seen ---
    assert by_name.model == "qwen/qwen-2.5-vl-7b-instruct" and by_name.choices[0].message.content
    assert streamed and legacy.choices[0].text


def test_open_model_ids_from_other_tools(program_env: LocalServer) -> None:
    # An app first written for Ollama, then pointed at GravixLayer: model ids kept as they were.
    client = GravixLayer()
    for model in ("llama3.1:8b", "meta-llama/llama-3.2-3b-instruct"):
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello!"}])
        assert reply.choices[0].message.content
    client.close()
