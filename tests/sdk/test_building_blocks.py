"""Raw responses, the models listing and with_options, against a real Local."""

from __future__ import annotations

import httpx
import pytest

from gravixlayer import (
    AsyncGravixLayer,
    GravixLayer,
    GravixLayerAuthenticationError,
    GravixLayerNotFoundError,
)
from gravixlayer.local import LocalServer

MODEL = "qwen/qwen-2.5-vl-7b-instruct"
EMBED = "microsoft/multilingual-e5-large"


def test_raw_response_has_headers_and_the_parsed_result(client: GravixLayer) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert raw.status_code == 200
    assert raw.request_id and raw.request_id == raw.headers["x-request-id"]
    completion = raw.parse()
    assert completion.choices[0].message.content
    assert completion.request_id == raw.request_id
    files = client.files.with_raw_response.list()
    assert files.status_code == 200 and isinstance(files.parse().data, list)


def test_streaming_response_reads_headers_before_the_body_and_closes(client: GravixLayer) -> None:
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert not response.http_response.is_stream_consumed
        assert response.parse().get_final_text()
    assert response.http_response.is_closed


async def test_async_raw_and_streaming_response(aclient: AsyncGravixLayer) -> None:
    raw = await aclient.embeddings.with_raw_response.create(model=EMBED, input=["a", "b"])
    assert raw.status_code == 200 and len(raw.parse().data) == 2
    async with aclient.completions.with_streaming_response.create(model=MODEL, prompt="Once", stream=True) as response:
        assert response.status_code == 200
        text = await response.parse().get_final_text()
    assert text and response.http_response.is_closed


def test_raw_response_of_a_failing_call_raises_the_typed_error(client: GravixLayer) -> None:
    with pytest.raises(GravixLayerNotFoundError):
        client.files.with_raw_response.retrieve("6f1c2a4e-2b7d-4c1e-9d3a-0b5e8f7a1c2d")


def test_models_list_and_retrieve(client: GravixLayer) -> None:
    models = client.models.list()
    ids = [m.id for m in models]
    assert MODEL in ids and EMBED in ids
    embed = client.models.retrieve(EMBED)
    assert embed.id == EMBED and embed.type == "embedding" and embed.dimension == 1024
    with pytest.raises(GravixLayerNotFoundError, match="models.list"):
        client.models.retrieve("no/such-model")
    frame = models.to_pandas()
    assert list(frame["id"]) == ids


async def test_async_models(aclient: AsyncGravixLayer) -> None:
    assert (await aclient.models.retrieve(MODEL)).id == MODEL


def test_with_options_changes_key_url_and_client(local_server: LocalServer, client: GravixLayer) -> None:
    wrong = client.with_options(api_key="not-the-key")
    with pytest.raises(GravixLayerAuthenticationError):
        wrong.models.list()
    assert client.models.list()  # the original keeps its key
    assert "not-the-key" not in repr(wrong)
    elsewhere = client.with_options(base_url="http://127.0.0.1:9")
    assert elsewhere.base_url == "http://127.0.0.1:9" and client.base_url == local_server.base_url
    seen: list[str] = []

    def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    own = httpx.Client(event_hooks={"request": [hook]})
    custom = client.with_options(http_client=own, default_headers={"X-Team": "a"})
    assert custom.models.list()
    assert seen == ["/v1/inference/models"]
    custom.close()
    assert not own.is_closed  # a client you passed in is yours to close
    own.close()
    with pytest.raises(Exception, match="api_key"):
        client.with_options(api_key="")


def test_every_chat_parameter_reaches_the_wire_and_local_accepts_them(client: GravixLayer) -> None:
    from tests.core.scripted import CHAT_OK, Script, json_response

    params = dict(
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}],
        tool_choice="auto", parallel_tool_calls=False, response_format={"type": "json_object"}, seed=7,
        logprobs=True, top_logprobs=2, logit_bias={"50256": -100}, max_completion_tokens=20,
        stream_options={"include_usage": True},
    )  # fmt: skip
    script = Script(json_response(200, CHAT_OK))
    scripted = GravixLayer(api_key="k", base_url="http://x", http_client=script.sync_client())
    scripted.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], **params)  # type: ignore[arg-type]
    import json

    sent = json.loads(script.requests[0].content)
    assert {k: sent[k] for k in params} == params
    answer = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], **params)  # type: ignore[arg-type]
    assert answer.choices and answer.choices[0].finish_reason is not None


def test_raw_responses_on_control_plane_resources(client: GravixLayer) -> None:
    deployments = client.deployments.with_raw_response.list()
    assert deployments.status_code == 200 and deployments.request_id
    assert isinstance(deployments.parse().data, list)
    created = client.vectors.indexes.with_raw_response.create(name="raw-index-probe", dimension=3)
    index = created.parse()
    try:
        assert created.status_code in (200, 201) and index.name == "raw-index-probe"
        assert created.request_id == index.request_id
    finally:
        client.vectors.indexes.delete(index.id)
