"""What users' code meets: misspelt keywords, the public exception names, base64 embeddings."""

from __future__ import annotations

import base64
import json
import math
import struct

import httpx
import pytest

import gravixlayer
from gravixlayer import AsyncGravixLayer, GravixLayer, GravixLayerBadRequestError, _exceptions
from tests.core.scripted import Script, json_response

EMBED = "microsoft/multilingual-e5-large"


def test_misspelt_keyword_raises_type_error_naming_the_nearest(client: GravixLayer) -> None:
    with pytest.raises(TypeError, match=r"'temprature'; did you mean 'temperature'\?"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], temprature=0.5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"'timeuot'; did you mean 'timeout'\?"):
        client.files.list(timeuot=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"'user'.*did you mean 'user_id'\?"):
        client.memory(
            embedding_model=EMBED, inference_model="m", index_name="i", cloud_provider="aws", region="r"
        ).get_all(user="u")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'zzz'$"):
        client.embeddings.create(model=EMBED, input="x", zzz=1)  # type: ignore[call-arg]


async def test_misspelt_keyword_async(aclient: AsyncGravixLayer) -> None:
    with pytest.raises(TypeError, match="did you mean 'max_tokens'"):
        await aclient.completions.create(model="m", prompt="p", max_token=3)  # type: ignore[call-arg]


def test_request_options_still_accepted(client: GravixLayer) -> None:
    response = client.embeddings.create(model=EMBED, input="x", timeout=30.0, max_retries=0, extra_headers={"X-T": "1"})
    assert len(response.data[0].embedding) == 1024


def test_every_exception_is_exported_once() -> None:
    assert set(_exceptions.__all__) <= set(gravixlayer.__all__)
    assert len(gravixlayer.__all__) == len(set(gravixlayer.__all__))
    for name in _exceptions.__all__:
        assert getattr(gravixlayer, name) is getattr(_exceptions, name)


def test_embeddings_travel_as_base64_and_arrive_as_floats(local_server: object, client: GravixLayer) -> None:
    texts = ["one", "two", "three"]
    as_floats = client.embeddings.create(model=EMBED, input=texts, encoding_format="float")
    default = client.embeddings.create(model=EMBED, input=texts)
    for a, b in zip(as_floats.data, default.data, strict=True):
        assert isinstance(b.embedding, list) and all(isinstance(v, float) for v in b.embedding[:5])
        assert len(a.embedding) == len(b.embedding) == 1024
        assert all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-7) for x, y in zip(a.embedding, b.embedding, strict=True))
    matrix = default.to_numpy()
    assert matrix.shape == (3, 1024) and str(matrix.dtype) == "float32"


def _embedding_answer(request: httpx.Request, *, honour: bool) -> httpx.Response:
    body = json.loads(request.content)
    vector = [0.5, -1.25, 3.0]
    if honour and body["encoding_format"] == "base64":
        value: object = base64.b64encode(struct.pack("<3f", *vector)).decode()
    else:
        value = vector
    return json_response(200, {"object": "list", "data": [{"object": "embedding", "embedding": value, "index": 0}]})


@pytest.mark.parametrize("honour", [True, False], ids=["server-honours-base64", "server-ignores-it"])
def test_base64_is_asked_for_and_either_answer_is_read(honour: bool) -> None:
    script = Script(lambda r: _embedding_answer(r, honour=honour))
    client = GravixLayer(api_key="k", base_url="http://x", http_client=script.sync_client())
    response = client.embeddings.create(model="m", input="x")
    assert json.loads(script.requests[0].content)["encoding_format"] == "base64"
    assert response.data[0].embedding == [0.5, -1.25, 3.0]


def test_a_server_refusing_base64_is_asked_again_for_floats() -> None:
    refusal = json_response(400, {"error": "encoding_format: only 'float' is supported", "code": "invalid_request"})
    script = Script(refusal, lambda r: _embedding_answer(r, honour=False))
    client = GravixLayer(api_key="k", base_url="http://x", http_client=script.sync_client())
    assert client.embeddings.create(model="m", input="x").data[0].embedding == [0.5, -1.25, 3.0]
    assert [json.loads(r.content)["encoding_format"] for r in script.requests] == ["base64", "float"]


def test_an_explicit_format_is_never_silently_changed() -> None:
    refusal = json_response(400, {"error": "encoding_format: 'base64' is not supported"})
    script = Script(refusal)
    client = GravixLayer(api_key="k", base_url="http://x", http_client=script.sync_client())
    with pytest.raises(GravixLayerBadRequestError):
        client.embeddings.create(model="m", input="x", encoding_format="base64")
    assert len(script.requests) == 1


def test_deprecation_warnings_point_at_the_callers_line() -> None:
    answer = {"stdout": "", "stderr": "", "exit_code": 0, "success": True}
    script = Script(json_response(200, answer), json_response(200, answer))
    client = GravixLayer(api_key="k", base_url="http://x", http_client=script.sync_client())
    sid = "6f1c2a4e-2b7d-4c1e-9d3a-0b5e8f7a1c2d"
    with pytest.warns(DeprecationWarning, match="environment= is deprecated") as record:
        client.sandbox.sandboxes.run_command(sid, "env", environment={"A": "1"})
    assert record[0].filename == __file__
