"""Retry policy: what is retried, how long it waits, and that creates are never duplicated."""

from __future__ import annotations

import email.utils
import logging
import time

import httpx
import pytest

from gravixlayer import (
    AsyncGravixLayer,
    GravixLayer,
    GravixLayerAPIError,
    GravixLayerConnectionError,
    GravixLayerRateLimitError,
    GravixLayerServerError,
    GravixLayerTimeoutError,
)
from gravixlayer._request import APIRequest
from gravixlayer._retry import parse_retry_after, retry_delay

from .scripted import CHAT_OK, Script, json_response

MSGS = [{"role": "user", "content": "hi"}]


def sync_client(script: Script, **kw: object) -> GravixLayer:
    return GravixLayer(api_key="sk-test-key-123456", base_url="http://testserver", http_client=script.sync_client(), **kw)  # type: ignore[arg-type]


def async_client(script: Script, **kw: object) -> AsyncGravixLayer:
    return AsyncGravixLayer(api_key="sk-test-key-123456", base_url="http://testserver", http_client=script.async_client(), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_then_succeed(status: int) -> None:
    script = Script(json_response(status, {"error": "busy"}), json_response(200, CHAT_OK))
    out = sync_client(script).chat.completions.create(model="m", messages=MSGS)
    assert out.choices[0].message.content == "hi"  # type: ignore[union-attr]
    assert len(script.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    script = Script(json_response(status, {"error": "no", "code": "x"}))
    with pytest.raises(GravixLayerAPIError) as info:
        sync_client(script).chat.completions.create(model="m", messages=MSGS)
    assert info.value.status_code == status
    assert len(script.requests) == 1


def test_exhausted_retries_raise_typed_error_with_request_id() -> None:
    reply = json_response(500, {"error": "boom", "code": "internal_error"}, {"x-request-id": "req-9"})
    script = Script(*[reply] * 4)
    with pytest.raises(GravixLayerServerError) as info:
        sync_client(script).chat.completions.create(model="m", messages=MSGS)
    assert len(script.requests) == 4  # 1 + max_retries(3)
    assert info.value.status_code == 500 and info.value.request_id == "req-9"
    assert "boom" in str(info.value) and "req-9" in str(info.value)


def test_per_call_max_retries_overrides_client_default() -> None:
    script = Script(*[json_response(503, {"error": "down"})] * 2)
    with pytest.raises(GravixLayerServerError):
        sync_client(script).chat.completions.create(model="m", messages=MSGS, max_retries=1)
    assert len(script.requests) == 2


def test_connection_errors_are_retried() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.ReadError("reset"), json_response(200, CHAT_OK))
    sync_client(script).chat.completions.create(model="m", messages=MSGS)
    assert len(script.requests) == 3


def test_connection_failure_after_retries_is_typed() -> None:
    script = Script(*[httpx.ConnectError("refused")] * 2)
    with pytest.raises(GravixLayerConnectionError):
        sync_client(script, max_retries=1).chat.completions.create(model="m", messages=MSGS)


def test_timeout_is_typed() -> None:
    script = Script(httpx.ReadTimeout("slow"))
    with pytest.raises(GravixLayerTimeoutError):
        sync_client(script, max_retries=0).chat.completions.create(model="m", messages=MSGS)


@pytest.mark.parametrize(
    "failure,retried",
    [
        (httpx.ConnectError("refused"), True),
        (json_response(429, {"error": "slow down"}), True),
        (json_response(503, {"error": "unavailable"}), True),
        (json_response(500, {"error": "maybe created"}), False),
        (json_response(502, {"error": "maybe created"}), False),
        (httpx.ReadTimeout("maybe created"), False),
        (httpx.ReadError("reset after sending"), False),
    ],
)
def test_creating_post_is_retried_only_when_the_server_did_not_act(failure: object, retried: bool) -> None:
    script = Script(failure, json_response(201, {"id": "x"}))  # type: ignore[arg-type]
    client = sync_client(script)
    request = APIRequest("POST", "deployments", "create", json={"name": "a"}, idempotent=False)
    if retried:
        assert client.send(request).status_code == 201
        assert len(script.requests) == 2
    else:
        with pytest.raises((GravixLayerConnectionError, GravixLayerServerError)):
            client.send(request)
        assert len(script.requests) == 1


def test_retry_after_seconds_http_date_and_ms() -> None:
    assert parse_retry_after(httpx.Headers({"retry-after": "7"})) == 7.0
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "1500"})) == 1.5
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    value = parse_retry_after(httpx.Headers({"retry-after": future}))
    assert value is not None and 27 <= value <= 31
    assert parse_retry_after(httpx.Headers({"retry-after": "soon"})) is None


def test_retry_after_is_honoured_and_capped(no_backoff_sleep: list[float]) -> None:
    script = Script(
        json_response(429, {"error": "x"}, {"retry-after": "2"}),
        json_response(429, {"error": "x"}, {"retry-after": "99999"}),
        json_response(200, CHAT_OK),
    )
    sync_client(script).chat.completions.create(model="m", messages=MSGS)
    assert no_backoff_sleep == [2.0, 60.0]


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    for attempt, (low, high) in enumerate([(0.375, 0.5), (0.75, 1.0), (1.5, 2.0), (3.0, 4.0), (6.0, 8.0), (6.0, 8.0)]):
        for _ in range(20):
            assert low <= retry_delay(attempt) <= high


def test_rate_limit_error_after_retries_exposes_retry_after() -> None:
    script = Script(*[json_response(429, {"error": "quota"}, {"retry-after": "3"})] * 2)
    with pytest.raises(GravixLayerRateLimitError) as info:
        sync_client(script, max_retries=1).chat.completions.create(model="m", messages=MSGS)
    assert info.value.retry_after == 3.0


def test_each_retry_is_logged_with_reason_and_wait(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(json_response(503, {"error": "x"}), json_response(200, CHAT_OK))
    with caplog.at_level(logging.INFO, logger="gravixlayer"):
        sync_client(script).chat.completions.create(model="m", messages=MSGS)
    [record] = [r for r in caplog.records if r.name == "gravixlayer"]
    assert "HTTP 503" in record.getMessage() and "retry 1 of 3" in record.getMessage()


async def test_async_retries_follow_the_same_policy() -> None:
    script = Script(json_response(502, {"error": "x"}), httpx.ConnectError("refused"), json_response(200, CHAT_OK))
    out = await async_client(script).chat.completions.create(model="m", messages=MSGS)
    assert out.choices[0].message.content == "hi"  # type: ignore[union-attr]
    assert len(script.requests) == 3


async def test_async_creating_post_not_retried_after_500() -> None:
    script = Script(json_response(500, {"error": "x"}))
    request = APIRequest("POST", "agents", "sandboxes", json={}, idempotent=False)
    with pytest.raises(GravixLayerServerError):
        await async_client(script).send(request)
    assert len(script.requests) == 1
