"""Error mapping, configuration, URL building and keeping the API key secret."""

from __future__ import annotations

import logging

import httpx
import pytest

import gravixlayer
from gravixlayer import (
    AsyncGravixLayer,
    GravixLayer,
    GravixLayerAuthenticationError,
    GravixLayerBadRequestError,
    GravixLayerConflictError,
    GravixLayerError,
    GravixLayerNotFoundError,
    GravixLayerPermissionDeniedError,
    GravixLayerResponseValidationError,
    GravixLayerServerError,
    GravixLayerValidationError,
)

from .scripted import CHAT_OK, Script, json_response

KEY = "sk-live-SUPERSECRET-0123456789"
MSGS = [{"role": "user", "content": "hi"}]


def client_for(script: Script, **kw: object) -> GravixLayer:
    return GravixLayer(api_key=KEY, base_url="http://testserver", http_client=script.sync_client(), max_retries=0, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "status,cls",
    [
        (400, GravixLayerBadRequestError),
        (401, GravixLayerAuthenticationError),
        (403, GravixLayerPermissionDeniedError),
        (404, GravixLayerNotFoundError),
        (409, GravixLayerConflictError),
        (418, GravixLayerBadRequestError),
        (500, GravixLayerServerError),
    ],
)
def test_status_maps_to_typed_error(status: int, cls: type[Exception]) -> None:
    script = Script(json_response(status, {"error": "it failed", "code": "some_code"}, {"x-request-id": "r1"}))
    with pytest.raises(cls) as info:
        client_for(script).chat.completions.create(model="m", messages=MSGS)
    err = info.value
    assert isinstance(err, GravixLayerError)
    assert err.status_code == status and err.code == "some_code" and err.request_id == "r1"  # type: ignore[attr-defined]
    assert err.body == {"error": "it failed", "code": "some_code"}  # type: ignore[attr-defined]
    assert "it failed" in str(err) and f"HTTP {status}" in str(err)


@pytest.mark.parametrize(
    "body,message,code",
    [
        ({"error": {"message": "bad model", "type": "invalid_request_error", "code": "model_not_found"}}, "bad model", "model_not_found"),
        ({"detail": "nope"}, "nope", None),
        ("plain text failure", "plain text failure", None),
    ],
)
def test_other_error_body_shapes_are_understood(body: object, message: str, code: str | None) -> None:
    response = httpx.Response(400, json=body) if not isinstance(body, str) else httpx.Response(400, text=body)
    with pytest.raises(GravixLayerBadRequestError) as info:
        client_for(Script(response)).chat.completions.create(model="m", messages=MSGS)
    assert info.value.message == message and info.value.code == code


def test_auth_error_says_what_to_do() -> None:
    with pytest.raises(GravixLayerAuthenticationError) as info:
        client_for(Script(json_response(401, {"error": "invalid key"}))).chat.completions.create(model="m", messages=MSGS)
    assert "GRAVIXLAYER_API_KEY" in str(info.value)


def test_unreadable_success_body_is_a_typed_error() -> None:
    script = Script(httpx.Response(200, text="<html>gateway</html>"))
    with pytest.raises(GravixLayerResponseValidationError):
        client_for(script).chat.completions.create(model="m", messages=MSGS)


def test_missing_key_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAVIXLAYER_API_KEY", raising=False)
    with pytest.raises(GravixLayerValidationError, match="GRAVIXLAYER_API_KEY"):
        GravixLayer()
    with pytest.raises(ValueError, match="GRAVIXLAYER_API_KEY"):
        AsyncGravixLayer()


def test_environment_configures_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAVIXLAYER_API_KEY", KEY)
    monkeypatch.setenv("GRAVIXLAYER_BASE_URL", "http://example.test:8080/v1/inference")
    client = GravixLayer()
    assert client.api_key == KEY and client.base_url == "http://example.test:8080"


