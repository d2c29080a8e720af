"""The fault proxy itself: each fault shows the client the right symptom and keeps the truth about
whether the server acted (the scenarios' duplicate checks depend on it). Raw httpx, no SDK retries."""

from __future__ import annotations

import email.utils
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer

from ._config import KEYS
from ._known_ids import DEPLOYABLE_MODEL, gpu_model
from .fault_proxy import FAULTS, FaultPlan, FaultProxy

KEY = KEYS[0]


@pytest.fixture(scope="module")
def gpu(rel_server: LocalServer) -> str:
    with GravixLayer(api_key=KEY, base_url=rel_server.base_url) as client:
        return gpu_model(client)


Only = Callable[..., FaultProxy]


@pytest.fixture
def only(rel_server: LocalServer) -> Iterator[Only]:
    """Proxies that inject one fault kind into every request."""
    started: list[FaultProxy] = []

    def make(kind: str, **plan: Any) -> FaultProxy:
        proxy = FaultProxy.for_url(rel_server.base_url, FaultPlan(rate=1.0, weights={kind: 1.0}, **plan))
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


def _create(http: httpx.Client, name: str, gpu: str) -> httpx.Response:
    body = {"deployment_name": name, "model_name": DEPLOYABLE_MODEL, "gpu_model": gpu}
    return http.post("/v1/deployments/create", json=body)


def _exists(server: LocalServer, name: str) -> bool:
    with GravixLayer(api_key=KEY, base_url=server.base_url) as client:
        return any(d.deployment_name == name for d in client.deployments.list())


def _client(proxy: FaultProxy, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=proxy.base_url, headers={"authorization": f"Bearer {KEY}"}, timeout=timeout)


def test_the_plan_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError):
        FaultPlan(weights={"gremlins": 1.0})
    assert len(FAULTS) == len(set(FAULTS)) == 13


def test_refused_means_the_next_connection_is_refused(only: Only, rel_server: LocalServer, gpu: str) -> None:
    proxy = only("refused", refuse_window=1.0).start()
    with _client(proxy) as http:
        assert http.get("/v1/accelerators").status_code == 200  # answered; the window opens now
        name = f"p-{uuid.uuid4().hex[:8]}"
        with pytest.raises(httpx.ConnectError):
            _create(http, name, gpu)
    assert not _exists(rel_server, name)
    time.sleep(1.2)
    with _client(proxy) as http:
        proxy.plan.rate = 0.0
        assert http.get("/v1/accelerators").status_code == 200  # listening again


@pytest.mark.parametrize(("kind", "acted"), [("reset_before", False), ("reset_after", True)])
def test_resets(only: Only, rel_server: LocalServer, gpu: str, kind: str, acted: bool) -> None:
    proxy = only(kind).start()
    name = f"p-{uuid.uuid4().hex[:8]}"
    with _client(proxy) as http, pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        _create(http, name, gpu)
    assert _exists(rel_server, name) is acted
    assert proxy.counts[kind] == 1


def test_rate_limits_carry_retry_after_in_both_forms(only: Only, rel_server: LocalServer, gpu: str) -> None:
    for kind in ("429_seconds", "429_date"):
        proxy = only(kind, retry_after_seconds=3).start()
        name = f"p-{uuid.uuid4().hex[:8]}"
        with _client(proxy) as http:
            response = _create(http, name, gpu)
        assert response.status_code == 429 and response.json()["error"]
        value = response.headers["retry-after"]
        if kind == "429_seconds":
            assert value == "3"
        else:
            when = email.utils.parsedate_to_datetime(value).timestamp()
            assert 1.0 <= when - time.time() <= 4.0
        assert not _exists(rel_server, name)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_say_whether_the_server_acted(
    only: Only, rel_server: LocalServer, gpu: str, status: int
) -> None:
    proxy = only(str(status)).start()
    seen = set()
    with _client(proxy) as http:
        for _ in range(8):
            name = f"p-{uuid.uuid4().hex[:8]}"
            before = proxy.counts[f"{status}_after_acting"]
            assert _create(http, name, gpu).status_code == status
            acted = proxy.counts[f"{status}_after_acting"] > before
            assert _exists(rel_server, name) is acted
            seen.add(acted)
    assert seen == ({False} if status == 503 else {True, False})  # 503 proves nothing was done


def test_slow_answers_outlast_the_client_timeout(only: Only, rel_server: LocalServer, gpu: str) -> None:
    proxy = only("slow", slow_seconds=0.8).start()
    name = f"p-{uuid.uuid4().hex[:8]}"
    with _client(proxy, timeout=0.3) as http, pytest.raises(httpx.ReadTimeout):
        _create(http, name, gpu)
    assert _exists(rel_server, name)


def test_truncated_and_malformed_bodies(only: Only, rel_server: LocalServer, gpu: str) -> None:
    proxy = only("truncated_body").start()
    name = f"p-{uuid.uuid4().hex[:8]}"
    with _client(proxy) as http, pytest.raises(httpx.RemoteProtocolError):
        _create(http, name, gpu)
    assert _exists(rel_server, name)

    proxy = only("malformed_json").start()
    name = f"p-{uuid.uuid4().hex[:8]}"
    with _client(proxy) as http:
        response = _create(http, name, gpu)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert _exists(rel_server, name)


def test_truncated_streams_never_reach_done(only: Only) -> None:
    proxy = only("truncated_sse").start()
    body = {
        "model": "qwen/qwen-2.5-vl-7b-instruct",
        "messages": [{"role": "user", "content": "a story"}],
        "stream": True,
    }
    clean = cut = 0
    with _client(proxy) as http:
        for _ in range(12):
            lines: list[str] = []
            try:
                with http.stream("POST", "/v1/inference/chat/completions", json=body) as response:
                    lines.extend(response.iter_lines())
                clean += 1
            except httpx.RemoteProtocolError:
                cut += 1
            assert "data: [DONE]" not in lines
    assert clean and cut
    assert proxy.counts["truncated_sse"] == 12 and proxy.counts["truncated_sse_clean_end"] == clean
