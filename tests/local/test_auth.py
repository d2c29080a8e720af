"""Every route but GET /health needs one of the configured keys; keys never leak."""

from __future__ import annotations

import logging

import httpx
import pytest

from gravixlayer.local import LocalConfig, LocalServer, tenant_id

from .conftest import KEY_A, KEY_B, chat_body


def test_health_is_open(anon: httpx.Client) -> None:
    response = anon.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": f"Basic {KEY_A}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {KEY_A}x"},
    ],
    ids=["missing", "wrong", "wrong-scheme", "empty", "prefix-of-key"],
)
def test_bad_or_missing_key_is_401_json(anon: httpx.Client, headers: dict[str, str]) -> None:
    response = anon.post("/v1/inference/chat/completions", json=chat_body(), headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthorized" and body["error"]
    assert response.headers["content-type"] == "application/json"
    assert len(response.headers["x-request-id"]) == 32


def test_unknown_route_without_key_is_401(anon: httpx.Client) -> None:
    assert anon.get("/v1/files").status_code == 401


@pytest.mark.parametrize("key", [KEY_A, KEY_B])
def test_each_configured_key_works(anon: httpx.Client, key: str) -> None:
    response = anon.post(
        "/v1/inference/chat/completions", json=chat_body(), headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200


def test_scheme_is_case_insensitive(anon: httpx.Client) -> None:
    response = anon.get("/v1/inference/models", headers={"Authorization": f"bearer {KEY_B}"})
    assert response.status_code == 200


def test_every_response_has_a_fresh_request_id(http: httpx.Client) -> None:
    ids = {http.get("/health").headers["x-request-id"] for _ in range(5)}
    ids.add(http.get("/nope").headers["x-request-id"])
    assert len(ids) == 6


def test_tenants_are_distinct_digests() -> None:
    assert tenant_id(KEY_A) != tenant_id(KEY_B)
    assert len(tenant_id(KEY_A)) == 16 and KEY_A not in tenant_id(KEY_A)
    config = LocalConfig(api_keys=[KEY_A, KEY_B], data_dir=".")
    assert config.tenants == [tenant_id(KEY_A), tenant_id(KEY_B)]


def test_keys_never_in_reprs(local: LocalServer) -> None:
    assert KEY_A not in repr(local) and KEY_B not in repr(local)
    assert KEY_A not in repr(local.config)


def test_keys_never_logged(local: LocalServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=local.base_url) as client:
        client.get("/v1/inference/models", headers={"Authorization": f"Bearer {KEY_A}"})
        client.get("/v1/inference/models", headers={"Authorization": "Bearer not-a-key-123"})
        client.post("/nope", headers={"Authorization": f"Bearer {KEY_B}"}, content=b"{")
    assert KEY_A not in caplog.text and KEY_B not in caplog.text
    assert "not-a-key-123" not in caplog.text


def test_config_rejects_bad_keys() -> None:
    for keys in ([], [""], [" padded "], ["two words"]):
        with pytest.raises(ValueError):
            LocalConfig(api_keys=keys, data_dir=".")