@pytest.mark.parametrize(
    "given,expected",
    [
        ("https://api.gravixlayer.com/v1/inference", "https://api.gravixlayer.com"),
        ("https://api.gravixlayer.com/v1/inference/", "https://api.gravixlayer.com"),
        ("https://api.gravixlayer.com/v1/files", "https://api.gravixlayer.com"),
        ("https://api.gravixlayer.com/v1/deployments", "https://api.gravixlayer.com"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("https://proxy.example.com/gravix", "https://proxy.example.com/gravix"),
    ],
)
def test_base_url_normalisation(given: str, expected: str) -> None:
    assert GravixLayer(api_key=KEY, base_url=given).base_url == expected


def test_base_url_scheme_is_checked() -> None:
    with pytest.raises(GravixLayerValidationError, match="http"):
        GravixLayer(api_key=KEY, base_url="api.gravixlayer.com")


def test_each_service_gets_its_prefix_without_mutating_shared_state() -> None:
    client = GravixLayer(api_key=KEY, base_url="https://api.gravixlayer.com/v1/inference")
    assert client.url_for("inference", "chat/completions") == "https://api.gravixlayer.com/v1/inference/chat/completions"
    assert client.url_for("files") == "https://api.gravixlayer.com/v1/files"
    assert client.url_for("accelerators") == "https://api.gravixlayer.com/v1/accelerators"
    assert client.url_for("vectors", "/indexes") == "https://api.gravixlayer.com/v1/vectors/indexes"
    assert client.url_for("agents", "sandboxes") == "https://api.gravixlayer.com/v1/agents/sandboxes"
    assert client.base_url == "https://api.gravixlayer.com"


def test_headers_sent_and_unset_options_omitted() -> None:
    script = Script(json_response(200, CHAT_OK))
    client = client_for(script, default_headers={"X-Team": "ml"})
    client.chat.completions.create(model="m", messages=MSGS, extra_headers={"X-Trace": "t1"})
    request = script.requests[0]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["user-agent"] == f"gravixlayer-python/{gravixlayer.__version__}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-team"] == "ml" and request.headers["x-trace"] == "t1"
    import json

    body = json.loads(request.content)
    assert body == {"model": "m", "messages": MSGS, "stream": False}


def test_extra_body_and_query_are_merged() -> None:
    script = Script(json_response(200, CHAT_OK))
    client_for(script).chat.completions.create(model="m", messages=MSGS, temperature=0.2, extra_body={"top_k": 5}, extra_query={"v": "2"})
    import json

    assert json.loads(script.requests[0].content)["top_k"] == 5
    assert script.requests[0].url.params["v"] == "2"


def test_with_options_shares_the_pool_and_keeps_the_original() -> None:
    script = Script(json_response(200, CHAT_OK))
    client = client_for(script)
    fast = client.with_options(timeout=1.5, max_retries=7)
    assert fast._http is client._http and fast.max_retries == 7 and client.max_retries == 0
    fast.chat.completions.create(model="m", messages=MSGS)
    assert script.requests[0].extensions["timeout"]["read"] == 1.5
    fast.close()
    assert not client.is_closed


def test_close_and_context_manager_close_the_pool() -> None:
    with GravixLayer(api_key=KEY) as client:
        pass
    assert client.is_closed
    with pytest.raises(GravixLayerError, match="closed"):
        client.chat.completions.create(model="m", messages=MSGS)


async def test_async_context_manager_closes_the_pool() -> None:
    async with AsyncGravixLayer(api_key=KEY) as client:
        pass
    assert client.is_closed


def test_key_never_in_repr_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(
        json_response(503, {"error": "down"}),
        json_response(401, {"error": "bad key"}),
    )
    client = GravixLayer(api_key=KEY, base_url="http://testserver", http_client=script.sync_client(), max_retries=1)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(GravixLayerAuthenticationError) as info:
            client.chat.completions.create(model="m", messages=MSGS)
    texts = [repr(client), str(client), str(info.value), repr(info.value), caplog.text]
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "the retry should have been logged"
    for text in texts:
        assert KEY not in text and "SUPERSECRET" not in text
    assert "sk-****6789" in repr(client)


def test_client_side_validation_happens_before_sending() -> None:
    script = Script()
    client = client_for(script)
    with pytest.raises(GravixLayerValidationError, match="messages"):
        client.chat.completions.create(model="m", messages=[])
    with pytest.raises(GravixLayerValidationError, match="role"):
        client.chat.completions.create(model="m", messages=[{"content": "x"}])
    with pytest.raises(GravixLayerValidationError, match="model"):
        client.embeddings.create(model="", input="x")
    with pytest.raises(GravixLayerValidationError, match="encoding_format"):
        client.embeddings.create(model="e", input="x", encoding_format="int8")
    assert script.requests == []
