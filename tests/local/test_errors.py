"""Client mistakes get a JSON error with the right status, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from gravixlayer.local import LocalConfig, LocalServer, create_app

from .conftest import KEY_A, chat_body

CHAT = "/v1/inference/chat/completions"


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "code"}, body
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    assert response.headers.get("x-request-id")
    message: str = body["error"]
    return message


@pytest.mark.parametrize(
    "content",
    [b"{bad json", b"", b"   ", b"\xff\xfe\x00", b'{"model": "x",}', b"nul"],
    ids=["broken", "empty", "blank", "binary", "trailing-comma", "truncated"],
)
def test_malformed_json_is_400(http: httpx.Client, content: bytes) -> None:
    assert_error(http.post(CHAT, content=content), 400, "invalid_json")


@pytest.mark.parametrize("content", [b"[]", b"42", b'"text"', b"null"])
def test_non_object_body_is_400(http: httpx.Client, content: bytes) -> None:
    message = assert_error(http.post(CHAT, content=content), 400, "invalid_json")
    assert "JSON object" in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model: field required"),
        ({"model": "test-model"}, "messages: field required"),
        ({"model": 7, "messages": [{"role": "user", "content": "x"}]}, "model: "),
        ({"model": "test-model", "messages": []}, "messages: "),
        ({"model": "test-model", "messages": "hi"}, "messages: "),
        ({"model": "test-model", "messages": [{"content": "hi"}]}, "messages[0].role: field required"),
        ({"model": "test-model", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"model": "test-model", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({**chat_body(), "max_tokens": 0}, "max_tokens"),
        ({**chat_body(), "max_tokens": "5"}, "max_tokens"),
        ({**chat_body(), "max_tokens": 2.5}, "max_tokens"),
        ({**chat_body(), "n": 9}, "n: "),
        ({**chat_body(), "n": 0}, "n: "),
        ({**chat_body(), "stream": "yes"}, "stream"),
        ({**chat_body(), "stop": 5}, "stop: must be a string or a list of strings"),
        ({**chat_body(), "stop": ["a", "b", "c", "d", "e"]}, "stop: at most 4"),
        ({**chat_body(), "temperature": "hot"}, "temperature"),
        ({**chat_body(), "temperature": 3}, "temperature"),
        ({**chat_body(), "stream_options": {"include_usage": "y"}}, "stream_options.include_usage"),
    ],
)
def test_wrong_fields_are_400_naming_the_field(
    http: httpx.Client, body: dict[str, object], field: str
) -> None:
    message = assert_error(http.post(CHAT, json=body), 400, "invalid_request")
    assert field in message


def test_unknown_model_is_404_listing_models(http: httpx.Client) -> None:
    body = {**chat_body(), "model": "no-such/model"}
    message = assert_error(http.post(CHAT, json=body), 404, "model_not_found")
    assert "no-such/model" in message and "meta-llama/llama-3.1-8b-instruct" in message
    message = assert_error(
        http.post("/v1/inference/embeddings", json={"model": "nope", "input": "x"}), 404, "model_not_found"
    )
    assert "microsoft/multilingual-e5-large" in message


def test_unknown_route_is_404_json(http: httpx.Client) -> None:
    assert_error(http.get("/v1/does-not-exist"), 404, "not_found")
    assert_error(http.post("/v1/inference/chat"), 404, "not_found")


def test_wrong_method_is_405_json(http: httpx.Client) -> None:
    response = http.get(CHAT)
    message = assert_error(response, 405, "method_not_allowed")
    assert "POST" in message and response.headers["allow"] == "POST"


def test_extra_keys_are_allowed(http: httpx.Client) -> None:
    body = {**chat_body(), "tools": [], "seed": 1, "user": "u", "logit_bias": {}}
    assert http.post(CHAT, json=body).status_code == 200


@pytest.fixture(scope="module")
def small_limit_server() -> Iterator[LocalServer]:
    with LocalServer(api_keys=[KEY_A], max_upload_bytes=1024, upstream_url=None, chat_engine="standin") as server:
        yield server


def test_body_over_the_limit_is_413(small_limit_server: LocalServer) -> None:
    big = chat_body("x" * 4096)
    with httpx.Client(
        base_url=small_limit_server.base_url, headers={"Authorization": f"Bearer {KEY_A}"}
    ) as c:
        assert_error(c.post(CHAT, json=big), 413, "payload_too_large")

        def chunks() -> Iterator[bytes]:  # no content-length: the limit applies while reading
            yield b'{"model": "test-model", "messages": [{"role": "user", "content": "'
            for _ in range(20):
                yield b"y" * 100
            yield b'"}]}'

        assert_error(c.post(CHAT, content=chunks()), 413, "payload_too_large")
        assert c.post(CHAT, json=chat_body("short")).status_code == 200


def test_unexpected_exception_is_500_without_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("secret internals")

    app = create_app(LocalConfig(api_keys=[KEY_A], data_dir=tmp_path, upstream_url=None, chat_engine="standin"))
    app.router.routes.append(Route("/boom", boom))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"Authorization": f"Bearer {KEY_A}"})
    message = assert_error(response, 500, "internal_error")  # type: ignore[arg-type]
    assert "secret internals" not in message and response.headers["x-request-id"] in message
    assert "secret internals" in caplog.text  # logged for the operator
